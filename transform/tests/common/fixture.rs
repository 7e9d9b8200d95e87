//! Generated fixtures end to end: generate → serve over TDS → `ti-extract run`, then `ti-transform` as a child
//! process (testkit-harness builds the binaries).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit_harness as h;

/// Runs `cmd`, panics with its output when it fails; returns its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{:?} failed:\n{}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Generates a fixture of `profile` with `tickets` tickets (seed 1, `extra` generator arguments), serves it and
/// extracts it into `<dir>/extract`; returns the extract bundle and truth.json.
pub fn extract(dir: &Path, profile: &str, tickets: u32, extra: &[&str]) -> (PathBuf, Value) {
    let fixture = h::generate_fixture(&dir.join("fixture"), profile, tickets, 1, extra);
    let truth: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("truth.json")).unwrap()).unwrap();
    let server = h::start_fixture_server(&fixture.join("trackit.sqlite"), &[]);
    // The web profile's database has the 20xx default name (testkit/trackit-fixture/README.md).
    let database = if profile == "web" {
        "TRACKIT2020DB"
    } else {
        h::FIXTURE_DATABASE
    };
    let conn = format!(
        "server=tcp:127.0.0.1,{};database={database};user=sa;encrypt=DANGER_PLAINTEXT",
        server.port()
    );
    let bundle = dir.join("extract");
    run(Command::new(h::binary("ti-extract"))
        .env("TRACKIT_SQL_PASSWORD", h::FIXTURE_PASSWORD)
        .args(["run", "-q", "--connection-string", &conn])
        .arg("--attachments-dir")
        .arg(fixture.join("attachments"))
        .arg("--out")
        .arg(&bundle));
    (bundle, truth)
}

/// `ti-transform run` with `mapping`, then `ti-transform verify` of the load bundle.
pub fn transform_and_verify(extract: &Path, mapping: &Path, out: &Path) {
    let tt = h::binary("ti-transform");
    run(Command::new(&tt)
        .arg("run")
        .arg(extract)
        .arg("--mapping")
        .arg(mapping)
        .arg("--out")
        .arg(out));
    run(Command::new(&tt).arg("verify").arg(out));
}
