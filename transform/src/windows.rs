//! Ticket windows: bounded memory for the per-ticket rows (issue 7 "memory is bounded by configuration, not by
//! the largest table's bytes").
//!
//! The selected tickets, sorted by id, are cut into windows of at most `window_tickets` tickets (a run of equal
//! ids is never split). Notes, history rows and attachments are read once, in source order, and each row is
//! appended to its window's temporary file (`$TMPDIR/ti-transform-<pid>-<n>-<kind>-w<window>.rows`, deleted on drop) in
//! a compact binary form. Conversations are then built one window at a time, the next window's rows being read
//! back while the current one is built: at most two windows' rows are in memory. Within a window the rows come
//! back in the order they were read, so the output does not depend on the window size.

use crate::model::{Attachment, Note};
use crate::source::Cell;
use chrono::{DateTime, NaiveDateTime};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

/// Default number of tickets per window (`ti-transform run --window-tickets`). At about 4 notes and a few KiB
/// of text per ticket, 10,000 tickets hold some tens of MiB of rows.
pub const DEFAULT_WINDOW_TICKETS: usize = 10_000;

/// Most windows a run makes (open files: two per window while rows are routed).
pub const MAX_WINDOWS: usize = 256;

/// A row that can be written to and read back from a window file.
pub trait WindowRow: Sized {
    /// Appends the row's bytes.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one row back; `None` when the bytes are not a row (a damaged temporary file).
    fn decode(cur: &mut Cursor<'_>) -> Option<Self>;
}

/// The window boundaries: the first ticket id of every window.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    starts: Vec<i64>,
    /// Index range into the sorted selected tickets, per window.
    ranges: Vec<std::ops::Range<usize>>,
}

impl Windows {
    /// Cuts `ids` (sorted ascending) into windows of at most `size` ids, extending a window over a run of equal
    /// ids. `size` 0 counts as 1; a size that would make more than [`MAX_WINDOWS`] windows is raised (each window
    /// holds two open files while rows are routed).
    pub fn new(ids: &[i64], size: usize) -> Self {
        let size = size.max(1).max(ids.len().div_ceil(MAX_WINDOWS));
        let mut starts = Vec::new();
        let mut ranges = Vec::new();
        let mut begin = 0;
        while begin < ids.len() {
            let mut end = (begin + size).min(ids.len());
            while end < ids.len() && ids[end] == ids[end - 1] {
                end += 1;
            }
            starts.push(ids[begin]);
            ranges.push(begin..end);
            begin = end;
        }
        Self { starts, ranges }
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True when there are no windows (no selected tickets).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The positions (in the sorted selected tickets) of window `w`.
    pub fn range(&self, w: usize) -> std::ops::Range<usize> {
        self.ranges[w].clone()
    }

    /// The window of a selected ticket id.
    pub fn of(&self, id: i64) -> usize {
        self.starts.partition_point(|s| *s <= id).saturating_sub(1)
    }
}

/// One temporary file per window, appended to in source order.
pub struct WindowFiles {
    paths: Vec<PathBuf>,
    writers: Vec<Option<BufWriter<File>>>,
    buf: Vec<u8>,
}

impl WindowFiles {
    /// Creates `n` empty window files named after `tag`.
    ///
    /// # Errors
    /// When a file cannot be created.
    pub fn create(n: usize, tag: &str) -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let run = N.fetch_add(1, Ordering::Relaxed);
        let mut files = Self {
            paths: Vec::with_capacity(n),
            writers: Vec::with_capacity(n),
            buf: Vec::new(),
        };
        for w in 0..n {
            let path = std::env::temp_dir().join(format!(
                "ti-transform-{}-{run}-{tag}-w{w}.rows",
                std::process::id()
            ));
            let file = File::create(&path)?;
            files.paths.push(path);
            files
                .writers
                .push(Some(BufWriter::with_capacity(64 * 1024, file)));
        }
        Ok(files)
    }

    /// Appends a row to window `w`.
    ///
    /// # Errors
    /// Write failures.
    pub fn push<T: WindowRow>(&mut self, w: usize, row: &T) -> std::io::Result<()> {
        self.buf.clear();
        row.encode(&mut self.buf);
        match self.writers.get_mut(w).and_then(Option::as_mut) {
            Some(out) => out.write_all(&self.buf),
            None => Err(std::io::Error::other(format!("window {w} is closed"))),
        }
    }

    /// Reads back every row of window `w`, in the order they were pushed, and removes its file.
    ///
    /// # Errors
    /// I/O failures and damaged files.
    pub fn take<T: WindowRow>(&mut self, w: usize) -> std::io::Result<Vec<T>> {
        if let Some(mut out) = self.writers.get_mut(w).and_then(Option::take) {
            out.flush()?;
        }
        let path = &self.paths[w];
        let mut bytes = Vec::new();
        File::open(path)?.read_to_end(&mut bytes)?;
        let _ = std::fs::remove_file(path);
        let mut cur = Cursor {
            bytes: &bytes,
            at: 0,
        };
        let mut rows = Vec::new();
        while !cur.done() {
            rows.push(T::decode(&mut cur).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("damaged window file {}", path.display()),
                )
            })?);
        }
        Ok(rows)
    }
}

impl Drop for WindowFiles {
    fn drop(&mut self) {
        self.writers.clear();
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The conversation-only fields of every ticket (texts, times, attribute values), written once while the tickets
/// are read and read back by position when a conversation is built (`$TMPDIR/ti-transform-<pid>-<n>-text.rows`,
/// deleted on drop): the ticket rows kept in memory for selection and matching then hold only keys and the few
/// fields those need.
pub struct TextSpill {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    len: u64,
    buf: Vec<u8>,
    reader: Option<File>,
    /// Serialises seek + read where positioned reads are not available.
    #[cfg_attr(unix, allow(dead_code))]
    lock: std::sync::Mutex<()>,
}

impl TextSpill {
    /// Creates the empty file.
    ///
    /// # Errors
    /// When it cannot be created.
    pub fn create() -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "ti-transform-{}-{}-text.rows",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::create(&path)?;
        Ok(Self {
            path,
            out: Some(BufWriter::with_capacity(256 * 1024, file)),
            len: 0,
            buf: Vec::new(),
            reader: None,
            lock: std::sync::Mutex::new(()),
        })
    }

    /// Moves the fields of a ticket that only its conversation needs (summary, description, resolution,
    /// technician, priority, category, due/closed/completed times, hours, asset, attribute values) to the file,
    /// setting `text_at`. What selection and people matching use stays in memory.
    ///
    /// # Errors
    /// Write failures, or a file already opened for reading.
    pub fn stash(&mut self, t: &mut crate::model::Ticket) -> std::io::Result<()> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| std::io::Error::other("ticket text file already closed"))?;
        let b = &mut self.buf;
        b.clear();
        put_opt_string(b, &t.summary.take());
        put_opt_string(b, &t.description.take());
        put_opt_string(b, &t.resolution.take());
        put_opt_string(b, &t.technician.take());
        put_opt_string(b, &t.priority.take());
        put_u64(b, t.category.len() as u64);
        for c in std::mem::take(&mut t.category) {
            put_bytes(b, c.as_bytes());
        }
        for c in [&mut t.due, &mut t.closed, &mut t.completed] {
            put_cell(b, &std::mem::take(c));
        }
        match t.hours.take() {
            None => b.push(0),
            Some(h) => {
                b.push(1);
                put_u64(b, h.to_bits());
            }
        }
        put_opt_string(b, &t.asset.take());
        put_u64(b, t.attributes.len() as u64);
        for c in std::mem::take(&mut t.attributes) {
            put_cell(b, &c);
        }
        out.write_all(b)?;
        t.text_at = Some((self.len, b.len() as u32));
        self.len += b.len() as u64;
        Ok(())
    }

    /// The full ticket: `t` with the fields [`stash`](Self::stash) moved out read back (`t` itself when nothing
    /// was moved). Callable from several threads.
    ///
    /// # Errors
    /// Read failures, a damaged file, or a file not yet finished.
    pub fn restore(&self, t: &crate::model::Ticket) -> std::io::Result<crate::model::Ticket> {
        let Some(at) = t.text_at else {
            return Ok(t.clone());
        };
        let bytes = self.read(at)?;
        let mut cur = Cursor {
            bytes: &bytes,
            at: 0,
        };
        let mut full = t.clone();
        full.text_at = None;
        (|| -> Option<()> {
            full.summary = cur.opt_string()?;
            full.description = cur.opt_string()?;
            full.resolution = cur.opt_string()?;
            full.technician = cur.opt_string()?;
            full.priority = cur.opt_string()?;
            let n = cur.u64()?;
            full.category = (0..n).map(|_| cur.string()).collect::<Option<_>>()?;
            full.due = cur.cell()?;
            full.closed = cur.cell()?;
            full.completed = cur.cell()?;
            full.hours = match cur.u8()? {
                0 => None,
                _ => Some(f64::from_bits(cur.u64()?)),
            };
            full.asset = cur.opt_string()?;
            let n = cur.u64()?;
            full.attributes = (0..n).map(|_| cur.cell()).collect::<Option<_>>()?;
            Some(())
        })()
        .ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "damaged ticket text file")
        })?;
        Ok(full)
    }

    /// Ends writing; [`read`](Self::read) works from then on.
    ///
    /// # Errors
    /// Flush or open failures.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        self.reader = Some(File::open(&self.path)?);
        Ok(())
    }

    /// The bytes stored at `at`; callable from several threads.
    fn read(&self, at: (u64, u32)) -> std::io::Result<Vec<u8>> {
        let reader = self
            .reader
            .as_ref()
            .ok_or_else(|| std::io::Error::other("ticket text file not finished"))?;
        let mut bytes = vec![0u8; at.1 as usize];
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            reader.read_exact_at(&mut bytes, at.0)?;
        }
        #[cfg(not(unix))]
        {
            use std::io::{Seek, SeekFrom};
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut file: &File = reader;
            file.seek(SeekFrom::Start(at.0))?;
            file.read_exact(&mut bytes)?;
        }
        Ok(bytes)
    }
}

impl Drop for TextSpill {
    fn drop(&mut self) {
        self.out = None;
        self.reader = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads the bytes of a window file.
pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    }

    fn i64(&mut self) -> Option<i64> {
        self.u64().map(|v| v as i64)
    }

    fn bytes_field(&mut self) -> Option<Vec<u8>> {
        let n = self.u64()? as usize;
        self.take(n).map(<[u8]>::to_vec)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes_field()?).ok()
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.string().map(Some),
        }
    }

    fn opt_i64(&mut self) -> Option<Option<i64>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.i64().map(Some),
        }
    }

    fn opt_bool(&mut self) -> Option<Option<bool>> {
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

    fn cell(&mut self) -> Option<Cell> {
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

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_opt_string(out: &mut Vec<u8>, s: &Option<String>) {
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

fn put_cell(out: &mut Vec<u8>, c: &Cell) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_never_split_equal_ids() {
        let w = Windows::new(&[1, 2, 3, 3, 3, 4, 5], 3);
        assert_eq!(w.len(), 2);
        assert_eq!(w.range(0), 0..5);
        assert_eq!(w.range(1), 5..7);
        assert_eq!(w.of(3), 0);
        assert_eq!(w.of(4), 1);
        assert_eq!(w.of(99), 1);
        assert!(Windows::new(&[], 10).is_empty());
        let many: Vec<i64> = (0..10_000).collect();
        let capped = Windows::new(&many, 1).len();
        assert!(capped <= MAX_WINDOWS && capped > MAX_WINDOWS / 2);
    }

    #[test]
    fn stashed_tickets_restore_whole() {
        let t = crate::model::Ticket {
            id: 7,
            summary: Some("s".into()),
            description: Some("d\0é".into()),
            technician: Some("jdoe".into()),
            category: vec!["a".into(), "b".into()],
            due: Cell::Int(3),
            hours: Some(1.5),
            attributes: vec![Cell::Null, Cell::Text("x".into()), Cell::Float(2.0)],
            requestor: Some("kept".into()),
            ..Default::default()
        };
        let mut spill = TextSpill::create().unwrap();
        let mut light = t.clone();
        spill.stash(&mut light).unwrap();
        assert!(light.summary.is_none() && light.attributes.is_empty() && light.text_at.is_some());
        assert_eq!(light.requestor.as_deref(), Some("kept"));
        spill.finish().unwrap();
        assert_eq!(
            format!("{:?}", spill.restore(&light).unwrap()),
            format!("{t:?}")
        );
    }

    #[test]
    fn rows_come_back_as_written_in_order() {
        let t = chrono::NaiveDate::from_ymd_opt(2019, 3, 10)
            .and_then(|d| d.and_hms_nano_opt(2, 30, 0, 123_456_789))
            .unwrap();
        let notes: Vec<Note> = (0..3)
            .map(|i| Note {
                table: String::new(),
                pk: format!("n{i}"),
                seq: i - 1,
                ticket: (i != 1).then_some(i * 1000),
                created: if i == 0 { Cell::Local(t) } else { Cell::Utc(t) },
                author: Some("Doe, Jane ✓".into()),
                text: (i != 2).then(|| "a\0b<p>".into()),
                type_name: None,
                type_id: Some(-7),
                private: [None, Some(false), Some(true)][i as usize],
                history: i == 2,
            })
            .collect();
        let att = Attachment {
            id: 9,
            pk: "9".into(),
            ticket: Some(1),
            name: "a.pdf".into(),
            path: None,
            size: Some(0),
            author: None,
            created: Cell::Null,
            content: Cell::Blob {
                hash: "ab".into(),
                bytes: 3,
            },
        };
        let mut files = WindowFiles::create(2, "test").unwrap();
        for n in &notes {
            files.push(1, n).unwrap();
        }
        files.push(0, &att).unwrap();
        let back: Vec<Note> = files.take(1).unwrap();
        assert_eq!(back.len(), 3);
        for (a, b) in notes.iter().zip(&back) {
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
        let atts: Vec<Attachment> = files.take(0).unwrap();
        assert_eq!(format!("{:?}", atts[0]), format!("{att:?}"));
        for c in [Cell::Float(-0.5), Cell::Bytes(vec![0, 1]), Cell::Bool(true)] {
            let mut buf = Vec::new();
            put_cell(&mut buf, &c);
            let mut cur = Cursor { bytes: &buf, at: 0 };
            assert_eq!(cur.cell(), Some(c));
        }
    }
}
