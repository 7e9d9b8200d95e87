//! Issue 7: inputs that would silently lose data are refused with a message naming what is wrong and the exit code
//! of ti_shared::cli::exit (2: the user's to fix; 3: the bundle is inconsistent).

mod common;

use assert_cmd::Command;
use common::cli::{code_and_stderr, confirmed_mapping, transform_run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use ti_shared::bundle::{Bundle, BundleKind, BundleWriter, Producer, encode_object_name};

fn folder(name: &str) -> String {
    format!("tables/{}", encode_object_name(name))
}

/// Copies the extract bundle `src` to `dst` as a new, sealed bundle: `inventory` edits inventory.json, and
/// `file` maps each file's path to `None` (left out) or the path and manifest rows it gets.
fn rebuild(
    src: &Path,
    dst: &Path,
    inventory: impl Fn(&mut Value),
    file: impl Fn(&str, Option<u64>) -> Option<(String, Option<u64>)>,
) {
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
        if entry.path == "inventory.json" {
            let mut inv: Value = serde_json::from_slice(&bytes).unwrap();
            inventory(&mut inv);
            w.write_json("inventory.json", &inv).unwrap();
        } else if entry.path.starts_with("blobs/") {
            w.add_blob(&bytes).unwrap();
        } else if let Some((rel, rows)) = file(&entry.path, entry.rows) {
            let mut sink = w.create_file(&rel).unwrap();
            std::io::Write::write_all(&mut sink, &bytes).unwrap();
            w.commit(sink, rows).unwrap();
        }
    }
    w.finish().unwrap();
}

fn object<'a>(inv: &'a mut Value, name: &str) -> &'a mut Value {
    inv["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["name"] == name)
        .unwrap()
}

/// Runs `ti-transform run` and returns (exit code, stderr).
fn run(extract: &Path, mapping: &Path, out: &Path, extra: &[&str]) -> (i32, String) {
    code_and_stderr(transform_run(extract, mapping, out).args(extra))
}

struct Setup {
    dir: tempfile::TempDir,
    extract: PathBuf,
    mapping_text: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("extract");
    common::write_bundle(&extract, &common::classic_tables());
    let mapping_text = confirmed_mapping(&extract);
    Setup {
        dir,
        extract,
        mapping_text,
    }
}

impl Setup {
    fn mapping(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

#[test]
fn a_table_the_extract_did_not_write_is_refused_with_exit_2() {
    let s = setup();
    let partial = s.out("partial");
    let tasks = folder("dbo.TASKS");
    rebuild(
        &s.extract,
        &partial,
        |inv| object(inv, "TASKS")["extracted_rows"] = Value::Null,
        |path, rows| (!path.starts_with(&tasks)).then(|| (path.to_string(), rows)),
    );
    let mapping = s.mapping("m.toml", &s.mapping_text);
    let (code, err) = run(&partial, &mapping, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not extracted into this bundle: dbo.TASKS"),
        "{err}"
    );
    assert!(err.contains("re-extract"), "{err}");
    assert!(!s.out("load").join("manifest.json").exists());
}

#[test]
fn a_removed_table_folder_is_refused_with_exit_2() {
    let s = setup();
    let cut = s.out("cut");
    let notes = folder("dbo.TaskNote");
    rebuild(
        &s.extract,
        &cut,
        |_| {},
        |path, rows| (!path.starts_with(&notes)).then(|| (path.to_string(), rows)),
    );
    let mapping = s.mapping("m.toml", &s.mapping_text);
    let (code, err) = run(&cut, &mapping, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("rows missing: dbo.TaskNote holds 0 rows"),
        "{err}"
    );
}

#[test]
fn another_tables_parquet_in_a_folder_is_refused_with_exit_3() {
    let s = setup();
    let swapped = s.out("swapped");
    let tasks = folder("dbo.TASKS");
    let assets = folder("dbo.Assets");
    let assets_rows = {
        let b = Bundle::open_kind(&s.extract, BundleKind::Extract).unwrap();
        b.files_under(&format!("{assets}/"))
            .filter_map(|f| f.rows)
            .sum::<u64>()
    };
    rebuild(
        &s.extract,
        &swapped,
        |inv| object(inv, "TASKS")["extracted_rows"] = assets_rows.into(),
        |path, rows| {
            if path.starts_with(&tasks) {
                None
            } else if path.starts_with(&assets) {
                // The Assets part goes into the TASKS folder (the Assets folder keeps none).
                Some((path.replace(&assets, &tasks), rows))
            } else {
                Some((path.to_string(), rows))
            }
        },
    );
    let mapping = s.mapping("m.toml", &s.mapping_text);
    let (code, err) = run(&swapped, &mapping, &s.out("load"), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("extract bundle is inconsistent"), "{err}");
    assert!(
        err.contains(&format!("{tasks}/part-00000.parquet lacks column(s)")),
        "{err}"
    );
}

#[test]
fn a_profile_that_does_not_fit_the_extract_is_refused_by_run_and_propose() {
    let s = setup();
    let web = s.mapping(
        "web.toml",
        &s.mapping_text
            .replace("profile = \"classic\"", "profile = \"web\""),
    );
    let (code, err) = run(&s.extract, &web, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("profile web expects tickets in _SMDBA_."),
        "{err}"
    );
    assert!(
        err.contains("this extract looks like classic (dbo.TASKS): use --profile classic"),
        "{err}"
    );
    let o = Command::cargo_bin("ti-transform")
        .unwrap()
        .arg("propose")
        .arg(&s.extract)
        .args(["--profile", "web", "--out"])
        .arg(s.out("proposed-web.toml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("use --profile classic"), "{err}");
    assert!(!s.out("proposed-web.toml").exists());
}

#[test]
fn mapping_mistakes_are_refused_naming_the_mapping_and_the_column() {
    let s = setup();
    let attr = |column: &str, name: &str| {
        format!(
            "\n[[attribute]]\ncolumn = \"{column}\"\nname = \"{name}\"\ndata_type = \"string\"\n"
        )
    };
    let dup = s.mapping(
        "dup.toml",
        &format!(
            "{}{}{}",
            s.mapping_text,
            attr("WO_TEXT1", "ti_same__c"),
            attr("WO_INT1", "ti_same__c")
        ),
    );
    let (code, err) = run(&s.extract, &dup, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("dup.toml"), "{err}");
    assert!(
        err.contains("\"ti_same__c\" is given to both column WO_TEXT1 and column WO_INT1"),
        "{err}"
    );

    let missing = s.mapping(
        "missing.toml",
        &format!(
            "{}{}",
            s.mapping_text,
            attr("NO_SUCH_COLUMN", "ti_nothing__c")
        ),
    );
    let (code, err) = run(&s.extract, &missing, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("column \"NO_SUCH_COLUMN\" is not a column of dbo.TASKS"),
        "{err}"
    );
    assert!(err.contains("missing.toml"), "{err}");

    let tz = s.mapping(
        "tz.toml",
        &s.mapping_text.replace(
            "source_time_zone = \"America/New_York\"",
            "source_time_zone = \"Mars/Olympus\"",
        ),
    );
    let (code, err) = run(&s.extract, &tz, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tz.toml"), "{err}");
    assert!(err.contains("\"Mars/Olympus\""), "{err}");

    let unknown = s.mapping(
        "unknown.toml",
        &s.mapping_text
            .replace("profile = \"classic\"", "profile = \"clasic\""),
    );
    let (code, err) = run(&s.extract, &unknown, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown.toml"), "{err}");
    assert!(err.contains("unknown profile \"clasic\""), "{err}");

    let fp_line = s
        .mapping_text
        .lines()
        .find(|l| l.starts_with("schema_fingerprint"))
        .unwrap()
        .to_string();
    let other = s.mapping(
        "other.toml",
        &s.mapping_text.replace(
            &fp_line,
            &format!("schema_fingerprint = \"{}\"", "0".repeat(64)),
        ),
    );
    let (code, err) = run(&s.extract, &other, &s.out("load"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("this mapping was made for another database or schema"),
        "{err}"
    );
}

#[test]
fn out_as_a_file_and_sample_zero_are_usage_errors() {
    let s = setup();
    let mapping = s.mapping("m.toml", &s.mapping_text);
    let file = s.out("README.md");
    std::fs::write(&file, "x").unwrap();
    let (code, err) = run(&s.extract, &mapping, &file, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("README.md is a file"), "{err}");
    let (code, err) = run(&s.extract, &mapping, &s.out("load"), &["--sample", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--sample 0"), "{err}");
}

#[test]
fn explain_refuses_an_extract_that_is_not_the_load_bundles_parent() {
    let s = setup();
    let mapping = s.mapping("m.toml", &s.mapping_text);
    let load = s.out("load");
    let (code, err) = run(&s.extract, &mapping, &load, &[]);
    assert_eq!(code, 0, "{err}");
    let other = s.out("other-extract");
    let mut tables = common::classic_tables();
    tables.retain(|t| t.name != "zz_import_2016");
    let other_id = common::write_bundle(&other, &tables);
    let load_id = Bundle::open_kind(&load, BundleKind::Load)
        .unwrap()
        .id()
        .to_string();
    let (code, err) = code_and_stderr(
        Command::cargo_bin("ti-transform")
            .unwrap()
            .arg("explain")
            .arg(&load)
            .arg("conversation:ticket:1")
            .arg("--extract")
            .arg(&other),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&other_id), "{err}");
    assert!(err.contains(&load_id), "{err}");
    assert!(err.contains("is not the extract load bundle"), "{err}");
}

#[test]
fn values_that_do_not_convert_are_listed_per_record() {
    let s = setup();
    let mapping = s.mapping(
        "int.toml",
        &format!(
            "{}\n[[attribute]]\ncolumn = \"TASK\"\nname = \"ti_task_as_number__c\"\ndata_type = \"integer\"\n",
            s.mapping_text
        ),
    );
    let load = s.out("load");
    let (code, err) = run(&s.extract, &mapping, &load, &[]);
    assert_eq!(code, 0, "{err}");
    let gaps = std::fs::read_to_string(load.join("gaps/unconverted_values.csv")).unwrap();
    let mut lines = gaps.lines();
    assert_eq!(lines.next(), Some("record,attribute,source_value,reason"));
    assert!(
        gaps.contains(
            "conversation:ticket:1,ti_task_as_number__c,Printer jams,not a valid integer (column TASK)"
        ),
        "{gaps}"
    );
    let listed = lines.count() as u64;
    assert!(listed > 0);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(load.join("report/report.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["counters"]["attribute_values_not_converted"].as_u64(),
        Some(listed),
        "{}",
        report["counters"]
    );
}
