//! Record and lineage lines written straight to bytes.
//!
//! The bytes are exactly those of `ti_shared::records::Record::to_line` and
//! `ti_shared::canonical::to_canonical_string` (docs/bundle-format.md "canonical JSON": object keys sorted by their
//! UTF-8 bytes, no whitespace, strings and numbers as serde_json prints them), but the body is serialised once:
//! the record digest is the blake3 of the body's slice of the line, so no second canonicalisation and no
//! `serde_json::to_value` copy of the record are made. A test compares both paths byte for byte.

use serde_json::Value;
use ti_shared::records::RecordKind;

/// Appends the canonical JSON of `value` to `out`.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::String(s) => write_str(s, out),
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            // Writing into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, n);
        }
    }
}

/// Appends a JSON string literal (serde_json's escaping).
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_str_array(items: &[String], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(s, out);
    }
    out.push(b']');
}

/// The NDJSON line of a record (with its trailing `\n`) and the record's digest (blake3 hex of the canonical
/// body). `after` must already be sorted and deduplicated, as `Ctx::emit` does.
pub fn record_line(
    key: &str,
    kind: RecordKind,
    after: &[String],
    source: (&str, &str),
    body: &Value,
) -> (Vec<u8>, String) {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(b"{\"after\":");
    write_str_array(after, &mut out);
    out.extend_from_slice(b",\"body\":");
    let start = out.len();
    write_canonical(body, &mut out);
    let digest = blake3::hash(&out[start..]).to_hex().to_string();
    out.extend_from_slice(b",\"digest\":\"");
    out.extend_from_slice(digest.as_bytes());
    out.extend_from_slice(b"\",\"key\":");
    write_str(key, &mut out);
    out.extend_from_slice(b",\"kind\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"source\":{\"pk\":");
    write_str(source.1, &mut out);
    out.extend_from_slice(b",\"table\":");
    write_str(source.0, &mut out);
    out.extend_from_slice(b"}}\n");
    (out, digest)
}

/// The `report/lineage.ndjson` line of a record (with its trailing `\n`): canonical
/// `{"key": …, "rules": […], "sources": […]}`.
pub fn lineage_line(key: &str, sources: &[String], rules: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + 32 * sources.len());
    out.extend_from_slice(b"{\"key\":");
    write_str(key, &mut out);
    out.extend_from_slice(b",\"rules\":");
    write_str_array(rules, &mut out);
    out.extend_from_slice(b",\"sources\":");
    write_str_array(sources, &mut out);
    out.extend_from_slice(b"}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use ti_shared::records::{Record, RecordSource};

    #[test]
    fn lines_equal_the_shared_record_format_byte_for_byte() {
        let body = json!({
            "z": [1, 2.5, -3, {"y": "é\n\"q\"\u{1}", "x": null}],
            "a": {"c": true, "b": false, "ключ": "<p>a &lt; b</p>"},
            "n": 1e300, "m": 0.1, "big": u64::MAX,
        });
        let after = vec!["contact:a".to_string(), "contact:b\"".to_string()];
        let (line, digest) = record_line(
            "conversation:ticket:1",
            RecordKind::Conversation,
            &after,
            ("dbo.TASKS", "1"),
            &body,
        );
        let record = Record::new(
            "conversation:ticket:1".into(),
            RecordKind::Conversation,
            after,
            RecordSource {
                table: "dbo.TASKS".into(),
                pk: "1".into(),
            },
            body,
        );
        assert_eq!(String::from_utf8(line).unwrap(), record.to_line());
        assert_eq!(digest, record.digest);
    }

    #[test]
    fn lineage_lines_equal_the_canonical_form() {
        let sources = vec!["dbo.TASKS:1".to_string(), "dbo.TaskNote:\"7".to_string()];
        let rules = vec!["status \"Closed\" → closed".to_string()];
        let expected = ti_shared::canonical::to_canonical_string(
            &json!({"key": "k", "sources": sources, "rules": rules}),
        ) + "\n";
        assert_eq!(
            String::from_utf8(lineage_line("k", &sources, &rules)).unwrap(),
            expected
        );
    }
}
