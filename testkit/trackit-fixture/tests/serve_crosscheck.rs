//! Clients that share no code with tiberius read the same golden values: python-tds (tests/crosscheck.py) and
//! FreeTDS `tsql`. Each test skips, with a printed message, when its tool is not installed
//! (`pip install python-tds`, `apt-get install freetds-bin`).

mod serve_support;

use serve_support::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn have_pytds() -> bool {
    Command::new("python3")
        .args(["-c", "import pytds"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn python_tds_reads_the_same_values() {
    if !have_pytds() {
        println!("SKIPPED: python-tds is not installed (pip install python-tds)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = golden_db(dir.path(), 10, None);
    let srv = start(&db, &[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/crosscheck.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(srv.port.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("python-tds crosscheck OK"));
}

#[test]
fn freetds_tsql_reads_the_same_values() {
    if Command::new("tsql").arg("-C").output().is_err() {
        println!("SKIPPED: FreeTDS tsql is not installed (apt-get install freetds-bin)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = golden_db(dir.path(), 10, None);
    let srv = start(&db, &[]);
    let conf = dir.path().join("freetds.conf");
    std::fs::write(
        &conf,
        format!(
            "[fixture]\n\thost = 127.0.0.1\n\tport = {}\n\ttds version = 7.4\n\tencryption = off\n\tclient charset = UTF-8\n",
            srv.port
        ),
    )
    .unwrap();
    let mut child = Command::new("tsql")
        .args([
            "-S",
            "fixture",
            "-U",
            "sa",
            "-P",
            "fixture",
            "-D",
            "TRACKIT_DATA",
            "-o",
            "q",
        ])
        .env("FREETDSCONF", &conf)
        .env("HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = "SELECT [id], [i], [bi], [d38], [m], [dt], [dto], [g], [vc], [nv], [tx] FROM [dbo].[TYPES] ORDER BY [id]\ngo\n\
                 SELECT COUNT_BIG(*) AS [rows] FROM [dbo].[TASKS] WITH (NOLOCK)\ngo\n\
                 SELECT * FROM [dbo].[NOPE]\ngo\nexit\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for want in [
        "-2147483648",
        "-9223372036854775808",
        "0.00000000000000000000000000000000000001",
        "-922337203685477.5808",
        "9C0C9EED-FEAC-474E-9AD7-C5B9280424D1",
        "café",
        "Grüße ✓",
        "NULL",
        "Dec  9 2020 01:30AM",
        "Msg 208",
    ] {
        assert!(text.contains(want), "tsql output lacks {want:?}:\n{text}");
    }
    assert!(
        text.lines().any(|l| l.trim() == "10"),
        "COUNT_BIG row:\n{text}"
    );
}
