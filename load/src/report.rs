//! Outputs of a run, all in the journal's folder: `crossref.csv` (Track-It! ticket → Intercom conversation and
//! inbox URL), `report/load-report.json` (the run summary), `disappeared.csv` (delta), and
//! `report/migration-report.html`: a self-contained page for the customer with the transform report, per phase
//! source / transformed / loaded / matched existing / skipped / failed, an inline-SVG bar chart, links to the gap
//! files, the audit result, timings and API calls.

use crate::context::Ctx;
use crate::journal::{Journal, Reconciliation};
use crate::phases::read_kind;
use crate::preflight::csv_quote;
use crate::run::RunSummary;
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

/// Writes `crossref.csv`: `ticket_number,record_key,conversation_id,url` for every loaded conversation.
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
    let mut out = String::from("ticket_number,record_key,conversation_id,url\n");
    let mut n = 0;
    for rec in read_kind(bundle, RecordKind::Conversation).unwrap_or_default() {
        let Ok(Some(row)) = journal.record(&rec.key) else {
            continue;
        };
        let Some(id) = row.intercom_id else { continue };
        let ticket = rec
            .body
            .get("ticket_number")
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default();
        let url = format!("{host}/a/inbox/{app_id}/inbox/conversation/{id}");
        let _ = writeln!(
            out,
            "{},{},{},{}",
            csv_quote(&ticket),
            csv_quote(&rec.key),
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

fn esc(s: &str) -> String {
    html_escape::encode_text(s).to_string()
}

/// Source rows behind a phase, from the transform report's `objects[]` (`object`, `source_rows`): tickets for
/// conversations, users/customers for contacts, articles for articles; `None` when the report does not say.
fn source_rows(report: &Value, phase: &str) -> Option<u64> {
    let wanted: &[&str] = match phase {
        "conversations" => &["ticket", "tasks", "incident"],
        "contacts" => &["user", "customer", "requestor", "person"],
        "articles" => &["article", "solution"],
        "companies" => &["company", "department"],
        _ => return None,
    };
    let objects = report.get("objects").and_then(Value::as_array)?;
    let rows: Vec<u64> = objects
        .iter()
        .filter(|o| {
            o.get("object")
                .and_then(Value::as_str)
                .is_some_and(|n| wanted.contains(&n))
        })
        .filter_map(|o| o.get("source_rows").and_then(Value::as_u64))
        .collect();
    (!rows.is_empty()).then(|| rows.iter().sum())
}

fn bar_chart(lines: &[&Reconciliation]) -> String {
    let max = lines
        .iter()
        .map(|l| {
            l.expected
                .max(l.created + l.matched + l.updated + l.skipped + l.failed)
        })
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (w, row_h) = (520.0, 26.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{}" role="img" aria-label="records per phase">"#,
        (lines.len() as f64 * row_h + 30.0) as u64
    );
    let colors = [
        ("created", "#2e7d32"),
        ("matched", "#1565c0"),
        ("updated", "#6a1b9a"),
        ("skipped", "#9e9e9e"),
        ("failed", "#c62828"),
    ];
    for (i, l) in lines.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let _ = write!(
            svg,
            r#"<text x="0" y="{}" font-size="12">{}</text>"#,
            y + 15.0,
            esc(&l.phase)
        );
        let mut x = 120.0;
        for (name, value) in [
            ("created", l.created),
            ("matched", l.matched),
            ("updated", l.updated),
            ("skipped", l.skipped),
            ("failed", l.failed),
        ] {
            let width = value as f64 / max * w;
            let color = colors.iter().find(|c| c.0 == name).map_or("#000", |c| c.1);
            if width > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{width:.1}" height="18" fill="{color}"><title>{name}: {value}</title></rect>"#
                );
            }
            x += width;
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" font-size="11">{}</text>"#,
            x + 4.0,
            y + 14.0,
            l.expected
        );
    }
    let ly = lines.len() as f64 * row_h + 20.0;
    for (i, (name, color)) in colors.iter().enumerate() {
        let x = 120.0 + i as f64 * 100.0;
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{}" font-size="11">{name}</text>"#,
            ly - 9.0,
            x + 14.0,
            ly
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Writes `report/migration-report.html` from the journal (reconciliation lines of the current bundle), the
/// bundle's `report/report.json` and `gaps/`, `report/load-report.json` and `audit/audit.json` when present.
///
/// # Errors
/// I/O errors.
pub fn write_html(bundle: &Bundle, journal: &Journal, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("report"))?;
    let lines = journal.reconciliations(bundle.id()).unwrap_or_default();
    // The last line of each phase is the one that counts (a resume appends new lines).
    let mut latest: Vec<&Reconciliation> = Vec::new();
    for l in &lines {
        match latest.iter_mut().find(|x| x.phase == l.phase) {
            Some(slot) => *slot = l,
            None => latest.push(l),
        }
    }
    let transform: Value = std::fs::read_to_string(bundle.path("report/report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let run: Value = std::fs::read_to_string(dir.join("report/load-report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let audit: Value = std::fs::read_to_string(dir.join("audit/audit.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);

    let mut h = String::new();
    h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Track-It! to Intercom migration report</title>");
    h.push_str("<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}.bad{color:#c62828;font-weight:bold}.ok{color:#2e7d32;font-weight:bold}pre{background:#f5f5f5;padding:1em;overflow:auto}</style></head><body>");
    h.push_str("<h1>Track-It! to Intercom migration report</h1>");
    let _ = write!(
        h,
        "<p>Load bundle <code>{}</code>, migration <code>{}</code>, report written {}.</p>",
        esc(bundle.id()),
        esc(bundle.manifest().migration_id.as_deref().unwrap_or("-")),
        esc(&chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    );
    h.push_str("<h2>Load, per phase</h2><table><tr><th>phase</th><th>source</th><th>transformed</th><th>loaded</th><th>matched existing</th><th>skipped</th><th>failed</th><th>API calls</th><th>time (s)</th></tr>");
    for l in &latest {
        let source =
            source_rows(&transform, &l.phase).map_or_else(|| "-".to_string(), |n| n.to_string());
        let cls = if l.failed > 0 { " class=\"bad\"" } else { "" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{cls}>{}</td><td>{}</td><td>{:.1}</td></tr>",
            esc(&l.phase),
            source,
            l.expected,
            l.created + l.updated,
            l.matched,
            l.skipped,
            l.failed,
            l.requests,
            l.secs
        );
    }
    h.push_str("</table>");
    h.push_str(&bar_chart(&latest));
    if let Some(obj) = run.as_object() {
        let _ = write!(
            h,
            "<h2>Run</h2><p>{} API requests, {} rate-limit waits (429), {:.1} s.</p>",
            obj.get("requests").and_then(Value::as_u64).unwrap_or(0),
            obj.get("rate_limited").and_then(Value::as_u64).unwrap_or(0),
            obj.get("secs").and_then(Value::as_f64).unwrap_or(0.0)
        );
        if let Some(f) = obj
            .get("failures")
            .and_then(Value::as_array)
            .filter(|f| !f.is_empty())
        {
            h.push_str("<h3 class=\"bad\">Failed records</h3><ul>");
            for item in f {
                let _ = write!(h, "<li>{}</li>", esc(&item.to_string()));
            }
            h.push_str("</ul>");
        }
    }
    h.push_str("<h2>Audit</h2>");
    match audit.get("differences").and_then(Value::as_u64) {
        Some(0) => {
            let _ = write!(
                h,
                "<p class=\"ok\">Audit: {} records compared field by field, 0 differences.</p>",
                audit.get("checked").and_then(Value::as_u64).unwrap_or(0)
            );
        }
        Some(n) => {
            let _ = write!(
                h,
                "<p class=\"bad\">Audit: {n} difference(s); see <a href=\"../audit/audit.html\">audit.html</a>.</p>"
            );
        }
        None => h.push_str("<p>No audit yet (<code>ti-load audit</code>).</p>"),
    }
    h.push_str("<h2>Files</h2><ul><li><a href=\"../crossref.csv\">crossref.csv</a>: Track-It! ticket number → Intercom conversation and inbox link</li>");
    if dir.join("audit/audit.html").exists() {
        h.push_str("<li><a href=\"../audit/audit.html\">audit/audit.html</a></li>");
    }
    for f in bundle.files_under("gaps/") {
        let abs = bundle.path(&f.path);
        let _ = write!(
            h,
            "<li><a href=\"file://{}\">{}</a> ({} rows)</li>",
            esc(&abs.display().to_string()),
            esc(&f.path),
            f.rows.map_or("?".to_string(), |r| r.to_string())
        );
    }
    h.push_str("</ul>");
    if !transform.is_null() {
        let _ = write!(
            h,
            "<h2>Transform report</h2><pre>{}</pre>",
            esc(&serde_json::to_string_pretty(&transform).unwrap_or_default())
        );
    }
    h.push_str("</body></html>\n");
    std::fs::write(dir.join("report/migration-report.html"), h)
}
