//! Authentication, the version header, unknown paths and bad JSON, and the seeded admins and teams (issue 5). One
//! test per API rule, against the spawned binary; every exchange is also checked against the 2.16 OpenAPI schemas
//! (tests/common/conformance.rs).

mod common;

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
