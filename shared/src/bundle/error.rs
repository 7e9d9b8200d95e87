//! Errors of reading, verifying and writing bundles. Every variant names the bundle and, where there is one,
//! the file inside it.

use std::path::PathBuf;

/// Why a bundle could not be written, read or trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The path given as a bundle does not exist or is not a directory (usually a typing mistake).
    #[error("bundle {bundle}: no such directory")]
    NotFound {
        /// The path given.
        bundle: PathBuf,
    },
    /// `manifest.json` is absent: the writer never finished (crash, kill, full disk) or this is not a bundle.
    #[error(
        "bundle {bundle}: incomplete, manifest.json is missing (the writer did not finish; re-run the stage)"
    )]
    Incomplete {
        /// Bundle directory.
        bundle: PathBuf,
    },
    /// `manifest.json` exists but is not valid JSON of the manifest shape.
    #[error("bundle {bundle}: manifest.json cannot be read: {reason}")]
    ManifestUnreadable {
        /// Bundle directory.
        bundle: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// `format` is not `ti-bundle` or `format_version` is not one this build reads.
    #[error(
        "bundle {bundle}: manifest.json has format {format:?} version {version}; this build reads \"ti-bundle\" version 1"
    )]
    UnknownFormat {
        /// Bundle directory.
        bundle: PathBuf,
        /// The `format` field found.
        format: String,
        /// The `format_version` field found.
        version: u64,
    },
    /// The manifest was changed after it was written: `bundle_id` or `seal` does not match its fields.
    #[error(
        "bundle {bundle}: manifest.json was edited: {field} does not match (expected {expected}, found {found})"
    )]
    ManifestEdited {
        /// Bundle directory.
        bundle: PathBuf,
        /// `bundle_id` or `seal`.
        field: &'static str,
        /// Value recomputed from the manifest's fields.
        expected: String,
        /// Value stored in the manifest.
        found: String,
    },
    /// A file listed in the manifest is not on disk.
    #[error("bundle {bundle}: file {path} is listed in the manifest but missing")]
    MissingFile {
        /// Bundle directory.
        bundle: PathBuf,
        /// Path inside the bundle, `/`-separated.
        path: String,
    },
    /// A file is on disk but not listed in the manifest.
    #[error("bundle {bundle}: file {path} is present but not listed in the manifest")]
    UnlistedFile {
        /// Bundle directory.
        bundle: PathBuf,
        /// Path inside the bundle, `/`-separated.
        path: String,
    },
    /// A file's size differs from the manifest (truncated or appended to).
    #[error("bundle {bundle}: file {path} has {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// Bundle directory.
        bundle: PathBuf,
        /// Path inside the bundle.
        path: String,
        /// Size in the manifest, bytes.
        expected: u64,
        /// Size on disk, bytes.
        actual: u64,
    },
    /// A file's blake3 hash differs from the manifest (its content was changed).
    #[error(
        "bundle {bundle}: file {path} is damaged: blake3 {actual}, the manifest says {expected}"
    )]
    HashMismatch {
        /// Bundle directory.
        bundle: PathBuf,
        /// Path inside the bundle.
        path: String,
        /// Hash in the manifest (hex).
        expected: String,
        /// Hash of the bytes on disk (hex).
        actual: String,
    },
    /// A path given to the writer, or found in a manifest, is not a safe relative bundle path.
    #[error("bundle {bundle}: invalid path {path:?}: {reason}")]
    InvalidPath {
        /// Bundle directory.
        bundle: PathBuf,
        /// The offending path.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The bundle is intact but of the other kind (an extract bundle given to `ti-load`, a load bundle given to
    /// `ti-transform run`).
    #[error("bundle {bundle}: this is {found} bundle; this command needs {expected} bundle")]
    WrongKind {
        /// Bundle directory.
        bundle: PathBuf,
        /// What the command needs: "an extract" or "a load".
        expected: &'static str,
        /// What the manifest says.
        found: &'static str,
    },
    /// A reader asked for a file the manifest does not list (usually: the wrong kind of bundle).
    #[error("bundle {bundle}: it has no file {path} (is it the right kind of bundle?)")]
    NotInBundle {
        /// Bundle directory.
        bundle: PathBuf,
        /// The path asked for.
        path: String,
    },
    /// The writer was asked to create a bundle in a directory that already holds files.
    #[error(
        "bundle {bundle}: the output directory exists and is not empty; choose a new directory or remove it"
    )]
    NotEmpty {
        /// Bundle directory.
        bundle: PathBuf,
    },
    /// An I/O error (permissions, full disk, …) on a file of the bundle.
    #[error("bundle {bundle}{}: {source}", inside(.path))]
    Io {
        /// Bundle directory.
        bundle: PathBuf,
        /// Path inside the bundle (or the bundle directory itself).
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl BundleError {
    /// True when the bundle itself is not trustworthy (damaged, tampered, incomplete, unknown format), as opposed
    /// to an environment problem reading it. The binaries exit with code 3 for these, 1 otherwise.
    pub fn is_verification_failure(&self) -> bool {
        !matches!(
            self,
            BundleError::Io { .. }
                | BundleError::NotFound { .. }
                | BundleError::NotEmpty { .. }
                | BundleError::WrongKind { .. }
                | BundleError::NotInBundle { .. }
        )
    }
}

/// `": PATH"` for a file inside the bundle, nothing for the bundle directory itself (empty `path`), so an error on
/// the directory reads "bundle /x/lb: Permission denied", not "bundle /x/lb: : Permission denied".
fn inside(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(": {path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_error_on_the_bundle_directory_has_no_empty_path_part() {
        let on_dir = BundleError::Io {
            bundle: PathBuf::from("/x/lb"),
            path: String::new(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert_eq!(on_dir.to_string(), "bundle /x/lb: permission denied");
        let on_file = BundleError::Io {
            bundle: PathBuf::from("/x/lb"),
            path: "records/06-conversation.ndjson".into(),
            source: std::io::Error::from(std::io::ErrorKind::StorageFull),
        };
        assert_eq!(
            on_file.to_string(),
            "bundle /x/lb: records/06-conversation.ndjson: no storage space"
        );
    }
}
