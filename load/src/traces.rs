//! Traces of an earlier run of this migration in the workspace, looked for when a run starts with a fresh
//! journal (newcomer findings 1 and 5): a new journal cannot tell which objects an earlier run created, so loading
//! again would duplicate conversations, collections, articles and notes.
//!
//! Only what identifies our objects refuses the run (exit 2), and never the migration tag alone (a second run with
//! another `[load] migration_tag` must be refused too). A conversation is one of the bundle's when
//! - it holds the bundle's ticket-id conversation attribute with one of its ticket numbers (the `update` sets
//!   `ti_ticket_id__c`: the attribute whose value is the record's `ticket_number`), or
//! - its `created_at` is a ticket's original open time and one of its contacts has that ticket's contact
//!   `external_id` (the stable Track-It! key): this holds from the moment the create succeeded, before the
//!   attribute is set.
//!
//! Looked up: up to [`SEARCH_SAMPLE`] of the bundle's tickets, spread over it, with `POST /conversations/search`
//! on `created_at` (documented; `OR` groups of at most 15, so a few requests; custom attributes are not searchable,
//! intercom-api.md §8.4), which sees everything older than the search lag; plus the newest page of
//! `GET /conversations` (lists do not lag, DESIGN.md §7), which covers those created within the lag and is checked
//! against every ticket of the bundle. Conversations carrying this run's migration tag are counted as before
//! (`tag_ids`). Collections and articles carry nothing of ours that a customer's could not carry too: the loader sends
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
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use ti_shared::bundle::Bundle;
use ti_shared::records::{RecordKind, read_records};

/// Conversations of the newest `GET /conversations` page inspected for the tag (covers the search lag).
pub const RECENT_PAGE: usize = 150;

/// Tickets of the bundle looked up by search (spread evenly over the bundle's conversations).
pub const SEARCH_SAMPLE: usize = 60;

/// Filters per `OR` group of a search query (the documented maximum).
const GROUP_MAX: usize = 15;

/// How many found conversations the refusal names.
const NAMED_MAX: usize = 5;

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

/// A conversation of the workspace identified as one of the bundle's tickets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundConversation {
    /// The Track-It! ticket number.
    pub ticket: String,
    /// The Intercom conversation id.
    pub id: String,
    /// What identified it (`custom attribute ti_ticket_id__c = "12"`, or `created_at … and contact external_id …`).
    pub how: String,
}

/// What the workspace holds that looks like an earlier run of the migration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Traces {
    /// Conversations carrying this run's migration tag (refused).
    pub conversations: u64,
    /// Conversations identified as the bundle's tickets, whatever their tag (refused).
    pub found: Vec<FoundConversation>,
    /// Tickets of the bundle looked up by search.
    pub sampled: usize,
    /// Collections named like one of the bundle's (ours or the customer's: only warned about).
    pub collections: Vec<Named>,
    /// Articles titled like one of the bundle's (ours or the customer's: only warned about).
    pub articles: Vec<Named>,
}

impl Traces {
    /// True when the run must be refused: some conversation carries the migration tag or is one of the bundle's.
    pub fn refuses(&self) -> bool {
        self.conversations > 0 || !self.found.is_empty()
    }

    /// The refusal message (exit code 2): what was found (tagged conversations; tickets with their conversation
    /// and what identified it) and how to resume or roll back.
    pub fn message(&self, tag: &str, journal: &str) -> String {
        let mut what = Vec::new();
        if self.conversations > 0 {
            what.push(format!(
                "{} conversation(s) carry the migration tag {tag:?}",
                self.conversations
            ));
        }
        if !self.found.is_empty() {
            let mut tickets: Vec<&str> = self.found.iter().map(|f| f.ticket.as_str()).collect();
            tickets.sort_unstable();
            tickets.dedup();
            let mut s = format!(
                "{} ticket(s) of this bundle already have a conversation (checked: {} ticket(s) by search and the newest {RECENT_PAGE} conversations): ",
                tickets.len(),
                self.sampled
            );
            let named: Vec<String> = self
                .found
                .iter()
                .take(NAMED_MAX)
                .map(|f| format!("ticket {} → conversation {} ({})", f.ticket, f.id, f.how))
                .collect();
            s.push_str(&named.join(", "));
            if self.found.len() > NAMED_MAX {
                let _ = write!(s, ", and {} more", self.found.len() - NAMED_MAX);
            }
            what.push(s);
        }
        format!(
            "this workspace already holds conversations of an earlier run of this Track-It! migration: {}; a new journal cannot tell what that run created, so loading again would duplicate them. Resume with the journal of that run (--journal …, not the new {journal}), or roll that run back first (ti-load rollback --journal … --yes)",
            what.join("; ")
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

/// One ticket of the bundle as it shows in Intercom.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ticket {
    number: String,
    created_at: Option<i64>,
    external_id: Option<String>,
    attribute: Option<(String, String)>,
}

/// What identifies the bundle's conversations in Intercom (see the module documentation).
#[derive(Debug, Default)]
pub struct Identity {
    tickets: Vec<Ticket>,
    by_attribute: HashMap<(String, String), usize>,
    by_time_contact: HashMap<(i64, String), usize>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Identity {
    /// Reads the bundle's contacts (`external_id`) and conversations (ticket number, `create.created_at`, the
    /// contact it is from, the conversation attribute holding the ticket number). An unreadable record file counts
    /// as empty: the bundle was verified before.
    pub fn of_bundle(bundle: &Bundle) -> Self {
        let mut external: HashMap<String, String> = HashMap::new();
        for_each(bundle, RecordKind::Contact, |r| {
            if let Some(x) = r.body.get("external_id").and_then(scalar) {
                external.insert(r.key.clone(), x);
            }
        });
        let mut id = Identity::default();
        for_each(bundle, RecordKind::Conversation, |r| {
            let b = &r.body;
            let Some(number) = b.get("ticket_number").and_then(scalar) else {
                return;
            };
            let create = b.get("create");
            let contact = create
                .and_then(|c| c.pointer("/from/id/$ref"))
                .and_then(Value::as_str);
            let attrs = b
                .pointer("/update/custom_attributes")
                .and_then(Value::as_object);
            let mut attribute = None;
            for (name, v) in attrs.into_iter().flatten() {
                if scalar(v).as_deref() == Some(number.as_str())
                    && (attribute.is_none() || name.contains("ticket"))
                {
                    attribute = Some((name.clone(), number.clone()));
                }
            }
            id.add(Ticket {
                created_at: create
                    .and_then(|c| c.get("created_at"))
                    .and_then(Value::as_i64),
                external_id: contact.and_then(|c| external.get(c).cloned()),
                attribute,
                number,
            });
        });
        id
    }

    fn add(&mut self, t: Ticket) {
        let i = self.tickets.len();
        if let Some(a) = &t.attribute {
            self.by_attribute.insert(a.clone(), i);
        }
        if let (Some(at), Some(x)) = (t.created_at, &t.external_id) {
            self.by_time_contact.insert((at, x.clone()), i);
        }
        self.tickets.push(t);
    }

    /// The ticket a conversation of the workspace is, and what identified it; `None` when it is not one of ours.
    fn identify(&self, conv: &Value) -> Option<(String, String)> {
        for (name, v) in conv
            .get("custom_attributes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(v) = scalar(v) else { continue };
            if let Some(&i) = self.by_attribute.get(&(name.clone(), v.clone())) {
                return Some((
                    self.tickets[i].number.clone(),
                    format!("custom attribute {name} = {v:?}"),
                ));
            }
        }
        let at = conv.get("created_at").and_then(Value::as_i64)?;
        conv.pointer("/contacts/contacts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("external_id").and_then(Value::as_str))
            .find_map(|x| {
                let &i = self.by_time_contact.get(&(at, x.to_string()))?;
                Some((
                    self.tickets[i].number.clone(),
                    format!("created_at {at} and contact external_id {x:?}"),
                ))
            })
    }

    /// Up to `n` distinct original open times, spread evenly over the bundle's tickets.
    fn sample_times(&self, n: usize) -> Vec<i64> {
        let times: Vec<i64> = self.tickets.iter().filter_map(|t| t.created_at).collect();
        let mut out: Vec<i64> = if times.len() <= n {
            times
        } else {
            (0..n).map(|k| times[k * times.len() / n]).collect()
        };
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The `POST /conversations/search` requests [`find`] sends for the bundle's sample of open times (one per 15),
/// not counting the tag search (sent only when the workspace already has the migration tag).
pub fn sample_searches(bundle: &Bundle) -> u64 {
    Identity::of_bundle(bundle)
        .sample_times(SEARCH_SAMPLE)
        .len()
        .div_ceil(GROUP_MAX) as u64
}

fn for_each(bundle: &Bundle, kind: RecordKind, mut f: impl FnMut(&ti_shared::records::Record)) {
    let rel = kind.file_path();
    if bundle.entry(&rel).is_none() {
        return;
    }
    let Ok(file) = bundle.open_file(&rel) else {
        return;
    };
    for r in read_records(file).flatten() {
        f(&r);
    }
}

/// The search query for conversations created at one of `times` (one filter, or an `OR` group of at most 15).
fn created_at_query(times: &[i64]) -> Value {
    let filter = |t: &i64| json!({"field": "created_at", "operator": "=", "value": t});
    let query = match times {
        [t] => filter(t),
        _ => json!({"operator": "OR", "value": times.iter().map(filter).collect::<Vec<_>>()}),
    };
    json!({"query": query, "pagination": {"per_page": RECENT_PAGE}})
}

/// `POST /conversations/search`; a search changes nothing, so an answer lost to a 5xx or a reset is asked again.
async fn search(client: &Client, query: &Value) -> Result<Value, ApiError> {
    let mut tries = 0;
    loop {
        tries += 1;
        match client.post("/conversations/search", query).await {
            Err(e) if e.is_unknown() && tries < 4 => {
                tokio::time::sleep(crate::client::backoff(tries)).await;
            }
            other => return other,
        }
    }
}

fn conversations(page: &Value) -> impl Iterator<Item = &Value> {
    page.get("conversations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Looks for traces of the migration: `tag_id` is the id of this run's migration tag, `None` when the workspace
/// has no such tag (then no conversation can carry it). Conversations are identified as the bundle's whatever
/// their tag (see the module documentation).
///
/// # Errors
/// [`ApiError`] from the API.
pub async fn find(
    client: &Client,
    bundle: &Bundle,
    tag_id: Option<&str>,
) -> Result<Traces, ApiError> {
    let mut t = Traces::default();
    let identity = Identity::of_bundle(bundle);
    let mut seen = HashSet::new();
    let mut note = |t: &mut Traces, conv: &Value| {
        if let (Some(id), Some((ticket, how))) = (id_str(conv.get("id")), identity.identify(conv))
            && seen.insert(id.clone())
        {
            t.found.push(FoundConversation { ticket, id, how });
        }
    };
    let times = identity.sample_times(SEARCH_SAMPLE);
    t.sampled = times.len();
    for chunk in times.chunks(GROUP_MAX) {
        let page = search(client, &created_at_query(chunk)).await?;
        for c in conversations(&page) {
            note(&mut t, c);
        }
    }
    let recent = client
        .get(&format!("/conversations?per_page={RECENT_PAGE}"))
        .await?;
    for c in conversations(&recent) {
        note(&mut t, c);
    }
    if let Some(tag_id) = tag_id.filter(|s| !s.is_empty()) {
        let query = json!({"query": {"field": "tag_ids", "operator": "=", "value": tag_id},
                           "pagination": {"per_page": 1}});
        let searched = search(client, &query)
            .await?
            .get("total_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let recent_tagged = conversations(&recent)
            .filter(|c| has_tag(c, tag_id))
            .count() as u64;
        t.conversations = searched.max(recent_tagged);
    }
    t.found.sort_by(|a, b| {
        let n = |s: &str| s.parse::<u64>().ok();
        (n(&a.ticket), &a.ticket, &a.id).cmp(&(n(&b.ticket), &b.ticket, &b.id))
    });
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

    fn identity() -> Identity {
        let mut id = Identity::default();
        for (n, at) in [("12", 1000), ("13", 2000)] {
            id.add(Ticket {
                number: n.into(),
                created_at: Some(at),
                external_id: Some(format!("ti-{n}")),
                attribute: Some(("ti_ticket_id__c".into(), n.into())),
            });
        }
        id
    }

    #[test]
    fn conversations_are_identified_by_attribute_or_time_and_contact_whatever_the_tag() {
        let id = identity();
        let by_attr =
            json!({"id": "5", "created_at": 9, "custom_attributes": {"ti_ticket_id__c": "13"}});
        assert_eq!(
            id.identify(&by_attr),
            Some((
                "13".into(),
                "custom attribute ti_ticket_id__c = \"13\"".into()
            ))
        );
        let by_time = json!({"id": "6", "created_at": 1000, "custom_attributes": {},
                             "contacts": {"contacts": [{"id": "c1", "external_id": "ti-12"}]}});
        assert_eq!(
            id.identify(&by_time),
            Some((
                "12".into(),
                "created_at 1000 and contact external_id \"ti-12\"".into()
            ))
        );
        // Same time, another contact; same number in another attribute: a customer's conversation.
        let other = json!({"id": "7", "created_at": 1000, "custom_attributes": {"order": "12"},
                           "contacts": {"contacts": [{"id": "c2", "external_id": "crm-1"}]}});
        assert_eq!(id.identify(&other), None);
        assert_eq!(id.sample_times(1), vec![1000]);
        assert_eq!(id.sample_times(60), vec![1000, 2000]);
        let q = created_at_query(&[1000, 2000]);
        assert_eq!(q["query"]["operator"], "OR");
        assert_eq!(q["query"]["value"][1]["value"], 2000);
        assert_eq!(created_at_query(&[7])["query"]["field"], "created_at");
        let t = Traces {
            found: vec![FoundConversation {
                ticket: "12".into(),
                id: "6".into(),
                how: "x".into(),
            }],
            sampled: 2,
            ..Traces::default()
        };
        assert!(t.refuses());
        let m = t.message("TI pilot 2", "new/j.sqlite");
        assert!(
            m.contains("1 ticket(s) of this bundle already have a conversation")
                && m.contains("ticket 12 → conversation 6 (x)")
                && !m.contains("TI pilot 2")
                && m.contains("not the new new/j.sqlite"),
            "{m}"
        );
    }
}
