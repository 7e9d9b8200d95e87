//! Bad-input checks a newcomer ran (issue 8 follow-up): crossref after a smaller delta, rollback against a bad
//! token (before it starts and in its middle), audit of another migration's bundle, and load bundles whose
//! record files disagree with the transform report or that lack it. (A fresh journal against an already loaded
//! workspace: tests/fresh_journal.rs.)

mod common;
use common::*;
use serde_json::json;
use ti_load::journal::Journal;

fn code(o: &std::process::Output) -> Option<i32> {
    o.status.code()
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
    let Loaded {
        sim: _sim,
        base,
        cfg,
        journal,
        ..
    } = loaded(tmp.path());
    let js = journal.as_str();
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
    let Loaded {
        sim: _sim,
        cfg,
        bundle,
        journal,
        ..
    } = loaded(tmp.path());
    let js = journal.as_str();
    let other = build_bundle(
        &tmp.path().join("other"),
        &Shape {
            migration_id: "m-other".into(),
            ..Shape::default()
        },
    );
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
    let good = ti_load(&cfg, &["audit", &bundle, "--journal", js], &[]);
    assert!(good.status.success(), "{}", show(&good));
}

#[test]
fn record_counts_must_match_the_transform_report_and_workers_at_least_one() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let cfg = write_config(tmp.path(), &sim.addr, "");
    let good = build_bundle(&tmp.path().join("good"), &Shape::default());
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

#[test]
fn a_bundle_without_the_transform_report_or_its_counts_is_refused() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let cfg = write_config(tmp.path(), &sim.addr, "");
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    // ti-transform always writes report/report.json with `records` (DESIGN.md §4, §7; docs/transform.md): a
    // load bundle without it is refused by plan, run and audit alike, before anything is sent.
    let cases = [
        (
            "no-report",
            Shape {
                no_report: true,
                ..Shape::default()
            },
            "report/report.json is missing from the bundle",
        ),
        (
            "no-records",
            Shape {
                report_records: None,
                ..Shape::default()
            },
            "report/report.json has no `records` map",
        ),
    ];
    let bundles: Vec<_> = cases
        .iter()
        .map(|(name, shape, words)| {
            let b = build_bundle(&tmp.path().join(name), shape);
            (*name, b.to_str().unwrap().to_string(), *words)
        })
        .collect();
    let refused = |args: &[&str], name: &str, words: &str| {
        let out = ti_load(&cfg, args, &[]);
        assert_eq!(code(&out), Some(3), "{name} {args:?}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(words),
            "{name} {args:?}: {}",
            show(&out)
        );
    };
    for (name, b, words) in &bundles {
        refused(&["plan", b], name, words);
        refused(&run_args(b, js), name, words);
    }
    let state = sim_state(&sim.addr);
    assert!(
        state["requests"].as_array().unwrap().is_empty(),
        "something was sent: {}",
        state["requests"]
    );
    // Audit needs a journal that loaded a bundle: load the whole one, then audit the altered ones.
    let good = build_bundle(&tmp.path().join("good"), &Shape::default());
    let run = ti_load(&cfg, &run_args(good.to_str().unwrap(), js), &[]);
    assert!(run.status.success(), "{}", show(&run));
    for (name, b, words) in &bundles {
        refused(&["audit", b, "--journal", js], name, words);
    }
    assert!(!tmp.path().join("out/audit").exists(), "audit wrote files");
}

#[test]
fn a_token_revoked_in_the_middle_of_a_rollback_stops_it_and_the_rest_is_undone_later() {
    let tmp = testkit_harness::TempDir::new();
    let Loaded {
        sim: _sim,
        base,
        cfg,
        journal,
        ..
    } = loaded(tmp.path());
    let js = journal.as_str();
    let sent_before = sim_state(&base)["requests"].as_array().unwrap().len();
    let rolled_back = || {
        let journal = Journal::open(std::path::Path::new(js)).unwrap();
        let mut n = std::collections::BTreeMap::<String, u64>::new();
        for r in journal.records().unwrap() {
            if r.status == "rolled_back" {
                *n.entry(r.kind).or_default() += 1;
            }
        }
        n
    };
    assert!(rolled_back().is_empty());

    // The token is revoked after 5 successful changes: GET /me passes, then the article, both collections and
    // two conversations are deleted (reverse dependency order; notes are only listed), the 6th request gets 401.
    http(
        &base,
        "POST",
        "/_sim/faults",
        Some(&json!(["revoke-token-after=5"])),
    );
    let first = ti_load(&cfg, &["rollback", "--journal", js, "--yes"], &[]);
    assert_eq!(code(&first), Some(2), "{}", show(&first));
    assert!(
        String::from_utf8_lossy(&first.stderr)
            .contains("error: rollback stopped: Intercom refused the token"),
        "{}",
        show(&first)
    );
    let state = sim_state(&base);
    let sent: Vec<(String, String, i64, String)> = state["requests"].as_array().unwrap()
        [sent_before..]
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"]
                    .as_str()
                    .unwrap()
                    .split('/')
                    .nth(1)
                    .unwrap()
                    .to_string(),
                r["status"].as_i64().unwrap(),
                r["fault"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let d = |what: &str, status: i64, fault: &str| {
        (
            "DELETE".to_string(),
            what.to_string(),
            status,
            fault.to_string(),
        )
    };
    assert_eq!(
        sent,
        vec![
            d("articles", 200, ""),
            d("help_center", 200, ""),
            d("help_center", 200, ""),
            d("conversations", 200, ""),
            d("conversations", 200, ""),
            d("conversations", 401, "revoke-token-after"),
        ]
    );
    let want = |pairs: &[(&str, u64)]| {
        pairs
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    assert_eq!(
        rolled_back(),
        want(&[("article", 1), ("collection", 2), ("conversation", 2)])
    );
    let count = |kind: &str| live(&state, kind).len();
    assert_eq!(
        (
            count("articles"),
            count("collections"),
            count("conversations")
        ),
        (0, 0, 4)
    );
    let report =
        std::fs::read_to_string(tmp.path().join("out/rollback/rollback-report.txt")).unwrap();
    assert_eq!(report.matches("  FAILED: ").count(), 1, "{report}");

    // The token is good again: a second rollback undoes only the rest.
    http(&base, "POST", "/_sim/faults", Some(&json!([])));
    let second = ti_load(&cfg, &["rollback", "--journal", js, "--yes"], &[]);
    assert!(second.status.success(), "{}", show(&second));
    let end = sim_state(&base);
    let again: Vec<&serde_json::Value> = end["requests"].as_array().unwrap()
        [sent_before + sent.len()..]
        .iter()
        .collect();
    assert!(
        again
            .iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("/articles")
                && !r["path"].as_str().unwrap().starts_with("/help_center")),
        "undone objects were sent again: {again:?}"
    );
    assert_eq!(
        again
            .iter()
            .filter(|r| r["method"] == "DELETE"
                && r["path"].as_str().unwrap().starts_with("/conversations/")
                && !r["path"]
                    .as_str()
                    .unwrap()
                    .starts_with("/conversations/attributes"))
            .count(),
        4
    );
    assert_eq!(
        rolled_back(),
        want(&[
            ("article", 1),
            ("collection", 2),
            ("company", 1),
            ("contact", 4),
            ("contact_company", 1),
            ("conversation", 6),
            ("conversation_attribute", 2),
            ("data_attribute", 2),
        ])
    );
    let count = |kind: &str| live(&end, kind).len();
    assert_eq!(
        (
            count("conversations"),
            count("contacts"),
            count("companies")
        ),
        (0, 0, 0)
    );
}
