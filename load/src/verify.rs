//! The `verify` phase: every record of the bundle has an Intercom id in the journal; records the journal knows
//! but the bundle no longer holds (delta) are listed, never deleted.

use crate::context::Ctx;
use crate::journal::{JournalError, Reconciliation};
use crate::phases::read_kind;
use std::collections::HashSet;
use std::time::Instant;
use ti_shared::records::RecordKind;

/// Runs the check; fills `disappeared` with journal keys absent from the bundle.
///
/// # Errors
/// [`JournalError`].
pub fn verify_phase(
    ctx: &Ctx,
    disappeared: &mut Vec<String>,
) -> Result<Reconciliation, JournalError> {
    let started = Instant::now();
    let mut line = Reconciliation {
        phase: "verify".into(),
        ..Default::default()
    };
    let mut keys = HashSet::new();
    for kind in RecordKind::ALL {
        for rec in read_kind(&ctx.bundle, kind).unwrap_or_default() {
            line.expected += 1;
            keys.insert(rec.key.clone());
            match ctx.journal.record(&rec.key)? {
                Some(r)
                    if r.status == "done"
                        && r.intercom_id.is_some()
                        && r.digest.as_deref() == Some(rec.digest.as_str()) =>
                {
                    line.skipped += 1
                }
                _ => line.failed += 1,
            }
        }
    }
    for r in ctx.journal.records()? {
        if r.status == "done" && !keys.contains(&r.key) {
            disappeared.push(r.key);
        }
    }
    line.matched = 0;
    line.secs = started.elapsed().as_secs_f64();
    Ok(line)
}
