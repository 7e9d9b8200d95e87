//! Contacts: create (409 on duplicate email/external_id, archived ones included), read, update, delete,
//! find by external id, search (with lag), company links, notes, tags.

use axum::Json;
use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::JsonResult;
use super::attributes::apply_data_custom;
use super::companies::{company_not_found, create_note, list_notes};
use super::tags::{add_tag_ref, tag_to_apply};
use crate::config::SimConfig;
use crate::errors::{ApiError, ApiResult};
use crate::model::Contact;
use crate::render;
use crate::search::{self, Page};
use crate::state::{Shared, Workspace, now, now_ms};
use crate::validate::Body;

fn contact_not_found() -> ApiError {
    ApiError::not_found("User Not Found")
}

/// 409 when another live contact has the same email (ASCII case-insensitive) or external_id (indexed
/// lookups; when both match different contacts, the older one is named).
fn check_duplicate(
    ws: &Workspace,
    email: Option<&str>,
    external_id: Option<&str>,
    except: Option<&str>,
) -> ApiResult<()> {
    let other = |c: &&Contact| Some(c.id.as_str()) != except;
    let by_email = email.and_then(|e| ws.contact_by_email(e)).filter(other);
    let by_ext = external_id
        .and_then(|x| ws.contact_by_external_id(x))
        .filter(other);
    let dup = match (by_email, by_ext) {
        (Some(a), Some(b)) => Some(if b.id < a.id { b } else { a }),
        (a, b) => a.or(b),
    };
    match dup {
        None => Ok(()),
        Some(c) if c.archived => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "An archived contact matching those details already exists with id={}",
                c.id
            ),
        )),
        Some(c) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "A contact matching those details already exists with id={}",
                c.id
            ),
        )),
    }
}

/// Validate and apply the writable fields of `b` to `c`.
fn apply_fields(ws: &Workspace, cfg: &SimConfig, b: &Body, c: &mut Contact) -> ApiResult<()> {
    let role = b.opt_str("role")?;
    if let Some(r) = role.as_deref().filter(|r| !matches!(*r, "user" | "lead")) {
        return Err(ApiError::invalid_field(
            "role",
            format!("role '{r}' is not valid; use user or lead"),
        ));
    }
    let email = b.opt_str("email")?;
    if let Some(e) = email
        .as_deref()
        .filter(|e| !e.is_empty() && !e.contains('@'))
    {
        return Err(ApiError::invalid_field(
            "email",
            format!("email '{e}' is not a valid email address"),
        ));
    }
    let email_verified = b.opt_bool("email_verified")?;
    if email_verified.is_some() && email.is_none() && c.email.is_none() {
        return Err(ApiError::invalid_field(
            "email_verified",
            "email_verified can only be set together with email",
        ));
    }
    let owner_id = b.opt_id("owner_id")?;
    if let Some(o) = owner_id.as_deref().filter(|o| ws.admin(o).is_none()) {
        return Err(ApiError::invalid_field(
            "owner_id",
            format!("owner_id {o} is not an admin of this workspace"),
        ));
    }
    let (external_id, phone, name, avatar) = (
        b.opt_str("external_id")?,
        b.opt_str("phone")?,
        b.opt_str("name")?,
        b.opt_str("avatar")?,
    );
    let (signed_up_at, last_seen_at) = (b.opt_i64("signed_up_at")?, b.opt_i64("last_seen_at")?);
    let unsubscribed = b.opt_bool("unsubscribed_from_emails")?;
    let mut custom = c.custom_attributes.clone();
    if let Some(ca) = b.opt_obj("custom_attributes")? {
        apply_data_custom(ws, cfg, "contact", ca, &mut custom)?;
    }
    check_duplicate(ws, email.as_deref(), external_id.as_deref(), Some(&c.id))?;
    c.custom_attributes = custom;
    macro_rules! set {
        ($($f:ident),*) => { $( if $f.is_some() { c.$f = $f; } )* };
    }
    set!(
        email,
        email_verified,
        owner_id,
        external_id,
        phone,
        name,
        avatar,
        signed_up_at,
        last_seen_at
    );
    if let Some(r) = role {
        c.role = r;
    }
    if let Some(u) = unsubscribed {
        c.unsubscribed_from_emails = u;
    }
    c.updated_at = now();
    Ok(())
}

/// `POST /contacts`: at least one of `email`, `external_id`, `role`.
pub async fn create(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    if b.get("email").is_none() && b.get("external_id").is_none() && b.get("role").is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            "email, external_id or role is required",
        ));
    }
    let mut ws = app.ws();
    let t = now();
    let mut c = Contact::blank(String::new(), t, now_ms() + app.cfg.search_lag_ms as u128);
    apply_fields(&ws, &app.cfg, &b, &mut c)?;
    c.id = ws.next_hex(0x6762_f130);
    let v = render::contact(&ws, &c);
    ws.put_contact(c);
    Ok(Json(v))
}

/// `GET /contacts/{id}`.
pub async fn get_one(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let ws = app.ws();
    let c = ws.contact(&id).ok_or_else(contact_not_found)?;
    Ok(Json(render::contact(&ws, c)))
}

/// `GET /contacts/find_by_external_id/{external_id}`: users only (not leads).
pub async fn find_by_external_id(State(app): State<Shared>, Path(ext): Path<String>) -> JsonResult {
    let ws = app.ws();
    let c = ws
        .contact_by_external_id(&ext)
        .filter(|c| c.role == "user")
        .ok_or_else(contact_not_found)?;
    Ok(Json(render::contact(&ws, c)))
}

/// `PUT /contacts/{id}`.
pub async fn update(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let mut ws = app.ws();
    let mut c = ws.contact(&id).ok_or_else(contact_not_found)?.clone();
    apply_fields(&ws, &app.cfg, &b, &mut c)?;
    let v = render::contact(&ws, &c);
    ws.put_contact(c);
    Ok(Json(v))
}

/// `DELETE /contacts/{id}` (`contact_deleted`).
pub async fn remove(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let mut ws = app.ws();
    ws.contact(&id).ok_or_else(contact_not_found)?;
    let mut v = ws
        .update_contact(&id, |c| {
            c.deleted = true;
            c.updated_at = now();
            render::contact_ref(c)
        })
        .ok_or_else(contact_not_found)?;
    v["deleted"] = json!(true);
    Ok(Json(v))
}

/// `POST /contacts/{id}/companies` with `{"id": "<Intercom company id>"}`.
pub async fn attach_company(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let b = Body::parse(&body)?;
    let company_id = b.opt_id("id")?.ok_or_else(|| ApiError::missing("id"))?;
    let mut ws = app.ws();
    ws.contact(&id).ok_or_else(contact_not_found)?;
    ws.company(&company_id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "company_not_found",
            "Company Not Found",
        )
        .with_field("id")
    })?;
    ws.update_contact(&id, |c| {
        if !c.company_ids.contains(&company_id) {
            c.company_ids.push(company_id.clone());
        }
        c.updated_at = now();
    });
    Ok(Json(render::company(&ws, &ws.companies[&company_id])))
}

/// `POST /contacts/{id}/notes`.
pub async fn add_note(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let b = Body::parse(&body)?;
    let mut ws = app.ws();
    ws.contact(&id).ok_or_else(contact_not_found)?;
    Ok(Json(create_note(&mut ws, &b, "contact", &id)?))
}

/// `GET /contacts/{id}/notes`: `note_list`, newest first; 404 `not_found` `User Not Found` for an unknown or
/// deleted contact.
pub async fn list_notes_of(
    State(app): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    let ws = app.ws();
    ws.contact(&id).ok_or_else(contact_not_found)?;
    list_notes(&ws, &q, "contact", &id)
}

/// `DELETE /contacts/{contact_id}/companies/{company_id}`: detach; returns the company (its `user_count`
/// already without this contact). 404 `not_found` `User Not Found` / `company_not_found` `Company Not Found`
/// (the spec's examples). Detaching a company that is not attached succeeds (idempotent, so a retried request
/// does not fail; Intercom's behaviour there is undocumented).
pub async fn detach_company(
    State(app): State<Shared>,
    Path((id, company_id)): Path<(String, String)>,
) -> JsonResult {
    let mut ws = app.ws();
    ws.contact(&id).ok_or_else(contact_not_found)?;
    ws.company(&company_id).ok_or_else(company_not_found)?;
    ws.update_contact(&id, |c| {
        if c.company_ids.contains(&company_id) {
            c.company_ids.retain(|x| *x != company_id);
            c.updated_at = now();
        }
    });
    Ok(Json(render::company(&ws, &ws.companies[&company_id])))
}

/// `DELETE /contacts/{contact_id}/tags/{tag_id}`: remove the tag from the contact; returns the tag. 404
/// `not_found` `User Not Found` for an unknown contact, `Resource Not Found` for an unknown tag (the spec's
/// examples). Removing a tag the contact does not carry succeeds (idempotent; undocumented at Intercom).
pub async fn remove_tag(
    State(app): State<Shared>,
    Path((id, tag_id)): Path<(String, String)>,
) -> JsonResult {
    let mut ws = app.ws();
    ws.contact(&id).ok_or_else(contact_not_found)?;
    let tag = ws
        .tag(&tag_id)
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))?
        .clone();
    if let Some(c) = ws.contacts.get_mut(&id) {
        c.tags.retain(|t| t.id != tag.id);
    }
    Ok(Json(render::tag(&tag)))
}

/// `POST /contacts/{id}/tags` with `{"id": "<tag id>"}`.
pub async fn add_tag(State(app): State<Shared>, Path(id): Path<String>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let tag_id = b.opt_id("id")?.ok_or_else(|| ApiError::missing("id"))?;
    let mut ws = app.ws();
    ws.contact(&id).ok_or_else(contact_not_found)?;
    let tag = tag_to_apply(&ws, &tag_id)?;
    if let Some(c) = ws.contacts.get_mut(&id) {
        add_tag_ref(&mut c.tags, &tag);
    }
    Ok(Json(render::tag(&tag)))
}

fn contact_field(c: &Contact, f: &str) -> Option<Value> {
    Some(match f {
        "id" => json!(c.id),
        "external_id" => json!(c.external_id),
        "email" => json!(c.email),
        "name" => json!(c.name),
        "phone" => json!(c.phone),
        "role" => json!(c.role),
        "owner_id" => json!(c.owner_id),
        "created_at" => json!(c.created_at),
        "updated_at" => json!(c.updated_at),
        "signed_up_at" => json!(c.signed_up_at),
        "last_seen_at" => json!(c.last_seen_at),
        "unsubscribed_from_emails" => json!(c.unsubscribed_from_emails),
        "tag_id" => json!(c.tags.iter().map(|t| t.id.clone()).collect::<Vec<_>>()),
        "company_id" => json!(c.company_ids),
        _ => {
            return c
                .custom_attributes
                .get(f.strip_prefix("custom_attributes.")?)
                .cloned();
        }
    })
}

const CONTACT_FIELDS: &[&str] = &[
    "id",
    "external_id",
    "email",
    "name",
    "phone",
    "role",
    "owner_id",
    "created_at",
    "updated_at",
    "signed_up_at",
    "last_seen_at",
    "unsubscribed_from_emails",
    "tag_id",
    "company_id",
];

/// `POST /contacts/search`: contacts become visible `--search-lag-ms` after creation; archived and deleted
/// contacts are not returned. `pagination.per_page` default 50, max 150; optional `sort {field, order}`.
pub async fn search(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let ws = app.ws();
    let field_ok = |f: &str| {
        CONTACT_FIELDS.contains(&f)
            || f.strip_prefix("custom_attributes.").is_some_and(|n| {
                ws.data_attributes
                    .iter()
                    .any(|a| a.model == "contact" && a.name == n)
            })
    };
    let q = search::parse(
        b.get("query").ok_or_else(|| ApiError::missing("query"))?,
        &field_ok,
    )?;
    let page = Page::from_search(&b, 50)?;
    let t = now_ms();
    let mut hits: Vec<&Contact> = ws
        .contacts
        .values()
        .filter(|c| {
            !c.deleted
                && !c.archived
                && c.visible_at_ms <= t
                && search::matches(&q, &|f| contact_field(c, f))
        })
        .collect();
    if let Some(sort) = b.opt_obj("sort")? {
        let field = sort
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or("created_at")
            .to_string();
        if !field_ok(&field) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_sort_order",
                format!("cannot sort by {field}"),
            ));
        }
        let desc = sort.get("order").and_then(Value::as_str) != Some("ascending");
        hits.sort_by(|a, b| {
            let (x, y) = (
                contact_field(a, &field).unwrap_or(Value::Null),
                contact_field(b, &field).unwrap_or(Value::Null),
            );
            let o = x
                .as_f64()
                .zip(y.as_f64())
                .map(|(p, q)| p.total_cmp(&q))
                .unwrap_or_else(|| x.to_string().cmp(&y.to_string()));
            if desc { o.reverse() } else { o }
        });
    }
    let (items, pages) = page.apply(&hits);
    Ok(Json(
        json!({"type": "list", "data": items.iter().map(|c| render::contact(&ws, c)).collect::<Vec<_>>(),
                   "total_count": hits.len(), "pages": pages}),
    ))
}

fn set_archived(app: &Shared, id: &str, archived: bool) -> JsonResult {
    let mut ws = app.ws();
    ws.contact(id).ok_or_else(contact_not_found)?;
    let c = ws.contacts.get_mut(id).ok_or_else(contact_not_found)?;
    c.archived = archived;
    c.updated_at = now();
    let mut v = render::contact_ref(c);
    v["archived"] = json!(archived);
    Ok(Json(v))
}

/// `POST /contacts/{id}/archive`.
pub async fn archive(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    set_archived(&app, &id, true)
}

/// `POST /contacts/{id}/unarchive`.
pub async fn unarchive(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    set_archived(&app, &id, false)
}
