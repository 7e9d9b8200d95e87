//! Large cells to `blobs/`: a cell over the in-row threshold is read in `SUBSTRING` windows of at most
//! `lob_chunk_bytes` (Q12) after a `DATALENGTH` probe (Q11), and streamed into the bundle
//! through a bounded channel, so a 300 MB attachment never sits in memory whole (at most three windows do).
//!
//! Binary cells are stored as they are. Character cells are stored as UTF-8 text, decoded window by window with
//! a streaming decoder of the column's code page (or UTF-16LE); undecodable sequences become U+FFFD and are
//! counted (the caller reports them).

use crate::connect::SqlClient;
use crate::error::ExtractError;
use crate::queries;
use crate::types::text::TextEncoding;
use futures_util::TryStreamExt;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use ti_shared::bundle::{BlobRef, BundleWriter};
use tiberius::{ColumnData, ToSql};

/// A [`Read`] over chunks arriving through a channel.
struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// One large cell to fetch.
#[derive(Debug, Clone)]
pub struct LobCell<'a> {
    /// `[schema].[object]` with its hint.
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
    /// The key columns addressing the row (one integer column for keyset tables; every primary-key column for
    /// ordered scans of a composite or character key).
    pub keys: &'a [queries::KeyCol],
    /// The row's key values, in key order, as the select list read them (see [`queries::row_address`]).
    pub key_values: &'a [ColumnData<'static>],
    /// `DATALENGTH` of the cell, bytes.
    pub length: i64,
    /// `Some` for character columns: decode into UTF-8.
    pub text: Option<TextEncoding>,
}

/// Result of storing one large cell.
#[derive(Debug, Clone)]
pub struct StoredLob {
    /// The blob.
    pub blob: BlobRef,
    /// Character cells: some bytes could not be decoded (replaced with U+FFFD).
    pub lossy: bool,
}

async fn window(
    client: &mut SqlClient,
    sql: &str,
    keys: &[ColumnData<'static>],
    offset: i64,
    len: i64,
) -> Result<Vec<u8>, ExtractError> {
    let what = "LOB window";
    let mut params: Vec<&dyn ToSql> = keys.iter().map(|k| k as &dyn ToSql).collect();
    params.push(&offset);
    params.push(&len);
    let stream = client
        .query(sql, &params)
        .await
        .map_err(ExtractError::query(what))?;
    let rows: Vec<tiberius::Row> = stream
        .into_row_stream()
        .try_collect()
        .await
        .map_err(ExtractError::query(what))?;
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| ExtractError::Data(format!("{what}: the row is gone")))?;
    match row.into_iter().next() {
        Some(ColumnData::Binary(Some(b))) => Ok(b.into_owned()),
        Some(ColumnData::Binary(None)) | None => Ok(Vec::new()),
        Some(ColumnData::String(Some(s))) => Ok(s.into_owned().into_bytes()),
        Some(_) => Err(ExtractError::Data(format!("{what}: unexpected value type"))),
    }
}

/// Streams one large cell into `blobs/`.
///
/// # Errors
/// A failed window query or a bundle write error.
pub fn store(
    rt: &tokio::runtime::Runtime,
    client: &mut SqlClient,
    writer: &BundleWriter,
    cell: &LobCell<'_>,
    chunk_bytes: u64,
) -> Result<StoredLob, ExtractError> {
    // Q11: probe the length again right before reading (under NOLOCK the cell may have changed since the page).
    let probe = queries::q11_lob_length(cell.table, cell.column, cell.keys);
    let key_params: Vec<&dyn ToSql> = cell.key_values.iter().map(|k| k as &dyn ToSql).collect();
    let length = rt.block_on(async {
        let what = "LOB length";
        let stream = client
            .query(probe.as_str(), &key_params)
            .await
            .map_err(ExtractError::query(what))?;
        let rows: Vec<tiberius::Row> = stream
            .into_row_stream()
            .try_collect()
            .await
            .map_err(ExtractError::query(what))?;
        Ok::<_, ExtractError>(
            rows.first()
                .and_then(|r| r.get_column_data(0).ok())
                .and_then(crate::cells::int),
        )
    })?;
    let length = length.unwrap_or(cell.length);
    let sql = queries::q12_lob_window(cell.table, cell.column, cell.keys);
    let chunk = i64::try_from(chunk_bytes.max(1)).unwrap_or(i64::MAX);
    let (tx, rx): (SyncSender<Vec<u8>>, Receiver<Vec<u8>>) = sync_channel(1);
    let mut decoder = cell
        .text
        .map(|t| t.encoding().new_decoder_without_bom_handling());
    let mut lossy = false;
    std::thread::scope(|s| {
        let handle = s.spawn(move || {
            writer.add_blob_from(ChannelReader {
                rx,
                current: Vec::new(),
                pos: 0,
            })
        });
        let mut offset = 1i64;
        let mut fetched: Result<(), ExtractError> = Ok(());
        while offset <= length {
            let len = chunk.min(length - offset + 1);
            let bytes = match rt.block_on(window(client, &sql, cell.key_values, offset, len)) {
                Ok(b) => b,
                Err(e) => {
                    fetched = Err(e);
                    break;
                }
            };
            if bytes.is_empty() {
                break;
            }
            offset += bytes.len() as i64;
            let last = offset > length;
            let out = match &mut decoder {
                Some(d) => {
                    let mut text = String::with_capacity(
                        d.max_utf8_buffer_length(bytes.len()).unwrap_or(bytes.len()),
                    );
                    let (_, _, had_errors) = d.decode_to_string(&bytes, &mut text, last);
                    lossy |= had_errors;
                    text.into_bytes()
                }
                None => bytes,
            };
            if tx.send(out).is_err() {
                break;
            }
        }
        drop(tx);
        let stored = handle
            .join()
            .map_err(|_| ExtractError::Data("blob writer thread panicked".into()))?;
        fetched?;
        Ok(StoredLob {
            blob: stored?,
            lossy,
        })
    })
}

/// Stores a large cell that is already in memory (read whole by an ordered scan of a keyless table or a view, at
/// most the keyless cap): binary as it is, character bytes decoded to UTF-8 like [`store`] does.
///
/// # Errors
/// A bundle write error.
pub fn store_bytes(
    writer: &BundleWriter,
    bytes: &[u8],
    text: Option<TextEncoding>,
) -> Result<StoredLob, ExtractError> {
    match text {
        None => Ok(StoredLob {
            blob: writer.add_blob(bytes)?,
            lossy: false,
        }),
        Some(t) => {
            let (decoded, lossy) = crate::types::text::decode(bytes, t);
            Ok(StoredLob {
                blob: writer.add_blob(decoded.as_bytes())?,
                lossy,
            })
        }
    }
}
