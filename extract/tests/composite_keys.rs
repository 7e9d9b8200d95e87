//! Composite and character primary keys are keyset-paged on the whole key (issue 6): a dropped connection and a
//! server error mid-table are retried from the last committed part with every row exactly once, and a kill
//! mid-table then `--resume` continues after the last committed key tuple and gives the same bundle_id as an
//! uninterrupted run.

mod common;

use arrow_array::{Array, Int32Array, StringArray};
use common::*;
use rusqlite::params;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Link codes: distinct under the case-insensitive collation, with a CP1252 `é` and mixed case.
const CODES: [&str; 10] = [
    "alpha", "Bravo", "café", "DELTA", "echo", "fox-1", "fox1", "Golf", "hôtel", "India",
];

/// `dbo.Links` (3,000 rows, primary key `(WOID int, Code varchar(20))`), inserted out of key order.
fn make_db(dir: &Path) -> PathBuf {
    let db = dir.join("links.sqlite");
    let c = new_db(&db);
    table(
        &c,
        "Links",
        &[
            col("WOID", "int").pk(),
            Col {
                pk: Some(2),
                ..col("Code", "varchar").len(20)
            },
            col("Note", "varchar").len(100),
        ],
    );
    c.execute_batch("BEGIN").unwrap();
    for code in CODES.iter().rev() {
        for woid in (1..=300i64).rev() {
            c.execute(
                "INSERT INTO \"dbo.Links\" VALUES (?1, ?2, ?3)",
                params![woid, code, format!("{woid}/{code}")],
            )
            .unwrap();
        }
    }
    c.execute_batch("COMMIT").unwrap();
    db
}

/// Every (WOID, Note) of the bundle's Links parts, in part order; checks each key appears exactly once.
fn rows(out: &Path) -> Vec<(i32, String)> {
    let mut all = Vec::new();
    for b in read_parts(out, "tables/dbo.^Links") {
        let woid = b
            .column_by_name("WOID")
            .unwrap()
            .as_any()
            .downcast_ref::<Int32Array>()
            .unwrap()
            .clone();
        let note = b
            .column_by_name("Note")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .clone();
        for i in 0..b.num_rows() {
            all.push((woid.value(i), note.value(i).to_string()));
        }
    }
    assert_eq!(all.len(), 3000, "every row exactly once");
    let distinct: BTreeSet<&String> = all.iter().map(|(_, n)| n).collect();
    assert_eq!(distinct.len(), 3000, "a row appears twice");
    all
}

fn reference(dir: &Path, db: &Path, cfg: &Path) -> String {
    let server = Server::start(db, &[]);
    let out = dir.join("reference");
    let (code, stdout, stderr) = run(&server, cfg, &out, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let all = rows(&out);
    // Key order: WOID, then the code's CP1252 bytes ('Bravo' < 'DELTA' < 'Golf' < 'India' < 'alpha' < 'café' …).
    assert_eq!(all[0], (1, "1/Bravo".to_string()));
    assert_eq!(all[1], (1, "1/DELTA".to_string()));
    assert_eq!(all[4], (1, "1/alpha".to_string()));
    assert_eq!(all[5], (1, "1/café".to_string()));
    assert_eq!(all[9], (1, "1/hôtel".to_string()));
    assert_eq!(all[10], (2, "2/Bravo".to_string()));
    assert_eq!(all[2999], (300, "300/hôtel".to_string()));
    assert_eq!(
        std::fs::read_dir(out.join("tables/dbo.^Links"))
            .unwrap()
            .count(),
        15,
        "3000 rows in parts of 200"
    );
    // The whole key is paged: first page, then pages after the last key tuple read.
    let log = server.log_text();
    assert!(
        log.contains(
            "FROM [dbo].[Links] WITH (NOLOCK) ORDER BY [WOID], CAST([Code] AS varbinary(8000))"
        ),
        "{log}"
    );
    let next = "FROM [dbo].[Links] WITH (NOLOCK) WHERE ([WOID] > @P2) OR ([WOID] = @P2 AND CAST([Code] AS varbinary(8000)) > @P3) ORDER BY [WOID], CAST([Code] AS varbinary(8000))";
    assert_eq!(log.matches(next).count(), 60, "60 more pages of 50 rows");
    bundle_id(&out)
}

#[test]
fn composite_key_faults_are_retried_with_every_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let cfg = small_pages_config(dir.path());
    let expected = reference(dir.path(), &db, &cfg);
    for fault in [
        "drop-after-rows=30:Links",
        "error-after-rows=30:dbo.Links@2",
    ] {
        let (_server, out, _) = run_with_fault(dir.path(), &db, &cfg, fault);
        rows(&out);
        assert_eq!(bundle_id(&out), expected, "{fault}");
        let (code, _, _) = extract(&["verify", out.to_str().unwrap()]);
        assert_eq!(code, 0);
    }
}

#[test]
fn composite_key_kill_then_resume_continues_after_the_last_key_tuple() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let cfg = small_pages_config(dir.path());
    let expected = reference(dir.path(), &db, &cfg);

    // A slow server, so the kill lands mid-table: wait (no timing assertion) until two parts are committed.
    let server = Server::start(&db, &["--fault", "delay-ms=15"]);
    let out = dir.path().join("resumed");
    let conn = server.conn();
    let mut child = std::process::Command::new(extract_binary())
        .args(["run", "--config", cfg.to_str().unwrap()])
        .args(["--connection-string", &conn, "--out", out.to_str().unwrap()])
        .env("TRACKIT_SQL_PASSWORD", "fixture")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state_file = out.join("extract-state.json");
    let state = loop {
        let text = std::fs::read_to_string(&state_file).unwrap_or_default();
        let state = serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default();
        let parts = state["tables"]["dbo.Links"]["part_rows"]
            .as_array()
            .map_or(0, Vec::len);
        if parts >= 2 {
            break state;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.join("manifest.json").exists());
    drop(server);
    // The restart point is the last committed part's last key tuple: after 2 parts (400 rows) or more, a
    // multiple of 200 rows, i.e. the code 'hôtel' of WOID 20, 40, ….
    let links = &state["tables"]["dbo.Links"];
    let done_rows: u64 = links["part_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .sum();
    assert_eq!(done_rows % 200, 0);
    assert_eq!(
        links["last_keys"],
        serde_json::json!([{"int": done_rows / 10}, {"bytes": "68f474656c"}]),
        "{links}"
    );

    // Resume against a server that also drops the first page it serves: retried from the last committed part.
    let server = Server::start(&db, &["--fault", "drop-after-rows=30:Links"]);
    let (code, stdout, stderr) = run(&server, &cfg, &out, &["--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(server.log_text().contains("fault:"));
    rows(&out);
    assert_eq!(
        bundle_id(&out),
        expected,
        "resumed bundle differs from an uninterrupted run"
    );
    let log = server.log_text();
    let links: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("stmt: SELECT TOP (@P1)") && l.contains("[Links]"))
        .collect();
    assert!(
        links[0].contains("WHERE ([WOID] > @P2) OR"),
        "first page after resume: {}",
        links[0]
    );
    assert_eq!(links[0], links[1], "the dropped page is asked again");
    assert!(!out.join("extract-state.json").exists());
    let (code, _, _) = extract(&["verify", out.to_str().unwrap()]);
    assert_eq!(code, 0);
}
