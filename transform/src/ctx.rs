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

/// An append-only temporary file of record lines (deleted on drop).
pub struct Spill {
    path: std::path::PathBuf,
    file: Mutex<(std::io::BufWriter<std::fs::File>, u64)>,
}

impl Spill {
    /// Creates the spill file in the system temporary directory.
    ///
    /// # Errors
    /// When it cannot be created.
    pub fn new() -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "ti-transform-{}-{}.spill",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::File::create(&path)?;
        Ok(Self {
            path,
            file: Mutex::new((std::io::BufWriter::new(file), 0)),
        })
    }

    /// Appends bytes, returns (offset, length). A write failure is reported when the lines are read back.
    pub fn push(&self, bytes: &[u8]) -> (u64, u32) {
        use std::io::Write;
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let offset = g.1;
        if g.0.write_all(bytes).is_err() {
            g.1 = u64::MAX / 2;
        }
        g.1 += bytes.len() as u64;
        (offset, bytes.len() as u32)
    }

    /// Appends two byte strings under one lock, returns where each is.
    pub fn push_two(&self, a: &[u8], b: &[u8]) -> ((u64, u32), (u64, u32)) {
        use std::io::Write;
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let mut at = |bytes: &[u8]| {
            let offset = g.1;
            if g.0.write_all(bytes).is_err() {
                g.1 = u64::MAX / 2;
            }
            g.1 += bytes.len() as u64;
            (offset, bytes.len() as u32)
        };
        let first = at(a);
        (first, at(b))
    }

    /// Flushes and opens the file for reading lines back.
    ///
    /// # Errors
    /// I/O failures (including an earlier failed write).
    pub fn reader(&self) -> std::io::Result<SpillReader> {
        use std::io::Write;
        let mut g = self.file.lock().unwrap_or_else(|p| p.into_inner());
        g.0.flush()?;
        if g.1 >= u64::MAX / 2 {
            return Err(std::io::Error::other(
                "writing the record spill file failed (disk full?)",
            ));
        }
        Ok(SpillReader {
            file: std::fs::File::open(&self.path)?,
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
}

impl SpillReader {
    /// The bytes at (offset, length).
    ///
    /// # Errors
    /// I/O failures.
    pub fn read(&mut self, at: (u64, u32)) -> std::io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_into(at, &mut buf)?;
        Ok(buf)
    }

    /// Reads the bytes at (offset, length) into `buf` (resized to fit), one positioned read.
    ///
    /// # Errors
    /// I/O failures.
    pub fn read_into(&mut self, at: (u64, u32), buf: &mut Vec<u8>) -> std::io::Result<()> {
        buf.resize(at.1 as usize, 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.file.read_exact_at(buf, at.0)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek, SeekFrom};
            self.file.seek(SeekFrom::Start(at.0))?;
            self.file.read_exact(buf)
        }
    }
}
