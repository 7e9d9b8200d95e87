//! Contact and conversation search: grammar, paging and the search lag (issue 5). One test per API rule, against
//! the spawned binary; every exchange is also checked against the 2.16 OpenAPI schemas
//! (tests/common/conformance.rs).

mod common;

use common::Sim;
use serde_json::json;

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
