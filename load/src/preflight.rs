//! Preflight (DESIGN.md §7): the operator's checklist, token and version (`GET /me`), technicians matched to
//! admins by email (`gaps/technicians.csv` against `GET /admins`), the fallback admin, the custom-attribute quota,
//! and the migration tag.

use crate::client::{ApiError, Client};
use crate::context::id_str;
use crate::resolve::Admins;
use serde_json::{Value, json};
use std::collections::HashMap;
use ti_shared::bundle::Bundle;
use ti_shared::records::{RecordKind, read_records};

/// The workspace checklist the operator confirms once (`--workspace-ready` or `[load] workspace_ready = true`).
pub const CHECKLIST: &[&str] = &[
    "workflows that react to new conversations or replies are paused",
    "CSAT surveys are paused",
    "SLAs are paused",
    "outbound messages (series, posts, emails) are paused",
    "the attachment types of the migration are allowed (Settings > Security > Attachments)",
];

/// Custom attributes allowed per model (intercom-api.md §7: 250 documented for people; applied to each model).
pub const ATTRIBUTE_QUOTA: usize = 250;

/// A preflight failure: the user's to fix (exit code 2) unless it is an API error.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The checklist was not confirmed.
    #[error(
        "the workspace checklist is not confirmed; check each item, then pass --workspace-ready (or set [load] workspace_ready = true):\n  - {}",
        CHECKLIST.join("\n  - ")
    )]
    NotReady,
    /// Technicians without an admin and no fallback configured.
    #[error(
        "{} technician(s) match no Intercom admin by email (listed in {queue}); invite them, or set [load] fallback_admin_email: {}",
        names.len(), names.join(", ")
    )]
    Unmatched {
        /// `name <email>` of each.
        names: Vec<String>,
        /// The reconciliation queue file written.
        queue: String,
    },
    /// The configured fallback admin does not exist.
    #[error("[load] fallback_admin_email {0:?} is not an admin of this workspace")]
    NoFallback(String),
    /// The attribute plan exceeds the quota.
    #[error(
        "custom attributes for {model}: {existing} exist and {new} would be created, over the quota of {quota}"
    )]
    Quota {
        /// `contact`, `company` or `conversation`.
        model: String,
        /// Existing (archived included).
        existing: usize,
        /// To create.
        new: usize,
        /// Quota.
        quota: usize,
    },
    /// API failure (token invalid, network…).
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The bundle could not be read.
    #[error("{0}")]
    Bundle(String),
}

impl PreflightError {
    /// True when the problem is the user's to fix (exit code 2).
    pub fn is_usage(&self) -> bool {
        match self {
            PreflightError::Api(e) => e.status() == Some(401) || e.status() == Some(403),
            PreflightError::Bundle(_) => false,
            _ => true,
        }
    }
}

/// One row of `gaps/technicians.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Technician {
    /// Technician key (`technician:<key>` in records).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
}

/// Splits one CSV line (RFC 4180 quotes; no embedded newlines).
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Quotes a CSV field when needed.
pub fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Reads `gaps/technicians.csv` (header `key,name,email,login,active`); absent file = no technicians.
///
/// # Errors
/// A message when the file is listed but unreadable.
pub fn technicians(bundle: &Bundle) -> Result<Vec<Technician>, String> {
    let rel = "gaps/technicians.csv";
    if bundle.entry(rel).is_none() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(bundle.path(rel)).map_err(|e| format!("{rel}: {e}"))?;
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap_or_default());
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (k, n, e) = (
        col("key").unwrap_or(0),
        col("name").unwrap_or(1),
        col("email").unwrap_or(2),
    );
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f = csv_fields(l);
            let get = |i: usize| f.get(i).cloned().unwrap_or_default();
            Technician {
                key: get(k),
                name: get(n),
                email: get(e),
            }
        })
        .collect())
}

/// What preflight learned.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Admin matching.
    pub admins: Admins,
    /// `app.id_code` from `GET /me` (for inbox URLs).
    pub app_id: String,
    /// Migration tag id.
    pub tag_id: String,
    /// Technicians without an admin (posted by the fallback).
    pub unmatched: Vec<Technician>,
}

/// Runs every check. With `dry_run` the migration tag is not created (`tag_id` is `<tag>`; `ti-load run` creates
/// it with [`create_tag`] once the traces check passed). `write_queue(csv)` receives the reconciliation queue (unmatched technicians) when non-empty.
///
/// # Errors
/// [`PreflightError`].
pub async fn run(
    client: &Client,
    bundle: &Bundle,
    workspace_ready: bool,
    fallback_email: &str,
    tag_name: &str,
    dry_run: bool,
    write_queue: impl FnOnce(&str) -> String,
) -> Result<Workspace, PreflightError> {
    if !workspace_ready {
        return Err(PreflightError::NotReady);
    }
    let me = client.get("/me").await?;
    let me_id = id_str(me.get("id")).unwrap_or_default();
    let app_id = me
        .get("app")
        .and_then(|a| a.get("id_code"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let admins = client.get("/admins").await?;
    let mut by_email: HashMap<String, String> = HashMap::new();
    for a in admins
        .get("admins")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(email), Some(id)) =
            (a.get("email").and_then(Value::as_str), id_str(a.get("id")))
        {
            by_email.insert(email.trim().to_lowercase(), id);
        }
    }
    let techs = technicians(bundle).map_err(PreflightError::Bundle)?;
    let mut by_tech = HashMap::new();
    let mut unmatched = Vec::new();
    for t in techs {
        match by_email.get(&t.email.trim().to_lowercase()) {
            Some(id) if !t.email.trim().is_empty() => {
                by_tech.insert(t.key.clone(), id.clone());
            }
            _ => unmatched.push(t),
        }
    }
    let fallback = if fallback_email.trim().is_empty() {
        if !unmatched.is_empty() {
            let mut csv = String::from("key,name,email\n");
            for t in &unmatched {
                csv.push_str(&format!(
                    "{},{},{}\n",
                    csv_quote(&t.key),
                    csv_quote(&t.name),
                    csv_quote(&t.email)
                ));
            }
            let queue = write_queue(&csv);
            return Err(PreflightError::Unmatched {
                names: unmatched
                    .iter()
                    .map(|t| format!("{} <{}>", t.name, t.email))
                    .collect(),
                queue,
            });
        }
        me_id.clone()
    } else {
        by_email
            .get(&fallback_email.trim().to_lowercase())
            .cloned()
            .ok_or_else(|| PreflightError::NoFallback(fallback_email.to_string()))?
    };
    check_quota(client, bundle).await?;
    let tag_id = if dry_run {
        String::from("<tag>")
    } else {
        create_tag(client, tag_name).await?
    };
    Ok(Workspace {
        admins: Admins {
            me: me_id,
            fallback,
            by_tech,
        },
        app_id,
        tag_id,
        unmatched,
    })
}

/// Creates (or finds: `POST /tags` is an upsert by name) the migration tag and returns its id.
///
/// # Errors
/// [`PreflightError::Api`].
pub async fn create_tag(client: &Client, tag_name: &str) -> Result<String, PreflightError> {
    let tag = client.post("/tags", &json!({"name": tag_name})).await?;
    Ok(id_str(tag.get("id")).unwrap_or_default())
}

async fn check_quota(client: &Client, bundle: &Bundle) -> Result<(), PreflightError> {
    let mut planned: HashMap<String, Vec<String>> = HashMap::new();
    for kind in [RecordKind::DataAttribute, RecordKind::ConversationAttribute] {
        let rel = kind.file_path();
        if bundle.entry(&rel).is_none() {
            continue;
        }
        let file = bundle
            .open_file(&rel)
            .map_err(|e| PreflightError::Bundle(e.to_string()))?;
        for rec in read_records(file) {
            let rec = rec.map_err(|e| PreflightError::Bundle(format!("{rel}: {e}")))?;
            let model = match kind {
                RecordKind::ConversationAttribute => "conversation".to_string(),
                _ => rec
                    .body
                    .get("model")
                    .and_then(Value::as_str)
                    .unwrap_or("contact")
                    .to_string(),
            };
            planned.entry(model).or_default().push(
                rec.body
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            );
        }
    }
    for (model, names) in planned {
        let path = if model == "conversation" {
            "/conversations/attributes?include_archived=true".to_string()
        } else {
            format!("/data_attributes?model={model}&include_archived=true")
        };
        let list = client.get(&path).await?;
        let existing: Vec<String> = list
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|a| a.get("custom").and_then(Value::as_bool).unwrap_or(true))
            .filter_map(|a| a.get("name").and_then(Value::as_str).map(str::to_string))
            .collect();
        let new = names.iter().filter(|n| !existing.contains(n)).count();
        if existing.len() + new > ATTRIBUTE_QUOTA {
            return Err(PreflightError::Quota {
                model,
                existing: existing.len(),
                new,
                quota: ATTRIBUTE_QUOTA,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_split_with_quotes() {
        assert_eq!(
            csv_fields(r#"a,"b, c","d ""x""",e"#),
            vec!["a", "b, c", "d \"x\"", "e"]
        );
        assert_eq!(csv_quote("a,b"), "\"a,b\"");
    }
}
