//! Value encoders: a SQLite cell (FORMAT.md §3) → the bytes SQL Server sends for it in a ROW/NBCROW token
//! (MS-TDS 2.2.5.5).

use super::types::{ByteForm, Collation, Column, Conv, Len, SqlType, decimal_bytes, time_bytes};
use rusqlite::types::ValueRef;
use std::borrow::Cow;

/// PLP chunk size in bytes: values longer than this go out in several chunks, as SQL Server does.
pub const PLP_CHUNK: usize = 8000;

/// A cell that cannot be converted to its column type (SQL Server would have refused to store it).
#[derive(Debug, thiserror::Error)]
#[error("conversion failed for column '{column}' ({ty}): {detail}")]
pub struct ConvError {
    /// Column name.
    pub column: String,
    /// SQL Server type name.
    pub ty: &'static str,
    /// What was wrong.
    pub detail: String,
}

/// True when a value is SQL NULL.
pub fn is_null(v: &ValueRef<'_>) -> bool {
    matches!(v, ValueRef::Null)
}

/// True when the cell of `col` whose SQLite value is `v` is sent as NULL, after the column's [`Conv`].
pub fn cell_is_null(col: &Column, v: &ValueRef<'_>) -> bool {
    match (col.conv, v) {
        (_, ValueRef::Null) => true,
        // Code-page bytes are never more than the UTF-8 bytes stored (single-byte code pages take one byte per
        // character, the double-byte ones at most two where UTF-8 takes two or more, `?` one), so a short
        // cell needs no encoding to be measured.
        (Conv::BytesUpTo(ByteForm::CodePage(_), max), ValueRef::Text(t))
            if i64::try_from(t.len()).is_ok_and(|n| n <= max) =>
        {
            false
        }
        (Conv::BytesUpTo(form, max), v) => datalength(v, form).is_some_and(|n| n > max),
        _ => false,
    }
}

/// Appends the non-NULL cell of `col` whose SQLite value is `v`: the column's [`Conv`] applied, then
/// [`write_value`]. The caller has checked [`cell_is_null`].
///
/// # Errors
/// [`ConvError`] when the (converted) cell does not fit the column type.
pub fn write_cell(col: &Column, v: &ValueRef<'_>, out: &mut Vec<u8>) -> Result<(), ConvError> {
    match col.conv {
        Conv::None => write_value(col, v, out),
        Conv::Bytes(form) | Conv::BytesUpTo(form, _) => {
            let b = to_bytes(v, form);
            write_value(col, &ValueRef::Blob(&b), out)
        }
        Conv::Length(form) => match datalength(v, form) {
            Some(n) => write_value(col, &ValueRef::Integer(n), out),
            None => {
                write_null(col, out);
                Ok(())
            }
        },
    }
}

/// `DATALENGTH` of a cell: bytes of its value in `form` (the fixed size for fixed-size types); `None` for NULL.
pub fn datalength(v: &ValueRef<'_>, form: ByteForm) -> Option<i64> {
    Some(match (v, form) {
        (ValueRef::Null, _) => return None,
        (_, ByteForm::Fixed(n)) => n as i64,
        (ValueRef::Blob(b), _) => b.len() as i64,
        (ValueRef::Text(t), ByteForm::CodePage(e)) if e == encoding_rs::UTF_8 || t.is_ascii() => {
            t.len() as i64
        }
        (ValueRef::Text(t), ByteForm::Utf16) => {
            String::from_utf8_lossy(t).encode_utf16().count() as i64 * 2
        }
        (other, f) => to_bytes(other, f).len() as i64,
    })
}

/// Appends the NULL encoding of `col` (only for ROW; NBCROW leaves NULLs out).
pub fn write_null(col: &Column, out: &mut Vec<u8>) {
    match col.ty {
        SqlType::VarChar(Len::Max, _)
        | SqlType::NVarChar(Len::Max, _)
        | SqlType::VarBinary(Len::Max)
        | SqlType::Xml => out.extend_from_slice(&u64::MAX.to_le_bytes()),
        SqlType::Char(..)
        | SqlType::VarChar(..)
        | SqlType::NChar(..)
        | SqlType::NVarChar(..)
        | SqlType::Binary(_)
        | SqlType::VarBinary(_) => out.extend_from_slice(&0xFFFFu16.to_le_bytes()),
        // Text pointer length 0; every other nullable type has a 1-byte length of 0.
        _ => out.push(0),
    }
}

/// Appends the non-NULL value `v` of column `col`.
///
/// # Errors
/// [`ConvError`] when the stored cell does not fit the column type.
pub fn write_value(col: &Column, v: &ValueRef<'_>, out: &mut Vec<u8>) -> Result<(), ConvError> {
    let err = |detail: String| ConvError {
        column: col.name.clone(),
        ty: col.ty.name(),
        detail,
    };
    let n = col.nullable;
    match col.ty {
        SqlType::TinyInt => int_out(n, &to_i64(v).map_err(err)?.to_le_bytes()[..1], out),
        SqlType::SmallInt => int_out(n, &to_i64(v).map_err(err)?.to_le_bytes()[..2], out),
        SqlType::Int => int_out(n, &to_i64(v).map_err(err)?.to_le_bytes()[..4], out),
        SqlType::BigInt => int_out(n, &to_i64(v).map_err(err)?.to_le_bytes(), out),
        SqlType::Bit => int_out(n, &[u8::from(to_i64(v).map_err(err)? != 0)], out),
        SqlType::Real => int_out(n, &(to_f64(v).map_err(err)? as f32).to_le_bytes(), out),
        SqlType::Float => int_out(n, &to_f64(v).map_err(err)?.to_le_bytes(), out),
        SqlType::Money | SqlType::SmallMoney => {
            let units =
                parse_decimal(&cell_text(v), 4).ok_or_else(|| err("not a decimal".into()))?;
            if col.ty == SqlType::Money {
                let x = i64::try_from(units).map_err(|_| err("out of range".into()))?;
                let mut b = [0u8; 8];
                b[..4].copy_from_slice(&((x >> 32) as i32).to_le_bytes());
                b[4..].copy_from_slice(&(x as u32).to_le_bytes());
                int_out(n, &b, out);
            } else {
                let x = i32::try_from(units).map_err(|_| err("out of range".into()))?;
                int_out(n, &x.to_le_bytes(), out);
            }
        }
        SqlType::Decimal(p, s) => {
            let x = parse_decimal(&cell_text(v), s).ok_or_else(|| err("not a decimal".into()))?;
            if x.unsigned_abs() >= 10u128.pow(p as u32) {
                return Err(err(format!("exceeds precision {p}")));
            }
            let nb = decimal_bytes(p) as usize;
            out.push(1 + nb as u8);
            out.push(u8::from(x >= 0));
            out.extend_from_slice(&x.unsigned_abs().to_le_bytes()[..nb]);
        }
        SqlType::DateTime => {
            let (days, nanos) = datetime_cell(v)
                .map_err(err)?
                .ok_or_else(|| err("bad datetime".into()))?;
            let mut ticks = ((nanos as u128 * 300 + 500_000_000) / 1_000_000_000) as u64;
            let mut d = days - DAYS_1900;
            if ticks >= 300 * 86_400 {
                ticks -= 300 * 86_400;
                d += 1;
            }
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&(d as i32).to_le_bytes());
            b[4..].copy_from_slice(&(ticks as u32).to_le_bytes());
            int_out(n, &b, out);
        }
        SqlType::SmallDateTime => {
            let (days, nanos) = datetime_cell(v)
                .map_err(err)?
                .ok_or_else(|| err("bad datetime".into()))?;
            let mins = ((nanos + 30_000_000_000) / 60_000_000_000) as u16;
            let mut b = [0u8; 4];
            b[..2].copy_from_slice(&((days - DAYS_1900) as u16).to_le_bytes());
            b[2..].copy_from_slice(&mins.to_le_bytes());
            int_out(n, &b, out);
        }
        SqlType::Date => {
            let (days, _) = datetime_cell(v)
                .map_err(err)?
                .ok_or_else(|| err("bad date".into()))?;
            out.push(3);
            out.extend_from_slice(&(days as u32).to_le_bytes()[..3]);
        }
        SqlType::Time(s) => {
            let t = text_of(v).map_err(err)?;
            let nanos = parse_time(&t).ok_or_else(|| err("bad time".into()))?;
            out.push(time_bytes(s));
            write_time(nanos, s, out);
        }
        SqlType::DateTime2(s) => {
            let (days, nanos) = datetime_cell(v)
                .map_err(err)?
                .ok_or_else(|| err("bad datetime2".into()))?;
            out.push(time_bytes(s) + 3);
            write_time(nanos, s, out);
            out.extend_from_slice(&(days as u32).to_le_bytes()[..3]);
        }
        SqlType::DateTimeOffset(s) => {
            let t = text_of(v).map_err(err)?;
            let (days, nanos, off) =
                parse_dto(&t).ok_or_else(|| err("bad datetimeoffset".into()))?;
            // Convert local wall time to UTC.
            let total =
                days as i128 * 86_400_000_000_000 + nanos as i128 - off as i128 * 60_000_000_000;
            let (ud, un) = (
                total.div_euclid(86_400_000_000_000),
                total.rem_euclid(86_400_000_000_000),
            );
            out.push(time_bytes(s) + 5);
            write_time(un as u64, s, out);
            out.extend_from_slice(&(ud as u32).to_le_bytes()[..3]);
            out.extend_from_slice(&off.to_le_bytes());
        }
        SqlType::Guid => {
            let g = parse_guid(&text_of(v).map_err(err)?)
                .ok_or_else(|| err("bad uniqueidentifier".into()))?;
            out.push(16);
            out.extend_from_slice(&g);
        }
        SqlType::Char(..)
        | SqlType::VarChar(..)
        | SqlType::Text(_)
        | SqlType::NChar(..)
        | SqlType::NVarChar(..)
        | SqlType::NText(_)
        | SqlType::Binary(_)
        | SqlType::VarBinary(_)
        | SqlType::Image
        | SqlType::Xml => {
            let mut bytes = to_bytes(v, col.ty.byte_form());
            match col.ty {
                SqlType::Char(len, _) => pad(bytes.to_mut(), len as usize, b' '),
                SqlType::NChar(len, _) => {
                    while bytes.len() < len as usize * 2 {
                        bytes.to_mut().extend_from_slice(&[b' ', 0]);
                    }
                }
                SqlType::Binary(len) => pad(bytes.to_mut(), len as usize, 0),
                _ => {}
            }
            write_bytes(&col.ty, &bytes, out);
        }
    }
    Ok(())
}

fn pad(b: &mut Vec<u8>, len: usize, with: u8) {
    if b.len() < len {
        b.resize(len, with);
    }
}

/// Writes the length-prefixed/PLP/text-pointer form of a byte value of a character or binary type.
fn write_bytes(ty: &SqlType, bytes: &[u8], out: &mut Vec<u8>) {
    if ty.is_max() {
        out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        for chunk in bytes.chunks(PLP_CHUNK) {
            out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&0u32.to_le_bytes());
    } else if ty.is_legacy_lob() {
        out.push(16);
        out.extend_from_slice(&[0xEE; 16]); // text pointer
        out.extend_from_slice(&[0; 8]); // timestamp
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    } else {
        let b = &bytes[..bytes.len().min(8000)];
        out.extend_from_slice(&(b.len() as u16).to_le_bytes());
        out.extend_from_slice(b);
    }
}

fn int_out(nullable: bool, bytes: &[u8], out: &mut Vec<u8>) {
    if nullable {
        out.push(bytes.len() as u8);
    }
    out.extend_from_slice(bytes);
}

/// The bytes of a cell in the given form: TEXT is encoded (code page or UTF-16LE), BLOB is sent as stored
/// (FORMAT.md §3), numbers are printed as text first. Borrows the cell when its bytes are already right (BLOB,
/// ASCII or UTF-8 text in a single-byte form).
pub fn to_bytes<'a>(v: &ValueRef<'a>, form: ByteForm) -> Cow<'a, [u8]> {
    match *v {
        ValueRef::Blob(b) => Cow::Borrowed(b),
        ValueRef::Null => Cow::Borrowed(&[]),
        ValueRef::Text(t) => match form {
            ByteForm::CodePage(enc) if enc == encoding_rs::UTF_8 || t.is_ascii() => {
                Cow::Borrowed(t)
            }
            ByteForm::CodePage(enc) => Cow::Owned(encode_cp(&String::from_utf8_lossy(t), enc)),
            ByteForm::Utf16 => {
                let mut out = Vec::with_capacity(t.len() * 2);
                for u in String::from_utf8_lossy(t).encode_utf16() {
                    out.extend_from_slice(&u.to_le_bytes());
                }
                Cow::Owned(out)
            }
            ByteForm::Raw | ByteForm::Fixed(_) => Cow::Borrowed(t),
        },
        other => {
            let t = cell_text(&other);
            Cow::Owned(match form {
                ByteForm::Utf16 => t.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                _ => t.into_bytes(),
            })
        }
    }
}

/// Encodes text in a code page (UTF-8 stays as it is). Unmappable characters become `?`, as SQL Server does.
pub fn encode_cp(t: &str, enc: &'static encoding_rs::Encoding) -> Vec<u8> {
    if enc == encoding_rs::UTF_8 || t.is_ascii() {
        return t.as_bytes().to_vec();
    }
    let mut encoder = enc.new_encoder();
    let mut out = Vec::with_capacity(t.len() + 16);
    let mut src = t;
    loop {
        let (res, read) = encoder.encode_from_utf8_to_vec_without_replacement(src, &mut out, true);
        src = &src[read..];
        match res {
            encoding_rs::EncoderResult::InputEmpty => return out,
            encoding_rs::EncoderResult::OutputFull => out.reserve(src.len() * 2 + 16),
            encoding_rs::EncoderResult::Unmappable(_) => out.push(b'?'),
        }
    }
}

/// Decodes bytes of a code page (`CAST(x AS nvarchar)` of BLOB-stored varchar).
pub fn decode_cp(b: &[u8], form: ByteForm) -> String {
    match form {
        ByteForm::CodePage(enc) => enc.decode_without_bom_handling(b).0.into_owned(),
        ByteForm::Utf16 => {
            let units: Vec<u16> = b
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(b).into_owned(),
    }
}

/// A cell printed as text (numbers without exponent).
pub fn cell_text(v: &ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => format!("{f}"),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}

/// A datetime cell (TEXT) parsed: the common shape straight from its bytes, anything else by [`parse_datetime`].
fn datetime_cell(v: &ValueRef<'_>) -> Result<Option<(i64, u64)>, String> {
    match *v {
        ValueRef::Text(t) => {
            Ok(parse_datetime_exact(t).or_else(|| parse_datetime(&String::from_utf8_lossy(t))))
        }
        other => Err(format!("expected TEXT, found {:?}", other.data_type())),
    }
}

fn text_of<'a>(v: &ValueRef<'a>) -> Result<Cow<'a, str>, String> {
    match *v {
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t)),
        other => Err(format!("expected TEXT, found {:?}", other.data_type())),
    }
}

fn to_i64(v: &ValueRef<'_>) -> Result<i64, String> {
    match v {
        ValueRef::Integer(i) => Ok(*i),
        ValueRef::Real(f) if f.fract() == 0.0 => Ok(*f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or("not an integer".into()),
        other => Err(format!("expected INTEGER, found {:?}", other.data_type())),
    }
}

fn to_f64(v: &ValueRef<'_>) -> Result<f64, String> {
    match v {
        ValueRef::Integer(i) => Ok(*i as f64),
        ValueRef::Real(f) => Ok(*f),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or("not a float".into()),
        other => Err(format!("expected REAL, found {:?}", other.data_type())),
    }
}

/// Parses a plain decimal text to an integer scaled by 10^scale, rounding half away from zero (as CAST does).
pub fn parse_decimal(t: &str, scale: u8) -> Option<i128> {
    let t = t.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (ip, fp) = t.split_once('.').unwrap_or((t, ""));
    if ip.is_empty() && fp.is_empty() || !ip.bytes().chain(fp.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i128 = 0;
    for b in ip.bytes() {
        v = v.checked_mul(10)?.checked_add((b - b'0') as i128)?;
    }
    let fb = fp.as_bytes();
    for i in 0..scale as usize {
        let d = fb.get(i).map_or(0, |b| b - b'0');
        v = v.checked_mul(10)?.checked_add(d as i128)?;
    }
    if fb.get(scale as usize).is_some_and(|b| *b >= b'5') {
        v = v.checked_add(1)?;
    }
    Some(if neg { -v } else { v })
}

/// Formats a scaled integer as decimal text with exactly `scale` decimals.
pub fn format_decimal(v: i128, scale: u8) -> String {
    let digits = v.unsigned_abs().to_string();
    let s = scale as usize;
    let padded = if digits.len() <= s {
        format!("{}{}", "0".repeat(s + 1 - digits.len()), digits)
    } else {
        digits
    };
    let (ip, fp) = padded.split_at(padded.len() - s);
    let sign = if v < 0 { "-" } else { "" };
    if s == 0 {
        format!("{sign}{ip}")
    } else {
        format!("{sign}{ip}.{fp}")
    }
}

/// Days from 0001-01-01 to 1900-01-01.
const DAYS_1900: i64 = 693_595;

/// Days since 0001-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1..=9999).contains(&y) {
        return None;
    }
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 719468 = days from 0000-03-01 to 1970-01-01; 719162 = days from 0001-01-01 to 1970-01-01.
    Some(era * 146_097 + doe - 719_468 + 719_162)
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `HH:MM:SS[.fffffff]` to nanoseconds since midnight.
pub fn parse_time(t: &str) -> Option<u64> {
    let (hms, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut it = hms.split(':');
    let (h, m, s) = (
        num(it.next()?)?,
        num(it.next()?)?,
        num(it.next().unwrap_or("0"))?,
    );
    if h > 23 || m > 59 || s > 59 || frac.len() > 9 || (!frac.is_empty() && num(frac).is_none()) {
        return None;
    }
    let mut f: u64 = 0;
    for i in 0..9 {
        f = f * 10 + frac.as_bytes().get(i).map_or(0, |b| (b - b'0') as u64);
    }
    Some(((h * 3600 + m * 60 + s) as u64) * 1_000_000_000 + f)
}

/// Parses `YYYY-MM-DD[ HH:MM:SS[.fffffff]]` to (days since 0001-01-01, nanoseconds since midnight).
pub fn parse_datetime(t: &str) -> Option<(i64, u64)> {
    if let Some(r) = parse_datetime_exact(t.as_bytes()) {
        return Some(r);
    }
    let t = t.trim();
    let (d, tm) = t.split_once([' ', 'T']).unwrap_or((t, "00:00:00"));
    let mut it = d.split('-');
    let days = days_from_civil(num(it.next()?)?, num(it.next()?)?, num(it.next()?)?)?;
    Some((days, parse_time(tm)?))
}

/// The common shape `YYYY-MM-DD HH:MM:SS[.f{1,9}]` (or `T` between date and time) read byte by byte, with the
/// same range checks as the general parser; `None` for any other shape (the general parser decides then).
fn parse_datetime_exact(b: &[u8]) -> Option<(i64, u64)> {
    if b.len() < 19 || b.len() == 20 || b.len() > 29 {
        return None;
    }
    let d = |i: usize| -> Option<i64> {
        let c = b[i];
        c.is_ascii_digit().then(|| (c - b'0') as i64)
    };
    let two = |i: usize| Some(d(i)? * 10 + d(i + 1)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let y = two(0)? * 100 + two(2)?;
    let days = days_from_civil(y, two(5)?, two(8)?)?;
    let (h, m, s) = (two(11)?, two(14)?, two(17)?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let mut f: u64 = 0;
    if b.len() > 19 {
        if b[19] != b'.' {
            return None;
        }
        for i in 20..29 {
            let digit = if i < b.len() { d(i)? as u64 } else { 0 };
            f = f * 10 + digit;
        }
    }
    Some((days, ((h * 3600 + m * 60 + s) as u64) * 1_000_000_000 + f))
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fffffff] +HH:MM` to (days, nanos, offset minutes).
pub fn parse_dto(t: &str) -> Option<(i64, u64, i16)> {
    let t = t.trim();
    let (dt, off) = t.rsplit_once(' ')?;
    let sign = match off.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (oh, om) = off[1..].split_once(':')?;
    let offset = sign * (num(oh)? * 60 + num(om)?);
    let (days, nanos) = parse_datetime(dt)?;
    Some((days, nanos, offset as i16))
}

fn write_time(nanos: u64, scale: u8, out: &mut Vec<u8>) {
    let unit = 10u64.pow(9 - scale as u32);
    let v = (nanos + unit / 2) / unit;
    out.extend_from_slice(&v.to_le_bytes()[..time_bytes(scale) as usize]);
}

/// Parses a GUID text into SQL Server's mixed byte order (first three groups little-endian).
pub fn parse_guid(t: &str) -> Option<[u8; 16]> {
    let t = t.trim().trim_start_matches('{').trim_end_matches('}');
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || t.len() != 36 {
        return None;
    }
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    Some(b)
}

/// The default collation's code page wrapper used by parameter decoding.
pub fn utf16_to_string(b: &[u8]) -> String {
    decode_cp(b, ByteForm::Utf16)
}

/// Code page of a collation as a `ByteForm`.
pub fn cp_form(c: Collation) -> ByteForm {
    ByteForm::CodePage(c.encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_and_format() {
        assert_eq!(
            parse_decimal("-922337203685477.5808", 4),
            Some(-9_223_372_036_854_775_808)
        );
        assert_eq!(parse_decimal("1.23456", 4), Some(12346));
        assert_eq!(format_decimal(-12346, 4), "-1.2346");
        assert_eq!(format_decimal(1, 38), format!("0.{}1", "0".repeat(37)));
        assert_eq!(parse_decimal("1e5", 0), None);
    }

    #[test]
    fn dates() {
        assert_eq!(parse_datetime("1900-01-01 00:00:00"), Some((DAYS_1900, 0)));
        assert_eq!(parse_datetime("0001-01-01"), Some((0, 0)));
        assert_eq!(
            parse_dto("2020-12-09 01:30:00 +02:00").map(|x| x.2),
            Some(120)
        );
    }

    #[test]
    fn exact_datetime_parser_agrees_with_the_general_one() {
        for t in [
            "2019-03-04 10:20:30",
            "2019-03-04T10:20:30.5",
            "2019-03-04 23:59:59.997",
            "9999-12-31 23:59:59.999999999",
            "0001-01-01 00:00:00.1234567",
            "2019-02-29 10:00:00",
            "2019-13-01 10:00:00",
            "2019-03-04 24:00:00",
            "2019-03-04 10:20:3x",
            "2019-03-04 10:20:30.",
            "2019-03-04 10:20:30.1234567890",
        ] {
            let general = {
                let (d, tm) = t.split_once([' ', 'T']).unwrap_or((t, "00:00:00"));
                let mut it = d.split('-');
                let days =
                    (|| days_from_civil(num(it.next()?)?, num(it.next()?)?, num(it.next()?)?))();
                days.and_then(|days| Some((days, parse_time(tm)?)))
            };
            if let Some(fast) = parse_datetime_exact(t.as_bytes()) {
                assert_eq!(Some(fast), general, "{t}");
            }
            assert_eq!(parse_datetime(t), general, "{t}");
        }
    }

    #[test]
    fn code_page_encoding_replaces_unmappable_characters() {
        let per_char = |t: &str, enc: &'static encoding_rs::Encoding| -> Vec<u8> {
            let mut out = Vec::new();
            let mut buf = [0u8; 4];
            for ch in t.chars() {
                let (b, _, bad) = enc.encode(ch.encode_utf8(&mut buf));
                if bad {
                    out.push(b'?')
                } else {
                    out.extend_from_slice(&b)
                }
            }
            out
        };
        for t in [
            "café",
            "naïve — “quoted” €5",
            "日本語 and 😀",
            "Ωmega ß",
            "plain",
        ] {
            for enc in [
                encoding_rs::WINDOWS_1252,
                encoding_rs::WINDOWS_1251,
                encoding_rs::GBK,
                encoding_rs::SHIFT_JIS,
            ] {
                assert_eq!(encode_cp(t, enc), per_char(t, enc), "{t} in {}", enc.name());
            }
        }
        assert_eq!(encode_cp("café", encoding_rs::WINDOWS_1252), b"caf\xe9");
    }

    #[test]
    fn guid_order() {
        let g = parse_guid("9C0C9EED-FEAC-474E-9AD7-C5B9280424D1").unwrap();
        assert_eq!(&g[..4], &[0xED, 0x9E, 0x0C, 0x9C]);
    }
}
