//! Help center: `/help_center/collections` and `/articles` (create, list, get, update, delete).

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::JsonResult;
use crate::errors::{ApiError, ApiResult};
use crate::model::{Article, Collection};
use crate::render;
use crate::search::Page;
use crate::state::{Shared, Workspace, now};
use crate::validate::Body;

fn collection_not_found() -> ApiError {
    ApiError::not_found("Resource Not Found").with_field("collection_id")
}

fn article_not_found() -> ApiError {
    ApiError::not_found("Resource Not Found").with_field("article_id")
}

/// What collections and articles share: they are soft-deleted (kept in the state with `deleted: true`).
trait SoftDeleted {
    fn deleted(&self) -> bool;
    fn mark_deleted(&mut self);
}

impl SoftDeleted for Collection {
    fn deleted(&self) -> bool {
        self.deleted
    }
    fn mark_deleted(&mut self) {
        self.deleted = true;
    }
}

impl SoftDeleted for Article {
    fn deleted(&self) -> bool {
        self.deleted
    }
    fn mark_deleted(&mut self) {
        self.deleted = true;
    }
}

/// The live item `id`, or `not_found()`.
fn live<'a, T: SoftDeleted>(
    items: &'a BTreeMap<String, T>,
    id: &str,
    not_found: fn() -> ApiError,
) -> ApiResult<&'a T> {
    items.get(id).filter(|x| !x.deleted()).ok_or_else(not_found)
}

/// The live item `id`, mutably, or `not_found()`.
fn live_mut<'a, T: SoftDeleted>(
    items: &'a mut BTreeMap<String, T>,
    id: &str,
    not_found: fn() -> ApiError,
) -> ApiResult<&'a mut T> {
    items
        .get_mut(id)
        .filter(|x| !x.deleted())
        .ok_or_else(not_found)
}

/// A `list` of the live items, cursor-paged (`per_page` default 50, `starting_after`).
fn list_of<T: SoftDeleted>(
    items: &BTreeMap<String, T>,
    q: &HashMap<String, String>,
    render: fn(&T) -> Value,
) -> JsonResult {
    let all: Vec<&T> = items.values().filter(|x| !x.deleted()).collect();
    let per_page = q.get("per_page").map(|s| s.parse::<i64>().unwrap_or(0));
    let page = Page::new(per_page, q.get("starting_after").map(String::as_str), 50)?;
    let (page_items, pages) = page.apply(&all);
    Ok(Json(json!({
        "type": "list",
        "data": page_items.iter().map(|x| render(x)).collect::<Vec<_>>(),
        "total_count": all.len(),
        "pages": pages,
    })))
}

/// Soft-delete the live item `id`; answers `{"id", "object", "deleted": true}`.
fn delete_of<T: SoftDeleted>(
    items: &mut BTreeMap<String, T>,
    id: String,
    object: &str,
    not_found: fn() -> ApiError,
) -> JsonResult {
    live_mut(items, &id, not_found)?.mark_deleted();
    Ok(Json(json!({"id": id, "object": object, "deleted": true})))
}

/// The optional `translated_content` object, kept as sent.
fn translated_content(b: &Body) -> ApiResult<Option<Value>> {
    Ok(b.opt_obj("translated_content")?
        .map(|o| Value::Object(o.clone())))
}

fn check_parent_collection(ws: &Workspace, parent: Option<&str>, field: &str) -> ApiResult<()> {
    match parent {
        Some(p) if ws.collections.get(p).is_none_or(|c| c.deleted) => Err(ApiError::invalid_field(
            field,
            format!("Collection {p} does not exist"),
        )),
        _ => Ok(()),
    }
}

/// `GET /help_center/collections`.
pub async fn list_collections(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    list_of(&app.ws().collections, &q, render::collection)
}

/// `POST /help_center/collections`: `name` required; `parent_id` must be an existing collection.
pub async fn create_collection(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let name = b.req_str("name")?;
    let parent_id = b.opt_id("parent_id")?;
    let mut ws = app.ws();
    check_parent_collection(&ws, parent_id.as_deref(), "parent_id")?;
    let t = now();
    let c = Collection {
        id: ws.next_str(),
        name,
        description: b.opt_str("description")?,
        parent_id,
        help_center_id: b.opt_i64("help_center_id")?,
        translated_content: translated_content(&b)?,
        deleted: false,
        created_at: t,
        updated_at: t,
    };
    let v = render::collection(&c);
    ws.collections.insert(c.id.clone(), c);
    Ok(Json(v))
}

/// `GET /help_center/collections/{id}`.
pub async fn get_collection(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let ws = app.ws();
    Ok(Json(render::collection(live(
        &ws.collections,
        &id,
        collection_not_found,
    )?)))
}

/// `PUT /help_center/collections/{id}`.
pub async fn update_collection(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let b = Body::parse(&body)?;
    let (name, description, parent) = (
        b.opt_str("name")?,
        b.opt_str("description")?,
        b.opt_id("parent_id")?,
    );
    let mut ws = app.ws();
    live(&ws.collections, &id, collection_not_found)?;
    check_parent_collection(&ws, parent.as_deref(), "parent_id")?;
    if parent.as_deref() == Some(id.as_str()) {
        return Err(ApiError::invalid_field(
            "parent_id",
            "a collection cannot be its own parent",
        ));
    }
    let translated = translated_content(&b)?;
    let c = live_mut(&mut ws.collections, &id, collection_not_found)?;
    if let Some(n) = name {
        c.name = n;
    }
    if description.is_some() {
        c.description = description;
    }
    if b.has("parent_id") {
        c.parent_id = parent;
    }
    if translated.is_some() {
        c.translated_content = translated;
    }
    c.updated_at = now();
    Ok(Json(render::collection(c)))
}

/// `DELETE /help_center/collections/{id}` (`deleted_collection_object`).
pub async fn delete_collection(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    delete_of(
        &mut app.ws().collections,
        id,
        "collection",
        collection_not_found,
    )
}

/// `GET /articles`.
pub async fn list_articles(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    list_of(&app.ws().articles, &q, render::article)
}

fn article_state(b: &Body) -> ApiResult<Option<String>> {
    match b.opt_str("state")? {
        Some(s) if s != "published" && s != "draft" => Err(ApiError::invalid_field(
            "state",
            "state must be published or draft",
        )),
        s => Ok(s),
    }
}

fn check_author(ws: &Workspace, b: &Body, required: bool) -> ApiResult<Option<String>> {
    match b.opt_id("author_id")? {
        Some(a) if ws.admin(&a).is_some() => Ok(Some(a)),
        Some(a) => Err(ApiError::invalid_field(
            "author_id",
            format!("author_id {a} is not a teammate"),
        )),
        None if required => Err(ApiError::missing("author_id")),
        None => Ok(None),
    }
}

/// `POST /articles`: `title` and `author_id` (a teammate) required; `state` default `draft`;
/// `parent_id` must be an existing collection.
pub async fn create_article(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let title = b.req_str("title")?;
    let state = article_state(&b)?.unwrap_or_else(|| "draft".into());
    if b.has("body") && b.has("body_markdown") {
        return Err(ApiError::invalid(
            "body and body_markdown are mutually exclusive",
        ));
    }
    let body_html = match b.opt_str("body")? {
        Some(x) => Some(x),
        None => b.opt_str("body_markdown")?,
    };
    let parent_id = b.opt_id("parent_id")?;
    let mut ws = app.ws();
    let author_id = check_author(&ws, &b, true)?.unwrap_or_default();
    check_parent_collection(&ws, parent_id.as_deref(), "parent_id")?;
    let t = now();
    let a = Article {
        id: ws.next_str(),
        title,
        description: b.opt_str("description")?,
        body: body_html,
        author_id,
        state,
        parent_type: parent_id
            .as_ref()
            .map(|_| b.opt_str("parent_type"))
            .transpose()?
            .flatten()
            .or(parent_id.as_ref().map(|_| "collection".into())),
        parent_id,
        translated_content: translated_content(&b)?,
        deleted: false,
        created_at: t,
        updated_at: t,
    };
    let v = render::article(&a);
    ws.articles.insert(a.id.clone(), a);
    Ok(Json(v))
}

/// `GET /articles/{id}`.
pub async fn get_article(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let ws = app.ws();
    Ok(Json(render::article(live(
        &ws.articles,
        &id,
        article_not_found,
    )?)))
}

/// `PUT /articles/{id}`.
pub async fn update_article(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let b = Body::parse(&body)?;
    let (title, description, html, state) = (
        b.opt_str("title")?,
        b.opt_str("description")?,
        b.opt_str("body")?,
        article_state(&b)?,
    );
    let parent = b.opt_id("parent_id")?;
    let mut ws = app.ws();
    live(&ws.articles, &id, article_not_found)?;
    let author = check_author(&ws, &b, false)?;
    check_parent_collection(&ws, parent.as_deref(), "parent_id")?;
    let translated = translated_content(&b)?;
    let a = live_mut(&mut ws.articles, &id, article_not_found)?;
    if let Some(x) = title {
        a.title = x;
    }
    if description.is_some() {
        a.description = description;
    }
    if html.is_some() {
        a.body = html;
    }
    if let Some(x) = state {
        a.state = x;
    }
    if let Some(x) = author {
        a.author_id = x;
    }
    if parent.is_some() {
        a.parent_id = parent;
        a.parent_type = Some("collection".into());
    }
    if translated.is_some() {
        a.translated_content = translated;
    }
    a.updated_at = now();
    Ok(Json(render::article(a)))
}

/// `DELETE /articles/{id}` (`deleted_article_object`).
pub async fn delete_article(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    delete_of(&mut app.ws().articles, id, "article", article_not_found)
}
