//! The bundle format (DESIGN.md §4, docs/bundle-format.md): a directory of files, each hashed with blake3 in
//! `manifest.json`, which is written last. [`BundleWriter`] builds one; [`Bundle::open`] verifies one before use.

mod error;
mod manifest;
mod paths;
mod reader;
mod writer;

pub use error::BundleError;
pub use manifest::{
    BundleKind, FORMAT, FORMAT_VERSION, FileEntry, MANIFEST_FILE, Manifest, Producer, SourceInfo,
};
pub use paths::{blob_rel_path, decode_object_name, encode_object_name};
pub use reader::{Bundle, VerifySummary};
pub use writer::{BlobRef, BundleWriter, FileSink};

/// Result of bundle operations.
pub type Result<T, E = BundleError> = std::result::Result<T, E>;

/// Suffix of files still being written; never part of a finished bundle.
pub const TMP_SUFFIX: &str = ".tmp";

/// Well-known paths inside bundles, shared by every stage.
pub mod layout {
    /// Extract: the schema inventory (DESIGN.md §4).
    pub const INVENTORY: &str = "inventory.json";
    /// Extract: folder of base tables, one sub-folder per table (encoded with `encode_object_name`).
    pub const TABLES: &str = "tables";
    /// Extract: folder of views.
    pub const VIEWS: &str = "views";
    /// Content-addressed blobs.
    pub const BLOBS: &str = "blobs";
    /// Load: NDJSON records in load order.
    pub const RECORDS: &str = "records";
    /// Load: gap datasets and handoff documents.
    pub const GAPS: &str = "gaps";
    /// Load: the migration report.
    pub const REPORT: &str = "report";
}
