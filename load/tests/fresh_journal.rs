//! A fresh journal against a workspace that already holds something like ours (newcomer finding 1, issue-8
//! follow-up): conversations carrying the migration tag, or identified as the bundle's tickets whatever their tag
//! (ticket-id attribute; open time and contact external_id), are a trace of this migration and refuse the run
//! (exit 2) before anything is created; a customer's collection or article that only shares a name with one of ours is listed in a warning, left
//! alone, never claimed by a probe, and survives the rollback.

mod common;
use common::*;
use serde_json::{Value, json};
use ti_load::journal::Journal;

#[test]
fn fresh_journal_against_loaded_workspace_is_refused() {
    let tmp = testkit_harness::TempDir::new();
    let Loaded {
        sim: _sim,
        base,
        cfg,
        bundle,
        journal,
    } = loaded(tmp.path());
    let before = sim_state(&base);
    // A second run with a new journal: refused before anything is created, even within the search lag.
    let j2 = tmp.path().join("out2/journal.sqlite");
    let again = ti_load(&cfg, &run_args(&bundle, j2.to_str().unwrap()), &[]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("already holds conversations of an earlier run of this Track-It! migration")
            && err.contains(&format!(
                "6 conversation(s) carry the migration tag {TAG:?}"
            ))
            && err.contains("6 ticket(s) of this bundle already have a conversation"),
        "{}",
        show(&again)
    );
    // Refused again on a retry with the same (bound but unused) journal.
    let again = ti_load(&cfg, &run_args(&bundle, j2.to_str().unwrap()), &[]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    let after = sim_state(&base);
    assert_same(
        &normalise(&after),
        &normalise(&before),
        "workspace after refusals",
    );
    // The original journal still resumes (nothing to do).
    let resume = ti_load(&cfg, &run_args(&bundle, &journal), &[]);
    assert!(resume.status.success(), "{}", show(&resume));
}

/// The simulator's state-changing requests after the first `from` (searches and reads are not logged).
fn changes_since(state: &Value, from: usize) -> Vec<String> {
    state["requests"].as_array().unwrap()[from..]
        .iter()
        .map(|r| format!("{} {} {}", r["method"], r["path"], r["status"]))
        .filter(|r| !r.contains("/_sim/"))
        .collect()
}

fn tag_names(state: &Value) -> Vec<String> {
    let mut t: Vec<String> = state["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

#[test]
fn another_migration_tag_does_not_bypass_the_check() {
    let tmp = testkit_harness::TempDir::new();
    let Loaded {
        sim: _sim,
        base,
        bundle,
        ..
    } = loaded(tmp.path());
    let before = sim_state(&base);
    let logged = before["requests"].as_array().unwrap().len();
    // Another tag, another journal, right away (within the search lag: the newest page finds them).
    let pilot = tmp.path().join("pilot");
    std::fs::create_dir_all(&pilot).unwrap();
    let cfg2 = write_config(&pilot, &base, "migration_tag = \"TI pilot 2\"");
    let j2 = tmp.path().join("out2/journal.sqlite");
    let again = ti_load(&cfg2, &run_args(&bundle, j2.to_str().unwrap()), &[]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("already holds conversations of an earlier run of this Track-It! migration")
            && err.contains("6 ticket(s) of this bundle already have a conversation")
            && err.contains("ticket 0 → conversation ")
            && err.contains("(custom attribute ti_ticket_id = \"0\")")
            && err.contains("and 1 more")
            && err.contains("roll that run back first (ti-load rollback --journal … --yes)")
            && !err.contains("carry the migration tag"),
        "{}",
        show(&again)
    );
    let after = sim_state(&base);
    assert_same(
        &normalise(&after),
        &normalise(&before),
        "workspace after the refusal",
    );
    assert_eq!(live(&after, "conversations").len(), 6);
    assert_eq!(
        changes_since(&after, logged),
        Vec::<String>::new(),
        "the refused run changed something"
    );
    assert_eq!(
        tag_names(&after),
        vec![TAG.to_string()],
        "the refused run created its tag"
    );
}

#[test]
fn a_run_older_than_the_search_lag_and_off_the_newest_page_is_found_by_search() {
    let tmp = testkit_harness::TempDir::new();
    let Loaded {
        sim: _sim,
        base,
        bundle,
        ..
    } = loaded(tmp.path());
    // 150 newer conversations of the customer push ours off the newest page of GET /conversations.
    let customer = http(
        &base,
        "POST",
        "/contacts",
        Some(&json!({"role": "user", "email": "walk-in@customer.example"})),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..150 {
        let c = http(
            &base,
            "POST",
            "/conversations",
            Some(&json!({"from": {"type": "user", "id": customer}, "body": format!("Hello {i}")})),
        );
        assert!(
            c["conversation_id"].is_string() || c["id"].is_string(),
            "{c}"
        );
    }
    // Wait until search sees all six of ours (the simulator's search lag is 1 s).
    let times: Vec<Value> = (0..6)
        .map(|t| json!({"field": "created_at", "operator": "=", "value": BASE_TIME + t * 1000}))
        .collect();
    let query = json!({"query": {"operator": "OR", "value": times}});
    let mut polls = 0;
    while http(&base, "POST", "/conversations/search", Some(&query))["total_count"] != json!(6) {
        polls += 1;
        assert!(
            polls < 2_000,
            "the simulator's search never showed the conversation"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = sim_state(&base);
    let logged = before["requests"].as_array().unwrap().len();
    let pilot = tmp.path().join("pilot");
    std::fs::create_dir_all(&pilot).unwrap();
    let cfg2 = write_config(&pilot, &base, "migration_tag = \"TI pilot 2\"");
    let j2 = tmp.path().join("out2/journal.sqlite");
    let again = ti_load(&cfg2, &run_args(&bundle, j2.to_str().unwrap()), &[]);
    assert_eq!(again.status.code(), Some(2), "{}", show(&again));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("6 ticket(s) of this bundle already have a conversation (checked: 6 ticket(s) by search and the newest 150 conversations)"),
        "{}",
        show(&again)
    );
    let after = sim_state(&base);
    assert_same(
        &normalise(&after),
        &normalise(&before),
        "workspace after the refusal",
    );
    assert_eq!(live(&after, "conversations").len(), 156);
    assert_eq!(changes_since(&after, logged), Vec::<String>::new());
}

/// Ids of the live (not deleted) objects of `kind` in the simulator state.
fn live_ids(state: &Value, kind: &str) -> Vec<String> {
    let mut ids: Vec<String> = live(state, kind)
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_customer_collection_and_article_with_our_names_are_listed_not_refused_nor_claimed() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    // The customer's own Help Center: a top-level "Hardware" collection (as our bundle's) holding an article
    // titled like ours.
    let hw = http(
        &base,
        "POST",
        "/help_center/collections",
        Some(&json!({"name": "Hardware", "description": "Our own"})),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let art = http(
        &base,
        "POST",
        "/articles",
        Some(&json!({"title": "Clearing a paper jam", "author_id": 1001, "body": "<p>Customer text</p>",
                     "state": "published", "parent_id": hw, "parent_type": "collection"})),
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b1 = build_bundle(&tmp.path().join("b1"), &Shape::default());
    let b = b1.to_str().unwrap();
    let cfg = write_config(tmp.path(), &base, "");
    let j = tmp.path().join("out/journal.sqlite");
    let js = j.to_str().unwrap();
    // Not refused: warned about, then crashed right after our "Hardware" is created and before its journal
    // write, so the resume has to find ours by name among two top-level "Hardware" collections.
    let first = ti_load(
        &cfg,
        &run_args(b, js),
        &[
            ("TI_LOAD_CRASH_AFTER_REQUESTS", "1"),
            ("TI_LOAD_CRASH_IN_PHASE", "collections"),
        ],
    );
    let err = String::from_utf8_lossy(&first.stderr);
    assert!(err.contains("crash injected"), "{}", show(&first));
    assert!(
        err.contains(
            "warning: the workspace already holds 1 collection(s) and 1 article(s) named like the bundle's"
        ) && err.contains(&format!("\n  collection {hw} \"Hardware\"\n"))
            && err.contains(&format!("\n  article {art} \"Clearing a paper jam\"\n")),
        "{}",
        show(&first)
    );
    assert!(!err.contains("already holds 0 conversation"), "{err}");
    let resume = ti_load(&cfg, &run_args(b, js), &[]);
    assert!(resume.status.success(), "{}", show(&resume));
    assert!(
        !String::from_utf8_lossy(&resume.stderr).contains("warning: the workspace"),
        "a resume looks for no traces: {}",
        show(&resume)
    );

    let journal = Journal::open(&j).unwrap();
    let id = |key: &str| journal.record(key).unwrap().unwrap().intercom_id.unwrap();
    let (our_hw, our_printers, our_art) = (
        id("collection:Hardware"),
        id("collection:Hardware/Printers"),
        id("article:1"),
    );
    assert_ne!(our_hw, hw, "the probe claimed the customer's collection");
    assert_ne!(our_art, art);
    assert_eq!(
        journal
            .meta(ti_load::traces::PREEXISTING_META)
            .unwrap()
            .as_deref(),
        Some(format!("{hw} {art}").as_str())
    );
    let state = sim_state(&base);
    let mut want = vec![hw.clone(), our_hw.clone(), our_printers.clone()];
    want.sort();
    assert_eq!(live_ids(&state, "collections"), want);
    let mut want = vec![art.clone(), our_art.clone()];
    want.sort();
    assert_eq!(live_ids(&state, "articles"), want);
    let by_id = |kind: &str, id: &str| {
        state[kind]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        by_id("collections", &our_printers)["parent_id"],
        json!(our_hw)
    );
    assert_eq!(
        by_id("articles", &our_art)["parent_id"],
        json!(our_printers)
    );
    assert_eq!(by_id("collections", &hw)["description"], json!("Our own"));
    assert_eq!(
        by_id("articles", &art)["body"],
        json!("<p>Customer text</p>")
    );
    drop(journal);

    // The rollback deletes ours and leaves the customer's.
    let rb = ti_load(&cfg, &["rollback", "--journal", js, "--yes"], &[]);
    assert!(rb.status.success(), "{}", show(&rb));
    let state = sim_state(&base);
    assert_eq!(live_ids(&state, "collections"), vec![hw.clone()]);
    assert_eq!(live_ids(&state, "articles"), vec![art.clone()]);
}
