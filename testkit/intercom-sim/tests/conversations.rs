//! Conversations: create, replies and parts, state, attachments, notifications, attribute updates, the 500-part
//! read cap and list paging (issue 5). One test per API rule, against the spawned binary; every exchange is also
//! checked against the 2.16 OpenAPI schemas (tests/common/conformance.rs).

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{ME, Sim};
use serde_json::{Value, json};

fn file(name: &str, bytes: &[u8]) -> Value {
    json!({"name": name, "content_type": "application/octet-stream", "data": STANDARD.encode(bytes)})
}

#[tokio::test]
async fn conversation_create_reply_parts_and_state() {
    let sim = Sim::start(&[]);
    let c = sim
        .contact(json!({"email": "c@x.org", "external_id": "TI-3"}))
        .await;
    let r = sim.post("/conversations", json!({"from": {"type": "user", "id": c}, "body": "Printer <b>jam</b>", "created_at": 1_500_000_000})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["type"], "user_message");
    let conv = r.body["conversation_id"].as_str().unwrap().to_string();
    let r = sim.post(&format!("/conversations/{conv}/reply"), json!({"type": "admin", "message_type": "note", "admin_id": ME, "body": "<p>internal</p>", "created_at": 1_500_000_100})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sim.post(&format!("/conversations/{conv}/reply"), json!({
        "type": "admin", "message_type": "comment", "admin_id": ME, "body": "Fixed", "created_at": 1_500_000_200,
        "skip_notifications": true, "attachment_files": [file("log.txt", b"hello"), file("a.png", &[1, 2, 3])]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = sim.post(&format!("/conversations/{conv}/reply"), json!({"type": "user", "message_type": "comment", "user_id": "TI-3", "body": "thanks", "created_at": 1_500_000_300})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sim.post(&format!("/conversations/{conv}/parts"), json!({"message_type": "assignment", "type": "admin", "admin_id": ME, "assignee_id": ME})).await.status, 200);
    assert_eq!(
        sim.post(
            &format!("/conversations/{conv}/parts"),
            json!({"message_type": "close", "type": "admin", "admin_id": ME, "body": "done"})
        )
        .await
        .status,
        200
    );
    let got = sim.get(&format!("/conversations/{conv}")).await.body;
    assert_eq!(got["created_at"], 1_500_000_000);
    assert_eq!(got["state"], "closed");
    assert_eq!(
        got["source"]["body"], "<p>Printer &lt;b&gt;jam&lt;/b&gt;</p>",
        "create body is plain text"
    );
    assert_eq!(got["admin_assignee_id"], 9000001);
    let types: Vec<&str> = got["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["part_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["note", "comment", "comment", "assignment", "close"]);
    assert_eq!(
        sim.post(
            &format!("/conversations/{conv}/parts"),
            json!({"message_type": "open", "admin_id": ME})
        )
        .await
        .body["state"],
        "open"
    );
    let st = sim.state().await;
    let sc = &st["conversations"][0];
    assert_eq!(sc["source"]["body"], "Printer <b>jam</b>");
    assert_eq!(sc["parts"][1]["attachments"][0]["size"], 5);
    assert_eq!(
        sc["parts"][1]["attachments"][0]["blake3"],
        blake3::hash(b"hello").to_hex().to_string()
    );
    assert_eq!(sc["parts"][2]["author"], json!({"type": "user", "id": c}));
    assert_eq!(sc["parts"][2]["created_at"], 1_500_000_300);
    assert_eq!(sc["parts"][5]["part_type"], "open");
    assert!(
        st["notifications"].as_array().unwrap().is_empty(),
        "note and skip_notifications never notify"
    );
    let r = sim.delete(&format!("/conversations/{conv}")).await;
    assert_eq!(r.body["deleted"], true);
    assert_eq!(sim.get(&format!("/conversations/{conv}")).await.status, 404);
}

#[tokio::test]
async fn conversation_create_validation() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "d@x.org"})).await;
    let r = sim
        .post("/conversations", json!({"from": {"type": "user", "id": c}}))
        .await;
    assert_eq!((r.status, r.code()), (400, "parameter_not_found"));
    let r = sim.post("/conversations", json!({"body": "x"})).await;
    assert_eq!(r.status, 400);
    let r = sim
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": "000000000000000000000000"}, "body": "x"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = sim
        .post(
            "/conversations",
            json!({"from": {"type": "user", "id": c}, "body": "x", "created_at": "yesterday"}),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn attachments_are_limited_validated_and_blocked_types_refused() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "e@x.org"})).await;
    let conv = sim.conversation(&c, "hi").await;
    let reply = |files: Vec<Value>| json!({"type": "admin", "message_type": "note", "admin_id": ME, "body": "f", "attachment_files": files});
    let path = format!("/conversations/{conv}/reply");
    let ten: Vec<Value> = (0..10).map(|i| file(&format!("f{i}.txt"), b"x")).collect();
    assert_eq!(sim.post(&path, reply(ten.clone())).await.status, 200);
    let mut eleven = ten;
    eleven.push(file("f10.txt", b"x"));
    assert_eq!(
        sim.post(&path, reply(eleven)).await.status,
        400,
        "at most 10 files"
    );
    let r = sim.post(&path, reply(vec![file("setup.EXE", b"MZ")])).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "parameter_invalid"),
        "restricted extension"
    );
    let r = sim
        .post(
            &path,
            reply(vec![
                json!({"name": "a.txt", "content_type": "text/plain", "data": "***"}),
            ]),
        )
        .await;
    assert_eq!(r.status, 400, "invalid base64");
    let urls: Vec<String> = (0..11)
        .map(|i| format!("https://example.com/{i}.png"))
        .collect();
    let r = sim.post(&path, json!({"type": "admin", "message_type": "note", "admin_id": ME, "body": "u", "attachment_urls": urls})).await;
    assert_eq!(r.status, 400, "at most 10 urls");
    let st = sim.state().await;
    assert_eq!(
        st["conversations"][0]["parts"].as_array().unwrap().len(),
        1,
        "rejected replies change nothing"
    );
}

#[tokio::test]
async fn admin_comments_notify_customers_unless_skipped() {
    let sim = Sim::start(&[]);
    let with_email = sim.contact(json!({"email": "f@x.org"})).await;
    let without = sim.contact(json!({"external_id": "NOEMAIL"})).await;
    let a = sim.conversation(&with_email, "a").await;
    let b = sim.conversation(&without, "b").await;
    let comment = |skip: bool| json!({"type": "admin", "message_type": "comment", "admin_id": ME, "body": "hello", "skip_notifications": skip});
    assert_eq!(
        sim.post(&format!("/conversations/{a}/reply"), comment(false))
            .await
            .status,
        200
    );
    assert_eq!(
        sim.post(&format!("/conversations/{a}/reply"), comment(true))
            .await
            .status,
        200
    );
    assert_eq!(
        sim.post(&format!("/conversations/{b}/reply"), comment(false))
            .await
            .status,
        200
    );
    let st = sim.state().await;
    let n = st["notifications"].as_array().unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0]["email"], "f@x.org");
    assert_eq!(n[0]["conversation_id"], a.as_str());
}

#[tokio::test]
async fn conversation_update_validates_attributes() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "g@x.org"})).await;
    let conv = sim.conversation(&c, "x").await;
    let r = sim
        .post(
            "/conversations/attributes",
            json!({"name": "trackit_ticket", "data_type": "string"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let attr_id = r.body["id"].as_u64().unwrap();
    let r = sim.post("/conversations/attributes", json!({"name": "category", "data_type": "list", "options": [{"label": "Hardware"}, {"label": "Software"}]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        sim.post(
            "/conversations/attributes",
            json!({"name": "trackit_ticket", "data_type": "string"})
        )
        .await
        .status,
        422,
        "duplicate name"
    );
    let path = format!("/conversations/{conv}");
    let r = sim.put(&path, json!({"title": "Printer", "custom_attributes": {"trackit_ticket": "T-1", "category": "Hardware"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["title"], "Printer");
    assert_eq!(
        sim.put(&path, json!({"custom_attributes": {"unknown": "x"}}))
            .await
            .status,
        400
    );
    assert_eq!(
        sim.put(
            &path,
            json!({"custom_attributes": {"trackit_ticket": "y".repeat(256)}})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        sim.put(
            &path,
            json!({"custom_attributes": {"category": "Plumbing"}})
        )
        .await
        .status,
        400,
        "list values must be options"
    );
    assert_eq!(
        sim.delete(&format!("/conversations/attributes/{attr_id}"))
            .await
            .body["archived"],
        true
    );
    assert_eq!(
        sim.put(
            &path,
            json!({"custom_attributes": {"trackit_ticket": "T-2"}})
        )
        .await
        .status,
        400,
        "archived"
    );
    let st = sim.state().await;
    assert_eq!(
        st["conversations"][0]["custom_attributes"],
        json!({"trackit_ticket": "T-1", "category": "Hardware"})
    );
    assert_eq!(st["conversations"][0]["title"], "Printer");
}

#[tokio::test]
async fn get_conversation_returns_only_the_newest_500_parts() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "h@x.org"})).await;
    let conv = sim.conversation(&c, "x").await;
    for i in 0..502 {
        let r = sim.call("POST", &format!("/conversations/{conv}/reply"), Some(json!({"type": "admin", "message_type": "note", "admin_id": ME, "body": format!("n{i}")}))).await;
        assert_eq!(r.status, 200);
    }
    let got = sim.get(&format!("/conversations/{conv}")).await.body;
    let parts = got["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap();
    assert_eq!(parts.len(), 500);
    assert_eq!(parts[0]["body"], "n2");
    assert_eq!(parts[499]["body"], "n501");
    assert_eq!(
        sim.state().await["conversations"][0]["parts"]
            .as_array()
            .unwrap()
            .len(),
        502
    );
}

#[tokio::test]
async fn conversations_list_uses_cursor_paging() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "k@x.org"})).await;
    for i in 0..5 {
        sim.conversation(&c, &format!("m{i}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/conversations?per_page=2".to_string();
    loop {
        let r = sim.get(&path).await.body;
        for x in r["conversations"].as_array().unwrap() {
            seen.push(x["id"].as_str().unwrap().to_string());
        }
        match r["pages"]["next"]["starting_after"].as_str() {
            Some(cur) => path = format!("/conversations?per_page=2&starting_after={cur}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5);
    assert_eq!(sim.get("/conversations?per_page=151").await.status, 400);
}
