//! Route handlers, one module per Intercom resource.

use axum::Json;
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
