//! `GET /me`, `GET /admins`, `GET /admins/{id}`, `GET /teams` (read-only: admins and teams come from the seed).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::json;

use super::JsonResult;
use crate::errors::ApiError;
use crate::render;
use crate::state::Shared;

/// `GET /me`: the token's admin with its workspace (`admin_with_app`).
pub async fn me(State(app): State<Shared>) -> JsonResult {
    let ws = app.ws();
    let a = ws
        .admin(&ws.me)
        .ok_or_else(|| ApiError::not_found("Admin Not Found"))?;
    let mut v = render::admin(a);
    v["avatar"] = json!({"type": "avatar", "image_url": null});
    v["email_verified"] = json!(true);
    v.as_object_mut().map(|m| m.remove("away_status_reason_id"));
    v["app"] = json!({"type": "app", "id_code": render::WORKSPACE_ID, "name": "Intercom simulator", "region": "US",
                      "timezone": "UTC", "created_at": 1_700_000_000, "identity_verification": false});
    Ok(Json(v))
}

/// `GET /admins` (`admin_list`).
pub async fn list(State(app): State<Shared>) -> JsonResult {
    let ws = app.ws();
    Ok(Json(
        json!({"type": "admin.list", "admins": ws.admins.iter().map(render::admin).collect::<Vec<_>>()}),
    ))
}

/// `GET /admins/{id}`; 404 `admin_not_found`.
pub async fn get_one(State(app): State<Shared>, Path(id): Path<String>) -> JsonResult {
    let ws = app.ws();
    ws.admin(&id)
        .map(|a| Json(render::admin(a)))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "admin_not_found", "Admin not found"))
}

/// `GET /teams` (`team_list`).
pub async fn teams(State(app): State<Shared>) -> JsonResult {
    let ws = app.ws();
    Ok(Json(
        json!({"type": "team.list", "teams": ws.teams.iter().map(render::team).collect::<Vec<_>>()}),
    ))
}
