//! Traces of an earlier run of this migration in the workspace, looked for when a run starts with a fresh
//! journal (newcomer finding 1): a new journal cannot tell which objects an earlier run created, so loading
//! again would duplicate conversations, collections, articles and notes. When traces exist the run is refused
//! and the operator is told to resume with that run's journal or to roll it back first.
//!
//! Conversations carrying the migration tag are counted with `POST /conversations/search` (`tag_ids`), which
//! sees everything older than the search lag, plus the newest page of `GET /conversations` (lists do not lag,
//! DESIGN.md §7), which covers the conversations created within the lag. Collections and articles are matched
//! by name/title against the bundle's through their list endpoints (no lag).

use crate::client::{ApiError, Client};
use crate::context::id_str;
use crate::kinds::list_pages;
use crate::phases::read_kind;
use serde_json::{Value, json};
use std::collections::HashSet;
use ti_shared::bundle::Bundle;
use ti_shared::records::RecordKind;

/// Conversations of the newest `GET /conversations` page inspected for the tag (covers the search lag).
pub const RECENT_PAGE: usize = 150;

/// What an earlier run of the migration left in the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traces {
    /// Conversations carrying the migration tag.
    pub conversations: u64,
    /// Collections named like one of the bundle's.
    pub collections: u64,
    /// Articles titled like one of the bundle's.
    pub articles: u64,
}

impl Traces {
    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.conversations == 0 && self.collections == 0 && self.articles == 0
    }

    /// The refusal message (exit code 2), naming the tag and the journal flag.
    pub fn message(&self, tag: &str, journal: &str) -> String {
        format!(
            "this workspace already holds {} conversation(s), {} collection(s) and {} article(s) from a Track-It! migration (tag {tag:?}); resume with the journal of that run (--journal …, not the new {journal}), or roll it back first (ti-load rollback --journal … --yes)",
            self.conversations, self.collections, self.articles
        )
    }
}

fn names(bundle: &Bundle, kind: RecordKind, field: &str) -> Result<HashSet<String>, String> {
    Ok(read_kind(bundle, kind)?
        .iter()
        .filter_map(|r| {
            r.body
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect())
}

fn has_tag(conv: &Value, tag_id: &str) -> bool {
    conv.get("tags")
        .and_then(|t| t.get("tags").or(t.get("data")).or(Some(t)))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|t| id_str(t.get("id")).as_deref() == Some(tag_id))
}

/// Looks for traces of the migration: `tag_id` is the id of the migration tag, `None` when the workspace has no
/// such tag (then no conversation can carry it).
///
/// # Errors
/// [`ApiError`] from the API (an unreadable record file counts as no names: the bundle was verified before).
pub async fn find(
    client: &Client,
    bundle: &Bundle,
    tag_id: Option<&str>,
) -> Result<Traces, ApiError> {
    let mut t = Traces::default();
    if let Some(tag_id) = tag_id.filter(|s| !s.is_empty()) {
        let query = json!({"query": {"field": "tag_ids", "operator": "=", "value": tag_id},
                           "pagination": {"per_page": 1}});
        // A search changes nothing: an answer lost to a 5xx or a reset is simply asked again.
        let mut tries = 0;
        let found = loop {
            tries += 1;
            match client.post("/conversations/search", &query).await {
                Err(e) if e.is_unknown() && tries < 4 => {
                    tokio::time::sleep(crate::client::backoff(tries)).await;
                }
                other => break other?,
            }
        };
        let searched = found
            .get("total_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let recent = client
            .get(&format!("/conversations?per_page={RECENT_PAGE}"))
            .await?;
        let recent_tagged = recent
            .get("conversations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| has_tag(c, tag_id))
            .count() as u64;
        t.conversations = searched.max(recent_tagged);
    }
    let collections = names(bundle, RecordKind::Collection, "name").unwrap_or_default();
    if !collections.is_empty() {
        t.collections = list_pages(client, "/help_center/collections")
            .await?
            .iter()
            .filter(|c| {
                c.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| collections.contains(n))
            })
            .count() as u64;
    }
    let articles = names(bundle, RecordKind::Article, "title").unwrap_or_default();
    if !articles.is_empty() {
        t.articles = list_pages(client, "/articles")
            .await?
            .iter()
            .filter(|a| {
                a.get("title")
                    .and_then(Value::as_str)
                    .is_some_and(|n| articles.contains(n))
            })
            .count() as u64;
    }
    Ok(t)
}

/// The id of the tag named `name`, when the workspace has it (`GET /tags`).
///
/// # Errors
/// [`ApiError`].
pub async fn tag_id(client: &Client, name: &str) -> Result<Option<String>, ApiError> {
    let tags = client.get("/tags").await?;
    Ok(tags
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|t| id_str(t.get("id"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_found_in_either_shape() {
        let c = json!({"tags": {"type": "tag.list", "tags": [{"id": "7"}]}});
        assert!(has_tag(&c, "7"));
        assert!(!has_tag(&c, "8"));
        assert!(has_tag(&json!({"tags": [{"id": 7}]}), "7"));
        let t = Traces {
            conversations: 3,
            ..Traces::default()
        };
        assert!(!t.is_empty());
        assert!(t.message("Migrated", "j").contains("3 conversation(s)"));
    }
}
