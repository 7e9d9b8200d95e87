//! Request-body parsing with Intercom-style 400s, and the custom-attribute rules.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::config::SimConfig;
use crate::errors::{ApiError, ApiResult};

/// A parsed JSON object body with typed getters that fail with 400 `parameter_invalid`.
#[derive(Debug, Default)]
pub struct Body(pub Map<String, Value>);

impl Body {
    /// Parse `bytes`; empty means `{}`.
    ///
    /// # Errors
    /// 400 `parameter_invalid` for invalid JSON or a non-object.
    pub fn parse(bytes: &Bytes) -> ApiResult<Self> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => Ok(Self(m)),
            Ok(_) => Err(ApiError::invalid("Request body must be a JSON object")),
            Err(e) => Err(ApiError::invalid(format!("Invalid JSON: {e}"))),
        }
    }

    /// Raw value (null counts as absent).
    pub fn get(&self, k: &str) -> Option<&Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    /// True when the key is present (even null).
    pub fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }

    /// Optional string.
    pub fn opt_str(&self, k: &str) -> ApiResult<Option<String>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_field(k, format!("{k} must be a string"))),
        }
    }

    /// Required string.
    pub fn req_str(&self, k: &str) -> ApiResult<String> {
        self.opt_str(k)?.ok_or_else(|| ApiError::missing(k))
    }

    /// Optional id: a string, or an integer turned into its decimal string.
    pub fn opt_id(&self, k: &str) -> ApiResult<Option<String>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => id_value(v)
                .map(Some)
                .ok_or_else(|| ApiError::invalid_field(k, format!("{k} must be a string id"))),
        }
    }

    /// Optional integer (Unix seconds, counts).
    pub fn opt_i64(&self, k: &str) -> ApiResult<Option<i64>> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::invalid_field(k, format!("{k} must be an integer"))),
        }
    }

    /// Optional boolean.
    pub fn opt_bool(&self, k: &str) -> ApiResult<Option<bool>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid_field(k, format!("{k} must be a boolean"))),
        }
    }

    /// Optional array.
    pub fn opt_array(&self, k: &str) -> ApiResult<Option<&Vec<Value>>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(ApiError::invalid_field(k, format!("{k} must be an array"))),
        }
    }

    /// Optional object.
    pub fn opt_obj(&self, k: &str) -> ApiResult<Option<&Map<String, Value>>> {
        match self.get(k) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(ApiError::invalid_field(k, format!("{k} must be an object"))),
        }
    }
}

/// A string id or an integer id as a string.
pub fn id_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Attribute name rule: non-empty, ASCII letters, digits and `cfg.attribute_name_extra_chars` only.
///
/// # Errors
/// 400 `parameter_invalid` naming the offending character.
pub fn check_attribute_name(cfg: &SimConfig, name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "name must not be empty"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || cfg.attribute_name_extra_chars.contains(*c)))
    {
        return Err(ApiError::invalid_field(
            "name",
            format!(
                "Your attribute name '{name}' contains the character {bad:?}; only letters, digits and {:?} are allowed",
                cfg.attribute_name_extra_chars
            ),
        ));
    }
    Ok(())
}

/// How a custom attribute's value must look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// String (≤ `max_string_attribute_len` characters); `options` restricts it when non-empty.
    Str,
    /// Integer.
    Int,
    /// Any number.
    Float,
    /// Boolean.
    Bool,
    /// Unix seconds (integer).
    Date,
    /// List of string ids (relationship attributes).
    IdList,
}

/// Check one attribute value. Null is always accepted (it clears the attribute).
///
/// # Errors
/// 400 `parameter_invalid` with field `custom_attributes.<name>`.
pub fn check_value(
    cfg: &SimConfig,
    name: &str,
    kind: ValueKind,
    options: &[String],
    v: &Value,
) -> ApiResult<()> {
    let field = format!("custom_attributes.{name}");
    let bad = |what: &str| {
        Err(ApiError::invalid_field(
            &field,
            format!("Custom attribute '{name}' {what}"),
        ))
    };
    match (kind, v) {
        (_, Value::Null) => Ok(()),
        (ValueKind::Str, Value::String(s)) => {
            let n = s.chars().count();
            if n > cfg.max_string_attribute_len {
                return bad(&format!(
                    "is {n} characters long; the limit is {}",
                    cfg.max_string_attribute_len
                ));
            }
            if !options.is_empty() && !options.iter().any(|o| o == s) {
                return bad(&format!("has no option {s:?}"));
            }
            Ok(())
        }
        (ValueKind::Int | ValueKind::Date, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(()),
        (ValueKind::Float, Value::Number(_)) => Ok(()),
        (ValueKind::Bool, Value::Bool(_)) => Ok(()),
        (ValueKind::IdList, Value::Array(a)) if a.iter().all(|x| id_value(x).is_some()) => Ok(()),
        (ValueKind::Str, _) => bad("must be a string"),
        (ValueKind::Int, _) => bad("must be an integer"),
        (ValueKind::Float, _) => bad("must be a number"),
        (ValueKind::Bool, _) => bad("must be a boolean"),
        (ValueKind::Date, _) => bad("must be a Unix timestamp (integer seconds)"),
        (ValueKind::IdList, _) => bad("must be a list of ids"),
    }
}

/// Plain text as Intercom shows it: HTML-escaped inside one `<p>`.
pub fn plain_text_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 7);
    out.push_str("<p>");
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out.push_str("</p>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_character_rule() {
        let cfg = SimConfig::default();
        assert!(check_attribute_name(&cfg, "trackit_id-2").is_ok());
        assert!(check_attribute_name(&cfg, "Track It").is_err());
        assert!(check_attribute_name(&cfg, "a.b").is_err());
        assert!(check_attribute_name(&cfg, "").is_err());
    }

    #[test]
    fn string_values_over_the_limit_are_rejected() {
        let cfg = SimConfig::default();
        let ok = Value::String("x".repeat(255));
        let long = Value::String("x".repeat(256));
        assert!(check_value(&cfg, "a", ValueKind::Str, &[], &ok).is_ok());
        assert!(check_value(&cfg, "a", ValueKind::Str, &[], &long).is_err());
        assert!(check_value(&cfg, "a", ValueKind::Int, &[], &Value::from(1.5)).is_err());
    }

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(
            plain_text_html("<b>a & b</b>"),
            "<p>&lt;b&gt;a &amp; b&lt;/b&gt;</p>"
        );
    }
}
