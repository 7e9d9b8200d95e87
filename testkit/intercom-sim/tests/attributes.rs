//! Data attributes: naming and type rules, the quota, and custom attribute values (issue 5). One test per API rule,
//! against the spawned binary; every exchange is also checked against the 2.16 OpenAPI schemas
//! (tests/common/conformance.rs).

mod common;

use common::Sim;
use serde_json::json;

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
