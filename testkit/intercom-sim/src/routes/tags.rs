//! `GET /tags`, `POST /tags`: create-or-find by name (case-insensitive), rename with `id`, tag/untag
//! `companies`, tag `users` (contacts).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::JsonResult;
use crate::errors::{ApiError, ApiResult};
use crate::model::{Tag, TagRef};
use crate::render;
use crate::state::{Shared, Workspace, now};
use crate::validate::{Body, id_value};

/// The tag `id` named by `POST /contacts/{id}/tags` or `POST /conversations/{id}/tags`.
///
/// # Errors
/// 404 `not_found` `Tag Not Found` naming the field `id`.
pub fn tag_to_apply(ws: &Workspace, id: &str) -> ApiResult<Tag> {
    ws.tag(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Tag Not Found").with_field("id"))
}

/// Add `tag` to an object's `tags` unless it already carries it.
pub fn add_tag_ref(tags: &mut Vec<TagRef>, tag: &Tag) {
    if !tags.iter().any(|t| t.id == tag.id) {
        tags.push(TagRef {
            id: tag.id.clone(),
            name: tag.name.clone(),
        });
    }
}

/// `GET /tags` (`tag_list`).
pub async fn list(State(app): State<Shared>) -> JsonResult {
    let ws = app.ws();
    Ok(Json(
        json!({"type": "list", "data": ws.tags.iter().map(render::tag).collect::<Vec<_>>()}),
    ))
}

/// `POST /tags`.
pub async fn create_or_apply(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let name = b.req_str("name")?;
    if name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "name must not be empty"));
    }
    let companies = b.opt_array("companies")?.cloned();
    let users = b.opt_array("users")?.cloned();
    let rename_id = b.opt_id("id")?;
    let mut ws = app.ws();
    if let Some(id) = rename_id {
        if ws
            .tags
            .iter()
            .any(|t| t.id != id && t.name.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::invalid_field(
                "name",
                format!("A tag named '{name}' already exists"),
            ));
        }
        let tag = ws
            .tags
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or_else(|| ApiError::not_found("Tag Not Found").with_field("id"))?;
        tag.name = name.clone();
        let r = TagRef {
            id: id.clone(),
            name,
        };
        let fix = |tags: &mut Vec<TagRef>| {
            tags.iter_mut()
                .filter(|t| t.id == r.id)
                .for_each(|t| *t = r.clone())
        };
        ws.contacts.values_mut().for_each(|c| fix(&mut c.tags));
        ws.companies.values_mut().for_each(|c| fix(&mut c.tags));
        ws.conversations.values_mut().for_each(|c| fix(&mut c.tags));
        return Ok(Json(json!({"type": "tag", "id": r.id, "name": r.name})));
    }
    // Resolve every target before changing anything.
    let mut company_ops = Vec::new();
    for item in companies.iter().flatten() {
        let by_id = item.get("id").and_then(id_value);
        let by_key = item.get("company_id").and_then(Value::as_str);
        let found = ws
            .companies
            .values()
            .find(|c| {
                !c.deleted
                    && (by_id.as_deref() == Some(c.id.as_str())
                        || by_key == Some(c.company_id.as_str()))
            })
            .map(|c| c.id.clone())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "company_not_found",
                    "Company Not Found",
                )
                .with_field("companies")
            })?;
        company_ops.push((
            found,
            item.get("untag").and_then(Value::as_bool).unwrap_or(false),
        ));
    }
    let mut user_ids = Vec::new();
    for item in users.iter().flatten() {
        let id = item
            .get("id")
            .and_then(id_value)
            .ok_or_else(|| ApiError::missing("users[].id"))?;
        ws.contact(&id)
            .ok_or_else(|| ApiError::not_found("User Not Found").with_field("users"))?;
        user_ids.push(id);
    }
    let tag = match ws.tags.iter().find(|t| t.name.eq_ignore_ascii_case(&name)) {
        Some(t) => t.clone(),
        None => {
            let t = Tag {
                id: ws.next_str(),
                name,
                created_at: now(),
            };
            ws.tags.push(t.clone());
            t
        }
    };
    let r = TagRef {
        id: tag.id.clone(),
        name: tag.name.clone(),
    };
    for (cid, untag) in company_ops {
        if let Some(c) = ws.companies.get_mut(&cid) {
            c.tags.retain(|t| t.id != r.id);
            if !untag {
                c.tags.push(r.clone());
            }
        }
    }
    for uid in user_ids {
        if let Some(c) = ws.contacts.get_mut(&uid).filter(|c| !c.tags.contains(&r)) {
            c.tags.push(r.clone());
        }
    }
    Ok(Json(render::tag(&tag)))
}
