//! Session-3 newcomer findings on `--resume` and the output folder: committed parts deleted, emptied or changed
//! after an interruption are detected (the table is extracted again, with a warning naming the file); a resume
//! against another server or database, or with other settings, is refused naming each difference; rows_written
//! is cross-checked against the Parquet footers before sealing; `--out` may not be a file, a folder inside a
//! bundle, or (for `--resume`) a folder that is no interrupted bundle; `discover --out` will not overwrite a
//! bundle; a second run on a bundle folder in use is refused; Ctrl-C exits 130 saying how to continue.

mod common;

use common::*;
use rusqlite::params;
use std::path::{Path, PathBuf};

/// `dbo.Tickets` (keyed, 2,000 rows) and `dbo.Log` (keyless, 300 rows); `extra` adds `dbo.Extra` (another schema).
fn make_db(dir: &Path, name: &str, extra: bool) -> PathBuf {
    let db = dir.join(name);
    let c = new_db(&db);
    table(
        &c,
        "Tickets",
        &[col("WOID", "int").pk(), col("TASK", "varchar").len(100)],
    );
    table(
        &c,
        "Log",
        &[col("At", "datetime"), col("Line", "nvarchar").len(200)],
    );
    if extra {
        table(&c, "Extra", &[col("Id", "int").pk()]);
    }
    c.execute_batch("BEGIN").unwrap();
    for i in 1..=2000i64 {
        c.execute(
            "INSERT INTO \"dbo.Tickets\" VALUES (?1, ?2)",
            params![i, format!("Ticket {i}")],
        )
        .unwrap();
    }
    for i in 1..=300i64 {
        c.execute(
            "INSERT INTO \"dbo.Log\" VALUES (?1, ?2)",
            params![
                format!("2021-03-{:02} 08:{:02}:00", 1 + i % 28, i % 60),
                format!("line {i}")
            ],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
    db
}

fn config(dir: &Path, name: &str, page_rows: u64) -> PathBuf {
    let cfg = dir.join(name);
    std::fs::write(
        &cfg,
        format!("[extract]\npage_rows = {page_rows}\nrow_group_rows = 200\nretries = 0\n"),
    )
    .unwrap();
    cfg
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(item.file_name());
        if item.path().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// One database, its uninterrupted bundle's id, and a bundle interrupted in `dbo.Tickets` after two committed
/// parts (`dbo.Log` done), interrupted by Ctrl-C (SIGINT).
struct Setup {
    dir: tempfile::TempDir,
    cfg: PathBuf,
    expected: String,
    interrupted: PathBuf,
    /// The interrupted run's server (a resume must use the same server: its address is part of the origin).
    server: Server,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path(), "a.sqlite", false);
    let cfg = config(dir.path(), "pipeline.toml", 1000);
    let server = Server::start(&db, &[]);
    let reference = dir.path().join("reference");
    let (code, stdout, stderr) = run(&server, &cfg, &reference, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let expected = bundle_id(&reference);
    drop(server);

    // A slow server, so the kill lands mid-table: wait (no timing assertion) until two parts are committed.
    let server = Server::start(&db, &["--fault", "delay-ms=15"]);
    let interrupted = dir.path().join("interrupted");
    let conn = server.conn();
    let mut child = std::process::Command::new(extract_binary())
        .args([
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--connection-string",
            &conn,
            "--out",
        ])
        .arg(&interrupted)
        .env("TRACKIT_SQL_PASSWORD", "fixture")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let state_file = interrupted.join("extract-state.json");
    let parts = |v: &serde_json::Value| {
        v["tables"]["dbo.Tickets"]["part_rows"]
            .as_array()
            .map_or(0, Vec::len)
    };
    loop {
        let text = std::fs::read_to_string(&state_file).unwrap_or_default();
        let state = serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default();
        if parts(&state) >= 2 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Ctrl-C: the run says how to continue and exits 130.
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.ends_with("interrupted: run again with --resume to continue\n"),
        "{stderr}"
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    assert!(parts(&state) >= 2 && parts(&state) < 10, "{state}");
    assert_eq!(state["tables"]["dbo.Log"]["done"], true, "{state}");
    assert_eq!(
        state["tables"]["dbo.Tickets"]["part_files"]
            .as_array()
            .map(Vec::len),
        Some(parts(&state)),
        "{state}"
    );
    Setup {
        dir,
        cfg,
        expected,
        interrupted,
        server,
    }
}

fn part(bundle: &Path, folder: &str, index: usize) -> PathBuf {
    let dir = bundle.join(folder);
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    parts.sort();
    parts[index].clone()
}

#[test]
fn committed_parts_deleted_emptied_or_changed_are_extracted_again() {
    let s = setup();
    let server = &s.server;
    type Damage = fn(&Path);
    let damages: [(&str, &str, usize, Damage); 4] = [
        ("deleted", "tables/dbo.^Tickets", 1, |p| {
            std::fs::remove_file(p).unwrap()
        }),
        ("emptied", "tables/dbo.^Tickets", 0, |p| {
            std::fs::write(p, b"").unwrap()
        }),
        ("flipped", "tables/dbo.^Tickets", 1, |p| {
            let mut b = std::fs::read(p).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0x01;
            std::fs::write(p, b).unwrap();
        }),
        ("flipped-done", "tables/dbo.^Log", 0, |p| {
            let mut b = std::fs::read(p).unwrap();
            let mid = b.len() / 2;
            b[mid] ^= 0x01;
            std::fs::write(p, b).unwrap();
        }),
    ];
    for (name, folder, index, damage) in damages {
        let out = s.dir.path().join(name);
        copy_dir(&s.interrupted, &out);
        let target = part(&out, folder, index);
        let file = target.file_name().unwrap().to_string_lossy().into_owned();
        damage(&target);
        let (code, stdout, stderr) = run(server, &s.cfg, &out, &["--resume"]);
        assert_eq!(code, 0, "{name}: {stdout}\n{stderr}");
        let table = if folder.ends_with("Log") {
            "dbo.Log"
        } else {
            "dbo.Tickets"
        };
        let why = if name == "deleted" {
            "is missing"
        } else {
            "changed after it was committed"
        };
        let warning = format!(
            "{table}: {folder}/{file} {why}; the table is extracted again from its first row"
        );
        assert!(stderr.contains(&warning), "{name}: {warning}\n{stderr}");
        assert_eq!(bundle_id(&out), s.expected, "{name}: bundle differs");
        let (code, _, _) = extract(&["verify", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}");
    }
}

#[test]
fn rows_written_differing_from_the_part_footers_is_not_sealed() {
    let s = setup();
    let server = &s.server;
    let state_file = s.interrupted.join("extract-state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    state["tables"]["dbo.Log"]["part_rows"] = serde_json::json!([200, 127]);
    std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();
    let (code, _, stderr) = run(server, &s.cfg, &s.interrupted, &["--resume"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "error: dbo.Log: rows_written is 327 but its part files hold 300 rows; the bundle is not sealed"
        ),
        "{stderr}"
    );
    assert!(!s.interrupted.join("manifest.json").exists());
}

#[test]
fn resume_against_another_source_or_with_other_settings_is_refused() {
    let s = setup();
    // Another fixture server (another port) holding another schema.
    let other_db = make_db(s.dir.path(), "b.sqlite", true);
    let other = Server::start(&other_db, &[]);
    let (code, _, stderr) = run(&other, &s.cfg, &s.interrupted, &["--resume"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: cannot resume {}: it was started with another source or other settings",
            s.interrupted.display()
        )),
        "{stderr}"
    );
    // Both fixture servers call themselves TRACKIT-FIXTURE (@@SERVERNAME): the same server name, another schema.
    assert!(!stderr.contains("  server: "), "{stderr}");
    assert!(stderr.contains("  schema fingerprint: "), "{stderr}");
    drop(other);

    let server = &s.server;
    let cfg50 = config(s.dir.path(), "page50.toml", 50);
    let (code, _, stderr) = run(server, &cfg50, &s.interrupted, &["--resume"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("  [extract] page_rows: 1000 (bundle) vs 50 (this run)"),
        "{stderr}"
    );
    let (code, _, stderr) = run(
        server,
        &s.cfg,
        &s.interrupted,
        &["--resume", "--tables", "dbo.Tickets"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("  --tables: (all) (bundle) vs dbo.Tickets (this run)"),
        "{stderr}"
    );
    let (code, _, stderr) = run(
        server,
        &s.cfg,
        &s.interrupted,
        &["--resume", "--keyless-cell-max-bytes", "4096"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("  keyless cell cap: 33554432 (bundle) vs 4096 (this run)"),
        "{stderr}"
    );

    // Nothing was changed by the refusals: the same settings resume to the uninterrupted bundle.
    let (code, stdout, stderr) = run(server, &s.cfg, &s.interrupted, &["--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(bundle_id(&s.interrupted), s.expected);
}

#[test]
fn out_folders_that_would_break_a_bundle_are_refused() {
    let s = setup();
    let server = &s.server;
    let bundle = s.dir.path().join("reference");
    let conn = server.conn();
    let cfg = s.cfg.to_str().unwrap();

    // discover over a finished bundle.
    let (code, _, stderr) = extract(&[
        "discover",
        "--config",
        cfg,
        "--connection-string",
        &conn,
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: --out {}: the folder is not empty (blobs)",
            bundle.display()
        )) || stderr.contains("the folder is not empty ("),
        "{stderr}"
    );
    let (code, _, _) = extract(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(code, 0, "the bundle is intact");

    // discover again over a discovery is fine.
    let disc = s.dir.path().join("discovery");
    for _ in 0..2 {
        let (code, _, stderr) = extract(&[
            "discover",
            "--config",
            cfg,
            "--connection-string",
            &conn,
            "--out",
            disc.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stderr}");
    }

    // run --out inside a bundle, finished or interrupted.
    for parent in [&bundle, &s.interrupted] {
        let inner = parent.join("newsub");
        let (code, _, stderr) = run(server, &s.cfg, &inner, &[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: --out {}: is inside the bundle {} (it holds ",
                inner.display(),
                parent.display()
            )),
            "{stderr}"
        );
        assert!(!inner.exists());
    }

    // --resume on a folder that is no interrupted bundle.
    let notes = s.dir.path().join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("notes.txt"), "mine").unwrap();
    let (code, _, stderr) = run(server, &s.cfg, &notes, &["--resume"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: --out {}: holds no extract-state.json: it is not an interrupted ti-extract bundle, there is \
             nothing to resume",
            notes.display()
        )),
        "{stderr}"
    );
    let (code, _, stderr) = run(server, &s.cfg, &bundle, &["--resume"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is a finished bundle, there is nothing to resume"),
        "{stderr}"
    );

    // --out a file.
    let file = notes.join("notes.txt");
    let (code, _, stderr) = run(server, &s.cfg, &file, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: --out {}: is a file, not a folder",
            file.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_second_run_on_a_bundle_in_use_is_refused() {
    let s = setup();
    let server = &s.server;
    // Another process holding the bundle: this test process locks the folder as a run would.
    let held = std::fs::File::open(&s.interrupted).unwrap();
    held.lock().unwrap();
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.interrupted.join("extract-state.json")).unwrap())
            .unwrap();
    let pid = state["pid"].as_u64().unwrap();
    assert!(pid > 0);
    let (code, _, stderr) = run(server, &s.cfg, &s.interrupted, &["--resume"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: bundle {} is in use by another ti-extract run (pid {pid})",
            s.interrupted.display()
        )),
        "{stderr}"
    );
    held.unlock().unwrap();
    drop(held);
    let (code, stdout, stderr) = run(server, &s.cfg, &s.interrupted, &["--resume"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(bundle_id(&s.interrupted), s.expected);
    let m = std::fs::read_to_string(s.interrupted.join("manifest.json")).unwrap();
    assert!(!m.contains("lock"), "no lock file in the manifest");
}
