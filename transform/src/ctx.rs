//! The shared state of one `run`: mapping, profile, clock, counters, ledger, people, and the records produced.

use crate::ledger::{Ledger, Lineage};
use crate::mapping::Mapping;
use crate::people::Directory;
use crate::profile::Profile;
use crate::text::TextStats;
use crate::time::Clock;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use ti_shared::records::{Record, RecordKind, RecordSource};

/// A record with its lineage.
#[derive(Debug, Clone)]
pub struct Out {
    /// The record, its body already serialised into `line` and replaced by null (memory: one string per record).
    pub record: Record,
    /// Where the record's NDJSON line is in the spill file.
    pub line: (u64, u32),
    /// Blobs its attachments reference.
    pub blobs: Vec<String>,
    /// Where its `report/lineage.ndjson` line (source rows and rules applied) is in the spill file.
    pub lineage: (u64, u32),
}

/// A blob the load bundle must carry: its hash and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum BlobSource {
    /// A blob of the extract bundle.
    Extract(String),
    /// Bytes held in a source row (small binary cell).
    Inline(Vec<u8>),
}

/// Everything a run shares.
pub struct Ctx {
    /// Confirmed mapping.
    pub mapping: Mapping,
    /// Profile.
    pub profile: Profile,
    /// Time conversion.
    pub clock: Clock,
    /// Text counters.
    pub text: TextStats,
    /// Ledger.
    pub ledger: Ledger,
    /// People.
    pub people: Directory,
    /// Technician keys by person id.
    pub tech_keys: BTreeMap<i64, String>,
    /// Contact key by person id (survivors only).
    pub contact_keys: BTreeMap<i64, String>,
    /// Records produced.
    pub records: Mutex<Vec<Out>>,
    /// Record lines, spilled to a temporary file so memory does not grow with the output.
    pub spill: Spill,
    /// Blobs to carry (hash → source).
    pub blobs: Mutex<BTreeMap<String, BlobSource>>,
    /// Lower-case local part of emails.
    pub lowercase_local: bool,
    /// Conversation attribute name → data type of the attributes used.
    pub conversation_attributes: Mutex<BTreeMap<String, (String, String)>>,
    /// Physical table names by logical object.
    pub tables: Mutex<HashMap<String, String>>,
    /// Technician key by technician text as written (memo of [`Directory::match_technician`], which normalises
    /// the text on every call; a helpdesk has few distinct technician texts).
    pub tech_memo: std::sync::RwLock<HashMap<String, Option<String>>>,
}

impl Ctx {
    /// Adds a record.
    pub fn emit(
        &self,
        key: String,
        kind: RecordKind,
        mut after: Vec<String>,
        source: (&str, &str),
        body: Value,
        lineage: Lineage,
    ) {
        after.sort();
        after.dedup();
        after.retain(|k| *k != key);
        let mut blobs = Vec::new();
        for p in body["parts"].as_array().into_iter().flatten() {
            for a in p["attachments"].as_array().into_iter().flatten() {
                if let Some(h) = a["blob"].as_str() {
                    blobs.push(h.to_string());
                }
            }
        }
        // One canonical serialisation per record: the digest is taken from the line's body bytes.
        let (bytes, digest) = crate::line::record_line(&key, kind, &after, source, &body);
        drop(body);
        let lineage_bytes = crate::line::lineage_line(&key, &lineage.sources, &lineage.rules);
        let (line, lineage) = self.spill.push_two(&bytes, &lineage_bytes);
        let record = Record {
            key,
            kind,
            after,
            source: RecordSource {
                table: source.0.to_string(),
                pk: source.1.to_string(),
            },
            digest,
            body: Value::Null,
        };
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Out {
                record,
                line,
                blobs,
                lineage,
            });
    }

    /// The admin reference for a technician text: `{"$admin": "technician:<key>"}` when it matches a
    /// technician, `{"$admin": null}` otherwise (the loader uses the fallback admin).
    pub fn admin_ref(&self, text: Option<&str>) -> (Value, Option<String>) {
        let key = text
            .filter(|t| !t.trim().is_empty())
            .and_then(|t| self.technician_key_of(t));
        match key {
            Some(k) => (serde_json::json!({"$admin": k}), Some(k)),
            None => (serde_json::json!({"$admin": null}), None),
        }
    }

    /// The technician key matched by a technician text (memoised).
    fn technician_key_of(&self, text: &str) -> Option<String> {
        if let Some(k) = self
            .tech_memo
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(text)
        {
            return k.clone();
        }
        let key = self
            .people
            .match_technician(text)
            .and_then(|id| self.tech_keys.get(&id).cloned());
        self.tech_memo
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(text.to_string(), key.clone());
        key
    }

    /// Unix seconds of a cell (see [`Clock::unix`]).
    pub fn unix(&self, cell: &crate::source::Cell) -> Option<i64> {
        self.clock.unix(cell)
    }

    /// Registers a conversation attribute used by records (name → type, description).
    pub fn use_attribute(&self, name: &str, data_type: &str, description: &str) {
        let mut used = self
            .conversation_attributes
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !used.contains_key(name) {
            used.insert(
                name.to_string(),
                (data_type.to_string(), description.to_string()),
            );
        }
    }

    /// The physical table of a logical object (as read).
    pub fn table(&self, logical: &str) -> String {
        self.tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(logical)
            .cloned()
            .unwrap_or_default()
    }

    /// Stores a blob to carry.
    pub fn carry_blob(&self, hash: &str, source: BlobSource) {
        self.blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(hash.to_string())
            .or_insert(source);
    }

    /// Truncates a string attribute value to 255 characters, listing it in gaps/truncated_values.csv.
    pub fn attr_string(&self, key: &str, attribute: &str, value: &str) -> String {
        match crate::text::truncate_chars(value, 255) {
            None => value.to_string(),
            Some(t) => {
                self.ledger.list(
                    "truncated_values",
                    vec![
                        key.into(),
                        attribute.into(),
                        value.chars().count().to_string(),
                        value.into(),
                    ],
                );
                t
            }
        }
    }
}

/// An append-only temporary file of record lines (`<out>/staging/records.spill`, deleted on drop).
pub struct Spill {
    path: std::path::PathBuf,
    file: Mutex<SpillWriter>,
}

/// The writing end of a [`Spill`]: the file, its length, and the first write error (reported on read-back).
struct SpillWriter {
    out: std::io::BufWriter<std::fs::File>,
    len: u64,
    failed: Option<std::io::Error>,
}

impl SpillWriter {
    fn push(&mut self, bytes: &[u8]) -> (u64, u32) {
        use std::io::Write;
        let offset = self.len;
        if self.failed.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.failed = Some(e);
        }
        self.len += bytes.len() as u64;
        (offset, bytes.len() as u32)
    }
}

impl Spill {
    /// Creates the spill file in `dir` (the run's staging folder).
    ///
    /// # Errors
    /// When it cannot be created (naming it).
    pub fn new(dir: &std::path::Path) -> crate::error::Result<Self> {
        let path = dir.join("records.spill");
        let file = std::fs::File::create(&path).map_err(crate::error::io_at(&path))?;
        Ok(Self {
            path,
            file: Mutex::new(SpillWriter {
                out: std::io::BufWriter::new(file),
                len: 0,
                failed: None,
            }),
        })
    }

    /// Appends bytes, returns (offset, length). A write failure is reported when the lines are read back
    /// ([`reader`](Self::reader)).
    pub fn push(&self, bytes: &[u8]) -> (u64, u32) {
        self.file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(bytes)
    }

    /// Appends two byte strings under one lock, returns where each is.
    pub fn push_two(&self, a: &[u8], b: &[u8]) -> ((u64, u32), (u64, u32)) {
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let first = g.push(a);
        (first, g.push(b))
    }

    /// Flushes and opens the file for reading lines back.
    ///
    /// # Errors
    /// I/O failures, including the first failed write (a full disk), naming the file.
    pub fn reader(&self) -> crate::error::Result<SpillReader> {
        use std::io::Write;
        let at = crate::error::io_at(&self.path);
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = g.failed.take() {
            let again = std::io::Error::new(e.kind(), e.to_string());
            g.failed = Some(e);
            return Err(at(again));
        }
        g.out.flush().map_err(&at)?;
        Ok(SpillReader {
            file: std::fs::File::open(&self.path).map_err(&at)?,
            path: self.path.clone(),
        })
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads lines back from a [`Spill`].
pub struct SpillReader {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl SpillReader {
    /// The bytes at (offset, length).
    ///
    /// # Errors
    /// I/O failures, naming the file.
    pub fn read(&mut self, at: (u64, u32)) -> crate::error::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_into(at, &mut buf)?;
        Ok(buf)
    }

    /// Reads the bytes at (offset, length) into `buf` (resized to fit), one positioned read.
    ///
    /// # Errors
    /// I/O failures, naming the file.
    pub fn read_into(&mut self, at: (u64, u32), buf: &mut Vec<u8>) -> crate::error::Result<()> {
        buf.resize(at.1 as usize, 0);
        #[cfg(unix)]
        let read = {
            use std::os::unix::fs::FileExt;
            self.file.read_exact_at(buf, at.0)
        };
        #[cfg(not(unix))]
        let read = {
            use std::io::{Read, Seek, SeekFrom};
            self.file
                .seek(SeekFrom::Start(at.0))
                .and_then(|_| self.file.read_exact(buf))
        };
        read.map_err(crate::error::io_at(&self.path))
    }
}
