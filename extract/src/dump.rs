//! Dumping one table or view: rows stream from tiberius into Arrow builders and out as Parquet parts
//! (`part-NNNNN.parquet`, one zstd row group each), so memory holds one row group at most.
//!
//! - A table with a primary key of integer, character or binary columns (one or several) is read in keyset
//!   pages on the whole key (Q8, Q9, module [`crate::keyset`]); a page never crosses a row-group boundary, so
//!   part boundaries do not depend on where a run was interrupted, and the last key tuple of each committed part
//!   is the restart point for retries and `--resume`.
//! - Anything else is one ordered scan (Q10, module [`crate::scan`]); a retry or a resume restarts it. A table
//!   whose primary key has a column of another type (uniqueidentifier, date/time, decimal…) has its large cells
//!   read in windows by key before the scan; a keyless table or a view reads them whole up to a cap (see
//!   [`crate::scan`]).
//! - A row group closes at `row_group_rows` rows or [`MAX_GROUP_BYTES`] of buffered data.

use crate::connect::{Source, SqlClient};
use crate::error::ExtractError;
use crate::inventory::{ColumnInfo, ObjectInfo};
use crate::keyset::keyset_comparable;
use crate::lob;
use crate::parts::InFlight;
use crate::progress::TableProgress;
use crate::resume::{KeyValue, MAX_RAW_LISTED, RawCell, ResumeState, TableState};
use crate::types::buffer::{ColumnBuffer, Pushed};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use std::time::{Duration, Instant};
use ti_shared::bundle::BundleWriter;
use ti_shared::config::ExtractConfig;
use tiberius::ColumnData;

/// A row group closes once this many bytes of cell data are buffered (DESIGN.md §4: about 64 MiB).
pub const MAX_GROUP_BYTES: usize = 64 << 20;

/// Everything a table dump needs.
pub struct Dumper<'a> {
    /// The runtime that drives tiberius (the dump itself is synchronous).
    pub rt: &'a tokio::runtime::Runtime,
    /// How to (re)connect.
    pub source: &'a Source,
    /// The open connection; `None` after a failure, reopened on the next attempt.
    pub client: Option<SqlClient>,
    /// The bundle being written.
    pub writer: &'a BundleWriter,
    /// `[extract]`.
    pub cfg: &'a ExtractConfig,
    /// Database default collation (for columns without one).
    pub default_collation: String,
    /// Resume state, saved after each part.
    pub state: ResumeState,
    /// Rows read from the server in this process (retries included), for the printed report.
    pub rows_read: u64,
    /// Keyless tables and views: LOB cells up to this many bytes are read whole in the scan (and stored in
    /// `blobs/` when over the in-row threshold); larger ones are not read (see [`crate::scan`]). Starts as
    /// `[extract] keyless_cell_max_bytes`; `run` replaces it with `--keyless-cell-max-bytes` when given.
    pub keyless_cap: u64,
    /// Throttle decisions so far (for `max_rows_per_second`).
    pub throttle: Throttle,
    started: Instant,
    /// The part being encoded while the next rows are read.
    in_flight: Option<InFlight>,
}

/// The `[extract] max_rows_per_second` ceiling: how long to pause after each batch of rows so that rows read
/// never run ahead of `max × elapsed seconds`. Pure arithmetic on the elapsed time it is given, so tests check
/// its decisions without a clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Throttle {
    /// Rows per second allowed; 0 = unlimited.
    pub max_rows_per_second: u64,
    /// Rows counted so far.
    pub rows: u64,
    /// Pauses decided so far.
    pub pauses: u64,
    /// Total pause time decided so far, seconds.
    pub paused_secs: f64,
}

impl Throttle {
    /// A throttle at `max_rows_per_second` (0 = unlimited).
    pub fn new(max_rows_per_second: u64) -> Self {
        Throttle {
            max_rows_per_second,
            ..Throttle::default()
        }
    }

    /// Counts `rows` more rows read `elapsed` after the start and returns how long to pause (zero when under the
    /// ceiling or unlimited).
    pub fn after(&mut self, rows: u64, elapsed: Duration) -> Duration {
        if self.max_rows_per_second == 0 {
            return Duration::ZERO;
        }
        self.rows += rows;
        let due = Duration::from_secs_f64(self.rows as f64 / self.max_rows_per_second as f64);
        if due > elapsed {
            let pause = due - elapsed;
            self.pauses += 1;
            self.paused_secs += pause.as_secs_f64();
            pause
        } else {
            Duration::ZERO
        }
    }
}

/// Default of [`Dumper::keyless_cap`] (`[extract] keyless_cell_max_bytes` when the config does not set it):
/// 32 MiB.
pub const DEFAULT_KEYLESS_CAP: u64 = ti_shared::config::DEFAULT_KEYLESS_CELL_MAX_BYTES;

/// How a table is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Keyset pages on the primary key (module [`crate::keyset`]): indices of its columns, in key order.
    Keyset(Vec<usize>),
    /// One ordered scan by the primary key, which has a column keyset pages do not compare (see
    /// [`crate::keyset::keyset_comparable`]): indices of the key columns.
    KeyedScan(Vec<usize>),
    /// One ordered scan by these columns (no primary key, or a view).
    Scan(Vec<String>),
}

/// The reading plan of `obj`.
pub fn plan(obj: &ObjectInfo) -> Plan {
    if !obj.primary_key.is_empty() && !obj.is_view() {
        let keys: Option<Vec<usize>> = obj
            .primary_key
            .iter()
            .map(|k| obj.columns.iter().position(|c| &c.name == k))
            .collect();
        return match keys {
            Some(keys) if keys.iter().all(|&i| keyset_comparable(&obj.columns[i])) => {
                Plan::Keyset(keys)
            }
            Some(keys) => Plan::KeyedScan(keys),
            None => Plan::Scan(obj.primary_key.clone()),
        };
    }
    let orderable = |c: &&ColumnInfo| {
        !matches!(
            c.data_type.as_str(),
            "text"
                | "ntext"
                | "image"
                | "xml"
                | "sql_variant"
                | "geography"
                | "geometry"
                | "hierarchyid"
        ) && c.max_length != Some(-1)
    };
    Plan::Scan(
        obj.columns
            .iter()
            .filter(orderable)
            .map(|c| c.name.clone())
            .collect(),
    )
}

/// A large cell the page or scan left NULL, still to be fetched (or reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Row within the group.
    pub row: usize,
    /// Source column index.
    pub col: usize,
    /// `DATALENGTH` of the cell.
    pub len: i64,
    /// Key tuple of the row (keyset tables).
    pub key: Option<Vec<KeyValue>>,
}

/// Rows buffered for the current row group, with the large cells still to fetch.
pub(crate) struct Group {
    pub buffers: Vec<ColumnBuffer>,
    /// Whether each source column is a LOB (followed by its `__bytes` item in a result row).
    pub lobs: Vec<bool>,
    pub rows: usize,
    pub pending: Vec<Pending>,
}

impl Group {
    pub(crate) fn bytes(&self) -> usize {
        self.buffers.iter().map(ColumnBuffer::approx_bytes).sum()
    }
}

impl<'a> Dumper<'a> {
    /// A dumper over `writer` continuing `state`.
    pub fn new(
        rt: &'a tokio::runtime::Runtime,
        source: &'a Source,
        writer: &'a BundleWriter,
        cfg: &'a ExtractConfig,
        default_collation: String,
        state: ResumeState,
    ) -> Self {
        Dumper {
            rt,
            source,
            client: None,
            writer,
            cfg,
            default_collation,
            state,
            rows_read: 0,
            keyless_cap: cfg.keyless_cell_max_bytes,
            throttle: Throttle::new(cfg.max_rows_per_second),
            started: Instant::now(),
            in_flight: None,
        }
    }

    pub(crate) fn client(&mut self) -> Result<&mut SqlClient, ExtractError> {
        if self.client.is_none() {
            self.client = Some(self.rt.block_on(self.source.connect())?);
        }
        Ok(self.client.as_mut().expect("just connected"))
    }

    /// Dumps `obj` into its folder, retrying a dropped connection or a server error up to `retries` times from
    /// the last committed part. Returns the table's final state.
    ///
    /// # Errors
    /// The last error once the retries are used up; bundle and Parquet write errors at once.
    pub fn dump(
        &mut self,
        obj: &ObjectInfo,
        progress: &TableProgress,
    ) -> Result<TableState, ExtractError> {
        let name = obj.full_name();
        let mut attempts = 0u32;
        loop {
            let st = self.state.tables.entry(name.clone()).or_default().clone();
            if st.done {
                self.restore_rows(obj, &st);
                return Ok(st);
            }
            self.drop_stale_parts(obj, &st)?;
            let result = match plan(obj) {
                Plan::Keyset(keys) => self.keyset(obj, &keys, st, progress),
                Plan::KeyedScan(keys) => self.scan(obj, Some(&keys), &[], progress),
                Plan::Scan(order) => self.scan(obj, None, &order, progress),
            };
            if result.is_err() {
                // The part encoded before the failure is complete: commit it, so the retry continues after it.
                self.commit_part(progress)?;
            }
            match result {
                Ok(st) => return Ok(st),
                Err(e) if e.is_transient() && attempts < self.cfg.retries => {
                    attempts += 1;
                    tracing::warn!(
                        "{}; retry {attempts} of {} from the last complete part",
                        crate::error::retry_text(&name, &e),
                        self.cfg.retries
                    );
                    self.client = None;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// After `reopen`, finished parts have no row counts: put them back from the state.
    fn restore_rows(&self, obj: &ObjectInfo, st: &TableState) {
        for (i, rows) in st.part_rows.iter().enumerate() {
            self.writer.set_rows(&part_path(obj, i), Some(*rows));
        }
    }

    /// Removes parts on disk beyond the committed ones (written just before a kill) and restores row counts.
    fn drop_stale_parts(&self, obj: &ObjectInfo, st: &TableState) -> Result<(), ExtractError> {
        self.restore_rows(obj, st);
        let dir = self.writer.path(&obj.folder);
        let Ok(items) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        for item in items.flatten() {
            let file = item.file_name().to_string_lossy().into_owned();
            let index = file
                .strip_prefix("part-")
                .and_then(|s| s.strip_suffix(".parquet"))
                .and_then(|n| n.parse::<usize>().ok());
            if index.is_some_and(|i| i >= st.part_rows.len()) {
                self.writer.remove(&format!("{}/{file}", obj.folder))?;
            }
        }
        Ok(())
    }

    pub(crate) fn new_group(&self, obj: &ObjectInfo) -> Group {
        Group {
            buffers: obj
                .columns
                .iter()
                .map(|c| ColumnBuffer::new(c, &self.default_collation))
                .collect(),
            lobs: obj.columns.iter().map(ColumnInfo::is_lob).collect(),
            rows: 0,
            pending: Vec::new(),
        }
    }

    /// Closes the group as the table's next part: its arrays are built here and encoded on a thread of its own
    /// ([`crate::parts`]) while the caller reads on; the part before it is committed first. `last_keys` is the
    /// key tuple of the group's last row (keyset tables).
    ///
    /// # Errors
    /// Arrow errors, or the previous part's encoding, write or state errors.
    pub(crate) fn flush(
        &mut self,
        obj: &ObjectInfo,
        schema: &SchemaRef,
        group: &mut Group,
        st: &mut TableState,
        last_keys: Option<Vec<KeyValue>>,
        progress: &TableProgress,
    ) -> Result<(), ExtractError> {
        self.commit_part(progress)?;
        let rows = group.rows as u64;
        let arrays: Vec<_> = group
            .buffers
            .iter_mut()
            .flat_map(ColumnBuffer::finish)
            .collect();
        group.rows = 0;
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        let rel = part_path(obj, st.part_rows.len());
        st.part_rows.push(rows);
        st.last_keys = last_keys;
        st.last_key = None;
        self.in_flight = Some(InFlight::start(
            obj.full_name(),
            rel,
            schema.clone(),
            batch,
            st.clone(),
        )?);
        Ok(())
    }

    /// Commits the part being encoded, if any (see [`crate::parts`]).
    ///
    /// # Errors
    /// Its encoding, write or state errors.
    pub(crate) fn commit_part(&mut self, progress: &TableProgress) -> Result<(), ExtractError> {
        match self.in_flight.take() {
            Some(part) => part.commit(self.writer, &mut self.state, progress),
            None => Ok(()),
        }
    }

    pub(crate) fn save(&mut self, obj: &ObjectInfo, st: &TableState) -> Result<(), ExtractError> {
        let mut st = st.clone();
        // The part records are added as parts are committed (crate::parts): keep them.
        if let Some(old) = self.state.tables.get(&obj.full_name())
            && old.part_files.len() > st.part_files.len()
        {
            st.part_files = old.part_files.clone();
        }
        st.part_files.truncate(st.part_rows.len());
        self.state.tables.insert(obj.full_name(), st);
        self.state.save(self.writer.root())
    }

    /// Sleeps as needed to stay under `max_rows_per_second` (0 = unlimited); the decision is [`Throttle::after`].
    pub(crate) fn pace(&mut self, rows: u64) {
        let pause = self.throttle.after(rows, self.started.elapsed());
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

/// Records a large cell stored in `blobs/`: hash and length in the group, counters and (for undecodable text) a
/// sample in the table state.
pub(crate) fn record_blob(
    st: &mut TableState,
    group: &mut Group,
    p: Pending,
    column: &str,
    row: &str,
    stored: &lob::StoredLob,
) {
    if stored.lossy {
        st.raw_cells += 1;
        if st.raw_samples.len() < MAX_RAW_LISTED {
            st.raw_samples.push(RawCell {
                column: column.to_string(),
                row: row.to_string(),
                bytes: p.len.max(0) as u64,
                head_hex: format!(
                    "(in blob {}; undecodable bytes replaced with U+FFFD)",
                    stored.blob.blake3
                ),
            });
        }
    }
    st.lob_cells += 1;
    group.buffers[p.col].set_blob(p.row, stored.blob.blake3.clone(), stored.blob.bytes as i64);
}

/// Bundle path of part `index` of `obj`.
pub fn part_path(obj: &ObjectInfo, index: usize) -> String {
    format!("{}/part-{index:05}.parquet", obj.folder)
}

/// Index of source column `col` in the result row (LOB columns are followed by their `__bytes` item).
pub(crate) fn result_index(columns: &[ColumnInfo], col: usize) -> usize {
    col + columns[..col].iter().filter(|c| c.is_lob()).count()
}

/// Pushes one result row into the group; `row` names it in reports (called only when needed), `key` is its key
/// tuple (keyset tables). LOB cells
/// over the in-row threshold that came back NULL with their length go to `group.pending`. With `divert_over`
/// (keyless scans), LOB cells that came back whole but longer than that many bytes are taken out of the row and
/// returned as `(column, bytes)` for the caller to store in `blobs/` (the row keeps NULL, pending).
pub(crate) fn push_row(
    obj: &ObjectInfo,
    group: &mut Group,
    st: &mut TableState,
    cells: Vec<ColumnData<'static>>,
    row: &dyn Fn() -> String,
    key: Option<&[KeyValue]>,
    divert_over: Option<usize>,
) -> Result<Vec<(usize, Vec<u8>)>, ExtractError> {
    let mut it = cells.into_iter();
    let index = group.rows;
    let mut diverted = Vec::new();
    for (i, col) in obj.columns.iter().enumerate() {
        let mut data = it.next().ok_or_else(|| {
            ExtractError::Data(format!("{}: the row has too few columns", obj.full_name()))
        })?;
        let is_lob = group.lobs[i];
        let lob_len = if is_lob {
            it.next().as_ref().and_then(crate::cells::int)
        } else {
            None
        };
        let divert = matches!((divert_over, &data), (Some(max), ColumnData::Binary(Some(b))) if b.len() > max);
        if divert
            && is_lob
            && let ColumnData::Binary(Some(b)) =
                std::mem::replace(&mut data, ColumnData::Binary(None))
        {
            diverted.push((i, b.into_owned()));
        }
        let pushed: Pushed = group.buffers[i]
            .push(data, lob_len)
            .map_err(|e| ExtractError::Data(format!("{}: {e}", obj.full_name())))?;
        if pushed.raw {
            st.raw_cells += 1;
            // The original bytes were just kept in `__raw`: the sample is read back from there (nothing is
            // copied for the cells that decode, which are nearly all).
            if st.raw_samples.len() < MAX_RAW_LISTED
                && let Some(raw) = group.buffers[i].last_raw()
            {
                st.raw_samples.push(RawCell {
                    column: col.name.clone(),
                    row: row(),
                    bytes: raw.len() as u64,
                    head_hex: hex_head(raw),
                });
            }
        }
        st.rounded += u64::from(pushed.rounded);
        st.as_text += u64::from(pushed.as_text);
        if let Some(len) = pushed.lob_pending
            && diverted.last().is_none_or(|(c, _)| *c != i)
        {
            group.pending.push(Pending {
                row: index,
                col: i,
                len,
                key: key.map(<[KeyValue]>::to_vec),
            });
        }
    }
    group.rows += 1;
    Ok(diverted)
}

fn hex_head(bytes: &[u8]) -> String {
    bytes.iter().take(32).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::Throttle;
    use std::time::Duration;

    #[test]
    fn throttle_pauses_only_when_rows_run_ahead_of_the_ceiling() {
        let mut t = Throttle::new(1000);
        // 500 rows at once: due at 0.5 s, so pause 0.5 s.
        assert_eq!(t.after(500, Duration::ZERO), Duration::from_millis(500));
        // 500 more at 1.0 s: exactly on time, no pause.
        assert_eq!(t.after(500, Duration::from_secs(1)), Duration::ZERO);
        // 1,000 more at 1.25 s: due at 2.0 s.
        assert_eq!(
            t.after(1000, Duration::from_millis(1250)),
            Duration::from_millis(750)
        );
        assert_eq!(t.rows, 2000);
        assert_eq!(t.pauses, 2);
        assert!((t.paused_secs - 1.25).abs() < 1e-9);
        // Behind the ceiling (slow server): never a pause.
        assert_eq!(t.after(10, Duration::from_secs(60)), Duration::ZERO);
        assert_eq!(t.pauses, 2);
    }

    #[test]
    fn unlimited_throttle_never_pauses_or_counts() {
        let mut t = Throttle::new(0);
        assert_eq!(t.after(1_000_000, Duration::ZERO), Duration::ZERO);
        assert_eq!((t.rows, t.pauses), (0, 0));
    }
}
