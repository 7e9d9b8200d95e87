//! SQL Server column types, collations and their TDS TYPE_INFO encoding (MS-TDS 2.2.5.4–2.2.5.6).

use encoding_rs::Encoding;

/// A SQL Server collation as TDS sends it: the 4-byte LCID/flags/version word and the sort id, plus the code page
/// used for char/varchar/text (FORMAT.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collation {
    /// LCID (bits 0..20), comparison flags (20..28, incl. fUTF8 = bit 26) and version (28..32).
    pub info: u32,
    /// SQL sort id (non-zero only for `SQL_*` collations).
    pub sort_id: u8,
    /// Code page for single-byte character types; `None` means UTF-8.
    pub encoding: &'static Encoding,
}

impl Collation {
    /// Maps a collation name to its TDS bytes and code page, following FORMAT.md §4. Unknown names fall back to
    /// Windows-1252 with LCID 0x0409 (the realistic default for Track-It! databases).
    pub fn from_name(name: &str) -> Collation {
        let upper = name.to_ascii_uppercase();
        let ci = if upper.contains("_CI") {
            0x0010_0000
        } else {
            0
        };
        let ai = if upper.contains("_AI") {
            0x0020_0000
        } else {
            0
        };
        // SQL Server sets IgnoreKana and IgnoreWidth unless _KS/_WS is given.
        let kana = if upper.contains("_KS") {
            0
        } else {
            0x0040_0000
        };
        let width = if upper.contains("_WS") {
            0
        } else {
            0x0080_0000
        };
        let flags = ci | ai | kana | width;
        if upper.starts_with("SQL_LATIN1_GENERAL_CP1_") {
            let sort = if upper.contains("_CI_AS") {
                52
            } else if upper.contains("_CS_AS") {
                51
            } else {
                54
            };
            return Collation {
                info: 0x0409 | flags,
                sort_id: sort,
                encoding: encoding_rs::WINDOWS_1252,
            };
        }
        let version: u32 = if upper.contains("_140_") {
            3
        } else if upper.contains("_100_") {
            2
        } else if upper.contains("_90_") {
            1
        } else {
            0
        };
        let (lcid, enc): (u32, &'static Encoding) = if upper.starts_with("CYRILLIC_GENERAL") {
            (0x0419, encoding_rs::WINDOWS_1251)
        } else if upper.starts_with("CHINESE_PRC") {
            (0x0804, encoding_rs::GBK)
        } else if upper.starts_with("JAPANESE") {
            (0x0411, encoding_rs::SHIFT_JIS)
        } else {
            (0x0409, encoding_rs::WINDOWS_1252)
        };
        let (utf8_flag, enc) = if upper.contains("_UTF8") {
            (0x0400_0000, encoding_rs::UTF_8)
        } else {
            (0, enc)
        };
        Collation {
            info: lcid | flags | utf8_flag | (version << 28),
            sort_id: 0,
            encoding: enc,
        }
    }

    /// The 5 bytes TDS sends for this collation.
    pub fn bytes(&self) -> [u8; 5] {
        let i = self.info.to_le_bytes();
        [i[0], i[1], i[2], i[3], self.sort_id]
    }
}

/// Length of a variable-length type: a number of characters/bytes, or `(max)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// Declared length (characters for char types, bytes for binary).
    N(u16),
    /// `(max)`: sent as PLP.
    Max,
}

/// A SQL Server data type as this server sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum SqlType {
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Bit,
    Real,
    Float,
    /// decimal/numeric(precision, scale).
    Decimal(u8, u8),
    Money,
    SmallMoney,
    DateTime,
    SmallDateTime,
    Date,
    /// time(scale).
    Time(u8),
    /// datetime2(scale).
    DateTime2(u8),
    /// datetimeoffset(scale).
    DateTimeOffset(u8),
    Guid,
    Char(u16, Collation),
    VarChar(Len, Collation),
    Text(Collation),
    NChar(u16, Collation),
    NVarChar(Len, Collation),
    NText(Collation),
    Binary(u16),
    VarBinary(Len),
    Image,
    Xml,
}

/// How a value of a type is turned into bytes by `CAST(x AS varbinary)` / `DATALENGTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteForm {
    /// Characters encoded in a single/multi-byte code page.
    CodePage(&'static Encoding),
    /// UTF-16LE (n-types, xml).
    Utf16,
    /// Binary: the stored bytes.
    Raw,
    /// A fixed-size type of this many bytes.
    Fixed(u8),
}

impl SqlType {
    /// Parses a catalog type (FORMAT.md §2 `_ti_columns`) into a type. `coll` is the column's collation.
    pub fn from_catalog(
        data_type: &str,
        max_length: Option<i64>,
        precision: Option<i64>,
        scale: Option<i64>,
        coll: Collation,
    ) -> Option<SqlType> {
        let len = |default: u16| match max_length {
            Some(-1) => Len::Max,
            Some(n) if (1..=8000).contains(&n) => Len::N(n as u16),
            _ => Len::N(default),
        };
        let n = |default: u16| match len(default) {
            Len::N(n) => n,
            Len::Max => default,
        };
        let sc = scale.unwrap_or(7).clamp(0, 7) as u8;
        Some(match data_type.to_ascii_lowercase().as_str() {
            "tinyint" => SqlType::TinyInt,
            "smallint" => SqlType::SmallInt,
            "int" => SqlType::Int,
            "bigint" => SqlType::BigInt,
            "bit" => SqlType::Bit,
            "real" => SqlType::Real,
            "float" => SqlType::Float,
            "decimal" | "numeric" => {
                let p = precision.unwrap_or(18).clamp(1, 38) as u8;
                SqlType::Decimal(p, scale.unwrap_or(0).clamp(0, p as i64) as u8)
            }
            "money" => SqlType::Money,
            "smallmoney" => SqlType::SmallMoney,
            "datetime" => SqlType::DateTime,
            "smalldatetime" => SqlType::SmallDateTime,
            "date" => SqlType::Date,
            "time" => SqlType::Time(sc),
            "datetime2" => SqlType::DateTime2(sc),
            "datetimeoffset" => SqlType::DateTimeOffset(sc),
            "uniqueidentifier" => SqlType::Guid,
            "char" => SqlType::Char(n(1), coll),
            "varchar" => SqlType::VarChar(len(1), coll),
            "text" => SqlType::Text(coll),
            "nchar" => SqlType::NChar(n(1), coll),
            "nvarchar" => SqlType::NVarChar(len(1), coll),
            "ntext" => SqlType::NText(coll),
            "binary" => SqlType::Binary(n(1)),
            "varbinary" => SqlType::VarBinary(len(1)),
            "image" => SqlType::Image,
            "xml" => SqlType::Xml,
            _ => return None,
        })
    }

    /// The collation of a character type.
    pub fn collation(&self) -> Option<Collation> {
        match *self {
            SqlType::Char(_, c)
            | SqlType::VarChar(_, c)
            | SqlType::Text(c)
            | SqlType::NChar(_, c)
            | SqlType::NVarChar(_, c)
            | SqlType::NText(c) => Some(c),
            _ => None,
        }
    }

    /// True for the (max) types, text/ntext/image and xml (DATALENGTH of these is bigint for (max)).
    pub fn is_max(&self) -> bool {
        matches!(
            self,
            SqlType::VarChar(Len::Max, _)
                | SqlType::NVarChar(Len::Max, _)
                | SqlType::VarBinary(Len::Max)
                | SqlType::Xml
        )
    }

    /// True for character and binary types (anything DATALENGTH/SUBSTRING measure in stored bytes).
    pub fn byte_form(&self) -> ByteForm {
        match *self {
            SqlType::Char(_, c) | SqlType::VarChar(_, c) | SqlType::Text(c) => {
                ByteForm::CodePage(c.encoding)
            }
            SqlType::NChar(..) | SqlType::NVarChar(..) | SqlType::NText(_) | SqlType::Xml => {
                ByteForm::Utf16
            }
            SqlType::Binary(_) | SqlType::VarBinary(_) | SqlType::Image => ByteForm::Raw,
            other => ByteForm::Fixed(other.fixed_size()),
        }
    }

    /// Storage size in bytes of a fixed-size type (DATALENGTH).
    fn fixed_size(&self) -> u8 {
        match *self {
            SqlType::TinyInt | SqlType::Bit => 1,
            SqlType::SmallInt => 2,
            SqlType::Int | SqlType::Real | SqlType::SmallMoney | SqlType::SmallDateTime => 4,
            SqlType::BigInt | SqlType::Float | SqlType::Money | SqlType::DateTime => 8,
            SqlType::Decimal(p, _) => 1 + decimal_bytes(p),
            SqlType::Date => 3,
            SqlType::Time(s) => time_bytes(s),
            SqlType::DateTime2(s) => time_bytes(s) + 3,
            SqlType::DateTimeOffset(s) => time_bytes(s) + 5,
            SqlType::Guid => 16,
            _ => 0,
        }
    }

    /// True for the legacy LOB types that carry a table name in COLMETADATA and text pointers in rows.
    pub fn is_legacy_lob(&self) -> bool {
        matches!(self, SqlType::Text(_) | SqlType::NText(_) | SqlType::Image)
    }

    /// Writes TYPE_INFO (MS-TDS 2.2.5.6). SQL Server sends fixed-length types for NOT NULL columns of int, bit,
    /// float, money and datetime families and the nullable `*N` form otherwise.
    pub fn write_type_info(&self, nullable: bool, out: &mut Vec<u8>) {
        let fixed_or_n = |out: &mut Vec<u8>, fixed: u8, n: u8, len: u8| {
            if nullable {
                out.extend_from_slice(&[n, len]);
            } else {
                out.push(fixed);
            }
        };
        let coll = |out: &mut Vec<u8>, c: &Collation| out.extend_from_slice(&c.bytes());
        match self {
            SqlType::TinyInt => fixed_or_n(out, 0x30, 0x26, 1),
            SqlType::SmallInt => fixed_or_n(out, 0x34, 0x26, 2),
            SqlType::Int => fixed_or_n(out, 0x38, 0x26, 4),
            SqlType::BigInt => fixed_or_n(out, 0x7F, 0x26, 8),
            SqlType::Bit => fixed_or_n(out, 0x32, 0x68, 1),
            SqlType::Real => fixed_or_n(out, 0x3B, 0x6D, 4),
            SqlType::Float => fixed_or_n(out, 0x3E, 0x6D, 8),
            SqlType::Money => fixed_or_n(out, 0x3C, 0x6E, 8),
            SqlType::SmallMoney => fixed_or_n(out, 0x7A, 0x6E, 4),
            SqlType::DateTime => fixed_or_n(out, 0x3D, 0x6F, 8),
            SqlType::SmallDateTime => fixed_or_n(out, 0x3A, 0x6F, 4),
            SqlType::Decimal(p, s) => out.extend_from_slice(&[0x6A, 1 + decimal_bytes(*p), *p, *s]),
            SqlType::Date => out.push(0x28),
            SqlType::Time(s) => out.extend_from_slice(&[0x29, *s]),
            SqlType::DateTime2(s) => out.extend_from_slice(&[0x2A, *s]),
            SqlType::DateTimeOffset(s) => out.extend_from_slice(&[0x2B, *s]),
            SqlType::Guid => out.extend_from_slice(&[0x24, 16]),
            SqlType::Char(n, c) => {
                out.push(0xAF);
                out.extend_from_slice(&char_bytes(*n, c).to_le_bytes());
                coll(out, c);
            }
            SqlType::VarChar(l, c) => {
                out.push(0xA7);
                out.extend_from_slice(&len_u16(*l, |n| char_bytes(n, c)).to_le_bytes());
                coll(out, c);
            }
            SqlType::NChar(n, c) => {
                out.push(0xEF);
                out.extend_from_slice(&(n.saturating_mul(2)).to_le_bytes());
                coll(out, c);
            }
            SqlType::NVarChar(l, c) => {
                out.push(0xE7);
                out.extend_from_slice(&len_u16(*l, |n| n.saturating_mul(2)).to_le_bytes());
                coll(out, c);
            }
            SqlType::Binary(n) => {
                out.push(0xAD);
                out.extend_from_slice(&n.to_le_bytes());
            }
            SqlType::VarBinary(l) => {
                out.push(0xA5);
                out.extend_from_slice(&len_u16(*l, |n| n).to_le_bytes());
            }
            SqlType::Text(c) => {
                out.push(0x23);
                out.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
                coll(out, c);
            }
            SqlType::NText(c) => {
                out.push(0x63);
                out.extend_from_slice(&0x7FFF_FFFEu32.to_le_bytes());
                coll(out, c);
            }
            SqlType::Image => {
                out.push(0x22);
                out.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
            }
            SqlType::Xml => out.extend_from_slice(&[0xF1, 0]),
        }
    }

    /// Name as INFORMATION_SCHEMA / error messages print it.
    pub fn name(&self) -> &'static str {
        match self {
            SqlType::TinyInt => "tinyint",
            SqlType::SmallInt => "smallint",
            SqlType::Int => "int",
            SqlType::BigInt => "bigint",
            SqlType::Bit => "bit",
            SqlType::Real => "real",
            SqlType::Float => "float",
            SqlType::Decimal(..) => "decimal",
            SqlType::Money => "money",
            SqlType::SmallMoney => "smallmoney",
            SqlType::DateTime => "datetime",
            SqlType::SmallDateTime => "smalldatetime",
            SqlType::Date => "date",
            SqlType::Time(_) => "time",
            SqlType::DateTime2(_) => "datetime2",
            SqlType::DateTimeOffset(_) => "datetimeoffset",
            SqlType::Guid => "uniqueidentifier",
            SqlType::Char(..) => "char",
            SqlType::VarChar(..) => "varchar",
            SqlType::Text(_) => "text",
            SqlType::NChar(..) => "nchar",
            SqlType::NVarChar(..) => "nvarchar",
            SqlType::NText(_) => "ntext",
            SqlType::Binary(_) => "binary",
            SqlType::VarBinary(_) => "varbinary",
            SqlType::Image => "image",
            SqlType::Xml => "xml",
        }
    }
}

/// Bytes of a varchar(n)/char(n) column in TYPE_INFO (n bytes; UTF-8 collations too, as SQL Server 2019 does).
fn char_bytes(n: u16, _c: &Collation) -> u16 {
    n
}

fn len_u16(l: Len, f: impl Fn(u16) -> u16) -> u16 {
    match l {
        Len::N(n) => f(n).min(8000),
        Len::Max => 0xFFFF,
    }
}

/// Magnitude bytes for a decimal of this precision (MS-TDS 2.2.5.5.1.6).
pub fn decimal_bytes(p: u8) -> u8 {
    match p {
        0..=9 => 4,
        10..=19 => 8,
        20..=28 => 12,
        _ => 16,
    }
}

/// Bytes of a time value at this scale (MS-TDS 2.2.5.5.1.8).
pub fn time_bytes(s: u8) -> u8 {
    match s {
        0..=2 => 3,
        3..=4 => 4,
        _ => 5,
    }
}

/// How a result cell is derived from the value SQLite returns for it. The translator selects the plain column
/// and leaves the conversion to the row encoder when a select-list item is one of these forms applied to a plain
/// column (the extractor's select list is made of them), instead of calling a `ti_*` SQLite function per cell.
/// The result is the same bytes either way (`values::write_cell`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conv {
    /// The value as SQLite returns it.
    #[default]
    None,
    /// `CAST(c AS varbinary(..)/binary(..))`: the column's bytes in this form (`ti_bin`).
    Bytes(ByteForm),
    /// `CASE WHEN DATALENGTH(c) > max THEN NULL ELSE CAST(c AS varbinary(max)) END` (or `ELSE c` for a binary
    /// column): the bytes, or NULL when there are more than `max` of them.
    BytesUpTo(ByteForm, i64),
    /// `DATALENGTH(c)` (`ti_len`).
    Length(ByteForm),
}

/// One result column: name, type and nullability, plus the table name legacy LOBs carry.
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name sent in COLMETADATA (empty for unnamed expressions, as SQL Server does).
    pub name: String,
    /// Type sent.
    pub ty: SqlType,
    /// Nullability flag sent.
    pub nullable: bool,
    /// `(schema, table)` for text/ntext/image columns.
    pub table: Option<(String, String)>,
    /// Conversion the row encoder applies to the SQLite value.
    pub conv: Conv,
}
