//! Traces of an earlier run of this migration in the workspace, looked for when a run starts with a fresh
//! journal (newcomer finding 1): a new journal cannot tell which objects an earlier run created, so loading
//! again would duplicate conversations, collections, articles and notes.
//!
//! Only what identifies our objects refuses the run (exit 2): conversations carrying the migration tag, counted
//! with `POST /conversations/search` (`tag_ids`), which sees everything older than the search lag, plus the
//! newest page of `GET /conversations` (lists do not lag, DESIGN.md §7), which covers those created within the
//! lag. Collections and articles carry nothing of ours that a customer's could not carry too: the loader sends
//! only the transform's `name`/`description`/`parent_id` (collections) and `title`/`body`/`author_id`/`state`/
//! `parent_id` (articles), and Intercom can tag neither collections nor (through our calls) articles. So
//! collections and articles named like the bundle's (list endpoints, no lag) are only listed in a warning, and
//! their ids are kept in the journal ([`PREEXISTING_META`]) so that the collection/article probe never claims a
//! customer's object for one of ours (docs/load.md, "A fresh journal").

use crate::client::{ApiError, Client};
use crate::context::id_str;
use crate::kinds::list_pages;
use crate::phases::read_kind;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::fmt::Write as _;
use ti_shared::bundle::Bundle;
use ti_shared::records::RecordKind;

/// Conversations of the newest `GET /conversations` page inspected for the tag (covers the search lag).
pub const RECENT_PAGE: usize = 150;

/// Journal `meta` key: space-separated Intercom ids of the collections and articles that existed, named like
/// one of the bundle's, when the journal started. The collection/article probe never claims them.
pub const PREEXISTING_META: &str = "preexisting_help_center";

/// A collection or article of the workspace named like one of the bundle's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Its Intercom id.
    pub id: String,
    /// Its name (collection) or title (article).
    pub name: String,
}

/// What the workspace holds that looks like an earlier run of the migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traces {
    /// Conversations carrying the migration tag: proof of an earlier run (refused).
    pub conversations: u64,
    /// Collections named like one of the bundle's (ours or the customer's: only warned about).
    pub collections: Vec<Named>,
    /// Articles titled like one of the bundle's (ours or the customer's: only warned about).
    pub articles: Vec<Named>,
}

impl Traces {
    /// True when the run must be refused: some conversation carries the migration tag.
    pub fn refuses(&self) -> bool {
        self.conversations > 0
    }

    /// The refusal message (exit code 2), naming the tag and the journal flag.
    pub fn message(&self, tag: &str, journal: &str) -> String {
        format!(
            "this workspace already holds {} conversation(s) from a Track-It! migration (tag {tag:?}); resume with the journal of that run (--journal …, not the new {journal}), or roll it back first (ti-load rollback --journal … --yes)",
            self.conversations
        )
    }

    /// The warning listing same-named collections and articles (one line each, `kind id "name"`), `None` when
    /// there are none.
    pub fn warning(&self) -> Option<String> {
        if self.collections.is_empty() && self.articles.is_empty() {
            return None;
        }
        let mut w = format!(
            "warning: the workspace already holds {} collection(s) and {} article(s) named like the bundle's; Intercom keeps nothing that tells a customer's from an earlier run's, so they are left alone and ours are created beside them (if an earlier run without its journal made them, roll that run back or delete them by hand):",
            self.collections.len(),
            self.articles.len()
        );
        for (kind, list) in [
            ("collection", &self.collections),
            ("article", &self.articles),
        ] {
            for n in list {
                let _ = write!(w, "\n  {kind} {} {:?}", n.id, n.name);
            }
        }
        Some(w)
    }

    /// The ids of every same-named collection and article, space-separated (for [`PREEXISTING_META`]).
    pub fn preexisting_ids(&self) -> String {
        self.collections
            .iter()
            .chain(&self.articles)
            .map(|n| n.id.as_str())
            .collect::<Vec<_>>()
            .join(" ")
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
    t.collections = same_named(client, bundle, RecordKind::Collection).await?;
    t.articles = same_named(client, bundle, RecordKind::Article).await?;
    Ok(t)
}

/// The collections (or articles) of the workspace named like one of the bundle's, in list order; no request when
/// the bundle has none.
async fn same_named(
    client: &Client,
    bundle: &Bundle,
    kind: RecordKind,
) -> Result<Vec<Named>, ApiError> {
    let (path, field) = match kind {
        RecordKind::Collection => ("/help_center/collections", "name"),
        _ => ("/articles", "title"),
    };
    let wanted = names(bundle, kind, field).unwrap_or_default();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    Ok(list_pages(client, path)
        .await?
        .iter()
        .filter_map(|o| {
            let name = o.get(field).and_then(Value::as_str)?;
            let id = id_str(o.get("id"))?;
            wanted.contains(name).then(|| Named {
                id,
                name: name.to_string(),
            })
        })
        .collect())
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
        assert!(t.refuses());
        assert!(t.message("Migrated", "j").contains("3 conversation(s)"));
        assert_eq!(t.warning(), None);
        let t = Traces {
            collections: vec![Named {
                id: "12".into(),
                name: "Printers".into(),
            }],
            articles: vec![Named {
                id: "40".into(),
                name: "Jam".into(),
            }],
            ..Traces::default()
        };
        assert!(!t.refuses());
        let w = t.warning().unwrap();
        assert!(w.contains("1 collection(s) and 1 article(s)"), "{w}");
        assert!(
            w.ends_with("\n  collection 12 \"Printers\"\n  article 40 \"Jam\""),
            "{w}"
        );
        assert_eq!(t.preexisting_ids(), "12 40");
    }
}
