//! A fresh journal against a workspace that already holds something like ours (newcomer finding 1, issue-8
//! follow-up): conversations carrying the migration tag are a trace of this migration and refuse the run (exit
//! 2); a customer's collection or article that only shares a name with one of ours is listed in a warning, left
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
        err.contains("already holds 6 conversation(s) from a Track-It! migration")
            && err.contains(TAG),
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
