//! `manifest.json`: the list of a bundle's files with their sizes and blake3 hashes, plus provenance.
//!
//! Field rules come from DESIGN.md §4 and are written down for other tools in docs/bundle-format.md:
//! - content fields: `format`, `format_version`, `kind`, `parent`, `migration_id`, `files`;
//! - provenance fields: `created_at`, `producer`, `config_digest`, `source`;
//! - `bundle_id` = blake3 hex of the canonical JSON of the content fields only;
//! - `seal` = blake3 hex of the canonical JSON of the provenance fields plus `bundle_id`.

use crate::canonical;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The value of `format` in every manifest.
pub const FORMAT: &str = "ti-bundle";
/// The only `format_version` this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// File name of the manifest at the bundle root.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Which stage wrote the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BundleKind {
    /// Written by `ti-extract run`: tables, views, blobs, inventory.
    Extract,
    /// Written by `ti-transform run`: records, gaps, report, blobs.
    Load,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the bundle root, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// blake3 of the content, 64 lower-case hex characters.
    pub blake3: String,
    /// Number of data rows (Parquet rows, NDJSON lines) when the file holds rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// The program that wrote the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Producer {
    /// Binary name, e.g. `ti-extract`.
    pub name: String,
    /// Its version (Cargo package version).
    pub version: String,
}

/// Where an extract bundle's data came from (extract bundles only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// SQL Server host (and instance/port) as given in the connection string, without credentials.
    pub server: String,
    /// Database name.
    pub database: String,
    /// When the extract started, RFC 3339 UTC.
    pub snapshot_time: String,
}

/// The parsed `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`FORMAT_VERSION`] for bundles this build writes.
    pub format_version: u64,
    /// Extract or load bundle.
    pub kind: BundleKind,
    /// `bundle_id` of the input bundle (load bundles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The migration this bundle belongs to, from the confirmed mapping (load bundles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_id: Option<String>,
    /// Every file except `manifest.json`, sorted by path.
    pub files: Vec<FileEntry>,
    /// When the bundle was finished, RFC 3339 UTC.
    pub created_at: String,
    /// The writing program.
    pub producer: Producer,
    /// blake3 of the effective configuration with secrets and connection details removed.
    pub config_digest: String,
    /// Source database facts (extract bundles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
    /// blake3 of the canonical JSON of the content fields.
    pub bundle_id: String,
    /// blake3 of the canonical JSON of the provenance fields and `bundle_id`.
    pub seal: String,
}

const CONTENT_FIELDS: &[&str] = &[
    "format",
    "format_version",
    "kind",
    "parent",
    "migration_id",
    "files",
];

impl Manifest {
    /// Computes `bundle_id` from the content fields as they are now.
    pub fn compute_bundle_id(&self) -> String {
        canonical::digest(&Value::Object(
            self.fields(|name| CONTENT_FIELDS.contains(&name)),
        ))
    }

    /// Computes `seal` from the provenance fields and the stored `bundle_id`.
    pub fn compute_seal(&self) -> String {
        canonical::digest(&Value::Object(
            self.fields(|name| !CONTENT_FIELDS.contains(&name) && name != "seal"),
        ))
    }

    /// Sets `bundle_id` and then `seal` from the other fields.
    pub fn seal_now(&mut self) {
        self.bundle_id = self.compute_bundle_id();
        self.seal = self.compute_seal();
    }

    /// The entry for `path`, if the manifest lists it.
    pub fn entry(&self, path: &str) -> Option<&FileEntry> {
        self.files
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    fn fields(&self, keep: impl Fn(&str) -> bool) -> Map<String, Value> {
        let Value::Object(all) = serde_json::to_value(self).expect("manifest serialises") else {
            unreachable!("a struct serialises to an object")
        };
        all.into_iter().filter(|(k, _)| keep(k)).collect()
    }
}
