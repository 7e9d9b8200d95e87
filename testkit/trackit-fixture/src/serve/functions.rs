//! SQLite scalar functions that give translated T-SQL its SQL Server semantics:
//! `ti_bin` (CAST AS varbinary), `ti_txt` (CAST AS (n)varchar), `ti_len` (DATALENGTH), `ti_sub` (SUBSTRING),
//! `ti_dec` (CAST AS decimal/money). The `form` argument says how the source column turns into bytes:
//! `cp:<encoding>`, `utf16`, `raw` or `fixed:<n>` (see `sqlexpr::form_arg`).

use super::types::ByteForm;
use super::values::{cell_text, datalength, decode_cp, format_decimal, parse_decimal, to_bytes};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Error};

fn form(s: &[u8]) -> ByteForm {
    match s {
        b"cp:windows-1252" => ByteForm::CodePage(encoding_rs::WINDOWS_1252),
        b"cp:UTF-8" => ByteForm::CodePage(encoding_rs::UTF_8),
        b"utf16" => ByteForm::Utf16,
        b"raw" => ByteForm::Raw,
        _ => {
            if let Some(label) = s.strip_prefix(b"cp:") {
                let enc =
                    encoding_rs::Encoding::for_label(label).unwrap_or(encoding_rs::WINDOWS_1252);
                ByteForm::CodePage(enc)
            } else if let Some(n) = s.strip_prefix(b"fixed:") {
                ByteForm::Fixed(
                    std::str::from_utf8(n)
                        .ok()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                )
            } else {
                ByteForm::Raw
            }
        }
    }
}

/// The `form` argument (a constant string in the translated SQL), read without allocating.
fn form_of(ctx: &Context<'_>, i: usize) -> Result<ByteForm, Error> {
    match ctx.get_raw(i) {
        ValueRef::Text(t) => Ok(form(t)),
        _ => Err(user_err("ti_* form argument must be text".into())),
    }
}

fn user_err(msg: String) -> Error {
    Error::UserFunctionError(msg.into())
}

/// Registers the `ti_*` functions on a session connection.
///
/// # Errors
/// SQLite refusing the registration.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_collation("ti_decimal", compare_decimal_text)?;
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("ti_bin", 2, flags, |ctx| {
        let f = form_of(ctx, 1)?;
        let v = ctx.get_raw(0);
        Ok(match v {
            ValueRef::Null => Value::Null,
            other => Value::Blob(to_bytes(&other, f).into_owned()),
        })
    })?;
    conn.create_scalar_function("ti_txt", 2, flags, |ctx| {
        let f = form_of(ctx, 1)?;
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Blob(b) => Value::Text(decode_cp(b, f)),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            other => Value::Text(cell_text(&other)),
        })
    })?;
    conn.create_scalar_function("ti_len", 2, flags, |ctx| {
        let f = form_of(ctx, 1)?;
        Ok(datalength(&ctx.get_raw(0), f).map_or(Value::Null, Value::Integer))
    })?;
    conn.create_scalar_function("ti_sub", 4, flags, |ctx| {
        let f = form_of(ctx, 3)?;
        let (start, len): (i64, i64) = (ctx.get(1)?, ctx.get(2)?);
        if len < 0 {
            return Err(user_err(
                "Invalid length parameter passed to the substring function.".into(),
            ));
        }
        // SQL Server: characters start..start+len-1, clipped to 1..
        let from = start.max(1);
        let to = start.saturating_add(len); // exclusive
        let window = |n: usize| -> (usize, usize) {
            let a = (from - 1).clamp(0, n as i64) as usize;
            let b = (to - 1).clamp(a as i64, n as i64) as usize;
            (a, b)
        };
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => Value::Null,
            ValueRef::Blob(b) => {
                let unit = if f == ByteForm::Utf16 { 2 } else { 1 };
                let (a, e) = window(b.len() / unit);
                Value::Blob(b[a * unit..(e * unit).min(b.len())].to_vec())
            }
            ValueRef::Text(t) => {
                let s = String::from_utf8_lossy(t);
                if f == ByteForm::Utf16 {
                    let u: Vec<u16> = s.encode_utf16().collect();
                    let (a, e) = window(u.len());
                    Value::Text(String::from_utf16_lossy(&u[a..e]))
                } else {
                    let chars: Vec<char> = s.chars().collect();
                    let (a, e) = window(chars.len());
                    Value::Text(chars[a..e].iter().collect())
                }
            }
            other => Value::Text(cell_text(&other)),
        })
    })?;
    conn.create_scalar_function("ti_dec", 2, flags, |ctx| {
        let scale: i64 = ctx.get(1)?;
        let v = ctx.get_raw(0);
        if let ValueRef::Null = v {
            return Ok(Value::Null);
        }
        let text = cell_text(&v);
        let x = parse_decimal(&text, scale.clamp(0, 38) as u8)
            .ok_or_else(|| user_err(format!("Error converting data type to numeric: '{text}'")))?;
        Ok(Value::Text(format_decimal(x, scale.clamp(0, 38) as u8)))
    })?;
    Ok(())
}

/// Orders two decimal texts (`-12.50`, `7.5`, `+0003`) by value, exactly, whatever their scale (the
/// `ti_decimal` collation). Text that is not a decimal sorts after every number, by its bytes.
pub fn compare_decimal_text(a: &str, b: &str) -> std::cmp::Ordering {
    match (DecimalText::parse(a), DecimalText::parse(b)) {
        (Some(x), Some(y)) => x.cmp_value(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// A decimal text split for comparison: sign, integer digits without leading zeros, fraction without trailing
/// zeros.
struct DecimalText<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl<'a> DecimalText<'a> {
    fn parse(t: &'a str) -> Option<Self> {
        let t = t.trim();
        let (negative, t) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return None;
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        // -0 and 0 are the same value.
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Some(DecimalText {
            negative,
            int,
            frac,
        })
    }

    fn cmp_value(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let magnitude = self
            .int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(other.int))
            .then_with(|| self.frac.cmp(other.frac));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
}

#[cfg(test)]
mod decimal_order_tests {
    use super::compare_decimal_text;

    #[test]
    fn decimal_texts_sort_by_value() {
        let mut v = vec![
            "12.25",
            "7.50",
            "-3",
            "0",
            "-0.00",
            "-12.5",
            "7.5000001",
            "+7.5",
            "0.001",
            "100",
            "x",
        ];
        v.sort_by(|a, b| compare_decimal_text(a, b));
        assert_eq!(
            v,
            [
                "-12.5",
                "-3",
                "0",
                "-0.00",
                "0.001",
                "7.50",
                "+7.5",
                "7.5000001",
                "12.25",
                "100",
                "x"
            ]
        );
    }
}
