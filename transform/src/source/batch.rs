//! One record batch of a source table: case-insensitive column lookup, typed cell access, LOB cells stored as
//! blobs, text decoded from raw bytes, and the conversion of every Arrow type the extract writes into a
//! [`Cell`].

use super::{Cell, InvObject, SourceTables};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDateTime};
use std::collections::HashMap;

/// One record batch of a source table, with case-insensitive column lookup and typed cell access.
pub struct Batch<'a> {
    pub(super) rb: &'a RecordBatch,
    pub(super) object: &'a InvObject,
    source: &'a SourceTables,
    index: HashMap<String, usize>,
    exact: HashMap<String, usize>,
    /// Column position → (its `__blake3` sibling, its `__bytes` sibling).
    lob: HashMap<usize, (usize, Option<usize>)>,
}

impl<'a> Batch<'a> {
    pub(super) fn new(
        rb: &'a RecordBatch,
        object: &'a InvObject,
        source: &'a SourceTables,
    ) -> Self {
        let schema = rb.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let index: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_lowercase(), i))
            .collect();
        let exact: HashMap<String, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let mut lob = HashMap::new();
        for (i, n) in names.iter().enumerate() {
            let lower = n.to_lowercase();
            if let Some(&bi) = index.get(&format!("{lower}__blake3")) {
                lob.insert(i, (bi, index.get(&format!("{lower}__bytes")).copied()));
            }
        }
        Self {
            rb,
            object,
            source,
            exact,
            lob,
            index,
        }
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.rb.num_rows()
    }

    /// The inventory object this batch belongs to.
    pub fn object(&self) -> &InvObject {
        self.object
    }

    /// True when the batch has that column (case-insensitive).
    pub fn has(&self, column: &str) -> bool {
        self.position(column).is_some()
    }

    /// Column names of the batch (not the reserved siblings).
    pub fn column_names(&self) -> Vec<String> {
        self.rb
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| {
                !["__blake3", "__bytes", "__raw", "__offset_minutes"]
                    .iter()
                    .any(|s| n.ends_with(s))
            })
            .collect()
    }

    /// The value of `column` in `row` (NULL when the column does not exist).
    pub fn cell(&self, column: &str, row: usize) -> Cell {
        let Some(i) = self.position(column) else {
            return Cell::Null;
        };
        if let Some(&(bi, bytes_i)) = self.lob.get(&i) {
            let hashes = self.rb.column(bi);
            if hashes.is_valid(row)
                && let Some(hash) = string_at(hashes.as_ref(), row)
            {
                let bytes = bytes_i
                    .and_then(|b| int_at(self.rb.column(b).as_ref(), row))
                    .unwrap_or(0);
                return Cell::Blob {
                    hash,
                    bytes: bytes.max(0) as u64,
                };
            }
        }
        array_cell(self.rb.column(i).as_ref(), row)
    }

    /// Column position: exact name first (no allocation), then case-insensitive.
    fn position(&self, column: &str) -> Option<usize> {
        self.exact
            .get(column)
            .or_else(|| self.index.get(&column.to_lowercase()))
            .copied()
    }

    /// Text of `column` in `row`: character data as is, LOB cells read from `blobs/` and decoded, numbers and
    /// dates printed. NULL gives `None`.
    pub fn text(&self, column: &str, row: usize) -> Option<String> {
        match self.cell(column, row) {
            Cell::Null => None,
            Cell::Text(s) => Some(s),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Float(f) => Some(format_float(f)),
            Cell::Bool(b) => Some(if b { "1" } else { "0" }.into()),
            Cell::Local(t) | Cell::Utc(t) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
            Cell::Bytes(b) => Some(self.decode(column, &b)),
            Cell::Blob { hash, .. } => self
                .source
                .read_blob(&hash)
                .ok()
                .map(|b| self.decode(column, &b)),
        }
    }

    /// Integer value (integers, whole floats and numeric text).
    pub fn int(&self, column: &str, row: usize) -> Option<i64> {
        match self.cell(column, row) {
            Cell::Int(i) => Some(i),
            Cell::Float(f) if f.fract() == 0.0 => Some(f as i64),
            Cell::Bool(b) => Some(b as i64),
            Cell::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Boolean value (bit, 0/1 integers, `true`/`y`/`yes` text).
    pub fn bool(&self, column: &str, row: usize) -> Option<bool> {
        match self.cell(column, row) {
            Cell::Bool(b) => Some(b),
            Cell::Int(i) => Some(i != 0),
            Cell::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "y" | "yes" | "t" => Some(true),
                "0" | "false" | "n" | "no" | "f" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Date-time value: [`Cell::Local`] (wall time) or [`Cell::Utc`]; text in `YYYY-MM-DD HH:MM:SS` form parses as
    /// wall time.
    pub fn time(&self, column: &str, row: usize) -> Cell {
        match self.cell(column, row) {
            c @ (Cell::Local(_) | Cell::Utc(_)) => c,
            Cell::Text(s) => parse_time_text(&s).map(Cell::Local).unwrap_or(Cell::Null),
            _ => Cell::Null,
        }
    }

    fn decode(&self, _column: &str, bytes: &[u8]) -> String {
        // ti-extract stores character LOB cells as UTF-8 text (extract/src/lob.rs); anything else is read as
        // Windows-1252, the code page of Track-It!'s Latin1 collations.
        decode_text_bytes(bytes, false)
    }
}

/// Decodes the bytes of a character LOB: UTF-16LE for n-types, otherwise UTF-8 when valid, else Windows-1252
/// (the Latin1 collations of Track-It! databases).
pub fn decode_text_bytes(bytes: &[u8], utf16: bool) -> String {
    if utf16 {
        let (text, _, _) = encoding_rs::UTF_16LE.decode(bytes);
        return text.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

fn parse_time_text(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
        if fmt == "%Y-%m-%d"
            && let Ok(d) = chrono::NaiveDate::parse_from_str(s, fmt)
        {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

/// Prints a float without a trailing `.0` for whole numbers.
pub fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn string_at(array: &dyn Array, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    if let Some(a) = array.as_string_opt::<i32>() {
        return Some(a.value(row).to_string());
    }
    if let Some(a) = array.as_string_opt::<i64>() {
        return Some(a.value(row).to_string());
    }
    array.as_string_view_opt().map(|a| a.value(row).to_string())
}

fn int_at(array: &dyn Array, row: usize) -> Option<i64> {
    match array_cell(array, row) {
        Cell::Int(i) => Some(i),
        _ => None,
    }
}

fn micros(t: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(t).map(|d| d.naive_utc())
}

fn array_cell(array: &dyn Array, row: usize) -> Cell {
    if array.is_null(row) {
        return Cell::Null;
    }
    macro_rules! prim {
        ($t:ty) => {
            array.as_primitive::<$t>().value(row)
        };
    }
    match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            string_at(array, row).map(Cell::Text).unwrap_or(Cell::Null)
        }
        DataType::Boolean => Cell::Bool(array.as_boolean().value(row)),
        DataType::Int8 => Cell::Int(prim!(Int8Type) as i64),
        DataType::Int16 => Cell::Int(prim!(Int16Type) as i64),
        DataType::Int32 => Cell::Int(prim!(Int32Type) as i64),
        DataType::Int64 => Cell::Int(prim!(Int64Type)),
        DataType::UInt8 => Cell::Int(prim!(UInt8Type) as i64),
        DataType::UInt16 => Cell::Int(prim!(UInt16Type) as i64),
        DataType::UInt32 => Cell::Int(prim!(UInt32Type) as i64),
        DataType::UInt64 => Cell::Int(prim!(UInt64Type) as i64),
        DataType::Float32 => Cell::Float(prim!(Float32Type) as f64),
        DataType::Float64 => Cell::Float(prim!(Float64Type)),
        DataType::Decimal128(_, scale) => {
            let v = prim!(Decimal128Type);
            Cell::Float(v as f64 / 10f64.powi(*scale as i32))
        }
        DataType::Timestamp(unit, tz) => {
            let t = match unit {
                TimeUnit::Second => micros(prim!(TimestampSecondType).saturating_mul(1_000_000)),
                TimeUnit::Millisecond => {
                    micros(prim!(TimestampMillisecondType).saturating_mul(1000))
                }
                TimeUnit::Microsecond => micros(prim!(TimestampMicrosecondType)),
                TimeUnit::Nanosecond => micros(prim!(TimestampNanosecondType) / 1000),
            };
            match (t, tz) {
                (Some(t), Some(_)) => Cell::Utc(t),
                (Some(t), None) => Cell::Local(t),
                (None, _) => Cell::Null,
            }
        }
        DataType::Date32 => {
            let days = array
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(row);
            chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(Cell::Local)
                .unwrap_or(Cell::Null)
        }
        DataType::Binary => Cell::Bytes(array.as_binary::<i32>().value(row).to_vec()),
        DataType::LargeBinary => Cell::Bytes(array.as_binary::<i64>().value(row).to_vec()),
        _ => Cell::Null,
    }
}
