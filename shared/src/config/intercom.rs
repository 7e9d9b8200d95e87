//! `[intercom]`: the target workspace and how fast `ti-load` may call it.

use serde::{Deserialize, Serialize};

/// Intercom data-hosting region (intercom-api.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// `https://api.intercom.io` (default).
    #[default]
    Us,
    /// `https://api.eu.intercom.io`.
    Eu,
    /// `https://api.au.intercom.io`.
    Au,
}

/// `[intercom]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntercomConfig {
    /// Workspace region; ignored when `base_url` is set. Default `us`.
    pub region: Region,
    /// Explicit API base URL (the simulator, e.g. `http://127.0.0.1:8080`); overrides `region`.
    pub base_url: Option<String>,
    /// Name of the environment variable holding the access token. Default `INTERCOM_TOKEN`.
    pub token_env: String,
    /// `Intercom-Version` header sent on every call. Default `2.16`.
    pub api_version: String,
    /// Ceiling on requests per minute across all workers. Default 10,000 (Intercom's documented private-app
    /// limit, enforced in 10-second windows); lower it if the workspace shares its limit with other apps.
    pub requests_per_minute: u32,
    /// Conversations loaded in parallel (parts within one conversation stay in order). Default 4.
    pub workers: u32,
    /// Per-request timeout, seconds. Default 30.
    pub timeout_seconds: u64,
}

impl Default for IntercomConfig {
    fn default() -> Self {
        Self {
            region: Region::Us,
            base_url: None,
            token_env: "INTERCOM_TOKEN".into(),
            api_version: "2.16".into(),
            requests_per_minute: 10_000,
            workers: 4,
            timeout_seconds: 30,
        }
    }
}

impl IntercomConfig {
    /// The API base URL without a trailing slash: `base_url` when set, else the region's.
    pub fn effective_base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => match self.region {
                Region::Us => "https://api.intercom.io".into(),
                Region::Eu => "https://api.eu.intercom.io".into(),
                Region::Au => "https://api.au.intercom.io".into(),
            },
        }
    }

    pub(super) fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.requests_per_minute == 0 {
            problems.push("intercom.requests_per_minute must be at least 1".into());
        }
        if self.workers == 0 {
            problems.push("intercom.workers must be at least 1".into());
        }
        if self.token_env.is_empty() {
            problems.push("intercom.token_env must name an environment variable".into());
        }
        if self.timeout_seconds == 0 {
            problems.push("intercom.timeout_seconds must be at least 1".into());
        }
        if let Some(url) = &self.base_url
            && let Err(why) = check_base_url(url)
        {
            problems.push(format!("intercom.base_url {url:?}: {why}"));
        }
        problems
    }
}

/// Checks a `base_url` override: `http://` or `https://`, a host (with an optional port), and at most a path
/// after it; no second scheme (`http://http://…`, a paste mistake), no spaces, query or fragment.
///
/// # Errors
/// A short reason, shown after the key and value.
fn check_base_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    let host = rest.split('/').next().unwrap_or_default();
    // "[::1]:8080" (IPv6 literal) or "name:8080"; the port is optional.
    let (host_name, port) = match host.find(']') {
        Some(end) => (&host[..=end], host[end + 1..].strip_prefix(':')),
        None => match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    if host_name.is_empty() || rest.contains("://") {
        return Err(
            "needs one scheme and a host, like https://api.intercom.io or http://127.0.0.1:8080",
        );
    }
    if port.is_some_and(|p| p.parse::<u16>().is_err()) {
        return Err("the port after the host must be a number from 0 to 65535");
    }
    if url.contains(char::is_whitespace) || url.contains(['?', '#']) {
        return Err("must not hold spaces, a query (?…) or a fragment (#…)");
    }
    Ok(())
}
