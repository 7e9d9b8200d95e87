//! One conversation (docs/records.md, "Conversation body"): create with the original `created_at`, then every
//! part strictly in order (original `created_at` and author, `skip_notifications: true` on admin replies, files as
//! base64 `attachment_files`), then title and attributes, assignment, close, and the migration tag.
//!
//! Steps and their probes (what is looked up when a step was left in flight):
//! - `create`: the contact's conversations (`POST /conversations/search` on `contact_ids`, after waiting out the
//!   search lag since the intent) with the same `created_at`, not already claimed by another record;
//! - `part:<i>`: the conversation's parts (`GET /conversations/{id}`) for one with the same `created_at`, author
//!   and type that no other part step claimed;
//! - `update:<digest>`, `tag`: idempotent, resent;
//! - `assign:<admin>`: the conversation's `admin_assignee_id`; `close:<parts>` / `open:<parts>`: its `state`
//!   (a delta reads the state before sending, so a conversation is closed once and re-opened only if needed).
//!
//! Step names carry what may change in a delta (`part:<i>` for appended parts, the digest of the update, the part
//! count for close), so a newer bundle sends only what is new.

use crate::client::ApiError;
use crate::context::{Ctx, Sent, StepError, id_str, short_digest};
use crate::kinds::Loaded;
use crate::resolve::originally_by;
use base64::Engine;
use serde_json::{Value, json};
use ti_shared::records::Record;

/// Maximum `attachment_files` per reply (intercom-api.md §8.2).
pub const MAX_FILES_PER_PART: usize = 10;

fn parts_of(conv: &Value) -> Vec<Value> {
    conv.get("conversation_parts")
        .and_then(|p| p.get("conversation_parts"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Builds `attachment_files` from a part's `attachments` (blob bytes from the bundle, base64).
///
/// # Errors
/// [`StepError::Body`] when a blob is missing from the bundle or unreadable.
pub fn attachment_files(ctx: &Ctx, part: &Value) -> Result<Vec<Value>, StepError> {
    let mut out = Vec::new();
    for a in part
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let blob = a.get("blob").and_then(Value::as_str).unwrap_or_default();
        let path = ctx
            .bundle
            .blob_path(blob)
            .ok_or_else(|| StepError::Body(format!("blob {blob} is not in the bundle")))?;
        let bytes =
            std::fs::read(&path).map_err(|e| StepError::Body(format!("blob {blob}: {e}")))?;
        out.push(json!({
            "name": a.get("name").cloned().unwrap_or(json!("attachment")),
            "content_type": a.get("content_type").cloned().unwrap_or(json!("application/octet-stream")),
            "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
        }));
    }
    if out.len() > MAX_FILES_PER_PART {
        return Err(StepError::Body(format!(
            "{} attachments on one part (at most {MAX_FILES_PER_PART})",
            out.len()
        )));
    }
    Ok(out)
}

/// The reply request of part `i`: resolved reply, "Originally by" for fallback authors, attachment files.
fn reply_request(ctx: &Ctx, raw_part: &Value) -> Result<Value, StepError> {
    let raw_reply = raw_part
        .get("reply")
        .ok_or_else(|| StepError::Body("part without reply".into()))?;
    let (mut reply, res) = ctx.resolve(raw_reply)?;
    if res.fallback_used {
        let name = raw_part
            .get("author_name")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let body = reply
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or_default();
        reply["body"] = json!(originally_by(body, name));
    }
    if reply.get("type").and_then(Value::as_str) == Some("admin") {
        reply["skip_notifications"] = json!(true);
    }
    let files = attachment_files(ctx, raw_part)?;
    if !files.is_empty() {
        reply["attachment_files"] = Value::Array(files);
    }
    Ok(reply)
}

/// The author id a reply will have in Intercom (admin id or contact id).
fn expected_author(reply: &Value) -> Option<String> {
    match reply.get("type").and_then(Value::as_str) {
        Some("admin") => id_str(reply.get("admin_id")),
        _ => id_str(reply.get("intercom_user_id")),
    }
}

/// Finds the conversation a `create` left in flight: the contact's conversations with the same `created_at`
/// that no other record claims. Waits out the search lag since the intent first.
async fn probe_create(
    ctx: &Ctx,
    key: &str,
    contact: &str,
    created_at: Option<i64>,
) -> Result<Option<Sent>, ApiError> {
    ctx.wait_out_search_lag(key, "create").await;
    let mut cursor: Option<String> = None;
    loop {
        let mut q = json!({"query": {"field": "contact_ids", "operator": "=", "value": contact}, "pagination": {"per_page": 150}});
        if let Some(c) = &cursor {
            q["pagination"]["starting_after"] = json!(c);
        }
        let page = ctx.client.post("/conversations/search", &q).await?;
        for c in page
            .get("conversations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = id_str(c.get("id")).unwrap_or_default();
            let same_time =
                created_at.is_none_or(|t| c.get("created_at").and_then(Value::as_i64) == Some(t));
            if same_time && !id.is_empty() && !ctx.claimed_by_other(key, &id) {
                return Ok(Some(Sent::new(Some(id), "created")));
            }
        }
        cursor = page
            .get("pages")
            .and_then(|p| p.get("next"))
            .and_then(|n| n.get("starting_after"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if cursor.is_none() {
            return Ok(None);
        }
    }
}

/// The conversation's `state` (`open`, `closed`, `snoozed`) as Intercom has it now.
async fn state_of(ctx: &Ctx, conv_path: &str) -> Result<String, ApiError> {
    let v = ctx.client.get(conv_path).await?;
    Ok(v.get("state")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

/// Brings the conversation to the record's final state, once: closed when the record has `close`, open otherwise.
///
/// A first load closes a closed ticket with one `close:<parts>` step (a new conversation is open). A delta (this
/// key already has a done `close:` step, or the record no longer closes) reads the state first (one `GET`) and
/// sends only what changes it: no second close part when appending to a conversation that stayed closed, a
/// close when an appended contact reply re-opened it, and an `open:<parts>` part only when the ticket was
/// re-opened in Track-It! after we closed it. In flight, each step's probe is the conversation's `state`.
async fn set_state(
    ctx: &Ctx,
    key: &str,
    conv_path: &str,
    body: &Value,
    parts: usize,
) -> Result<(), StepError> {
    let closed_before = ctx
        .journal
        .steps_of(key)?
        .iter()
        .any(|r| r.step.starts_with("close:") && r.state == "done");
    let manage_path = format!("{conv_path}/parts");
    let (want, step, req) = match body.get("close").filter(|c| !c.is_null()) {
        Some(raw_close) => {
            let (close, _) = ctx.resolve(raw_close)?;
            let admin =
                id_str(close.get("admin_id")).unwrap_or_else(|| ctx.admins.fallback.clone());
            (
                "closed",
                format!("close:{parts}"),
                json!({"message_type": "close", "type": "admin", "admin_id": admin}),
            )
        }
        None if closed_before => (
            "open",
            format!("open:{parts}"),
            json!({"message_type": "open", "type": "admin", "admin_id": ctx.admins.fallback}),
        ),
        None => return Ok(()),
    };
    // A delta checks first; a first load knows the conversation is open.
    let check_first = closed_before;
    ctx.step(
        key,
        &step,
        async || {
            if check_first && state_of(ctx, conv_path).await? == want {
                return Ok(Sent::new(None, "unchanged"));
            }
            ctx.client
                .post(&manage_path, &req)
                .await
                .map(|_| Sent::new(None, "sent"))
        },
        async || {
            Ok((state_of(ctx, conv_path).await? == want).then(|| Sent::new(None, "reconciled")))
        },
    )
    .await?;
    Ok(())
}

/// Loads one conversation record (`body` unresolved: parts resolve one by one, since a part's reference can only
/// fail that part). Returns the conversation id.
///
/// # Errors
/// [`StepError`] for the first step that failed; the steps before it stay done in the journal.
pub async fn load(ctx: &Ctx, rec: &Record) -> Result<Loaded, StepError> {
    let key = rec.key.as_str();
    let body = &rec.body;
    let (create, _) = ctx.resolve(
        body.get("create")
            .ok_or_else(|| StepError::Body("no create".into()))?,
    )?;
    let contact = id_str(create.get("from").and_then(|f| f.get("id"))).unwrap_or_default();
    let created_at = create.get("created_at").and_then(Value::as_i64);
    let conv_id = ctx
        .step(
            key,
            "create",
            async || {
                ctx.client
                    .post("/conversations", &create)
                    .await
                    .map(|v| Sent::new(id_str(v.get("conversation_id")), "created"))
            },
            async || probe_create(ctx, key, &contact, created_at).await,
        )
        .await?
        .ok_or_else(|| StepError::Body("POST /conversations returned no conversation_id".into()))?;
    // Known early so that a crash during the parts still leaves the id for status and rollback.
    ctx.set_id(key, &conv_id);
    ctx.journal.set_record(
        key,
        "conversation",
        None,
        Some(&conv_id),
        "pending",
        Some("created"),
        None,
        &ctx.bundle_id,
    )?;

    let conv_path = format!("/conversations/{conv_id}");
    let reply_path = format!("{conv_path}/reply");
    let parts = body
        .get("parts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, raw_part) in parts.iter().enumerate() {
        let step = format!("part:{i}");
        if ctx
            .journal
            .step(key, &step)?
            .is_some_and(|r| r.state == "done")
        {
            continue;
        }
        let reply = reply_request(ctx, raw_part)?;
        let author = expected_author(&reply);
        let part_type = reply
            .get("message_type")
            .and_then(Value::as_str)
            .unwrap_or("comment")
            .to_string();
        let part_created = reply.get("created_at").and_then(Value::as_i64);
        let claimed: Vec<String> = ctx
            .journal
            .steps_of(key)?
            .into_iter()
            .filter(|r| r.step.starts_with("part:"))
            .filter_map(|r| r.intercom_id)
            .collect();
        ctx.step(
            key,
            &step,
            async || {
                let v = ctx.client.post(&reply_path, &reply).await?;
                let last = parts_of(&v).into_iter().rev().find(|p| {
                    p.get("created_at").and_then(Value::as_i64) == part_created
                        || part_created.is_none()
                });
                Ok(Sent::new(last.and_then(|p| id_str(p.get("id"))), "created"))
            },
            async || {
                let v = ctx.client.get(&conv_path).await?;
                let found = parts_of(&v).into_iter().find(|p| {
                    let pid = id_str(p.get("id")).unwrap_or_default();
                    p.get("created_at").and_then(Value::as_i64) == part_created
                        && p.get("part_type").and_then(Value::as_str) == Some(part_type.as_str())
                        && id_str(p.get("author").and_then(|a| a.get("id"))) == author
                        && !claimed.contains(&pid)
                });
                Ok(found.map(|p| Sent::new(id_str(p.get("id")), "created")))
            },
        )
        .await?;
    }

    if let Some(raw_update) = body.get("update").filter(|u| !u.is_null()) {
        let (update, _) = ctx.resolve(raw_update)?;
        let step = format!("update:{}", short_digest(&update));
        ctx.step(
            key,
            &step,
            async || {
                ctx.client
                    .put(&conv_path, &update)
                    .await
                    .map(|_| Sent::new(None, "updated"))
            },
            async || Ok(None),
        )
        .await?;
    }
    let manage_path = format!("{conv_path}/parts");
    if let Some(raw_assignee) = body.get("assignee").filter(|a| !a.is_null()) {
        let assignee = ctx
            .admins
            .admin_for(raw_assignee.get("$admin").unwrap_or(&Value::Null))
            .0;
        let req = json!({"message_type": "assignment", "type": "admin", "admin_id": ctx.admins.fallback, "assignee_id": assignee});
        let step = format!("assign:{assignee}");
        ctx.step(
            key,
            &step,
            async || {
                ctx.client
                    .post(&manage_path, &req)
                    .await
                    .map(|_| Sent::new(None, "sent"))
            },
            async || {
                let v = ctx.client.get(&conv_path).await?;
                Ok(
                    (id_str(v.get("admin_assignee_id")).as_deref() == Some(assignee.as_str()))
                        .then(|| Sent::new(None, "reconciled")),
                )
            },
        )
        .await?;
    }
    set_state(ctx, key, &conv_path, body, parts.len()).await?;
    let tag_path = format!("{conv_path}/tags");
    let tag = json!({"id": ctx.tag_id, "admin_id": ctx.admins.fallback});
    ctx.idempotent_post(key, "tag", &tag_path, &tag).await?;
    Ok(Loaded {
        id: conv_id,
        outcome: "created".into(),
    })
}

/// API calls one conversation needs at minimum: 1 create + 1 per part + 1 update + (1 if assignee) + (1 if close)
/// + 1 tag (docs/records.md).
pub fn calls_for(body: &Value) -> u64 {
    let parts = body
        .get("parts")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let present = |k: &str| u64::from(body.get(k).is_some_and(|v| !v.is_null()));
    1 + parts + present("update") + present("assignee") + present("close") + 1
}
