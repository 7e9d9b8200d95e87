//! Test harness: spawn the `intercom-sim` binary on 127.0.0.1:0, talk to it with reqwest, and check every
//! exchange against the 2.16 OpenAPI schemas (see `conformance.rs`).
#![allow(dead_code)]

pub mod conformance;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The token every test uses.
pub const TOKEN: &str = "test-token-123";

/// A running simulator child process (killed on drop).
pub struct Sim {
    pub child: Child,
    pub base: String,
    pub client: reqwest::Client,
}

impl Sim {
    /// Start with extra arguments; search lag 0 and a generous rate limit unless overridden.
    pub fn start(args: &[&str]) -> Sim {
        let mut all: Vec<String> = vec![];
        if !args.contains(&"--search-lag-ms") {
            all.extend(["--search-lag-ms".into(), "0".into()]);
        }
        if !args.contains(&"--rate-limit-per-minute") {
            all.extend(["--rate-limit-per-minute".into(), "6000000".into()]);
        }
        all.extend(args.iter().map(|s| s.to_string()));
        Self::start_raw(&all)
    }

    /// Start with exactly these arguments.
    pub fn start_raw(args: &[String]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_intercom-sim"))
            .args(args)
            .env("INTERCOM_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn intercom-sim");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line was {line:?}"))
            .to_string();
        assert!(base.starts_with("http://127.0.0.1:"));
        Sim {
            child,
            base,
            client: reqwest::Client::new(),
        }
    }

    /// Send a request with the right token and version; returns status, headers and JSON body, and checks
    /// the exchange against the OpenAPI schemas.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call_with(method, path, body, Some(TOKEN), Some("2.16"))
            .await
    }

    /// Full control over token and version header.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        version: Option<&str>,
    ) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .client
            .request(m, format!("{}{}", self.base, path))
            .header("Accept", "application/json");
        if let Some(t) = token {
            rb = rb.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(v) = version {
            rb = rb.header("Intercom-Version", v);
        }
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let json: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(json!({"raw": text}))
        };
        if !path.starts_with("/_sim") {
            conformance::check(method, path, body.as_ref(), status, &json);
        }
        Resp {
            status,
            headers,
            body: json,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, None).await
    }

    /// `POST /_sim/faults` with `specs` (a JSON array of fault specs; control endpoint, no conformance
    /// check); returns the HTTP status.
    pub async fn set_faults(&self, specs: Value) -> u16 {
        self.client
            .post(format!("{}/_sim/faults", self.base))
            .json(&specs)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// `GET path` and count the items of its `data` list.
    pub async fn count(&self, path: &str) -> usize {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body["data"].as_array().map_or(0, Vec::len)
    }

    /// `GET /_sim/state`.
    pub async fn state(&self) -> Value {
        self.get("/_sim/state").await.body
    }

    /// Create a contact and return its id.
    pub async fn contact(&self, body: Value) -> String {
        let r = self.post("/contacts", body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// Create a conversation from `contact` and return its id.
    pub async fn conversation(&self, contact: &str, body: &str) -> String {
        let r = self
            .post(
                "/conversations",
                json!({"from": {"type": "user", "id": contact}, "body": body}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["conversation_id"].as_str().unwrap().to_string()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// The first error's code.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }
    /// The first error's message.
    pub fn message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or("")
    }
    /// A header as i64.
    pub fn header_i64(&self, name: &str) -> Option<i64> {
        self.headers.get(name)?.to_str().ok()?.parse().ok()
    }
}

/// The default admin id.
pub const ME: &str = "9000001";
