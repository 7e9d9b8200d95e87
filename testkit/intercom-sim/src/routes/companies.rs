//! Companies: `POST /companies` upserts on `company_id`; lookups by `company_id`/`name`; notes.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::JsonResult;
use super::attributes::apply_data_custom;
use crate::config::SimConfig;
use crate::errors::{ApiError, ApiResult};
use crate::model::{Company, Note};
use crate::render;
use crate::search::Page;
use crate::state::{Shared, Workspace, now};
use crate::validate::Body;

/// 404 `company_not_found` `Company Not Found` (the spec's example).
pub fn company_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "company_not_found",
        "Company Not Found",
    )
}

/// Intercom's `monthly_spend` limit. The 2.16 schema types it integer, so decimals are refused (Intercom's
/// docs say they are truncated; refusing keeps the loader within the schema).
const MAX_MONTHLY_SPEND: i64 = 2_147_483_647;

/// Apply the writable fields of `b` to `c` (validating everything before changing anything).
fn apply_fields(ws: &Workspace, cfg: &SimConfig, b: &Body, c: &mut Company) -> ApiResult<()> {
    let name = b.opt_str("name")?;
    let plan = b.opt_str("plan")?;
    let size = b.opt_i64("size")?;
    let website = b.opt_str("website")?;
    let industry = b.opt_str("industry")?;
    let remote_created_at = b.opt_i64("remote_created_at")?;
    b.opt_bool("update_last_request_at")?;
    let monthly_spend = b.opt_i64("monthly_spend")?;
    if monthly_spend.is_some_and(|m| !(0..=MAX_MONTHLY_SPEND).contains(&m)) {
        return Err(ApiError::invalid_field(
            "monthly_spend",
            "monthly_spend must be between 0 and 2147483647",
        ));
    }
    let mut custom = c.custom_attributes.clone();
    if let Some(ca) = b.opt_obj("custom_attributes")? {
        apply_data_custom(ws, cfg, "company", ca, &mut custom)?;
    }
    c.custom_attributes = custom;
    macro_rules! set {
        ($($f:ident),*) => { $( if $f.is_some() { c.$f = $f; } )* };
    }
    set!(
        name,
        plan,
        size,
        website,
        industry,
        remote_created_at,
        monthly_spend
    );
    c.updated_at = now();
    Ok(())
}

/// `POST /companies`: create, or update the company with the same `company_id`.
pub async fn upsert(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let company_id = b.req_str("company_id")?;
    let mut ws = app.ws();
    let existing = ws.company_by_company_id(&company_id).map(|c| c.id.clone());
    let mut c = match &existing {
        Some(id) => ws.companies[id].clone(),
        None => Company {
            id: String::new(),
            company_id,
            name: None,
            plan: None,
            size: None,
            website: None,
            industry: None,
            monthly_spend: None,
            remote_created_at: None,
            custom_attributes: Map::new(),
            tags: vec![],
            deleted: false,
            created_at: now(),
            updated_at: now(),
        },
    };
    apply_fields(&ws, &app.cfg, &b, &mut c)?;
    if existing.is_none() {
        c.id = ws.next_hex(0x6762_c0de);
    }
    let v = render::company(&ws, &c);
    ws.put_company(c);
    Ok(Json(v))
}

/// `GET /companies?company_id=` / `?name=` → a `company_list` holding the one match (the 2.16 spec's
/// response schema and example are a list), 404 `company_not_found` when none; no filter → the list of
/// companies that have at least one contact (Intercom hides the others from lists).
pub async fn lookup(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    let ws = app.ws();
    let one = |c: &Company| {
        Json(
            json!({"type": "list", "data": [render::company(&ws, c)], "total_count": 1,
                    "pages": {"type": "pages", "page": 1, "per_page": 15, "total_pages": 1}}),
        )
    };
    if let Some(cid) = q.get("company_id") {
        let c = ws
            .company_by_company_id(cid)
            .ok_or_else(company_not_found)?;
        return Ok(one(c));
    }
    if let Some(name) = q.get("name") {
        let c = ws
            .companies
            .values()
            .find(|c| !c.deleted && c.name.as_ref() == Some(name))
            .ok_or_else(company_not_found)?;
        return Ok(one(c));
    }
    let per_page = q.get("per_page").map(|s| s.parse::<i64>().unwrap_or(0));
    let page = Page::new(per_page, q.get("starting_after").map(String::as_str), 15)?;
    let visible: Vec<&Company> = ws
        .companies
        .values()
        .filter(|c| !c.deleted && ws.user_count(&c.id) > 0)
        .collect();
    let (items, pages) = page.apply(&visible);
    Ok(Json(
        json!({"type": "list", "data": items.iter().map(|c| render::company(&ws, c)).collect::<Vec<_>>(),
                   "total_count": visible.len(), "pages": pages}),
    ))
}

/// `GET /companies/{id}` (Intercom id).
pub async fn get_one(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let ws = app.ws();
    let c = ws.company(&id).ok_or_else(company_not_found)?;
    Ok(Json(render::company(&ws, c)))
}

/// `PUT /companies/{id}`; `company_id` cannot change.
pub async fn update(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let mut ws = app.ws();
    let mut c = ws.company(&id).ok_or_else(company_not_found)?.clone();
    if let Some(cid) = b.opt_str("company_id")?.filter(|x| *x != c.company_id) {
        return Err(ApiError::invalid_field(
            "company_id",
            format!("company_id cannot be changed (to {cid:?})"),
        ));
    }
    apply_fields(&ws, &app.cfg, &b, &mut c)?;
    let v = render::company(&ws, &c);
    ws.put_company(c);
    Ok(Json(v))
}

/// `DELETE /companies/{id}` (`deleted_company_object`).
pub async fn remove(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let mut ws = app.ws();
    ws.company(&id).ok_or_else(company_not_found)?;
    ws.delete_company(&id);
    Ok(Json(
        json!({"id": id, "object": "company", "deleted": true}),
    ))
}

/// Shared by contact and company notes: `body` required, `admin_id` optional (defaults to the token's admin).
pub fn create_note(
    ws: &mut Workspace,
    b: &Body,
    target_type: &str,
    target_id: &str,
) -> ApiResult<Value> {
    let body = b.req_str("body")?;
    if body.trim().is_empty() {
        return Err(ApiError::invalid_field("body", "body must not be empty"));
    }
    let author_id = match b.opt_id("admin_id")? {
        Some(a) if ws.admin(&a).is_some() => a,
        Some(a) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "admin_not_found",
                format!("Admin {a} not found"),
            )
            .with_field("admin_id"));
        }
        None => ws.me.clone(),
    };
    let note = Note {
        id: ws.next_str(),
        target_type: target_type.into(),
        target_id: target_id.into(),
        body,
        author_id,
        created_at: now(),
    };
    let v = render::note(ws, &note);
    ws.add_note(note);
    Ok(v)
}

/// Shared by `GET /contacts/{id}/notes` and `GET /companies/{id}/notes`: a `note_list` of the target's notes,
/// newest first (the spec's examples list descending ids/`created_at`; ties on the second are broken by
/// arrival, later first). Cursor paging with `per_page` (default 50 as in the spec's example, max 150) and
/// `starting_after`.
///
/// # Errors
/// 400 `parameter_invalid` for a bad `per_page` or cursor. The caller checks that the target exists.
pub fn list_notes(
    ws: &Workspace,
    q: &HashMap<String, String>,
    target_type: &str,
    target_id: &str,
) -> JsonResult {
    let per_page = q.get("per_page").map(|s| s.parse::<i64>().unwrap_or(0));
    let page = Page::new(per_page, q.get("starting_after").map(String::as_str), 50)?;
    let notes: Vec<&Note> = ws.notes_of(target_type, target_id).rev().collect();
    let (items, pages) = page.apply(&notes);
    Ok(Json(json!({
        "type": "list",
        "data": items.iter().map(|n| render::note(ws, n)).collect::<Vec<_>>(),
        "total_count": notes.len(),
        "pages": pages,
    })))
}

/// `GET /companies/{id}/notes` (2.15+): `note_list`, newest first; 404 `company_not_found` for an unknown or
/// deleted company.
pub async fn list_company_notes(
    State(app): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    let ws = app.ws();
    ws.company(&id).ok_or_else(company_not_found)?;
    list_notes(&ws, &q, "company", &id)
}

/// `POST /companies/{id}/notes`.
pub async fn add_note(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let b = Body::parse(&body)?;
    let mut ws = app.ws();
    ws.company(&id).ok_or_else(company_not_found)?;
    Ok(Json(create_note(&mut ws, &b, "company", &id)?))
}
