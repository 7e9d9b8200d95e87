//! Errors of the transform stage. Each variant says whose problem it is, so `main` can pick the exit code
//! (ti_shared::cli::exit): `Usage`, `Incomplete`, `Unconfirmed`, `Fingerprint` and `AttributeLimit` → 2, `Bundle`
//! verification failures, `Inconsistent` and
//! `Content` → 3, everything else → 1.

use ti_shared::bundle::BundleError;

/// Result of transform operations.
pub type Result<T, E = TransformError> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The input or output bundle (verification or I/O).
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A Parquet part could not be read.
    #[error("parquet: {0}")]
    Parquet(String),
    /// The extract bundle lacks something the transform needs (inventory, a blob).
    #[error("extract bundle: {0}")]
    Input(String),
    /// A usage or configuration problem (bad mapping file, unknown profile): the user's to fix.
    #[error("{0}")]
    Usage(String),
    /// The extract lacks a table the transform reads, or holds fewer rows of it than the extract recorded
    /// (a partial extract, a removed folder): re-extracting is the user's to do (exit 2).
    #[error("extract bundle is incomplete: {0}")]
    Incomplete(String),
    /// The bundle verifies but its parts contradict its inventory (a Parquet file of another table, row counts
    /// that differ from the manifest): the bundle cannot be trusted (exit 3).
    #[error("extract bundle is inconsistent: {0}")]
    Inconsistent(String),
    /// A file of the extract bundle is listed in its manifest (so the bundle verifies) but its content cannot be
    /// read: a corrupt or truncated Parquet part, a missing or unreadable `inventory.json`. The bundle cannot be
    /// trusted (exit 3); re-extract or restore it from a copy.
    #[error(
        "extract bundle {bundle}: {file} cannot be read ({detail}); the bundle's content is damaged: re-extract or \
         restore the bundle from a copy"
    )]
    Content {
        /// The extract bundle folder.
        bundle: String,
        /// The bundle-relative file.
        file: String,
        /// What the reader said.
        detail: String,
    },
    /// The mapping has not been confirmed.
    #[error(
        "mapping {path} is not confirmed: review every `proposed` decision in it, then set `confirmed = true` at \
         the top and run again"
    )]
    Unconfirmed {
        /// Mapping file.
        path: String,
    },
    /// The mapping was made for another schema.
    #[error(
        "mapping {path}: this mapping was made for another database or schema (fingerprint {mapping}; this \
         extract's is {bundle}). Run `ti-transform propose` on this extract, carry your reviewed decisions over, confirm it and run \
         again"
    )]
    Fingerprint {
        /// Mapping file.
        path: String,
        /// Fingerprint in the mapping.
        mapping: String,
        /// Fingerprint of the bundle's inventory.
        bundle: String,
    },
    /// The attribute plan exceeds Intercom's 250 custom attributes.
    #[error(
        "the mapping plans {count} custom {model} attributes, more than Intercom's limit of 250: disable some \
         `[[attribute]]` entries (enabled = false) and run again"
    )]
    AttributeLimit {
        /// Model (contact, company, conversation).
        model: String,
        /// Planned count.
        count: usize,
    },
    /// File system problem writing outputs.
    #[error("{path}: {source}")]
    Io {
        /// What was being written or read.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
}

impl TransformError {
    /// The process exit code for this error (ti_shared::cli::exit).
    pub fn exit_code(&self) -> u8 {
        use ti_shared::cli::exit;
        match self {
            TransformError::Usage(_)
            | TransformError::Incomplete(_)
            | TransformError::Unconfirmed { .. }
            | TransformError::Fingerprint { .. }
            | TransformError::AttributeLimit { .. } => exit::USAGE,
            TransformError::Bundle(e) => ti_shared::cli::exit_code_for_bundle_error(e),
            TransformError::Inconsistent(_) | TransformError::Content { .. } => {
                exit::BUNDLE_INVALID
            }
            _ => exit::FAILURE,
        }
    }
}

/// A source file of the extract bundle at `root` that cannot be read ([`TransformError::Content`], exit 3).
pub fn content(
    root: &std::path::Path,
    rel: &str,
    detail: impl std::fmt::Display,
) -> TransformError {
    TransformError::Content {
        bundle: root.display().to_string(),
        file: rel.to_string(),
        detail: detail.to_string(),
    }
}

/// Maps an I/O error on `path` to [`TransformError::Io`] naming the path (every write error names the file it
/// was writing, so a full disk says where).
pub fn io_at(path: &std::path::Path) -> impl Fn(std::io::Error) -> TransformError + '_ {
    move |source| TransformError::Io {
        path: path.display().to_string(),
        source,
    }
}
