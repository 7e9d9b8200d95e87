//! Bad-input checks of a newcomer (session 3): a token revoked in the middle of `ti-load run`, `--journal` naming
//! a directory or a file that is not a journal, and an unreachable `base_url` (no journal left behind). A fresh
//! journal with another migration tag: tests/fresh_journal.rs.

mod common;
use common::*;
use serde_json::json;
use std::path::Path;
use ti_load::journal::Journal;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_token_revoked_during_the_run_stops_it_and_the_journal_stays_clean() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    let bundle = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let b = bundle.to_str().unwrap();
    let cfg = write_config(tmp.path(), &base, "");
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    // One worker, so requests are sequential and the count is exact: the migration tag, then 23 steps (4
    // attributes, the company and its tag, 4 contacts with their tags, the company link, the first conversation's
    // 8 steps); the 25th state-changing request (the second conversation's create) gets 401.
    const N: usize = 24;
    http(
        &base,
        "POST",
        "/_sim/faults",
        Some(&json!([format!("revoke-token-after={N}")])),
    );
    let mut args = run_args(b, js);
    args.extend(["--workers", "1"]);
    let first = ti_load(&cfg, &args, &[]);
    assert_eq!(first.status.code(), Some(2), "{}", show(&first));
    let err = stderr(&first);
    assert!(
        err.contains("error: run stopped: Intercom refused the token (")
            && err.contains("HTTP 401")
            && err.contains(
                "fix [intercom] token_env (INTERCOM_TOKEN) and run again: the journal is intact"
            ),
        "{}",
        show(&first)
    );
    assert!(
        !err.contains("  failed ")
            && !err.contains("record failed")
            && !err.contains("401 warning"),
        "a record was reported failed: {err}"
    );
    assert!(
        err.contains("(POST /conversations: HTTP 401 unauthorized: Access Token Invalid)"),
        "{err}"
    );
    let state = sim_state(&base);
    let statuses: Vec<i64> = state["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["path"].as_str().unwrap().starts_with("/_sim/"))
        .map(|r| r["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses.len(), N + 1, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.last(),
        Some(&401),
        "nothing is sent after the first 401"
    );
    {
        let journal = Journal::open(&j).unwrap();
        let done: Vec<String> = journal
            .steps_in_state("done")
            .unwrap()
            .iter()
            .map(|s| format!("{} {} {:?}", s.key, s.step, s.outcome))
            .collect();
        // Every done step but the five `lookup`s (reads before creating a company or attribute) is one of the
        // N - 1 state-changing requests after the tag.
        let changing = done.iter().filter(|s| !s.contains(" lookup ")).count();
        assert_eq!((changing, done.len()), (N - 1, N - 1 + 5), "{done:#?}");
        assert!(
            done.iter()
                .any(|s| s.starts_with("conversation:ticket:0 tag "))
                && !done.iter().any(|s| s.starts_with("conversation:ticket:1 ")),
            "{done:#?}"
        );
        assert_eq!(journal.steps_in_state("failed").unwrap().len(), 0);
        assert_eq!(journal.steps_in_state("intent").unwrap().len(), 0);
        let records = journal.records().unwrap();
        assert!(
            records.iter().all(|r| r.status == "done"),
            "{:?}",
            records
                .iter()
                .map(|r| (&r.key, &r.status))
                .collect::<Vec<_>>()
        );
    }

    // The token is good again: the run finishes, the audit is clean, nothing was created twice.
    http(&base, "POST", "/_sim/faults", Some(&json!([])));
    let second = ti_load(&cfg, &run_args(b, js), &[]);
    assert!(second.status.success(), "{}", show(&second));
    let audit = ti_load(&cfg, &["audit", b, "--journal", js], &[]);
    assert!(audit.status.success(), "{}", show(&audit));
    assert!(
        String::from_utf8_lossy(&audit.stdout).contains(" 0 difference(s)"),
        "{}",
        show(&audit)
    );
    let end = sim_state(&base);
    assert_eq!(
        (
            live(&end, "conversations").len(),
            live(&end, "contacts").len(),
            live(&end, "companies").len()
        ),
        (6, 4, 1)
    );
}

#[test]
fn a_journal_path_that_is_not_a_journal_is_the_operators_to_fix() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    let bundle = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let b = bundle.to_str().unwrap();
    let cfg = write_config(tmp.path(), &base, "");
    let garbage = tmp.path().join("notes.txt");
    std::fs::write(&garbage, b"these are my notes, not a journal\n").unwrap();
    let g = garbage.to_str().unwrap();
    let other_db = tmp.path().join("other.sqlite");
    rusqlite::Connection::open(&other_db)
        .unwrap()
        .execute_batch("CREATE TABLE invoices(id INTEGER)")
        .unwrap();
    let o = other_db.to_str().unwrap();
    let dir = tmp.path().join("state");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();

    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            run_args(b, g),
            format!(
                "error: --journal {g}: is not a ti-load journal (not an SQLite file); expected an existing journal, or a path where a new one is created"
            ),
        ),
        (
            vec!["status", "--journal", g],
            format!("error: --journal {g}: is not a ti-load journal (not an SQLite file)"),
        ),
        (
            vec!["rollback", "--journal", g],
            format!("error: --journal {g}: is not a ti-load journal (not an SQLite file)"),
        ),
        (
            vec!["audit", b, "--journal", g],
            format!("error: --journal {g}: is not a ti-load journal (not an SQLite file)"),
        ),
        (
            run_args(b, d),
            format!(
                "error: --journal {d}: is a directory; expected the journal's SQLite file, e.g. {}",
                dir.join("journal.sqlite").display()
            ),
        ),
        (
            vec!["status", "--journal", d],
            format!("error: --journal {d}: is a directory"),
        ),
        (
            run_args(b, o),
            format!(
                "error: --journal {o}: is an SQLite database of something else (tables invoices); expected a ti-load journal"
            ),
        ),
    ];
    for (args, want) in cases {
        let out = ti_load(&cfg, &args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert!(
            stderr(&out).contains(&want),
            "{args:?}: want {want:?}\n{}",
            show(&out)
        );
    }
    assert_eq!(
        std::fs::read(&garbage).unwrap(),
        b"these are my notes, not a journal\n"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let sent = sim_state(&base)["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["path"].as_str().unwrap().starts_with("/_sim/"))
        .count();
    assert_eq!(sent, 0, "nothing may change in the workspace");
}

fn journal_files(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    files_under(dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn an_unreachable_api_leaves_no_journal_behind() {
    let tmp = testkit_harness::TempDir::new();
    let bundle = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let b = bundle.to_str().unwrap();
    // Port 1 on loopback: nothing listens there (connection refused at once).
    let cfg = write_config(tmp.path(), "http://127.0.0.1:1", "");
    let out_dir = tmp.path().join("out");
    let j = out_dir.join("journal.sqlite");
    let js = j.to_str().unwrap();
    let run = ti_load(&cfg, &run_args(b, js), &[]);
    assert_eq!(run.status.code(), Some(1), "{}", show(&run));
    assert!(
        stderr(&run).contains("cannot connect to http://127.0.0.1:1"),
        "{}",
        show(&run)
    );
    assert!(
        !out_dir.exists(),
        "left behind: {:?}",
        journal_files(&out_dir)
    );
    // The same with a dry run, and with the folder already there.
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut args = run_args(b, js);
    args.push("--dry-run");
    let dry = ti_load(&cfg, &args, &[]);
    assert_eq!(dry.status.code(), Some(1), "{}", show(&dry));
    assert_eq!(journal_files(&out_dir), Vec::<String>::new());
}

#[test]
fn with_four_workers_every_401_in_flight_is_stopped_not_failed() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    let bundle = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let b = bundle.to_str().unwrap();
    let cfg = write_config(tmp.path(), &base, "");
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    // Revoked in the middle of the conversations, which 4 workers load in parallel.
    http(
        &base,
        "POST",
        "/_sim/faults",
        Some(&json!(["revoke-token-after=40"])),
    );
    let first = ti_load(&cfg, &run_args(b, js), &[]);
    assert_eq!(first.status.code(), Some(2), "{}", show(&first));
    assert!(
        stderr(&first).contains("error: run stopped: Intercom refused the token ("),
        "{}",
        show(&first)
    );
    {
        let journal = Journal::open(&j).unwrap();
        assert_eq!(journal.steps_in_state("failed").unwrap().len(), 0);
        assert_eq!(journal.steps_in_state("intent").unwrap().len(), 0);
        let failed: Vec<(String, String, Option<String>)> = journal
            .records()
            .unwrap()
            .into_iter()
            .filter(|r| r.status == "failed" || r.error.is_some())
            .map(|r| (r.key, r.status, r.error))
            .collect();
        // Conversations the workers had started stay `pending` (their create is done), none is failed.
        assert_eq!(failed, vec![], "{}", show(&first));
    }
    http(&base, "POST", "/_sim/faults", Some(&json!([])));
    let second = ti_load(&cfg, &run_args(b, js), &[]);
    assert!(second.status.success(), "{}", show(&second));
    let audit = ti_load(&cfg, &["audit", b, "--journal", js], &[]);
    assert!(audit.status.success(), "{}", show(&audit));
    assert_eq!(live(&sim_state(&base), "conversations").len(), 6);
}
