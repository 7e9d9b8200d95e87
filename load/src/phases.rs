//! The phases in dependency order (DESIGN.md §7) and the parallel record runner. Each phase ends with a
//! reconciliation line (expected, created, matched existing, updated, skipped, failed) written to the journal and
//! printed before the next phase starts.

use crate::context::{Ctx, StepError};
use crate::conversation;
use crate::journal::Reconciliation;
use crate::kinds;
use crate::progress::Progress;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use ti_shared::bundle::Bundle;
use ti_shared::records::{Record, RecordKind, read_records};

/// Phases that load records, with their kinds in order.
pub const RECORD_PHASES: &[(&str, &[RecordKind])] = &[
    (
        "attributes",
        &[RecordKind::DataAttribute, RecordKind::ConversationAttribute],
    ),
    ("companies", &[RecordKind::Company]),
    (
        "contacts",
        &[RecordKind::Contact, RecordKind::ContactCompany],
    ),
    ("conversations", &[RecordKind::Conversation]),
    ("collections", &[RecordKind::Collection]),
    ("articles", &[RecordKind::Article]),
    ("notes", &[RecordKind::ContactNote, RecordKind::CompanyNote]),
];

/// The phase a kind belongs to.
pub fn phase_of(kind: RecordKind) -> &'static str {
    RECORD_PHASES
        .iter()
        .find(|(_, kinds)| kinds.contains(&kind))
        .map_or("unknown", |(p, _)| p)
}

/// Reads every record of `kind` from the bundle (empty when the file is absent).
///
/// # Errors
/// A message naming the file and line.
pub fn read_kind(bundle: &Bundle, kind: RecordKind) -> Result<Vec<Record>, String> {
    let rel = kind.file_path();
    if bundle.entry(&rel).is_none() {
        return Ok(Vec::new());
    }
    let file = bundle.open_file(&rel).map_err(|e| e.to_string())?;
    read_records(file)
        .map(|r| r.map_err(|e| format!("{rel}: {e}")))
        .collect()
}

/// What happened to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Created in Intercom.
    Created,
    /// Matched to an existing object.
    Matched,
    /// Updated (delta).
    Updated,
    /// Already done, or unchanged in a delta.
    Skipped,
    /// Failed, with the reason.
    Failed(String),
    /// Not finished because the run stopped (the token was refused); nothing recorded as failed.
    Stopped,
}

/// Loads one record (unless already done with the same digest), recording the outcome in the journal.
pub async fn process(ctx: &Ctx, rec: &Record) -> Outcome {
    match process_inner(ctx, rec).await {
        Ok(o) => o,
        Err(StepError::Api(e)) if crate::context::token_refused(&e) => {
            ctx.stop_run(&e.to_string());
            Outcome::Stopped
        }
        Err(e) => {
            let msg = e.to_string();
            let _ = ctx.journal.set_record(
                &rec.key,
                rec.kind.as_str(),
                None,
                None,
                "failed",
                None,
                Some(&msg),
                &ctx.bundle_id,
            );
            tracing::warn!(key = %rec.key, error = %msg, "record failed");
            Outcome::Failed(msg)
        }
    }
}

async fn process_inner(ctx: &Ctx, rec: &Record) -> Result<Outcome, StepError> {
    let prev = ctx.journal.record(&rec.key)?;
    let done_before = prev.as_ref().is_some_and(|p| p.status == "done");
    if done_before && prev.as_ref().and_then(|p| p.digest.as_deref()) == Some(rec.digest.as_str()) {
        return Ok(Outcome::Skipped);
    }
    let changed = done_before;
    for dep in &rec.after {
        if ctx.id_of(dep).is_none() {
            return Err(StepError::Body(format!("dependency {dep} is not loaded")));
        }
    }
    let loaded = match rec.kind {
        RecordKind::Conversation => conversation::load(ctx, rec).await?,
        kind => {
            let (body, _) = ctx.resolve(&rec.body)?;
            match kind {
                RecordKind::DataAttribute | RecordKind::ConversationAttribute => {
                    kinds::attribute(ctx, rec, &body).await?
                }
                RecordKind::Company => kinds::company(ctx, rec, &body, changed).await?,
                RecordKind::Contact => kinds::contact(ctx, rec, &body, changed).await?,
                RecordKind::ContactCompany => kinds::contact_company(ctx, rec, &body).await?,
                RecordKind::Collection | RecordKind::Article => {
                    kinds::help_center(ctx, rec, &body, changed).await?
                }
                _ => kinds::note(ctx, rec, &body).await?,
            }
        }
    };
    let outcome = if changed {
        "updated"
    } else {
        loaded.outcome.as_str()
    };
    let first_outcome = prev
        .as_ref()
        .and_then(|p| p.outcome.clone())
        .filter(|_| changed)
        .unwrap_or_else(|| outcome.to_string());
    ctx.journal.set_record(
        &rec.key,
        rec.kind.as_str(),
        Some(&rec.digest),
        Some(&loaded.id),
        "done",
        Some(&first_outcome),
        None,
        &ctx.bundle_id,
    )?;
    ctx.set_id(&rec.key, &loaded.id);
    Ok(match outcome {
        "updated" => Outcome::Updated,
        "matched" => Outcome::Matched,
        _ => Outcome::Created,
    })
}

/// Splits records into groups that must run in order: conversations by ticket number (a split conversation's
/// continuations follow it), collections all in one group (parents before children), notes by their target (in
/// bundle order, so a note left in flight is the oldest unclaimed one with its body), everything else alone.
pub fn groups(kind: RecordKind, records: Vec<Record>) -> Vec<Vec<Record>> {
    match kind {
        RecordKind::Conversation => {
            let mut by_ticket: BTreeMap<String, Vec<Record>> = BTreeMap::new();
            for r in records {
                let t = r
                    .body
                    .get("ticket_number")
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| r.key.clone());
                by_ticket.entry(t).or_default().push(r);
            }
            by_ticket
                .into_values()
                .map(|mut g| {
                    g.sort_by_key(|r| split_index(&r.key));
                    g
                })
                .collect()
        }
        RecordKind::Collection => {
            let mut all = records;
            all.sort_by_key(|r| r.after.len());
            vec![all]
        }
        RecordKind::ContactNote | RecordKind::CompanyNote => {
            let mut by_target: BTreeMap<String, Vec<Record>> = BTreeMap::new();
            for r in records {
                let target = r.after.first().cloned().unwrap_or_else(|| r.key.clone());
                by_target.entry(target).or_default().push(r);
            }
            by_target.into_values().collect()
        }
        _ => records.into_iter().map(|r| vec![r]).collect(),
    }
}

fn split_index(key: &str) -> u64 {
    let parts: Vec<&str> = key.split(':').collect();
    if parts.len() >= 4 {
        parts[3].parse().unwrap_or(1)
    } else {
        1
    }
}

/// Runs groups on `workers` tasks (records within a group in order) and returns every outcome. Once the run is
/// stopped ([`Ctx::stopped`]), no worker starts another record.
pub async fn run_groups(
    ctx: Arc<Ctx>,
    groups: Vec<Vec<Record>>,
    workers: usize,
    progress: Arc<Progress>,
) -> Vec<(String, Outcome)> {
    let queue = Arc::new(Mutex::new(groups.into_iter().collect::<VecDeque<_>>()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for _ in 0..workers.max(1) {
        let (ctx, queue, results, progress) = (
            ctx.clone(),
            queue.clone(),
            results.clone(),
            progress.clone(),
        );
        // Joined on this task rather than spawned: the workers' I/O interleaves, and the step runner's async
        // closures need not be `Send`.
        handles.push(Box::pin(async move {
            loop {
                if ctx.stopped().is_some() {
                    break;
                }
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(group) = next else { break };
                let mut failed_before: Option<String> = None;
                for rec in group {
                    if ctx.stopped().is_some() {
                        break;
                    }
                    let outcome = match &failed_before {
                        Some(k) => {
                            let msg = format!("previous part {k} failed");
                            let _ = ctx.journal.set_record(
                                &rec.key,
                                rec.kind.as_str(),
                                None,
                                None,
                                "failed",
                                None,
                                Some(&msg),
                                &ctx.bundle_id,
                            );
                            Outcome::Failed(msg)
                        }
                        None => process(&ctx, &rec).await,
                    };
                    if outcome == Outcome::Stopped {
                        break;
                    }
                    if matches!(outcome, Outcome::Failed(_)) {
                        failed_before = Some(rec.key.clone());
                    }
                    progress.inc();
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((rec.key.clone(), outcome));
                }
            }
        }));
    }
    futures_util::future::join_all(handles).await;
    let mut out = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Runs one record phase: every kind of it in order, then its reconciliation line (journaled and returned).
///
/// # Errors
/// A message when the bundle's records cannot be read.
pub async fn run_phase(
    ctx: Arc<Ctx>,
    phase: &str,
    kinds: &[RecordKind],
) -> Result<(Reconciliation, Vec<(String, String)>), String> {
    let started = Instant::now();
    let requests_before = ctx.client.requests();
    let mut line = Reconciliation {
        phase: phase.to_string(),
        ..Default::default()
    };
    let mut failures = Vec::new();
    for &kind in kinds {
        let records = read_kind(&ctx.bundle, kind)?;
        if records.is_empty() {
            continue;
        }
        line.expected += records.len() as u64;
        let calls: u64 = records.iter().map(crate::plan::calls_for_record).sum();
        let per_record = calls as f64 / records.len() as f64;
        let per_second =
            f64::from(ctx.client.limiter().ceiling_per_window()) / crate::limiter::WINDOW_SECS;
        let progress = Arc::new(Progress::new(
            kind.as_str(),
            records.len() as u64,
            per_record,
            per_second,
        ));
        let workers = if kind == RecordKind::Collection {
            1
        } else {
            ctx.opts.workers
        };
        let outcomes = run_groups(
            ctx.clone(),
            groups(kind, records),
            workers,
            progress.clone(),
        )
        .await;
        progress.finish();
        for (key, o) in outcomes {
            match o {
                Outcome::Created => line.created += 1,
                Outcome::Matched => line.matched += 1,
                Outcome::Updated => line.updated += 1,
                Outcome::Skipped => line.skipped += 1,
                Outcome::Failed(reason) => {
                    line.failed += 1;
                    failures.push((key, reason));
                }
                Outcome::Stopped => {}
            }
        }
        if ctx.stopped().is_some() {
            break;
        }
    }
    line.secs = started.elapsed().as_secs_f64();
    line.requests = ctx.client.requests() - requests_before;
    Ok((line, failures))
}
