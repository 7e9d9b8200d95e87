//! Contacts and companies: duplicates and 409s, lifecycle, company links, upsert on company_id, notes (issue 5).
//! One test per API rule, against the spawned binary; every exchange is also checked against the 2.16 OpenAPI
//! schemas (tests/common/conformance.rs).

mod common;

use common::{ME, Sim};
use serde_json::json;

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
