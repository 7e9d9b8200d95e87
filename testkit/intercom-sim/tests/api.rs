//! One test per API rule of issue 5, against the spawned binary. Every exchange is also checked against the
//! 2.16 OpenAPI schemas (tests/common/conformance.rs).

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{ME, Sim, TOKEN};
use serde_json::{Value, json};

#[tokio::test]
async fn auth_is_required_and_errors_are_error_lists() {
    let sim = Sim::start(&[]);
    for token in [None, Some("wrong")] {
        let r = sim.call_with("GET", "/me", None, token, Some("2.16")).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.body["type"], "error.list");
        assert_eq!(r.code(), "unauthorized");
        assert!(r.body["request_id"].is_string());
        assert!(
            r.headers.get("x-ratelimit-limit").is_none(),
            "no rate headers without credentials"
        );
    }
    let r = sim
        .call_with("GET", "/me", None, Some(TOKEN), Some("2.16"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], ME);
}

#[tokio::test]
async fn intercom_version_must_be_known() {
    let sim = Sim::start(&[]);
    let r = sim
        .call_with("GET", "/me", None, Some(TOKEN), Some("2.99"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "intercom_version_invalid");
    assert_eq!(
        sim.call_with("GET", "/me", None, Some(TOKEN), None)
            .await
            .status,
        200
    );
    assert_eq!(
        sim.call_with("GET", "/me", None, Some(TOKEN), Some("2.11"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn unknown_paths_methods_and_bad_json_are_rejected() {
    let sim = Sim::start(&[]);
    let r = sim.call("GET", "/nope", None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = sim.call("PATCH", "/contacts/abc", Some(json!({}))).await;
    assert_eq!(r.status, 404, "unsupported method is a 404 at Intercom");
    let r = sim
        .client
        .post(format!("{}/contacts", sim.base))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["code"], "parameter_invalid");
}

#[tokio::test]
async fn admins_and_teams_come_from_the_seed_file() {
    let dir = std::env::temp_dir().join(format!("sim-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("admins.json");
    std::fs::write(
        &seed,
        json!({"me": {"id": "9000001", "name": "Migration Admin", "email": "mig@example.com"},
               "admins": [{"id": "9000001", "name": "Migration Admin", "email": "mig@example.com"},
                          {"id": "9000002", "name": "Tech Two", "email": "two@example.com"}],
               "teams": [{"id": "7001", "name": "Helpdesk", "admin_ids": ["9000002"]}]})
        .to_string(),
    )
    .unwrap();
    let sim = Sim::start(&["--seed-admins", seed.to_str().unwrap()]);
    assert_eq!(sim.get("/me").await.body["email"], "mig@example.com");
    let admins = sim.get("/admins").await.body;
    assert_eq!(admins["admins"].as_array().unwrap().len(), 2);
    let two = sim.get("/admins/9000002").await.body;
    assert_eq!(two["team_ids"], json!([7001]));
    let r = sim.get("/admins/123").await;
    assert_eq!((r.status, r.code()), (404, "admin_not_found"));
    let teams = sim.get("/teams").await.body;
    assert_eq!(teams["teams"][0]["admin_ids"], json!([9000002]));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn data_attribute_rules() {
    let sim = Sim::start(&["--attribute-quota", "2"]);
    let mk = |name: &str| json!({"name": name, "model": "contact", "data_type": "string"});
    let r = sim.post("/data_attributes", mk("trackit_id")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.body["id"].as_u64().unwrap();
    let dup = sim.post("/data_attributes", mk("trackit_id")).await;
    assert_eq!((dup.status, dup.code()), (400, "parameter_invalid"));
    assert!(dup.message().contains("already have"));
    let bad = sim.post("/data_attributes", mk("Track It")).await;
    assert_eq!(
        (bad.status, bad.code()),
        (400, "parameter_invalid"),
        "space is outside the default name characters"
    );
    let missing = sim
        .post("/data_attributes", json!({"name": "x", "model": "contact"}))
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (400, "parameter_not_found")
    );
    let list = sim.post("/data_attributes", json!({"name": "kind", "model": "company", "data_type": "options", "options": [{"value": "a"}, {"value": "b"}]})).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["options"], json!(["a", "b"]));
    // Archived attributes still count against the quota (2 per model here).
    assert_eq!(
        sim.put(&format!("/data_attributes/{id}"), json!({"archived": true}))
            .await
            .body["archived"],
        true
    );
    assert_eq!(sim.post("/data_attributes", mk("second")).await.status, 200);
    let over = sim.post("/data_attributes", mk("third")).await;
    assert_eq!(over.status, 400, "quota counts archived attributes");
    let listed = sim.get("/data_attributes?model=contact").await.body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let all = sim
        .get("/data_attributes?model=contact&include_archived=true")
        .await
        .body;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        sim.get("/data_attributes?model=conversation").await.status,
        422
    );
    // Writing an archived attribute is refused like an unknown one.
    let r = sim
        .post(
            "/contacts",
            json!({"email": "a@x.org", "custom_attributes": {"trackit_id": "1"}}),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn custom_attribute_values_are_checked() {
    let sim = Sim::start(&[]);
    for (name, ty) in [("tid", "string"), ("n", "integer"), ("flag", "boolean")] {
        assert_eq!(
            sim.post(
                "/data_attributes",
                json!({"name": name, "model": "contact", "data_type": ty})
            )
            .await
            .status,
            200
        );
    }
    let r = sim
        .post(
            "/contacts",
            json!({"email": "a@x.org", "custom_attributes": {"nope": "1"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "parameter_invalid"),
        "unknown attribute"
    );
    let r = sim
        .post(
            "/contacts",
            json!({"email": "a@x.org", "custom_attributes": {"tid": "x".repeat(256)}}),
        )
        .await;
    assert_eq!(r.status, 400, "over 255 characters");
    let r = sim
        .post(
            "/contacts",
            json!({"email": "a@x.org", "custom_attributes": {"n": "12"}}),
        )
        .await;
    assert_eq!(r.status, 400, "type mismatch");
    let r = sim.post("/contacts", json!({"email": "a@x.org", "custom_attributes": {"tid": "x".repeat(255), "n": 12, "flag": true}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["custom_attributes"]["n"], 12);
    let st = sim.state().await;
    assert_eq!(st["contacts"][0]["custom_attributes"]["flag"], true);
}

#[tokio::test]
async fn contacts_conflict_on_duplicates_even_when_archived() {
    let sim = Sim::start(&[]);
    let r = sim.post("/contacts", json!({})).await;
    assert_eq!((r.status, r.code()), (400, "parameter_not_found"));
    let a = sim.contact(json!({"email": "Ann@Example.com", "external_id": "TI-1", "name": "Ann", "role": "user"})).await;
    assert_eq!(a.len(), 24);
    for body in [
        json!({"email": "ann@example.com"}),
        json!({"external_id": "TI-1"}),
    ] {
        let r = sim.post("/contacts", body).await;
        assert_eq!((r.status, r.code()), (409, "conflict"));
        assert_eq!(
            r.message(),
            format!("A contact matching those details already exists with id={a}")
        );
    }
    assert_eq!(
        sim.post(&format!("/contacts/{a}/archive"), json!({}))
            .await
            .status,
        200
    );
    let r = sim.post("/contacts", json!({"external_id": "TI-1"})).await;
    assert_eq!(r.status, 409);
    assert!(
        r.message()
            .ends_with(&format!("already exists with id={a}")),
        "{}",
        r.message()
    );
    let st = sim.state().await;
    assert_eq!(st["contacts"].as_array().unwrap().len(), 1);
    assert_eq!(st["contacts"][0]["archived"], true);
}

#[tokio::test]
async fn contact_lifecycle_and_company_links() {
    let sim = Sim::start(&[]);
    let id = sim
        .contact(json!({"email": "b@x.org", "external_id": "TI-2", "role": "user"}))
        .await;
    let lead = sim
        .contact(json!({"role": "lead", "external_id": "L-1"}))
        .await;
    assert_eq!(
        sim.get("/contacts/find_by_external_id/TI-2").await.body["id"],
        id.as_str()
    );
    assert_eq!(
        sim.get("/contacts/find_by_external_id/L-1").await.status,
        404,
        "leads are not found by external id"
    );
    assert_eq!(sim.get(&format!("/contacts/{lead}")).await.status, 200);
    let r = sim
        .put(
            &format!("/contacts/{id}"),
            json!({"name": "Bea", "phone": "+1 555"}),
        )
        .await;
    assert_eq!(r.body["name"], "Bea");
    let r = sim
        .put(&format!("/contacts/{lead}"), json!({"external_id": "TI-2"}))
        .await;
    assert_eq!(r.status, 409, "update into a duplicate");
    let co = sim
        .post("/companies", json!({"company_id": "C-1", "name": "Acme"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = sim
        .post(&format!("/contacts/{id}/companies"), json!({"id": co}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["user_count"], 1);
    let r = sim
        .post(&format!("/contacts/{id}/companies"), json!({"id": "C-1"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (404, "company_not_found"),
        "needs Intercom's id, not company_id"
    );
    assert_eq!(
        sim.get(&format!("/contacts/{id}")).await.body["companies"]["data"][0]["id"],
        co.as_str()
    );
    let r = sim.delete(&format!("/contacts/{id}")).await;
    assert_eq!(r.body["deleted"], true);
    assert_eq!(sim.get(&format!("/contacts/{id}")).await.status, 404);
    let st = sim.state().await;
    let c = st["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            c["deleted"].clone(),
            c["company_ids"].clone(),
            c["name"].clone()
        ),
        (json!(true), json!([co]), json!("Bea"))
    );
}

#[tokio::test]
async fn companies_upsert_on_company_id() {
    let sim = Sim::start(&[]);
    assert_eq!(
        sim.post(
            "/data_attributes",
            json!({"name": "tier", "model": "company", "data_type": "integer"})
        )
        .await
        .status,
        200
    );
    let r = sim
        .post(
            "/companies",
            json!({"company_id": "C-9", "monthly_spend": 12.9}),
        )
        .await;
    assert_eq!(
        r.status, 400,
        "the 2.16 schema types monthly_spend as integer"
    );
    let a = sim.post("/companies", json!({"company_id": "C-9", "name": "Old", "monthly_spend": 12, "custom_attributes": {"tier": 2}})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["monthly_spend"], 12);
    let b = sim
        .post("/companies", json!({"company_id": "C-9", "name": "New"}))
        .await;
    assert_eq!(b.body["id"], a.body["id"]);
    assert_eq!(b.body["name"], "New");
    assert_eq!(b.body["custom_attributes"]["tier"], 2);
    let r = sim
        .post(
            "/companies",
            json!({"company_id": "C-10", "custom_attributes": {"tier": "x"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = sim.get("/companies?company_id=C-9").await;
    assert_eq!(
        r.body["data"][0]["id"], a.body["id"],
        "2.16 answers a list holding the company"
    );
    let r = sim.get("/companies?company_id=NOPE").await;
    assert_eq!((r.status, r.code()), (404, "company_not_found"));
    let list = sim.get("/companies").await.body;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "companies without contacts are not listed"
    );
    let id = a.body["id"].as_str().unwrap();
    let r = sim
        .put(&format!("/companies/{id}"), json!({"industry": "Retail"}))
        .await;
    assert_eq!(r.body["industry"], "Retail");
    let n = sim
        .post(
            &format!("/companies/{id}/notes"),
            json!({"body": "Imported"}),
        )
        .await;
    assert_eq!(n.status, 200);
    assert_eq!(n.body["author"]["id"], ME);
    assert_eq!(
        sim.delete(&format!("/companies/{id}")).await.body["deleted"],
        true
    );
    assert_eq!(
        sim.get(&format!("/companies/{id}")).await.code(),
        "company_not_found"
    );
    let st = sim.state().await;
    assert_eq!(st["company_notes"][0]["body"], "Imported");
    assert_eq!(st["companies"].as_array().unwrap().len(), 1);
}

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
async fn tags_apply_to_contacts_companies_and_conversations() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "i@x.org"})).await;
    let co = sim
        .post("/companies", json!({"company_id": "C-1"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let conv = sim.conversation(&c, "x").await;
    let t = sim
        .post("/tags", json!({"name": "Migrated from Track-It!"}))
        .await
        .body;
    let again = sim
        .post("/tags", json!({"name": "migrated FROM track-it!"}))
        .await
        .body;
    assert_eq!(t["id"], again["id"], "names are case-insensitive");
    let tid = t["id"].as_str().unwrap();
    assert_eq!(
        sim.post(
            "/tags",
            json!({"name": "Migrated from Track-It!", "companies": [{"company_id": "C-1"}]})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        sim.post(
            "/tags",
            json!({"name": "Migrated from Track-It!", "users": [{"id": c}]})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        sim.post(&format!("/contacts/{c}/tags"), json!({"id": tid}))
            .await
            .body["name"],
        "Migrated from Track-It!"
    );
    let r = sim
        .post(&format!("/conversations/{conv}/tags"), json!({"id": tid}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "parameter_not_found"),
        "admin_id is required"
    );
    assert_eq!(
        sim.post(
            &format!("/conversations/{conv}/tags"),
            json!({"id": tid, "admin_id": ME})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        sim.post(
            "/tags",
            json!({"name": "X", "companies": [{"company_id": "NOPE"}]})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        sim.count("/tags").await,
        1,
        "a failed tagging creates no tag"
    );
    let st = sim.state().await;
    let tag = json!([{"id": tid, "name": "Migrated from Track-It!"}]);
    assert_eq!(st["contacts"][0]["tags"], tag);
    assert_eq!(st["companies"][0]["tags"], tag);
    assert_eq!(st["conversations"][0]["tags"], tag);
    assert_eq!(
        sim.get(&format!("/companies/{co}")).await.body["tags"]["tags"][0]["id"],
        tid
    );
    let untag = sim
        .post(
            "/tags",
            json!({"name": "Migrated from Track-It!", "companies": [{"id": co, "untag": true}]}),
        )
        .await;
    assert_eq!(untag.status, 200);
    assert_eq!(sim.state().await["companies"][0]["tags"], json!([]));
}

#[tokio::test]
async fn contact_notes() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "j@x.org"})).await;
    let r = sim
        .post(
            &format!("/contacts/{c}/notes"),
            json!({"body": "Imported from Track-It!", "admin_id": ME}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["contact"]["id"], c.as_str());
    assert_eq!(
        sim.post(&format!("/contacts/{c}/notes"), json!({"admin_id": ME}))
            .await
            .status,
        400
    );
    assert_eq!(
        sim.post(
            "/contacts/000000000000000000000000/notes",
            json!({"body": "x"})
        )
        .await
        .status,
        404
    );
    let st = sim.state().await;
    assert_eq!(st["contact_notes"][0]["target_id"], c.as_str());
    assert_eq!(st["contact_notes"][0]["author_id"], ME);
}

#[tokio::test]
async fn help_center_collections_and_articles() {
    let sim = Sim::start(&[]);
    let col = sim
        .post(
            "/help_center/collections",
            json!({"name": "Hardware", "description": "KB"}),
        )
        .await;
    assert_eq!(col.status, 200, "{}", col.body);
    let col_id = col.body["id"].as_str().unwrap().to_string();
    let sub = sim
        .post(
            "/help_center/collections",
            json!({"name": "Printers", "parent_id": col_id}),
        )
        .await;
    assert_eq!(sub.body["parent_id"], col_id.as_str());
    assert_eq!(
        sim.post(
            "/help_center/collections",
            json!({"name": "x", "parent_id": "999"})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        sim.post(
            "/help_center/collections",
            json!({"description": "no name"})
        )
        .await
        .status,
        400
    );
    let r = sim
        .post("/articles", json!({"title": "Reset a printer"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "parameter_not_found"),
        "author_id required"
    );
    let a = sim.post("/articles", json!({"title": "Reset a printer", "author_id": 9000001, "body": "<p>Hold the button</p>", "state": "published", "parent_id": col_id.parse::<i64>().unwrap(), "parent_type": "collection"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let aid = a.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        sim.put(
            &format!("/articles/{aid}"),
            json!({"title": "Reset printers"})
        )
        .await
        .body["title"],
        "Reset printers"
    );
    assert_eq!(sim.count("/articles").await, 1);
    assert_eq!(
        sim.put(
            &format!("/help_center/collections/{col_id}"),
            json!({"name": "HW"})
        )
        .await
        .body["name"],
        "HW"
    );
    assert_eq!(sim.count("/help_center/collections").await, 2);
    assert_eq!(
        sim.delete(&format!("/articles/{aid}")).await.body["deleted"],
        true
    );
    assert_eq!(sim.get(&format!("/articles/{aid}")).await.status, 404);
    assert_eq!(
        sim.delete(&format!("/help_center/collections/{col_id}"))
            .await
            .body["deleted"],
        true
    );
    let st = sim.state().await;
    assert_eq!(st["articles"][0]["title"], "Reset printers");
    assert_eq!(st["articles"][0]["deleted"], true);
    assert_eq!(st["collections"][1]["parent_id"], col_id.as_str());
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

#[tokio::test]
async fn search_grammar_and_paging() {
    let sim = Sim::start(&[]);
    assert_eq!(
        sim.post(
            "/data_attributes",
            json!({"name": "trackit_id", "model": "contact", "data_type": "string"})
        )
        .await
        .status,
        200
    );
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(sim.contact(json!({"email": format!("s{i}@x.org"), "external_id": format!("TI-{i}"), "custom_attributes": {"trackit_id": format!("{i}")}})).await);
    }
    let q = json!({"query": {"operator": "AND", "value": [
        {"field": "external_id", "operator": "=", "value": "TI-1"},
        {"field": "custom_attributes.trackit_id", "operator": "=", "value": "1"}]}});
    let r = sim.post("/contacts/search", q).await;
    assert_eq!(r.body["total_count"], 1);
    assert_eq!(r.body["data"][0]["id"], ids[1].as_str());
    let q = json!({"query": {"operator": "OR", "value": [
        {"field": "email", "operator": "^", "value": "s2"}, {"field": "external_id", "operator": "IN", "value": ["TI-0", "TI-3"]}]},
        "pagination": {"per_page": 2}});
    let r = sim.post("/contacts/search", q.clone()).await;
    assert_eq!(r.body["total_count"], 3);
    let cursor = r.body["pages"]["next"]["starting_after"]
        .as_str()
        .unwrap()
        .to_string();
    let mut q2 = q;
    q2["pagination"]["starting_after"] = json!(cursor);
    assert_eq!(
        sim.post("/contacts/search", q2).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        sim.post(
            "/contacts/search",
            json!({"query": {"field": "shoe_size", "operator": "=", "value": 1}})
        )
        .await
        .status,
        400
    );
    assert_eq!(sim.post("/contacts/search", json!({})).await.status, 400);
    let conv = sim.conversation(&ids[0], "x").await;
    let r = sim
        .post(
            "/conversations/search",
            json!({"query": {"field": "contact_ids", "operator": "=", "value": ids[0]}}),
        )
        .await;
    assert_eq!(r.body["conversations"][0]["id"], conv.as_str());
    assert_eq!(
        sim.post(
            "/conversations/search",
            json!({"query": {"field": "custom_attributes.x", "operator": "=", "value": "1"}})
        )
        .await
        .status,
        400
    );
}

#[tokio::test]
async fn search_sees_new_objects_only_after_the_lag() {
    let sim = Sim::start(&["--search-lag-ms", "600000"]);
    let id = sim
        .contact(json!({"email": "lag@x.org", "external_id": "LAG"}))
        .await;
    let conv = sim.conversation(&id, "x").await;
    let q = json!({"query": {"field": "external_id", "operator": "=", "value": "LAG"}});
    assert_eq!(sim.post("/contacts/search", q).await.body["total_count"], 0);
    let q = json!({"query": {"field": "id", "operator": "=", "value": conv}});
    assert_eq!(
        sim.post("/conversations/search", q).await.body["total_count"],
        0
    );
    assert_eq!(
        sim.get(&format!("/contacts/{id}")).await.status,
        200,
        "direct reads see it at once"
    );
    assert_eq!(
        sim.get("/contacts/find_by_external_id/LAG").await.status,
        200
    );
}
