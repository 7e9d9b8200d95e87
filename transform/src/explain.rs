//! `ti-transform explain LOAD_BUNDLE KEY [--extract EXTRACT_BUNDLE]`: the record, the source rows it came from
//! (`report/lineage.ndjson`; with `--extract`, the rows themselves) and each rule applied.

use crate::error::{Result, TransformError};
use crate::source::SourceTables;
use std::fmt::Write;
use std::io::BufRead;
use std::path::Path;

/// The explanation text of `key`.
///
/// # Errors
/// Bundle verification failures; [`TransformError::Usage`] when the key is not in the bundle, or when `extract`
/// is not the load bundle's parent (another database's extract would show unrelated rows).
pub fn explain(load: &Path, key: &str, extract: Option<&Path>) -> Result<String> {
    let bundle = ti_shared::bundle::Bundle::open_kind(load, ti_shared::bundle::BundleKind::Load)?;
    let mut out = String::new();
    let mut found = false;
    for kind in ti_shared::records::RecordKind::ALL {
        let Ok(file) = bundle.open_file(&kind.file_path()) else {
            continue;
        };
        for rec in ti_shared::records::read_records(file).flatten() {
            if rec.key == key {
                found = true;
                let _ = writeln!(
                    out,
                    "record {key} ({}) from {} pk {}",
                    kind.as_str(),
                    rec.source.table,
                    rec.source.pk
                );
                let _ = writeln!(out, "after: {}", rec.after.join(", "));
                let _ = writeln!(out, "digest: {}", rec.digest);
                let _ = writeln!(
                    out,
                    "body:\n{}",
                    serde_json::to_string_pretty(&rec.body).unwrap_or_default()
                );
            }
        }
    }
    if !found {
        return Err(TransformError::Usage(format!(
            "no record with key {key:?} in {}",
            load.display()
        )));
    }
    let mut sources = Vec::new();
    if let Ok(file) = bundle.open_file("report/lineage.ndjson") {
        for line in std::io::BufReader::new(file).lines().map_while(|l| l.ok()) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["key"] == key {
                let _ = writeln!(out, "rules applied:");
                for r in v["rules"].as_array().into_iter().flatten() {
                    let _ = writeln!(out, "  - {}", r.as_str().unwrap_or(""));
                }
                let _ = writeln!(out, "source rows:");
                for s in v["sources"].as_array().into_iter().flatten() {
                    let s = s.as_str().unwrap_or("").to_string();
                    let _ = writeln!(out, "  - {s}");
                    sources.push(s);
                }
            }
        }
    }
    if let Some(extract) = extract {
        let eb =
            ti_shared::bundle::Bundle::open_kind(extract, ti_shared::bundle::BundleKind::Extract)?;
        if let Some(parent) = bundle.manifest().parent.as_deref()
            && parent != eb.id()
        {
            return Err(TransformError::Usage(format!(
                "{} (extract {}) is not the extract load bundle {} was made from (its parent is extract {parent}): \
                 pass that extract to --extract",
                extract.display(),
                eb.id(),
                bundle.id()
            )));
        }
        let src = SourceTables::from_bundle(&eb)?;
        for s in sources {
            let Some((table, pk)) = s.rsplit_once(':') else {
                continue;
            };
            let Some(obj) = src.inventory().object(table) else {
                continue;
            };
            let key_col = obj
                .primary_key
                .first()
                .cloned()
                .or_else(|| obj.columns.first().map(|c| c.name.clone()))
                .unwrap_or_default();
            src.scan(table, |b| {
                for row in 0..b.num_rows() {
                    if b.text(&key_col, row).as_deref() == Some(pk) {
                        let _ = writeln!(out, "{table} row {pk}:");
                        for c in b.column_names() {
                            let v = b
                                .text(&c, row)
                                .map(|t| t.chars().take(200).collect::<String>());
                            let _ = writeln!(out, "  {c} = {}", v.as_deref().unwrap_or("NULL"));
                        }
                    }
                }
                Ok(())
            })?;
        }
    }
    Ok(out)
}
