//! `ti-load`: command line. Parses arguments, calls the library, maps errors to exit codes
//! (0 ok, 1 runtime failure, 2 usage/configuration, 3 invalid bundle).

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use ti_load::run::{LoadError, RunArgs};
use ti_shared::cli::{CommonArgs, exit};

/// Load a Track-It! load bundle into Intercom: resumable, rate-limited, audited, reversible.
#[derive(Debug, Parser)]
#[command(name = "ti-load", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// API base URL (e.g. the simulator); overrides `[intercom] base_url` and `region`.
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Phases, records per kind, the exact number of API calls and the time at the configured rate.
    Plan {
        /// Load bundle.
        bundle: PathBuf,
    },
    /// Run the migration (or resume it, or apply a delta of the same migration).
    Run {
        /// Load bundle.
        bundle: PathBuf,
        /// Journal file; every output goes into its folder.
        #[arg(long)]
        journal: Option<PathBuf>,
        /// Phases to run, comma-separated (default: `[load] phases`).
        #[arg(long, value_delimiter = ',')]
        phases: Vec<String>,
        /// Parallel workers (default: `[intercom] workers`).
        #[arg(long)]
        workers: Option<usize>,
        /// Preflight, then print what would be sent; nothing is created.
        #[arg(long)]
        dry_run: bool,
        /// The operator confirms the workspace checklist (see preflight).
        #[arg(long)]
        workspace_ready: bool,
        /// Go on to the next phase even when a phase had failures.
        #[arg(long)]
        continue_on_failure: bool,
        /// Seconds search results may lag creation; probes that search wait this long after the request.
        #[arg(long, default_value_t = 120.0)]
        search_lag_secs: f64,
        /// Test hook: abort the process after N state-changing responses, before journaling the last one.
        #[arg(long, hide = true, env = "TI_LOAD_CRASH_AFTER_REQUESTS")]
        crash_after_requests: Option<u64>,
        /// Test hook: count only the responses of this phase.
        #[arg(long, hide = true, env = "TI_LOAD_CRASH_IN_PHASE")]
        crash_in_phase: Option<String>,
        /// Test hook: at the crash point, announce it on stderr and wait to be SIGKILLed instead of aborting.
        #[arg(long, hide = true, env = "TI_LOAD_CRASH_WAIT_FOR_KILL")]
        crash_wait_for_kill: bool,
    },
    /// Per phase and kind: done, pending, failed (with reasons), Intercom ids.
    Status {
        /// Journal file.
        #[arg(long)]
        journal: Option<PathBuf>,
        /// One line per record with its Intercom id.
        #[arg(long)]
        records: bool,
    },
    /// Read records back from Intercom and compare them field by field with the bundle.
    Audit {
        /// Load bundle.
        bundle: PathBuf,
        /// Journal file.
        #[arg(long)]
        journal: Option<PathBuf>,
        /// Audit a random sample of N records per kind (default: all).
        #[arg(long)]
        sample: Option<usize>,
        /// Seed of the sample (default: derived from the bundle id, so a repeated audit checks the same records).
        #[arg(long, requires = "sample")]
        seed: Option<u64>,
    },
    /// Delete or archive what this migration created; restore values it overwrote.
    Rollback {
        /// Journal file.
        #[arg(long)]
        journal: Option<PathBuf>,
        /// Do it (without it, only the list of what would be done is printed).
        #[arg(long)]
        yes: bool,
    },
    /// Verify a bundle's integrity.
    Verify {
        /// Bundle.
        bundle: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.common.init_logging();
    let mut cfg = match cli.common.load_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    if let Some(url) = &cli.base_url {
        cfg.intercom.base_url = Some(url.clone());
    }
    let journal_of = |j: &Option<PathBuf>| {
        j.clone()
            .unwrap_or_else(|| PathBuf::from(&cfg.load.journal))
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let result: Result<(), LoadError> = match &cli.command {
        Command::Verify { bundle } => return ti_shared::cli::verify_command(bundle),
        Command::Plan { bundle } => {
            ti_shared::bundle::Bundle::open_kind(bundle, ti_shared::bundle::BundleKind::Load)
                .map_err(LoadError::from)
                .and_then(|b| {
                    ti_load::consistency::check(&b).map_err(LoadError::InvalidBundle)?;
                    let p = ti_load::plan::plan(&b, cfg.intercom.requests_per_minute)
                        .map_err(LoadError::Failed)?;
                    print!("{p}");
                    Ok(())
                })
        }
        Command::Run {
            bundle,
            journal,
            phases,
            workers,
            dry_run,
            workspace_ready,
            continue_on_failure,
            search_lag_secs,
            crash_after_requests,
            crash_in_phase,
            crash_wait_for_kill,
        } => {
            let args = RunArgs {
                bundle: bundle.clone(),
                journal: journal_of(journal),
                phases: phases.clone(),
                workers: *workers,
                dry_run: *dry_run,
                workspace_ready: *workspace_ready,
                continue_on_failure: *continue_on_failure,
                search_lag: Duration::from_secs_f64(search_lag_secs.max(0.0)),
                crash: crash_after_requests.map(|n| ti_load::client::CrashPoint {
                    after_requests: n,
                    in_phase: crash_in_phase.clone(),
                    wait_for_kill: *crash_wait_for_kill,
                }),
            };
            rt.block_on(ti_load::run::run(&cfg, &args)).map(|s| {
                println!(
                    "done: {} requests, {} rate-limit waits, {:.1}s",
                    s.requests, s.rate_limited, s.secs
                );
            })
        }
        Command::Status { journal, records } => {
            let path = journal_of(journal);
            if !path.exists() {
                Err(LoadError::Usage(format!(
                    "no journal at {}",
                    path.display()
                )))
            } else {
                ti_load::journal::Journal::open(&path)
                    .and_then(|j| ti_load::status::status(&j, *records))
                    .map(|t| print!("{t}"))
                    .map_err(LoadError::from)
            }
        }
        Command::Audit {
            bundle,
            journal,
            sample,
            seed,
        } => rt
            .block_on(ti_load::audit::audit(
                &cfg,
                bundle,
                &journal_of(journal),
                *sample,
                *seed,
            ))
            .and_then(|a| {
                if let (Some(n), Some(seed)) = (a.sample, a.seed) {
                    println!("audit: random sample of {n} record(s) per kind, seed {seed}");
                }
                println!(
                    "audit: {} records checked, {} difference(s); {}",
                    a.checked,
                    a.differences,
                    a.html.display()
                );
                if a.differences > 0 {
                    Err(LoadError::Failed(format!(
                        "{} difference(s)",
                        a.differences
                    )))
                } else {
                    Ok(())
                }
            }),
        Command::Rollback { journal, yes } => rt
            .block_on(ti_load::rollback::rollback(
                &cfg,
                &journal_of(journal),
                *yes,
            ))
            .map(|r| print!("{r}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
