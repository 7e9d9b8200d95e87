//! Note lists (`GET /contacts/{id}/notes`, `GET /companies/{id}/notes`) and the removal of relations
//! (`DELETE /contacts/{id}/tags/{tag_id}`, `DELETE /contacts/{id}/companies/{company_id}`), against the
//! spawned binary. Every exchange goes through the OpenAPI 2.16 check in `Sim::call`; `conforms` also
//! asserts that the 2.16 description has the operation and that a body was validated against it.

mod common;

use common::conformance;
use common::{ME, Resp, Sim};
use serde_json::{Value, json};

const NO_CONTACT: &str = "000000000000000000000000";
const NO_COMPANY: &str = "ffffffffffffffffffffffff";

/// The exchange is described by the 2.16 spec and its response body validates (when the spec is present).
fn conforms(method: &str, path: &str, r: &Resp) {
    if let Some(s) = conformance::spec() {
        let n = s
            .check(method, path, None, r.status, &r.body)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(n >= 1, "{method} {path}: no body was validated");
    }
}

async fn company(sim: &Sim, company_id: &str) -> String {
    let r = sim
        .post("/companies", json!({"company_id": company_id}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn tag(sim: &Sim, name: &str) -> String {
    let r = sim.post("/tags", json!({"name": name})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

fn bodies(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn contact_notes_are_listed_newest_first_with_cursor_paging() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "n@x.org"})).await;
    let other = sim.contact(json!({"email": "o@x.org"})).await;
    for body in ["first", "second", "third"] {
        let r = sim
            .post(&format!("/contacts/{c}/notes"), json!({"body": body}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    sim.post(
        &format!("/contacts/{other}/notes"),
        json!({"body": "elsewhere"}),
    )
    .await;

    let path = format!("/contacts/{c}/notes");
    let r = sim.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    conforms("GET", &path, &r);
    assert_eq!(r.body["type"], "list");
    assert_eq!(r.body["total_count"], 3);
    assert_eq!(
        bodies(&r.body),
        ["third", "second", "first"],
        "newest first"
    );
    assert_eq!(r.body["data"][0]["type"], "note");
    assert_eq!(r.body["data"][0]["contact"]["id"], c.as_str());
    assert_eq!(r.body["data"][0]["author"]["id"], ME);
    assert_eq!(r.body["pages"]["per_page"], 50);

    let r = sim.get(&format!("{path}?per_page=2")).await;
    assert_eq!(bodies(&r.body), ["third", "second"]);
    assert_eq!(r.body["total_count"], 3);
    let cursor = r.body["pages"]["next"]["starting_after"]
        .as_str()
        .expect("a next cursor")
        .to_string();
    let r = sim
        .get(&format!("{path}?per_page=2&starting_after={cursor}"))
        .await;
    assert_eq!(bodies(&r.body), ["first"]);
    assert!(r.body["pages"].get("next").is_none());

    let empty = sim.contact(json!({"email": "e@x.org"})).await;
    let r = sim.get(&format!("/contacts/{empty}/notes")).await;
    assert_eq!((r.status, r.body["total_count"].clone()), (200, json!(0)));
    assert_eq!(r.body["data"], json!([]));
}

#[tokio::test]
async fn contact_notes_of_unknown_or_deleted_contacts_are_404() {
    let sim = Sim::start(&[]);
    let path = format!("/contacts/{NO_CONTACT}/notes");
    let r = sim.get(&path).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert_eq!(r.message(), "User Not Found");
    conforms("GET", &path, &r);
    let c = sim.contact(json!({"email": "d@x.org"})).await;
    sim.post(&format!("/contacts/{c}/notes"), json!({"body": "x"}))
        .await;
    assert_eq!(sim.delete(&format!("/contacts/{c}")).await.status, 200);
    assert_eq!(sim.get(&format!("/contacts/{c}/notes")).await.status, 404);
}

#[tokio::test]
async fn company_notes_are_listed_newest_first_and_404_when_unknown() {
    let sim = Sim::start(&[]);
    let co = company(&sim, "C-1").await;
    let c = sim.contact(json!({"email": "c@x.org"})).await;
    sim.post(
        &format!("/contacts/{c}/notes"),
        json!({"body": "contact note"}),
    )
    .await;
    for body in ["old", "new"] {
        let r = sim
            .post(&format!("/companies/{co}/notes"), json!({"body": body}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let path = format!("/companies/{co}/notes");
    let r = sim.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    conforms("GET", &path, &r);
    assert_eq!(r.body["type"], "list");
    assert_eq!(r.body["total_count"], 2);
    assert_eq!(bodies(&r.body), ["new", "old"]);
    assert_eq!(r.body["data"][0]["company"]["id"], co.as_str());

    let path = format!("/companies/{NO_COMPANY}/notes");
    let r = sim.get(&path).await;
    assert_eq!((r.status, r.code()), (404, "company_not_found"));
    conforms("GET", &path, &r);
    assert_eq!(sim.delete(&format!("/companies/{co}")).await.status, 200);
    assert_eq!(sim.get(&format!("/companies/{co}/notes")).await.status, 404);
}

#[tokio::test]
async fn removing_a_tag_from_a_contact() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "t@x.org"})).await;
    let keep = tag(&sim, "Keep").await;
    let drop = tag(&sim, "Drop").await;
    for t in [&keep, &drop] {
        let r = sim
            .post(&format!("/contacts/{c}/tags"), json!({"id": t}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let path = format!("/contacts/{c}/tags/{drop}");
    let r = sim.delete(&path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    conforms("DELETE", &path, &r);
    assert_eq!(
        (&r.body["type"], &r.body["id"], &r.body["name"]),
        (&json!("tag"), &json!(drop), &json!("Drop"))
    );
    let st = sim.state().await;
    assert_eq!(
        st["contacts"][0]["tags"],
        json!([{"id": keep, "name": "Keep"}])
    );
    assert_eq!(
        st["tags"].as_array().unwrap().len(),
        2,
        "the tag itself is not deleted"
    );
    let logged = st["requests"]
        .as_array()
        .unwrap()
        .iter()
        .any(|q| q["method"] == "DELETE" && q["path"] == path.as_str() && q["status"] == 200);
    assert!(logged, "the DELETE is in the request log");

    let r = sim
        .delete(&format!("/contacts/{NO_CONTACT}/tags/{keep}"))
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert_eq!(r.message(), "User Not Found");
    let path = format!("/contacts/{c}/tags/999999999");
    let r = sim.delete(&path).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert_eq!(r.message(), "Resource Not Found");
    conforms("DELETE", &path, &r);
    assert_eq!(
        sim.state().await["contacts"][0]["tags"],
        json!([{"id": keep, "name": "Keep"}]),
        "failed removals change nothing"
    );
}

#[tokio::test]
async fn detaching_a_company_from_a_contact() {
    let sim = Sim::start(&[]);
    let c = sim.contact(json!({"email": "a@x.org"})).await;
    let stay = company(&sim, "C-STAY").await;
    let go = company(&sim, "C-GO").await;
    for co in [&stay, &go] {
        let r = sim
            .post(&format!("/contacts/{c}/companies"), json!({"id": co}))
            .await;
        assert_eq!((r.status, r.body["user_count"].clone()), (200, json!(1)));
    }
    let path = format!("/contacts/{c}/companies/{go}");
    let r = sim.delete(&path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    conforms("DELETE", &path, &r);
    assert_eq!(r.body["type"], "company");
    assert_eq!(r.body["id"], go.as_str());
    assert_eq!(r.body["company_id"], "C-GO");
    assert_eq!(r.body["user_count"], 0, "counted after the detach");
    let st = sim.state().await;
    assert_eq!(st["contacts"][0]["company_ids"], json!([stay]));
    assert_eq!(
        st["companies"][1]["deleted"], false,
        "the company itself stays"
    );
    let contact = sim.get(&format!("/contacts/{c}")).await.body;
    assert_eq!(contact["companies"]["data"].as_array().unwrap().len(), 1);
    assert_eq!(contact["companies"]["data"][0]["id"], stay.as_str());

    let path = format!("/contacts/{NO_CONTACT}/companies/{stay}");
    let r = sim.delete(&path).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    assert_eq!(r.message(), "User Not Found");
    conforms("DELETE", &path, &r);
    let r = sim
        .delete(&format!("/contacts/{c}/companies/{NO_COMPANY}"))
        .await;
    assert_eq!((r.status, r.code()), (404, "company_not_found"));
    assert_eq!(
        sim.state().await["contacts"][0]["company_ids"],
        json!([stay]),
        "failed detaches change nothing"
    );
}

/// The lookup indexes (duplicate checks, `company_id`, `user_count`) follow updates and deletions; every
/// `/_sim/state` read of the debug binary also checks the indexes against the objects.
#[tokio::test]
async fn lookups_follow_updates_and_deletions() {
    let sim = Sim::start(&[]);
    let a = sim
        .contact(json!({"email": "Old@x.org", "external_id": "TI-1"}))
        .await;
    let co = company(&sim, "C-1").await;
    sim.post(&format!("/contacts/{a}/companies"), json!({"id": co}))
        .await;
    let r = sim
        .put(
            &format!("/contacts/{a}"),
            json!({"email": "new@x.org", "external_id": "TI-2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The old email and external_id are free again; the new ones conflict (case-insensitively).
    let b = sim
        .contact(json!({"email": "old@X.org", "external_id": "TI-1"}))
        .await;
    let r = sim.post("/contacts", json!({"email": "NEW@x.org"})).await;
    assert_eq!(r.status, 409);
    assert!(r.message().ends_with(&format!("id={a}")), "{}", r.message());
    let r = sim.get("/contacts/find_by_external_id/TI-2").await;
    assert_eq!(r.body["id"], a.as_str());
    // Deleting frees both and drops the company's user_count.
    sim.delete(&format!("/contacts/{a}")).await;
    assert_eq!(
        sim.get(&format!("/companies/{co}")).await.body["user_count"],
        0
    );
    assert_eq!(
        sim.get("/contacts/find_by_external_id/TI-2").await.status,
        404
    );
    sim.contact(json!({"email": "new@x.org", "external_id": "TI-2"}))
        .await;
    // A deleted company's company_id starts a new company; the upsert finds it afterwards.
    sim.post(&format!("/contacts/{b}/companies"), json!({"id": co}))
        .await;
    sim.delete(&format!("/companies/{co}")).await;
    let again = company(&sim, "C-1").await;
    assert_ne!(again, co);
    assert_eq!(company(&sim, "C-1").await, again);
    let r = sim.get("/companies?company_id=C-1").await;
    assert_eq!(r.body["data"][0]["id"], again.as_str());
    let st = sim.state().await;
    assert_eq!(st["contacts"][1]["company_ids"], json!([]));
}
