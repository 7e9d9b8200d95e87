//! Token encoders (MS-TDS 2.2.7): COLMETADATA, ROW, NBCROW, DONE*, ERROR/INFO, ENVCHANGE, LOGINACK, RETURNSTATUS.

use super::types::Column;
use super::values::{ConvError, cell_is_null, write_cell, write_null};
use rusqlite::types::ValueRef;

/// DONE status: more results follow.
pub const DONE_MORE: u16 = 0x0001;
/// DONE status: an error occurred.
pub const DONE_ERROR: u16 = 0x0002;
/// DONE status: the row count is valid.
pub const DONE_COUNT: u16 = 0x0010;
/// DONE status: acknowledges an Attention.
pub const DONE_ATTN: u16 = 0x0020;

/// Server name sent in ERROR/INFO tokens.
pub const SERVER_NAME: &str = "TRACKIT-FIXTURE";

/// Appends a B_VARCHAR (u8 length in characters, UTF-16LE).
pub fn b_varchar(s: &str, out: &mut Vec<u8>) {
    let u: Vec<u16> = s.encode_utf16().take(255).collect();
    out.push(u.len() as u8);
    u.iter()
        .for_each(|c| out.extend_from_slice(&c.to_le_bytes()));
}

/// Appends a US_VARCHAR (u16 length in characters, UTF-16LE).
pub fn us_varchar(s: &str, out: &mut Vec<u8>) {
    let u: Vec<u16> = s.encode_utf16().take(65535).collect();
    out.extend_from_slice(&(u.len() as u16).to_le_bytes());
    u.iter()
        .for_each(|c| out.extend_from_slice(&c.to_le_bytes()));
}

/// COLMETADATA for a result set.
pub fn colmetadata(cols: &[Column], out: &mut Vec<u8>) {
    out.push(0x81);
    out.extend_from_slice(&(cols.len() as u16).to_le_bytes());
    for c in cols {
        out.extend_from_slice(&0u32.to_le_bytes()); // UserType
        // Flags: nullable (bit 0), updateable unknown (bit 3 = 0x0008? keep read-only), computed etc. not set.
        let flags: u16 = if c.nullable { 0x0001 } else { 0 };
        out.extend_from_slice(&flags.to_le_bytes());
        c.ty.write_type_info(c.nullable, out);
        if c.ty.is_legacy_lob() {
            match &c.table {
                Some((s, t)) => {
                    out.push(2);
                    us_varchar(s, out);
                    us_varchar(t, out);
                }
                None => out.push(0),
            }
        }
        b_varchar(&c.name, out);
    }
}

/// Appends one row, as NBCROW when that is shorter (MS-TDS 2.2.7.17), else as ROW. `vals` are the SQLite values;
/// each column's [`Conv`](super::types::Conv) is applied here.
///
/// # Errors
/// [`ConvError`] when a cell does not fit its column type; `out` is then left with a partial row, so the caller must
/// truncate it back.
pub fn row(cols: &[Column], vals: &[ValueRef<'_>], out: &mut Vec<u8>) -> Result<(), ConvError> {
    let nulls = cols
        .iter()
        .zip(vals)
        .filter(|(c, v)| cell_is_null(c, v))
        .count();
    let bitmap = cols.len().div_ceil(8);
    if nulls > bitmap {
        out.push(0xD2);
        let start = out.len();
        out.resize(start + bitmap, 0);
        for (i, (c, v)) in cols.iter().zip(vals).enumerate() {
            if cell_is_null(c, v) {
                out[start + i / 8] |= 1 << (i % 8);
            } else {
                write_cell(c, v, out)?;
            }
        }
    } else {
        out.push(0xD1);
        for (c, v) in cols.iter().zip(vals) {
            if cell_is_null(c, v) {
                write_null(c, out);
            } else {
                write_cell(c, v, out)?;
            }
        }
    }
    Ok(())
}

/// DONE (0xFD), DONEPROC (0xFE) or DONEINPROC (0xFF) with status, current command and row count.
pub fn done(token: u8, status: u16, curcmd: u16, count: u64, out: &mut Vec<u8>) {
    out.push(token);
    out.extend_from_slice(&status.to_le_bytes());
    out.extend_from_slice(&curcmd.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
}

/// ERROR (0xAA) or INFO (0xAB) token.
pub fn message(token: u8, number: i32, state: u8, class: u8, text: &str, out: &mut Vec<u8>) {
    let mut body = Vec::new();
    body.extend_from_slice(&number.to_le_bytes());
    body.push(state);
    body.push(class);
    us_varchar(text, &mut body);
    b_varchar(SERVER_NAME, &mut body);
    b_varchar("", &mut body);
    body.extend_from_slice(&1i32.to_le_bytes());
    out.push(token);
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(&body);
}

/// ERROR token at severity 16 (or the given class).
pub fn error(number: i32, class: u8, text: &str, out: &mut Vec<u8>) {
    message(0xAA, number, 1, class, text, out);
}

/// ENVCHANGE with B_VARCHAR new/old values (database = 1, language = 2, packet size = 4).
pub fn envchange_str(ty: u8, new: &str, old: &str, out: &mut Vec<u8>) {
    let mut body = vec![ty];
    b_varchar(new, &mut body);
    b_varchar(old, &mut body);
    out.push(0xE3);
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(&body);
}

/// ENVCHANGE type 7 (SQL collation) with the 5 collation bytes as new value and an empty old value.
pub fn envchange_collation(coll: [u8; 5], out: &mut Vec<u8>) {
    let mut body = vec![7, 5];
    body.extend_from_slice(&coll);
    body.push(0);
    out.push(0xE3);
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(&body);
}

/// LOGINACK for TDS 7.4 (interface SQL_TSQL, version as SQL Server 2008 R2 style bytes).
pub fn loginack(version: [u8; 4], out: &mut Vec<u8>) {
    let mut body = vec![1];
    body.extend_from_slice(&0x7400_0004u32.to_be_bytes());
    b_varchar("Microsoft SQL Server", &mut body);
    body.extend_from_slice(&version);
    out.push(0xAD);
    out.extend_from_slice(&(body.len() as u16).to_le_bytes());
    out.extend_from_slice(&body);
}

/// RETURNSTATUS token.
pub fn return_status(v: i32, out: &mut Vec<u8>) {
    out.push(0x79);
    out.extend_from_slice(&v.to_le_bytes());
}
