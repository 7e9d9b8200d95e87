//! Throughput benchmark: the `intercom-sim` binary (faults off, rate limiting off) driven over loopback by
//! concurrent reqwest workers with a loader-like mix (create contact, read it, create conversation, two
//! replies, read the conversation). Prints wall-clock requests/s and, from /proc, the server's own CPU time
//! per request, which does not depend on what else the machine is doing.
//! Run: `cargo bench -p intercom-sim --bench throughput [-- SECS WORKERS]`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
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

/// CPU seconds (user + system) used by process `pid` (or `self`) so far, from /proc (Linux; 0 elsewhere).
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn worker(base: String, w: usize, deadline: Instant, count: Arc<AtomicU64>) {
    let client = reqwest::Client::new();
    let mut i = 0u64;
    while Instant::now() < deadline {
        i += 1;
        let contact =
            json!({"email": format!("w{w}-{i}@bench.test"), "external_id": format!("W{w}-{i}")});
        let c = send(
            &client,
            &base,
            reqwest::Method::POST,
            "/contacts",
            Some(contact),
        )
        .await;
        let id = c["id"].as_str().unwrap().to_string();
        send(
            &client,
            &base,
            reqwest::Method::GET,
            &format!("/contacts/{id}"),
            None,
        )
        .await;
        let conv = json!({"from": {"type": "user", "id": id}, "body": "hello", "created_at": 1_500_000_000});
        let m = send(
            &client,
            &base,
            reqwest::Method::POST,
            "/conversations",
            Some(conv),
        )
        .await;
        let conv = m["conversation_id"].as_str().unwrap().to_string();
        for kind in ["note", "comment"] {
            let body = json!({"type": "admin", "message_type": kind, "admin_id": "9000001", "body": "reply", "skip_notifications": true});
            send(
                &client,
                &base,
                reqwest::Method::POST,
                &format!("/conversations/{conv}/reply"),
                Some(body),
            )
            .await;
        }
        send(
            &client,
            &base,
            reqwest::Method::GET,
            &format!("/conversations/{conv}"),
            None,
        )
        .await;
        count.fetch_add(6, Ordering::Relaxed);
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let secs: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let workers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let mut child = Command::new(env!("CARGO_BIN_EXE_intercom-sim"))
        .args(["--rate-limit-per-minute", "0", "--search-lag-ms", "0"])
        .env("INTERCOM_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn intercom-sim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    let server_pid = child.id().to_string();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let (client0, server0) = (cpu_secs("self"), cpu_secs(&server_pid));
    let tasks: Vec<_> = (0..workers)
        .map(|w| tokio::spawn(worker(base.clone(), w, deadline, count.clone())))
        .collect();
    for t in tasks {
        t.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (client_cpu, server_cpu) = (cpu_secs("self") - client0, cpu_secs(&server_pid) - server0);
    let n = count.load(Ordering::Relaxed);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "{n} requests in {elapsed:.2} s with {workers} workers = {:.0} requests/s (client and server share {cores} cores)",
        n as f64 / elapsed
    );
    println!(
        "server CPU {server_cpu:.2} s = {:.0} µs per request = {:.0} requests/s per core; client CPU {client_cpu:.2} s",
        server_cpu * 1e6 / n as f64,
        n as f64 / server_cpu.max(0.001)
    );
    let _ = child.kill();
    let _ = child.wait();
}
