//! `ti-load status`: per phase and kind, records done, pending and failed (with reasons), and the Intercom ids.

use crate::journal::{Journal, JournalError, RecordRow};
use crate::phases::phase_of;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use ti_shared::records::RecordKind;

/// Counts of one kind.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct KindStatus {
    /// Done records.
    pub done: u64,
    /// Started, not finished.
    pub pending: u64,
    /// Failed.
    pub failed: u64,
    /// Rolled back.
    pub rolled_back: u64,
}

/// The status text (`verbose` adds one line per record with its Intercom id).
///
/// # Errors
/// [`JournalError`].
pub fn status(journal: &Journal, verbose: bool) -> Result<String, JournalError> {
    let records = journal.records()?;
    let mut by_kind: BTreeMap<(usize, String), (KindStatus, Vec<&RecordRow>)> = BTreeMap::new();
    for r in &records {
        let order = RecordKind::ALL
            .iter()
            .position(|k| k.as_str() == r.kind)
            .unwrap_or(99);
        let e = by_kind.entry((order, r.kind.clone())).or_default();
        match r.status.as_str() {
            "done" => e.0.done += 1,
            "failed" => e.0.failed += 1,
            "rolled_back" => e.0.rolled_back += 1,
            _ => e.0.pending += 1,
        }
        e.1.push(r);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "journal {} (bundle {})",
        journal.path(),
        journal.meta("bundle_id")?.unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "{:<14} {:<24} {:>8} {:>8} {:>8} {:>12}",
        "phase", "kind", "done", "pending", "failed", "rolled back"
    );
    for ((_, kind), (s, rows)) in &by_kind {
        let phase = RecordKind::ALL
            .iter()
            .find(|k| k.as_str() == kind)
            .map_or("?", |k| phase_of(*k));
        let _ = writeln!(
            out,
            "{phase:<14} {kind:<24} {:>8} {:>8} {:>8} {:>12}",
            s.done, s.pending, s.failed, s.rolled_back
        );
        for r in rows {
            if r.status == "failed" {
                let _ = writeln!(
                    out,
                    "    failed {}: {}",
                    r.key,
                    r.error.as_deref().unwrap_or("?")
                );
            } else if verbose {
                let _ = writeln!(
                    out,
                    "    {} {} {}",
                    r.status,
                    r.key,
                    r.intercom_id.as_deref().unwrap_or("-")
                );
            }
        }
    }
    let in_flight = journal.steps_in_state("intent")?;
    if !in_flight.is_empty() {
        let _ = writeln!(
            out,
            "{} step(s) in flight (reconciled by a lookup on the next run):",
            in_flight.len()
        );
        for s in in_flight.iter().take(20) {
            let _ = writeln!(out, "    {} {}", s.key, s.step);
        }
    }
    Ok(out)
}
