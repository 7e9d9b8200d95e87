//! Help Center collections and articles (issue 5). One test per API rule, against the spawned binary; every
//! exchange is also checked against the 2.16 OpenAPI schemas (tests/common/conformance.rs).

mod common;

use common::Sim;
use serde_json::json;

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
