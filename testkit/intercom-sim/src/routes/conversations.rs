//! Conversations: create (contact-initiated, `created_at` honoured), read (newest parts only), list,
//! update (title, custom attributes), delete, search (with lag), tags. Replies and parts: `parts.rs`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::attributes::apply_conversation_custom;
use super::tags::{add_tag_ref, tag_to_apply};
use super::{JsonResult, RawJsonResult};
use crate::errors::{ApiError, ApiResult};
use crate::model::{Author, Conversation, Source};
use crate::render;
use crate::search::{self, Page};
use crate::state::{Shared, now, now_ms};
use crate::validate::Body;

/// 404 for a missing or deleted conversation.
pub fn conversation_not_found() -> ApiError {
    ApiError::not_found("Conversation not found")
}

/// Validate `attachment_urls`: at most `max` absolute http(s) URLs.
pub fn attachment_urls(b: &Body, max: usize) -> ApiResult<Vec<String>> {
    let Some(urls) = b.opt_array("attachment_urls")? else {
        return Ok(vec![]);
    };
    if urls.len() > max {
        return Err(ApiError::invalid_field(
            "attachment_urls",
            format!("A maximum of {max} attachment_urls is allowed"),
        ));
    }
    urls.iter()
        .map(|u| match u.as_str() {
            Some(s) if s.starts_with("https://") || s.starts_with("http://") => Ok(s.to_string()),
            _ => Err(ApiError::invalid_field(
                "attachment_urls",
                "attachment_urls must be absolute http(s) URLs",
            )),
        })
        .collect()
}

/// `POST /conversations`: `from {type: user|lead|contact, id}` and plain-text `body` required; the response is
/// a `user_message` object carrying `conversation_id`. `attachment_files` is not accepted here (send files in
/// a reply), as in the spec.
pub async fn create(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let from = b
        .opt_obj("from")?
        .ok_or_else(|| ApiError::missing("from"))?;
    let from_type = from
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("from.type"))?;
    if !matches!(from_type, "user" | "lead" | "contact") {
        return Err(ApiError::invalid_field(
            "from.type",
            format!("from.type '{from_type}' must be user, lead or contact"),
        ));
    }
    let from_id = from
        .get("id")
        .and_then(crate::validate::id_value)
        .ok_or_else(|| ApiError::missing("from.id"))?;
    let text = b.req_str("body")?;
    if text.trim().is_empty() {
        return Err(ApiError::invalid_field("body", "body must not be empty"));
    }
    if b.has("attachment_files") {
        return Err(ApiError::invalid_field(
            "attachment_files",
            "attachment_files is not accepted when creating a conversation",
        ));
    }
    let subject = b.opt_str("subject")?;
    let urls = attachment_urls(&b, app.cfg.max_attachments)?;
    let created_at = b.opt_i64("created_at")?;
    if created_at.is_some_and(|t| t < 0) {
        return Err(ApiError::invalid_field(
            "created_at",
            "created_at must be Unix seconds",
        ));
    }
    b.opt_str("brand_id")?;
    let mut ws = app.ws();
    let contact = ws
        .contact(&from_id)
        .ok_or_else(|| ApiError::not_found("User Not Found").with_field("from.id"))?;
    if from_type != "contact" && contact.role != from_type {
        return Err(
            ApiError::not_found(format!("No {from_type} with id {from_id}")).with_field("from"),
        );
    }
    let t = now();
    let created = created_at.unwrap_or(t);
    let msg_id = ws.next_str();
    let conv = Conversation {
        id: ws.next_str(),
        created_at: created,
        updated_at: t.max(created),
        title: None,
        state: "open".into(),
        read: false,
        snoozed_until: None,
        admin_assignee_id: None,
        team_assignee_id: None,
        contact_ids: vec![from_id.clone()],
        custom_attributes: Map::new(),
        tags: vec![],
        source: Source {
            id: msg_id.clone(),
            body: text.clone(),
            subject,
            author: Author {
                kind: "user".into(),
                id: from_id,
            },
            attachment_urls: urls,
            created_at: created,
        },
        parts: vec![],
        deleted: false,
        visible_at_ms: now_ms() + app.cfg.search_lag_ms as u128,
    };
    let v = json!({"type": "user_message", "id": msg_id, "created_at": created, "body": text,
                   "message_type": "inapp", "conversation_id": conv.id});
    ws.conversations.insert(conv.id.clone(), conv);
    Ok(Json(v))
}

/// `GET /conversations/{id}`: at most the newest `--max-parts-returned` (500) parts, oldest first.
pub async fn get_one(State(app): State<Shared>, Path(id): Path<String>) -> RawJsonResult {
    let ws = app.ws();
    let c = ws.conversation(&id).ok_or_else(conversation_not_found)?;
    Ok(render::conversation_json(
        &ws,
        c,
        Some(app.cfg.max_parts_returned),
    ))
}

/// `GET /conversations?per_page=&starting_after=`: newest first, default 20, max 150.
pub async fn list(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    let per_page = match q.get("per_page") {
        Some(s) => Some(
            s.parse::<i64>()
                .map_err(|_| ApiError::invalid_field("per_page", "per_page must be an integer"))?,
        ),
        None => None,
    };
    let page = Page::new(per_page, q.get("starting_after").map(String::as_str), 20)?;
    let ws = app.ws();
    let all: Vec<&Conversation> = ws
        .conversations
        .values()
        .rev()
        .filter(|c| !c.deleted)
        .collect();
    let (items, pages) = page.apply(&all);
    Ok(Json(json!({"type": "conversation.list",
                   "conversations": items.iter().map(|c| render::conversation(&ws, c, None)).collect::<Vec<_>>(),
                   "total_count": all.len(), "pages": pages})))
}

/// `PUT /conversations/{id}`: `title`, `custom_attributes` (must exist; strings ≤ 255), `read`, `company_id`.
pub async fn update(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> RawJsonResult {
    let b = Body::parse(&body)?;
    let title = b.opt_str("title")?;
    let read = b.opt_bool("read")?;
    let company_id = b.opt_id("company_id")?;
    let mut ws = app.ws();
    let c = ws.conversation(&id).ok_or_else(conversation_not_found)?;
    if let Some(cid) = company_id.filter(|cid| ws.company(cid).is_none()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "company_not_found",
            format!("Company {cid} not found"),
        ));
    }
    let merged = match b.opt_obj("custom_attributes")? {
        Some(ca) => {
            let mut merged = c.custom_attributes.clone();
            apply_conversation_custom(&ws, &app.cfg, ca, &mut merged)?;
            Some(merged)
        }
        None => None,
    };
    // Validated: change in place (no clone of the conversation and its parts).
    let c = live_mut(&mut ws, &id)?;
    if let Some(m) = merged {
        c.custom_attributes = m;
    }
    if title.is_some() {
        c.title = title;
    }
    if let Some(r) = read {
        c.read = r;
    }
    c.updated_at = now();
    let c = ws.conversation(&id).ok_or_else(conversation_not_found)?;
    Ok(render::conversation_json(
        &ws,
        c,
        Some(app.cfg.max_parts_returned),
    ))
}

/// `DELETE /conversations/{id}` (`conversation_deleted`).
pub async fn remove(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let mut ws = app.ws();
    ws.conversation(&id).ok_or_else(conversation_not_found)?;
    if let Some(c) = ws.conversations.get_mut(&id) {
        c.deleted = true;
    }
    Ok(Json(
        json!({"id": id, "object": "conversation", "deleted": true}),
    ))
}

/// `POST /conversations/{id}/tags` with `{"id": tag id, "admin_id"}` (both required).
pub async fn add_tag(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let tag_id = b.opt_id("id")?.ok_or_else(|| ApiError::missing("id"))?;
    let admin_id = b
        .opt_id("admin_id")?
        .ok_or_else(|| ApiError::missing("admin_id"))?;
    let mut ws = app.ws();
    ws.conversation(&id).ok_or_else(conversation_not_found)?;
    if ws.admin(&admin_id).is_none() {
        return Err(
            ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found")
                .with_field("admin_id"),
        );
    }
    let tag = tag_to_apply(&ws, &tag_id)?;
    if let Some(c) = ws.conversations.get_mut(&id) {
        add_tag_ref(&mut c.tags, &tag);
    }
    Ok(Json(render::tag(&tag)))
}

const CONVERSATION_FIELDS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "source.body",
    "source.subject",
    "source.author.id",
    "source.author.type",
    "contact_ids",
    "admin_assignee_id",
    "team_assignee_id",
    "open",
    "state",
    "read",
    "tag_ids",
    "priority",
];

fn conversation_field(c: &Conversation, f: &str) -> Option<Value> {
    Some(match f {
        "id" => json!(c.id),
        "created_at" => json!(c.created_at),
        "updated_at" => json!(c.updated_at),
        "source.body" => json!(c.source.body),
        "source.subject" => json!(c.source.subject),
        "source.author.id" => json!(c.source.author.id),
        "source.author.type" => json!(c.source.author.kind),
        "contact_ids" => json!(c.contact_ids),
        "admin_assignee_id" => json!(c.admin_assignee_id.clone().unwrap_or_else(|| "0".into())),
        "team_assignee_id" => json!(c.team_assignee_id.clone().unwrap_or_else(|| "0".into())),
        "open" => json!(c.state == "open"),
        "state" => json!(c.state),
        "read" => json!(c.read),
        "tag_ids" => json!(c.tags.iter().map(|t| t.id.clone()).collect::<Vec<_>>()),
        "priority" => json!("none"),
        _ => return None,
    })
}

/// `POST /conversations/search`: documented fields only (custom attributes are not searchable, as far as the
/// documentation says); conversations become visible `--search-lag-ms` after creation.
pub async fn search(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let q = search::parse(
        b.get("query").ok_or_else(|| ApiError::missing("query"))?,
        &|f| CONVERSATION_FIELDS.contains(&f),
    )?;
    let page = Page::from_search(&b, 20)?;
    let ws = app.ws();
    let t = now_ms();
    let hits: Vec<&Conversation> = ws
        .conversations
        .values()
        .filter(|c| {
            !c.deleted && c.visible_at_ms <= t && search::matches(&q, &|f| conversation_field(c, f))
        })
        .collect();
    let (items, pages) = page.apply(&hits);
    Ok(Json(json!({"type": "conversation.list",
                   "conversations": items.iter().map(|c| render::conversation(&ws, c, None)).collect::<Vec<_>>(),
                   "total_count": hits.len(), "pages": pages})))
}

/// Used by `parts.rs`: a live conversation, mutably.
pub fn live_mut<'a>(
    ws: &'a mut crate::state::Workspace,
    id: &str,
) -> ApiResult<&'a mut Conversation> {
    ws.conversations
        .get_mut(id)
        .filter(|c| !c.deleted)
        .ok_or_else(conversation_not_found)
}
