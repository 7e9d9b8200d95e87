//! Every case of testdata/bad-input (listed in its README) against all three binaries: the exit code and the
//! words of the message a consultant would search for.

use std::path::{Path, PathBuf};
use std::process::Command;
use testkit_harness::binary;

const STAGES: [&str; 3] = ["ti-extract", "ti-transform", "ti-load"];

fn bad_input() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/bad-input")
}

/// Runs `bin args…`; returns (exit code, stdout + stderr).
fn run(bin: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(binary(bin))
        .args(args)
        .current_dir(bad_input())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn every_bad_bundle_is_refused_with_its_reason() {
    let cases: [(&str, i32, &[&str]); 6] = [
        ("bundle-good", 0, &["OK "]),
        (
            "bundle-damaged",
            3,
            &["records/01-data_attribute.ndjson is damaged"],
        ),
        ("bundle-incomplete", 3, &["incomplete"]),
        (
            "bundle-unlisted-file",
            3,
            &["records/99-extra.ndjson", "not listed"],
        ),
        ("bundle-listed-twice", 3, &["listed twice"]),
        ("no-such-bundle", 2, &["no such directory"]),
    ];
    for bin in STAGES {
        for (dir, code, words) in cases {
            let (got, text) = run(bin, &["verify", dir]);
            assert_eq!(got, code, "{bin} verify {dir}: {text}");
            for word in words {
                assert!(text.contains(word), "{bin} verify {dir}: {text}");
            }
        }
    }
}

/// The arguments of a command of `bin` that reads the configuration first.
fn config_reading(bin: &str) -> Vec<&'static str> {
    match bin {
        "ti-extract" => vec!["run", "--out", "never-written"],
        "ti-transform" => vec![
            "run",
            "bundle-good",
            "--mapping",
            "none.toml",
            "--out",
            "never-written",
        ],
        _ => vec!["plan", "bundle-good"],
    }
}

#[test]
fn every_bad_configuration_exits_2_naming_the_key() {
    let cases: [(&str, &[&str]); 3] = [
        ("pipeline-unknown-key.toml", &["page_rowz", "line 4"]),
        ("pipeline-inline-secret.toml", &["token_env"]),
        ("pipeline-wrong-type.toml", &["requests_per_minute"]),
    ];
    for bin in STAGES {
        for (file, words) in cases {
            let mut args = vec!["--config", file];
            args.extend(config_reading(bin));
            let (got, text) = run(bin, &args);
            assert_eq!(got, 2, "{bin} --config {file}: {text}");
            for word in words {
                assert!(text.contains(word), "{bin} --config {file}: {text}");
            }
            assert!(
                !text.contains("dG9rOmJhZC1pbnB1dC1zZWNyZXQ="),
                "{bin} echoed the secret: {text}"
            );
            assert!(
                !bad_input().join("never-written").exists(),
                "{bin} wrote output despite a bad configuration"
            );
        }
    }
}
