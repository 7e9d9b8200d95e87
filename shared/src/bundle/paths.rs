//! Bundle-relative paths: `/`-separated, no `..`, never absolute; and the percent-encoding of SQL Server object
//! names into folder names (DESIGN.md §4: spaces, brackets and case-only differences must survive any file
//! system).

use super::error::BundleError;
use super::manifest::MANIFEST_FILE;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use std::path::Path;

/// Characters kept as they are in folder names: ASCII letters, digits, `_`, `-` and `.`; everything else is
/// percent-encoded as UTF-8 bytes (case marking is done separately, see [`encode_object_name`]).
const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'-').remove(b'.');

/// Encodes one SQL Server object name (`dbo.TASKS`, `_SMDBA_.Ticket Notes`) as a folder name that is valid and
/// distinct on every file system: unsafe bytes are percent-encoded, and because Windows and macOS fold case,
/// each upper-case ASCII letter is preceded by `^` (so `TASKS` and `tasks` differ: `^T^A^S^K^S` vs `tasks`).
/// A leading `.` is encoded so no folder is hidden.
pub fn encode_object_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    for piece in utf8_percent_encode(name, KEEP) {
        for ch in piece.chars() {
            if ch.is_ascii_uppercase() && !piece.starts_with('%') {
                out.push('^');
            }
            out.push(ch);
        }
    }
    if out.starts_with('.') {
        out.replace_range(0..1, "%2E");
    }
    out
}

/// Reverses [`encode_object_name`]. Returns `None` for text that is not such an encoding.
pub fn decode_object_name(folder: &str) -> Option<String> {
    let unmarked = folder.replace('^', "");
    percent_decode_str(&unmarked)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Path of a blob inside a bundle: `blobs/<first 2 hex>/<blake3 hex>`.
pub fn blob_rel_path(blake3_hex: &str) -> String {
    let prefix = blake3_hex.get(..2).unwrap_or("00");
    format!("blobs/{prefix}/{blake3_hex}")
}

pub(super) fn check_rel_path(bundle: &Path, rel: &str) -> Result<(), BundleError> {
    let bad = |reason| {
        Err(BundleError::InvalidPath {
            bundle: bundle.to_path_buf(),
            path: rel.to_string(),
            reason,
        })
    };
    if rel.is_empty() {
        return bad("empty path");
    }
    if rel.starts_with('/') || rel.contains('\\') || rel.contains(':') {
        return bad("must be relative, `/`-separated, without `\\` or `:`");
    }
    if rel
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return bad("empty, `.` or `..` component");
    }
    if rel == MANIFEST_FILE {
        return bad("manifest.json is written by finish() only");
    }
    Ok(())
}

pub(super) fn to_rel_string(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_round_trip_and_stay_distinct_by_case() {
        for name in [
            "dbo.TASKS",
            "dbo.tasks",
            "_SMDBA_.Ticket Notes",
            "dbo.[odd]/name",
            ".hidden",
            "dbo.Café",
        ] {
            let enc = encode_object_name(name);
            assert!(!enc.contains(['/', ' ', '[', '\\']), "{enc}");
            assert_eq!(decode_object_name(&enc).as_deref(), Some(name));
        }
        assert_ne!(
            encode_object_name("dbo.TASKS").to_lowercase(),
            encode_object_name("dbo.tasks").to_lowercase()
        );
        assert_eq!(encode_object_name("dbo.TASKS"), "dbo.^T^A^S^K^S");
        assert_eq!(
            encode_object_name("_SMDBA_.Ticket Notes"),
            "_^S^M^D^B^A_.^Ticket%20^Notes"
        );
    }
}
