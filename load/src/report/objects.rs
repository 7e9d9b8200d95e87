//! Per logical object figures of the report: Track-It! source rows (from the transform report's `objects[]`),
//! records in the load bundle, and what the journal says happened to each of them.

use crate::journal::{Journal, RecordRow};
use crate::phases::{RECORD_PHASES, read_kind};
use serde_json::Value;
use std::collections::HashMap;
use ti_shared::bundle::Bundle;
use ti_shared::records::RecordKind;

/// One line of the "what was migrated" table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectLine {
    /// Load phase (`contacts`, `conversations`…).
    pub phase: &'static str,
    /// Plain-language name of what was created in Intercom.
    pub label: &'static str,
    /// Short name for the chart.
    pub short: &'static str,
    /// Track-It! rows behind it; `None` when the records are derived (no one-to-one source table).
    pub source: Option<u64>,
    /// Where derived records come from, when `source` is `None`.
    pub derived_from: &'static str,
    /// Records in the load bundle.
    pub transformed: u64,
    /// Created or updated in Intercom by this bundle.
    pub loaded: u64,
    /// Matched to an object that already existed in Intercom.
    pub matched: u64,
    /// Already loaded by an earlier run and unchanged since (not sent again).
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Not attempted yet (an interrupted or partial run).
    pub pending: u64,
}

/// Name, chart name, Track-It! objects behind a kind (transform report `objects[].object`), and what derived
/// records come from.
fn describe(
    kind: RecordKind,
) -> (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
) {
    match kind {
        RecordKind::DataAttribute => (
            "Custom fields on contacts and companies",
            "Contact fields",
            &[],
            "the field mapping",
        ),
        RecordKind::ConversationAttribute => (
            "Custom fields on conversations",
            "Ticket fields",
            &[],
            "the field mapping",
        ),
        RecordKind::Company => (
            "Companies",
            "Companies",
            &["company", "department"],
            "the people's company names",
        ),
        RecordKind::Contact => (
            "People \u{2192} contacts",
            "Contacts",
            &["user", "customer", "requestor", "person"],
            "",
        ),
        RecordKind::ContactCompany => (
            "Contact \u{2194} company links",
            "Contact links",
            &[],
            "each contact's company",
        ),
        RecordKind::Conversation => (
            "Tickets \u{2192} conversations",
            "Conversations",
            &["ticket", "tasks", "incident"],
            "",
        ),
        RecordKind::Collection => (
            "Knowledge-base categories \u{2192} help-center collections",
            "Collections",
            &[],
            "the article categories",
        ),
        RecordKind::Article => (
            "Knowledge-base articles",
            "Articles",
            &["article", "solution"],
            "",
        ),
        RecordKind::ContactNote => (
            "Notes on contacts (merged duplicates)",
            "Contact notes",
            &[],
            "people merged into one contact",
        ),
        RecordKind::CompanyNote => (
            "Assets and configuration items \u{2192} company notes",
            "Company notes",
            &["asset", "config_item"],
            "",
        ),
    }
}

/// Track-It! rows of the named objects in the transform report; `None` when none of them is listed.
fn source_rows(transform: &Value, objects: &[&str]) -> Option<u64> {
    let listed = transform.get("objects").and_then(Value::as_array)?;
    let rows: Vec<u64> = listed
        .iter()
        .filter(|o| {
            o.get("object")
                .and_then(Value::as_str)
                .is_some_and(|n| objects.contains(&n))
        })
        .filter_map(|o| o.get("source_rows").and_then(Value::as_u64))
        .collect();
    (!rows.is_empty()).then(|| rows.iter().sum())
}

/// One line per record kind present in the bundle, in load order.
pub fn object_lines(bundle: &Bundle, journal: &Journal, transform: &Value) -> Vec<ObjectLine> {
    let rows: HashMap<String, RecordRow> = journal
        .records()
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    let mut out = Vec::new();
    for (phase, kinds) in RECORD_PHASES {
        for &kind in *kinds {
            if bundle.entry(&kind.file_path()).is_none() {
                continue;
            }
            let (label, short, objects, derived_from) = describe(kind);
            let mut line = ObjectLine {
                phase,
                label,
                short,
                source: if objects.is_empty() {
                    None
                } else {
                    source_rows(transform, objects)
                },
                derived_from,
                ..Default::default()
            };
            for rec in read_kind(bundle, kind).unwrap_or_default() {
                line.transformed += 1;
                match rows.get(&rec.key) {
                    Some(r) if r.status == "done" => {
                        if r.bundle_id.as_deref() != Some(bundle.id()) {
                            line.skipped += 1;
                        } else if r.outcome.as_deref() == Some("matched") {
                            line.matched += 1;
                        } else {
                            line.loaded += 1;
                        }
                    }
                    Some(r) if r.status == "failed" => line.failed += 1,
                    _ => line.pending += 1,
                }
            }
            if line.source.is_none() && line.derived_from.is_empty() {
                line.derived_from = "the transformed data";
            }
            out.push(line);
        }
    }
    out
}
