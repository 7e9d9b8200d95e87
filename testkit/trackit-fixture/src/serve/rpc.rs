//! Request decoding: SQL batch (MS-TDS 2.2.6.7) and RPC (2.2.6.6) `sp_executesql` with `@P1…` parameters,
//! including PLP values.

use super::types::{Collation, Len, SqlType};
use super::values::{format_decimal, utf16_to_string};
use rusqlite::types::Value;

/// A decoded request: the T-SQL text and its parameters.
#[derive(Debug, Clone)]
pub struct Request {
    /// The statement text (batch text, or sp_executesql's @stmt).
    pub sql: String,
    /// Parameters `@P1…` with their values and declared types.
    pub params: Vec<Param>,
    /// True for RPC (the reply ends with RETURNSTATUS and DONEPROC).
    pub rpc: bool,
}

/// One RPC parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name including `@`, e.g. `@P1`.
    pub name: String,
    /// The value as SQLite binds it (FORMAT.md §3 forms: decimals, dates and GUIDs as TEXT).
    pub value: Value,
    /// Type the client declared.
    pub ty: SqlType,
}

/// A malformed request (answered with a protocol error and the connection closed).
#[derive(Debug, thiserror::Error)]
#[error("malformed request: {0}")]
pub struct BadRequest(pub String);

struct Cur<'a> {
    d: &'a [u8],
    p: usize,
}

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BadRequest> {
        let s = self
            .d
            .get(self.p..self.p + n)
            .ok_or_else(|| BadRequest("truncated".into()))?;
        self.p += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, BadRequest> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, BadRequest> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, BadRequest> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, BadRequest> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }
    fn skip_all_headers(&mut self) -> Result<(), BadRequest> {
        // ALL_HEADERS is present for TDS 7.2+: total length includes itself.
        if self.d.len() >= 4 {
            let total = u32::from_le_bytes([self.d[0], self.d[1], self.d[2], self.d[3]]) as usize;
            if (4..=self.d.len()).contains(&total) && total < 1024 {
                self.p = total;
            }
        }
        Ok(())
    }
}

/// Decodes a SQL batch payload.
///
/// # Errors
/// An odd-length text.
pub fn decode_batch(d: &[u8]) -> Result<Request, BadRequest> {
    let mut c = Cur { d, p: 0 };
    c.skip_all_headers()?;
    let rest = &d[c.p..];
    if !rest.len().is_multiple_of(2) {
        return Err(BadRequest("odd-length batch text".into()));
    }
    Ok(Request {
        sql: utf16_to_string(rest),
        params: Vec::new(),
        rpc: false,
    })
}

/// Decodes an RPC payload; only `sp_executesql` (by id 10 or by name) is supported.
///
/// # Errors
/// Other procedures, unknown parameter types, truncation.
pub fn decode_rpc(d: &[u8]) -> Result<Request, BadRequest> {
    let mut c = Cur { d, p: 0 };
    c.skip_all_headers()?;
    let name_len = c.u16()?;
    if name_len == 0xFFFF {
        let id = c.u16()?;
        if id != 10 {
            return Err(BadRequest(format!(
                "RPC proc id {id} is not supported (only sp_executesql = 10)"
            )));
        }
    } else {
        let name = utf16_to_string(c.take(name_len as usize * 2)?);
        if !name.eq_ignore_ascii_case("sp_executesql")
            && !name.eq_ignore_ascii_case("sys.sp_executesql")
        {
            return Err(BadRequest(format!(
                "RPC procedure '{name}' is not supported"
            )));
        }
    }
    let _flags = c.u16()?;
    let mut raw = Vec::new();
    while c.p < d.len() {
        let b = d[c.p];
        if b == 0x80 || b == 0xFF || b == 0xFE {
            break; // batch separator: further RPCs are not supported
        }
        let n = c.u8()? as usize;
        let name = utf16_to_string(c.take(n * 2)?);
        let _status = c.u8()?;
        raw.push(decode_param(&mut c, name)?);
    }
    let mut it = raw.into_iter();
    let stmt = it
        .next()
        .ok_or_else(|| BadRequest("sp_executesql without @stmt".into()))?;
    let sql = match stmt.value {
        Value::Text(t) => t,
        _ => return Err(BadRequest("@stmt is not a string".into())),
    };
    let _decl = it.next();
    let params = it.collect();
    Ok(Request {
        sql,
        params,
        rpc: true,
    })
}

fn decode_param(c: &mut Cur<'_>, name: String) -> Result<Param, BadRequest> {
    let ty = c.u8()?;
    let default_coll = Collation::from_name("SQL_Latin1_General_CP1_CI_AS");
    let fixed = |c: &mut Cur<'_>, n: usize| c.take(n).map(<[u8]>::to_vec);
    let (st, value) = match ty {
        0x30 => (SqlType::TinyInt, Value::Integer(fixed(c, 1)?[0] as i64)),
        0x34 => (SqlType::SmallInt, Value::Integer(c.u16()? as i16 as i64)),
        0x38 => (SqlType::Int, Value::Integer(c.u32()? as i32 as i64)),
        0x7F => (SqlType::BigInt, Value::Integer(c.u64()? as i64)),
        0x32 => (SqlType::Bit, Value::Integer(c.u8()? as i64)),
        0x26 | 0x68 | 0x6D | 0x6E => {
            let _max = c.u8()?;
            let len = c.u8()? as usize;
            let b = fixed(c, len)?;
            let int = |b: &[u8]| {
                let mut a = [0u8; 8];
                a[..b.len()].copy_from_slice(b);
                let v = i64::from_le_bytes(a);
                let shift = 64 - 8 * b.len() as u32;
                if shift == 64 {
                    0
                } else {
                    (v << shift) >> shift
                }
            };
            match (ty, len) {
                (_, 0) => (SqlType::Int, Value::Null),
                (0x26, 1) => (SqlType::TinyInt, Value::Integer(b[0] as i64)),
                (0x26, 2) => (SqlType::SmallInt, Value::Integer(int(&b))),
                (0x26, 4) => (SqlType::Int, Value::Integer(int(&b))),
                (0x26, 8) => (SqlType::BigInt, Value::Integer(int(&b))),
                (0x68, _) => (SqlType::Bit, Value::Integer(i64::from(b[0] != 0))),
                (0x6D, 4) => (
                    SqlType::Real,
                    Value::Real(f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64),
                ),
                (0x6D, 8) => (
                    SqlType::Float,
                    Value::Real(f64::from_le_bytes(b.try_into().unwrap_or([0; 8]))),
                ),
                (0x6E, 8) => {
                    let hi = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64;
                    let lo = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as i64;
                    (
                        SqlType::Money,
                        Value::Text(format_decimal(((hi << 32) | lo) as i128, 4)),
                    )
                }
                (0x6E, 4) => (
                    SqlType::SmallMoney,
                    Value::Text(format_decimal(int(&b) as i128, 4)),
                ),
                _ => return Err(BadRequest(format!("bad length {len} for type {ty:#x}"))),
            }
        }
        0x24 => {
            let _max = c.u8()?;
            let len = c.u8()? as usize;
            let b = fixed(c, len)?;
            if len == 0 {
                (SqlType::Guid, Value::Null)
            } else if len == 16 {
                let s = format!(
                    "{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{}",
                    b[3],
                    b[2],
                    b[1],
                    b[0],
                    b[5],
                    b[4],
                    b[7],
                    b[6],
                    b[8],
                    b[9],
                    b[10..]
                        .iter()
                        .map(|x| format!("{x:02X}"))
                        .collect::<String>()
                );
                (SqlType::Guid, Value::Text(s))
            } else {
                return Err(BadRequest("bad GUID length".into()));
            }
        }
        0x6A | 0x6C => {
            let _max = c.u8()?;
            let p = c.u8()?;
            let s = c.u8()?;
            let len = c.u8()? as usize;
            if len == 0 {
                (SqlType::Decimal(p, s), Value::Null)
            } else {
                let sign = c.u8()?;
                let mut a = [0u8; 16];
                let m = fixed(c, len - 1)?;
                a[..m.len().min(16)].copy_from_slice(&m[..m.len().min(16)]);
                let v = u128::from_le_bytes(a) as i128;
                (
                    SqlType::Decimal(p, s),
                    Value::Text(format_decimal(if sign == 0 { -v } else { v }, s)),
                )
            }
        }
        0xE7 | 0xA7 | 0xEF | 0xAF | 0xA5 | 0xAD => {
            let max = c.u16()?;
            let coll = if matches!(ty, 0xE7 | 0xA7 | 0xEF | 0xAF) {
                let b = c.take(5)?;
                let info = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                if info == 0 {
                    default_coll
                } else {
                    Collation {
                        info,
                        sort_id: b[4],
                        ..default_coll
                    }
                }
            } else {
                default_coll
            };
            let bytes = if max == 0xFFFF {
                read_plp(c)?
            } else {
                read_u16_len(c)?
            };
            let l = if max == 0xFFFF { Len::Max } else { Len::N(max) };
            let st = match ty {
                0xE7 | 0xEF => SqlType::NVarChar(l, coll),
                0xA7 | 0xAF => SqlType::VarChar(l, coll),
                _ => SqlType::VarBinary(l),
            };
            let value = match (bytes, ty) {
                (None, _) => Value::Null,
                (Some(b), 0xE7 | 0xEF) => Value::Text(utf16_to_string(&b)),
                (Some(b), 0xA7 | 0xAF) => {
                    Value::Text(coll.encoding.decode_without_bom_handling(&b).0.into_owned())
                }
                (Some(b), _) => Value::Blob(b),
            };
            (st, value)
        }
        0xF1 => {
            let schema = c.u8()?;
            if schema != 0 {
                return Err(BadRequest(
                    "xml schema collections are not supported".into(),
                ));
            }
            let b = read_plp(c)?;
            (
                SqlType::Xml,
                b.map_or(Value::Null, |b| Value::Text(utf16_to_string(&b))),
            )
        }
        0x28 | 0x29 | 0x2A | 0x2B | 0x6F => return decode_temporal(c, ty, name),
        other => {
            return Err(BadRequest(format!(
                "parameter type {other:#x} is not supported"
            )));
        }
    };
    Ok(Param {
        name,
        value,
        ty: st,
    })
}

fn decode_temporal(c: &mut Cur<'_>, ty: u8, name: String) -> Result<Param, BadRequest> {
    let scale = if matches!(ty, 0x29..=0x2B) {
        c.u8()?
    } else {
        0
    };
    if ty == 0x6F {
        let _max = c.u8()?;
    }
    let len = c.u8()? as usize;
    let b = c.take(len)?.to_vec();
    let st = match ty {
        0x28 => SqlType::Date,
        0x29 => SqlType::Time(scale),
        0x2A => SqlType::DateTime2(scale),
        0x2B => SqlType::DateTimeOffset(scale),
        _ if len == 4 => SqlType::SmallDateTime,
        _ => SqlType::DateTime,
    };
    if len == 0 {
        return Ok(Param {
            name,
            value: Value::Null,
            ty: st,
        });
    }
    let le = |s: &[u8]| {
        let mut a = [0u8; 8];
        a[..s.len()].copy_from_slice(s);
        u64::from_le_bytes(a)
    };
    let tl = len.saturating_sub(match ty {
        0x2A => 3,
        0x2B => 5,
        _ => 0,
    });
    let nanos = |s: &[u8]| le(s) * 10u64.pow(9 - scale.min(7) as u32);
    let text = match ty {
        0x28 => date_text(le(&b[..3]) as i64),
        0x29 => time_text(nanos(&b[..tl])),
        0x2A => format!(
            "{} {}",
            date_text(le(&b[tl..tl + 3]) as i64),
            time_text(nanos(&b[..tl]))
        ),
        0x2B => {
            let off = i16::from_le_bytes([b[tl + 3], b[tl + 4]]) as i64;
            let utc = le(&b[tl..tl + 3]) as i128 * 86_400_000_000_000 + nanos(&b[..tl]) as i128;
            let local = utc + off as i128 * 60_000_000_000;
            let (d, n) = (
                local.div_euclid(86_400_000_000_000),
                local.rem_euclid(86_400_000_000_000),
            );
            let sign = if off < 0 { '-' } else { '+' };
            format!(
                "{} {} {sign}{:02}:{:02}",
                date_text(d as i64),
                time_text(n as u64),
                off.abs() / 60,
                off.abs() % 60
            )
        }
        _ if len == 4 => {
            let days = u16::from_le_bytes([b[0], b[1]]) as i64;
            let mins = u16::from_le_bytes([b[2], b[3]]) as u64;
            format!(
                "{} {}",
                date_text(days + 693_595),
                time_text(mins * 60_000_000_000)
            )
        }
        _ => {
            let days = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64;
            let ticks = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as u64;
            format!(
                "{} {}",
                date_text(days + 693_595),
                time_text(ticks * 10_000_000 / 3)
            )
        }
    };
    Ok(Param {
        name,
        value: Value::Text(text),
        ty: st,
    })
}

/// `YYYY-MM-DD` of days since 0001-01-01.
fn date_text(days: i64) -> String {
    let z = days - 719_162 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `HH:MM:SS[.fffffff]` (fraction trimmed of trailing zeros) of nanoseconds since midnight.
fn time_text(n: u64) -> String {
    let s = n / 1_000_000_000;
    let frac = n % 1_000_000_000 / 100;
    let base = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    if frac == 0 {
        base
    } else {
        format!("{base}.{}", format!("{frac:07}").trim_end_matches('0'))
    }
}

fn read_u16_len(c: &mut Cur<'_>) -> Result<Option<Vec<u8>>, BadRequest> {
    let len = c.u16()?;
    if len == 0xFFFF {
        Ok(None)
    } else {
        Ok(Some(c.take(len as usize)?.to_vec()))
    }
}

fn read_plp(c: &mut Cur<'_>) -> Result<Option<Vec<u8>>, BadRequest> {
    let total = c.u64()?;
    if total == u64::MAX {
        return Ok(None);
    }
    let mut out = Vec::new();
    loop {
        let n = c.u32()? as usize;
        if n == 0 {
            return Ok(Some(out));
        }
        out.extend_from_slice(c.take(n)?);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_time_text() {
        assert_eq!(date_text(693_595), "1900-01-01");
        assert_eq!(date_text(0), "0001-01-01");
        assert_eq!(time_text(3_600_000_000_000 + 500_000_000), "01:00:00.5");
    }
}
