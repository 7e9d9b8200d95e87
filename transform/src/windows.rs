//! Ticket windows: bounded memory for the per-ticket rows (issue 7 "memory is bounded by configuration, not by
//! the largest table's bytes").
//!
//! The selected tickets, sorted by id, are cut into windows of at most `window_tickets` tickets (a run of equal
//! ids is never split). Notes, history rows and attachments are read once, in source order, and each row is
//! appended to its window's temporary file (`<out>/staging/<kind>-w<window>.rows`, deleted when read back or
//! dropped) in a compact binary form ([`crate::codec`]). Conversations are then built one window at a time, the
//! next window's rows being read back while the current one is built: at most two windows' rows are in memory.
//! Within a window the rows come back in the order they were read, so the output does not depend on the window
//! size.

use crate::codec::Cursor;
use crate::error::{Result, TransformError, io_at};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub use crate::ticket_text::TextSpill;

/// Default number of tickets per window (`ti-transform run --window-tickets`, `[transform] window_tickets`). At
/// about 4 notes and a few KiB of text per ticket, 10,000 tickets hold some tens of MiB of rows.
pub const DEFAULT_WINDOW_TICKETS: usize = ti_shared::config::DEFAULT_WINDOW_TICKETS;

/// Most windows a run makes (open files: two per window while rows are routed).
pub const MAX_WINDOWS: usize = 256;

/// The window size used for `tickets` tickets when `requested` is asked: at least 1, and raised so that there
/// are at most [`MAX_WINDOWS`] windows.
pub fn effective_size(tickets: usize, requested: usize) -> usize {
    requested.max(1).max(tickets.div_ceil(MAX_WINDOWS))
}

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
        let size = effective_size(ids.len(), size);
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
    /// Creates `n` empty window files named after `tag` in `dir` (the run's staging folder).
    ///
    /// # Errors
    /// When a file cannot be created (naming it).
    pub fn create(dir: &Path, n: usize, tag: &str) -> Result<Self> {
        let mut files = Self {
            paths: Vec::with_capacity(n),
            writers: Vec::with_capacity(n),
            buf: Vec::new(),
        };
        for w in 0..n {
            let path = dir.join(format!("{tag}-w{w}.rows"));
            let file = File::create(&path).map_err(io_at(&path))?;
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
    /// Write failures, naming the window file.
    pub fn push<T: WindowRow>(&mut self, w: usize, row: &T) -> Result<()> {
        self.buf.clear();
        row.encode(&mut self.buf);
        let path = Self::path(&self.paths, w)?;
        match self.writers.get_mut(w).and_then(Option::as_mut) {
            Some(out) => out.write_all(&self.buf).map_err(io_at(path)),
            None => Err(io_at(path)(std::io::Error::other(format!(
                "window {w} is closed"
            )))),
        }
    }

    fn path(paths: &[PathBuf], w: usize) -> Result<&Path> {
        paths
            .get(w)
            .map(PathBuf::as_path)
            .ok_or_else(|| TransformError::Input(format!("no ticket window {w}")))
    }

    /// Reads back every row of window `w`, in the order they were pushed, and removes its file.
    ///
    /// # Errors
    /// I/O failures and damaged files, naming the window file.
    pub fn take<T: WindowRow>(&mut self, w: usize) -> Result<Vec<T>> {
        let path = Self::path(&self.paths, w)?.to_path_buf();
        if let Some(mut out) = self.writers.get_mut(w).and_then(Option::take) {
            out.flush().map_err(io_at(&path))?;
        }
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(io_at(&path))?;
        let _ = std::fs::remove_file(&path);
        let mut cur = Cursor::new(&bytes);
        let mut rows = Vec::new();
        while !cur.done() {
            rows.push(T::decode(&mut cur).ok_or_else(|| {
                io_at(&path)(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "damaged window file",
                ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, Note};
    use crate::source::Cell;

    #[test]
    fn the_window_size_is_raised_to_keep_at_most_256_windows() {
        assert_eq!(effective_size(1_000, 10_000), 10_000);
        assert_eq!(effective_size(1_000, 1), 4);
        assert_eq!(effective_size(256, 1), 1);
        assert_eq!(effective_size(257, 1), 2);
        assert_eq!(effective_size(0, 1), 1);
    }

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
        let dir = tempfile::tempdir().unwrap();
        let mut files = WindowFiles::create(dir.path(), 2, "test").unwrap();
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
            crate::codec::put_cell(&mut buf, &c);
            let mut cur = Cursor::new(&buf);
            assert_eq!(cur.cell(), Some(c));
        }
    }
}
