//! `dbo.zz_type_probe` (PLACEHOLDER): one row per extreme value of a SQL Server type that the Track-It!
//! tables themselves do not use. Every other column of a row is NULL; the README lists the rows.

use super::GenError;
use super::ddl::{Inserter, V};
use super::schema::Defs;

/// (ProbeId label, column, value) for every probe row, ProbeId = position + 1.
pub fn rows() -> Vec<(&'static str, &'static str, V)> {
    let t = |s: &str| V::T(s.into());
    vec![
        ("money_min", "MoneyValue", t("-922337203685477.5808")),
        ("money_max", "MoneyValue", t("922337203685477.5807")),
        ("smallmoney_max", "SmallMoneyValue", t("214748.3647")),
        ("smallmoney_min", "SmallMoneyValue", t("-214748.3648")),
        (
            "decimal_38_38_smallest",
            "DecimalValue",
            t("0.00000000000000000000000000000000000001"),
        ),
        (
            "decimal_38_38_largest",
            "DecimalValue",
            t("0.99999999999999999999999999999999999999"),
        ),
        ("decimal_19_4_max", "Decimal19_4", t("999999999999999.9999")),
        ("decimal_19_4_negative", "Decimal19_4", t("-0.0001")),
        (
            "datetimeoffset_plus_2",
            "DtoValue",
            t("2020-12-09 01:30:00 +02:00"),
        ),
        (
            "datetimeoffset_7_digits",
            "DtoValue",
            t("2020-04-22 09:16:20.6566667 +00:00"),
        ),
        (
            "datetimeoffset_minus_14",
            "DtoValue",
            t("0001-01-01 00:00:00 -14:00"),
        ),
        (
            "guid",
            "GuidValue",
            t("9C0C9EED-FEAC-474E-9AD7-C5B9280424D1"),
        ),
        ("datetime2_min", "Dt2Value", t("0001-01-01 00:00:00")),
        (
            "datetime2_max",
            "Dt2Value",
            t("9999-12-31 23:59:59.9999999"),
        ),
        (
            "datetime2_7_digits",
            "Dt2Value",
            t("2020-04-22 09:16:20.6566667"),
        ),
        ("date_min", "DateValue", t("0001-01-01")),
        ("date_max", "DateValue", t("9999-12-31")),
        ("time_max", "TimeValue", t("23:59:59.9999999")),
        ("datetime_min", "DtValue", t("1753-01-01 00:00:00")),
        ("datetime_max", "DtValue", t("9999-12-31 23:59:59.997")),
        (
            "datetime_1900_empty_string",
            "DtValue",
            t("1900-01-01 00:00:00"),
        ),
        (
            "smalldatetime_min",
            "SmallDtValue",
            t("1900-01-01 00:00:00"),
        ),
        (
            "smalldatetime_max",
            "SmallDtValue",
            t("2079-06-06 23:59:00"),
        ),
        (
            "utf8_varchar_invalid_bytes",
            "Utf8Text",
            V::B(b"caf\xC3 \xFF\xFE bad".to_vec()),
        ),
        ("utf8_varchar_valid", "Utf8Text", t("日本語 ok ✓")),
        (
            "nvarchar_lone_surrogate",
            "NVarcharValue",
            V::B(vec![0x3D, 0xD8]),
        ),
        ("nvarchar_surrogate_pair", "NVarcharValue", t("😀")),
        (
            "ntext_emoji",
            "NTextValue",
            t("😀 emoji in ntext; עברית; 中文"),
        ),
        (
            "varchar_cp1252",
            "VarcharValue",
            t("café “smart” ‘quotes’ – € …"),
        ),
        ("varchar_text_NULL", "VarcharValue", t("NULL")),
        ("varchar_empty", "VarcharValue", t("")),
        ("varchar_null", "VarcharValue", V::Null),
        ("char_padded", "CharValue", t("ab        ")),
        ("bigint_min", "BigValue", V::I(i64::MIN)),
        ("bigint_max", "BigValue", V::I(i64::MAX)),
        ("smallint_min", "SmallValue", V::I(-32768)),
        ("tinyint_max", "TinyValue", V::I(255)),
        ("float_max", "FloatValue", V::F(f64::MAX)),
        ("float_min_positive", "FloatValue", V::F(f64::MIN_POSITIVE)),
        ("real_max", "RealValue", V::F(f64::from(f32::MAX))),
        ("bit_true", "BitValue", V::I(1)),
        ("bit_false", "BitValue", V::I(0)),
        ("varbinary_empty", "BinValue", V::B(Vec::new())),
        (
            "varbinary_bytes",
            "BinValue",
            V::B(vec![0x00, 0xFF, 0x10, 0x80]),
        ),
    ]
}

/// Inserts the probe rows.
pub fn insert(conn: &rusqlite::Connection, defs: &Defs) -> Result<(), GenError> {
    let mut ins = Inserter::new(conn, &defs.probe)?;
    let cols = &defs.probe.cols;
    for (i, (label, column, value)) in rows().into_iter().enumerate() {
        let mut row = vec![V::Null; cols.len()];
        row[0] = V::I(i as i64 + 1);
        row[1] = V::T(label.into());
        let pos = cols
            .iter()
            .position(|c| c.name == column)
            .ok_or_else(|| GenError::Internal(format!("probe column {column} missing")))?;
        row[pos] = value;
        ins.insert(row)?;
    }
    Ok(())
}
