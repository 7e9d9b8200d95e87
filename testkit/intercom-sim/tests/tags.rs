//! Tags on contacts, companies and conversations (issue 5). One test per API rule, against the spawned binary;
//! every exchange is also checked against the 2.16 OpenAPI schemas (tests/common/conformance.rs).

mod common;

use common::{ME, Sim};
use serde_json::json;

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
