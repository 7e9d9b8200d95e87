//! HTML pieces of the migration report: the style sheet, the per-object table and its inline-SVG bar chart, the
//! transform's balance table (source rows = migrated + listed with a reason) and the gap list. Everything is
//! inline (no external asset) and built in a fixed order, so the same inputs give the same page.

use super::gaps::GapFile;
use super::objects::ObjectLine;
use serde_json::Value;
use std::fmt::Write as _;

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    html_escape::encode_text(s).to_string()
}

/// Escapes an attribute value (`href`).
pub fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).to_string()
}

/// Thousands separators: 12345 → "12,345".
pub fn num(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The page's style sheet.
pub const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;padding:0 1.5em;color:#222;line-height:1.45}\
h1{margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:2px solid #e0e0e0;padding-bottom:.2em}\
.meta{color:#555}table{border-collapse:collapse;margin:.8em 0;font-size:.95em}\
th,td{border:1px solid #d0d0d0;padding:4px 9px;text-align:right;vertical-align:top}\
th{background:#f3f5f7}th:first-child,td:first-child,td.l{text-align:left}\
.bad{color:#c62828;font-weight:600}.ok{color:#2e7d32;font-weight:600}.muted{color:#777;font-size:.9em}\
.summary{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}.card{border:1px solid #d0d0d0;border-radius:6px;padding:.6em 1em;min-width:9em}\
.card b{display:block;font-size:1.5em}ul.gaps li{margin:.5em 0}";

const SERIES: [(&str, &str); 5] = [
    ("loaded", "#2e7d32"),
    ("matched existing", "#1565c0"),
    ("skipped (unchanged)", "#9e9e9e"),
    ("failed", "#c62828"),
    ("not loaded yet", "#f9a825"),
];

/// Horizontal stacked bars, one per object line: loaded / matched existing / skipped / failed / not loaded yet,
/// with the number of transformed records at the end of each bar.
pub fn bar_chart(lines: &[ObjectLine]) -> String {
    let max = lines
        .iter()
        .map(|l| l.transformed.max(l.source.unwrap_or(0)))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (label_w, bar_w, row_h) = (130.0, 560.0, 26.0);
    let height = lines.len() as f64 * row_h + 34.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="820" height="{height:.0}" viewBox="0 0 820 {height:.0}" role="img" aria-label="Records per object: loaded, matched existing, skipped, failed" font-family="system-ui,sans-serif">"#
    );
    for (i, l) in lines.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let _ = write!(
            svg,
            r#"<text x="0" y="{:.1}" font-size="12">{}</text>"#,
            y + 14.0,
            esc(l.short)
        );
        let mut x = label_w;
        let values = [l.loaded, l.matched, l.skipped, l.failed, l.pending];
        for ((name, color), value) in SERIES.iter().zip(values) {
            let width = value as f64 / max * bar_w;
            if value > 0 {
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="18" fill="{color}"><title>{}: {name}: {}</title></rect>"#,
                    width.max(1.0),
                    esc(l.short),
                    num(value)
                );
            }
            x += width;
        }
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text>"##,
            x + 5.0,
            y + 13.0,
            num(l.transformed)
        );
    }
    let ly = lines.len() as f64 * row_h + 22.0;
    for (i, (name, color)) in SERIES.iter().enumerate() {
        let x = label_w + i as f64 * 130.0;
        let _ = write!(
            svg,
            r#"<rect x="{x:.0}" y="{:.0}" width="10" height="10" fill="{color}"/><text x="{:.0}" y="{ly:.0}" font-size="11">{name}</text>"#,
            ly - 9.0,
            x + 14.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The "what was migrated" table.
pub fn objects_table(lines: &[ObjectLine]) -> String {
    let mut h = String::from(
        "<table><tr><th>What</th><th>In Track-It!</th><th>Prepared for Intercom</th><th>Loaded</th><th>Matched existing</th><th>Skipped (unchanged)</th><th>Failed</th></tr>",
    );
    for l in lines {
        let source = l.source.map_or_else(
            || format!("<span class=\"muted\">from {}</span>", esc(l.derived_from)),
            num,
        );
        let failed = l.failed + l.pending;
        let cls = if failed > 0 { " class=\"bad\"" } else { "" };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{source}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{cls}>{}{}</td></tr>",
            esc(l.label),
            num(l.transformed),
            num(l.loaded),
            num(l.matched),
            num(l.skipped),
            num(l.failed),
            if l.pending > 0 {
                format!(" (+{} not loaded yet)", num(l.pending))
            } else {
                String::new()
            }
        );
    }
    h.push_str("</table>");
    h
}

/// Plain name of a transform object (`ticket` → "Tickets").
fn object_name(object: &str) -> String {
    let known = match object {
        "ticket" => "Tickets",
        "user" => "People (users)",
        "note" => "Ticket notes",
        "attachment" => "Attachments",
        "article" => "Knowledge-base articles",
        "asset" => "Assets",
        "config_item" => "Configuration items",
        "change_request" => "Change requests",
        "change_approval" => "Change approvals",
        "bcm_relation" => "Asset relations (Client Management)",
        "group" => "Technician groups",
        "group_member" => "Group memberships",
        "sla_policy" => "SLA policies",
        "sla_target" => "SLA targets",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let s = object.replace('_', " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The transform's balance per Track-It! object: source rows = carried over + listed with a reason.
pub fn balance_table(transform: &Value) -> String {
    let Some(objects) = transform.get("objects").and_then(Value::as_array) else {
        return "<p class=\"muted\">The transform report is not available.</p>".into();
    };
    let mut h = String::from(
        "<table><tr><th>Track-It! data</th><th>Rows in Track-It!</th><th>Carried over</th><th>Not carried over</th><th class=\"l\">Why not</th><th>Every row accounted for</th></tr>",
    );
    for o in objects {
        let get = |k: &str| o.get(k).and_then(Value::as_u64).unwrap_or(0);
        let reasons = o
            .get("dropped_by_reason")
            .and_then(Value::as_object)
            .map(|m| {
                // serde_json's map is sorted by key: deterministic.
                m.iter()
                    .map(|(r, n)| format!("{} \u{00d7} {}", num(n.as_u64().unwrap_or(0)), esc(r)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            })
            .unwrap_or_default();
        let balanced = o.get("balanced").and_then(Value::as_bool).unwrap_or(false);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td></tr>",
            esc(&object_name(
                o.get("object").and_then(Value::as_str).unwrap_or("?")
            )),
            num(get("source_rows")),
            num(get("migrated_rows")),
            num(get("dropped_rows")),
            reasons,
            if balanced {
                "<span class=\"ok\">yes</span>"
            } else {
                "<span class=\"bad\">no</span>"
            }
        );
    }
    h.push_str("</table>");
    if let Some(tables) = transform
        .get("unmapped_tables")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
    {
        let names: Vec<String> = tables
            .iter()
            .filter_map(Value::as_str)
            .map(|t| format!("<code>{}</code>", esc(t)))
            .collect();
        let _ = write!(
            h,
            "<p class=\"muted\">Track-It! tables left out by the agreed field mapping (not migrated): {}.</p>",
            names.join(", ")
        );
    }
    h
}

/// The gap list: the files of one subject (same name, several formats) on one line, each with its size, then
/// what the subject means for the admin.
pub fn gap_list(files: &[GapFile]) -> String {
    if files.is_empty() {
        return "<p>Nothing was left out.</p>".into();
    }
    let stem = |f: &GapFile| f.name.split('.').next().unwrap_or_default().to_string();
    let mut h = String::from("<ul class=\"gaps\">");
    let mut i = 0;
    while i < files.len() {
        let group: Vec<&GapFile> = files[i..]
            .iter()
            .take_while(|f| stem(f) == stem(&files[i]))
            .collect();
        let links: Vec<String> = group
            .iter()
            .map(|f| {
                format!(
                    "<a href=\"{}\">{}</a> <span class=\"muted\">({})</span>",
                    attr(&f.link),
                    esc(&f.name),
                    esc(&f.size)
                )
            })
            .collect();
        let _ = write!(
            h,
            "<li>{}<br>{}</li>",
            links.join(" \u{00b7} "),
            esc(files[i].meaning)
        );
        i += group.len();
    }
    h.push_str("</ul>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1000), "1,000");
        assert_eq!(num(1234567), "1,234,567");
    }

    #[test]
    fn object_names_are_plain() {
        assert_eq!(object_name("ticket"), "Tickets");
        assert_eq!(object_name("work_order"), "Work order");
    }
}
