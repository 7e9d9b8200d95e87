//! `ti-extract`: parses arguments and maps errors to exit codes (0 ok, 1 failure, 2 usage or configuration,
//! 3 bad bundle). The work is in the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use ti_extract::{ExtractError, RunOptions};
use ti_shared::cli::{CommonArgs, exit, verify_command};

#[derive(Parser)]
#[command(
    name = "ti-extract",
    version,
    about = "Track-It! SQL Server → verified extract bundle (read-only)"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inventory and scope report (inventory.json, discovery.md, discovery.json), copying no data.
    Discover {
        /// ADO.NET connection string without the password (overrides [source] connection_string).
        #[arg(long)]
        connection_string: Option<String>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Dump every table and view into an extract bundle.
    Run {
        /// ADO.NET connection string without the password (overrides [source] connection_string).
        #[arg(long)]
        connection_string: Option<String>,
        /// File-share attachments folder to copy into the bundle.
        #[arg(long)]
        attachments_dir: Option<PathBuf>,
        /// Only objects matching this glob (`dbo.Task*`); repeatable.
        #[arg(long = "tables", value_name = "GLOB")]
        tables: Vec<String>,
        /// Skip views.
        #[arg(long)]
        no_views: bool,
        /// Keyless tables and views: LOB cells over this many bytes are not read (no key to read them in
        /// windows); they are reported. Overrides [extract] keyless_cell_max_bytes (default 32 MiB).
        #[arg(long, value_name = "BYTES")]
        keyless_cell_max_bytes: Option<u64>,
        /// Continue an interrupted run in the same --out directory.
        #[arg(long)]
        resume: bool,
        /// Bundle directory (new or empty, or the interrupted one with --resume).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify a bundle (exit 0 when intact, 3 when not).
    Verify {
        /// Bundle directory.
        bundle: PathBuf,
    },
}

fn code(err: &ExtractError) -> u8 {
    match err {
        ExtractError::Usage(_) => exit::USAGE,
        ExtractError::Bundle(ti_shared::bundle::BundleError::NotEmpty { .. }) => exit::USAGE,
        _ => exit::FAILURE,
    }
}

/// Whether log lines may carry ANSI colours: only when stderr is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>), so redirected logs and CI output stay plain text.
fn ansi_allowed(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Like `CommonArgs::init_logging`, but tiberius's own log lines are off unless `RUST_LOG` asks for them (it
/// logs the expected error 195 of Q3 on servers before 2019 at ERROR level, and every failure reaches the user
/// through this program's own message anyway), and colours only on a terminal without `NO_COLOR`.
fn init_logging(common: &CommonArgs) {
    use std::io::IsTerminal;
    let level = match (common.quiet, common.verbose) {
        (true, _) => "warn",
        (_, 0) => "info",
        (_, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},tiberius=off")));
    let ansi = ansi_allowed(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match common.log_format {
        ti_shared::cli::LogFormat::Text => builder.with_target(false).try_init(),
        ti_shared::cli::LogFormat::Json => builder.json().try_init(),
    };
}

/// Ctrl-C (SIGINT) during `run`: says how to continue and exits 130 at once. Every committed part and the resume
/// state are written with temp file + rename, so the bundle is left as after a kill, and `--resume` continues it.
#[cfg(unix)]
fn exit_on_interrupt() {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]) else {
        return;
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            eprintln!("interrupted: run again with --resume to continue");
            std::process::exit(130);
        }
    });
}

#[cfg(not(unix))]
fn exit_on_interrupt() {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.common);
    if let Command::Verify { bundle } = &cli.command {
        return verify_command(bundle);
    }
    let cfg = match cli.common.load_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let result = match cli.command {
        Command::Discover {
            connection_string,
            out,
        } => ti_extract::discover(&cfg, connection_string.as_deref(), &out).map(|d| {
            if cli.common.quiet {
                return;
            }
            println!(
                "discovery written to {}: generation {}, {} objects, grade {}",
                out.display(),
                d.generation,
                d.objects,
                d.grade
            );
        }),
        Command::Run {
            connection_string,
            attachments_dir,
            tables,
            no_views,
            keyless_cell_max_bytes,
            resume,
            out,
        } => {
            let opts = RunOptions {
                connection_string,
                attachments_dir,
                tables,
                no_views,
                resume,
                out: out.clone(),
                quiet: cli.common.quiet,
                keyless_cell_max_bytes,
            };
            exit_on_interrupt();
            ti_extract::run(&cfg, &opts).map(|s| {
                // -q: errors and warnings only (on stderr); the exit code says the rest.
                if cli.common.quiet {
                    return;
                }
                print!("{}", s.console());
                println!(
                    "OK {}  {} files ({})",
                    s.manifest.bundle_id,
                    s.manifest.files.len(),
                    out.display()
                );
            })
        }
        Command::Verify { .. } => unreachable!("handled above"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(code(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ansi_allowed;
    use std::ffi::OsStr;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(ansi_allowed(true, None));
        assert!(ansi_allowed(true, Some(OsStr::new(""))));
        assert!(!ansi_allowed(true, Some(OsStr::new("1"))));
        assert!(!ansi_allowed(false, None));
    }
}
