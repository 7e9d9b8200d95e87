//! Loading one record of every kind except conversations (`conversation.rs`): the steps, their probes, and the
//! delta update of a changed record. Each returns the record's Intercom id and outcome
//! (`created`, `matched`, `updated`).

use crate::client::{ApiError, conflict_id, encode};
use crate::context::{Ctx, Sent, StepError, id_str, short_digest};
use serde_json::{Map, Value, json};
use ti_shared::records::{Record, RecordKind};

/// Outcome of loading one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// Intercom id of the record's object.
    pub id: String,
    /// `created`, `matched` or `updated`.
    pub outcome: String,
}

fn need(v: Option<String>, what: &str) -> Result<String, StepError> {
    v.ok_or_else(|| StepError::Body(format!("no Intercom id returned for {what}")))
}

fn not_found(e: &ApiError) -> bool {
    e.status() == Some(404)
}

/// Loads a `data_attribute` or `conversation_attribute`. Existing attributes with the same name (listed at the
/// start of the phase, or reported as duplicates) are matched, not created.
///
/// # Errors
/// [`StepError`].
pub async fn attribute(ctx: &Ctx, rec: &Record, body: &Value) -> Result<Loaded, StepError> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let (list_path, create_path) = match rec.kind {
        RecordKind::ConversationAttribute => (
            "/conversations/attributes?include_archived=true".to_string(),
            "/conversations/attributes",
        ),
        _ => {
            let model = body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or("contact");
            (
                format!("/data_attributes?model={model}&include_archived=true"),
                "/data_attributes",
            )
        }
    };
    let find = async || -> Result<Option<Sent>, ApiError> {
        let list = ctx.client.get(&list_path).await?;
        let found = list
            .get("data")
            .and_then(Value::as_array)
            .and_then(|items| {
                items
                    .iter()
                    .find(|a| a.get("name").and_then(Value::as_str) == Some(name.as_str()))
                    .and_then(|a| id_str(a.get("id")))
            });
        Ok(found.map(|id| Sent::new(Some(id), "matched")))
    };
    let key = rec.key.as_str();
    if let Some(id) = lookup(ctx, key, async || find().await).await? {
        return Ok(Loaded {
            id,
            outcome: "matched".into(),
        });
    }
    let id = ctx
        .step(
            key,
            "create",
            async || match ctx.client.post(create_path, body).await {
                Ok(v) => Ok(Sent::new(id_str(v.get("id")), "created")),
                Err(e)
                    if matches!(e.status(), Some(400 | 422)) && e.message().contains("already") =>
                {
                    find().await?.map(|f| Sent::new(f.id, "created")).ok_or(e)
                }
                Err(e) => Err(e),
            },
            async || Ok(find().await?.map(|f| Sent::new(f.id, "created"))),
        )
        .await?;
    Ok(Loaded {
        id: need(id, key)?,
        outcome: "created".into(),
    })
}

/// The `lookup` step: whether the object existed before this migration touched it, decided once and journaled
/// before anything is created, so that a crash can never make a pre-existing object look like ours (rollback
/// deletes only what is ours). Returns the existing object's id.
async fn lookup(
    ctx: &Ctx,
    key: &str,
    find: impl AsyncFn() -> Result<Option<Sent>, ApiError>,
) -> Result<Option<String>, StepError> {
    ctx.step(
        key,
        "lookup",
        async || {
            Ok(find()
                .await?
                .map(|f| Sent::new(f.id, "matched"))
                .unwrap_or_else(|| Sent::new(None, "absent")))
        },
        async || Ok(None),
    )
    .await
}

/// Values of `fields` in `object`, `null` when absent (a snapshot for rollback).
fn snapshot_of(object: &Value, body: &Value) -> Value {
    let mut custom = Map::new();
    if let Some(ca) = body.get("custom_attributes").and_then(Value::as_object) {
        for k in ca.keys() {
            custom.insert(
                k.clone(),
                object
                    .get("custom_attributes")
                    .and_then(|c| c.get(k))
                    .cloned()
                    .unwrap_or(Value::Null),
            );
        }
    }
    json!({"custom_attributes": custom})
}

/// Loads a company: looked up by `company_id` first (a company that already exists is matched, its attribute
/// values saved for rollback, then updated by the upsert), then tagged. A changed record (delta) is upserted again.
///
/// # Errors
/// [`StepError`].
pub async fn company(
    ctx: &Ctx,
    rec: &Record,
    body: &Value,
    changed: bool,
) -> Result<Loaded, StepError> {
    let company_id = body
        .get("company_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let lookup_path = format!("/companies?company_id={}", encode(&company_id));
    let key = rec.key.as_str();
    let find = async || match ctx.client.get(&lookup_path).await {
        // The 2.16 spec answers a `list` (`data`); older versions the company itself: accept both.
        Ok(v) => Ok(company_in(&v, &company_id).map(|id| Sent::new(Some(id), "matched"))),
        Err(e) if not_found(&e) => Ok(None),
        Err(e) => Err(e),
    };
    let existing = lookup(ctx, key, async || find().await).await?;
    if let Some(id) = &existing {
        let snapshot_step = ctx.journal.snapshots()?.iter().any(|(k, ..)| k == key);
        if !snapshot_step {
            let before = ctx
                .client
                .get(&format!("/companies/{id}"))
                .await
                .map_err(StepError::from)?;
            ctx.journal
                .snapshot(key, "company", id, &snapshot_of(&before, body))?;
        }
    }
    let matched = existing.is_some();
    let id = ctx
        .step(
            key,
            "create",
            async || {
                let v = ctx.client.post("/companies", body).await?;
                Ok(Sent::new(
                    id_str(v.get("id")),
                    if matched { "matched" } else { "created" },
                ))
            },
            async || {
                Ok(find()
                    .await?
                    .map(|f| Sent::new(f.id, if matched { "matched" } else { "created" })))
            },
        )
        .await?;
    let id = need(id, key)?;
    let outcome = ctx
        .journal
        .step(key, "create")?
        .and_then(|r| r.outcome)
        .unwrap_or_else(|| "created".into());
    let tag = json!({"name": ctx.opts.migration_tag, "companies": [{"id": id}]});
    ctx.idempotent_post(key, "tag", "/tags", &tag).await?;
    let mut outcome = outcome;
    if changed {
        let step = format!("update:{}", short_digest(body));
        ctx.step(
            key,
            &step,
            async || {
                ctx.client
                    .post("/companies", body)
                    .await
                    .map(|_| Sent::new(None, "updated"))
            },
            async || Ok(None),
        )
        .await?;
        outcome = "updated".into();
    }
    Ok(Loaded { id, outcome })
}

/// The Intercom id of the company with `company_id` in a lookup answer (a company object or a list of them).
pub fn company_in(v: &Value, company_id: &str) -> Option<String> {
    match v.get("data").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .find(|c| c.get("company_id").and_then(Value::as_str) == Some(company_id))
            .and_then(|c| id_str(c.get("id"))),
        None => id_str(v.get("id")),
    }
}

/// Clock slack when telling a contact created by our first attempt from one that existed before it, seconds.
const PRE_EXISTING_SLACK_SECS: f64 = 5.0;

fn journal_as_api(e: &crate::journal::JournalError) -> ApiError {
    ApiError::BadResponse {
        method: "-",
        path: "journal".into(),
        reason: e.to_string(),
    }
}

/// Loads a contact: `POST /contacts`; a 409 (same email or external_id) matches the existing contact, whose
/// attribute values are saved for rollback before ours are written with `PUT`. In flight, the probe is
/// `find_by_external_id` (not search, which lags). Then tagged; a changed record (delta) is updated with `PUT`.
///
/// # Errors
/// [`StepError`].
pub async fn contact(
    ctx: &Ctx,
    rec: &Record,
    body: &Value,
    changed: bool,
) -> Result<Loaded, StepError> {
    let key = rec.key.as_str();
    let external_id = body
        .get("external_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let find_path = format!("/contacts/find_by_external_id/{}", encode(&external_id));
    let id = ctx
        .step(
            key,
            "create",
            async || match ctx.client.post("/contacts", body).await {
                Ok(v) => Ok(Sent::new(id_str(v.get("id")), "created")),
                Err(e) if e.status() == Some(409) => {
                    let Some(id) = conflict_id(e.message()) else {
                        return Err(e);
                    };
                    let existing = ctx.client.get(&format!("/contacts/{id}")).await?;
                    ctx.journal
                        .snapshot(key, "contact", &id, &snapshot_of(&existing, body))
                        .map_err(|e| journal_as_api(&e))?;
                    if body
                        .get("custom_attributes")
                        .and_then(Value::as_object)
                        .is_some_and(|m| !m.is_empty())
                    {
                        let update = json!({"custom_attributes": body["custom_attributes"]});
                        ctx.client.put(&format!("/contacts/{id}"), &update).await?;
                    }
                    Ok(Sent::new(Some(id), "matched"))
                }
                Err(e) => Err(e),
            },
            async || {
                if external_id.is_empty() {
                    return Ok(None);
                }
                match ctx.client.get(&find_path).await {
                    Ok(v) => {
                        // A contact with our external_id that existed before our first attempt is not ours: resend,
                        // so the 409 path matches it (snapshot first).
                        let first = ctx
                            .journal
                            .step(key, "create")
                            .ok()
                            .flatten()
                            .and_then(|r| r.first_intent_at)
                            .unwrap_or(0.0);
                        let created = v
                            .get("created_at")
                            .and_then(Value::as_f64)
                            .unwrap_or(f64::MAX);
                        let has_snapshot = ctx
                            .journal
                            .snapshots()
                            .map(|s| s.iter().any(|(k, ..)| k == key))
                            .unwrap_or(false);
                        if has_snapshot {
                            Ok(Some(Sent::new(id_str(v.get("id")), "matched")))
                        } else if created + PRE_EXISTING_SLACK_SECS < first {
                            Ok(None)
                        } else {
                            Ok(Some(Sent::new(id_str(v.get("id")), "created")))
                        }
                    }
                    Err(e) if matches!(e.status(), Some(404 | 410)) => Ok(None),
                    Err(e) => Err(e),
                }
            },
        )
        .await?;
    let id = need(id, key)?;
    let mut outcome = ctx
        .journal
        .step(key, "create")?
        .and_then(|r| r.outcome)
        .unwrap_or_else(|| "created".into());
    let tag_path = format!("/contacts/{id}/tags");
    let tag = json!({"id": ctx.tag_id});
    ctx.idempotent_post(key, "tag", &tag_path, &tag).await?;
    if changed {
        let mut update = body.clone();
        if let Some(m) = update.as_object_mut() {
            m.remove("role");
            if outcome == "matched" {
                m.retain(|k, _| k == "custom_attributes");
            }
        }
        let step = format!("update:{}", short_digest(body));
        let path = format!("/contacts/{id}");
        ctx.step(
            key,
            &step,
            async || {
                ctx.client
                    .put(&path, &update)
                    .await
                    .map(|_| Sent::new(None, "updated"))
            },
            async || Ok(None),
        )
        .await?;
        outcome = "updated".into();
    }
    Ok(Loaded { id, outcome })
}

/// Attaches a contact to a company (`POST /contacts/{id}/companies`, idempotent).
///
/// # Errors
/// [`StepError`].
pub async fn contact_company(ctx: &Ctx, rec: &Record, body: &Value) -> Result<Loaded, StepError> {
    let contact = body
        .get("contact")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let company = body
        .get("company")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let path = format!("/contacts/{contact}/companies");
    let req = json!({"id": company});
    ctx.step(
        &rec.key,
        "attach",
        async || {
            ctx.client
                .post(&path, &req)
                .await
                .map(|_| Sent::new(None, "created"))
        },
        async || Ok(None),
    )
    .await?;
    Ok(Loaded {
        id: format!("{contact}/{company}"),
        outcome: "created".into(),
    })
}

/// Every item of a paged list endpoint (`data`, following `pages.next.starting_after`).
///
/// # Errors
/// [`ApiError`].
pub async fn list_all(ctx: &Ctx, path: &str) -> Result<Vec<Value>, ApiError> {
    list_pages(&ctx.client, path).await
}

/// Every item of a paged list endpoint (`data`, following `pages.next.starting_after`), with any client.
///
/// # Errors
/// [`ApiError`].
pub async fn list_pages(
    client: &crate::client::Client,
    path: &str,
) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}per_page=150&starting_after={}", encode(c)),
            None => format!("{path}{sep}per_page=150"),
        };
        let v = client.get(&url).await?;
        if let Some(items) = v.get("data").and_then(Value::as_array) {
            out.extend(items.iter().cloned());
        }
        cursor = v
            .get("pages")
            .and_then(|p| p.get("next"))
            .and_then(|n| n.get("starting_after"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Loads a collection or an article (`POST`), probing by name/title within the parent; a changed record is
/// updated with `PUT`.
///
/// # Errors
/// [`StepError`].
pub async fn help_center(
    ctx: &Ctx,
    rec: &Record,
    body: &Value,
    changed: bool,
) -> Result<Loaded, StepError> {
    let (create_path, list_path, name_field) = match rec.kind {
        RecordKind::Collection => (
            "/help_center/collections",
            "/help_center/collections",
            "name",
        ),
        _ => ("/articles", "/articles", "title"),
    };
    let name = body
        .get(name_field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let parent = id_str(body.get("parent_id"));
    let key = rec.key.as_str();
    let id = ctx
        .step(
            key,
            "create",
            async || {
                ctx.client
                    .post(create_path, body)
                    .await
                    .map(|v| Sent::new(id_str(v.get("id")), "created"))
            },
            async || {
                // Same-named objects that existed when the journal started are the customer's (crate::traces).
                let preexisting = ctx
                    .journal
                    .meta(crate::traces::PREEXISTING_META)
                    .map_err(|e| journal_as_api(&e))?
                    .unwrap_or_default();
                let items = list_all(ctx, list_path).await?;
                let found = items.iter().find(|i| {
                    i.get(name_field).and_then(Value::as_str) == Some(name.as_str())
                        && id_str(i.get("parent_id")) == parent
                        && id_str(i.get("id")).is_some_and(|id| {
                            !ctx.claimed_by_other(key, &id)
                                && !preexisting.split(' ').any(|p| p == id)
                        })
                });
                Ok(found.map(|i| Sent::new(id_str(i.get("id")), "created")))
            },
        )
        .await?;
    let id = need(id, key)?;
    let mut outcome = "created".to_string();
    if changed {
        let step = format!("update:{}", short_digest(body));
        let path = format!("{create_path}/{id}");
        ctx.step(
            key,
            &step,
            async || {
                ctx.client
                    .put(&path, body)
                    .await
                    .map(|_| Sent::new(None, "updated"))
            },
            async || Ok(None),
        )
        .await?;
        outcome = "updated".into();
    }
    Ok(Loaded { id, outcome })
}

/// Loads a contact or company note (`POST …/notes`). A note left in flight is looked up in the target's notes
/// (`GET /contacts/{id}/notes`, `GET /companies/{id}/notes`, never search): the oldest note with the same body
/// created since the step's first attempt (minus clock slack) that no other record claims. Notes of one target
/// are loaded in bundle order (see [`crate::phases::groups`]), so that oldest note is this step's. Notes cannot
/// be updated or deleted through the API, so a changed note is reported, not rewritten.
///
/// # Errors
/// [`StepError`].
pub async fn note(ctx: &Ctx, rec: &Record, body: &Value) -> Result<Loaded, StepError> {
    let (target_field, base) = match rec.kind {
        RecordKind::CompanyNote => ("company", "companies"),
        _ => ("contact", "contacts"),
    };
    let target = body
        .get(target_field)
        .and_then(Value::as_str)
        .unwrap_or_default();
    let path = format!("/{base}/{target}/notes");
    let mut req = json!({"body": body.get("body").cloned().unwrap_or(Value::Null)});
    if let Some(a) = body.get("admin_id") {
        req["admin_id"] = a.clone();
    }
    let text = req["body"].as_str().unwrap_or_default().to_string();
    let key = rec.key.as_str();
    let id = ctx
        .step(
            key,
            "create",
            async || {
                ctx.client
                    .post(&path, &req)
                    .await
                    .map(|v| Sent::new(id_str(v.get("id")), "created"))
            },
            async || {
                let first = ctx
                    .journal
                    .step(key, "create")
                    .map_err(|e| journal_as_api(&e))?
                    .and_then(|r| r.first_intent_at)
                    .unwrap_or(0.0);
                let items = list_all(ctx, &path).await?;
                Ok(
                    pick_note(&items, &text, first - PRE_EXISTING_SLACK_SECS, |id| {
                        ctx.claimed_by_other(key, id)
                    })
                    .map(|id| Sent::new(Some(id), "created")),
                )
            },
        )
        .await?;
    Ok(Loaded {
        id: need(id, key)?,
        outcome: "created".into(),
    })
}

/// The note a step left in flight, among a target's `notes` (any order): the oldest (by `created_at`, then id
/// order as listed oldest-last) with body `text`, created at or after `since` (Unix seconds), whose id `claimed`
/// does not reject.
pub fn pick_note(
    notes: &[Value],
    text: &str,
    since: f64,
    claimed: impl Fn(&str) -> bool,
) -> Option<String> {
    notes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.get("body").and_then(Value::as_str) == Some(text))
        .filter(|(_, n)| {
            n.get("created_at")
                .and_then(Value::as_f64)
                .is_none_or(|t| t >= since)
        })
        .filter_map(|(i, n)| id_str(n.get("id")).map(|id| (i, n, id)))
        .filter(|(_, _, id)| !claimed(id))
        // The list is newest first: among equal timestamps the later position is the older note.
        .min_by(|a, b| {
            let t = |n: &Value| n.get("created_at").and_then(Value::as_i64).unwrap_or(0);
            t(a.1).cmp(&t(b.1)).then(b.0.cmp(&a.0))
        })
        .map(|(_, _, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_unclaimed_note_with_the_body_since_the_intent_is_picked() {
        // Newest first, as GET /contacts/{id}/notes answers.
        let notes = vec![
            json!({"id": "9", "body": "<p>a</p>", "created_at": 1_000}),
            json!({"id": "8", "body": "<p>a</p>", "created_at": 1_000}),
            json!({"id": "7", "body": "<p>b</p>", "created_at": 999}),
            json!({"id": "5", "body": "<p>a</p>", "created_at": 900}),
        ];
        let none = |_: &str| false;
        assert_eq!(pick_note(&notes, "<p>a</p>", 950.0, none), Some("8".into()));
        assert_eq!(
            pick_note(&notes, "<p>a</p>", 950.0, |id| id == "8"),
            Some("9".into())
        );
        assert_eq!(pick_note(&notes, "<p>a</p>", 0.0, none), Some("5".into()));
        assert_eq!(pick_note(&notes, "<p>c</p>", 0.0, none), None);
        assert_eq!(pick_note(&notes, "<p>a</p>", 1_001.0, none), None);
    }
}
