//! One column's Arrow builders (the column and its siblings) filled from tiberius values, finished into arrays
//! once per row group. Memory is one row group's worth of cells.

use super::text::{TextEncoding, decode};
use super::{ColKind, kind_of, temporal, text_encoding};
use crate::inventory::ColumnInfo;
use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder, UInt8Builder,
};
use arrow_array::new_null_array;
use arrow_array::{ArrayRef, Int64Array, StringArray};
use arrow_schema::DataType;
use std::sync::Arc;
use tiberius::ColumnData;

enum Main {
    Bool(BooleanBuilder),
    U8(UInt8Builder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Dec(Decimal128Builder),
    Ts(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Utf8(StringBuilder),
    Bin(BinaryBuilder),
}

/// What happened to one cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The cell is larger than the in-row threshold: its bytes (this many) must be fetched into `blobs/`
    /// and recorded with [`ColumnBuffer::set_blob`].
    pub lob_pending: Option<i64>,
    /// The character value could not be decoded; the original bytes were kept in `__raw`.
    pub raw: bool,
    /// A seventh fractional digit was rounded to the microsecond.
    pub rounded: bool,
    /// A value of an unsupported type was stored as text.
    pub as_text: bool,
}

/// `__blake3` and `__bytes` of a LOB column, patched once the large cells of a page are stored.
type LobSiblings = (Vec<Option<String>>, Vec<Option<i64>>);

/// `__raw` of a character column. It is NULL for nearly every cell, so NULLs are only counted until the first
/// undecodable value creates the builder (two fewer builder calls per character cell); an all-NULL column
/// finishes as a NULL array, which Parquet writes exactly like a builder's all-NULL array.
#[derive(Default)]
struct RawColumn {
    leading_nulls: usize,
    builder: Option<BinaryBuilder>,
}

impl RawColumn {
    fn push_null(&mut self) {
        match &mut self.builder {
            Some(b) => b.append_null(),
            None => self.leading_nulls += 1,
        }
    }

    fn push(&mut self, value: &[u8]) {
        let nulls = std::mem::take(&mut self.leading_nulls);
        self.builder
            .get_or_insert_with(|| {
                let mut b = BinaryBuilder::new();
                b.append_nulls(nulls);
                b
            })
            .append_value(value);
    }

    fn finish(&mut self) -> ArrayRef {
        match self.builder.take() {
            Some(mut b) => Arc::new(b.finish()),
            None => new_null_array(&DataType::Binary, std::mem::take(&mut self.leading_nulls)),
        }
    }
}

/// Builders of one source column and its siblings.
pub struct ColumnBuffer {
    name: String,
    kind: ColKind,
    scale: i8,
    enc: Option<TextEncoding>,
    main: Main,
    raw: Option<RawColumn>,
    offset: Option<Int16Builder>,
    lob: Option<LobSiblings>,
    bytes: usize,
}

impl ColumnBuffer {
    /// Empty builders for `col`.
    pub fn new(col: &ColumnInfo, default_collation: &str) -> Self {
        let kind = kind_of(col);
        let main = match kind {
            ColKind::Bool => Main::Bool(BooleanBuilder::new()),
            ColKind::U8 => Main::U8(UInt8Builder::new()),
            ColKind::I16 => Main::I16(Int16Builder::new()),
            ColKind::I32 => Main::I32(Int32Builder::new()),
            ColKind::I64 => Main::I64(Int64Builder::new()),
            ColKind::F32 => Main::F32(Float32Builder::new()),
            ColKind::F64 => Main::F64(Float64Builder::new()),
            ColKind::Decimal {
                precision, scale, ..
            } => Main::Dec(
                Decimal128Builder::new()
                    .with_precision_and_scale(precision, scale)
                    .unwrap_or_else(|_| Decimal128Builder::new()),
            ),
            ColKind::Timestamp => Main::Ts(TimestampMicrosecondBuilder::new()),
            ColKind::DateTimeOffset => {
                Main::Ts(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            ColKind::Date => Main::Date(Date32Builder::new()),
            ColKind::Time => Main::Time(Time64MicrosecondBuilder::new()),
            ColKind::Text { .. } | ColKind::Guid | ColKind::Other => {
                Main::Utf8(StringBuilder::new())
            }
            ColKind::Binary => Main::Bin(BinaryBuilder::new()),
        };
        let is_text = matches!(kind, ColKind::Text { .. });
        let scale = match kind {
            ColKind::Decimal { scale, .. } => scale,
            _ => 0,
        };
        ColumnBuffer {
            name: col.name.clone(),
            kind,
            scale,
            enc: is_text.then(|| text_encoding(col, default_collation)),
            main,
            raw: is_text.then(RawColumn::default),
            offset: (kind == ColKind::DateTimeOffset).then(Int16Builder::new),
            lob: col.is_lob().then(|| (Vec::new(), Vec::new())),
            bytes: 0,
        }
    }

    /// The source column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Approximate bytes buffered (to close a row group before it grows past its byte budget).
    pub fn approx_bytes(&self) -> usize {
        self.bytes
    }

    /// The text encoding of a character column (for LOB cells streamed to blobs).
    pub fn text_encoding(&self) -> Option<TextEncoding> {
        self.enc
    }

    /// Appends one cell. `lob_len` is the cell's `DATALENGTH` for LOB columns (the `__bytes` select item); a
    /// NULL cell with a length is a cell over the in-row threshold, to be fetched later.
    ///
    /// # Errors
    /// A message when the value does not have the column's shape (a server answering with another type).
    pub fn push(
        &mut self,
        data: ColumnData<'static>,
        lob_len: Option<i64>,
    ) -> Result<Pushed, String> {
        let mut out = Pushed::default();
        self.bytes += 8;
        if let Some((hashes, lens)) = &mut self.lob {
            let null_cell = is_null(&data);
            if null_cell && lob_len.is_some() {
                out.lob_pending = lob_len;
            }
            hashes.push(None);
            lens.push(None);
        }
        let bad = |what: &str| {
            format!(
                "column {}: expected {what}, got {}",
                self.name,
                variant_name(&data)
            )
        };
        match (&mut self.main, self.kind) {
            (Main::Bool(b), _) => match data {
                ColumnData::Bit(v) => b.append_option(v),
                ColumnData::U8(v) => b.append_option(v.map(|x| x != 0)),
                _ => return Err(bad("bit")),
            },
            (Main::U8(b), _) => b.append_option(int_of(&data).map(|v| v as u8)),
            (Main::I16(b), _) => b.append_option(int_of(&data).map(|v| v as i16)),
            (Main::I32(b), _) => b.append_option(int_of(&data).map(|v| v as i32)),
            (Main::I64(b), _) => b.append_option(int_of(&data)),
            (Main::F32(b), _) => match data {
                ColumnData::F32(v) => b.append_option(v),
                ColumnData::F64(v) => b.append_option(v.map(|x| x as f32)),
                _ => return Err(bad("real")),
            },
            (Main::F64(b), _) => match data {
                ColumnData::F64(v) => b.append_option(v),
                ColumnData::F32(v) => b.append_option(v.map(f64::from)),
                _ => return Err(bad("float")),
            },
            (Main::Dec(b), _) => match data {
                ColumnData::Numeric(None) => b.append_null(),
                ColumnData::Numeric(Some(n)) => {
                    let (v, s) = (n.value(), i32::from(n.scale()));
                    let want = i32::from(self.scale);
                    let v = if s == want {
                        Some(v)
                    } else if s < want {
                        v.checked_mul(10i128.pow((want - s) as u32))
                    } else {
                        let d = 10i128.pow((s - want) as u32);
                        (v % d == 0).then(|| v / d)
                    };
                    b.append_value(v.ok_or_else(|| {
                        format!("column {}: decimal scale {s} does not fit", self.name)
                    })?);
                }
                _ => return Err(bad("decimal")),
            },
            (Main::Ts(b), ColKind::DateTimeOffset) => match data {
                ColumnData::DateTimeOffset(v) => {
                    let off = self.offset.as_mut().expect("dto has an offset builder");
                    match v {
                        Some(dto) => {
                            let (us, r) = temporal::datetime2_micros(dto.datetime2());
                            out.rounded = r;
                            b.append_value(us);
                            off.append_value(dto.offset());
                        }
                        None => {
                            b.append_null();
                            off.append_null();
                        }
                    }
                }
                _ => return Err(bad("datetimeoffset")),
            },
            (Main::Ts(b), _) => match data {
                ColumnData::DateTime(v) => b.append_option(v.map(temporal::datetime_micros)),
                ColumnData::SmallDateTime(v) => {
                    b.append_option(v.map(temporal::smalldatetime_micros))
                }
                ColumnData::DateTime2(v) => b.append_option(v.map(|d| {
                    let (us, r) = temporal::datetime2_micros(d);
                    out.rounded = r;
                    us
                })),
                _ => return Err(bad("datetime")),
            },
            (Main::Date(b), _) => match data {
                ColumnData::Date(v) => b.append_option(v.map(temporal::date_days)),
                _ => return Err(bad("date")),
            },
            (Main::Time(b), _) => match data {
                ColumnData::Time(v) => b.append_option(v.map(|t| {
                    let (us, r) = temporal::time_micros(t);
                    out.rounded = r;
                    us
                })),
                _ => return Err(bad("time")),
            },
            (Main::Utf8(b), ColKind::Text { .. }) => {
                let raw = self.raw.as_mut().expect("text has a raw builder");
                let bytes: Option<Vec<u8>> = match data {
                    ColumnData::Binary(v) => v.map(|c| c.into_owned()),
                    // A server that sent text instead of the requested varbinary: already decoded.
                    ColumnData::String(v) => v.map(|s| s.into_owned().into_bytes()),
                    _ => return Err(bad("varbinary")),
                };
                match bytes {
                    None => {
                        b.append_null();
                        raw.push_null();
                    }
                    Some(bytes) => {
                        let (text, lossy) = decode(&bytes, self.enc.expect("text has an encoding"));
                        self.bytes += text.len();
                        b.append_value(&text);
                        if lossy {
                            self.bytes += bytes.len();
                            raw.push(&bytes);
                            out.raw = true;
                        } else {
                            raw.push_null();
                        }
                    }
                }
            }
            (Main::Utf8(b), ColKind::Guid) => match data {
                ColumnData::Guid(v) => b.append_option(v.map(|g| g.to_string().to_uppercase())),
                ColumnData::String(v) => b.append_option(v.map(|s| s.to_uppercase())),
                _ => return Err(bad("uniqueidentifier")),
            },
            (Main::Utf8(b), _) => {
                let text = other_text(&data);
                out.as_text = text.is_some();
                self.bytes += text.as_ref().map_or(0, String::len);
                b.append_option(text);
            }
            (Main::Bin(b), _) => match data {
                ColumnData::Binary(v) => {
                    self.bytes += v.as_ref().map_or(0, |c| c.len());
                    b.append_option(v.as_deref());
                }
                _ => return Err(bad("binary")),
            },
        }
        Ok(out)
    }

    /// The original bytes of the last cell pushed into `__raw` (the last undecodable character value), if any.
    pub fn last_raw(&self) -> Option<&[u8]> {
        let raw = self.raw.as_ref()?.builder.as_ref()?;
        let offsets = raw.offsets_slice();
        let (start, end) = match offsets {
            [.., a, b] if b > a => (*a as usize, *b as usize),
            _ => return None,
        };
        raw.values_slice().get(start..end)
    }

    /// Records that row `row` (0-based within the buffered rows) of this LOB column lives in `blobs/`.
    pub fn set_blob(&mut self, row: usize, blake3: String, bytes: i64) {
        if let Some((hashes, lens)) = &mut self.lob
            && row < hashes.len()
        {
            hashes[row] = Some(blake3);
            lens[row] = Some(bytes);
        }
    }

    /// Records the length of row `row`'s LOB cell that was not read (keyless cap): `__bytes` set, `__blake3`
    /// and the cell stay NULL.
    pub fn set_length(&mut self, row: usize, bytes: i64) {
        if let Some((_, lens)) = &mut self.lob
            && row < lens.len()
        {
            lens[row] = Some(bytes);
        }
    }

    /// Finishes the buffered rows into arrays in field order (see [`super::fields`]) and empties the builders.
    pub fn finish(&mut self) -> Vec<ArrayRef> {
        self.bytes = 0;
        let mut out: Vec<ArrayRef> = vec![match &mut self.main {
            Main::Bool(b) => Arc::new(b.finish()),
            Main::U8(b) => Arc::new(b.finish()),
            Main::I16(b) => Arc::new(b.finish()),
            Main::I32(b) => Arc::new(b.finish()),
            Main::I64(b) => Arc::new(b.finish()),
            Main::F32(b) => Arc::new(b.finish()),
            Main::F64(b) => Arc::new(b.finish()),
            Main::Dec(b) => Arc::new(b.finish()),
            Main::Ts(b) => Arc::new(b.finish()),
            Main::Date(b) => Arc::new(b.finish()),
            Main::Time(b) => Arc::new(b.finish()),
            Main::Utf8(b) => Arc::new(b.finish()),
            Main::Bin(b) => Arc::new(b.finish()),
        }];
        if let Some(raw) = &mut self.raw {
            out.push(raw.finish());
        }
        if let Some(off) = &mut self.offset {
            out.push(Arc::new(off.finish()));
        }
        if let Some((hashes, lens)) = &mut self.lob {
            out.push(Arc::new(StringArray::from(std::mem::take(hashes))));
            out.push(Arc::new(Int64Array::from(std::mem::take(lens))));
        }
        out
    }
}

fn is_null(data: &ColumnData<'_>) -> bool {
    match data {
        ColumnData::Binary(v) => v.is_none(),
        ColumnData::String(v) => v.is_none(),
        ColumnData::Xml(v) => v.is_none(),
        _ => false,
    }
}

fn int_of(data: &ColumnData<'_>) -> Option<i64> {
    crate::cells::int(data)
}

fn other_text(data: &ColumnData<'_>) -> Option<String> {
    match data {
        ColumnData::F32(v) => v.map(|x| x.to_string()),
        ColumnData::F64(v) => v.map(|x| x.to_string()),
        ColumnData::Numeric(v) => v.map(|n| n.to_string()),
        ColumnData::Binary(v) => v
            .as_ref()
            .map(|b| b.iter().map(|x| format!("{x:02X}")).collect()),
        other => crate::cells::text(other),
    }
}

fn variant_name(data: &ColumnData<'_>) -> &'static str {
    match data {
        ColumnData::U8(_) => "tinyint",
        ColumnData::I16(_) => "smallint",
        ColumnData::I32(_) => "int",
        ColumnData::I64(_) => "bigint",
        ColumnData::F32(_) => "real",
        ColumnData::F64(_) => "float",
        ColumnData::Bit(_) => "bit",
        ColumnData::String(_) => "string",
        ColumnData::Guid(_) => "guid",
        ColumnData::Binary(_) => "binary",
        ColumnData::Numeric(_) => "numeric",
        ColumnData::Xml(_) => "xml",
        ColumnData::DateTime(_) => "datetime",
        ColumnData::SmallDateTime(_) => "smalldatetime",
        ColumnData::Time(_) => "time",
        ColumnData::Date(_) => "date",
        ColumnData::DateTime2(_) => "datetime2",
        ColumnData::DateTimeOffset(_) => "datetimeoffset",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, BinaryArray, Decimal128Array, StringArray};
    use tiberius::numeric::Numeric;

    fn col(name: &str, ty: &str, precision: Option<i64>, scale: Option<i64>) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            data_type: ty.into(),
            max_length: None,
            precision,
            scale,
            nullable: true,
            collation: None,
        }
    }

    #[test]
    fn decimals_are_rescaled_to_the_declared_scale_without_float() {
        let mut b = ColumnBuffer::new(
            &col("D", "decimal", Some(10), Some(4)),
            "SQL_Latin1_General_CP1_CI_AS",
        );
        b.push(
            ColumnData::Numeric(Some(Numeric::new_with_scale(12345, 2))),
            None,
        )
        .unwrap();
        b.push(ColumnData::Numeric(None), None).unwrap();
        assert!(
            b.push(
                ColumnData::Numeric(Some(Numeric::new_with_scale(1, 6))),
                None
            )
            .is_err()
        );
        let arrays = b.finish();
        let d = arrays[0]
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap();
        assert_eq!(d.value_as_string(0), "123.4500");
        assert!(d.is_null(1));
    }

    #[test]
    fn text_keeps_null_empty_and_raw_apart() {
        let mut b = ColumnBuffer::new(
            &col("T", "nvarchar", None, None),
            "SQL_Latin1_General_CP1_CI_AS",
        );
        b.push(ColumnData::Binary(None), None).unwrap();
        b.push(ColumnData::Binary(Some(Vec::new().into())), None)
            .unwrap();
        let p = b
            .push(ColumnData::Binary(Some(vec![0x3D, 0xD8].into())), None)
            .unwrap();
        assert!(p.raw);
        assert!(
            b.push(ColumnData::I32(Some(1)), None).is_err(),
            "a wrong shape is an error, not a panic"
        );
        let arrays = b.finish();
        let t = arrays[0].as_any().downcast_ref::<StringArray>().unwrap();
        let raw = arrays[1].as_any().downcast_ref::<BinaryArray>().unwrap();
        assert!(t.is_null(0));
        assert_eq!(t.value(1), "");
        assert_eq!(t.value(2), "\u{FFFD}");
        assert_eq!((raw.null_count(), raw.value(2)), (2, &[0x3D, 0xD8][..]));
    }
}
