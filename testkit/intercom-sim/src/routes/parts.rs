//! `POST /conversations/{id}/reply` (admin comment/note/quick_reply, contact comment) and
//! `POST /conversations/{id}/parts` (close, open, snoozed, assignment).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::RawJsonResult;
use super::conversations::{attachment_urls, conversation_not_found, live_mut};
use crate::config::SimConfig;
use crate::errors::{ApiError, ApiResult};
use crate::model::{Attachment, Author, Notification, Part};
use crate::render;
use crate::state::{Shared, Workspace, now};
use crate::validate::Body;

fn admin_not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "admin_not_found",
        format!("Admin {id} not found"),
    )
    .with_field("admin_id")
}

/// Decode and check `attachment_files`: at most `max_attachments`, each `{content_type, name, data}` with
/// standard base64 `data` decoding to at most `max_attachment_bytes`, and a name whose extension is not
/// restricted.
///
/// # Errors
/// 400 `parameter_invalid` naming the entry.
pub fn attachment_files(cfg: &SimConfig, b: &Body) -> ApiResult<Vec<Attachment>> {
    let Some(files) = b.opt_array("attachment_files")? else {
        return Ok(vec![]);
    };
    if files.len() > cfg.max_attachments {
        return Err(ApiError::invalid_field(
            "attachment_files",
            format!(
                "A maximum of {} attachment_files is allowed",
                cfg.max_attachments
            ),
        ));
    }
    let mut out = Vec::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        let field = format!("attachment_files[{i}]");
        let get = |k: &str| -> ApiResult<String> {
            match f.get(k) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(ApiError::invalid_field(
                    &format!("{field}.{k}"),
                    format!("{field}.{k} is required and must be a string"),
                )),
            }
        };
        let (name, content_type, data) = (get("name")?, get("content_type")?, get("data")?);
        if crate::attachments::is_restricted(&name, &cfg.restricted_extensions) {
            return Err(ApiError::invalid_field(
                &format!("{field}.name"),
                format!("File type of '{name}' is not allowed"),
            ));
        }
        if data.len() / 4 * 3 > cfg.max_attachment_bytes + 3 {
            return Err(ApiError::invalid_field(
                &format!("{field}.data"),
                format!("'{name}' exceeds {} bytes", cfg.max_attachment_bytes),
            ));
        }
        let bytes = STANDARD.decode(data.as_bytes()).map_err(|e| {
            ApiError::invalid_field(
                &format!("{field}.data"),
                format!("'{name}' is not valid base64: {e}"),
            )
        })?;
        if bytes.len() > cfg.max_attachment_bytes {
            return Err(ApiError::invalid_field(
                &format!("{field}.data"),
                format!("'{name}' exceeds {} bytes", cfg.max_attachment_bytes),
            ));
        }
        out.push(Attachment {
            name,
            content_type,
            size: bytes.len() as u64,
            blake3: blake3::hash(&bytes).to_hex().to_string(),
        });
    }
    Ok(out)
}

fn contact_for_reply(ws: &Workspace, b: &Body) -> ApiResult<String> {
    let ids = [
        b.opt_str("intercom_user_id")?,
        b.opt_str("email")?,
        b.opt_str("user_id")?,
    ];
    let given = ids.iter().filter(|x| x.is_some()).count();
    if given != 1 {
        return Err(ApiError::invalid(
            "Exactly one of intercom_user_id, email or user_id is required",
        ));
    }
    let found = match &ids {
        [Some(id), _, _] => ws.contact(id),
        // Indexed (ASCII case-insensitive); the scan only runs for a miss, for non-ASCII case folding.
        [_, Some(email), _] => ws.contact_by_email(email).or_else(|| {
            let email = email.to_lowercase();
            ws.contacts.values().find(|c| {
                !c.deleted && c.email.as_deref().map(str::to_lowercase).as_ref() == Some(&email)
            })
        }),
        [_, _, Some(ext)] => ws.contact_by_external_id(ext),
        _ => None,
    }
    .map(|c| c.id.clone());
    found.ok_or_else(|| ApiError::not_found("User Not Found"))
}

/// `POST /conversations/{id}/reply`.
pub async fn reply(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> RawJsonResult {
    let b = Body::parse(&body)?;
    let kind = b.req_str("type")?;
    let message_type = b.req_str("message_type")?;
    let text = b.opt_str("body")?;
    let created_at = b.opt_i64("created_at")?;
    if created_at.is_some_and(|t| t < 0) {
        return Err(ApiError::invalid_field(
            "created_at",
            "created_at must be Unix seconds",
        ));
    }
    let urls = attachment_urls(&b, app.cfg.max_attachments)?;
    let files = attachment_files(&app.cfg, &b)?;
    let skip = b.opt_bool("skip_notifications")?.unwrap_or(false);
    let mut ws = app.ws();
    ws.conversation(&id).ok_or_else(conversation_not_found)?;
    let author = match kind.as_str() {
        "admin" => {
            if !matches!(message_type.as_str(), "comment" | "note" | "quick_reply") {
                return Err(ApiError::invalid_field(
                    "message_type",
                    format!("message_type '{message_type}' must be comment, note or quick_reply"),
                ));
            }
            let admin_id = b
                .opt_id("admin_id")?
                .ok_or_else(|| ApiError::missing("admin_id"))?;
            if ws.admin(&admin_id).is_none() {
                return Err(admin_not_found(&admin_id));
            }
            Author {
                kind: "admin".into(),
                id: admin_id,
            }
        }
        "user" => {
            if message_type != "comment" {
                return Err(ApiError::invalid_field(
                    "message_type",
                    "a contact reply's message_type must be comment",
                ));
            }
            Author {
                kind: "user".into(),
                id: contact_for_reply(&ws, &b)?,
            }
        }
        other => {
            return Err(ApiError::invalid_field(
                "type",
                format!("type '{other}' must be admin or user"),
            ));
        }
    };
    if message_type != "quick_reply" && text.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(ApiError::missing("body"));
    }
    let t = now();
    let part = Part {
        id: ws.next_str(),
        part_type: message_type.clone(),
        body: text,
        author: author.clone(),
        created_at: created_at.unwrap_or(t),
        attachments: files,
        attachment_urls: urls,
        assigned_to: None,
        skip_notifications: skip,
    };
    let notify = author.kind == "admin" && message_type != "note" && !skip;
    let conv = live_mut(&mut ws, &id)?;
    if author.kind == "user" {
        if !conv.contact_ids.contains(&author.id) {
            conv.contact_ids.push(author.id.clone());
        }
        if conv.state != "open" {
            conv.state = "open".into();
            conv.snoozed_until = None;
        }
    }
    conv.updated_at = t;
    conv.parts.push(part.clone());
    let recipients = conv.contact_ids.clone();
    if notify {
        for cid in recipients {
            if let Some(email) = ws
                .contact(&cid)
                .and_then(|c| c.email.clone())
                .filter(|e| !e.is_empty())
            {
                ws.notifications.push(Notification {
                    conversation_id: id.clone(),
                    part_id: part.id.clone(),
                    contact_id: cid,
                    email,
                    part_created_at: part.created_at,
                    sent_at: t,
                });
            }
        }
    }
    let c = ws.conversation(&id).ok_or_else(conversation_not_found)?;
    Ok(render::conversation_json(
        &ws,
        c,
        Some(app.cfg.max_parts_returned),
    ))
}

/// `POST /conversations/{id}/parts`: `close` (`type: admin`, optional `body`), `open`, `snoozed`
/// (`snoozed_until`), `assignment` (`type` admin|team, `assignee_id`, `"0"` unassigns). None of them accepts
/// `created_at` (the part is stamped with the arrival time; a sent `created_at` is ignored).
pub async fn manage(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> RawJsonResult {
    let b = Body::parse(&body)?;
    let message_type = b.req_str("message_type")?;
    let admin_id = b
        .opt_id("admin_id")?
        .ok_or_else(|| ApiError::missing("admin_id"))?;
    let text = b.opt_str("body")?;
    let mut ws = app.ws();
    ws.conversation(&id).ok_or_else(conversation_not_found)?;
    if ws.admin(&admin_id).is_none() {
        return Err(admin_not_found(&admin_id));
    }
    let kind = b.opt_str("type")?;
    let mut assigned_to = None;
    let mut snoozed_until = None;
    match message_type.as_str() {
        "close" => {
            if kind.as_deref() != Some("admin") {
                return Err(ApiError::invalid_field("type", "type must be admin"));
            }
        }
        "open" => {}
        "snoozed" => {
            snoozed_until = Some(
                b.opt_i64("snoozed_until")?
                    .ok_or_else(|| ApiError::missing("snoozed_until"))?,
            );
        }
        "assignment" => {
            let kind = kind.ok_or_else(|| ApiError::missing("type"))?;
            let assignee = b
                .opt_id("assignee_id")?
                .ok_or_else(|| ApiError::missing("assignee_id"))?;
            let exists = assignee == "0"
                || match kind.as_str() {
                    "admin" => ws.admin(&assignee).is_some(),
                    "team" => ws.teams.iter().any(|t| t.id == assignee),
                    _ => {
                        return Err(ApiError::invalid_field(
                            "type",
                            "type must be admin or team",
                        ));
                    }
                };
            if !exists {
                return Err(
                    ApiError::not_found(format!("Assignee {assignee} not found"))
                        .with_field("assignee_id"),
                );
            }
            assigned_to = Some(Author { kind, id: assignee });
        }
        other => {
            return Err(ApiError::invalid_field(
                "message_type",
                format!("message_type '{other}' must be close, open, snoozed or assignment"),
            ));
        }
    }
    let t = now();
    let part = Part {
        id: ws.next_str(),
        part_type: message_type.clone(),
        body: text,
        author: Author {
            kind: "admin".into(),
            id: admin_id,
        },
        created_at: t,
        attachments: vec![],
        attachment_urls: vec![],
        assigned_to: assigned_to.clone(),
        skip_notifications: false,
    };
    let conv = live_mut(&mut ws, &id)?;
    match message_type.as_str() {
        "close" => conv.state = "closed".into(),
        "open" => {
            conv.state = "open".into();
            conv.snoozed_until = None;
        }
        "snoozed" => {
            conv.state = "snoozed".into();
            conv.snoozed_until = snoozed_until;
        }
        _ => {
            if let Some(a) = &assigned_to {
                let target = if a.id == "0" {
                    None
                } else {
                    Some(a.id.clone())
                };
                if a.kind == "team" {
                    conv.team_assignee_id = target
                } else {
                    conv.admin_assignee_id = target
                }
            }
        }
    }
    conv.updated_at = t;
    conv.parts.push(part);
    let c = ws.conversation(&id).ok_or_else(conversation_not_found)?;
    Ok(render::conversation_json(
        &ws,
        c,
        Some(app.cfg.max_parts_returned),
    ))
}
