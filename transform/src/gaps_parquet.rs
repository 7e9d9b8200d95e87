//! `gaps/change_requests.parquet`: the change-request dataset of `gaps/change_requests.json` as a table, one row
//! per change request, every field as text, approvals as a JSON array in `approvals`.

use crate::error::{Result, TransformError};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Builds the Parquet bytes and row count from the gap files (reads `gaps/change_requests.json`).
///
/// # Errors
/// [`TransformError::Parquet`] when writing fails.
pub fn change_requests_parquet(gaps: &BTreeMap<String, Vec<u8>>) -> Result<(Vec<u8>, u64)> {
    let v: serde_json::Value = gaps
        .get("gaps/change_requests.json")
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    let rows: Vec<&serde_json::Map<String, serde_json::Value>> = v["change_requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_object())
        .collect();
    let mut columns: BTreeSet<String> = BTreeSet::new();
    columns.insert("change_id".into());
    for r in &rows {
        columns.extend(r.keys().cloned());
    }
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(c, DataType::Utf8, true))
        .collect();
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|c| {
            let values: Vec<Option<String>> = rows
                .iter()
                .map(|r| {
                    r.get(c).map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                })
                .collect();
            Arc::new(StringArray::from(values)) as ArrayRef
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| TransformError::Parquet(e.to_string()))?;
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None)
        .map_err(|e| TransformError::Parquet(e.to_string()))?;
    w.write(&batch)
        .map_err(|e| TransformError::Parquet(e.to_string()))?;
    w.close()
        .map_err(|e| TransformError::Parquet(e.to_string()))?;
    Ok((buf, rows.len() as u64))
}
