//! Route handlers, one module per Intercom resource.

use axum::Json;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::errors::ApiResult;

pub mod admins;
pub mod articles;
pub mod attributes;
pub mod companies;
pub mod contacts;
pub mod conversations;
pub mod parts;
pub mod sim;
pub mod tags;

/// What every API handler returns.
pub type JsonResult = ApiResult<Json<Value>>;

/// A JSON response body that is already serialized (built without a `serde_json::Value` tree), sent with
/// `Content-Type: application/json` like [`Json`].
#[derive(Debug)]
pub struct RawJson(pub Vec<u8>);

impl IntoResponse for RawJson {
    fn into_response(self) -> Response {
        ([(CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}

/// What the handlers answering with one serialized conversation return.
pub type RawJsonResult = ApiResult<RawJson>;
