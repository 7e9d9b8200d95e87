//! Windows (NTLM) logins, `user=DOMAIN\user`, against the fixture server's NTLMv2 check (`trackit-fixture serve
//! --windows-login CORP\svc_trackit`): the ti-extract library logs in through tiberius's `sspi-rs` path (this
//! crate's `ntlm` feature), reads the inventory and a whole table, and a wrong password is one `Connect` error
//! line naming server, database and user, never the password (exit 1 in main.rs).
//!
//! Run with `cargo test -p ti-extract --features ntlm --test ntlm_login` (scripts/test does). The library is used
//! in-process rather than the binary: the fixture helper rebuilds every workspace binary without the feature.
#![cfg(feature = "ntlm")]

mod common;

use common::{Server, col, new_db, table};
use futures_util::TryStreamExt;
use std::path::Path;
use std::process::{Command, Stdio};
use ti_extract::ExtractError;
use ti_extract::connect::{LoginKind, Source, login_kind};
use tiberius::QueryItem;

const ROWS: i64 = 1_234;
const PASSWORD: &str = "Win-Pa55word";

/// A fixture database with `dbo.Accounts` (ROWS rows).
fn db(path: &Path) {
    let c = new_db(path);
    table(
        &c,
        "Accounts",
        &[col("id", "int").pk(), col("name", "nvarchar").len(50)],
    );
    let tx = c.unchecked_transaction().unwrap();
    for i in 1..=ROWS {
        tx.execute(
            "INSERT INTO \"dbo.Accounts\" VALUES (?1, ?2)",
            rusqlite::params![i, format!("account {i}")],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// `trackit-fixture serve --windows-login CORP\svc_trackit`, its password in TRACKIT_FIXTURE_WINDOWS_PASSWORD.
fn serve(db: &Path) -> Server {
    let log = db.with_extension("ntlm.log");
    let mut child = Command::new(common::fixture_binary())
        .args(["serve", "--db"])
        .arg(db)
        .args(["--listen", "127.0.0.1:0", "--log"])
        .arg(&log)
        .args(["--windows-login", "CORP\\svc_trackit"])
        .env("TRACKIT_FIXTURE_WINDOWS_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fixture server starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("first line");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    Server { child, port, log }
}

fn conn(port: u16) -> String {
    format!(
        "server=tcp:127.0.0.1,{port};database=TRACKIT_DATA;user=CORP\\svc_trackit;encrypt=DANGER_PLAINTEXT"
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_windows_login_reads_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ntlm.sqlite");
    db(&path);
    let srv = serve(&path);
    let source = Source::prepare(
        &conn(srv.port),
        Some(PASSWORD.into()),
        "TRACKIT_SQL_PASSWORD",
    )
    .expect("a Windows login is available with --features ntlm");
    assert_eq!(login_kind(&source.info.user, false), LoginKind::Windows);
    assert_eq!(
        source.auth(),
        &tiberius::AuthMethod::windows("CORP\\svc_trackit", PASSWORD)
    );
    let (objects, ids) = rt().block_on(async {
        let mut client = source.connect().await.expect("NTLM login");
        let (inv, _) = ti_extract::inventory::read(&mut client, false)
            .await
            .expect("inventory");
        let objects: Vec<(String, u64)> = inv
            .objects
            .iter()
            .map(|o| (o.full_name(), o.row_count))
            .collect();
        let mut stream = client
            .simple_query("SELECT [id] FROM [dbo].[Accounts] ORDER BY [id]")
            .await
            .expect("select");
        let mut ids = Vec::new();
        while let Some(item) = stream.try_next().await.expect("rows") {
            if let QueryItem::Row(r) = item {
                ids.push(r.get::<i32, _>(0).expect("id"));
            }
        }
        (objects, ids)
    });
    assert_eq!(objects, vec![("dbo.Accounts".to_string(), ROWS as u64)]);
    assert_eq!(ids.len() as i64, ROWS);
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&(ROWS as i32)));
    let log = srv.log_text();
    assert!(
        log.contains("login: user 'CORP\\svc_trackit' app 'ti-extract' (Windows login, NTLMv2)"),
        "{log}"
    );
    assert!(!log.contains(PASSWORD), "{log}");
}

#[test]
fn a_wrong_windows_password_is_one_connect_line_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ntlm-wrong.sqlite");
    db(&path);
    let srv = serve(&path);
    let wrong = "Not-The-Pa55word";
    let source = Source::prepare(&conn(srv.port), Some(wrong.into()), "TRACKIT_SQL_PASSWORD")
        .expect("prepared");
    let err = rt()
        .block_on(source.connect())
        .expect_err("a wrong password is refused");
    assert!(
        matches!(&err, ExtractError::Connect { user, .. } if user == "CORP\\svc_trackit"),
        "{err:?}"
    );
    // main.rs maps everything but Usage (2) to exit 1.
    assert!(!matches!(err, ExtractError::Usage(_)));
    let line = err.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.starts_with(&format!(
            "cannot connect to SQL Server 127.0.0.1,{}, database \"TRACKIT_DATA\", user \"CORP\\\\svc_trackit\": ",
            srv.port
        )),
        "{line}"
    );
    assert!(
        line.contains("Login failed for user 'CORP\\svc_trackit'."),
        "{line}"
    );
    assert!(!line.contains(wrong) && !line.contains(PASSWORD), "{line}");
    assert!(
        srv.log_text()
            .contains("login failed for user 'CORP\\svc_trackit' (NTLM: wrong password)")
    );
}
