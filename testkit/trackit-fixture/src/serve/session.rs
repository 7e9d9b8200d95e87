//! One client session: a read-only SQLite connection on a blocking thread that runs requests in order and streams
//! each response to the socket writer through a bounded channel (memory stays flat whatever the result size).

use super::catalog::Catalog;
use super::faults::{Faults, RowFaultKind};
use super::rowbatch::RowBatch;
use super::rpc::Request;
use super::sql::{SqlError, Stmt, split_batch, translate};
use super::tokens::{self, DONE_ATTN, DONE_COUNT, DONE_ERROR, DONE_MORE};
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use tokio::sync::mpsc::Sender;

/// Bytes handed to the writer once this many are buffered.
const FLUSH_AT: usize = 32 * 1024;

/// What the connection's reader hands the session.
#[derive(Debug)]
pub enum Incoming {
    /// A request to run.
    Request(Request),
    /// A request that could not be decoded (answered with error 102).
    Bad(String),
    /// An Attention (the flag was already raised).
    Attention,
    /// A transaction-manager request (answered with an empty DONE).
    Transaction,
}

/// What the session hands the writer.
#[derive(Debug)]
pub enum Outgoing {
    /// Token bytes of the current response.
    Bytes(Vec<u8>),
    /// End of the response (EOM).
    End,
    /// Close the connection now (fault).
    Close,
}

/// Shared per-server state the session needs.
pub struct Shared {
    /// The catalog.
    pub catalog: Catalog,
    /// Faults.
    pub faults: Faults,
    /// Statement log sink.
    pub log: Box<dyn Fn(&str) + Send + Sync>,
}

/// Thrown when the writer is gone or a fault closed the connection.
struct Gone;

struct Out<'a> {
    tx: &'a Sender<Outgoing>,
    buf: Vec<u8>,
}

impl Out<'_> {
    fn flush(&mut self) -> Result<(), Gone> {
        if !self.buf.is_empty() {
            let b = std::mem::replace(&mut self.buf, Vec::with_capacity(FLUSH_AT + 1024));
            self.tx
                .blocking_send(Outgoing::Bytes(b))
                .map_err(|_| Gone)?;
        }
        Ok(())
    }
    fn end(&mut self) -> Result<(), Gone> {
        self.flush()?;
        self.tx.blocking_send(Outgoing::End).map_err(|_| Gone)
    }
}

/// Runs a session until the reader hangs up or the writer goes away.
pub fn run(
    conn: Connection,
    shared: Arc<Shared>,
    rx: Receiver<Incoming>,
    tx: Sender<Outgoing>,
    attn: Arc<AtomicBool>,
) {
    let mut nocount = false;
    let mut out = Out {
        tx: &tx,
        buf: Vec::with_capacity(FLUSH_AT + 1024),
    };
    while let Ok(msg) = rx.recv() {
        if shared.faults.delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(shared.faults.delay_ms));
        }
        let res = match msg {
            Incoming::Request(req) => {
                run_request(&conn, &shared, &req, &mut nocount, &attn, &mut out)
            }
            Incoming::Bad(why) => {
                (shared.log)(&format!("bad request: {why}"));
                tokens::error(
                    102,
                    16,
                    &format!("Incorrect syntax near 'request'. ({why})"),
                    &mut out.buf,
                );
                tokens::done(0xFD, DONE_ERROR, 0, 0, &mut out.buf);
                out.end()
            }
            Incoming::Attention => {
                // Acknowledge unless the running request already did.
                if attn.swap(false, Ordering::SeqCst) {
                    tokens::done(0xFD, DONE_ATTN, 0, 0, &mut out.buf);
                    out.end()
                } else {
                    Ok(())
                }
            }
            Incoming::Transaction => {
                tokens::done(0xFD, 0, 0, 0, &mut out.buf);
                out.end()
            }
        };
        if res.is_err() {
            return;
        }
    }
}

fn run_request(
    conn: &Connection,
    shared: &Shared,
    req: &Request,
    nocount: &mut bool,
    attn: &AtomicBool,
    out: &mut Out<'_>,
) -> Result<(), Gone> {
    let stmts = split_batch(&req.sql);
    let (done_tok, more_tok) = if req.rpc { (0xFE, 0xFF) } else { (0xFD, 0xFD) };
    let mut failed = false;
    for (i, text) in stmts.iter().enumerate() {
        let last = i + 1 == stmts.len();
        let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !req.params.is_empty() {
            let ps: Vec<String> = req
                .params
                .iter()
                .map(|p| format!("{}={}", p.name, short(&p.value)))
                .collect();
            line.push_str(&format!(" /* {} */", ps.join(", ")));
        }
        (shared.log)(&format!("stmt: {line}"));
        let tok = if req.rpc || !last { more_tok } else { done_tok };
        let more = if last && !req.rpc { 0 } else { DONE_MORE };
        match translate(text, &shared.catalog, &req.params) {
            Ok(Stmt::Set { nocount: n }) => {
                if let Some(n) = n {
                    *nocount = n;
                }
                tokens::done(tok, more, 0xB9, 0, &mut out.buf);
            }
            Ok(Stmt::Select(sel)) => {
                match stream_select(conn, shared, req, &sel, *nocount, attn, out)? {
                    Streamed::Rows(n) => {
                        let st = if *nocount { more } else { more | DONE_COUNT };
                        tokens::done(tok, st, 0xC1, n, &mut out.buf);
                    }
                    Streamed::Cancelled => {
                        tokens::done(0xFD, DONE_ATTN, 0xC1, 0, &mut out.buf);
                        return out.end();
                    }
                    Streamed::Failed(e, n) => {
                        tokens::error(e.number, e.class, &e.message, &mut out.buf);
                        // The batch stops here: for a batch this DONE is the final one.
                        let more = if req.rpc { DONE_MORE } else { 0 };
                        tokens::done(
                            more_tok,
                            more | DONE_ERROR | DONE_COUNT,
                            0xC1,
                            n,
                            &mut out.buf,
                        );
                        failed = true;
                    }
                }
            }
            Err(e) => {
                (shared.log)(&format!("error: {} {}", e.number, e.message));
                tokens::error(e.number, e.class, &e.message, &mut out.buf);
                let more = if req.rpc { DONE_MORE } else { 0 };
                tokens::done(more_tok, more | DONE_ERROR, 0, 0, &mut out.buf);
                failed = true;
            }
        }
        if failed {
            break;
        }
    }
    if stmts.is_empty() && !req.rpc {
        tokens::done(0xFD, 0, 0, 0, &mut out.buf);
    }
    if req.rpc {
        tokens::return_status(if failed { -6 } else { 0 }, &mut out.buf);
        tokens::done(
            0xFE,
            if failed { DONE_ERROR } else { 0 },
            0xE0,
            0,
            &mut out.buf,
        );
    }
    out.end()
}

fn short(v: &rusqlite::types::Value) -> String {
    use rusqlite::types::Value;
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => f.to_string(),
        Value::Text(t) => format!("'{}'", t.chars().take(60).collect::<String>()),
        Value::Blob(b) => format!(
            "0x{}",
            b.iter()
                .take(30)
                .map(|x| format!("{x:02X}"))
                .collect::<String>()
        ),
    }
}

enum Streamed {
    Rows(u64),
    Cancelled,
    Failed(SqlError, u64),
}

fn sqlite_error(e: &rusqlite::Error) -> SqlError {
    let m = e.to_string();
    if let Some(c) = m.split("no such column: ").nth(1) {
        let c = c.rsplit('.').next().unwrap_or(c).trim_matches('"');
        return SqlError::new(207, format!("Invalid column name '{c}'."));
    }
    if let Some(t) = m.split("no such table: ").nth(1) {
        return SqlError::new(208, format!("Invalid object name '{t}'."));
    }
    SqlError::new(8114, format!("Error converting data: {m}"))
}

fn stream_select(
    conn: &Connection,
    shared: &Shared,
    req: &Request,
    sel: &super::sql::Select,
    _nocount: bool,
    attn: &AtomicBool,
    out: &mut Out<'_>,
) -> Result<Streamed, Gone> {
    let mut st = match conn.prepare_cached(&sel.sql) {
        Ok(s) => s,
        Err(e) => return Ok(Streamed::Failed(sqlite_error(&e), 0)),
    };
    for p in &req.params {
        if let Ok(Some(i)) = st.parameter_index(&p.name)
            && let Err(e) = st.raw_bind_parameter(i, &p.value)
        {
            return Ok(Streamed::Failed(sqlite_error(&e), 0));
        }
    }
    let fault = shared.faults.arm(&sel.tables);
    let ncol = st.column_count();
    tokens::colmetadata(&sel.columns, &mut out.buf);
    let mut rows = st.raw_query();
    // This thread steps SQLite and copies rows into batches; a second one encodes them into ROW/NBCROW tokens and
    // hands the bytes to the socket writer. Both channels are bounded: memory stays flat.
    let (batch_tx, batch_rx) = std::sync::mpsc::sync_channel::<RowBatch>(2);
    let (spare_tx, spare_rx) = std::sync::mpsc::sync_channel::<RowBatch>(4);
    let (columns, sources) = (&sel.columns[..], &sel.sources[..]);
    let out_for_encoder = &mut *out;
    let (stop, n, encoded) = std::thread::scope(|scope| {
        let encoder = scope
            .spawn(move || encode_batches(columns, sources, batch_rx, spare_tx, out_for_encoder));
        let mut n: u64 = 0;
        let mut batch = RowBatch::new(ncol, None);
        let stop = loop {
            if attn.load(Ordering::Relaxed) && attn.swap(false, Ordering::SeqCst) {
                break Stop::Cancelled;
            }
            if let Some((idx, kind, after)) = fault
                && n == after
                && shared.faults.fire(idx)
            {
                break Stop::Fault(kind);
            }
            match rows.next() {
                Ok(Some(r)) => batch.push(r),
                Ok(None) => break Stop::End,
                Err(e) => break Stop::Failed(sqlite_error(&e)),
            }
            n += 1;
            if batch.full() {
                let next = RowBatch::new(ncol, spare_rx.try_recv().ok());
                if batch_tx.send(std::mem::replace(&mut batch, next)).is_err() {
                    // The encoder stopped (conversion error or writer gone): it says why.
                    break Stop::End;
                }
            }
        };
        if batch.rows() > 0 {
            let _ = batch_tx.send(batch);
        }
        drop(batch_tx);
        let encoded = encoder.join().unwrap_or(Err(Gone));
        (stop, n, encoded)
    });
    let sent = match encoded? {
        Encoded::Rows(k) => k,
        Encoded::Failed(e, k) => {
            return Ok(Streamed::Failed(SqlError::new(8114, e.to_string()), k));
        }
    };
    match stop {
        Stop::End => Ok(Streamed::Rows(sent)),
        Stop::Cancelled => Ok(Streamed::Cancelled),
        Stop::Failed(e) => Ok(Streamed::Failed(e, n)),
        Stop::Fault(RowFaultKind::Drop) => {
            (shared.log)(&format!("fault: dropping the connection after {n} rows"));
            out.flush()?;
            let _ = out.tx.blocking_send(Outgoing::Close);
            Err(Gone)
        }
        Stop::Fault(RowFaultKind::Error) => {
            (shared.log)(&format!("fault: error after {n} rows"));
            Ok(Streamed::Failed(
                SqlError::new(50000, format!("fixture fault: error after {n} rows")),
                n,
            ))
        }
    }
}

/// Why the SQLite side of a result stopped.
enum Stop {
    End,
    Cancelled,
    Failed(SqlError),
    Fault(RowFaultKind),
}

/// What the encoder did: rows encoded, or the conversion error that stopped it after that many rows.
enum Encoded {
    Rows(u64),
    Failed(super::values::ConvError, u64),
}

/// Encodes batches into `out` (result column `i` from batch cell `sources[i]`) until the channel closes; returns used batches through `spare` for reuse.
fn encode_batches(
    columns: &[super::types::Column],
    sources: &[usize],
    batches: std::sync::mpsc::Receiver<RowBatch>,
    spare: std::sync::mpsc::SyncSender<RowBatch>,
    out: &mut Out<'_>,
) -> Result<Encoded, Gone> {
    let mut n: u64 = 0;
    while let Ok(batch) = batches.recv() {
        {
            let mut vals: Vec<ValueRef<'_>> = Vec::with_capacity(columns.len());
            for r in 0..batch.rows() {
                batch.row(r, sources, &mut vals);
                let mark = out.buf.len();
                if let Err(e) = tokens::row(columns, &vals, &mut out.buf) {
                    out.buf.truncate(mark);
                    return Ok(Encoded::Failed(e, n));
                }
                n += 1;
                if out.buf.len() >= FLUSH_AT {
                    out.flush()?;
                }
            }
        }
        let _ = spare.try_send(batch);
    }
    Ok(Encoded::Rows(n))
}
