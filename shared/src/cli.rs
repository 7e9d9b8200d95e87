//! What every binary of the product shares on the command line: the exit codes, the common flags, logging
//! setup, and the `verify BUNDLE` subcommand.

use crate::bundle::{Bundle, BundleError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes of every command of the product (scripts rely on them).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Runtime failure: server unreachable, API error, disk full, records failed.
    pub const FAILURE: u8 = 1;
    /// Usage or configuration error: the user's to fix before running again.
    pub const USAGE: u8 = 2;
    /// A bundle failed verification: damaged, tampered, incomplete or of an unknown format.
    pub const BUNDLE_INVALID: u8 = 3;
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines (default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags every binary takes (`--config`, `--log-format`, `-q`, `-v`).
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Configuration file. A missing default file means built-in defaults.
    #[arg(
        long,
        global = true,
        default_value = "pipeline.toml",
        value_name = "PATH"
    )]
    pub config: PathBuf,
    /// Format of log lines on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More detail (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl CommonArgs {
    /// Installs the global tracing subscriber on stderr with the chosen format and level. `RUST_LOG` overrides
    /// the level when set. Colours only when stderr is a terminal and `NO_COLOR` is unset (<https://no-color.org>),
    /// so redirected logs hold no escape codes. Calling it twice is harmless.
    pub fn init_logging(&self) {
        use std::io::IsTerminal;
        let level = match (self.quiet, self.verbose) {
            (true, _) => "warn",
            (_, 0) => "info",
            (_, 1) => "debug",
            _ => "trace",
        };
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
        let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(ansi)
            .with_writer(std::io::stderr);
        let _ = match self.log_format {
            LogFormat::Text => builder.with_target(false).try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
    }

    /// Loads the configuration named by `--config` (defaults when the default file is absent).
    ///
    /// # Errors
    /// [`crate::config::ConfigError`] for any problem with the file (exit code 2).
    pub fn load_config(&self) -> Result<crate::config::PipelineConfig, crate::config::ConfigError> {
        if self.config == Path::new("pipeline.toml") {
            crate::config::PipelineConfig::load_or_default(&self.config)
        } else {
            crate::config::PipelineConfig::load(&self.config)
        }
    }
}

/// Runs `verify BUNDLE`: prints `OK <bundle_id>  <files> files, <bytes> bytes` and returns exit 0, or prints
/// the error (naming the file) and returns 3 for a bad bundle, 1 for an I/O problem.
pub fn verify_command(bundle: &Path) -> ExitCode {
    match Bundle::open(bundle) {
        Ok(b) => {
            let s = b.summary();
            println!(
                "OK {}  {} files, {} bytes ({})",
                b.id(),
                s.files,
                s.bytes,
                bundle.display()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(exit_code_for_bundle_error(&err))
        }
    }
}

/// The exit code for a bundle error: 3 when the bundle is bad; 2 for the user's mistakes (the wrong kind of bundle,
/// a path that is not a directory, an output directory that is not empty); 1 when the environment failed.
pub fn exit_code_for_bundle_error(err: &BundleError) -> u8 {
    match err {
        BundleError::WrongKind { .. }
        | BundleError::NotFound { .. }
        | BundleError::NotEmpty { .. } => exit::USAGE,
        e if e.is_verification_failure() => exit::BUNDLE_INVALID,
        _ => exit::FAILURE,
    }
}
