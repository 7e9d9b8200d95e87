//! Session 3: a newcomer's bad-input check. Each finding is refused or reported with the exit code of
//! ti_shared::cli::exit and a message naming what is wrong.

mod common;

use common::cli::{code_and_stderr, confirmed_mapping, transform_run};
use std::path::{Path, PathBuf};
use ti_shared::bundle::{Bundle, BundleKind, BundleWriter, Producer};

/// Copies the extract bundle `src` to `dst` as a new, sealed bundle; `file` maps each file's path and bytes to
/// `None` (left out) or the bytes it gets (so the manifest is re-sealed over damaged content).
fn reseal(src: &Path, dst: &Path, file: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let b = Bundle::open_kind(src, BundleKind::Extract).unwrap();
    let w = BundleWriter::create(
        dst,
        BundleKind::Extract,
        Producer {
            name: "test".into(),
            version: "0".into(),
        },
    )
    .unwrap();
    for entry in &b.manifest().files {
        let bytes = std::fs::read(b.path(&entry.path)).unwrap();
        if entry.path.starts_with("blobs/") {
            w.add_blob(&bytes).unwrap();
        } else if let Some(bytes) = file(&entry.path, bytes) {
            let mut sink = w.create_file(&entry.path).unwrap();
            std::io::Write::write_all(&mut sink, &bytes).unwrap();
            w.commit(sink, entry.rows).unwrap();
        }
    }
    w.finish().unwrap();
}

struct Setup {
    dir: tempfile::TempDir,
    extract: PathBuf,
    mapping: PathBuf,
    mapping_text: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("extract");
    common::write_bundle(&extract, &common::classic_tables());
    let mapping_text = confirmed_mapping(&extract);
    let mapping = dir.path().join("mapping.toml");
    std::fs::write(&mapping, &mapping_text).unwrap();
    Setup {
        dir,
        extract,
        mapping,
        mapping_text,
    }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn extract_verifies(extract: &Path) -> bool {
    Bundle::open_kind(extract, BundleKind::Extract).is_ok()
}

#[test]
fn an_out_inside_the_extract_bundle_is_refused_before_anything_is_written() {
    let s = setup();
    for out in [
        s.extract.join("lb"),
        s.extract.join("tables").join("lb2"),
        s.extract.join("tables").join("..").join("lb3"),
        s.extract.clone(),
    ] {
        let (code, err) = code_and_stderr(&mut transform_run(&s.extract, &s.mapping, &out));
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!(
                "--out {} is inside the extract bundle {}",
                out.display(),
                s.extract.display()
            )),
            "{err}"
        );
        assert!(err.contains("choose an --out outside it"), "{err}");
        if out != s.extract {
            assert!(!out.exists(), "{}", out.display());
        }
        assert!(extract_verifies(&s.extract));
    }
    // The extract bundle inside --out.
    let (code, err) = code_and_stderr(&mut transform_run(&s.extract, &s.mapping, s.dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "--out {} contains the extract bundle {}",
            s.dir.path().display(),
            s.extract.display()
        )),
        "{err}"
    );
    assert!(extract_verifies(&s.extract));
}

#[test]
fn window_tickets_0_is_refused() {
    let s = setup();
    let out = s.path("load");
    let (code, err) = code_and_stderr(
        transform_run(&s.extract, &s.mapping, &out).args(["--window-tickets", "0"]),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error: --window-tickets 0 is not a window size"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_leftover_staging_folder_is_named_as_such() {
    let s = setup();
    let out = s.path("load");
    std::fs::create_dir_all(out.join("staging")).unwrap();
    std::fs::write(out.join("staging").join("texts.bin"), b"x").unwrap();
    let (code, err) = code_and_stderr(&mut transform_run(&s.extract, &s.mapping, &out));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "--out {} holds a staging/ folder and no manifest.json: it is left over from an interrupted \
             ti-transform run",
            out.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("deleting the folder {} is safe", out.display())),
        "{err}"
    );
    // Nothing was removed: the consultant decides.
    assert!(out.join("staging").join("texts.bin").exists());
}

#[test]
#[cfg(unix)]
fn sigterm_removes_what_the_run_wrote_and_exits_143() {
    let s = setup();
    let out = s.path("load");
    let release = s.path("release");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ti-transform"))
        .arg("run")
        .arg(&s.extract)
        .arg("--mapping")
        .arg(&s.mapping)
        .arg("--out")
        .arg(&out)
        .env("TI_TRANSFORM_TEST_HOLD", &release)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The run holds after creating its staging folder until `release` exists (never, here).
    while !out.join("staging").is_dir() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(
        err.contains(&format!(
            "error: interrupted by SIGTERM: removed what this run had written to {}",
            out.display()
        )),
        "{err}"
    );
    assert!(!out.exists());
    // A rerun into the same --out works.
    let (code, err) = code_and_stderr(&mut transform_run(&s.extract, &s.mapping, &out));
    assert_eq!(code, 0, "{err}");
    assert!(out.join("manifest.json").exists());
}

#[test]
fn a_corrupt_parquet_part_in_a_resealed_bundle_is_exit_3_naming_bundle_and_file() {
    let s = setup();
    let bad = s.path("corrupt");
    let tasks = format!(
        "tables/{}/",
        ti_shared::bundle::encode_object_name("dbo.TASKS")
    );
    let first_part = {
        let b = Bundle::open_kind(&s.extract, BundleKind::Extract).unwrap();
        b.manifest()
            .files
            .iter()
            .find(|f| f.path.ends_with(".parquet") && f.path.starts_with(&tasks))
            .unwrap()
            .path
            .clone()
    };
    reseal(&s.extract, &bad, |path, bytes| {
        Some(if path == first_part {
            bytes[..bytes.len() / 2].to_vec()
        } else {
            bytes
        })
    });
    let (code, err) = code_and_stderr(&mut transform_run(&bad, &s.mapping, &s.path("load")));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "extract bundle {}: {first_part} cannot be read (",
            bad.display()
        )),
        "{err}"
    );
    assert!(!s.path("load").exists());
}

#[test]
fn a_missing_inventory_in_a_resealed_bundle_is_exit_3() {
    let s = setup();
    let bad = s.path("noinv");
    reseal(&s.extract, &bad, |path, bytes| {
        (path != "inventory.json").then_some(bytes)
    });
    let (code, err) = code_and_stderr(&mut transform_run(&bad, &s.mapping, &s.path("load")));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "extract bundle {}: inventory.json cannot be read (it is missing",
            bad.display()
        )),
        "{err}"
    );
}

/// The mapping text without the section `header` (up to the next section header or the end).
fn without_section(text: &str, header: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line.trim() == header;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn a_confirmed_mapping_with_deleted_sections_is_refused_naming_them() {
    let s = setup();
    assert!(s.mapping_text.contains("\n[[attribute]]"));
    let text = without_section(
        &without_section(
            &without_section(&s.mapping_text, "[status]"),
            "[note_types]",
        ),
        "[[attribute]]",
    );
    let cut = s.path("cut.toml");
    std::fs::write(&cut, text).unwrap();
    let out = s.path("load");
    let (code, err) = code_and_stderr(&mut transform_run(&s.extract, &cut, &out));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "mapping {}: section(s) [status], [note_types], [[attribute]] missing",
            cut.display()
        )),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn explicitly_empty_sections_are_allowed_and_their_values_listed() {
    let s = setup();
    // `[status]` and `[note_types]` kept as empty headers; `attribute = []` before the first section.
    let mut text = String::new();
    let mut skipping = false;
    for line in s.mapping_text.lines() {
        if line.starts_with('[') {
            skipping = false;
            if line.trim() == "[[attribute]]" {
                skipping = true;
                continue;
            }
            if line.trim() == "[people]" {
                text.push_str("attribute = []\n\n");
            }
            text.push_str(line);
            text.push('\n');
            if line.trim() == "[status]" || line.trim() == "[note_types]" {
                skipping = true;
            }
            continue;
        }
        if !skipping {
            text.push_str(line);
            text.push('\n');
        }
    }
    let empty = s.path("empty.toml");
    std::fs::write(&empty, text).unwrap();
    let out = s.path("load");
    let (code, err) = code_and_stderr(&mut transform_run(&s.extract, &empty, &out));
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(out.join("gaps/unmapped_values.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("section,value,rows,migrated_as"));
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("status,") && r.contains("stay open")),
        "{csv}"
    );
    assert!(rows.iter().any(|r| r.starts_with("note_types,")), "{csv}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("attribute,") && r.contains("not migrated")),
        "{csv}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report/report.json")).unwrap()).unwrap();
    let counters = &report["counters"];
    let statuses_rows: u64 = rows
        .iter()
        .filter(|r| r.starts_with("status,"))
        .map(|r| r.split(',').nth(2).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counters["unmapped_status_values"], statuses_rows);
    assert!(counters["unmapped_attribute_columns"].as_u64().unwrap() > 0);
    assert!(
        report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "gaps/unmapped_values.csv")
    );
    let html = std::fs::read_to_string(out.join("report/migration-report.html")).unwrap();
    assert!(html.contains("gaps/unmapped_values.csv"));
}

#[test]
fn a_proposal_confirmed_as_it_is_writes_no_unmapped_or_omitted_file() {
    let s = setup();
    let out = s.path("load");
    let (code, err) = code_and_stderr(&mut transform_run(&s.extract, &s.mapping, &out));
    assert_eq!(code, 0, "{err}");
    assert!(!out.join("gaps/unmapped_values.csv").exists());
    assert!(!out.join("gaps/omitted_cells.csv").exists());
}

/// A keyless table `dbo.AuditLog` whose second row's `DATA` cell was not read by the extractor (NULL,
/// `DATA__bytes` = 5000, `DATA__blake3` NULL), added to the classic bundle with `report/extract.json` counting it.
fn with_omitted_cell(src: &Path, dst: &Path, report_count: u64) {
    use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;
    let folder = format!(
        "tables/{}",
        ti_shared::bundle::encode_object_name("dbo.AuditLog")
    );
    let b = Bundle::open_kind(src, BundleKind::Extract).unwrap();
    let w = BundleWriter::create(
        dst,
        BundleKind::Extract,
        Producer {
            name: "test".into(),
            version: "0".into(),
        },
    )
    .unwrap();
    for entry in &b.manifest().files {
        let bytes = std::fs::read(b.path(&entry.path)).unwrap();
        if entry.path.starts_with("blobs/") {
            w.add_blob(&bytes).unwrap();
        } else if entry.path == "inventory.json" {
            let mut inv: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            inv["objects"].as_array_mut().unwrap().push(serde_json::json!({
                "schema": "dbo", "name": "AuditLog", "type": "BASE TABLE", "folder": folder,
                "columns": [
                    {"name": "ID", "data_type": "int", "max_length": null, "precision": null, "scale": null, "nullable": true, "collation": null},
                    {"name": "DATA", "data_type": "text", "max_length": null, "precision": null, "scale": null, "nullable": true, "collation": null}
                ],
                "primary_key": [], "row_count": 3, "extracted_rows": 3
            }));
            w.write_json("inventory.json", &inv).unwrap();
        } else {
            let mut sink = w.create_file(&entry.path).unwrap();
            std::io::Write::write_all(&mut sink, &bytes).unwrap();
            w.commit(sink, entry.rows).unwrap();
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("ID", DataType::Int32, true),
        Field::new("DATA", DataType::Utf8, true),
        Field::new("DATA__blake3", DataType::Utf8, true),
        Field::new("DATA__bytes", DataType::Int64, true),
    ]));
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![Some(1), Some(2), Some(3)])),
        Arc::new(StringArray::from(vec![Some("short"), None, None])),
        Arc::new(StringArray::from(vec![None::<&str>, None, None])),
        Arc::new(Int64Array::from(vec![None, Some(5000), None])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let rel = format!("{folder}/part-00000.parquet");
    let mut sink = w.create_file(&rel).unwrap();
    {
        let mut pw = parquet::arrow::ArrowWriter::try_new(&mut sink, schema, None).unwrap();
        pw.write(&batch).unwrap();
        pw.close().unwrap();
    }
    w.commit(sink, Some(3)).unwrap();
    w.write_json(
        "report/extract.json",
        &serde_json::json!({"tables": [
            {"name": "dbo.TASKS", "omitted_cells": 0},
            {"name": "dbo.AuditLog", "omitted_cells": report_count, "notes": []}
        ], "attachments": null}),
    )
    .unwrap();
    w.finish().unwrap();
}

#[test]
fn cells_the_extractor_did_not_read_are_listed_counted_and_reported() {
    let s = setup();
    let extract = s.path("omitted");
    with_omitted_cell(&s.extract, &extract, 2);
    let mapping = s.path("m2.toml");
    std::fs::write(&mapping, confirmed_mapping(&extract)).unwrap();
    let out = s.path("load");
    let (code, err) = code_and_stderr(&mut transform_run(&extract, &mapping, &out));
    assert_eq!(code, 0, "{err}");
    let csv = std::fs::read_to_string(out.join("gaps/omitted_cells.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "table,column,row,key,bytes,reason");
    assert_eq!(lines.len(), 3, "{csv}");
    let reason = ti_transform::omitted::REASON;
    assert_eq!(lines[1], format!("dbo.AuditLog,DATA,2,,5000,{reason}"));
    // The report counted 2, one was located: the other is named as not located.
    assert_eq!(
        lines[2],
        format!(
            "dbo.AuditLog,,,,,1 more cell(s) counted by report/extract.json but not located in the table's \
             parts; {reason}"
        )
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report/report.json")).unwrap()).unwrap();
    assert_eq!(report["counters"]["omitted_cells"], 2);
    assert!(
        report["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "gaps/omitted_cells.csv")
    );
    let html = std::fs::read_to_string(out.join("report/migration-report.html")).unwrap();
    assert!(html.contains("gaps/omitted_cells.csv"), "gap list");
    assert!(
        html.contains("<li class=bad>2 cells the extractor did not read"),
        "data not migrated"
    );
}
