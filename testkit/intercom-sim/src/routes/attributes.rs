//! Data attributes (contact/company) and conversation attributes, plus the custom-attribute write check
//! every object uses: the key must name an existing, non-archived attribute of the model and the value
//! must fit its type (strings ≤ 255 characters by default).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use super::JsonResult;
use crate::config::SimConfig;
use crate::errors::{ApiError, ApiResult};
use crate::model::{ConvAttrOption, ConversationAttribute, DataAttribute};
use crate::render;
use crate::state::{Shared, Workspace, now};
use crate::validate::{Body, ValueKind, check_attribute_name, check_value};

/// Standard attribute names that a custom attribute may not shadow, per model.
fn reserved(model: &str) -> &'static [&'static str] {
    match model {
        "contact" => &[
            "id",
            "name",
            "email",
            "phone",
            "external_id",
            "user_id",
            "role",
            "avatar",
            "owner_id",
            "created_at",
            "updated_at",
            "signed_up_at",
            "last_seen_at",
            "unsubscribed_from_emails",
        ],
        "company" => &[
            "id",
            "name",
            "company_id",
            "plan",
            "size",
            "website",
            "industry",
            "monthly_spend",
            "created_at",
            "updated_at",
            "remote_created_at",
            "user_count",
            "session_count",
        ],
        _ => &["title", "state", "id", "created_at", "updated_at"],
    }
}

/// Check and merge `incoming` custom attributes for `model` (`contact` or `company`) into `into`.
///
/// # Errors
/// 400 `parameter_invalid` for an unknown/archived attribute or a bad value.
pub fn apply_data_custom(
    ws: &Workspace,
    cfg: &SimConfig,
    model: &str,
    incoming: &Map<String, Value>,
    into: &mut Map<String, Value>,
) -> ApiResult<()> {
    for (k, v) in incoming {
        let attr = ws
            .data_attributes
            .iter()
            .find(|a| a.model == model && a.name == *k && !a.archived)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    &format!("custom_attributes.{k}"),
                    format!("Custom attribute '{k}' does not exist"),
                )
            })?;
        let kind = match attr.data_type.as_str() {
            "integer" => ValueKind::Int,
            "float" => ValueKind::Float,
            "boolean" => ValueKind::Bool,
            "date" => ValueKind::Date,
            _ => ValueKind::Str,
        };
        check_value(cfg, k, kind, &attr.options, v)?;
    }
    for (k, v) in incoming {
        into.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// Same for conversations, against non-archived conversation attributes.
///
/// # Errors
/// 400 `parameter_invalid` for unknown names, ambiguous (duplicate non-archived) names, bad values.
pub fn apply_conversation_custom(
    ws: &Workspace,
    cfg: &SimConfig,
    incoming: &Map<String, Value>,
    into: &mut Map<String, Value>,
) -> ApiResult<()> {
    for (k, v) in incoming {
        let field = format!("custom_attributes.{k}");
        let found: Vec<&ConversationAttribute> = ws
            .conversation_attributes
            .iter()
            .filter(|a| a.name == *k && !a.archived)
            .collect();
        let attr = match found.as_slice() {
            [] => {
                return Err(ApiError::invalid_field(
                    &field,
                    format!("Conversation attribute '{k}' does not exist"),
                ));
            }
            [a] => *a,
            _ => {
                return Err(ApiError::invalid_field(
                    &field,
                    format!("Conversation attribute name '{k}' is ambiguous"),
                ));
            }
        };
        let options: Vec<String> = attr
            .options
            .iter()
            .filter(|o| !o.archived)
            .map(|o| o.label.clone())
            .collect();
        let kind = match attr.data_type.as_str() {
            "integer" => ValueKind::Int,
            "decimal" => ValueKind::Float,
            "boolean" => ValueKind::Bool,
            "datetime" => ValueKind::Date,
            "relationship" => ValueKind::IdList,
            "files" => {
                return Err(ApiError::invalid_field(
                    &field,
                    "files attributes cannot be written through this API",
                ));
            }
            _ => ValueKind::Str,
        };
        check_value(cfg, k, kind, &options, v)?;
    }
    for (k, v) in incoming {
        into.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// `GET /data_attributes?model=contact|company&include_archived=true` (custom attributes only).
pub async fn list_data(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    let model = q.get("model").map(String::as_str);
    if let Some(m) = model.filter(|m| !matches!(*m, "contact" | "company")) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_invalid",
            format!("model '{m}' is not supported"),
        ));
    }
    let archived = q.get("include_archived").is_some_and(|v| v == "true");
    let ws = app.ws();
    let data: Vec<Value> = ws
        .data_attributes
        .iter()
        .filter(|a| model.is_none_or(|m| a.model == m) && (archived || !a.archived))
        .map(render::data_attribute)
        .collect();
    Ok(Json(json!({"type": "list", "data": data})))
}

fn duplicate(name: &str, model: &str) -> ApiError {
    let kind = if model == "contact" { "people" } else { model };
    ApiError::invalid_field(
        "name",
        format!(
            "You already have '{name}' in your {kind} data. To save this as new {kind} data, use a different name."
        ),
    )
}

fn quota_error(cfg: &SimConfig) -> ApiError {
    ApiError::invalid(format!(
        "You have reached the limit of {} custom attributes (archived ones count)",
        cfg.attribute_quota
    ))
}

/// `POST /data_attributes`.
pub async fn create_data(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let name = b.req_str("name")?;
    let model = b.req_str("model")?;
    let data_type = b.req_str("data_type")?;
    if !matches!(model.as_str(), "contact" | "company") {
        return Err(ApiError::invalid_field(
            "model",
            format!("model '{model}' is not valid; use contact or company"),
        ));
    }
    let mut options = Vec::new();
    if let Some(opts) = b.opt_array("options")? {
        for o in opts {
            match o.get("value").and_then(Value::as_str) {
                Some(v) => options.push(v.to_string()),
                None => {
                    return Err(ApiError::invalid_field(
                        "options",
                        "each option needs a string value",
                    ));
                }
            }
        }
    }
    let stored_type = match data_type.as_str() {
        "string" | "integer" | "float" | "boolean" | "date" => data_type.clone(),
        "datetime" => "date".to_string(),
        "options" => "string".to_string(),
        other => {
            return Err(ApiError::invalid_field(
                "data_type",
                format!("data_type '{other}' is not valid"),
            ));
        }
    };
    if (data_type == "options" || !options.is_empty())
        && (options.len() < 2 || stored_type != "string")
    {
        return Err(ApiError::invalid_field(
            "options",
            "list attributes need at least 2 options and a string type",
        ));
    }
    check_attribute_name(&app.cfg, &name)?;
    let description = b.opt_str("description")?;
    let messenger_writable = b.opt_bool("messenger_writable")?.unwrap_or(false);
    let mut ws = app.ws();
    if reserved(&model).contains(&name.as_str())
        || ws
            .data_attributes
            .iter()
            .any(|a| a.model == model && a.name == name)
    {
        return Err(duplicate(&name, &model));
    }
    if ws
        .data_attributes
        .iter()
        .filter(|a| a.model == model)
        .count()
        >= app.cfg.attribute_quota
    {
        return Err(quota_error(&app.cfg));
    }
    let t = now();
    let attr = DataAttribute {
        id: ws.next_num(),
        model,
        name,
        data_type: stored_type,
        options,
        description,
        archived: false,
        messenger_writable,
        created_at: t,
        updated_at: t,
    };
    let v = render::data_attribute(&attr);
    ws.data_attributes.push(attr);
    Ok(Json(v))
}

/// `PUT /data_attributes/{id}`: `archived`, `description`, `options`, `messenger_writable`.
pub async fn update_data(
    State(app): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> JsonResult {
    let b = Body::parse(&body)?;
    if b.has("data_type") || b.has("name") || b.has("model") {
        return Err(ApiError::invalid(
            "name, model and data_type cannot be changed",
        ));
    }
    let archived = b.opt_bool("archived")?;
    let description = b.opt_str("description")?;
    let messenger_writable = b.opt_bool("messenger_writable")?;
    let options = match b.opt_array("options")? {
        Some(a) => Some(
            a.iter()
                .map(|o| o.get("value").and_then(Value::as_str).map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    ApiError::invalid_field("options", "each option needs a string value")
                })?,
        ),
        None => None,
    };
    let mut ws = app.ws();
    let a = ws
        .data_attributes
        .iter_mut()
        .find(|a| a.id.to_string() == id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "field_not_found",
                "We couldn't find that data attribute to update",
            )
        })?;
    if let Some(x) = archived {
        a.archived = x;
    }
    if description.is_some() {
        a.description = description;
    }
    if let Some(x) = messenger_writable {
        a.messenger_writable = x;
    }
    if let Some(o) = options {
        if a.options.is_empty() || o.len() < 2 {
            return Err(ApiError::invalid_field(
                "options",
                "options can only be set on list attributes (at least 2)",
            ));
        }
        a.options = o;
    }
    a.updated_at = now();
    Ok(Json(render::data_attribute(a)))
}

/// `GET /conversations/attributes` (archived ones only with `include_archived=true`).
pub async fn list_conv(
    State(app): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> JsonResult {
    let archived = q.get("include_archived").is_some_and(|v| v == "true");
    let ws = app.ws();
    let data: Vec<Value> = ws
        .conversation_attributes
        .iter()
        .filter(|a| archived || !a.archived)
        .map(render::conversation_attribute)
        .collect();
    Ok(Json(json!({"type": "list", "data": data})))
}

fn unprocessable(field: &str, msg: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "parameter_invalid", msg).with_field(field)
}

/// `POST /conversations/attributes` (2.16). Validation failures are 422, as the spec documents.
pub async fn create_conv(State(app): State<Shared>, body: Bytes) -> JsonResult {
    let b = Body::parse(&body)?;
    let name = b.req_str("name")?;
    let data_type = b.req_str("data_type")?;
    const TYPES: &[&str] = &[
        "string",
        "integer",
        "list",
        "decimal",
        "boolean",
        "datetime",
        "relationship",
        "files",
    ];
    if !TYPES.contains(&data_type.as_str()) {
        return Err(unprocessable(
            "data_type",
            format!(
                "data_type '{data_type}' is not valid. Allowed types: {}",
                TYPES.join(", ")
            ),
        ));
    }
    check_attribute_name(&app.cfg, &name).map_err(|e| unprocessable("name", e.message))?;
    let mut ws = app.ws();
    let mut options = Vec::new();
    if let Some(opts) = b.opt_array("options")? {
        for o in opts {
            let label = o
                .get("label")
                .and_then(Value::as_str)
                .ok_or_else(|| unprocessable("options", "each option needs a label".into()))?;
            options.push(ConvAttrOption {
                id: ws.next_str(),
                label: label.to_string(),
                archived: false,
            });
        }
    }
    if data_type == "list" && options.is_empty() {
        return Err(unprocessable(
            "options",
            "list attributes need options".into(),
        ));
    }
    let reference = b.opt_obj("reference")?.map(|r| Value::Object(r.clone()));
    if data_type == "relationship"
        && reference
            .as_ref()
            .and_then(|r| r.get("type"))
            .and_then(Value::as_str)
            .is_none_or(|t| t != "one" && t != "many")
    {
        return Err(unprocessable(
            "reference",
            "relationship attributes need reference.type one or many".into(),
        ));
    }
    if reserved("conversation").contains(&name.as_str())
        || ws
            .conversation_attributes
            .iter()
            .any(|a| a.name == name && !a.archived)
    {
        return Err(unprocessable(
            "name",
            format!("A conversation attribute named '{name}' already exists"),
        ));
    }
    if ws.conversation_attributes.len() >= app.cfg.attribute_quota {
        return Err(quota_error(&app.cfg));
    }
    let t = now();
    let attr = ConversationAttribute {
        id: ws.next_num(),
        name,
        data_type,
        description: b.opt_str("description")?,
        required: b.opt_bool("required")?.unwrap_or(false),
        multiline: b.opt_bool("multiline")?.unwrap_or(false),
        visible_to_team_ids: b
            .opt_array("visible_to_team_ids")?
            .map(|a| a.iter().filter_map(crate::validate::id_value).collect())
            .unwrap_or_default(),
        options,
        reference,
        archived: false,
        created_at: t,
        updated_at: t,
    };
    let v = render::conversation_attribute(&attr);
    ws.conversation_attributes.push(attr);
    Ok(Json(v))
}

/// `DELETE /conversations/attributes/{id}`: archives it.
pub async fn archive_conv(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let mut ws = app.ws();
    let a = ws
        .conversation_attributes
        .iter_mut()
        .find(|a| a.id.to_string() == id)
        .ok_or_else(|| ApiError::not_found("Conversation attribute not found"))?;
    a.archived = true;
    a.updated_at = now();
    Ok(Json(render::conversation_attribute(a)))
}
