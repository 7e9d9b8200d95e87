//! Rate limiting, faults, control endpoints and the process lifecycle.

mod common;

use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use common::{Sim, TOKEN};
use serde_json::json;

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn rate_limit_windows_headers_and_429() {
    let sim = Sim::start(&["--rate-limit-per-minute", "60"]);
    let first = sim.get("/me").await;
    assert_eq!(
        first.header_i64("x-ratelimit-limit"),
        Some(10),
        "60/min is 10 per 10-second window"
    );
    assert!(first.header_i64("x-ratelimit-remaining").unwrap() < 10);
    let reset = first.header_i64("x-ratelimit-reset").unwrap();
    assert_eq!(reset % 10, 0);
    assert!(reset > unix_now() - 10 && reset <= unix_now() + 10);
    // Two windows at most can be touched by 21 requests, so a 429 must come.
    let mut limited = None;
    for _ in 0..21 {
        let r = sim.get("/me").await;
        assert!(
            r.headers.contains_key("x-ratelimit-remaining"),
            "headers on every authenticated response"
        );
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a 429 within 21 requests");
    assert_eq!(r.code(), "rate_limit_exceeded");
    assert_eq!(r.message(), "Exceeded rate limit of 10 in 10_seconds");
    assert_eq!(r.header_i64("x-ratelimit-remaining"), Some(0));
    assert_eq!(r.header_i64("x-ratelimit-limit"), Some(10));
}

#[tokio::test]
async fn storm_refuses_everything_with_a_past_reset() {
    let sim = Sim::start(&[]);
    assert_eq!(sim.set_faults(json!(["429-storm=600"])).await, 200);
    let before = unix_now();
    let r = sim.get("/me").await;
    assert_eq!((r.status, r.code()), (429, "rate_limit_exceeded"));
    assert!(
        r.header_i64("x-ratelimit-reset").unwrap() <= before,
        "reset may already be in the past"
    );
    let c = sim.post("/contacts", json!({"email": "a@x.org"})).await;
    assert_eq!(c.status, 429);
    let st = sim.state().await;
    assert!(st["contacts"].as_array().unwrap().is_empty());
    assert_eq!(st["requests"][0]["fault"], "429-storm");
    sim.set_faults(json!([])).await;
    assert_eq!(sim.get("/me").await.status, 200);
}

#[tokio::test]
async fn no_ratelimit_headers_fault() {
    let sim = Sim::start(&["--fault", "no-ratelimit-headers"]);
    let r = sim.get("/me").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn server_errors_happen_before_applying() {
    let sim = Sim::start(&["--fault", "5xx=1"]);
    let r = sim.post("/contacts", json!({"email": "a@x.org"})).await;
    assert!((500..600).contains(&r.status));
    assert_eq!(r.body["type"], "error.list");
    let st = sim.state().await;
    assert!(st["contacts"].as_array().unwrap().is_empty());
    assert_eq!(st["requests"][0]["fault"], "5xx");
    assert_eq!(st["requests"][0]["path"], "/contacts");
}

#[tokio::test]
async fn a_token_revoked_after_n_changes_is_refused_until_the_faults_are_replaced() {
    let sim = Sim::start(&["--fault", "revoke-token-after=2"]);
    // Reads and refused changes do not count; two successful changes do.
    assert_eq!(sim.get("/me").await.status, 200);
    assert_eq!(sim.post("/contacts", json!({})).await.status, 400);
    assert_eq!(
        sim.post("/contacts", json!({"email": "a@x.org"}))
            .await
            .status,
        200
    );
    assert_eq!(
        sim.post("/contacts", json!({"email": "b@x.org"}))
            .await
            .status,
        200
    );
    for r in [
        sim.get("/me").await,
        sim.post("/contacts", json!({"email": "c@x.org"})).await,
    ] {
        assert_eq!((r.status, r.code()), (401, "unauthorized"));
        assert!(r.headers.get("x-ratelimit-limit").is_none());
    }
    let st = sim.state().await;
    assert_eq!(st["contacts"].as_array().unwrap().len(), 2);
    let last = st["requests"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["status"].as_i64(), last["fault"].as_str()),
        (Some(401), Some("revoke-token-after"))
    );
    // Replacing the fault set gives the token back (and restarts the count).
    sim.set_faults(json!(["revoke-token-after=1"])).await;
    assert_eq!(sim.get("/me").await.status, 200);
    assert_eq!(
        sim.post("/contacts", json!({"email": "c@x.org"}))
            .await
            .status,
        200
    );
    assert_eq!(sim.get("/me").await.status, 401);
    sim.set_faults(json!([])).await;
    assert_eq!(sim.get("/me").await.status, 200);
}

#[tokio::test]
async fn reset_after_apply_drops_the_connection_after_the_change() {
    let sim = Sim::start(&["--fault", "reset-after-apply=1"]);
    let fresh = reqwest::Client::new();
    let r = fresh
        .post(format!("{}/contacts", sim.base))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .json(&json!({"email": "dup@x.org"}))
        .send()
        .await;
    assert!(r.is_err(), "no response must arrive: {r:?}");
    // Reads are never reset.
    assert_eq!(sim.get("/me").await.status, 200);
    let st = sim.state().await;
    assert_eq!(
        st["contacts"][0]["email"], "dup@x.org",
        "the change was applied"
    );
    assert_eq!(st["requests"][0]["fault"], "reset-after-apply");
    assert_eq!(st["requests"][0]["status"], 200);
    // Retrying blindly now makes the duplicate visible as a 409 (with faults off).
    sim.set_faults(json!([])).await;
    assert_eq!(
        sim.post("/contacts", json!({"email": "dup@x.org"}))
            .await
            .status,
        409
    );
}

async fn statuses(sim: &Sim, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(sim.get("/me").await.status);
    }
    out
}

#[tokio::test]
async fn fault_draws_repeat_for_a_seed() {
    let a = Sim::start(&["--fault", "5xx=0.5", "--fault-seed", "42"]);
    let b = Sim::start(&["--fault", "5xx=0.5", "--fault-seed", "42"]);
    let sa = statuses(&a, 30).await;
    assert_eq!(sa, statuses(&b, 30).await);
    assert!(sa.contains(&200) && sa.iter().any(|s| *s >= 500));
    // Replacing the fault set re-seeds: the same sequence again.
    a.set_faults(json!(["5xx=0.5"])).await;
    assert_eq!(statuses(&a, 30).await, sa);
}

#[tokio::test]
async fn latency_fault_delays_responses() {
    let sim = Sim::start(&[]);
    assert_eq!(sim.set_faults(json!(["latency-ms=300"])).await, 200);
    let listed: serde_json::Value = sim
        .client
        .get(format!("{}/_sim/faults", sim.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!(["latency-ms=300"]));
    let t = Instant::now();
    assert_eq!(sim.get("/me").await.status, 200);
    assert!(t.elapsed().as_millis() >= 300, "lower bound only");
}

#[tokio::test]
async fn bad_fault_specs_are_refused() {
    let sim = Sim::start(&[]);
    assert_eq!(sim.set_faults(json!(["5xx=7"])).await, 400);
    let out = Command::new(env!("CARGO_BIN_EXE_intercom-sim"))
        .args(["--fault", "bogus"])
        .env("INTERCOM_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_intercom-sim"))
        .env_remove("INTERCOM_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "token variable required");
    assert!(!String::from_utf8_lossy(&out.stderr).contains(TOKEN));
}

#[tokio::test]
async fn reset_forgets_everything_but_admins() {
    let sim = Sim::start(&[]);
    sim.contact(json!({"email": "r@x.org"})).await;
    let r = sim
        .client
        .post(format!("{}/_sim/reset", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let st = sim.state().await;
    assert!(st["contacts"].as_array().unwrap().is_empty());
    assert!(st["requests"].as_array().unwrap().is_empty());
    assert_eq!(st["admins"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn requests_log_records_state_changes_only() {
    let sim = Sim::start(&[]);
    sim.get("/me").await;
    sim.post("/contacts", json!({"email": "l@x.org"})).await;
    sim.post("/contacts", json!({"email": "l@x.org"})).await;
    sim.post(
        "/contacts/search",
        json!({"query": {"field": "email", "operator": "=", "value": "l@x.org"}}),
    )
    .await;
    sim.call_with(
        "POST",
        "/contacts",
        Some(json!({"email": "m@x.org"})),
        None,
        None,
    )
    .await;
    let st = sim.state().await;
    let log: Vec<(String, String, u64)> = st["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().into(),
                r["path"].as_str().unwrap().into(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        log,
        vec![
            ("POST".into(), "/contacts".into(), 200),
            ("POST".into(), "/contacts".into(), 409),
            ("POST".into(), "/contacts".into(), 401)
        ]
    );
}

#[tokio::test]
async fn sigterm_writes_state_out_and_exits_zero() {
    let dir = std::env::temp_dir().join(format!("sim-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("state.json");
    let mut sim = Sim::start(&["--state-out", out.to_str().unwrap()]);
    sim.contact(json!({"email": "t@x.org"})).await;
    let pid = sim.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = sim.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(st["contacts"][0]["email"], "t@x.org");
    let _ = std::fs::remove_dir_all(dir);
}
