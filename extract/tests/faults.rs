//! Faults, retries and resume against `trackit-fixture serve` (issue 6): a dropped connection and a server error
//! mid-table are retried from the last complete part; a kill mid-table and `--resume` give the same bundle_id as
//! an uninterrupted run; a wrong password or an unreachable server give one clear line and exit 1.

mod common;

use common::*;
use rusqlite::params;
use std::path::{Path, PathBuf};

/// A database with `dbo.Tickets` (2,000 rows, with text and a LOB) and a keyless `dbo.Log` (300 rows).
fn make_db(dir: &Path) -> PathBuf {
    let db = dir.join("faults.sqlite");
    let c = new_db(&db);
    table(
        &c,
        "Tickets",
        &[
            col("WOID", "int").pk(),
            col("TASK", "varchar").len(100),
            col("NOTE", "text").len(2_147_483_647),
            col("OPENED", "datetime"),
        ],
    );
    table(
        &c,
        "Log",
        &[col("At", "datetime"), col("Line", "nvarchar").len(200)],
    );
    c.execute_batch("BEGIN").unwrap();
    for i in 1..=2000i64 {
        c.execute(
            "INSERT INTO \"dbo.Tickets\" VALUES (?1, ?2, ?3, ?4)",
            params![
                i,
                format!("Ticket {i} café"),
                "x".repeat((i % 50) as usize),
                format!("2020-01-{:02} 10:00:00", 1 + i % 28)
            ],
        )
        .unwrap();
    }
    for i in 1..=300i64 {
        c.execute(
            "INSERT INTO \"dbo.Log\" VALUES (?1, ?2)",
            params![
                format!("2021-03-{:02} 08:{:02}:00", 1 + i % 28, i % 60),
                format!("line {i}")
            ],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
    db
}

fn reference(dir: &Path, db: &Path, cfg: &Path) -> String {
    let server = Server::start(db, &[]);
    let out = dir.join("reference");
    let (code, stdout, stderr) = run(&server, cfg, &out, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let batches = read_parts(&out, "tables/dbo.^Tickets");
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2000);
    assert_eq!(
        std::fs::read_dir(out.join("tables/dbo.^Tickets"))
            .unwrap()
            .count(),
        10,
        "2000 rows in parts of 200"
    );
    bundle_id(&out)
}

#[test]
fn dropped_connection_and_server_error_are_retried_to_the_same_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let cfg = small_pages_config(dir.path());
    let expected = reference(dir.path(), &db, &cfg);

    for fault in [
        "drop-after-rows=30:Tickets",
        "error-after-rows=30:Tickets",
        "drop-after-rows=120:Log",
        "error-after-rows=10:dbo.Log@2",
    ] {
        let (server, out, stderr) = run_with_fault(dir.path(), &db, &cfg, fault);
        // The retry warning names the table once, without tiberius's empty procedure name.
        assert!(
            stderr.contains("; retry 1 of 3 from the last complete part"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("Tickets: dbo.Tickets") && !stderr.contains("Log: dbo.Log"),
            "{stderr}"
        );
        assert!(!stderr.contains("executing  on"), "{stderr}");
        // Q10: the keyless table is one ordered scan by every orderable column.
        assert!(
            server
                .log_text()
                .contains("FROM [dbo].[Log] WITH (NOLOCK) ORDER BY [At], [Line]"),
            "Q10 expected"
        );
        assert_eq!(
            bundle_id(&out),
            expected,
            "{fault}: bundle differs from an uninterrupted run"
        );
        let (code, _, _) = extract(&["verify", out.to_str().unwrap()]);
        assert_eq!(code, 0);
    }
}

#[test]
fn a_fault_that_outlasts_the_retries_fails_naming_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let cfg = small_pages_config(dir.path());
    let server = Server::start(&db, &["--fault", "error-after-rows=10:Tickets@100"]);
    let out = dir.path().join("failed");
    let (code, _, stderr) = run(&server, &cfg, &out, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("dbo.Tickets"), "{stderr}");
    assert!(
        !out.join("manifest.json").exists(),
        "a failed run must leave no manifest"
    );
    let (code, _, _) = extract(&["verify", out.to_str().unwrap()]);
    assert_eq!(code, 3);
}

#[test]
fn kill_mid_table_then_resume_gives_the_same_bundle_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let cfg = small_pages_config(dir.path());
    let expected = reference(dir.path(), &db, &cfg);

    // A slow server, so the kill lands mid-table: wait (no timing assertion) until two parts are committed.
    let server = Server::start(&db, &["--fault", "delay-ms=15"]);
    let out = dir.path().join("resumed");
    let conn = server.conn();
    let mut child = std::process::Command::new(extract_binary())
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--connection-string",
            &conn,
            "--out",
            out.to_str().unwrap(),
        ])
        .env("TRACKIT_SQL_PASSWORD", "fixture")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = out.join("extract-state.json");
    loop {
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        let parts = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v["tables"]["dbo.Tickets"]["part_rows"]
                    .as_array()
                    .map(Vec::len)
            })
            .unwrap_or(0);
        if parts >= 2 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.join("manifest.json").exists());

    // The same server (its address is part of the bundle's origin: another one is refused).
    let before = server.log_text().len();
    let (code, stdout, stderr) = run(&server, &cfg, &out, &["--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        bundle_id(&out),
        expected,
        "resumed bundle differs from an uninterrupted run"
    );
    // The resumed run continued after the committed parts instead of starting the table again.
    let log = server.log_text()[before..].to_string();
    let tickets: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("stmt: SELECT TOP (@P1)") && l.contains("[Tickets]"))
        .collect();
    assert!(!tickets.is_empty());
    assert!(
        tickets[0].contains("WHERE [WOID] > @P2"),
        "first page after resume: {}",
        tickets[0]
    );
    assert!(!out.join("extract-state.json").exists());
    let (code, _, _) = extract(&["verify", out.to_str().unwrap()]);
    assert_eq!(code, 0);
}

#[test]
fn wrong_password_and_unreachable_server_give_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let server = Server::start(&db, &[]);
    let out = dir.path().join("x");
    let conn = server.conn();
    let (code, _, stderr) = extract_env(
        &[
            "run",
            "--connection-string",
            &conn,
            "--out",
            out.to_str().unwrap(),
        ],
        &[("TRACKIT_SQL_PASSWORD", "S3cret-wrong")],
    );
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert!(
        line.contains("127.0.0.1") && line.contains("TRACKIT_DATA") && line.contains("sa"),
        "{line}"
    );
    assert!(
        !stderr.contains("S3cret-wrong"),
        "the password leaked: {stderr}"
    );
    drop(server);

    // A port nobody listens on (the server above is gone).
    let (code, _, stderr) = extract(&[
        "discover",
        "--connection-string",
        &conn,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot connect to SQL Server 127.0.0.1"),
        "{stderr}"
    );

    // A password in the connection string is refused (exit 2) without echoing it.
    let (code, _, stderr) = extract(&[
        "run",
        "--connection-string",
        "server=tcp:127.0.0.1,1;user=sa;password=Hunter2",
        "--out",
        "x",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("Hunter2"));
}

#[test]
fn throttle_counts_every_row_and_progress_is_plain_log_lines() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let cfg = dir.path().join("throttled.toml");
    std::fs::write(
        &cfg,
        "[extract]\npage_rows = 50\nrow_group_rows = 200\nmax_rows_per_second = 20000\n",
    )
    .unwrap();
    let server = Server::start(&db, &[]);
    let out = dir.path().join("throttled");
    let (code, stdout, stderr) = run(&server, &cfg, &out, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");

    // The throttle's own counters: every row read went through it (2,000 keyset + 300 scanned), and it never
    // decided more pause than the ceiling requires (rows / max seconds in all). No wall-clock assertion.
    let line = stderr
        .lines()
        .find(|l| l.contains("max_rows_per_second 20000:"))
        .unwrap_or_else(|| panic!("no throttle line in {stderr}"));
    let after = line.split("max_rows_per_second 20000: ").nth(1).unwrap();
    let words: Vec<&str> = after.split_whitespace().collect();
    assert_eq!(words[0], "2300", "{line}");
    let paused: f64 = words[5].parse().unwrap();
    assert!(paused <= 2300.0 / 20000.0 + 1e-3, "{line}");

    // stderr is a pipe: plain progress lines per part and per table, no bar redraws, no colours.
    assert!(
        stderr.contains("dbo.Tickets: 200/2000 rows"),
        "per-part line expected: {stderr}"
    );
    assert!(
        stderr.contains("dbo.Tickets: done, 2000 rows"),
        "per-table line expected: {stderr}"
    );
    assert!(stderr.contains("dbo.Log: done, 300 rows"), "{stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
}
