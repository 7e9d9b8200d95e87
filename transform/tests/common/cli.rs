//! Driving `ti-transform` and reading what it wrote, for the integration tests on hand-built bundles.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use ti_shared::records::Record;

/// The mapping `propose` makes of `extract`, confirmed as it is.
pub fn confirmed_mapping(extract: &Path) -> String {
    ti_transform::propose_file(extract, "auto")
        .unwrap()
        .replace("confirmed = false", "confirmed = true")
}

/// The hand-built classic extract bundle (`<dir>/extract`) and its confirmed mapping (`<dir>/mapping.toml`).
pub fn classic_setup(dir: &Path) -> (PathBuf, PathBuf) {
    let extract = dir.join("extract");
    super::write_bundle(&extract, &super::classic_tables());
    let mapping = dir.join("mapping.toml");
    std::fs::write(&mapping, confirmed_mapping(&extract)).unwrap();
    (extract, mapping)
}

/// `ti-transform run EXTRACT --mapping MAPPING --out OUT`, ready for more arguments.
pub fn transform_run(extract: &Path, mapping: &Path, out: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("ti-transform").unwrap();
    cmd.arg("run")
        .arg(extract)
        .arg("--mapping")
        .arg(mapping)
        .arg("--out")
        .arg(out);
    cmd
}

/// Runs `cmd` to its end: (exit code, -1 for a signal; stderr).
pub fn code_and_stderr(cmd: &mut assert_cmd::Command) -> (i32, String) {
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Every record of a load bundle by key, each digest checked.
pub fn records(bundle: &Path) -> BTreeMap<String, Record> {
    let mut out = BTreeMap::new();
    for kind in ti_shared::records::RecordKind::ALL {
        let f = std::fs::File::open(bundle.join(kind.file_path())).unwrap();
        for r in ti_shared::records::read_records(f) {
            let r = r.unwrap();
            assert_eq!(r.digest, r.compute_digest(), "{}", r.key);
            out.insert(r.key.clone(), r);
        }
    }
    out
}

/// [`records`] as JSON values.
pub fn records_json(bundle: &Path) -> BTreeMap<String, Value> {
    records(bundle)
        .into_iter()
        .map(|(k, r)| (k, serde_json::to_value(&r).unwrap()))
        .collect()
}
