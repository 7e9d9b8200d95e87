//! A pre-existing contact is matched, not duplicated; a delta bundle appends parts, updates changed records and
//! leaves unchanged ones alone; a bundle of another migration is refused; rollback restores the workspace.

mod common;
use common::*;
use serde_json::{Value, json};

fn requests(state: &Value) -> Vec<(String, String)> {
    state["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn existing_contact_delta_audit_and_rollback() {
    let tmp = testkit_harness::TempDir::new();
    let sim = start_sim(tmp.path(), &[]);
    let base = sim.addr.clone();
    // The customer's workspace already holds the attribute and a contact with the same email.
    http(
        &base,
        "POST",
        "/data_attributes",
        Some(&json!({"name": "ti_customer_id", "model": "contact", "data_type": "string"})),
    );
    let boss = http(
        &base,
        "POST",
        "/contacts",
        Some(
            &json!({"role": "user", "email": "boss@customer.example", "name": "The Boss", "custom_attributes": {"ti_customer_id": "ORIGINAL"}}),
        ),
    );
    let boss_id = boss["id"].as_str().unwrap().to_string();

    let v1 = Shape {
        existing_email: Some("boss@customer.example".into()),
        ..Shape::default()
    };
    let b1 = build_bundle(&tmp.path().join("b1"), &v1);
    let cfg = write_config(tmp.path(), &base, "");
    let out = tmp.path().join("out");
    let j = out.join("journal.sqlite");
    let js = j.to_str().unwrap();
    let run = ti_load(&cfg, &run_args(b1.to_str().unwrap(), js), &[]);
    assert!(run.status.success(), "{}", show(&run));
    assert!(
        String::from_utf8_lossy(&run.stdout)
            .contains("phase contacts: expected 5, created 4, matched existing 1"),
        "{}",
        show(&run)
    );
    let s1 = sim_state(&base);
    let contacts: Vec<&Value> = s1["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["deleted"].as_bool().unwrap())
        .collect();
    assert_eq!(contacts.len(), 4, "the existing contact was duplicated");
    let boss_now = contacts
        .iter()
        .find(|c| c["id"] == boss_id.as_str())
        .unwrap();
    assert_eq!(boss_now["custom_attributes"]["ti_customer_id"], "C0");
    assert_eq!(boss_now["name"], "The Boss");
    let conv_of_boss = s1["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["source"]["author"]["id"] == boss_id.as_str())
        .count();
    assert_eq!(conv_of_boss, 2);

    // Delta: one more ticket, one more part on every ticket, renamed contacts, the article gone.
    let v2 = Shape {
        tickets: 7,
        extra_parts: 1,
        name_suffix: "-v2".into(),
        no_article: true,
        ..v1.clone()
    };
    let b2 = build_bundle(&tmp.path().join("b2"), &v2);
    let before = requests(&s1).len();
    let delta = ti_load(&cfg, &run_args(b2.to_str().unwrap(), js), &[]);
    assert!(delta.status.success(), "{}", show(&delta));
    let s2 = sim_state(&base);
    let sent = &requests(&s2)[before..];
    assert!(
        !sent.iter().any(|(m, p)| m == "POST" && p == "/companies"),
        "unchanged company touched: {sent:?}"
    );
    assert!(
        !sent
            .iter()
            .any(|(m, p)| m == "POST" && p.starts_with("/help_center")),
        "unchanged collections touched"
    );
    assert_eq!(
        sent.iter()
            .filter(|(m, p)| m == "POST" && p == "/conversations")
            .count(),
        1,
        "{sent:?}"
    );
    let n2 = normalise(&s2);
    assert_eq!(n2["conversations"].as_array().unwrap().len(), 7);
    for c in n2["conversations"].as_array().unwrap() {
        let replies: Vec<&Value> = c["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == "note" || p["type"] == "comment")
            .collect();
        assert_eq!(replies.len(), 4, "{c}");
        assert!(
            replies[3]["body"]
                .as_str()
                .unwrap()
                .starts_with("<p>Follow-up 0"),
            "{c}"
        );
    }
    let renamed = n2["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "ti-person-1")
        .unwrap();
    assert_eq!(renamed["name"], "Person 1-v2");
    assert_eq!(renamed["custom"]["ti_customer_id"], "C1-v2");
    assert_eq!(
        n2["articles"], 1,
        "a record that disappeared from the source must not be deleted"
    );
    let gone = std::fs::read_to_string(out.join("disappeared.csv")).unwrap();
    assert!(gone.contains("article:1"), "{gone}");
    assert_eq!(n2["notifications"], 0);

    let audit = ti_load(&cfg, &["audit", b2.to_str().unwrap(), "--journal", js], &[]);
    assert!(audit.status.success(), "{}", show(&audit));

    // Another migration's bundle is refused.
    let other = build_bundle(
        &tmp.path().join("b3"),
        &Shape {
            migration_id: "another".into(),
            ..Shape::default()
        },
    );
    let refused = ti_load(&cfg, &run_args(other.to_str().unwrap(), js), &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", show(&refused));

    // Rollback: what we created goes, what existed is restored, notes are listed.
    let dry = ti_load(&cfg, &["rollback", "--journal", js], &[]);
    assert!(dry.status.success(), "{}", show(&dry));
    assert_eq!(
        sim_state(&base)["requests"].as_array().unwrap().len(),
        requests(&s2).len()
    );
    let rb = ti_load(&cfg, &["rollback", "--journal", js, "--yes"], &[]);
    assert!(rb.status.success(), "{}", show(&rb));
    let report = std::fs::read_to_string(out.join("rollback/rollback-report.txt")).unwrap();
    assert!(report.contains("notes cannot be deleted"), "{report}");
    let s3 = sim_state(&base);
    let live = |k: &str| {
        s3[k]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| !x["deleted"].as_bool().unwrap_or(false))
            .cloned()
            .collect::<Vec<_>>()
    };
    let contacts = live("contacts");
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0]["id"], boss_id.as_str());
    assert_eq!(
        contacts[0]["custom_attributes"]["ti_customer_id"],
        "ORIGINAL"
    );
    assert!(live("conversations").is_empty());
    assert!(live("companies").is_empty());
    assert!(live("collections").is_empty());
    assert!(live("articles").is_empty());
    let attrs = s3["data_attributes"].as_array().unwrap();
    assert_eq!(
        attrs
            .iter()
            .find(|a| a["name"] == "ti_customer_id")
            .unwrap()["archived"],
        false,
        "a pre-existing attribute was archived"
    );
    assert_eq!(
        attrs
            .iter()
            .find(|a| a["name"] == "ti_company_code")
            .unwrap()["archived"],
        true
    );
    assert!(
        s3["conversation_attributes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["archived"] == true)
    );
    // A second rollback has nothing left to do.
    let again = ti_load(&cfg, &["rollback", "--journal", js, "--yes"], &[]);
    assert!(again.status.success(), "{}", show(&again));
}

/// The normalised state with each conversation's parts split into its replies (notes and comments, in order,
/// with timestamps, authors, bodies and attachments) and its state changes (assignment, close, open: a list
/// sorted by content). Intercom stamps state changes with their arrival time and a delta can only append, so
/// where they sit among the replies differs between a delta and a fresh load; what they are must not.
fn replies_and_events(state: &Value) -> Value {
    let mut n = normalise(state);
    for c in n["conversations"].as_array_mut().unwrap() {
        let parts = c["parts"].as_array().unwrap().clone();
        let (replies, mut events): (Vec<Value>, Vec<Value>) = parts
            .into_iter()
            .partition(|p| p["type"] == "note" || p["type"] == "comment");
        events.sort_by_key(|e| e.to_string());
        c["parts"] = Value::Array(replies);
        c["events"] = Value::Array(events);
    }
    n
}

fn conversation_of(n: &Value, ticket: i64) -> Value {
    n["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["created_at"] == BASE_TIME + ticket * 1000)
        .unwrap()
        .clone()
}

fn count_type(c: &Value, t: &str) -> usize {
    c["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == t)
        .count()
}

#[test]
fn a_delta_ends_equal_to_a_fresh_load_of_the_newer_bundle() {
    let tmp = testkit_harness::TempDir::new();
    let v1 = Shape::default();
    // Newer: one more ticket, two more parts on every ticket (closed ones included), renamed contacts.
    let v2 = Shape {
        tickets: 7,
        extra_parts: 2,
        name_suffix: "-v2".into(),
        ..v1.clone()
    };
    let b1 = build_bundle(&tmp.path().join("b1"), &v1);
    let b2 = build_bundle(&tmp.path().join("b2"), &v2);
    let b2s = b2.to_str().unwrap();

    // Fresh load of the newer bundle.
    std::fs::create_dir_all(tmp.path().join("fresh")).unwrap();
    let fresh_sim = start_sim(&tmp.path().join("fresh"), &[]);
    let fresh_cfg = write_config(&tmp.path().join("fresh"), &fresh_sim.addr, "");
    let fj = tmp.path().join("fresh/out/journal.sqlite");
    let fresh = ti_load(&fresh_cfg, &run_args(b2s, fj.to_str().unwrap()), &[]);
    assert!(fresh.status.success(), "{}", show(&fresh));
    let expected = replies_and_events(&sim_state(&fresh_sim.addr));

    // The older bundle, then the newer one as a delta.
    std::fs::create_dir_all(tmp.path().join("delta")).unwrap();
    let sim = start_sim(&tmp.path().join("delta"), &[]);
    let cfg = write_config(&tmp.path().join("delta"), &sim.addr, "");
    let j = tmp.path().join("delta/out/journal.sqlite");
    let js = j.to_str().unwrap();
    let first = ti_load(&cfg, &run_args(b1.to_str().unwrap(), js), &[]);
    assert!(first.status.success(), "{}", show(&first));
    let delta = ti_load(&cfg, &run_args(b2s, js), &[]);
    assert!(delta.status.success(), "{}", show(&delta));
    let got = replies_and_events(&sim_state(&sim.addr));
    assert_same(&got, &expected, "delta vs a fresh load of the newer bundle");
    for c in got["conversations"].as_array().unwrap() {
        let closes = count_type(c, "close");
        assert_eq!(closes, usize::from(c["state"] == "closed"), "{c}");
        assert_eq!(count_type(c, "open"), 0, "re-opened without need: {c}");
    }
    let audit = ti_load(&cfg, &["audit", b2s, "--journal", js], &[]);
    assert!(audit.status.success(), "{}", show(&audit));

    // Newest: ticket 0 re-opened in Track-It!, ticket 2 (closed) gets a reply from its contact, which re-opens
    // it in Intercom: ticket 0 is opened once, ticket 2 closed once more, every other closed ticket left alone.
    let v3 = Shape {
        reopened: Some(0),
        user_reply_on: Some(2),
        ..v2.clone()
    };
    let b3 = build_bundle(&tmp.path().join("b3"), &v3);
    let newest = ti_load(&cfg, &run_args(b3.to_str().unwrap(), js), &[]);
    assert!(newest.status.success(), "{}", show(&newest));
    let n3 = replies_and_events(&sim_state(&sim.addr));
    let t0 = conversation_of(&n3, 0);
    assert_eq!(t0["state"], "open", "{t0}");
    assert_eq!(
        (count_type(&t0, "close"), count_type(&t0, "open")),
        (1, 1),
        "{t0}"
    );
    let t2 = conversation_of(&n3, 2);
    assert_eq!(t2["state"], "closed", "{t2}");
    assert_eq!(count_type(&t2, "close"), 2, "{t2}");
    assert_eq!(
        t2["parts"].as_array().unwrap().last().unwrap()["body"],
        "Still broken: 2"
    );
    let t4 = conversation_of(&n3, 4);
    assert_eq!(
        (count_type(&t4, "close"), count_type(&t4, "open")),
        (1, 0),
        "{t4}"
    );
    assert_eq!(n3["notifications"], 0);
    let audit = ti_load(&cfg, &["audit", b3.to_str().unwrap(), "--journal", js], &[]);
    assert!(audit.status.success(), "{}", show(&audit));
}
