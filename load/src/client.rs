//! The Intercom HTTP client: bearer token (never logged), pinned `Intercom-Version`, `error.list` parsing, the
//! shared rate limiter, bounded jittered retries of requests that are safe to repeat, and typed errors that tell a
//! request that certainly failed from one whose outcome is unknown (intercom-api.md §2, §3, §15).

use crate::limiter::{Limiter, RateHeaders, unix_now};
use rand::Rng;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The access token. Its `Debug` and `Display` never show the value.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token value.
    pub fn new(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Create / action (not idempotent unless the endpoint says so).
    Post,
    /// Update (idempotent).
    Put,
    /// Delete (idempotent).
    Delete,
}

impl Method {
    fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    /// Name as in HTTP.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Intercom answered with an error status (4xx other than 429, or a 5xx on a request that is safe to repeat
    /// once all attempts were used). `code`/`message` come from the first entry of `error.list`.
    #[error("{method} {path}: HTTP {status} {code}: {message}")]
    Status {
        /// HTTP method.
        method: &'static str,
        /// Path (no host, no query secrets: the API has none).
        path: String,
        /// HTTP status.
        status: u16,
        /// Intercom error code (`parameter_invalid`, `conflict`…), or `http_<status>` when the body had none.
        code: String,
        /// Intercom message.
        message: String,
    },
    /// The request may or may not have been applied (timeout, dropped connection, 5xx on a create): the caller
    /// must reconcile with a lookup before sending it again.
    #[error("{method} {path}: outcome unknown ({reason})")]
    Unknown {
        /// HTTP method.
        method: &'static str,
        /// Path.
        path: String,
        /// What happened.
        reason: String,
    },
    /// The response was 2xx but not JSON.
    #[error("{method} {path}: unreadable response: {reason}")]
    BadResponse {
        /// HTTP method.
        method: &'static str,
        /// Path.
        path: String,
        /// Parser message.
        reason: String,
    },
}

impl ApiError {
    /// HTTP status when Intercom answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Intercom message when Intercom answered.
    pub fn message(&self) -> &str {
        match self {
            ApiError::Status { message, .. } => message,
            ApiError::Unknown { reason, .. } | ApiError::BadResponse { reason, .. } => reason,
        }
    }

    /// True when the outcome is unknown and must be reconciled.
    pub fn is_unknown(&self) -> bool {
        matches!(self, ApiError::Unknown { .. })
    }
}

/// Counters of one client.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests sent (every attempt).
    pub requests: AtomicU64,
    /// Responses with 2xx.
    pub ok: AtomicU64,
    /// Retries (5xx, timeouts, connection errors on safe requests).
    pub retries: AtomicU64,
    /// Requests whose outcome was unknown.
    pub unknown: AtomicU64,
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL without trailing slash.
    pub base_url: String,
    /// `Intercom-Version` header.
    pub api_version: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts of a request that is safe to repeat (GET, PUT, DELETE) before giving up.
    pub max_attempts: u32,
    /// Test hook: kill the process right after the Nth state-changing response arrived, before anything is
    /// journaled (a crash between a create and its journal write).
    pub crash: Option<CrashPoint>,
}

/// Test hook (hidden flags of `ti-load run`): where the process dies, to prove the load is crash-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashPoint {
    /// The process dies right after this many state-changing (POST, PUT) 2xx responses, before the last one is
    /// journaled.
    pub after_requests: u64,
    /// Count only the responses received while this phase runs ([`Client::set_phase`]); None: all of them.
    pub in_phase: Option<String>,
    /// `false`: abort at once. `true`: print `ti-load: crash point reached …` on stderr and freeze the thread
    /// that got the response, so that the test sends SIGKILL at that moment (other workers go on until it does,
    /// as they would in a real kill).
    pub wait_for_kill: bool,
}

/// Ceiling on 429 retries of one request (each waits for the reset), so a permanent 429 cannot loop forever.
const MAX_RATE_LIMITED_RETRIES: u32 = 60;

/// The Intercom client. Clone freely (shares the connection pool, limiter and counters).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    cfg: Arc<ClientConfig>,
    token: Token,
    limiter: Arc<Limiter>,
    stats: Arc<Stats>,
    changes: Arc<AtomicU64>,
    phase: Arc<std::sync::RwLock<String>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.cfg.base_url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client.
    ///
    /// # Errors
    /// The TLS/HTTP stack could not be initialised (reported as [`ApiError::BadResponse`] on path `-`).
    pub fn new(cfg: ClientConfig, token: Token, limiter: Arc<Limiter>) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| ApiError::BadResponse {
                method: "-",
                path: "-".into(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            cfg: Arc::new(cfg),
            token,
            limiter,
            stats: Arc::new(Stats::default()),
            changes: Arc::new(AtomicU64::new(0)),
            phase: Arc::default(),
        })
    }

    /// Names the phase now running (for the crash hook's `in_phase`; every clone sees it).
    pub fn set_phase(&self, phase: &str) {
        *self.phase.write().unwrap_or_else(|p| p.into_inner()) = phase.to_string();
    }

    /// The shared limiter.
    pub fn limiter(&self) -> &Arc<Limiter> {
        &self.limiter
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Requests sent so far (every attempt).
    pub fn requests(&self) -> u64 {
        self.stats.requests.load(Ordering::Relaxed)
    }

    /// `GET path`.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.call(Method::Get, path, None).await
    }

    /// `POST path` with a JSON body.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Method::Post, path, Some(body)).await
    }

    /// `PUT path` with a JSON body.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Method::Put, path, Some(body)).await
    }

    /// `DELETE path`.
    ///
    /// # Errors
    /// As [`call`](Self::call).
    pub async fn delete(&self, path: &str) -> Result<Value, ApiError> {
        self.call(Method::Delete, path, None).await
    }

    /// One API call with the shared limiter and bounded retries. 429s wait for the reset and retry (up to 60
    /// times); 5xx, 408, timeouts and dropped connections are retried with jittered backoff for GET/PUT/DELETE
    /// (up to `max_attempts`), and reported as [`ApiError::Unknown`] at once for POST, whose effect must be
    /// reconciled before it is sent again. A connection that could not be opened is always safe to retry.
    ///
    /// # Errors
    /// [`ApiError::Status`] for error answers, [`ApiError::Unknown`] as above, [`ApiError::BadResponse`] for a
    /// 2xx that is not JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let idempotent = method != Method::Post;
        let url = format!("{}{}", self.cfg.base_url, path);
        let mut attempts = 0u32;
        let mut limited = 0u32;
        loop {
            self.limiter.acquire().await;
            attempts += 1;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut req = self
                .http
                .request(method.as_reqwest(), &url)
                .bearer_auth(&self.token.0)
                .header("Intercom-Version", &self.cfg.api_version)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(b);
            }
            let outcome = req.send().await;
            let retry_reason = match outcome {
                Err(e) => {
                    let reason = describe(&e);
                    if e.is_connect() || idempotent {
                        reason
                    } else {
                        self.stats.unknown.fetch_add(1, Ordering::Relaxed);
                        return Err(ApiError::Unknown {
                            method: method.as_str(),
                            path: path.to_string(),
                            reason,
                        });
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = RateHeaders::from_headers(resp.headers());
                    let now = unix_now();
                    if status == 429 {
                        self.limiter.on_429(&headers, now);
                        limited += 1;
                        attempts -= 1;
                        if limited > MAX_RATE_LIMITED_RETRIES {
                            return Err(ApiError::Status {
                                method: method.as_str(),
                                path: path.to_string(),
                                status,
                                code: "rate_limit_exceeded".into(),
                                message: format!(
                                    "still rate limited after {MAX_RATE_LIMITED_RETRIES} waits"
                                ),
                            });
                        }
                        continue;
                    }
                    self.limiter.observe(&headers, now);
                    let text = resp.text().await;
                    let text = match text {
                        Ok(t) => t,
                        Err(e) if idempotent => {
                            let reason = describe(&e);
                            self.retry_wait(attempts, path, &reason)
                                .await
                                .map_err(|_| ApiError::Unknown {
                                    method: method.as_str(),
                                    path: path.to_string(),
                                    reason: format!("{reason} (after {attempts} attempts)"),
                                })?;
                            continue;
                        }
                        Err(e) => {
                            self.stats.unknown.fetch_add(1, Ordering::Relaxed);
                            return Err(ApiError::Unknown {
                                method: method.as_str(),
                                path: path.to_string(),
                                reason: describe(&e),
                            });
                        }
                    };
                    if (200..300).contains(&status) {
                        self.stats.ok.fetch_add(1, Ordering::Relaxed);
                        if !idempotent || method == Method::Put {
                            self.crash_hook();
                        }
                        if text.trim().is_empty() {
                            return Ok(Value::Null);
                        }
                        return serde_json::from_str(&text).map_err(|e| ApiError::BadResponse {
                            method: method.as_str(),
                            path: path.to_string(),
                            reason: e.to_string(),
                        });
                    }
                    let (code, message) = parse_error_list(&text, status);
                    if status >= 500 || status == 408 {
                        let reason = format!("HTTP {status} {code}");
                        if !idempotent {
                            self.stats.unknown.fetch_add(1, Ordering::Relaxed);
                            return Err(ApiError::Unknown {
                                method: method.as_str(),
                                path: path.to_string(),
                                reason,
                            });
                        }
                        reason
                    } else {
                        return Err(ApiError::Status {
                            method: method.as_str(),
                            path: path.to_string(),
                            status,
                            code,
                            message,
                        });
                    }
                }
            };
            self.retry_wait(attempts, path, &retry_reason)
                .await
                .map_err(|_| ApiError::Unknown {
                    method: method.as_str(),
                    path: path.to_string(),
                    reason: format!("{retry_reason} (after {attempts} attempts)"),
                })?;
        }
    }

    async fn retry_wait(&self, attempts: u32, path: &str, reason: &str) -> Result<(), ()> {
        if attempts >= self.cfg.max_attempts {
            return Err(());
        }
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        let wait = backoff(attempts);
        tracing::debug!(
            path,
            reason,
            attempt = attempts,
            wait_ms = wait.as_millis() as u64,
            "retrying"
        );
        tokio::time::sleep(wait).await;
        Ok(())
    }

    fn crash_hook(&self) {
        if let Some(c) = &self.cfg.crash {
            if c.in_phase
                .as_ref()
                .is_some_and(|p| *p != *self.phase.read().unwrap_or_else(|e| e.into_inner()))
            {
                return;
            }
            let done = self.changes.fetch_add(1, Ordering::SeqCst) + 1;
            if done >= c.after_requests {
                if c.wait_for_kill {
                    eprintln!(
                        "ti-load: crash point reached after {done} state-changing responses; waiting for SIGKILL"
                    );
                    loop {
                        std::thread::park();
                    }
                }
                eprintln!("ti-load: crash injected after {done} state-changing responses");
                std::process::abort();
            }
        }
    }
}

/// Jittered exponential backoff for attempt `n` (1-based): 100 ms, 200 ms, 400 ms … capped at 5 s, times 0.5–1.5.
pub fn backoff(n: u32) -> Duration {
    let base = (100u64 << n.saturating_sub(1).min(6)).min(5_000) as f64;
    Duration::from_millis((base * rand::rng().random_range(0.5..1.5)) as u64)
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display can contain the URL but never request headers, so the token cannot leak here.
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        // Name the address, so a wrong `base_url` or region, or a proxy in the way, shows at once.
        match e.url() {
            Some(url) => format!(
                "cannot connect to {} (check [intercom] region/base_url and the network)",
                url.origin().ascii_serialization()
            ),
            None => "connection failed".into(),
        }
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }
}

/// Extracts `(code, message)` from an Intercom `error.list` body; `http_<status>` and the raw text otherwise.
pub fn parse_error_list(text: &str, status: u16) -> (String, String) {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let first = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(|e| e.get(0));
    match first {
        Some(e) => (
            e.get("code")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string(),
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        None => (format!("http_{status}"), text.chars().take(200).collect()),
    }
}

/// The contact id in a 409 message `A contact matching those details already exists with id=…`.
pub fn conflict_id(message: &str) -> Option<String> {
    let rest = message.split("id=").nth(1)?;
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that accepts connections and never answers: every request times out.
    async fn silent_server() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn timeouts_retry_safe_requests_and_report_creates_as_unknown() {
        let cfg = ClientConfig {
            base_url: silent_server().await,
            api_version: "2.16".into(),
            timeout: Duration::from_millis(150),
            max_attempts: 3,
            crash: None,
        };
        let client =
            Client::new(cfg, Token::new("t".into()), Arc::new(Limiter::new(10_000))).unwrap();
        let err = client.get("/me").await.unwrap_err();
        assert!(err.is_unknown(), "{err}");
        assert_eq!(client.requests(), 3, "a GET is retried up to max_attempts");
        let err = client
            .post("/conversations", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(
            err.is_unknown() && err.to_string().contains("timeout"),
            "{err}"
        );
        assert_eq!(
            client.requests(),
            4,
            "a POST whose outcome is unknown is not resent blindly"
        );
    }

    #[test]
    fn error_lists_and_conflicts_parse() {
        let body = r#"{"type":"error.list","request_id":"x","errors":[{"code":"conflict","message":"A contact matching those details already exists with id=6762f13000000000abc"}]}"#;
        let (code, msg) = parse_error_list(body, 409);
        assert_eq!(code, "conflict");
        assert_eq!(conflict_id(&msg).as_deref(), Some("6762f13000000000abc"));
        assert_eq!(parse_error_list("oops", 502).0, "http_502");
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(
            format!("{:?}", Token::new("sekrit".into())),
            "Token(<redacted>)"
        );
    }
}
