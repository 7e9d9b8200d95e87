//! Reading catalog cells of any tiberius shape as text or integers (INFORMATION_SCHEMA answers with nvarchar,
//! varchar, tinyint, smallint, int or bigint depending on the server version).

use tiberius::ColumnData;

/// A cell as text: strings as they are, numbers printed; `None` for NULL or binary.
pub fn text(data: &ColumnData<'_>) -> Option<String> {
    match data {
        ColumnData::String(s) => s.as_ref().map(|s| s.to_string()),
        ColumnData::Xml(x) => x.as_ref().map(|x| x.to_string()),
        ColumnData::Guid(g) => g.map(|g| g.to_string().to_uppercase()),
        other => int(other).map(|n| n.to_string()),
    }
}

/// A cell as an integer: any integer type, bit, or a decimal of scale 0; `None` otherwise.
pub fn int(data: &ColumnData<'_>) -> Option<i64> {
    match data {
        ColumnData::U8(v) => v.map(i64::from),
        ColumnData::I16(v) => v.map(i64::from),
        ColumnData::I32(v) => v.map(i64::from),
        ColumnData::I64(v) => *v,
        ColumnData::Bit(v) => v.map(i64::from),
        ColumnData::Numeric(Some(n)) if n.scale() == 0 => i64::try_from(n.value()).ok(),
        ColumnData::String(Some(s)) => s.trim().parse().ok(),
        _ => None,
    }
}
