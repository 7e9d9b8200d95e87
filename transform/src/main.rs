//! `ti-transform`: command line (propose, run, explain, verify). Logic lives in the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use ti_shared::cli::{CommonArgs, exit, verify_command};

/// The transform allocates many short strings and JSON values from two threads; mimalloc is markedly faster
/// than the system allocator for that (docs/perf.md "transform").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ti-transform",
    version,
    about = "Track-It! extract bundle → Intercom load bundle"
)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a complete, commented mapping proposal for an extract bundle.
    Propose {
        /// Extract bundle.
        extract: PathBuf,
        /// Output mapping file.
        #[arg(long)]
        out: PathBuf,
        /// auto, classic, web or seed.
        #[arg(long, default_value = "auto")]
        profile: String,
    },
    /// Transform an extract bundle into a load bundle with a confirmed mapping.
    Run {
        /// Extract bundle.
        extract: PathBuf,
        /// Confirmed mapping.
        #[arg(long)]
        mapping: PathBuf,
        /// Output load bundle directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
        /// Take only N tickets with what they reference (pilot migration).
        #[arg(long)]
        sample: Option<u64>,
        /// Tickets per window (1 or more): bounds the memory held for notes and attachments (output does not
        /// change). Raised when needed to keep at most 256 windows (the effective size is logged).
        /// Default: `[transform] window_tickets` of the configuration (10,000).
        #[arg(long)]
        window_tickets: Option<usize>,
    },
    /// Show the source rows and rules behind a record of a load bundle.
    Explain {
        /// Load bundle.
        load: PathBuf,
        /// Record key, e.g. conversation:ticket:1234.
        key: String,
        /// The extract bundle, to print the source rows themselves.
        #[arg(long)]
        extract: Option<PathBuf>,
    },
    /// Verify a bundle (exit 0 or 3).
    Verify {
        /// Bundle directory.
        bundle: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.common.init_logging();
    // Configuration problems are the user's to fix (exit 2) and are reported before any bundle is read.
    let config = match cli.common.load_config() {
        Ok(config) => config,
        Err(err) if !matches!(cli.command, Command::Verify { .. }) => {
            eprintln!("error: {err}");
            return ExitCode::from(exit::USAGE);
        }
        Err(_) => Default::default(),
    };
    let result = match cli.command {
        Command::Verify { bundle } => return verify_command(&bundle),
        Command::Propose { ref out, .. } if out.exists() => {
            // A reviewed mapping holds the consultant's decisions: never overwrite it silently.
            eprintln!(
                "error: {} already exists; propose writes a new file (choose another --out and compare)",
                out.display()
            );
            return ExitCode::from(exit::USAGE);
        }
        Command::Propose {
            extract,
            out,
            profile,
        } => ti_transform::propose_file(&extract, &profile).and_then(|text| {
            std::fs::write(&out, text).map_err(|source| ti_transform::TransformError::Io {
                path: out.display().to_string(),
                source,
            })?;
            println!(
                "wrote {} (review it, then set confirmed = true)",
                out.display()
            );
            Ok(())
        }),
        Command::Run { ref out, .. } if out.is_file() => {
            eprintln!(
                "error: --out {} is a file; give a directory that does not exist yet (or is empty) for the load \
                 bundle",
                out.display()
            );
            return ExitCode::from(exit::USAGE);
        }
        Command::Run {
            sample: Some(0), ..
        } => {
            eprintln!(
                "error: --sample 0 would migrate nothing: give the number of tickets of the pilot (1 or more), or \
                 leave --sample out to migrate everything"
            );
            return ExitCode::from(exit::USAGE);
        }
        Command::Run {
            window_tickets: Some(0),
            ..
        } => {
            eprintln!(
                "error: --window-tickets 0 is not a window size: give the number of tickets per window (1 or more), \
                 or leave --window-tickets out to use the configuration's (default 10,000)"
            );
            return ExitCode::from(exit::USAGE);
        }
        Command::Run {
            extract,
            mapping,
            out,
            sample,
            window_tickets,
        } => {
            // Ctrl-C and SIGTERM remove what the run wrote, as a failed run does (exit 130 / 143).
            if let Err(e) = ti_transform::interrupt::install() {
                eprintln!("error: cannot handle SIGINT/SIGTERM: {e}");
                return ExitCode::from(exit::FAILURE);
            }
            let sample =
                sample.or((config.transform.sample > 0).then_some(config.transform.sample));
            let options = ti_transform::run::RunOptions {
                sample,
                window_tickets: window_tickets.unwrap_or(config.transform.window_tickets),
            };
            ti_transform::run::run_with(&extract, &mapping, &out, &options).map(|s| {
                let mut table = ti_shared::report::Report::new("object");
                for o in s.report["objects"].as_array().into_iter().flatten() {
                    table.add(ti_shared::report::ReportRow {
                        name: o["object"].as_str().unwrap_or_default().to_string(),
                        read: o["source_rows"].as_u64().unwrap_or(0),
                        written: o["migrated_rows"].as_u64().unwrap_or(0),
                        rejected: o["dropped_rows"].as_u64().unwrap_or(0),
                        ..Default::default()
                    });
                }
                print!("{table}");
                println!("OK {}  {}", s.bundle_id, out.display());
                for (k, n) in &s.records {
                    println!("  {k:<24} {n:>8}");
                }
            })
        }
        Command::Explain { load, key, extract } => {
            ti_transform::explain::explain(&load, &key, extract.as_deref()).map(|t| print!("{t}"))
        }
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
