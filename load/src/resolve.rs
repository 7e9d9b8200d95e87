//! `$ref` / `$admin` substitution in record bodies (docs/records.md, "References inside bodies").

use serde_json::{Map, Value};
use std::collections::HashMap;

/// Technicians matched to admins, and the fallback.
#[derive(Debug, Clone, Default)]
pub struct Admins {
    /// The admin owning the token (`GET /me`).
    pub me: String,
    /// The admin posting for unmatched technicians: `[load] fallback_admin_email`, else `me`.
    pub fallback: String,
    /// Technician key (without the `technician:` prefix) → admin id.
    pub by_tech: HashMap<String, String>,
}

impl Admins {
    /// The admin id for a `$admin` value, and whether it is the fallback (the author matched nobody).
    pub fn admin_for(&self, value: &Value) -> (String, bool) {
        let key = value
            .as_str()
            .map(|s| s.strip_prefix("technician:").unwrap_or(s));
        match key.and_then(|k| self.by_tech.get(k)) {
            Some(id) => (id.clone(), false),
            None => (self.fallback.clone(), true),
        }
    }
}

/// A reference that cannot be resolved.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("referenced record {0} is not loaded (missing from the bundle or failed)")]
pub struct MissingRef(pub String);

/// What resolution found besides the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Some `$admin` resolved to the fallback admin.
    pub fallback_used: bool,
}

/// Returns `value` with every `{"$ref": key}` replaced by the Intercom id of `key` (a string) and every
/// `{"$admin": …}` by an admin id.
///
/// # Errors
/// [`MissingRef`] naming the first key without an Intercom id.
pub fn resolve(
    value: &Value,
    ids: &HashMap<String, String>,
    admins: &Admins,
    res: &mut Resolution,
) -> Result<Value, MissingRef> {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$ref") => {
            let key = map["$ref"].as_str().unwrap_or_default();
            ids.get(key)
                .map(|id| Value::String(id.clone()))
                .ok_or_else(|| MissingRef(key.to_string()))
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$admin") => {
            let (id, fallback) = admins.admin_for(&map["$admin"]);
            res.fallback_used |= fallback;
            Ok(Value::String(id))
        }
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), resolve(v, ids, admins, res)?);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| resolve(v, ids, admins, res))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Prepends `Originally by NAME` to a body: `<p>Originally by NAME</p>` for HTML bodies (starting with `<`), a
/// first line otherwise. The name is HTML-escaped in HTML bodies.
pub fn originally_by(body: &str, author_name: &str) -> String {
    if body.trim_start().starts_with('<') {
        format!(
            "<p>Originally by {}</p>{body}",
            html_escape::encode_text(author_name)
        )
    } else {
        format!("Originally by {author_name}\n{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_and_admins_resolve() {
        let ids: HashMap<String, String> =
            [("contact:person:1".to_string(), "c1".to_string())].into();
        let admins = Admins {
            me: "1".into(),
            fallback: "9".into(),
            by_tech: [("jtech".to_string(), "5".to_string())].into(),
        };
        let mut res = Resolution::default();
        let v = json!({"from": {"type": "user", "id": {"$ref": "contact:person:1"}}, "a": [{"$admin": "technician:jtech"}]});
        let out = resolve(&v, &ids, &admins, &mut res).unwrap();
        assert_eq!(
            out,
            json!({"from": {"type": "user", "id": "c1"}, "a": ["5"]})
        );
        assert!(!res.fallback_used);
        let out = resolve(&json!({"$admin": null}), &ids, &admins, &mut res).unwrap();
        assert_eq!(out, json!("9"));
        assert!(res.fallback_used);
        assert_eq!(
            resolve(&json!({"$ref": "x"}), &ids, &admins, &mut res),
            Err(MissingRef("x".into()))
        );
        assert_eq!(
            originally_by("<p>hi</p>", "A & B"),
            "<p>Originally by A &amp; B</p><p>hi</p>"
        );
        assert_eq!(originally_by("hi", "A"), "Originally by A\nhi");
    }
}
