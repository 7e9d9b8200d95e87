//! Control endpoints (not part of Intercom, no auth): `GET /_sim/state`, `POST /_sim/reset`,
//! `GET|POST /_sim/faults`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::Shared;

/// `GET /_sim/state`: the whole workspace.
pub async fn state(State(app): State<Shared>) -> Json<Value> {
    Json(app.ws().dump())
}

/// `POST /_sim/reset`: forget everything except the seed admins/teams (faults stay as they are).
pub async fn reset(State(app): State<Shared>) -> Json<Value> {
    app.reset();
    Json(json!({"ok": true}))
}

/// `GET /_sim/faults`: the active specs.
pub async fn get_faults(State(app): State<Shared>) -> Json<Value> {
    Json(json!(app.faults().specs))
}

/// `POST /_sim/faults` with a JSON array of spec strings: replaces the fault set (`[]` clears it) and
/// re-seeds the fault RNG. 400 with `{"error": …}` on a bad spec (the old set stays).
pub async fn set_faults(State(app): State<Shared>, body: Bytes) -> (StatusCode, Json<Value>) {
    let specs: Vec<String> = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("expected a JSON array of strings: {e}")})),
            );
        }
    };
    match app.faults().replace(&specs) {
        Ok(()) => (StatusCode::OK, Json(json!(specs))),
        Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"error": e}))),
    }
}
