//! Keyset pages (Q8, Q9) over the whole primary key: integer, character and binary key columns, one or several
//! (`WHERE (k1 > @P2) OR (k1 = @P2 AND k2 > @P3) … ORDER BY k1, k2`, see [`queries::keyset_after`]). A page
//! never crosses a row-group boundary, so part boundaries do not depend on where a run was interrupted, and the
//! key tuple of the last row of each committed part is the restart point for retries and `--resume`. Large
//! cells come back NULL with their length and are read after the page in windows addressed by every key column
//! (Q11, Q12).

use crate::dump::{Dumper, Group, MAX_GROUP_BYTES, push_row, record_blob, result_index};
use crate::error::ExtractError;
use crate::inventory::{ColumnInfo, ObjectInfo};
use crate::lob::{self, LobCell};
use crate::progress::TableProgress;
use crate::queries::{self, KeyCol};
use crate::resume::{KeyValue, TableState};
use crate::types::{ColKind, kind_of, schema};
use futures_util::TryStreamExt;
use std::borrow::Cow;
use std::sync::Arc;
use tiberius::{ColumnData, ToSql};

impl ToSql for KeyValue {
    /// bigint for an integer key column, varbinary for a character or binary one (compared as
    /// [`queries::key_expr`] reads it).
    fn to_sql(&self) -> ColumnData<'_> {
        match self {
            KeyValue::Int(i) => ColumnData::I64(Some(*i)),
            KeyValue::Bytes(b) => ColumnData::Binary(Some(Cow::Borrowed(b))),
        }
    }
}

impl KeyValue {
    /// The value as a parameter that outlives the page (row addresses of Q11, Q12).
    fn to_owned_sql(&self) -> ColumnData<'static> {
        match self {
            KeyValue::Int(i) => ColumnData::I64(Some(*i)),
            KeyValue::Bytes(b) => ColumnData::Binary(Some(Cow::Owned(b.clone()))),
        }
    }
}

/// Whether keyset pages can compare `col` as a key column: an integer, a non-LOB character column (by its bytes)
/// or a binary/varbinary column. Anything else (uniqueidentifier, date/time, decimal, float…) makes the table an
/// ordered scan.
pub fn keyset_comparable(col: &ColumnInfo) -> bool {
    match kind_of(col) {
        ColKind::U8 | ColKind::I16 | ColKind::I32 | ColKind::I64 => true,
        ColKind::Text { .. } => !col.is_lob(),
        ColKind::Binary => {
            !col.is_lob() && matches!(col.data_type.as_str(), "binary" | "varbinary")
        }
        _ => false,
    }
}

/// One key column of a keyset read: where its value is in a result row and how it is compared.
struct KeyPart {
    /// Index in the result row.
    item: usize,
    /// Compared as bytes (character and binary key columns), else as an integer.
    bytes: bool,
    /// Column name (row names in reports).
    name: String,
}

/// Reads the key value of `part` from a result row into `slot` (no allocation for integer keys).
fn read_key(
    cells: &[ColumnData<'static>],
    part: &KeyPart,
    slot: &mut KeyValue,
) -> Result<(), String> {
    let cell = cells.get(part.item);
    match (part.bytes, cell) {
        (false, Some(c)) => match crate::cells::int(c) {
            Some(i) => *slot = KeyValue::Int(i),
            None => {
                return Err(format!(
                    "key column {} is NULL or not an integer",
                    part.name
                ));
            }
        },
        (true, Some(ColumnData::Binary(Some(b)))) => match slot {
            KeyValue::Bytes(v) => {
                v.clear();
                v.extend_from_slice(b);
            }
            other => *other = KeyValue::Bytes(b.to_vec()),
        },
        _ => return Err(format!("key column {} is NULL", part.name)),
    }
    Ok(())
}

/// `WOID=17`, `WOID=17, Code='AB'`: a row named by its key in reports.
fn row_name(parts: &[KeyPart], key: &[KeyValue]) -> String {
    parts
        .iter()
        .zip(key)
        .map(|(p, k)| format!("{}={k}", p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Dumper<'_> {
    /// Dumps `obj` in keyset pages on its primary key columns `keys` (indices into the columns, key order),
    /// continuing after `st`'s last committed key tuple.
    pub(crate) fn keyset(
        &mut self,
        obj: &ObjectInfo,
        keys: &[usize],
        mut st: TableState,
        progress: &TableProgress,
    ) -> Result<TableState, ExtractError> {
        let table = queries::table_ref(&obj.schema, &obj.name, self.cfg.isolation == "nolock");
        let addr: Vec<KeyCol> = keys.iter().map(|&i| KeyCol::of(&obj.columns[i])).collect();
        let parts: Vec<KeyPart> = keys
            .iter()
            .map(|&i| KeyPart {
                item: result_index(&obj.columns, i),
                bytes: !matches!(
                    kind_of(&obj.columns[i]),
                    ColKind::U8 | ColKind::I16 | ColKind::I32 | ColKind::I64
                ),
                name: obj.columns[i].name.clone(),
            })
            .collect();
        let first = queries::q8_first_page(&queries::select_list(&obj.columns, 2), &table, &addr);
        let next = queries::q9_next_page(
            &queries::select_list(&obj.columns, 2 + keys.len()),
            &table,
            &addr,
        );
        let schema = Arc::new(schema(&obj.columns, &self.default_collation));
        let threshold = i64::try_from(self.cfg.lob_inline_max_bytes).unwrap_or(i64::MAX);
        let page_rows = self.cfg.page_rows.max(1) as usize;
        let group_rows = self.cfg.row_group_rows.max(1) as usize;
        let mut group = self.new_group(obj);
        let mut cursor = st.cursor();
        // The key of the row being read, overwritten in place row by row.
        let mut row_key: Vec<KeyValue> = parts
            .iter()
            .map(|p| {
                if p.bytes {
                    KeyValue::Bytes(Vec::new())
                } else {
                    KeyValue::Int(0)
                }
            })
            .collect();
        let what = obj.full_name();
        progress.set_position(st.rows());
        loop {
            let want = page_rows.min(group_rows - group.rows) as i64;
            let (sql, params): (&str, Vec<&dyn ToSql>) = match &cursor {
                None => (&first, vec![&want, &threshold]),
                Some(k) => {
                    let mut p: Vec<&dyn ToSql> = vec![&want];
                    p.extend(k.iter().map(|v| v as &dyn ToSql));
                    p.push(&threshold);
                    (&next, p)
                }
            };
            let before = group.rows;
            let mut cut = false;
            {
                let rt = self.rt;
                let client = self.client()?;
                rt.block_on(async {
                    let stream = client
                        .query(sql, &params)
                        .await
                        .map_err(ExtractError::query(&what))?;
                    let mut rows = stream.into_row_stream();
                    while let Some(row) =
                        rows.try_next().await.map_err(ExtractError::query(&what))?
                    {
                        let cells: Vec<ColumnData<'static>> = row.into_iter().collect();
                        for (part, slot) in parts.iter().zip(row_key.iter_mut()) {
                            read_key(&cells, part, slot)
                                .map_err(|e| ExtractError::Data(format!("{what}: {e}")))?;
                        }
                        let key = &row_key;
                        push_row(
                            obj,
                            &mut group,
                            &mut st,
                            cells,
                            &|| row_name(&parts, key),
                            Some(key),
                            None,
                        )?;
                        // Byte budget reached: stop here (tiberius drains the rest of the page before the next
                        // query), so memory stays bounded whatever the cell sizes; the next page starts after
                        // this row. Depends only on the group's own rows, so a resume reproduces it.
                        if group.bytes() >= MAX_GROUP_BYTES {
                            cut = true;
                            break;
                        }
                    }
                    Ok::<(), ExtractError>(())
                })?;
            }
            let got = group.rows - before;
            self.rows_read += got as u64;
            if got > 0 {
                cursor = Some(row_key.clone());
            }
            self.fetch_lobs(obj, &table, &addr, &parts, &mut group, &mut st)?;
            progress.inc(got as u64);
            let end = !cut && (got as i64) < want;
            if group.rows >= group_rows
                || group.bytes() >= MAX_GROUP_BYTES
                || (end && (group.rows > 0 || st.part_rows.is_empty()))
            {
                self.flush(obj, &schema, &mut group, &mut st, cursor.clone(), progress)?;
            }
            self.pace(got as u64);
            if end {
                break;
            }
        }
        self.commit_part(progress)?;
        st.done = true;
        self.save(obj, &st)?;
        Ok(st)
    }

    /// Reads the large cells the page left NULL, in windows addressed by the row's whole key.
    fn fetch_lobs(
        &mut self,
        obj: &ObjectInfo,
        table: &str,
        addr: &[KeyCol],
        parts: &[KeyPart],
        group: &mut Group,
        st: &mut TableState,
    ) -> Result<(), ExtractError> {
        let pending = std::mem::take(&mut group.pending);
        for p in pending {
            let key = p.key.as_deref().ok_or_else(|| {
                ExtractError::Data(format!("{}: a large cell without its key", obj.full_name()))
            })?;
            let key_values: Vec<ColumnData<'static>> =
                key.iter().map(KeyValue::to_owned_sql).collect();
            let row = row_name(parts, key);
            let cell = LobCell {
                table,
                column: &obj.columns[p.col].name,
                keys: addr,
                key_values: &key_values,
                length: p.len,
                text: group.buffers[p.col].text_encoding(),
            };
            let (rt, writer, chunk) = (self.rt, self.writer, self.cfg.lob_chunk_bytes);
            let stored = lob::store(rt, self.client()?, writer, &cell, chunk)?;
            let column = obj.columns[p.col].name.clone();
            record_blob(st, group, p, &column, &row, &stored);
        }
        Ok(())
    }
}
