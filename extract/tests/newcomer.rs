//! Session-3 newcomer findings: `[extract] keyless_cell_max_bytes` in pipeline.toml takes effect (the flag wins
//! over it); large cells left unread are a warning per table and a footnote under the summary; `-q` prints only
//! errors and warnings; a refused `user@domain` login hints at `DOMAIN\user`.

mod common;

use common::*;
use rusqlite::params;
use std::path::{Path, PathBuf};

/// `dbo.Dump` (keyless): blobs of 4, 3,000, 5,000 and 0 bytes.
fn keyless_db(dir: &Path) -> PathBuf {
    let db = dir.join("keyless.sqlite");
    let c = new_db(&db);
    table(
        &c,
        "Dump",
        &[col("Line", "int"), col("Blob", "image").len(2_147_483_647)],
    );
    for (line, n) in [(1i64, 4usize), (2, 3_000), (3, 5_000), (4, 0)] {
        c.execute(
            "INSERT INTO \"dbo.Dump\" VALUES (?1, ?2)",
            params![line, vec![7u8; n]],
        )
        .unwrap();
    }
    db
}

/// Runs `ti-extract run ARGS` with a pipeline.toml holding `toml`, into `<dir>/<name>`.
fn run(
    server: &Server,
    dir: &Path,
    name: &str,
    toml: &str,
    args: &[&str],
) -> (i32, String, String, PathBuf) {
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, toml).unwrap();
    let out = dir.join(name);
    let conn = server.conn();
    let mut all = vec!["run", "--config", cfg.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--connection-string", &conn, "--out", out.to_str().unwrap()]);
    let (code, stdout, stderr) = extract(&all);
    (code, stdout, stderr, out)
}

fn report(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("report/extract.json")).unwrap()).unwrap()
}

/// Which `Blob` cells of `dbo.Dump` are NULL, in row order.
fn nulls(out: &Path) -> Vec<bool> {
    let batches = read_parts(out, "tables/dbo.^Dump");
    let b = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let blob = b.column_by_name("Blob").unwrap();
    (0..b.num_rows()).map(|i| blob.is_null(i)).collect()
}

const WARNING_2048: &str = "dbo.Dump: 2 large cell(s) not read (8000 bytes in all, the largest 5000 bytes): over \
the keyless cap of 2048 bytes, they are NULL with <column>__bytes set (omitted_cells in report/extract.json); to \
read them, raise --keyless-cell-max-bytes or [extract] keyless_cell_max_bytes to at least 5000";

const FOOTNOTE_2048: &str = "large cells not read (keyless tables and views, over the keyless cap; NULL with \
<column>__bytes set, listed in report/extract.json):\n  dbo.Dump: 2 cell(s), 8000 bytes, the largest 5000 bytes \
(cap 2048); raise --keyless-cell-max-bytes or [extract] keyless_cell_max_bytes to at least 5000\nOK ";

const TOML_2048: &str = "[extract]\nkeyless_cell_max_bytes = 2048\n";

#[test]
fn keyless_cell_max_bytes_from_pipeline_toml_omits_cells_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&keyless_db(dir.path()), &[]);

    // The config's cap alone: the 3,000- and 5,000-byte cells are not read.
    let (code, stdout, stderr, out) = run(&server, dir.path(), "config", TOML_2048, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r = report(&out);
    assert_eq!(r["tables"][0]["name"], "dbo.Dump");
    assert_eq!(r["tables"][0]["rows_written"], 4);
    assert_eq!(r["tables"][0]["omitted_cells"], 2);
    assert_eq!(nulls(&out), [false, true, true, false]);
    // One warning on stderr, a footnote under the summary on stdout.
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("not read")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(" WARN ") && warnings[0].ends_with(WARNING_2048),
        "{stderr}"
    );
    assert!(stdout.contains(FOOTNOTE_2048), "{stdout}");

    // The flag wins over the config: only the 5,000-byte cell is over 4,096 bytes.
    let (code, stdout, stderr, out) = run(
        &server,
        dir.path(),
        "flag",
        TOML_2048,
        &["--keyless-cell-max-bytes", "4096"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(report(&out)["tables"][0]["omitted_cells"], 1);
    assert_eq!(nulls(&out), [false, false, true, false]);
    assert!(
        stderr.contains(
            "dbo.Dump: 1 large cell(s) not read (5000 bytes in all, the largest 5000 bytes): over the keyless \
cap of 4096 bytes"
        ),
        "{stderr}"
    );
    assert!(
        stdout.contains("  dbo.Dump: 1 cell(s), 5000 bytes, the largest 5000 bytes (cap 4096)"),
        "{stdout}"
    );

    // Built-in default (32 MiB): everything read, no warning, no footnote.
    let (code, stdout, stderr, out) = run(&server, dir.path(), "default", "", &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(report(&out)["tables"][0]["omitted_cells"], 0);
    assert_eq!(nulls(&out), [false; 4]);
    assert!(
        !stderr.contains("not read") && !stdout.contains("not read"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn quiet_prints_only_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&keyless_db(dir.path()), &[]);
    let (code, stdout, stderr, out) = run(&server, dir.path(), "quiet", TOML_2048, &["-q"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(stdout, "", "no summary table, no OK line with -q");
    // Only warnings: the plaintext connection and the cells not read.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines.iter().all(|l| l.contains(" WARN ")), "{stderr}");
    assert!(lines[0].contains("encrypt=DANGER_PLAINTEXT"), "{stderr}");
    assert!(lines[1].ends_with(WARNING_2048), "{stderr}");
    assert_eq!(bundle_id(&out).len(), 64);

    // discover -q: nothing on stdout either.
    let (code, stdout, stderr) = extract(&[
        "discover",
        "-q",
        "--connection-string",
        &server.conn(),
        "--out",
        dir.path().join("disc").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    assert!(dir.path().join("disc/discovery.md").is_file());

    // Errors still reach stderr with their exit code.
    let (code, stdout, stderr) = extract(&[
        "run",
        "-q",
        "--connection-string",
        &server.conn(),
        "--tables",
        "dbo.NOPE",
        "--out",
        dir.path().join("nope").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("error: --tables \"dbo.NOPE\" matches no table or view"),
        "{stderr}"
    );
}

#[test]
fn a_refused_upn_login_hints_at_domain_backslash_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&keyless_db(dir.path()), &[]);
    let conn = format!(
        "server=tcp:127.0.0.1,{};database=TRACKIT_DATA;user=svc@corp.local;encrypt=DANGER_PLAINTEXT",
        server.port
    );
    let (code, _, stderr) = extract(&[
        "discover",
        "--connection-string",
        &conn,
        "--out",
        dir.path().join("d").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert!(
        line.starts_with(&format!(
            "error: cannot connect to SQL Server 127.0.0.1,{}, database \"TRACKIT_DATA\", user \"svc@corp.local\": ",
            server.port
        )),
        "{line}"
    );
    assert!(
        line.contains("Login failed for user 'svc@corp.local'."),
        "{line}"
    );
    assert!(
        line.ends_with(
            " (hint: user svc@corp.local was sent as a SQL Server login; a Windows login is written DOMAIN\\user, \
e.g. user=CORP\\svc_trackit, not user@domain)"
        ),
        "{line}"
    );
    // The login was tried as a SQL login, not refused up front.
    assert!(
        server
            .log_text()
            .contains("login failed for user 'svc@corp.local'"),
        "{}",
        server.log_text()
    );

    // A plain SQL login refused gets no hint.
    let conn = conn.replace("svc@corp.local", "svc");
    let (code, _, stderr) = extract(&[
        "discover",
        "--connection-string",
        &conn,
        "--out",
        dir.path().join("d2").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("Login failed for user 'svc'."), "{stderr}");
    assert!(!stderr.contains("hint"), "{stderr}");
}
