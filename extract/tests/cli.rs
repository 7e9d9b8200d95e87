//! Command-line behaviour (issue 6, newcomer findings): a missing `--attachments-dir` and an
//! unset password variable are refused up front with exit 2 naming what is wrong; log lines carry no ANSI colours
//! when stderr is not a terminal; a `--tables` pattern that matches nothing is refused before anything is written.

mod common;

use common::*;

/// A port nobody listens on: bind one, note it, close it.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_missing_attachments_dir_is_refused_before_the_dump() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-share");
    let conn = format!(
        "server=tcp:127.0.0.1,{};database=TRACKIT_DATA;user=sa;encrypt=DANGER_PLAINTEXT",
        closed_port()
    );
    let out = dir.path().join("bundle");
    let (code, _, stderr) = extract(&[
        "run",
        "--connection-string",
        &conn,
        "--attachments-dir",
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    // Exit 2 (usage), not 1 (the server is unreachable, but the folder is checked first).
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(missing.to_str().unwrap()) && stderr.contains("no such folder"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn an_unset_password_variable_is_named_with_exit_2() {
    let conn = format!(
        "server=tcp:127.0.0.1,{};database=TRACKIT_DATA;user=sa;encrypt=DANGER_PLAINTEXT",
        closed_port()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let (code, _, stderr) = extract_env(
        &[
            "discover",
            "--connection-string",
            &conn,
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr
            .contains("environment variable TRACKIT_SQL_PASSWORD (source.password_env) is not set"),
        "{stderr}"
    );
}

#[test]
fn no_ansi_colours_when_stderr_is_not_a_terminal() {
    let conn = format!(
        "server=tcp:127.0.0.1,{};database=TRACKIT_DATA;user=sa;encrypt=DANGER_PLAINTEXT",
        closed_port()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    // stderr is a pipe here: the plaintext warning and the error line must be plain text.
    let (code, _, stderr) = extract(&[
        "discover",
        "--connection-string",
        &conn,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("DANGER_PLAINTEXT"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "ANSI escape in {stderr:?}");
}

#[test]
fn a_tables_pattern_that_matches_nothing_exits_2_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("one.sqlite");
    let c = new_db(&db);
    table(&c, "Tickets", &[col("WOID", "int").pk()]);
    drop(c);
    let server = Server::start(&db, &[]);
    let out = dir.path().join("bundle");
    let (code, _, stderr) = extract(&[
        "run",
        "--connection-string",
        &server.conn(),
        "--tables",
        "dbo.NOPE*",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("\"dbo.NOPE*\" matches no table or view"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn an_empty_selection_and_a_zero_keyless_cap_exit_2_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("views.sqlite");
    let c = new_db(&db);
    table(&c, "Tickets", &[col("WOID", "int").pk()]);
    table(&c, "vTickets", &[col("WOID", "int")]);
    c.execute(
        "UPDATE _ti_objects SET object_type = 'VIEW' WHERE object_name = 'vTickets'",
        [],
    )
    .unwrap();
    drop(c);
    let server = Server::start(&db, &[]);
    let out = dir.path().join("bundle");
    let conn = server.conn();
    let (code, _, stderr) = extract(&[
        "run",
        "--connection-string",
        &conn,
        "--tables",
        "v*",
        "--no-views",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "error: the selection is empty: --tables v* matches only views, and views are left out (--no-views); \
nothing to extract"
        ),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
    let (code, _, stderr) = extract(&[
        "run",
        "--connection-string",
        &conn,
        "--keyless-cell-max-bytes",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "error: --keyless-cell-max-bytes must be at least 1 (like [extract] keyless_cell_max_bytes)"
        ),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn unknown_connection_string_keys_and_a_missing_server_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    let (code, _, stderr) = extract(&[
        "run",
        "--connection-string",
        "server=tcp:127.0.0.1,1;databse=TRACKIT_DATA;frobnicate=1;user=sa",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error: the connection string has unknown key(s) databse, frobnicate (")
            && stderr.contains("accepted keys: server, data source, database,"),
        "{stderr}"
    );
    let (code, _, stderr) = extract(&[
        "discover",
        "--connection-string",
        "database=TRACKIT_DATA;user=sa",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "error: the connection string names no server: add server=<host>[,<port>] (or data source=…)"
        ),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}
