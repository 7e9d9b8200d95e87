//! Reading a bundle: the whole bundle is verified, streaming, before anything uses it.

use super::Result;
use super::error::BundleError;
use super::manifest::{BundleKind, FORMAT, FORMAT_VERSION, FileEntry, MANIFEST_FILE, Manifest};
use super::paths::{blob_rel_path, check_rel_path, to_rel_string};
use super::writer::io_err;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// A bundle whose every file has been checked against its manifest.
#[derive(Debug, Clone)]
pub struct Bundle {
    root: PathBuf,
    manifest: Manifest,
}

/// Totals of a successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifySummary {
    /// Files checked (manifest excluded).
    pub files: u64,
    /// Bytes hashed.
    pub bytes: u64,
}

impl Bundle {
    /// Opens and fully verifies the bundle at `root`: manifest present and untampered, format known, every
    /// listed file present with the right size and blake3, and no unlisted file. Files are hashed streaming
    /// (a fixed buffer per file, files in parallel on rayon's pool), so memory does not depend on file sizes.
    ///
    /// # Errors
    /// The first problem found, as a [`BundleError`] variant naming the bundle and the file:
    /// `NotFound`, `Incomplete`, `ManifestUnreadable` (also for a file listed twice), `UnknownFormat`,
    /// `ManifestEdited`, `UnlistedFile`, `MissingFile`, `SizeMismatch`, `HashMismatch`, or `Io`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref().to_path_buf();
        let manifest = read_manifest(&root)?;
        verify_files(&root, &manifest)?;
        Ok(Self { root, manifest })
    }

    /// Like [`open`](Self::open), and also checks the bundle's kind.
    ///
    /// # Errors
    /// As [`open`](Self::open), plus [`BundleError::WrongKind`] when the manifest's `kind` differs from `kind`.
    pub fn open_kind(root: impl AsRef<Path>, kind: BundleKind) -> Result<Self> {
        let bundle = Self::open(root)?;
        if bundle.manifest.kind != kind {
            let name = |k: BundleKind| match k {
                BundleKind::Extract => "an extract",
                BundleKind::Load => "a load",
            };
            return Err(BundleError::WrongKind {
                bundle: bundle.root.clone(),
                expected: name(kind),
                found: name(bundle.manifest.kind),
            });
        }
        Ok(bundle)
    }

    /// The bundle directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The verified manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The bundle's id (blake3 of its content fields).
    pub fn id(&self) -> &str {
        &self.manifest.bundle_id
    }

    /// Totals over the manifest's files.
    pub fn summary(&self) -> VerifySummary {
        VerifySummary {
            files: self.manifest.files.len() as u64,
            bytes: self.manifest.files.iter().map(|f| f.bytes).sum(),
        }
    }

    /// Absolute path of a bundle-relative path.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The manifest entry for `rel`, if listed.
    pub fn entry(&self, rel: &str) -> Option<&FileEntry> {
        self.manifest.entry(rel)
    }

    /// Entries whose path starts with `prefix` (e.g. `"tables/dbo.^T^A^S^K^S/"`), in path order.
    pub fn files_under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a FileEntry> + 'a {
        self.manifest
            .files
            .iter()
            .filter(move |f| f.path.starts_with(prefix))
    }

    /// Absolute path of the blob with this blake3 hex, if the bundle lists it.
    pub fn blob_path(&self, blake3_hex: &str) -> Option<PathBuf> {
        let rel = blob_rel_path(blake3_hex);
        self.entry(&rel).map(|_| self.root.join(rel))
    }

    /// Opens a listed file for reading.
    ///
    /// # Errors
    /// [`BundleError::MissingFile`] when `rel` is not listed; [`BundleError::Io`] when it cannot be opened.
    pub fn open_file(&self, rel: &str) -> Result<File> {
        if self.entry(rel).is_none() {
            return Err(BundleError::NotInBundle {
                bundle: self.root.clone(),
                path: rel.to_string(),
            });
        }
        File::open(self.root.join(rel)).map_err(|e| io_err(&self.root, rel, e))
    }
}

fn read_manifest(root: &Path) -> Result<Manifest> {
    if !root.is_dir() {
        return Err(BundleError::NotFound {
            bundle: root.to_path_buf(),
        });
    }
    let path = root.join(MANIFEST_FILE);
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BundleError::Incomplete {
                bundle: root.to_path_buf(),
            });
        }
        Err(e) => return Err(io_err(root, MANIFEST_FILE, e)),
    };
    let unreadable = |reason: String| BundleError::ManifestUnreadable {
        bundle: root.to_path_buf(),
        reason,
    };
    let raw: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| unreadable(e.to_string()))?;
    let format = raw
        .get("format")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let version = raw
        .get("format_version")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    if format != FORMAT || version != FORMAT_VERSION {
        return Err(BundleError::UnknownFormat {
            bundle: root.to_path_buf(),
            format,
            version,
        });
    }
    let manifest: Manifest = serde_json::from_value(raw).map_err(|e| unreadable(e.to_string()))?;
    check_seals(root, &manifest)?;
    let mut seen = BTreeSet::new();
    for entry in &manifest.files {
        check_rel_path(root, &entry.path)?;
        // A manifest re-sealed with a file listed twice (with two different hashes) must not verify: one of
        // the two entries would be a lie whichever copy a reader trusts.
        if !seen.insert(entry.path.as_str()) {
            return Err(unreadable(format!("file {} is listed twice", entry.path)));
        }
        // Blobs are addressed by content: records refer to a blob by its hash, so a blob whose bytes were replaced
        // (and the manifest re-sealed) would hand another file to every record that names it.
        if entry.path.starts_with("blobs/") && entry.path != blob_rel_path(&entry.blake3) {
            return Err(BundleError::InvalidPath {
                bundle: root.to_path_buf(),
                path: entry.path.clone(),
                reason: "a blob's file name must be the blake3 hash of its bytes (was its content replaced?)",
            });
        }
    }
    Ok(manifest)
}

fn check_seals(root: &Path, manifest: &Manifest) -> Result<()> {
    let edited = |field, expected: String, found: &str| BundleError::ManifestEdited {
        bundle: root.to_path_buf(),
        field,
        expected,
        found: found.to_string(),
    };
    let id = manifest.compute_bundle_id();
    if id != manifest.bundle_id {
        return Err(edited("bundle_id", id, &manifest.bundle_id));
    }
    let seal = manifest.compute_seal();
    if seal != manifest.seal {
        return Err(edited("seal", seal, &manifest.seal));
    }
    Ok(())
}

fn verify_files(root: &Path, manifest: &Manifest) -> Result<()> {
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    for path in walk_files(root)? {
        let rel = to_rel_string(root, &path);
        if rel != MANIFEST_FILE && !listed.contains(rel.as_str()) {
            return Err(BundleError::UnlistedFile {
                bundle: root.to_path_buf(),
                path: rel,
            });
        }
    }
    // Files are hashed in parallel (a load bundle of 100,000 tickets holds tens of thousands of blobs); the error
    // reported is still the first in manifest order, so messages do not depend on thread timing.
    let outcomes: Vec<Result<()>> = manifest
        .files
        .par_iter()
        .map(|entry| verify_entry(root, entry))
        .collect();
    outcomes.into_iter().collect()
}

fn verify_entry(root: &Path, entry: &FileEntry) -> Result<()> {
    let path = root.join(&entry.path);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => m,
        Ok(_) => {
            return Err(BundleError::MissingFile {
                bundle: root.to_path_buf(),
                path: entry.path.clone(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BundleError::MissingFile {
                bundle: root.to_path_buf(),
                path: entry.path.clone(),
            });
        }
        Err(e) => return Err(io_err(root, &entry.path, e)),
    };
    if meta.len() != entry.bytes {
        return Err(BundleError::SizeMismatch {
            bundle: root.to_path_buf(),
            path: entry.path.clone(),
            expected: entry.bytes,
            actual: meta.len(),
        });
    }
    let (_, actual) = hash_file(root, &entry.path)?;
    if actual != entry.blake3 {
        return Err(BundleError::HashMismatch {
            bundle: root.to_path_buf(),
            path: entry.path.clone(),
            expected: entry.blake3.clone(),
            actual,
        });
    }
    Ok(())
}

/// Hashes a bundle file streaming; returns (bytes, blake3 hex).
pub(super) fn hash_file(root: &Path, rel: &str) -> Result<(u64, String)> {
    let file = File::open(root.join(rel)).map_err(|e| io_err(root, rel, e))?;
    let mut hasher = blake3::Hasher::new();
    // `update_reader` streams through a fixed buffer: memory does not depend on the file's size.
    hasher
        .update_reader(file)
        .map_err(|e| io_err(root, rel, e))?;
    Ok((hasher.count(), hasher.finalize().to_hex().to_string()))
}

/// Every regular file (and symlink) below `root`, in sorted order.
pub(super) fn walk_files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rel = to_rel_string(root, &dir);
        for item in fs::read_dir(&dir).map_err(|e| io_err(root, &rel, e))? {
            let item = item.map_err(|e| io_err(root, &rel, e))?;
            let kind = item.file_type().map_err(|e| io_err(root, &rel, e))?;
            if kind.is_dir() {
                stack.push(item.path());
            } else {
                out.push(item.path());
            }
        }
    }
    out.sort();
    Ok(out)
}
