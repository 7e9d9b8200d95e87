//! The conversation-only fields of the tickets, kept in a temporary file of the run's staging folder while the
//! tickets are selected and matched (issue 7: memory bounded by configuration).

use crate::codec::{Cursor, put_bytes, put_cell, put_opt_string, put_u64};
use crate::error::{Result, io_at};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The conversation-only fields of every ticket (texts, times, attribute values), written once while the tickets
/// are read and read back by position when a conversation is built (`<out>/staging/ticket-texts.rows`, deleted
/// on drop): the ticket rows kept in memory for selection and matching then hold only keys and the few
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
    /// Creates the empty file in `dir` (the run's staging folder).
    ///
    /// # Errors
    /// When it cannot be created (naming it).
    pub fn create(dir: &Path) -> Result<Self> {
        let path = dir.join("ticket-texts.rows");
        let file = File::create(&path).map_err(io_at(&path))?;
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
    /// Write failures, or a file already opened for reading (naming the file).
    pub fn stash(&mut self, t: &mut crate::model::Ticket) -> Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Err(io_at(&self.path)(std::io::Error::other(
                "ticket text file already closed",
            )));
        };
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
        out.write_all(b).map_err(io_at(&self.path))?;
        t.text_at = Some((self.len, b.len() as u32));
        self.len += b.len() as u64;
        Ok(())
    }

    /// The full ticket: `t` with the fields [`stash`](Self::stash) moved out read back (`t` itself when nothing
    /// was moved). Callable from several threads.
    ///
    /// # Errors
    /// Read failures, a damaged file, or a file not yet finished (naming the file).
    pub fn restore(&self, t: &crate::model::Ticket) -> Result<crate::model::Ticket> {
        let Some(at) = t.text_at else {
            return Ok(t.clone());
        };
        let bytes = self.read(at).map_err(io_at(&self.path))?;
        let mut cur = Cursor::new(&bytes);
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
            io_at(&self.path)(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "damaged ticket text file",
            ))
        })?;
        Ok(full)
    }

    /// Ends writing; [`read`](Self::read) works from then on.
    ///
    /// # Errors
    /// Flush or open failures (naming the file).
    pub fn finish(&mut self) -> Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush().map_err(io_at(&self.path))?;
        }
        self.reader = Some(File::open(&self.path).map_err(io_at(&self.path))?);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Cell;

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
        let dir = tempfile::tempdir().unwrap();
        let mut spill = TextSpill::create(dir.path()).unwrap();
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
}
