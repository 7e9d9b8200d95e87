//! Outputs of a run, all in the journal's folder: `crossref.csv` (Track-It! ticket → Intercom conversation and
//! inbox URL), `report/load-report.json` (the run summary), `disappeared.csv` (delta), and
//! `report/migration-report.html`: the page a consultant hands to the customer at sign-off (issue 9). The
//! `report/` folder stands on its own: the page (inline CSS and SVG, no external asset), `report/gaps/` (copies of
//! the load bundle's gap files plus the technicians without a teammate), `report/crossref.csv` and
//! `report/audit.html`, all linked relatively. Submodules: [`objects`] (per-object figures), [`gaps`], [`page`]
//! (HTML pieces).

pub mod gaps;
pub mod objects;
pub mod page;

use crate::context::Ctx;
use crate::journal::{Journal, Reconciliation};
use crate::phases::read_kind;
use crate::preflight::Technician;
use crate::preflight::csv_quote;
use crate::run::RunSummary;
use page::{esc, num};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use ti_shared::bundle::Bundle;
use ti_shared::records::RecordKind;

/// The inbox host for an API base URL (EU/AU regions have their own).
pub fn app_host(base_url: &str) -> &'static str {
    if base_url.contains("api.eu.") {
        "https://app.eu.intercom.com"
    } else if base_url.contains("api.au.") {
        "https://app.au.intercom.com"
    } else {
        "https://app.intercom.com"
    }
}

/// The ticket number of a conversation: the bundle body's `ticket_number` when the bundle holds the record,
/// otherwise the key's suffix (transform names conversations `conversation:ticket:<ticket number>`).
fn ticket_number(key: &str, body: Option<&Value>) -> String {
    body.and_then(|b| b.get("ticket_number"))
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        })
        .unwrap_or_else(|| {
            key.strip_prefix("conversation:ticket:")
                .unwrap_or_default()
                .to_string()
        })
}

/// Writes `crossref.csv`: `ticket_number,record_key,conversation_id,url` for every conversation the journal
/// holds for this migration (every bundle loaded through it, so a smaller delta bundle never shrinks the file),
/// except rolled-back ones, in key order.
///
/// # Errors
/// I/O errors.
pub fn write_crossref(
    bundle: &Bundle,
    journal: &Journal,
    app_id: &str,
    dir: &Path,
) -> std::io::Result<u64> {
    let host = app_host(&journal.meta("base_url").ok().flatten().unwrap_or_default());
    let bodies: std::collections::HashMap<String, Value> =
        read_kind(bundle, RecordKind::Conversation)
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.key, r.body))
            .collect();
    let mut out = String::from("ticket_number,record_key,conversation_id,url\n");
    let mut n = 0;
    let rows = journal
        .records()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    for row in rows
        .into_iter()
        .filter(|r| r.kind == RecordKind::Conversation.as_str() && r.status != "rolled_back")
    {
        let Some(id) = row.intercom_id else { continue };
        let ticket = ticket_number(&row.key, bodies.get(&row.key));
        let url = format!("{host}/a/inbox/{app_id}/inbox/conversation/{id}");
        let _ = writeln!(
            out,
            "{},{},{},{}",
            csv_quote(&ticket),
            csv_quote(&row.key),
            csv_quote(&id),
            csv_quote(&url)
        );
        n += 1;
    }
    std::fs::write(dir.join("crossref.csv"), out)?;
    Ok(n)
}

/// Writes every output of a finished run.
///
/// # Errors
/// I/O errors.
pub fn write_all(ctx: &Ctx, app_id: &str, dir: &Path, summary: &RunSummary) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("report"))?;
    write_crossref(&ctx.bundle, &ctx.journal, app_id, dir)?;
    let json = serde_json::to_string_pretty(summary).unwrap_or_default();
    std::fs::write(dir.join("report/load-report.json"), json + "\n")?;
    if !summary.disappeared.is_empty() {
        let mut csv = String::from("record_key\n");
        for k in &summary.disappeared {
            csv.push_str(&csv_quote(k));
            csv.push('\n');
        }
        std::fs::write(dir.join("disappeared.csv"), csv)?;
    }
    write_html(&ctx.bundle, &ctx.journal, dir)
}

/// Journal meta key holding the CSV (`key,name,email`) of technicians without a matching Intercom teammate, as
/// found by the last preflight.
pub const UNMATCHED_META: &str = "unmatched_technicians_csv";

/// The CSV (`key,name,email`) of technicians without a teammate, for [`UNMATCHED_META`].
pub fn technicians_csv(techs: &[Technician]) -> String {
    let mut csv = String::from("key,name,email\n");
    for t in techs {
        let _ = writeln!(
            csv,
            "{},{},{}",
            csv_quote(&t.key),
            csv_quote(&t.name),
            csv_quote(&t.email)
        );
    }
    csv
}

fn read_json(path: &Path) -> Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// The last reconciliation line of each phase of this bundle (a resume appends new lines), in phase order.
fn latest_lines(bundle: &Bundle, journal: &Journal) -> Vec<Reconciliation> {
    let mut latest: Vec<Reconciliation> = Vec::new();
    for l in journal.reconciliations(bundle.id()).unwrap_or_default() {
        match latest.iter_mut().find(|x| x.phase == l.phase) {
            Some(slot) => *slot = l,
            None => latest.push(l),
        }
    }
    latest
}

fn secs_text(secs: f64) -> String {
    if secs >= 3600.0 {
        format!("{:.1} h", secs / 3600.0)
    } else if secs >= 120.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{secs:.1} s")
    }
}

fn phase_name(phase: &str) -> &str {
    match phase {
        "preflight" => "Checks before loading (teammates, fields, tag)",
        "attributes" => "Custom fields",
        "companies" => "Companies",
        "contacts" => "Contacts and their companies",
        "conversations" => "Conversations",
        "collections" => "Help-center collections",
        "articles" => "Help-center articles",
        "notes" => "Contact and company notes",
        "verify" => "Final check of the loaded records",
        other => other,
    }
}

/// Writes `report/migration-report.html` (with `report/gaps/`, `report/crossref.csv`, `report/audit.html`) from
/// the journal, the bundle's `report/report.json` and `gaps/`, `report/load-report.json` and `audit/audit.json`
/// when present. Apart from the written-at time, the same inputs give the same bytes.
///
/// # Errors
/// I/O errors.
pub fn write_html(bundle: &Bundle, journal: &Journal, dir: &Path) -> std::io::Result<()> {
    let report_dir = dir.join("report");
    std::fs::create_dir_all(&report_dir)?;
    let transform = read_json(&bundle.path("report/report.json"));
    let run = read_json(&report_dir.join("load-report.json"));
    let audit = read_json(&dir.join("audit/audit.json"));
    let lines = objects::object_lines(bundle, journal, &transform);
    let phases = latest_lines(bundle, journal);
    let no_teammate = journal.meta(UNMATCHED_META).ok().flatten();
    let gap_files = gaps::copy_gaps(bundle, &report_dir, no_teammate.as_deref())?;
    let no_teammate_rows = no_teammate.as_deref().map_or(0, gaps::csv_rows);
    let has_crossref = dir.join("crossref.csv").exists();
    if has_crossref {
        std::fs::copy(dir.join("crossref.csv"), report_dir.join("crossref.csv"))?;
    }
    let has_audit_html = dir.join("audit/audit.html").exists();
    if has_audit_html {
        std::fs::copy(dir.join("audit/audit.html"), report_dir.join("audit.html"))?;
    }

    let total = |f: fn(&objects::ObjectLine) -> u64| lines.iter().map(f).sum::<u64>();
    let (loaded, matched, skipped) = (
        total(|l| l.loaded),
        total(|l| l.matched),
        total(|l| l.skipped),
    );
    let failed = total(|l| l.failed) + total(|l| l.pending);
    let tickets = lines
        .iter()
        .find(|l| l.phase == "conversations")
        .map_or(0, |l| l.source.unwrap_or(l.transformed));
    let conversations = lines
        .iter()
        .find(|l| l.phase == "conversations")
        .map_or(0, |l| l.loaded + l.matched + l.skipped);

    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Track-It! to Intercom migration report</title><style>");
    h.push_str(page::STYLE);
    h.push_str("</style></head><body><h1>Track-It! to Intercom migration report</h1>");
    let _ = write!(
        h,
        "<p class=\"meta\">Migration <b>{}</b> ({} Track-It! data) \u{00b7} report written {}</p>",
        esc(bundle.manifest().migration_id.as_deref().unwrap_or("-")),
        esc(transform
            .get("profile")
            .and_then(Value::as_str)
            .unwrap_or("unknown")),
        esc(&chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string())
    );

    // Summary cards.
    let audit_card = match audit.get("differences").and_then(Value::as_u64) {
        Some(0) => "<b class=\"ok\">0</b>differences found by the audit".to_string(),
        Some(n) => format!(
            "<b class=\"bad\">{}</b>differences found by the audit",
            num(n)
        ),
        None => "<b>\u{2013}</b>audit not run yet".to_string(),
    };
    let _ = write!(
        h,
        "<div class=\"summary\"><div class=\"card\"><b>{}</b>Track-It! tickets</div><div class=\"card\"><b>{}</b>conversations in Intercom</div><div class=\"card\"><b>{}</b>records loaded or matched</div><div class=\"card\"><b{}>{}</b>records failed</div><div class=\"card\">{audit_card}</div></div>",
        num(tickets),
        num(conversations),
        num(loaded + matched + skipped),
        if failed > 0 {
            " class=\"bad\""
        } else {
            " class=\"ok\""
        },
        num(failed)
    );

    h.push_str("<h2>What was migrated</h2><p>For each kind of record: how many rows Track-It! held, how many records were prepared for Intercom from them, and what happened to each. \u{201c}Matched existing\u{201d} means the record already existed in Intercom (for example a contact with the same email) and was linked instead of duplicated; \u{201c}skipped\u{201d} means an earlier run already loaded it and it has not changed since.</p>");
    h.push_str(&page::objects_table(&lines));
    h.push_str(&page::bar_chart(&lines));

    h.push_str("<h2>Every Track-It! row is accounted for</h2><p>Each row read from Track-It! was either carried over to Intercom or listed, with the reason, in one of the files below.</p>");
    h.push_str(&page::balance_table(&transform));

    h.push_str("<h2>What your Intercom admin needs to know</h2><p>Some Track-It! information has no equivalent in Intercom or cannot be created automatically. Each file below holds it, with what it means for you:</p>");
    if no_teammate_rows > 0 {
        let _ = write!(
            h,
            "<p><b>{}</b> technician(s) had no Intercom teammate with the same email address; their replies and notes were posted by the migration's fallback teammate (see <a href=\"gaps/{}\">{}</a>).</p>",
            num(no_teammate_rows),
            gaps::NO_TEAMMATE_FILE,
            gaps::NO_TEAMMATE_FILE
        );
    }
    h.push_str(&page::gap_list(&gap_files));

    h.push_str("<h2>Audit</h2>");
    match audit.get("differences").and_then(Value::as_u64) {
        Some(d) => {
            let checked = audit.get("checked").and_then(Value::as_u64).unwrap_or(0);
            let unverifiable = audit.get("unverifiable").and_then(Value::as_u64).unwrap_or(0);
            let cls = if d == 0 { "ok" } else { "bad" };
            let _ = write!(
                h,
                "<p>After loading, <b>{}</b> records were read back from Intercom and compared field by field with what was sent: <span class=\"{cls}\">{} difference(s)</span>.",
                num(checked),
                num(d)
            );
            if unverifiable > 0 {
                let _ = write!(
                    h,
                    " {} note(s) cannot be read back through Intercom's API and were checked only by their successful creation.",
                    num(unverifiable)
                );
            }
            h.push_str("</p>");
            if has_audit_html {
                h.push_str("<p>Details: <a href=\"audit.html\">audit.html</a>.</p>");
            }
        }
        None => h.push_str("<p>The audit has not been run yet; it runs with <code>ti-load audit</code> and then updates this page.</p>"),
    }

    h.push_str("<h2>Duration and Intercom API usage</h2>");
    if let Some(obj) = run.as_object() {
        let get = |k: &str| obj.get(k).and_then(Value::as_u64).unwrap_or(0);
        let requests = get("requests");
        let _ = write!(
            h,
            "<p>The last loading run took <b>{}</b> and made <b>{}</b> Intercom API calls. Intercom refused {} call(s) for exceeding its rate limit (each was retried after the limit reset); the loader paced itself {} time(s) to stay within the limit.",
            secs_text(obj.get("secs").and_then(Value::as_f64).unwrap_or(0.0)),
            num(requests),
            num(get("rate_limited")),
            num(get("rate_limit_waits"))
        );
        if let Some(p) = phases
            .iter()
            .find(|p| p.phase == "conversations")
            .filter(|_| conversations > 0)
        {
            let _ = write!(
                h,
                " Loading conversations took {:.1} API calls per ticket.",
                p.requests as f64 / conversations as f64
            );
        }
        h.push_str("</p>");
    }
    if !phases.is_empty() {
        h.push_str("<table><tr><th>Step</th><th>Time</th><th>API calls</th></tr>");
        for p in &phases {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(phase_name(&p.phase)),
                secs_text(p.secs),
                num(p.requests)
            );
        }
        h.push_str("</table>");
    }
    if let Some(f) = run
        .get("failures")
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty())
    {
        h.push_str("<h3 class=\"bad\">Records that failed</h3><table><tr><th>Record</th><th>Reason</th></tr>");
        for item in f {
            let cell = |i: usize| {
                item.get(i)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"l\">{}</td></tr>",
                esc(&cell(0)),
                esc(&cell(1))
            );
        }
        h.push_str("</table>");
    }

    h.push_str("<h2>Finding a Track-It! ticket in Intercom</h2>");
    if has_crossref {
        h.push_str("<p><a href=\"crossref.csv\">crossref.csv</a> lists every Track-It! ticket number with its Intercom conversation and a direct link to it in the Intercom inbox. Each migrated conversation also carries the Track-It! ticket number in its <i>ti_ticket_id</i> field.</p>");
    } else {
        h.push_str("<p>The ticket cross-reference has not been written yet.</p>");
    }
    h.push_str("</body></html>\n");
    std::fs::write(report_dir.join("migration-report.html"), h)
}
