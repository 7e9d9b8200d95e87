//! Throughput benchmark: an in-process simulator (faults off, rate limiting off) driven over loopback by
//! concurrent reqwest workers with a loader-like mix (create contact, read it, create conversation, two
//! replies, read the conversation). Run: `cargo bench -p intercom-sim --bench throughput [-- SECS WORKERS]`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TOKEN: &str = "bench-token";

async fn send(
    client: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut rb = client
        .request(method, format!("{base}{path}"))
        .bearer_auth(TOKEN)
        .header("Intercom-Version", "2.16");
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("json")
}

/// CPU seconds (user + system) used by this process so far, from /proc/self/stat (Linux; 0 elsewhere).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let secs: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let workers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(32);
    let cfg = intercom_sim::SimConfig {
        token: TOKEN.into(),
        rate_limit_per_minute: 0,
        search_lag_ms: 0,
        ..Default::default()
    };
    let sim = intercom_sim::start(cfg).await.expect("start");
    let base = format!("http://{}", sim.addr);
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let cpu0 = cpu_secs();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (base, count) = (base.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let c = send(&client, &base, reqwest::Method::POST, "/contacts", Some(json!({"email": format!("w{w}-{i}@bench.test"), "external_id": format!("W{w}-{i}")}))).await;
                let id = c["id"].as_str().unwrap().to_string();
                send(&client, &base, reqwest::Method::GET, &format!("/contacts/{id}"), None).await;
                let m = send(&client, &base, reqwest::Method::POST, "/conversations", Some(json!({"from": {"type": "user", "id": id}, "body": "hello", "created_at": 1_500_000_000}))).await;
                let conv = m["conversation_id"].as_str().unwrap().to_string();
                for kind in ["note", "comment"] {
                    let body = json!({"type": "admin", "message_type": kind, "admin_id": "9000001", "body": "reply", "skip_notifications": true});
                    send(&client, &base, reqwest::Method::POST, &format!("/conversations/{conv}/reply"), Some(body)).await;
                }
                send(&client, &base, reqwest::Method::GET, &format!("/conversations/{conv}"), None).await;
                count.fetch_add(6, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed);
    println!(
        "{n} requests in {elapsed:.2} s with {workers} workers = {:.0} requests/s",
        n as f64 / elapsed
    );
    sim.stop().await;
}
