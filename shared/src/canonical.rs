//! Canonical JSON, the byte form that `bundle_id`, `seal` and record digests are computed over.
//!
//! Rule (docs/bundle-format.md): object keys sorted by their UTF-8 bytes, no insignificant whitespace, strings
//! escaped as serde_json escapes them (only `"`, `\` and control characters; everything else as UTF-8), numbers
//! as serde_json prints them. Absent optional fields are omitted by the types that produce the value, never
//! written as `null`.

use serde_json::Value;

/// Returns the canonical JSON text of `value`.
pub fn to_canonical_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

/// Returns the blake3 hex digest (64 lower-case hex characters) of the canonical JSON of `value`.
pub fn digest(value: &Value) -> String {
    blake3::hash(to_canonical_string(value).as_bytes())
        .to_hex()
        .to_string()
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_value(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level_and_whitespace_dropped() {
        let v = json!({"b": 1, "a": {"z": [1, {"y": "é", "x": null}], "c": true}});
        assert_eq!(
            to_canonical_string(&v),
            r#"{"a":{"c":true,"z":[1,{"x":null,"y":"é"}]},"b":1}"#
        );
    }
}
