//! Write errors while transforming (a full disk, a file size limit) name the file being written, exit non-zero
//! and leave no bundle that looks complete; the run's temporary files live in the output's `staging/` folder,
//! never in `$TMPDIR`, and are gone after a successful run.

mod common;

use common::cli::{classic_setup, transform_run};
use std::path::Path;

/// Files under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for item in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = item.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_successful_run_leaves_no_staging_folder_and_nothing_in_tmpdir() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, mapping) = classic_setup(dir.path());
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = dir.path().join("load");
    transform_run(&extract, &mapping, &out)
        .env("TMPDIR", &tmp)
        .args(["-q", "--window-tickets", "1"])
        .assert()
        .success();
    assert!(out.join("manifest.json").exists());
    assert!(!out.join(ti_transform::output::STAGING).exists());
    assert!(files(&tmp).is_empty(), "{:?}", files(&tmp));
    ti_shared::bundle::Bundle::open_kind(&out, ti_shared::bundle::BundleKind::Load).unwrap();
}

/// `ulimit -f` in a shell that ignores SIGXFSZ: every write past the limit fails with EFBIG ("File too
/// large"), as a full disk fails with ENOSPC.
#[cfg(unix)]
#[test]
fn a_write_error_names_the_file_exits_non_zero_and_leaves_no_complete_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, mapping) = classic_setup(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("ti-transform");
    // A folder the run created is removed; a folder that existed (empty) is emptied but kept.
    for existed in [false, true] {
        let out = dir.path().join(format!("load-{existed}"));
        if existed {
            std::fs::create_dir(&out).unwrap();
        }
        let script = "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"";
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&bin)
            .args(["run", "-q"])
            .arg(&extract)
            .arg("--mapping")
            .arg(&mapping)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        let shown = out.display().to_string();
        assert!(
            err.contains(&shown) && err.contains("File too large"),
            "the message names the path: {err}"
        );
        assert!(!out.join("manifest.json").exists());
        assert_eq!(out.exists(), existed, "{err}");
        assert!(files(&out).is_empty(), "{:?}", files(&out));
        if existed {
            std::fs::remove_dir(&out).unwrap();
        }
    }
}

/// `[transform] window_tickets` of pipeline.toml sets the window size, `--window-tickets` overrides it (`-v`
/// logs the size used), and a misspelt key is refused with exit 2 before anything is written.
#[test]
fn window_tickets_comes_from_the_config_unless_given_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, mapping) = classic_setup(dir.path());
    let config = dir.path().join("pipeline.toml");
    std::fs::write(&config, "[transform]\nwindow_tickets = 1\n").unwrap();
    let used = |out: &str, extra: &[&str]| -> String {
        let o = transform_run(&extract, &mapping, &dir.path().join(out))
            .arg("--config")
            .arg(&config)
            .arg("-v")
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{err}");
        err.lines()
            .find(|l| l.contains("ticket windows"))
            .unwrap_or_else(|| panic!("no window line in {err}"))
            .to_string()
    };
    let from_config = used("load1", &[]);
    assert!(from_config.contains("window_tickets=1"), "{from_config}");
    let from_cli = used("load2", &["--window-tickets", "7"]);
    assert!(from_cli.contains("window_tickets=7"), "{from_cli}");
    std::fs::write(&config, "[transform]\nwindow_ticket = 1\n").unwrap();
    let out = dir.path().join("load3");
    let o = transform_run(&extract, &mapping, &out)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("window_ticket"), "{err}");
    assert!(!out.exists());
}
