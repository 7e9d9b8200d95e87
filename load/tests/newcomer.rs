//! Bad-input checks a newcomer ran (issue 8 follow-up): a fresh journal against an already loaded workspace,
//! crossref after a smaller delta, rollback against a bad token, audit of another migration's bundle, and
//! load bundles whose record files disagree with the transform report.

mod common;
use common::*;

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
}

#[test]
fn fresh_journal_against_loaded_workspace_is_refused() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    let b1 = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let cfg = write_config(tmp.path(), &base, "");
    let j1 = tmp.path().join("out1/journal.sqlite");
    let run = ti_load(
        &cfg,
        &run_args(b1.to_str().unwrap(), j1.to_str().unwrap()),
        &[],
    );
    assert!(run.status.success(), "{}", show(&run));
    let before = sim_state(&base);
    // A second run with a new journal: refused before anything is created, even within the search lag.
    let j2 = tmp.path().join("out2/journal.sqlite");
    let again = ti_load(
        &cfg,
        &run_args(b1.to_str().unwrap(), j2.to_str().unwrap()),
        &[],
    );
    assert_eq!(code(&again), Some(2), "{}", show(&again));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("already holds 6 conversation(s)") && err.contains(TAG),
        "{}",
        show(&again)
    );
    // Refused again on a retry with the same (bound but unused) journal.
    let again = ti_load(
        &cfg,
        &run_args(b1.to_str().unwrap(), j2.to_str().unwrap()),
        &[],
    );
    assert_eq!(code(&again), Some(2), "{}", show(&again));
    let after = sim_state(&base);
    assert_same(
        &normalise(&after),
        &normalise(&before),
        "workspace after refusals",
    );
    // The original journal still resumes (nothing to do).
    let resume = ti_load(
        &cfg,
        &run_args(b1.to_str().unwrap(), j1.to_str().unwrap()),
        &[],
    );
    assert!(resume.status.success(), "{}", show(&resume));
}

#[test]
fn smaller_delta_keeps_every_conversation_in_crossref() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    let b1 = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let small = Shape {
        tickets: 2,
        extra_parts: 1,
        ..Shape::default()
    };
    let b2 = build_bundle(&tmp.path().join("b2"), &small);
    let cfg = write_config(tmp.path(), &base, "");
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    let first = ti_load(&cfg, &run_args(b1.to_str().unwrap(), js), &[]);
    assert!(first.status.success(), "{}", show(&first));
    let crossref = tmp.path().join("out/crossref.csv");
    let before = std::fs::read_to_string(&crossref).unwrap();
    assert_eq!(before.lines().count(), 7, "{before}");
    let delta = ti_load(&cfg, &run_args(b2.to_str().unwrap(), js), &[]);
    assert!(delta.status.success(), "{}", show(&delta));
    let after = std::fs::read_to_string(&crossref).unwrap();
    assert_eq!(after, before, "a smaller delta changed crossref.csv");
    for t in 0..6 {
        assert!(
            after.contains(&format!("conversation:ticket:{t},")),
            "{after}"
        );
    }
}

#[test]
fn rollback_checks_the_api_first_and_keeps_the_journal() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    let b1 = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let cfg = write_config(tmp.path(), &base, "");
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    let run = ti_load(&cfg, &run_args(b1.to_str().unwrap(), js), &[]);
    assert!(run.status.success(), "{}", show(&run));
    let before = sim_state(&base);
    let requests_before = before["requests"].as_array().unwrap().len();

    // A bad token: refused once by GET /me (exit 2), nothing else is tried.
    let bad = ti_load(
        &cfg,
        &["rollback", "--journal", js, "--yes"],
        &[("INTERCOM_TOKEN", "not-the-token")],
    );
    assert_eq!(code(&bad), Some(2), "{}", show(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("refused the token"),
        "{}",
        show(&bad)
    );
    let after = sim_state(&base);
    let sent: Vec<String> = after["requests"].as_array().unwrap()[requests_before..]
        .iter()
        .map(|r| format!("{} {}", r["method"], r["path"]))
        .filter(|r| !r.contains("/_sim/"))
        .collect();
    assert!(sent.len() <= 1, "{sent:?}");

    // Unreachable: a port nobody listens on (taken from the OS, then released): exit 1 naming the address.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    let down = ti_load(
        &cfg,
        &["--base-url", &dead, "rollback", "--journal", js, "--yes"],
        &[],
    );
    assert_eq!(code(&down), Some(1), "{}", show(&down));
    let err = String::from_utf8_lossy(&down.stderr);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("nothing was rolled back"),
        "{}",
        show(&down)
    );

    // The journal is intact: the real rollback still undoes everything.
    let ok = ti_load(&cfg, &["rollback", "--journal", js, "--yes"], &[]);
    assert!(ok.status.success(), "{}", show(&ok));
    let end = sim_state(&base);
    assert!(
        end["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["deleted"].as_bool().unwrap_or(false)),
        "conversations left after rollback"
    );
}

#[test]
fn audit_refuses_a_bundle_of_another_migration() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    let b1 = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let other = build_bundle(
        &tmp.path().join("other"),
        &Shape {
            migration_id: "m-other".into(),
            ..Shape::default()
        },
    );
    let cfg = write_config(tmp.path(), &base, "");
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    let run = ti_load(&cfg, &run_args(b1.to_str().unwrap(), js), &[]);
    assert!(run.status.success(), "{}", show(&run));
    let audit = ti_load(
        &cfg,
        &["audit", other.to_str().unwrap(), "--journal", js],
        &[],
    );
    assert_eq!(code(&audit), Some(2), "{}", show(&audit));
    assert!(
        String::from_utf8_lossy(&audit.stderr).contains("m-other"),
        "{}",
        show(&audit)
    );
    assert!(!tmp.path().join("out/audit").exists(), "audit wrote files");
    let good = ti_load(&cfg, &["audit", b1.to_str().unwrap(), "--journal", js], &[]);
    assert!(good.status.success(), "{}", show(&good));
}

#[test]
fn record_counts_must_match_the_transform_report_and_workers_at_least_one() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let cfg = write_config(tmp.path(), &sim.addr, "");
    let good = build_bundle(
        &tmp.path().join("good"),
        &Shape {
            report_records: Some(0),
            ..Shape::default()
        },
    );
    let plan = ti_load(&cfg, &["plan", good.to_str().unwrap()], &[]);
    assert!(plan.status.success(), "{}", show(&plan));
    // One conversation fewer in the file than the report counts (a record file emptied or cut, re-sealed).
    let bad = build_bundle(
        &tmp.path().join("bad"),
        &Shape {
            report_records: Some(1),
            ..Shape::default()
        },
    );
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    let run = ti_load(&cfg, &run_args(bad.to_str().unwrap(), js), &[]);
    assert_eq!(code(&run), Some(3), "{}", show(&run));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("records/06-conversation.ndjson holds 6 record(s)")
            && err.contains("counts 7"),
        "{}",
        show(&run)
    );
    let plan = ti_load(&cfg, &["plan", bad.to_str().unwrap()], &[]);
    assert_eq!(code(&plan), Some(3), "{}", show(&plan));
    let state = sim_state(&sim.addr);
    assert!(
        state["contacts"].as_array().unwrap().is_empty(),
        "something was created"
    );
    let mut args = run_args(good.to_str().unwrap(), js);
    args.extend(["--workers", "0"]);
    let zero = ti_load(&cfg, &args, &[]);
    assert_eq!(code(&zero), Some(2), "{}", show(&zero));
}
