//! The compact binary form of the rows kept in temporary files (window files, the ticket text file): fixed
//! little-endian integers, length-prefixed bytes, one tag byte per optional value and per [`Cell`] variant. Only
//! this process reads what it wrote, so the form has no version.

use crate::model::{Attachment, Note};
use crate::source::Cell;
use crate::windows::WindowRow;
use chrono::{DateTime, NaiveDateTime};

/// Reads the bytes of a window file.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// True when every byte has been read.
    pub fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }

    pub(crate) fn i64(&mut self) -> Option<i64> {
        self.u64().map(|v| v as i64)
    }

    fn bytes_field(&mut self) -> Option<Vec<u8>> {
        let n = self.u64()? as usize;
        self.take(n).map(<[u8]>::to_vec)
    }

    pub(crate) fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes_field()?).ok()
    }

    pub(crate) fn opt_string(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.string().map(Some),
        }
    }

    pub(crate) fn opt_i64(&mut self) -> Option<Option<i64>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.i64().map(Some),
        }
    }

    pub(crate) fn opt_bool(&mut self) -> Option<Option<bool>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(false)),
            _ => Some(Some(true)),
        }
    }

    fn time(&mut self) -> Option<NaiveDateTime> {
        let secs = self.i64()?;
        let nanos = self.u64()? as u32;
        DateTime::from_timestamp(secs, nanos).map(|d| d.naive_utc())
    }

    pub(crate) fn cell(&mut self) -> Option<Cell> {
        Some(match self.u8()? {
            0 => Cell::Null,
            1 => Cell::Text(self.string()?),
            2 => Cell::Int(self.i64()?),
            3 => Cell::Float(f64::from_bits(self.u64()?)),
            4 => Cell::Bool(self.u8()? != 0),
            5 => Cell::Local(self.time()?),
            6 => Cell::Utc(self.time()?),
            7 => Cell::Bytes(self.bytes_field()?),
            8 => Cell::Blob {
                hash: self.string()?,
                bytes: self.u64()?,
            },
            _ => return None,
        })
    }
}

pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub(crate) fn put_opt_string(out: &mut Vec<u8>, s: &Option<String>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
    }
}

fn put_opt_i64(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_u64(out, v as u64);
        }
    }
}

fn put_opt_bool(out: &mut Vec<u8>, v: Option<bool>) {
    out.push(match v {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
}

fn put_time(out: &mut Vec<u8>, t: &NaiveDateTime) {
    let u = t.and_utc();
    put_u64(out, u.timestamp() as u64);
    put_u64(out, u64::from(u.timestamp_subsec_nanos()));
}

pub(crate) fn put_cell(out: &mut Vec<u8>, c: &Cell) {
    match c {
        Cell::Null => out.push(0),
        Cell::Text(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
        Cell::Int(i) => {
            out.push(2);
            put_u64(out, *i as u64);
        }
        Cell::Float(f) => {
            out.push(3);
            put_u64(out, f.to_bits());
        }
        Cell::Bool(b) => {
            out.push(4);
            out.push(u8::from(*b));
        }
        Cell::Local(t) => {
            out.push(5);
            put_time(out, t);
        }
        Cell::Utc(t) => {
            out.push(6);
            put_time(out, t);
        }
        Cell::Bytes(b) => {
            out.push(7);
            put_bytes(out, b);
        }
        Cell::Blob { hash, bytes } => {
            out.push(8);
            put_bytes(out, hash.as_bytes());
            put_u64(out, *bytes);
        }
    }
}

/// Notes and history rows; `table` is not written (the reader sets it from `history`).
impl WindowRow for Note {
    fn encode(&self, out: &mut Vec<u8>) {
        put_bytes(out, self.pk.as_bytes());
        put_u64(out, self.seq as u64);
        put_opt_i64(out, self.ticket);
        put_cell(out, &self.created);
        put_opt_string(out, &self.author);
        put_opt_string(out, &self.text);
        put_opt_string(out, &self.type_name);
        put_opt_i64(out, self.type_id);
        put_opt_bool(out, self.private);
        out.push(u8::from(self.history));
    }

    fn decode(cur: &mut Cursor<'_>) -> Option<Self> {
        Some(Note {
            table: String::new(),
            pk: cur.string()?,
            seq: cur.i64()?,
            ticket: cur.opt_i64()?,
            created: cur.cell()?,
            author: cur.opt_string()?,
            text: cur.opt_string()?,
            type_name: cur.opt_string()?,
            type_id: cur.opt_i64()?,
            private: cur.opt_bool()?,
            history: cur.u8()? != 0,
        })
    }
}

impl WindowRow for Attachment {
    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.id as u64);
        put_bytes(out, self.pk.as_bytes());
        put_opt_i64(out, self.ticket);
        put_bytes(out, self.name.as_bytes());
        put_opt_string(out, &self.path);
        put_opt_i64(out, self.size);
        put_opt_string(out, &self.author);
        put_cell(out, &self.created);
        put_cell(out, &self.content);
    }

    fn decode(cur: &mut Cursor<'_>) -> Option<Self> {
        Some(Attachment {
            id: cur.i64()?,
            pk: cur.string()?,
            ticket: cur.opt_i64()?,
            name: cur.string()?,
            path: cur.opt_string()?,
            size: cur.opt_i64()?,
            author: cur.opt_string()?,
            created: cur.cell()?,
            content: cur.cell()?,
        })
    }
}
