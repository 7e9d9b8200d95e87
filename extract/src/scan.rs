//! Ordered scans (Q10): keyless tables, views, and tables whose primary key has a column keyset pages do not
//! compare (uniqueidentifier, date/time, decimal…; see [`crate::keyset::keyset_comparable`]). A scan
//! holds the connection until its last row, so nothing else can be asked of the server meanwhile (one query at a
//! time, one connection); a retry or a resume restarts the object. Large cells (LOB cells over
//! `lob_inline_max_bytes`) are handled by what addresses a row:
//!
//! - **Primary key (with a column keyset pages do not compare)**: before the scan, Q13 lists the key values and `DATALENGTH`s of the
//!   rows holding a large cell (a few bytes per such row); each of those cells is then probed (Q11) and read in
//!   `SUBSTRING` windows (Q12) addressed by every key column, exactly like a keyset table's, into `blobs/`. The
//!   scan itself gets those cells NULL with their length and fills `__blake3`/`__bytes` from the pre-pass by the
//!   row's key. Memory: one row group plus one entry per large cell. A large cell the pre-pass did not see (a row
//!   added or grown in between, under NOLOCK) fails the attempt as transient, so the table is retried.
//! - **No key (keyless table, view)**: a row cannot be addressed again (duplicates are allowed and there is no
//!   order SQL Server 2008 R2 guarantees to repeat without a key), so windows are impossible. LOB cells up to the
//!   keyless cap (`--keyless-cell-max-bytes`, default 32 MiB) are read whole in the scan, and stored in `blobs/`
//!   when over `lob_inline_max_bytes`; larger cells are **not read**: the cell stays NULL, `<col>__bytes` holds
//!   its length, `__blake3` stays NULL, and the report counts it (`omitted_cells`) with the row named. Memory is
//!   bounded by the cap plus one row group.

use crate::dump::{
    Dumper, MAX_GROUP_BYTES, Pending, part_path, push_row, record_blob, result_index,
};
use crate::error::ExtractError;
use crate::inventory::{ColumnInfo, ObjectInfo};
use crate::lob::{self, LobCell, StoredLob};
use crate::progress::TableProgress;
use crate::queries::{self, KeyCol};
use crate::resume::{MAX_RAW_LISTED, TableState};
use crate::types::{ColKind, kind_of, schema, text_encoding};
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use tiberius::ColumnData;

/// Large cells fetched by the pre-pass: (row key as [`key_repr`], column index) → stored blob.
type Prefetched = HashMap<(String, usize), StoredLob>;

/// A canonical text of a row's key cells (as the select list read them), to match pre-pass rows with scan rows.
fn key_repr<'c>(cells: impl Iterator<Item = &'c ColumnData<'static>>) -> String {
    let cells: Vec<&ColumnData<'static>> = cells.collect();
    format!("{cells:?}")
}

impl Dumper<'_> {
    /// One ordered scan of `obj`: by its primary key columns `keys` (indices) when it has one, else by `order`.
    pub(crate) fn scan(
        &mut self,
        obj: &ObjectInfo,
        keys: Option<&[usize]>,
        order: &[String],
        progress: &TableProgress,
    ) -> Result<TableState, ExtractError> {
        // A scan restarts from nothing: forget its parts.
        for i in 0..self
            .state
            .tables
            .get(&obj.full_name())
            .map_or(0, |s| s.part_rows.len())
        {
            self.writer.remove(&part_path(obj, i))?;
        }
        let mut st = TableState::default();
        self.save(obj, &st)?;
        let table = queries::table_ref(&obj.schema, &obj.name, self.cfg.isolation == "nolock");
        let inline_max = i64::try_from(self.cfg.lob_inline_max_bytes).unwrap_or(i64::MAX);
        let (order, threshold, prefetched, divert) = match keys {
            Some(k) => {
                let names = k.iter().map(|&i| obj.columns[i].name.clone()).collect();
                let pre = self.prefetch(obj, &table, k, inline_max)?;
                (names, inline_max, pre, None)
            }
            None => (
                order.to_vec(),
                i64::try_from(self.keyless_cap).unwrap_or(i64::MAX),
                Prefetched::new(),
                Some(usize::try_from(self.cfg.lob_inline_max_bytes).unwrap_or(usize::MAX)),
            ),
        };
        let key_items: Vec<usize> = keys
            .unwrap_or_default()
            .iter()
            .map(|&i| result_index(&obj.columns, i))
            .collect();
        let sql = queries::q10_scan(&queries::select_list(&obj.columns, 1), &table, &order);
        let schema = Arc::new(schema(&obj.columns, &self.default_collation));
        let group_rows = self.cfg.row_group_rows.max(1) as usize;
        let mut group = self.new_group(obj);
        let what = obj.full_name();
        let mut ordinal = 0u64;
        let mut client = match self.client.take() {
            Some(c) => c,
            None => self.rt.block_on(self.source.connect())?,
        };
        let rt = self.rt;
        let result = rt.block_on(async {
            let stream = client
                .query(sql.as_str(), &[&threshold])
                .await
                .map_err(ExtractError::query(&what))?;
            let mut rows = stream.into_row_stream();
            while let Some(row) = rows.try_next().await.map_err(ExtractError::query(&what))? {
                ordinal += 1;
                let cells: Vec<ColumnData<'static>> = row.into_iter().collect();
                let repr = (!key_items.is_empty())
                    .then(|| key_repr(key_items.iter().filter_map(|&i| cells.get(i))));
                let name = || format!("row {ordinal}");
                let diverted = push_row(obj, &mut group, &mut st, cells, &name, None, divert)?;
                let row = group.rows - 1;
                for (col, bytes) in diverted {
                    let stored =
                        lob::store_bytes(self.writer, &bytes, group.buffers[col].text_encoding())?;
                    let p = Pending {
                        row,
                        col,
                        len: bytes.len() as i64,
                        key: None,
                    };
                    record_blob(
                        &mut st,
                        &mut group,
                        p,
                        &obj.columns[col].name,
                        &name(),
                        &stored,
                    );
                }
                for p in std::mem::take(&mut group.pending) {
                    let column = &obj.columns[p.col].name;
                    match &repr {
                        Some(r) => {
                            let stored = prefetched.get(&(r.clone(), p.col)).ok_or_else(|| {
                                ExtractError::Changed(format!(
                                    "{what}: {column} of {} grew over the in-row threshold after \
the large-cell pre-pass",
                                    name()
                                ))
                            })?;
                            record_blob(&mut st, &mut group, p, column, &name(), stored);
                        }
                        None => {
                            group.buffers[p.col].set_length(p.row, p.len);
                            st.omitted_cells += 1;
                            let len = p.len.max(0) as u64;
                            st.omitted_bytes += len;
                            st.omitted_max_bytes = st.omitted_max_bytes.max(len);
                            if st.omitted_samples.len() < MAX_RAW_LISTED {
                                st.omitted_samples.push(format!(
                                    "{column} of {}: {} bytes",
                                    name(),
                                    p.len
                                ));
                            }
                        }
                    }
                }
                self.rows_read += 1;
                progress.inc(1);
                if group.rows >= group_rows || group.bytes() >= MAX_GROUP_BYTES {
                    self.flush(obj, &schema, &mut group, &mut st, None, progress)?;
                }
                if ordinal.is_multiple_of(1000) {
                    self.pace(1000);
                }
            }
            Ok::<(), ExtractError>(())
        });
        self.client = Some(client);
        result?;
        self.pace(ordinal % 1000);
        if group.rows > 0 || st.part_rows.is_empty() {
            self.flush(obj, &schema, &mut group, &mut st, None, progress)?;
        }
        self.commit_part(progress)?;
        st.done = true;
        self.save(obj, &st)?;
        Ok(st)
    }

    /// The pre-pass of a keyed scan (Q13, then Q11/Q12 per cell): every LOB cell over `threshold` bytes, stored
    /// in `blobs/` and keyed by its row's key and column.
    fn prefetch(
        &mut self,
        obj: &ObjectInfo,
        table: &str,
        keys: &[usize],
        threshold: i64,
    ) -> Result<Prefetched, ExtractError> {
        let lobs: Vec<usize> = (0..obj.columns.len())
            .filter(|&i| obj.columns[i].is_lob())
            .collect();
        let mut out = Prefetched::new();
        if lobs.is_empty() {
            return Ok(out);
        }
        let key_cols: Vec<&ColumnInfo> = keys.iter().map(|&i| &obj.columns[i]).collect();
        let lob_cols: Vec<&ColumnInfo> = lobs.iter().map(|&i| &obj.columns[i]).collect();
        let sql = queries::q13_large_cells(table, &key_cols, &lob_cols);
        let what = format!("{}: large cells", obj.full_name());
        let rt = self.rt;
        let client = self.client()?;
        let rows: Vec<Vec<ColumnData<'static>>> = rt.block_on(async {
            let stream = client
                .query(sql.as_str(), &[&threshold])
                .await
                .map_err(ExtractError::query(&what))?;
            stream
                .into_row_stream()
                .map_ok(|r| r.into_iter().collect())
                .try_collect()
                .await
                .map_err(ExtractError::query(&what))
        })?;
        let addr: Vec<KeyCol> = key_cols.iter().map(|c| KeyCol::of(c)).collect();
        for mut cells in rows {
            let lens = cells.split_off(keys.len().min(cells.len()));
            let repr = key_repr(cells.iter());
            for (j, len) in lens.iter().enumerate() {
                let Some(len) = crate::cells::int(len).filter(|&l| l > threshold) else {
                    continue;
                };
                let col = &obj.columns[lobs[j]];
                let cell = LobCell {
                    table,
                    column: &col.name,
                    keys: &addr,
                    key_values: &cells,
                    length: len,
                    text: matches!(kind_of(col), ColKind::Text { .. })
                        .then(|| text_encoding(col, &self.default_collation)),
                };
                let (rt, writer, chunk) = (self.rt, self.writer, self.cfg.lob_chunk_bytes);
                let stored = lob::store(rt, self.client()?, writer, &cell, chunk)?;
                out.insert((repr.clone(), lobs[j]), stored);
            }
        }
        Ok(out)
    }
}
