//! `report/report.json` and `report/migration-report.html` (self-contained: inline CSS and SVG).
//! No timestamps or durations, so the same input and mapping give the same bytes (and bundle_id).

use crate::ledger::ObjectCount;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Builds report.json.
#[allow(clippy::too_many_arguments)]
pub fn json_report(
    parent: &str,
    migration_id: &str,
    mapping_digest: &str,
    profile: &str,
    sample: Option<u64>,
    objects: &BTreeMap<String, ObjectCount>,
    records: &BTreeMap<String, u64>,
    counters: &BTreeMap<String, u64>,
    gap_files: &[String],
    unmapped: &[String],
) -> Value {
    let objs: Vec<Value> = objects
        .iter()
        .map(|(name, c)| {
            json!({"object": name, "table": c.table, "source_rows": c.source_rows, "migrated_rows": c.migrated_rows,
                   "dropped_rows": c.dropped_rows, "dropped_by_reason": c.dropped_by_reason,
                   "balanced": c.source_rows == c.migrated_rows + c.dropped_rows})
        })
        .collect();
    let extensions: BTreeMap<String, u64> = counters
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("extension:").map(|e| (e.to_string(), *v)))
        .collect();
    let others: BTreeMap<&String, &u64> = counters
        .iter()
        .filter(|(k, _)| !k.starts_with("extension:"))
        .collect();
    json!({
        "producer": "ti-transform",
        "parent": parent,
        "migration_id": migration_id,
        "mapping_digest": mapping_digest,
        "profile": profile,
        "sample": sample,
        "objects": objs,
        "records": records,
        "counters": others,
        "attachment_extensions": extensions,
        "gaps": gap_files,
        "unmapped_tables": unmapped,
    })
}

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// Builds the HTML report from report.json.
pub fn html_report(r: &Value) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Track-It! → Intercom migration report</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
         td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}th{{background:#f0f0f0}}.num{{text-align:right}}\
         .bad{{color:#b00;font-weight:bold}}.ok{{color:#070}}code{{background:#f6f6f6;padding:1px 3px}}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>Track-It! → Intercom migration report</h1><p>Migration <code>{}</code>, profile <code>{}</code>, extract <code>{}</code>, mapping digest <code>{}</code>{}.</p>",
        esc(r["migration_id"].as_str().unwrap_or("")),
        esc(r["profile"].as_str().unwrap_or("")),
        esc(r["parent"].as_str().unwrap_or("")),
        esc(r["mapping_digest"].as_str().unwrap_or("")),
        if r["sample"].is_null() {
            String::new()
        } else {
            format!(", <b>sample of {} tickets</b>", r["sample"])
        }
    );
    h.push_str("<h2>Source rows by logical object</h2><p>Every source row is either migrated or dropped with a reason (gaps/dropped_records.csv).</p><table><tr><th>object</th><th>table</th><th>source rows</th><th>migrated</th><th>dropped</th><th>balance</th><th>share migrated</th></tr>");
    for o in r["objects"].as_array().into_iter().flatten() {
        let src = o["source_rows"].as_u64().unwrap_or(0);
        let mig = o["migrated_rows"].as_u64().unwrap_or(0);
        let width = (mig * 100).checked_div(src).unwrap_or(0);
        let ok = o["balanced"].as_bool().unwrap_or(false);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=num>{src}</td><td class=num>{mig}</td><td class=num>{}</td><td class={}>{}</td>\
            <td><svg width=\"100\" height=\"10\" role=\"img\"><rect width=\"100\" height=\"10\" fill=\"#eee\"/><rect width=\"{width}\" height=\"10\" fill=\"#4a7\"/></svg></td></tr>",
            esc(o["object"].as_str().unwrap_or("")),
            esc(o["table"].as_str().unwrap_or("")),
            o["dropped_rows"],
            if ok { "ok" } else { "bad" },
            if ok { "balanced" } else { "UNBALANCED" }
        );
        if let Some(reasons) = o["dropped_by_reason"].as_object() {
            for (reason, n) in reasons {
                let _ = write!(
                    h,
                    "<tr><td></td><td colspan=3>dropped: {}</td><td class=num>{n}</td><td colspan=2></td></tr>",
                    esc(reason)
                );
            }
        }
    }
    h.push_str("</table><h2>Records</h2><table><tr><th>kind</th><th>records</th></tr>");
    for (k, v) in r["records"].as_object().into_iter().flatten() {
        let _ = write!(h, "<tr><td>{}</td><td class=num>{v}</td></tr>", esc(k));
    }
    h.push_str("</table><h2>Counters</h2><table><tr><th>what</th><th>count</th></tr>");
    for (k, v) in r["counters"].as_object().into_iter().flatten() {
        let _ = write!(h, "<tr><td>{}</td><td class=num>{v}</td></tr>", esc(k));
    }
    h.push_str("</table><h2>Attachment extensions</h2><p>An Intercom workspace accepts only some file types until its admin allows more.</p><table><tr><th>extension</th><th>files</th></tr>");
    for (k, v) in r["attachment_extensions"].as_object().into_iter().flatten() {
        let _ = write!(h, "<tr><td>{}</td><td class=num>{v}</td></tr>", esc(k));
    }
    h.push_str("</table><h2>Gap reports</h2><ul>");
    for g in r["gaps"].as_array().into_iter().flatten() {
        let g = g.as_str().unwrap_or("");
        let _ = write!(h, "<li><a href=\"../{0}\">{0}</a></li>", esc(g));
    }
    h.push_str("</ul>");
    // Data loss the consultant decided or the extract caused: named above the unmapped tables (only when any).
    let losses: [(&str, &str); 4] = [
        (
            "omitted_cells",
            "cells the extractor did not read (too large in a keyless table): gaps/omitted_cells.csv",
        ),
        (
            "unmapped_status_values",
            "tickets whose status the mapping does not map (left open): gaps/unmapped_values.csv",
        ),
        (
            "unmapped_note_type_values",
            "notes whose type the mapping does not map (made internal notes): gaps/unmapped_values.csv",
        ),
        (
            "unmapped_attribute_columns",
            "ticket columns the [[attribute]] list leaves out (not migrated): gaps/unmapped_values.csv",
        ),
    ];
    let shown: Vec<(u64, &str)> = losses
        .iter()
        .filter_map(|(k, what)| {
            r["counters"][*k]
                .as_u64()
                .filter(|n| *n > 0)
                .map(|n| (n, *what))
        })
        .collect();
    if !shown.is_empty() {
        h.push_str("<h2>Data not migrated</h2><ul>");
        for (n, what) in shown {
            let _ = write!(h, "<li class=bad>{n} {}</li>", esc(what));
        }
        h.push_str("</ul>");
    }
    h.push_str("<h2>Unmapped tables</h2><ul>");
    for t in r["unmapped_tables"].as_array().into_iter().flatten() {
        let _ = write!(h, "<li>{}</li>", esc(t.as_str().unwrap_or("")));
    }
    h.push_str("</ul></body></html>\n");
    h
}
