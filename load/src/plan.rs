//! `ti-load plan`: phases, records per kind, the exact number of API calls of an uninterrupted first run, and the
//! time they take at the configured rate.
//!
//! Calls per record (the minimum the design needs; docs/load.md):
//! - preflight: `GET /me`, `GET /admins`, one attribute list per attribute model in the bundle, `POST /tags` = 3 + m;
//!   on a fresh journal, the look for an earlier run's traces: `GET /tags`, one `POST /conversations/search` per
//!   15 sampled tickets (at most 60 tickets: s ≤ 4), `GET /conversations`, and one page of
//!   `GET /help_center/collections` / `GET /articles` each when the bundle has collections / articles (one page
//!   per 150 items the workspace already holds) = 2 + s + c + a (+1 tag search when the workspace already has
//!   the migration tag);
//! - attribute: 1 list (match by name) + 1 create = 2;
//! - company: 1 lookup by `company_id` + 1 upsert + 1 tag = 3;
//! - contact: 1 create + 1 tag = 2 (+2 for a contact that already exists: read it for rollback, write attributes);
//! - contact_company: 1; collection, article, contact_note, company_note: 1;
//! - conversation: 1 create + 1 per part + 1 update + (1 if assignee) + (1 if close) + 1 tag.

use crate::conversation;
use crate::phases::{RECORD_PHASES, read_kind};
use serde::Serialize;
use ti_shared::bundle::Bundle;
use ti_shared::records::{Record, RecordKind};

/// API calls one record needs on a first, uninterrupted run (module docs).
pub fn calls_for_record(rec: &Record) -> u64 {
    match rec.kind {
        RecordKind::DataAttribute | RecordKind::ConversationAttribute => 2,
        RecordKind::Company => 3,
        RecordKind::Contact => 2,
        RecordKind::Conversation => conversation::calls_for(&rec.body),
        _ => 1,
    }
}

/// One row of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    /// Phase.
    pub phase: String,
    /// Kind.
    pub kind: String,
    /// Records.
    pub records: u64,
    /// API calls.
    pub calls: u64,
    /// Conversation parts (conversations only).
    pub parts: u64,
    /// Attachments (conversations only).
    pub attachments: u64,
}

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Rows per kind, in load order (the first row is preflight).
    pub rows: Vec<PlanRow>,
    /// Total API calls.
    pub total_calls: u64,
    /// Configured ceiling, requests per minute.
    pub requests_per_minute: u32,
    /// Minutes at that rate.
    pub minutes: f64,
}

/// Builds the plan of a bundle.
///
/// # Errors
/// A message when records cannot be read.
pub fn plan(bundle: &Bundle, requests_per_minute: u32) -> Result<Plan, String> {
    let mut rows = Vec::new();
    let mut models = std::collections::BTreeSet::new();
    for (phase, kinds) in RECORD_PHASES {
        for &kind in *kinds {
            let records = read_kind(bundle, kind)?;
            let mut row = PlanRow {
                phase: phase.to_string(),
                kind: kind.as_str().into(),
                records: records.len() as u64,
                calls: 0,
                parts: 0,
                attachments: 0,
            };
            for r in &records {
                row.calls += calls_for_record(r);
                match kind {
                    RecordKind::DataAttribute => {
                        models.insert(
                            r.body
                                .get("model")
                                .and_then(|m| m.as_str())
                                .unwrap_or("contact")
                                .to_string(),
                        );
                    }
                    RecordKind::ConversationAttribute => {
                        models.insert("conversation".to_string());
                    }
                    RecordKind::Conversation => {
                        for p in r
                            .body
                            .get("parts")
                            .and_then(|p| p.as_array())
                            .into_iter()
                            .flatten()
                        {
                            row.parts += 1;
                            row.attachments +=
                                p.get("attachments")
                                    .and_then(|a| a.as_array())
                                    .map_or(0, Vec::len) as u64;
                        }
                    }
                    _ => {}
                }
            }
            rows.push(row);
        }
    }
    // A fresh journal's look for an earlier run (crate::traces): the tag list, the created_at searches of the
    // ticket sample, the newest conversations, and one list page each of collections and articles when the bundle
    // has any (a workspace without the migration tag and without help center content).
    let has = |k: &str| rows.iter().any(|r: &PlanRow| r.kind == k && r.records > 0);
    let traces = 2
        + crate::traces::sample_searches(bundle)
        + u64::from(has("collection"))
        + u64::from(has("article"));
    let preflight = PlanRow {
        phase: "preflight".into(),
        kind: "-".into(),
        records: 0,
        calls: 3 + models.len() as u64 + traces,
        parts: 0,
        attachments: 0,
    };
    rows.insert(0, preflight);
    let total_calls = rows.iter().map(|r| r.calls).sum();
    Ok(Plan {
        rows,
        total_calls,
        requests_per_minute,
        minutes: total_calls as f64 / f64::from(requests_per_minute.max(1)),
    })
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<14} {:<24} {:>9} {:>9} {:>8} {:>11}",
            "phase", "kind", "records", "parts", "files", "API calls"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<14} {:<24} {:>9} {:>9} {:>8} {:>11}",
                r.phase, r.kind, r.records, r.parts, r.attachments, r.calls
            )?;
        }
        writeln!(f, "{}", "-".repeat(80))?;
        writeln!(f, "total API calls: {}", self.total_calls)?;
        let secs = self.minutes * 60.0;
        writeln!(
            f,
            "time at {} requests/minute: {:.0} s ({:.1} min), plus one pass over verify; retries and 429 waits add to it",
            self.requests_per_minute, secs, self.minutes
        )
    }
}
