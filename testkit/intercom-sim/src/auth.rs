//! Bearer-token and `Intercom-Version` checks.

use axum::http::{HeaderMap, StatusCode};

use crate::errors::ApiError;

/// Versions of the 2.16 spec's `intercom_version` enum.
pub const KNOWN_VERSIONS: &[&str] = &[
    "1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7",
    "2.8", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16",
];

/// Check `Authorization: Bearer <token>` (constant-time compare).
///
/// # Errors
/// 401 `unauthorized` "Access Token Invalid" when missing or wrong.
pub fn check_token(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if !token.is_empty() && ct_eq(g.as_bytes(), token.as_bytes()) => Ok(()),
        _ => Err(ApiError::unauthorized()),
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Check `Intercom-Version`: absent means the app's default (2.16 here); present must be a known version.
///
/// # Errors
/// 400 `intercom_version_invalid`.
pub fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers
        .get("intercom-version")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None => Ok(()),
        Some(v) if KNOWN_VERSIONS.contains(&v) => Ok(()),
        Some(v) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "intercom_version_invalid",
            format!("Intercom-Version {v:?} is not a valid version"),
        )),
    }
}
