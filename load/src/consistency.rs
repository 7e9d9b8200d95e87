//! Checks a load bundle beyond its seal before anything is sent (newcomer finding 5): every record line parses
//! and is of its file's kind, and the number of records per kind equals what the transform counted in
//! `report/report.json` (`records`: kind → count, written by ti-transform). A bundle whose record file was
//! emptied, cut or deleted and the manifest re-sealed passes verification but fails here: exit code 3.

use serde_json::Value;
use ti_shared::bundle::Bundle;
use ti_shared::records::{RecordKind, read_records};

/// The transform's summary inside a load bundle.
pub const REPORT: &str = "report/report.json";

/// Reads every record file once; returns the records per kind, or the first problem (naming the file and line).
///
/// When `report/report.json` is absent or has no `records` map (hand-built bundles), the counts are not compared.
///
/// # Errors
/// A message naming the file: an unreadable file, a malformed line, a record of another kind, or a count that
/// disagrees with the report.
pub fn check(bundle: &Bundle) -> Result<Vec<(RecordKind, u64)>, String> {
    let expected: Option<serde_json::Map<String, Value>> = bundle
        .entry(REPORT)
        .and_then(|_| std::fs::read_to_string(bundle.path(REPORT)).ok())
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("records").and_then(Value::as_object).cloned());
    let mut counts = Vec::new();
    for kind in RecordKind::ALL {
        let rel = kind.file_path();
        let mut n = 0u64;
        if bundle.entry(&rel).is_some() {
            let file = bundle.open_file(&rel).map_err(|e| format!("{rel}: {e}"))?;
            for rec in read_records(file) {
                let rec = rec.map_err(|e| format!("{rel}: {e}"))?;
                if rec.kind != kind {
                    return Err(format!(
                        "{rel}: record {} is of kind {}, not {}",
                        rec.key,
                        rec.kind.as_str(),
                        kind.as_str()
                    ));
                }
                n += 1;
            }
        }
        if let Some(map) = &expected {
            let want = map.get(kind.as_str()).and_then(Value::as_u64).unwrap_or(0);
            if want != n {
                let what = if bundle.entry(&rel).is_some() {
                    format!("{rel} holds {n} record(s)")
                } else {
                    format!("{rel} is missing")
                };
                return Err(format!(
                    "{what} but {REPORT} counts {want} {} record(s): the bundle was altered after transform; refusing it (take the load bundle again from ti-transform)",
                    kind.as_str()
                ));
            }
        }
        counts.push((kind, n));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ti_shared::bundle::{BundleKind, BundleWriter, Producer};

    fn bundle(dir: &std::path::Path, conversations: &[u8], report: &Value) -> Bundle {
        let w = BundleWriter::create(
            dir,
            BundleKind::Load,
            Producer {
                name: "test".into(),
                version: "0".into(),
            },
        )
        .unwrap();
        w.write_bytes(&RecordKind::Conversation.file_path(), conversations, None)
            .unwrap();
        w.write_json(REPORT, report).unwrap();
        w.finish().unwrap();
        Bundle::open_kind(dir, BundleKind::Load).unwrap()
    }

    #[test]
    fn malformed_line_and_missing_file_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let b = bundle(
            &tmp.path().join("a"),
            b"{not json\n",
            &serde_json::json!({"records": {"conversation": 1}}),
        );
        let e = check(&b).unwrap_err();
        assert!(e.starts_with("records/06-conversation.ndjson: "), "{e}");
        let b = bundle(
            &tmp.path().join("b"),
            b"",
            &serde_json::json!({"records": {"conversation": 0, "contact": 2}}),
        );
        let e = check(&b).unwrap_err();
        assert!(
            e.contains(&format!("{} is missing", RecordKind::Contact.file_path())),
            "{e}"
        );
    }
}
