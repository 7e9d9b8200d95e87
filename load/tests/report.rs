//! The customer report after a run and an audit: key figures, plain-language gap sentences, a self-contained page
//! (no external asset) whose every relative link resolves inside the report folder.

mod common;
use common::*;
use std::path::Path;

/// Every `href="…"` and `src="…"` value of the page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(rest[..end].replace("&amp;", "&"));
            rest = &rest[end..];
        }
    }
    out
}

fn check_links(report_dir: &Path, html: &str) -> usize {
    let links = links(html);
    for l in &links {
        assert!(
            !l.contains("://") && !l.starts_with('/') && !l.starts_with("..") && !l.is_empty(),
            "link {l:?} is not relative to the report folder"
        );
        assert!(report_dir.join(l).is_file(), "link target {l} is missing");
    }
    links.len()
}

#[test]
fn report_holds_the_key_figures_and_working_links() {
    let tmp = testkit_harness::TempDir::new();
    let shape = Shape::default();
    let bundle = build_bundle(&tmp.path().join("bundle"), &shape);
    let sim = start_sim(tmp.path(), &[]);
    let cfg = write_config(tmp.path(), &sim.addr, "");
    let out = tmp.path().join("out");
    let journal = out.join("journal.sqlite");
    let (b, j) = (bundle.to_str().unwrap(), journal.to_str().unwrap());

    let run = ti_load(&cfg, &run_args(b, j), &[]);
    assert!(run.status.success(), "{}", show(&run));
    let report_dir = out.join("report");
    let html = std::fs::read_to_string(report_dir.join("migration-report.html")).unwrap();
    assert!(html.contains("The audit has not been run yet"), "{html}");
    check_links(&report_dir, &html);

    let audit = ti_load(&cfg, &["audit", b, "--journal", j], &[]);
    assert!(audit.status.success(), "{}", show(&audit));
    let html = std::fs::read_to_string(report_dir.join("migration-report.html")).unwrap();

    // Self-contained: inline style and SVG, nothing fetched.
    assert!(html.contains("<style>") && html.contains("<svg"));
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"));
    assert!(!html.contains("<pre>"), "no raw dump");
    // Per object: tickets → conversations, source 7 (6 migrated + 1 listed), 6 prepared, 6 loaded.
    assert!(
        html.contains("<tr><td>Tickets \u{2192} conversations</td><td>7</td><td>6</td><td>6</td><td>0</td><td>0</td><td>0</td></tr>"),
        "{html}"
    );
    assert!(html.contains("<tr><td>People \u{2192} contacts</td><td>4</td><td>4</td><td>4</td>"));
    // Balance table, readable.
    assert!(html.contains("1 \u{00d7} its requester does not exist"));
    assert!(html.contains("dbo.zz_import"));
    // Gaps: copied next to the page, with row counts and a sentence each.
    for f in [
        "gaps/truncated_values.csv",
        "gaps/sla_spec.md",
        "gaps/change_requests.json",
        "gaps/technicians.csv",
        "gaps/technicians_without_teammate.csv",
    ] {
        assert!(html.contains(&format!("href=\"{f}\"")), "no link to {f}");
    }
    assert!(html.contains("(1 row)"), "quoted newline counted once");
    assert!(html.contains("(2 entries)"));
    assert!(html.contains("Intercom SLAs cannot be created automatically"));
    // ghost@nowhere.example has no teammate: posted by the fallback.
    let no_teammate =
        std::fs::read_to_string(report_dir.join("gaps/technicians_without_teammate.csv")).unwrap();
    assert!(no_teammate.contains("Ghost Tech"), "{no_teammate}");
    assert!(html.contains("<b>1</b> technician(s) had no Intercom teammate"));
    // Audit, API usage, cross-reference.
    assert!(html.contains("0 difference(s)"), "{html}");
    assert!(html.contains("href=\"audit.html\""));
    assert!(html.contains("Intercom API calls") && html.contains("API calls per ticket"));
    assert!(html.contains("href=\"crossref.csv\""));
    let n = check_links(&report_dir, &html);
    assert!(n >= 8, "{n} links");

    // Deterministic apart from the written-at time: the audit's rewrite of an unchanged state gives the same page.
    let again = ti_load(&cfg, &["audit", b, "--journal", j], &[]);
    assert!(again.status.success(), "{}", show(&again));
    let html2 = std::fs::read_to_string(report_dir.join("migration-report.html")).unwrap();
    let strip = |h: &str| {
        let i = h.find("report written").unwrap();
        h[..i].to_string() + &h[i + 40..]
    };
    assert_eq!(strip(&html), strip(&html2));
}
