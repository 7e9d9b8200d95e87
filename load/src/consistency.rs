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
/// `report/report.json` with its `records` map is required: ti-transform always writes it (DESIGN.md §4 lists
/// `report/…` among a load bundle's files, §7 builds the final migration report on it, docs/transform.md
/// describes `records`), so a load bundle without it was not written by ti-transform or lost a file before it
/// was re-sealed, and its record files cannot be checked.
///
/// # Errors
/// A message naming the file: `report/report.json` absent from the manifest, unreadable, not JSON or without
/// `records`; an unreadable record file, a malformed line, a record of another kind, or a count that disagrees
/// with the report.
pub fn check(bundle: &Bundle) -> Result<Vec<(RecordKind, u64)>, String> {
    let refuse = |why: &str| {
        format!(
            "{REPORT} {why}: ti-transform always writes it with the record counts, so this load bundle was altered after transform or not made by it; refusing it (take the load bundle again from ti-transform)"
        )
    };
    if bundle.entry(REPORT).is_none() {
        return Err(refuse("is missing from the bundle"));
    }
    let text = std::fs::read_to_string(bundle.path(REPORT))
        .map_err(|e| refuse(&format!("cannot be read ({e})")))?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| refuse(&format!("is not JSON ({e})")))?;
    let expected = report
        .get("records")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| refuse("has no `records` map (kind → count)"))?;
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
        let want = expected
            .get(kind.as_str())
            .and_then(Value::as_u64)
            .unwrap_or(0);
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
        counts.push((kind, n));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ti_shared::bundle::{BundleKind, BundleWriter, Producer};

    fn bundle(dir: &std::path::Path, conversations: &[u8], report: Option<&Value>) -> Bundle {
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
        if let Some(report) = report {
            w.write_json(REPORT, report).unwrap();
        }
        w.finish().unwrap();
        Bundle::open_kind(dir, BundleKind::Load).unwrap()
    }

    #[test]
    fn malformed_line_and_missing_file_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let b = bundle(
            &tmp.path().join("a"),
            b"{not json\n",
            Some(&serde_json::json!({"records": {"conversation": 1}})),
        );
        let e = check(&b).unwrap_err();
        assert!(e.starts_with("records/06-conversation.ndjson: "), "{e}");
        let b = bundle(
            &tmp.path().join("b"),
            b"",
            Some(&serde_json::json!({"records": {"conversation": 0, "contact": 2}})),
        );
        let e = check(&b).unwrap_err();
        assert!(
            e.contains(&format!("{} is missing", RecordKind::Contact.file_path())),
            "{e}"
        );
    }

    #[test]
    fn a_bundle_without_the_transform_report_or_its_counts_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let b = bundle(&tmp.path().join("a"), b"", None);
        let e = check(&b).unwrap_err();
        assert!(
            e.starts_with("report/report.json is missing from the bundle: "),
            "{e}"
        );
        let b = bundle(
            &tmp.path().join("b"),
            b"",
            Some(&serde_json::json!({"producer": "ti-transform"})),
        );
        let e = check(&b).unwrap_err();
        assert!(
            e.starts_with("report/report.json has no `records` map"),
            "{e}"
        );
        let b = bundle(
            &tmp.path().join("c"),
            b"",
            Some(&serde_json::json!({"records": {}})),
        );
        assert_eq!(check(&b).unwrap()[0], (RecordKind::DataAttribute, 0));
    }
}
