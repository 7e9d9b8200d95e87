//! Throughput benchmark (ignored by default): `dbo.TASKS` of a generated database (56 columns, 3 of them `text`),
//! grown to 200,000 rows, read the way `ti-extract` reads it: keyset pages of 5,000 rows through `sp_executesql`
//! with the extractor's select list (docs/extract-queries.md Q8/Q9: every non-LOB character column as
//! `CAST(.. AS varbinary(8000))`, LOB columns as `CASE WHEN DATALENGTH(..) > @Pn THEN NULL ELSE .. END` plus
//! `DATALENGTH(..) AS [c__bytes]`).
//!
//! Two clients read the same pages: tiberius (what the extractor uses; its own decoding shares the 2 cores with
//! the server), and a minimal TDS client that only frames packets and reads the final DONEINPROC row count, so
//! the figure shows what the server itself delivers.
//! Run: `cargo test --release -p trackit-fixture --test serve_bench -- --ignored --nocapture`

mod serve_support;

use futures_util::TryStreamExt;
use rusqlite::Connection;
use serve_support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tiberius::QueryItem;

/// Tickets the generator writes; TASKS is then copied until it holds [`ROWS`] rows.
const TICKETS: i64 = 2_000;
const ROWS: i64 = 200_000;
/// `extract.page_rows` default.
const PAGE: i64 = 5_000;
/// `extract.lob_inline_max_bytes` default.
const THRESHOLD: i64 = 1 << 20;

/// A generated classic database whose `dbo.TASKS` rows are copied up to [`ROWS`] rows, renumbered so that WOIDs
/// are 1..=ROWS: a page's last key is then the previous one plus its row count.
fn bench_db(dir: &Path) -> PathBuf {
    let out = dir.join("gen");
    let st = Command::new(env!("CARGO_BIN_EXE_trackit-fixture"))
        .args([
            "generate",
            "--tickets",
            &TICKETS.to_string(),
            "--attachments",
            "blob",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run trackit-fixture generate");
    assert!(st.success());
    let db = out.join("trackit.sqlite");
    let conn = Connection::open(&db).unwrap();
    let cols = object_columns(&db, "dbo", "TASKS");
    assert_eq!(cols[0].0, "WOID");
    let rest: Vec<String> = cols
        .iter()
        .skip(1)
        .map(|(name, _, _)| format!("\"{name}\""))
        .collect();
    let tx = conn.unchecked_transaction().unwrap();
    tx.execute_batch(
        "CREATE TEMP TABLE t AS SELECT row_number() OVER (ORDER BY WOID) AS rn, * FROM \"dbo.TASKS\"; \
         DELETE FROM \"dbo.TASKS\";",
    )
    .unwrap();
    for k in 0..ROWS / TICKETS {
        tx.execute_batch(&format!(
            "INSERT INTO \"dbo.TASKS\" SELECT rn + {}, {} FROM t",
            k * TICKETS,
            rest.join(", ")
        ))
        .unwrap();
    }
    tx.commit().unwrap();
    db
}

struct Queries {
    first: String,
    next: String,
    items: usize,
}

fn queries(db: &Path) -> Queries {
    let cols = object_columns(db, "dbo", "TASKS");
    assert_eq!(cols.len(), 56);
    let table = "[dbo].[TASKS] WITH (NOLOCK)";
    let first = format!(
        "SELECT TOP (@P1) {} FROM {table} ORDER BY [WOID]",
        extract_select_list(&cols, 2)
    );
    let list = extract_select_list(&cols, 3);
    let items = cols.len() + list.matches("DATALENGTH(").count() / 2;
    Queries {
        first,
        next: format!("SELECT TOP (@P1) {list} FROM {table} WHERE [WOID] > @P2 ORDER BY [WOID]"),
        items,
    }
}

#[tokio::test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
async fn keyset_pages_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let db = bench_db(dir.path());
    println!(
        "bench database: {ROWS} TASKS rows in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let q = queries(&db);
    let srv = start(&db, &[]);

    // 1. tiberius, as the extractor reads.
    let mut c = connect(srv.port).await;
    let (cpu0, own0) = (cpu_secs(srv.child.id()), cpu_secs(std::process::id()));
    let start = Instant::now();
    let mut n = 0i64;
    let mut last: Option<i32> = None;
    loop {
        let mut s = match last {
            None => c.query(q.first.as_str(), &[&PAGE, &THRESHOLD]).await,
            Some(k) => c.query(q.next.as_str(), &[&PAGE, &k, &THRESHOLD]).await,
        }
        .unwrap();
        let mut page = 0;
        while let Some(item) = s.try_next().await.unwrap() {
            if let QueryItem::Row(r) = item {
                last = r.get::<i32, _>(0);
                page += 1;
            }
        }
        n += page;
        if page < PAGE {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let (cpu, own) = (
        cpu_secs(srv.child.id()) - cpu0,
        cpu_secs(std::process::id()) - own0,
    );
    assert_eq!(n, ROWS);
    println!(
        "tiberius client: {n} rows x {} columns in {secs:.2} s = {:.0} rows/s (server CPU {cpu:.2} s = {:.0} rows per \
         server CPU-second; client CPU {own:.2} s)",
        q.items,
        n as f64 / secs,
        n as f64 / cpu
    );

    // 2. A client that only frames packets: the server's own rate.
    let mut raw = RawClient::login(srv.port);
    let cpu0 = cpu_secs(srv.child.id());
    let start = Instant::now();
    let mut n = 0i64;
    loop {
        let page = if n == 0 {
            raw.page(&q.first, &[PAGE, THRESHOLD])
        } else {
            raw.page(&q.next, &[PAGE, n, THRESHOLD])
        };
        n += page;
        if page < PAGE {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs(srv.child.id()) - cpu0;
    assert_eq!(n, ROWS);
    println!(
        "draining client: {n} rows x {} columns in {secs:.2} s = {:.0} rows/s ({:.1} MB/s; server CPU {cpu:.2} s = \
         {:.0} rows per server CPU-second)",
        q.items,
        n as f64 / secs,
        raw.bytes as f64 / secs / 1e6,
        n as f64 / cpu
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average: {}", load.trim());
}

/// User + system CPU seconds of a process (Linux /proc; 100 ticks per second).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|x| x.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

/// A bare TDS 7.4 client: PRELOGIN, LOGIN7 (sa/fixture), then `sp_executesql` RPCs whose replies it frames but
/// does not decode.
struct RawClient {
    sock: TcpStream,
    buf: Vec<u8>,
    bytes: u64,
}

const PACKET: usize = 4096;

impl RawClient {
    fn login(port: u16) -> RawClient {
        let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_nodelay(true).unwrap();
        let mut c = RawClient {
            sock,
            buf: vec![0; PACKET],
            bytes: 0,
        };
        // PRELOGIN: VERSION, ENCRYPTION = not supported.
        let mut pre = vec![0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF];
        pre.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x02]);
        c.send(0x12, &pre);
        c.reply();
        c.send(0x10, &login7("sa", "fixture", "TRACKIT_DATA"));
        let reply = c.reply();
        let done = &reply[reply.len() - 13..];
        assert!(done[0] == 0xFD && done[1] & 0x02 == 0, "login failed");
        c
    }

    fn send(&mut self, ty: u8, payload: &[u8]) {
        let chunks: Vec<&[u8]> = payload.chunks(PACKET - 8).collect();
        let mut out = Vec::with_capacity(payload.len() + chunks.len() * 8);
        for (i, ch) in chunks.iter().enumerate() {
            let eom = u8::from(i + 1 == chunks.len());
            out.extend_from_slice(&[ty, eom]);
            out.extend_from_slice(&((ch.len() + 8) as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0, (i + 1) as u8, 0]);
            out.extend_from_slice(ch);
        }
        self.sock.write_all(&out).unwrap();
    }

    /// Reads one reply message; returns its last 64 payload bytes.
    fn reply(&mut self) -> Vec<u8> {
        let mut tail = Vec::new();
        loop {
            let mut hdr = [0u8; 8];
            self.sock.read_exact(&mut hdr).unwrap();
            let len = u16::from_be_bytes([hdr[2], hdr[3]]) as usize - 8;
            self.sock.read_exact(&mut self.buf[..len]).unwrap();
            self.bytes += len as u64 + 8;
            tail.extend_from_slice(&self.buf[..len]);
            let keep = tail.len().saturating_sub(64);
            tail.drain(..keep);
            if hdr[1] & 1 != 0 {
                return tail;
            }
        }
    }

    /// Runs one page (`sp_executesql` with bigint parameters @P1…); returns the DONEINPROC row count.
    fn page(&mut self, sql: &str, params: &[i64]) -> i64 {
        let mut p = Vec::new();
        // ALL_HEADERS: transaction descriptor 0, one outstanding request.
        p.extend_from_slice(&22u32.to_le_bytes());
        p.extend_from_slice(&18u32.to_le_bytes());
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&0u64.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&[0xFF, 0xFF, 10, 0, 0, 0]); // sp_executesql by id, no flags
        let decl: Vec<String> = (1..=params.len())
            .map(|i| format!("@P{i} bigint"))
            .collect();
        nvarchar_max_param("", sql, &mut p);
        nvarchar_max_param("", &decl.join(","), &mut p);
        for (i, v) in params.iter().enumerate() {
            let name: Vec<u16> = format!("@P{}", i + 1).encode_utf16().collect();
            p.push(name.len() as u8);
            name.iter()
                .for_each(|u| p.extend_from_slice(&u.to_le_bytes()));
            p.extend_from_slice(&[0, 0x26, 8, 8]);
            p.extend_from_slice(&v.to_le_bytes());
        }
        self.send(0x03, &p);
        let tail = self.reply();
        // … DONEINPROC (13 bytes), RETURNSTATUS (5), DONEPROC (13).
        let at = tail.len() - 31;
        assert_eq!(
            (tail[at], tail[at + 13], tail[at + 18]),
            (0xFF, 0x79, 0xFE),
            "reply ends oddly"
        );
        assert_eq!(
            &tail[at + 14..at + 18],
            &[0, 0, 0, 0],
            "RETURNSTATUS is not 0"
        );
        i64::from_le_bytes(tail[at + 5..at + 13].try_into().unwrap())
    }
}

/// An RPC parameter of type nvarchar(max) (PLP, one chunk).
fn nvarchar_max_param(name: &str, value: &str, p: &mut Vec<u8>) {
    let n: Vec<u16> = name.encode_utf16().collect();
    p.push(n.len() as u8);
    n.iter().for_each(|u| p.extend_from_slice(&u.to_le_bytes()));
    p.push(0); // status
    p.extend_from_slice(&[0xE7, 0xFF, 0xFF, 0x09, 0x04, 0xD0, 0x00, 0x34]);
    let v: Vec<u8> = value.encode_utf16().flat_map(u16::to_le_bytes).collect();
    p.extend_from_slice(&(v.len() as u64).to_le_bytes());
    p.extend_from_slice(&(v.len() as u32).to_le_bytes());
    p.extend_from_slice(&v);
    p.extend_from_slice(&0u32.to_le_bytes());
}

/// LOGIN7 (MS-TDS 2.2.6.4) for SQL authentication, TDS 7.4, packet size 4096.
fn login7(user: &str, password: &str, database: &str) -> Vec<u8> {
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    let pw: Vec<u8> = utf16(password)
        .into_iter()
        .map(|b| b.rotate_left(4) ^ 0xA5)
        .collect();
    // Variable fields in offset-table order: host, user, password, app, server, extension, library, language,
    // database.
    let fields: [(Vec<u8>, usize); 9] = [
        (utf16("bench"), 5),
        (utf16(user), user.encode_utf16().count()),
        (pw, password.encode_utf16().count()),
        (utf16("serve_bench"), 11),
        (utf16("127.0.0.1"), 9),
        (Vec::new(), 0),
        (utf16("raw"), 3),
        (Vec::new(), 0),
        (utf16(database), database.encode_utf16().count()),
    ];
    let mut fixed = Vec::new();
    fixed.extend_from_slice(&0u32.to_le_bytes()); // length, patched below
    fixed.extend_from_slice(&0x7400_0004u32.to_le_bytes());
    fixed.extend_from_slice(&(PACKET as u32).to_le_bytes());
    fixed.extend_from_slice(&[0; 12]); // client version, pid, connection id
    fixed.extend_from_slice(&[0xE0, 0x03, 0, 0]); // option flags 1, 2, type flags, option flags 3
    fixed.extend_from_slice(&[0; 8]); // time zone, LCID
    let mut data = Vec::new();
    let base = 94;
    for (bytes, chars) in &fields {
        fixed.extend_from_slice(&((base + data.len()) as u16).to_le_bytes());
        fixed.extend_from_slice(&(*chars as u16).to_le_bytes());
        data.extend_from_slice(bytes);
    }
    fixed.extend_from_slice(&[0; 6]); // client id
    for _ in 0..3 {
        // SSPI, attach db file, change password
        fixed.extend_from_slice(&((base + data.len()) as u16).to_le_bytes());
        fixed.extend_from_slice(&0u16.to_le_bytes());
    }
    fixed.extend_from_slice(&0u32.to_le_bytes()); // SSPI long
    assert_eq!(fixed.len(), base);
    fixed.extend_from_slice(&data);
    let len = fixed.len() as u32;
    fixed[..4].copy_from_slice(&len.to_le_bytes());
    fixed
}
