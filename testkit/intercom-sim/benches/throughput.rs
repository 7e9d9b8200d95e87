//! Throughput benchmark: the `intercom-sim` binary (faults off, rate limiting off) driven over loopback by
//! WORKERS keep-alive connections, each running the loader's per-ticket sequence in a loop.
//!
//! The client is a minimal HTTP/1.1 writer/reader on a raw tokio `TcpStream` (one connection per worker,
//! keep-alive, no pipelining) so that on a 2-core machine the client costs far less CPU than the server
//! it measures. Per iteration (10 requests, like one ticket of `ti-load`):
//! `POST /contacts` (with a custom attribute), `POST /conversations`, four `POST /conversations/{id}/reply`
//! (admin note, admin comment with one small base64 attachment, contact reply, admin comment),
//! `PUT /conversations/{id}` (custom attribute), `POST /conversations/{id}/parts` assignment, then close,
//! and `GET /conversations/{id}`. Before the timed window, PREFILL contacts (default 10,000) are created so
//! that lookups run against a workspace of realistic size.
//!
//! Prints wall-clock requests/s, the server's own CPU time per request (from /proc: independent of other
//! load), the client's CPU time and the load average.
//! Run: `cargo bench -p intercom-sim --bench throughput [-- SECS WORKERS PREFILL]`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "bench-token";

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            host: addr.to_string(),
            buf: Vec::with_capacity(16 * 1024),
        }
    }

    /// Send one request and read the whole response; panics on anything but 200.
    async fn call(&mut self, method: &str, path: &str, body: &[u8]) -> &[u8] {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {TOKEN}\r\nintercom-version: 2.16\r\naccept: application/json\r\n",
            self.host
        )
        .into_bytes();
        if !body.is_empty() {
            req.extend_from_slice(
                format!(
                    "content-type: application/json\r\ncontent-length: {}\r\n",
                    body.len()
                )
                .as_bytes(),
            );
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        self.stream.write_all(&req).await.expect("write");
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        let (head_len, body_len) = loop {
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "{path}: connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).expect("utf-8 head");
                let status = head.get(9..12).unwrap_or("");
                assert_eq!(
                    status,
                    "200",
                    "{method} {path}: {}",
                    String::from_utf8_lossy(&self.buf)
                );
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .expect("content-length");
                break (end + 4, len);
            }
        };
        while self.buf.len() < head_len + body_len {
            let n = self.stream.read(&mut chunk).await.expect("read body");
            assert!(n > 0, "{path}: connection closed in body");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        &self.buf[head_len..head_len + body_len]
    }

    async fn json(&mut self, method: &str, path: &str, body: &Value) -> Value {
        let b = serde_json::to_vec(body).expect("body");
        serde_json::from_slice(self.call(method, path, &b).await).expect("json response")
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// CPU seconds (user + system) used by process `pid` (or `self`) so far, from /proc (Linux; 0 elsewhere).
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Create contact `tag` and return its id.
async fn contact(c: &mut Conn, tag: &str) -> String {
    let body = json!({"email": format!("{tag}@bench.test"), "external_id": tag,
                      "custom_attributes": {"trackit_id": tag}});
    let v = c.json("POST", "/contacts", &body).await;
    v["id"].as_str().expect("contact id").to_string()
}

/// One loader-like ticket: 10 requests.
async fn ticket(c: &mut Conn, tag: &str, attachment: &[u8]) {
    let id = contact(c, tag).await;
    let conv = json!({"from": {"type": "user", "id": id}, "body": "My printer is on fire",
                      "created_at": 1_500_000_000});
    let m = c.json("POST", "/conversations", &conv).await;
    let conv = m["conversation_id"]
        .as_str()
        .expect("conversation id")
        .to_string();
    let reply = format!("/conversations/{conv}/reply");
    let admin = |kind: &str, t: i64| {
        json!({"type": "admin", "message_type": kind, "admin_id": "9000001",
               "body": "<p>Looking into it.</p>", "created_at": t, "skip_notifications": true})
    };
    let note = serde_json::to_vec(&admin("note", 1_500_000_100)).expect("body");
    c.call("POST", &reply, &note).await;
    c.call("POST", &reply, attachment).await;
    let user = json!({"type": "user", "message_type": "comment", "intercom_user_id": id,
                      "body": "Thanks, it is still smoking", "created_at": 1_500_000_300});
    c.call("POST", &reply, &serde_json::to_vec(&user).expect("body"))
        .await;
    let last = serde_json::to_vec(&admin("comment", 1_500_000_400)).expect("body");
    c.call("POST", &reply, &last).await;
    let path = format!("/conversations/{conv}");
    let update = json!({"custom_attributes": {"trackit_ticket": tag}});
    c.call("PUT", &path, &serde_json::to_vec(&update).expect("body"))
        .await;
    let parts = format!("{path}/parts");
    let assign = br#"{"message_type":"assignment","type":"admin","admin_id":"9000001","assignee_id":"9000001"}"#;
    c.call("POST", &parts, assign).await;
    let close = br#"{"message_type":"close","type":"admin","admin_id":"9000001"}"#;
    c.call("POST", &parts, close).await;
    c.call("GET", &path, b"").await;
}

async fn setup(addr: &str, prefill: usize, workers: usize) {
    let mut c = Conn::open(addr).await;
    c.json(
        "POST",
        "/data_attributes",
        &json!({"name": "trackit_id", "model": "contact", "data_type": "string"}),
    )
    .await;
    c.json(
        "POST",
        "/conversations/attributes",
        &json!({"name": "trackit_ticket", "data_type": "string"}),
    )
    .await;
    let per = prefill.div_ceil(workers.max(1));
    let tasks: Vec<_> = (0..workers.max(1))
        .map(|w| {
            let addr = addr.to_string();
            tokio::spawn(async move {
                let mut c = Conn::open(&addr).await;
                for i in 0..per {
                    contact(&mut c, &format!("P{w}-{i}")).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("prefill");
    }
}

async fn worker(addr: String, w: usize, deadline: Instant, count: Arc<AtomicU64>) {
    let mut c = Conn::open(&addr).await;
    let attachment = serde_json::to_vec(&json!({"type": "admin", "message_type": "comment",
        "admin_id": "9000001", "body": "Log attached.", "created_at": 1_500_000_200,
        "skip_notifications": true,
        "attachment_files": [{"name": "printer.log", "content_type": "text/plain",
                              "data": "cGFwZXIgamFtIGluIHRyYXkgMgpmaXJlIGRldGVjdGVkCg=="}]}))
    .expect("body");
    let mut i = 0u64;
    while Instant::now() < deadline {
        i += 1;
        ticket(&mut c, &format!("W{w}-{i}"), &attachment).await;
        count.fetch_add(10, Ordering::Relaxed);
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let secs: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let workers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8);
    let prefill: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    // One client thread: the client must not compete with the server for the second core more than needed.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let spawn_at = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_intercom-sim"))
        .args(["--rate-limit-per-minute", "0", "--search-lag-ms", "0"])
        .env("INTERCOM_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn intercom-sim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let startup = spawn_at.elapsed();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .expect("listening line")
        .to_string();
    println!(
        "startup: {:.1} ms from spawn to the listening line",
        startup.as_secs_f64() * 1e3
    );
    let server_pid = child.id().to_string();
    rt.block_on(async {
        let t = Instant::now();
        setup(&addr, prefill, workers).await;
        println!(
            "prefill: {prefill} contacts in {:.2} s",
            t.elapsed().as_secs_f64()
        );
        let count = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(secs);
        let started = Instant::now();
        let (client0, server0) = (cpu_secs("self"), cpu_secs(&server_pid));
        let tasks: Vec<_> = (0..workers)
            .map(|w| tokio::spawn(worker(addr.clone(), w, deadline, count.clone())))
            .collect();
        for t in tasks {
            t.await.expect("worker");
        }
        let elapsed = started.elapsed().as_secs_f64();
        let (client_cpu, server_cpu) =
            (cpu_secs("self") - client0, cpu_secs(&server_pid) - server0);
        let n = count.load(Ordering::Relaxed);
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        println!(
            "{n} requests in {elapsed:.2} s with {workers} connections = {:.0} requests/s (client and server share {cores} cores)",
            n as f64 / elapsed
        );
        println!(
            "server CPU {server_cpu:.2} s = {:.0} µs per request = {:.0} requests/s per core; client CPU {client_cpu:.2} s; load average {}",
            server_cpu * 1e6 / n as f64,
            n as f64 / server_cpu.max(0.001),
            loadavg()
        );
    });
    let _ = child.kill();
    let _ = child.wait();
}
