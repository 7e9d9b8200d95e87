//! SQL Server types → Arrow types (DESIGN.md §4, docs/bundle-format.md "Parquet conventions"), and the
//! decoding of tiberius values into Arrow builders.
//!
//! - [`text`]: code pages by collation, UTF-16, lossy decoding kept raw;
//! - [`temporal`]: datetime family → µs;
//! - [`buffer`]: per-column builders with their sibling columns (`__raw`, `__offset_minutes`, `__blake3`,
//!   `__bytes`).

pub mod buffer;
pub mod temporal;
pub mod text;

use crate::inventory::ColumnInfo;
use arrow_schema::{DataType, Field, TimeUnit};
use std::collections::HashMap;
use text::TextEncoding;

/// How one source column is read and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    /// bit → Boolean.
    Bool,
    /// tinyint → UInt8.
    U8,
    /// smallint → Int16.
    I16,
    /// int → Int32.
    I32,
    /// bigint → Int64.
    I64,
    /// real → Float32.
    F32,
    /// float → Float64.
    F64,
    /// decimal, numeric, money, smallmoney → Decimal128(precision, scale). Money is cast to decimal(19,4) in
    /// the query because tiberius decodes money as f64.
    Decimal {
        /// Declared precision (19 for money, 10 for smallmoney).
        precision: u8,
        /// Declared scale (4 for money).
        scale: i8,
        /// money or smallmoney.
        money: bool,
    },
    /// datetime, smalldatetime, datetime2 → Timestamp(µs), wall time without zone.
    Timestamp,
    /// datetimeoffset → Timestamp(µs, UTC) + `__offset_minutes`.
    DateTimeOffset,
    /// date → Date32.
    Date,
    /// time → Time64(µs).
    Time,
    /// Character types → Utf8 (+ `__raw`), fetched as varbinary.
    Text {
        /// UTF-16 (n-types, xml) or a code page.
        utf16: bool,
    },
    /// uniqueidentifier → Utf8, upper case as `CONVERT(char(36), …)` prints it.
    Guid,
    /// binary, varbinary, image, timestamp/rowversion → Binary.
    Binary,
    /// Anything else (sql_variant, hierarchyid, geography, …): tiberius's value printed as text, reported.
    Other,
}

/// The kind of a column, from its SQL Server type.
pub fn kind_of(col: &ColumnInfo) -> ColKind {
    let p = |d: i64| col.precision.unwrap_or(d).clamp(1, 38) as u8;
    let s = |d: i64| col.scale.unwrap_or(d).clamp(0, 38) as i8;
    match col.data_type.as_str() {
        "bit" => ColKind::Bool,
        "tinyint" => ColKind::U8,
        "smallint" => ColKind::I16,
        "int" => ColKind::I32,
        "bigint" => ColKind::I64,
        "real" => ColKind::F32,
        "float" => ColKind::F64,
        "decimal" | "numeric" => ColKind::Decimal {
            precision: p(18),
            scale: s(0),
            money: false,
        },
        "money" => ColKind::Decimal {
            precision: 19,
            scale: 4,
            money: true,
        },
        "smallmoney" => ColKind::Decimal {
            precision: 10,
            scale: 4,
            money: true,
        },
        "datetime" | "smalldatetime" | "datetime2" => ColKind::Timestamp,
        "datetimeoffset" => ColKind::DateTimeOffset,
        "date" => ColKind::Date,
        "time" => ColKind::Time,
        "char" | "varchar" | "text" => ColKind::Text { utf16: false },
        "nchar" | "nvarchar" | "ntext" | "xml" => ColKind::Text { utf16: true },
        "uniqueidentifier" => ColKind::Guid,
        "binary" | "varbinary" | "image" | "timestamp" | "rowversion" => ColKind::Binary,
        _ => ColKind::Other,
    }
}

/// The text encoding of a character column: UTF-16 for n-types, else the code page of its collation (or of
/// `default_collation`).
pub fn text_encoding(col: &ColumnInfo, default_collation: &str) -> TextEncoding {
    match kind_of(col) {
        ColKind::Text { utf16: true } => TextEncoding::Utf16,
        _ => TextEncoding::CodePage(text::encoding_for_collation(
            col.collation.as_deref().unwrap_or(default_collation),
        )),
    }
}

/// The Arrow type of the main column.
pub fn arrow_type(kind: ColKind) -> DataType {
    match kind {
        ColKind::Bool => DataType::Boolean,
        ColKind::U8 => DataType::UInt8,
        ColKind::I16 => DataType::Int16,
        ColKind::I32 => DataType::Int32,
        ColKind::I64 => DataType::Int64,
        ColKind::F32 => DataType::Float32,
        ColKind::F64 => DataType::Float64,
        ColKind::Decimal {
            precision, scale, ..
        } => DataType::Decimal128(precision, scale),
        ColKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        ColKind::DateTimeOffset => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColKind::Date => DataType::Date32,
        ColKind::Time => DataType::Time64(TimeUnit::Microsecond),
        ColKind::Text { .. } | ColKind::Guid | ColKind::Other => DataType::Utf8,
        ColKind::Binary => DataType::Binary,
    }
}

/// The Arrow fields of one source column: the column itself (metadata `sqlserver.type`,
/// `sqlserver.collation`), then its siblings in this order: `__raw`, `__offset_minutes`, `__blake3`, `__bytes`.
pub fn fields(col: &ColumnInfo, default_collation: &str) -> Vec<Field> {
    let kind = kind_of(col);
    let mut meta = HashMap::from([("sqlserver.type".to_string(), col.sql_type())]);
    if matches!(kind, ColKind::Text { .. }) && col.data_type != "xml" {
        meta.insert(
            "sqlserver.collation".into(),
            col.collation
                .clone()
                .unwrap_or_else(|| default_collation.into()),
        );
    }
    let mut out = vec![Field::new(&col.name, arrow_type(kind), true).with_metadata(meta)];
    if matches!(kind, ColKind::Text { .. }) {
        out.push(Field::new(
            format!("{}__raw", col.name),
            DataType::Binary,
            true,
        ));
    }
    if kind == ColKind::DateTimeOffset {
        out.push(Field::new(
            format!("{}__offset_minutes", col.name),
            DataType::Int16,
            true,
        ));
    }
    if col.is_lob() {
        out.push(Field::new(
            format!("{}__blake3", col.name),
            DataType::Utf8,
            true,
        ));
        out.push(Field::new(
            format!("{}__bytes", col.name),
            DataType::Int64,
            true,
        ));
    }
    out
}

/// The Arrow schema of a table's parts.
pub fn schema(columns: &[ColumnInfo], default_collation: &str) -> arrow_schema::Schema {
    arrow_schema::Schema::new(
        columns
            .iter()
            .flat_map(|c| fields(c, default_collation))
            .collect::<Vec<_>>(),
    )
}
