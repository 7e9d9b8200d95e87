//! Helpers shared by the generator tests: run the generator into a temp dir, open the database, digest it.
#![allow(dead_code)]

use rusqlite::Connection;
use rusqlite::types::ValueRef;
use std::path::{Path, PathBuf};
use trackit_fixture::generate::{AttachMode, GenerateArgs, Profile, TextMode, Truth, generate};

/// Generates a classic database with the given options into `dir`.
pub fn gen_into(dir: &Path, tickets: u64, seed: u64, attach: AttachMode, text: TextMode) -> Truth {
    let args = GenerateArgs {
        profile: Profile::Classic,
        tickets,
        seed,
        out: dir.to_path_buf(),
        attachments: attach,
        text,
    };
    generate(&args).expect("generate succeeds")
}

/// Opens `DIR/trackit.sqlite` read-only.
pub fn open(dir: &Path) -> Connection {
    Connection::open_with_flags(
        dir.join("trackit.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open database")
}

/// Reads `DIR/<name>` as JSON.
pub fn json(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(name)).expect("read json")).expect("parse json")
}

/// `SELECT COUNT(*)`-style single integer.
pub fn int(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// (schema.object, type) of every catalogued object.
pub fn objects(conn: &Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT schema_name || '.' || object_name, object_type FROM _ti_objects ORDER BY 1",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// BLAKE3 digest of every row of every catalogued object (values with their storage class), object by object.
pub fn content_digests(conn: &Connection) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, ty) in objects(conn) {
        let order = if ty == "VIEW" {
            " ORDER BY 2"
        } else {
            " ORDER BY rowid"
        };
        let sql = format!("SELECT * FROM \"{name}\"{order}");
        let mut stmt = conn.prepare(&sql).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut h = blake3::Hasher::new();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                match row.get_ref(i).unwrap() {
                    ValueRef::Null => h.update(b"N"),
                    ValueRef::Integer(v) => h.update(b"I").update(&v.to_le_bytes()),
                    ValueRef::Real(v) => h.update(b"R").update(&v.to_le_bytes()),
                    ValueRef::Text(t) => h
                        .update(b"T")
                        .update(&(t.len() as u64).to_le_bytes())
                        .update(t),
                    ValueRef::Blob(b) => h
                        .update(b"B")
                        .update(&(b.len() as u64).to_le_bytes())
                        .update(b),
                };
            }
        }
        out.push((name, h.finalize().to_hex().to_string()));
    }
    out
}

/// Every regular file under `dir`, relative, with `/` separators.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}
