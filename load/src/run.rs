//! `ti-load run`: binds the journal to the bundle, runs preflight and the phases in order, writes the reports.

use crate::ALL_PHASES;
use crate::client::{Client, ClientConfig, CrashPoint, Token};
use crate::context::{Ctx, RunOptions};
use crate::journal::{Binding, Journal, JournalError, Reconciliation};
use crate::limiter::Limiter;
use crate::phases::{self, RECORD_PHASES};
use crate::preflight::{self, PreflightError};
use crate::report;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use ti_shared::bundle::{Bundle, BundleError};
use ti_shared::config::PipelineConfig;

/// Everything `run` needs besides the configuration.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// Load bundle.
    pub bundle: PathBuf,
    /// Journal file; its folder receives every output.
    pub journal: PathBuf,
    /// Phases to run (empty = configuration's).
    pub phases: Vec<String>,
    /// Workers (None = configuration's).
    pub workers: Option<usize>,
    /// Preflight only, then print what would be sent.
    pub dry_run: bool,
    /// Operator confirmed the checklist.
    pub workspace_ready: bool,
    /// Go on after a phase with failures.
    pub continue_on_failure: bool,
    /// How long search lags creation (probes wait this long before searching).
    pub search_lag: Duration,
    /// Test hook: die after N state-changing responses.
    pub crash: Option<CrashPoint>,
}

/// A failure of a command; [`LoadError::exit_code`] maps it to the product's exit codes.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The user's to fix (configuration, flags, checklist, unmatched technicians).
    #[error("{0}")]
    Usage(String),
    /// The bundle failed verification or could not be read.
    #[error("{0}")]
    Bundle(#[from] BundleError),
    /// The bundle passed its seal but its records are malformed or disagree with the transform's report.
    #[error("invalid bundle: {0}")]
    InvalidBundle(String),
    /// Journal failure.
    #[error("{0}")]
    Journal(#[from] JournalError),
    /// Preflight refused.
    #[error("preflight: {0}")]
    Preflight(#[from] PreflightError),
    /// Records failed or another runtime failure.
    #[error("{0}")]
    Failed(String),
}

impl LoadError {
    /// 2 for usage problems, 3 for a bad bundle, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        use ti_shared::cli::exit;
        match self {
            LoadError::Usage(_) => exit::USAGE,
            LoadError::Journal(
                JournalError::DifferentMigration { .. } | JournalError::NotAJournal { .. },
            ) => exit::USAGE,
            LoadError::Bundle(e) => ti_shared::cli::exit_code_for_bundle_error(e),
            LoadError::InvalidBundle(_) => exit::BUNDLE_INVALID,
            LoadError::Preflight(e) if e.is_usage() => exit::USAGE,
            _ => exit::FAILURE,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    /// Reconciliation lines of this run, in phase order.
    pub phases: Vec<Reconciliation>,
    /// Failed records: (key, reason).
    pub failures: Vec<(String, String)>,
    /// API requests sent.
    pub requests: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Times a worker waited for a rate-limit slot (the loader pacing itself under the limit).
    pub rate_limit_waits: u64,
    /// Wall time, seconds.
    pub secs: f64,
    /// Records of the journal that the bundle no longer holds (delta; reported, never deleted).
    pub disappeared: Vec<String>,
}

/// Builds the API client from `[intercom]` (the token from the environment variable named by `token_env`).
///
/// # Errors
/// [`LoadError::Usage`] when the variable is unset or empty.
pub fn client_from(cfg: &PipelineConfig, crash: Option<CrashPoint>) -> Result<Client, LoadError> {
    let ic = &cfg.intercom;
    let token = std::env::var(&ic.token_env).ok().filter(|t| !t.is_empty()).ok_or_else(|| {
        LoadError::Usage(format!("environment variable {} (the Intercom access token, [intercom] token_env) is not set", ic.token_env))
    })?;
    let limiter = Arc::new(Limiter::new(ic.requests_per_minute));
    let cc = ClientConfig {
        base_url: ic.effective_base_url(),
        api_version: ic.api_version.clone(),
        timeout: Duration::from_secs(ic.timeout_seconds.max(1)),
        max_attempts: cfg.load.max_attempts.max(1),
        crash,
    };
    Client::new(cc, Token::new(token), limiter).map_err(|e| LoadError::Failed(e.to_string()))
}

/// The folder of the journal (every output goes there).
pub fn out_dir(journal: &Path) -> PathBuf {
    journal
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `path` made absolute without creating anything: its nearest existing ancestor canonicalised, the rest appended.
fn resolved(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut cur = path.to_path_buf();
    loop {
        if let Ok(c) = std::fs::canonicalize(&cur) {
            return rest
                .iter()
                .rev()
                .fold(c, |acc: PathBuf, part| acc.join(part));
        }
        match (cur.file_name().map(|n| n.to_os_string()), cur.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                cur = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn check_outside_bundle(bundle: &Path, journal: &Path) -> Result<(), LoadError> {
    let b = std::fs::canonicalize(bundle).unwrap_or_else(|_| bundle.to_path_buf());
    let d = resolved(&out_dir(journal));
    if d.starts_with(&b) {
        return Err(LoadError::Usage(format!(
            "the journal {} must be outside the bundle {}",
            journal.display(),
            bundle.display()
        )));
    }
    Ok(())
}

/// Opens the journal at `path` and binds it to `bundle` (logging whether this is a new run, a resume or a delta).
fn open_and_bind(path: &Path, bundle: &Bundle) -> Result<Arc<Journal>, LoadError> {
    let journal = Arc::new(Journal::open(path)?);
    let binding = journal.bind(bundle.id(), bundle.manifest().migration_id.as_deref())?;
    match &binding {
        Binding::New => tracing::info!(bundle = bundle.id(), "new journal"),
        Binding::Same => tracing::info!(bundle = bundle.id(), "resuming"),
        Binding::Delta(prev) => tracing::info!(bundle = bundle.id(), previous = %prev, "delta run"),
    }
    Ok(journal)
}

/// Runs the migration.
///
/// # Errors
/// [`LoadError`]; a run whose phases had failures returns [`LoadError::Failed`] after writing its reports.
pub async fn run(cfg: &PipelineConfig, args: &RunArgs) -> Result<RunSummary, LoadError> {
    let started = Instant::now();
    let phases_wanted: Vec<String> = if args.phases.is_empty() {
        cfg.load.phases.clone()
    } else {
        args.phases.clone()
    };
    for p in &phases_wanted {
        if !ALL_PHASES.contains(&p.as_str()) {
            return Err(LoadError::Usage(format!(
                "unknown phase {p:?} (known: {})",
                ALL_PHASES.join(", ")
            )));
        }
    }
    if args.workers == Some(0) {
        return Err(LoadError::Usage("--workers must be at least 1".to_string()));
    }
    check_outside_bundle(&args.bundle, &args.journal)?;
    Journal::check_path(&args.journal)?;
    let bundle = Bundle::open_kind(&args.bundle, ti_shared::bundle::BundleKind::Load)?;
    crate::consistency::check(&bundle).map_err(LoadError::InvalidBundle)?;
    let client = client_from(cfg, args.crash.clone())?;
    let dir = out_dir(&args.journal);
    // An existing journal is bound first (a bundle of another migration is refused before any request); a new
    // one is created only once preflight has reached the API (newcomer finding: a wrong base_url left an empty
    // journal behind).
    let mut opened = if args.journal.exists() {
        Some(open_and_bind(&args.journal, &bundle)?)
    } else {
        None
    };
    let queue_path = dir.join("reconciliation-queue.csv");
    client.set_phase("preflight");
    // The tag is created only after the traces check: a refused run leaves nothing behind.
    let mut ws = preflight::run(
        &client,
        &bundle,
        args.workspace_ready || cfg.load.workspace_ready,
        &cfg.load.fallback_admin_email,
        &cfg.load.migration_tag,
        true,
        |csv| {
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(&queue_path, csv);
            queue_path.display().to_string()
        },
    )
    .await?;
    let journal = match opened.take() {
        Some(j) => j,
        None => open_and_bind(&args.journal, &bundle)?,
    };
    // A journal that has not started a single step is fresh even when a refused run bound it already.
    let fresh = journal.done_ids()?.is_empty()
        && journal.steps_in_state("intent")?.is_empty()
        && journal.steps_in_state("failed")?.is_empty();
    if fresh {
        let tag = crate::traces::tag_id(&client, &cfg.load.migration_tag)
            .await
            .map_err(PreflightError::from)?;
        let traces = crate::traces::find(&client, &bundle, tag.as_deref())
            .await
            .map_err(PreflightError::from)?;
        if traces.refuses() {
            return Err(LoadError::Usage(traces.message(
                &cfg.load.migration_tag,
                &args.journal.display().to_string(),
            )));
        }
        if let Some(w) = traces.warning() {
            eprintln!("{w}");
        }
        journal.set_meta(crate::traces::PREEXISTING_META, &traces.preexisting_ids())?;
    }
    if !args.dry_run {
        ws.tag_id = preflight::create_tag(&client, &cfg.load.migration_tag).await?;
    }
    let mut summary = RunSummary {
        phases: Vec::new(),
        failures: Vec::new(),
        requests: 0,
        rate_limited: 0,
        rate_limit_waits: 0,
        secs: 0.0,
        disappeared: Vec::new(),
    };
    let pre = Reconciliation {
        phase: "preflight".into(),
        requests: client.requests(),
        secs: started.elapsed().as_secs_f64(),
        ..Default::default()
    };
    println!(
        "{pre}; {} technician(s) posted by the fallback admin",
        ws.unmatched.len()
    );
    journal.add_reconciliation(bundle.id(), &pre)?;
    summary.phases.push(pre);
    journal.set_meta("app_id", &ws.app_id)?;
    journal.set_meta("tag_id", &ws.tag_id)?;
    journal.set_meta("me", &ws.admins.me)?;
    journal.set_meta("base_url", &cfg.intercom.effective_base_url())?;
    journal.set_meta(
        report::UNMATCHED_META,
        &report::technicians_csv(&ws.unmatched),
    )?;
    if args.dry_run {
        crate::dryrun::print(&bundle, &ws.admins).map_err(LoadError::Failed)?;
        return Ok(summary);
    }
    let ids = journal.done_ids()?;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        journal: journal.clone(),
        bundle_id: bundle.id().to_string(),
        bundle,
        admins: ws.admins.clone(),
        ids: RwLock::new(ids),
        tag_id: ws.tag_id.clone(),
        opts: RunOptions {
            workers: args.workers.unwrap_or(cfg.intercom.workers as usize).max(1),
            max_attempts: cfg.load.max_attempts.max(1),
            search_lag: args.search_lag,
            migration_tag: cfg.load.migration_tag.clone(),
        },
        stop: std::sync::Mutex::new(None),
    });
    let continue_on_failure = args.continue_on_failure || cfg.load.continue_on_failure;
    let mut stopped = None;
    for (phase, kinds) in RECORD_PHASES {
        if !phases_wanted.iter().any(|p| p == phase) {
            continue;
        }
        client.set_phase(phase);
        let (line, failures) = phases::run_phase(ctx.clone(), phase, kinds)
            .await
            .map_err(LoadError::Failed)?;
        println!("{line}");
        journal.add_reconciliation(&ctx.bundle_id, &line)?;
        if let Some(why) = ctx.stopped() {
            return Err(LoadError::Usage(format!(
                "run stopped: Intercom refused the token ({why}); fix [intercom] token_env ({}) and run again: the journal is intact (done steps are not repeated, nothing was marked failed)",
                cfg.intercom.token_env
            )));
        }
        let failed = line.failed;
        summary.phases.push(line);
        for (k, r) in &failures {
            eprintln!("  failed {k}: {r}");
        }
        summary.failures.extend(failures);
        if failed > 0 && !continue_on_failure {
            stopped = Some(phase.to_string());
            break;
        }
    }
    if stopped.is_none() && phases_wanted.iter().any(|p| p == "verify") {
        client.set_phase("verify");
        let line = crate::verify::verify_phase(&ctx, &mut summary.disappeared)?;
        println!("{line}");
        journal.add_reconciliation(&ctx.bundle_id, &line)?;
        summary.phases.push(line);
    }
    summary.requests = client.requests();
    summary.rate_limited = client.limiter().total_429();
    summary.rate_limit_waits = client.limiter().total_waits();
    summary.secs = started.elapsed().as_secs_f64();
    report::write_all(&ctx, &ws.app_id, &dir, &summary)
        .map_err(|e| LoadError::Failed(format!("writing reports: {e}")))?;
    if let Some(phase) = stopped {
        return Err(LoadError::Failed(format!(
            "phase {phase} had {} failed record(s); fix them and run again (done steps are not repeated), or pass --continue-on-failure",
            summary.failures.len()
        )));
    }
    if !summary.failures.is_empty() {
        return Err(LoadError::Failed(format!(
            "{} record(s) failed",
            summary.failures.len()
        )));
    }
    Ok(summary)
}
