//! A profile object's `join` (profile.rs [`Join`]): the columns of a second table with the same key, attached to
//! every batch of the object's table (a LEFT JOIN on the key's text). The joined table's chosen columns (and
//! their reserved siblings `<col>__blake3`, `__bytes`, …) are held in memory, one row per key: memory grows with
//! the row count times those columns, not with the object's table.

use super::{Batch, SourceTables};
use crate::error::{Result, TransformError};
use crate::profile::Join;
use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::{Field, FieldRef, Schema};
use std::collections::HashMap;
use std::sync::Arc;

fn arrow_err(e: arrow_schema::ArrowError) -> TransformError {
    TransformError::Parquet(format!("join: {e}"))
}

/// The joined side: its chosen columns concatenated, and key text → row.
pub(super) struct JoinSide {
    /// The chosen columns of every row; `None` when the table is empty.
    batch: Option<RecordBatch>,
    /// Key text → row of `batch` (the first row of a duplicated key wins).
    index: HashMap<String, u32>,
    /// For each column of `batch`, the join column it belongs to (lower case).
    base: Vec<String>,
}

impl JoinSide {
    /// Reads the chosen columns of `join.table`.
    ///
    /// # Errors
    /// Parquet read failures; parts whose schemas differ.
    pub(super) fn load(source: &SourceTables, join: &Join) -> Result<Self> {
        let wanted: Vec<String> = join.columns.iter().map(|c| c.to_lowercase()).collect();
        let mut parts = Vec::new();
        let mut index = HashMap::new();
        let mut base = Vec::new();
        let mut offset = 0u32;
        source.scan(&join.table, |batch| {
            let schema = batch.rb.schema();
            let mut keep = Vec::new();
            let mut keep_base = Vec::new();
            for (i, f) in schema.fields().iter().enumerate() {
                let n = f.name().to_lowercase();
                if let Some(w) = wanted.iter().find(|w| {
                    n == **w
                        || n.strip_prefix(w.as_str())
                            .is_some_and(|r| r.starts_with("__"))
                }) {
                    keep.push(i);
                    keep_base.push(w.clone());
                }
            }
            for row in 0..batch.num_rows() {
                if let Some(k) = batch.text(&join.key, row) {
                    index.entry(k).or_insert(offset + row as u32);
                }
            }
            offset += batch.num_rows() as u32;
            parts.push(batch.rb.project(&keep).map_err(arrow_err)?);
            base = keep_base;
            Ok(())
        })?;
        let batch = match parts.first() {
            None => None,
            Some(first) => Some(
                arrow_select::concat::concat_batches(&first.schema(), &parts).map_err(arrow_err)?,
            ),
        };
        Ok(Self { batch, index, base })
    }

    /// `batch` with the joined columns appended (NULL where no joined row has its key); columns the batch already
    /// has are not replaced.
    ///
    /// # Errors
    /// Arrow kernel failures.
    pub(super) fn attach(&self, batch: &Batch<'_>, key: &str) -> Result<RecordBatch> {
        let rb = batch.rb;
        let Some(side) = &self.batch else {
            return Ok(rb.clone());
        };
        let indices: UInt32Array = (0..rb.num_rows())
            .map(|r| batch.text(key, r).and_then(|k| self.index.get(&k).copied()))
            .collect();
        let mut fields: Vec<FieldRef> = rb.schema().fields().iter().cloned().collect();
        let mut columns: Vec<ArrayRef> = rb.columns().to_vec();
        for ((field, column), base) in side
            .schema()
            .fields()
            .iter()
            .zip(side.columns())
            .zip(&self.base)
        {
            if batch.has(base) {
                continue;
            }
            columns.push(
                arrow_select::take::take(column.as_ref(), &indices, None).map_err(arrow_err)?,
            );
            fields.push(Arc::new(Field::clone(field).with_nullable(true)));
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow_err)
    }
}

#[cfg(test)]
mod tests {
    use crate::profile::{Join, ObjectMap};
    use crate::source::{InvObject, Inventory, SourceTables};
    use arrow_array::{ArrayRef, Int32Array, RecordBatch, StringArray};
    use std::collections::HashMap;
    use std::sync::Arc;

    fn object(name: &str) -> InvObject {
        InvObject {
            schema: "s".into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn joined_columns_follow_the_key_and_never_replace_the_objects_own() {
        let view = batch(vec![
            ("Id", Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "Name",
                Arc::new(StringArray::from(vec!["one", "two", "three"])),
            ),
        ]);
        let base = batch(vec![
            ("SEQ", Arc::new(Int32Array::from(vec![3, 1])) as ArrayRef),
            ("C1", Arc::new(StringArray::from(vec![Some("c"), None]))),
            ("Name", Arc::new(StringArray::from(vec!["x", "y"]))),
        ]);
        let inventory = Inventory {
            objects: vec![object("V"), object("T")],
            ..Default::default()
        };
        let source = SourceTables::in_memory(
            inventory,
            HashMap::from([("s.V".into(), vec![view]), ("s.T".into(), vec![base])]),
            HashMap::new(),
        );
        let map = ObjectMap {
            table: "s.V".into(),
            key: "Id".into(),
            join: Some(Join {
                table: "s.T".into(),
                key: "seq".into(),
                columns: vec!["c1".into(), "Name".into()],
            }),
            ..Default::default()
        };
        let mut seen = Vec::new();
        source
            .scan_map(&map, |b| {
                for r in 0..b.num_rows() {
                    seen.push((b.text("Name", r), b.text("C1", r)));
                }
                Ok(())
            })
            .unwrap();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            seen,
            vec![(s("one"), None), (s("two"), None), (s("three"), s("c"))]
        );
    }
}
