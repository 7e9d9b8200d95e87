//! Writing a bundle: every file is hashed while it is written, `manifest.json` comes last (temp file + rename),
//! so a crash leaves a directory without a manifest, which readers reject as incomplete.

use super::error::BundleError;
use super::manifest::{
    BundleKind, FORMAT, FORMAT_VERSION, FileEntry, MANIFEST_FILE, Manifest, Producer, SourceInfo,
};
use super::paths::{blob_rel_path, check_rel_path, to_rel_string};
use super::{Result, TMP_SUFFIX};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Buffer size for file writes and hashing reads, bytes.
const IO_BUFFER: usize = 1 << 20;

/// Builds a bundle in a directory. Methods take `&self`, so rayon workers can write files in parallel.
pub struct BundleWriter {
    root: PathBuf,
    kind: BundleKind,
    producer: Producer,
    entries: Mutex<BTreeMap<String, FileEntry>>,
    meta: Mutex<Meta>,
}

#[derive(Default)]
struct Meta {
    parent: Option<String>,
    migration_id: Option<String>,
    source: Option<SourceInfo>,
    config_digest: String,
}

/// A file being written into the bundle: an [`io::Write`] that hashes and counts every byte. Hand it back to
/// [`BundleWriter::commit`] to make it part of the bundle; dropping it leaves only a `.tmp` file behind.
pub struct FileSink {
    rel: String,
    tmp: PathBuf,
    out: BufWriter<File>,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A content-addressed blob stored under `blobs/<2 hex>/<blake3 hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    /// blake3 of the bytes, 64 lower-case hex characters.
    pub blake3: String,
    /// Length in bytes.
    pub bytes: u64,
}

impl BundleWriter {
    /// Starts a new bundle at `root`, which must not exist or be an empty directory.
    ///
    /// # Errors
    /// [`BundleError::NotEmpty`] when `root` holds anything; [`BundleError::Io`] when it cannot be created.
    pub fn create(root: impl AsRef<Path>, kind: BundleKind, producer: Producer) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        if root.exists() {
            let mut items = fs::read_dir(&root).map_err(|e| io_err(&root, "", e))?;
            if items.next().is_some() {
                return Err(BundleError::NotEmpty { bundle: root });
            }
        }
        fs::create_dir_all(&root).map_err(|e| io_err(&root, "", e))?;
        Ok(Self::new(root, kind, producer, BTreeMap::new()))
    }

    /// Continues an unfinished bundle at `root` (for resume after a crash): every finished file already there is
    /// hashed again and kept, `*.tmp` leftovers are deleted, and an old `manifest.json` is removed so the bundle
    /// stays incomplete until [`finish`](Self::finish). A missing directory is created.
    ///
    /// # Errors
    /// [`BundleError::Io`] on any read or delete failure.
    pub fn reopen(root: impl AsRef<Path>, kind: BundleKind, producer: Producer) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(|e| io_err(&root, "", e))?;
        let mut entries = BTreeMap::new();
        for path in super::reader::walk_files(&root)? {
            let rel = to_rel_string(&root, &path);
            if rel == MANIFEST_FILE || rel.ends_with(TMP_SUFFIX) {
                fs::remove_file(&path).map_err(|e| io_err(&root, &rel, e))?;
                continue;
            }
            let (bytes, blake3) = super::reader::hash_file(&root, &rel)?;
            entries.insert(
                rel.clone(),
                FileEntry {
                    path: rel,
                    bytes,
                    blake3,
                    rows: None,
                },
            );
        }
        Ok(Self::new(root, kind, producer, entries))
    }

    fn new(
        root: PathBuf,
        kind: BundleKind,
        producer: Producer,
        entries: BTreeMap<String, FileEntry>,
    ) -> Self {
        Self {
            root,
            kind,
            producer,
            entries: Mutex::new(entries),
            meta: Mutex::new(Meta::default()),
        }
    }

    /// The bundle directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Absolute path of a bundle-relative path (the file need not exist).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// True when `rel` is already a finished file of this bundle (e.g. a part kept by [`reopen`](Self::reopen)).
    pub fn contains(&self, rel: &str) -> bool {
        self.lock_entries().contains_key(rel)
    }

    /// Sets the row count recorded for an already finished file (used after [`reopen`](Self::reopen), which
    /// cannot know row counts).
    pub fn set_rows(&self, rel: &str, rows: Option<u64>) {
        if let Some(entry) = self.lock_entries().get_mut(rel) {
            entry.rows = rows;
        }
    }

    /// Forgets and deletes a file (e.g. a part written after the last consistent point, before a resume).
    ///
    /// # Errors
    /// [`BundleError::Io`] when the file exists but cannot be deleted.
    pub fn remove(&self, rel: &str) -> Result<()> {
        self.lock_entries().remove(rel);
        match fs::remove_file(self.root.join(rel)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&self.root, rel, e)),
            _ => Ok(()),
        }
    }

    /// Opens `rel` for writing. The bytes go to `rel.tmp` until [`commit`](Self::commit).
    ///
    /// # Errors
    /// [`BundleError::InvalidPath`] for absolute paths, `..`, backslashes, empty parts or `manifest.json`;
    /// [`BundleError::Io`] when the file cannot be created.
    pub fn create_file(&self, rel: &str) -> Result<FileSink> {
        check_rel_path(&self.root, rel)?;
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| io_err(&self.root, rel, e))?;
        }
        let tmp = PathBuf::from(format!("{}{TMP_SUFFIX}", path.display()));
        let file = File::create(&tmp).map_err(|e| io_err(&self.root, rel, e))?;
        Ok(FileSink {
            rel: rel.to_string(),
            tmp,
            out: BufWriter::with_capacity(IO_BUFFER, file),
            hasher: blake3::Hasher::new(),
            bytes: 0,
        })
    }

    /// Finishes a file: flushes it to disk, renames it into place and records its size, hash and `rows`.
    ///
    /// # Errors
    /// [`BundleError::Io`] on flush, sync or rename failure (e.g. a full disk).
    pub fn commit(&self, sink: FileSink, rows: Option<u64>) -> Result<FileEntry> {
        let FileSink {
            rel,
            tmp,
            out,
            hasher,
            bytes,
        } = sink;
        let file = out
            .into_inner()
            .map_err(|e| io_err(&self.root, &rel, e.into_error()))?;
        file.sync_all().map_err(|e| io_err(&self.root, &rel, e))?;
        drop(file);
        fs::rename(&tmp, self.root.join(&rel)).map_err(|e| io_err(&self.root, &rel, e))?;
        let entry = FileEntry {
            path: rel.clone(),
            bytes,
            blake3: hasher.finalize().to_hex().to_string(),
            rows,
        };
        self.lock_entries().insert(rel, entry.clone());
        Ok(entry)
    }

    /// Writes a whole file from memory (small files: JSON, CSV, Markdown).
    ///
    /// # Errors
    /// As [`create_file`](Self::create_file) and [`commit`](Self::commit).
    pub fn write_bytes(&self, rel: &str, bytes: &[u8], rows: Option<u64>) -> Result<FileEntry> {
        let mut sink = self.create_file(rel)?;
        sink.write_all(bytes)
            .map_err(|e| io_err(&self.root, rel, e))?;
        self.commit(sink, rows)
    }

    /// Writes `value` as pretty-printed JSON followed by a newline.
    ///
    /// # Errors
    /// As [`write_bytes`](Self::write_bytes).
    pub fn write_json<T: serde::Serialize>(&self, rel: &str, value: &T) -> Result<FileEntry> {
        let mut text =
            serde_json::to_vec_pretty(value).map_err(|e| io_err(&self.root, rel, e.into()))?;
        text.push(b'\n');
        self.write_bytes(rel, &text, None)
    }

    /// Stores `bytes` as a content-addressed blob (deduplicated: the same bytes are stored once).
    ///
    /// # Errors
    /// [`BundleError::Io`] on write failure.
    pub fn add_blob(&self, bytes: &[u8]) -> Result<BlobRef> {
        self.add_blob_from(bytes)
    }

    /// Streams a blob from `reader` (memory stays at one buffer whatever the size), hashing as it goes.
    ///
    /// # Errors
    /// [`BundleError::Io`] on read or write failure.
    pub fn add_blob_from(&self, mut reader: impl Read) -> Result<BlobRef> {
        let staging = format!("blobs/incoming-{}", unique_suffix());
        let mut sink = self.create_file(&staging)?;
        io::copy(&mut reader, &mut sink).map_err(|e| io_err(&self.root, &staging, e))?;
        let FileSink {
            tmp,
            out,
            hasher,
            bytes,
            ..
        } = sink;
        let file = out
            .into_inner()
            .map_err(|e| io_err(&self.root, &staging, e.into_error()))?;
        file.sync_all()
            .map_err(|e| io_err(&self.root, &staging, e))?;
        drop(file);
        let blake3 = hasher.finalize().to_hex().to_string();
        let rel = blob_rel_path(&blake3);
        if self.contains(&rel) {
            fs::remove_file(&tmp).map_err(|e| io_err(&self.root, &staging, e))?;
        } else {
            let dest = self.root.join(&rel);
            fs::create_dir_all(dest.parent().unwrap_or(&self.root))
                .map_err(|e| io_err(&self.root, &rel, e))?;
            fs::rename(&tmp, &dest).map_err(|e| io_err(&self.root, &rel, e))?;
            self.record(&rel, bytes, &blake3);
        }
        Ok(BlobRef { blake3, bytes })
    }

    /// Adds a blob that already exists as a verified file elsewhere (e.g. in the input bundle): hard-linked where
    /// the file system allows, copied otherwise. The caller vouches for `blob` (it came from a verified bundle).
    ///
    /// # Errors
    /// [`BundleError::Io`] when neither link nor copy works.
    pub fn link_blob(&self, source_file: &Path, blob: &BlobRef) -> Result<()> {
        let rel = blob_rel_path(&blob.blake3);
        if self.contains(&rel) {
            return Ok(());
        }
        let dest = self.root.join(&rel);
        fs::create_dir_all(dest.parent().unwrap_or(&self.root))
            .map_err(|e| io_err(&self.root, &rel, e))?;
        if fs::hard_link(source_file, &dest).is_err() {
            fs::copy(source_file, &dest).map_err(|e| io_err(&self.root, &rel, e))?;
        }
        self.record(&rel, blob.bytes, &blob.blake3);
        Ok(())
    }

    fn record(&self, rel: &str, bytes: u64, blake3: &str) {
        let entry = FileEntry {
            path: rel.to_string(),
            bytes,
            blake3: blake3.to_string(),
            rows: None,
        };
        self.lock_entries().insert(rel.to_string(), entry);
    }

    /// Records the input bundle's `bundle_id` (content field).
    pub fn set_parent(&self, bundle_id: &str) {
        self.lock_meta().parent = Some(bundle_id.to_string());
    }

    /// Records the migration id from the confirmed mapping (content field).
    pub fn set_migration_id(&self, migration_id: &str) {
        self.lock_meta().migration_id = Some(migration_id.to_string());
    }

    /// Records where an extract came from (provenance field).
    pub fn set_source(&self, source: SourceInfo) {
        self.lock_meta().source = Some(source);
    }

    /// Records the digest of the effective configuration, secrets removed (provenance field).
    pub fn set_config_digest(&self, digest: &str) {
        self.lock_meta().config_digest = digest.to_string();
    }

    /// Writes `manifest.json` (temp file, fsync, rename) and returns it. Until this returns, the directory is
    /// an incomplete bundle.
    ///
    /// # Errors
    /// [`BundleError::Io`] on write failure.
    pub fn finish(self) -> Result<Manifest> {
        let meta = self.meta.into_inner().unwrap_or_else(|p| p.into_inner());
        let entries = self.entries.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut manifest = Manifest {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            kind: self.kind,
            parent: meta.parent,
            migration_id: meta.migration_id,
            files: entries.into_values().collect(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            producer: self.producer,
            config_digest: meta.config_digest,
            source: meta.source,
            bundle_id: String::new(),
            seal: String::new(),
        };
        manifest.seal_now();
        let mut text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| io_err(&self.root, MANIFEST_FILE, e.into()))?;
        text.push(b'\n');
        let tmp = self.root.join(format!("{MANIFEST_FILE}{TMP_SUFFIX}"));
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            fs::rename(&tmp, self.root.join(MANIFEST_FILE))
        };
        write().map_err(|e| io_err(&self.root, MANIFEST_FILE, e))?;
        Ok(manifest)
    }

    fn lock_entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, FileEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_meta(&self) -> std::sync::MutexGuard<'_, Meta> {
        self.meta.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub(super) fn io_err(bundle: &Path, rel: &str, source: io::Error) -> BundleError {
    BundleError::Io {
        bundle: bundle.to_path_buf(),
        path: rel.to_string(),
        source,
    }
}
