//! The command-line contract every binary of the product shares (issue 2): exit code 2 with a message naming the
//! key for configuration mistakes, 3 naming the file for a damaged bundle, and `verify` printing `OK <bundle_id>`.

use std::path::Path;
use std::process::Command;
use testkit_harness::{TempDir, binary};

const STAGES: [&str; 3] = ["ti-extract", "ti-transform", "ti-load"];

/// Runs `bin args…` in `dir`; returns (exit code, stdout, stderr).
fn run(bin: &str, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary(bin))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// The one command per binary that reads the configuration before doing anything else.
fn config_reading_args(bin: &str) -> Vec<&'static str> {
    match bin {
        "ti-extract" => vec!["run", "--out", "out-bundle"],
        "ti-transform" => vec![
            "run",
            "missing-bundle",
            "--mapping",
            "m.toml",
            "--out",
            "out-bundle",
        ],
        _ => vec!["plan", "missing-bundle"],
    }
}

fn with_config(text: &str) -> TempDir {
    let dir = TempDir::new();
    std::fs::write(dir.path().join("pipeline.toml"), text).unwrap();
    dir
}

#[test]
fn unknown_key_exits_2_naming_the_key_and_line() {
    let dir = with_config("[extract]\npage_rows = 10\nmystery_knob = 1\n");
    for bin in STAGES {
        let (code, _, err) = run(bin, dir.path(), &config_reading_args(bin));
        assert_eq!(code, 2, "{bin}: {err}");
        assert!(
            err.contains("mystery_knob") && err.contains("line 3"),
            "{bin}: {err}"
        );
    }
}

#[test]
fn wrong_type_exits_2_naming_the_key() {
    let dir = with_config("[intercom]\nworkers = \"four\"\n");
    for bin in STAGES {
        let (code, _, err) = run(bin, dir.path(), &config_reading_args(bin));
        assert_eq!(code, 2, "{bin}: {err}");
        assert!(err.contains("workers"), "{bin}: {err}");
    }
}

#[test]
fn inline_secret_exits_2_without_echoing_it() {
    let dir = with_config("[source]\npassword = \"hunter2-secret\"\n");
    for bin in STAGES {
        let (code, out, err) = run(bin, dir.path(), &config_reading_args(bin));
        assert_eq!(code, 2, "{bin}: {err}");
        assert!(err.contains("password_env"), "{bin}: {err}");
        assert!(
            !err.contains("hunter2-secret") && !out.contains("hunter2-secret"),
            "{bin} echoed the secret"
        );
    }
}

#[test]
fn missing_required_connection_string_exits_2() {
    let dir = with_config("[source]\npassword_env = \"X\"\n");
    let (code, _, err) = run("ti-extract", dir.path(), &["run", "--out", "b"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("connection_string"), "{err}");
}

#[test]
fn verify_accepts_a_good_bundle_and_names_the_damaged_file() {
    let dir = TempDir::new();
    let root = dir.path().join("bundle");
    write_small_load_bundle(&root);

    for bin in STAGES {
        let (code, out, err) = run(bin, dir.path(), &["verify", root.to_str().unwrap()]);
        assert_eq!(code, 0, "{bin}: {err}");
        assert!(out.starts_with("OK "), "{bin}: {out}");
    }
    let data = root.join("records/01-data_attribute.ndjson");
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&data, bytes).unwrap();
    for bin in STAGES {
        let (code, _, err) = run(bin, dir.path(), &["verify", root.to_str().unwrap()]);
        assert_eq!(code, 3, "{bin}: {err}");
        assert!(
            err.contains("records/01-data_attribute.ndjson"),
            "{bin}: {err}"
        );
    }
}

#[test]
fn verify_of_a_path_that_does_not_exist_exits_2_saying_so() {
    let dir = TempDir::new();
    for bin in STAGES {
        let (code, _, err) = run(bin, dir.path(), &["verify", "no-such-bundle"]);
        assert_eq!(code, 2, "{bin}: {err}");
        assert!(
            err.contains("no-such-bundle") && err.contains("no such directory"),
            "{bin}: {err}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new();
    for bin in STAGES {
        let (code, _, _) = run(bin, dir.path(), &["no-such-command"]);
        assert_eq!(code, 2, "{bin}");
    }
}

/// A minimal finished load bundle, written with the writer every stage shares.
fn write_small_load_bundle(root: &Path) {
    let w = ti_shared::bundle::BundleWriter::create(
        root,
        ti_shared::bundle::BundleKind::Load,
        ti_shared::bundle::Producer {
            name: "test".into(),
            version: "0".into(),
        },
    )
    .unwrap();
    w.write_bytes("records/01-data_attribute.ndjson", b"{\"k\":1}\n", Some(1))
        .unwrap();
    w.finish().unwrap();
}
