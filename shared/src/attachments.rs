//! The one list of restricted attachment extensions, used by transform (which lists such files instead of
//! sending them) and by the Intercom simulator (which rejects them, as a workspace with default settings would).
//!
//! Intercom does not document which file types it blocks; executables and scripts are the conservative default
//! (DESIGN.md §8). The list is configurable in pipeline.toml (`[transform] restricted_extensions`).

/// Extensions (lower case, without the dot) refused by default: executables, installers and scripts.
pub const DEFAULT_RESTRICTED_EXTENSIONS: &[&str] = &[
    "exe", "scr", "bat", "cmd", "com", "pif", "msi", "msp", "js", "jse", "vbs", "vbe", "wsf",
    "wsh", "ps1", "psm1", "hta", "cpl", "jar", "reg", "lnk", "dll", "sys",
];

/// True when `file_name` ends in a restricted extension of the default list, compared case-insensitively.
///
/// Only the last extension counts, which is what a mail gateway or Intercom sees: `invoice.pdf.exe` is
/// restricted, `setup.exe.txt` is not. A name without a dot has no extension and is not restricted.
pub fn is_restricted(file_name: &str) -> bool {
    is_restricted_by(file_name, DEFAULT_RESTRICTED_EXTENSIONS)
}

/// Like [`is_restricted`], against a caller's list (entries with or without a leading dot, any case).
pub fn is_restricted_by<S: AsRef<str>>(file_name: &str, list: &[S]) -> bool {
    match extension(file_name) {
        Some(ext) => list.iter().any(|entry| {
            entry
                .as_ref()
                .trim_start_matches('.')
                .eq_ignore_ascii_case(&ext)
        }),
        None => false,
    }
}

/// The last extension of a file name, lower-cased, without the dot; `None` when there is none.
///
/// Trailing dots and spaces are ignored first, because Windows strips them: `evil.exe. ` is an `.exe`.
/// Path separators of either kind end the name, so `a.b\\c` has no extension.
pub fn extension(file_name: &str) -> Option<String> {
    let trimmed = file_name.trim_end_matches(['.', ' ']);
    let base = trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_extensions_count_by_the_last_one() {
        assert!(is_restricted("invoice.pdf.exe"));
        assert!(is_restricted("SETUP.EXE"));
        assert!(is_restricted("evil.exe. "));
        assert!(!is_restricted("setup.exe.txt"));
        assert!(!is_restricted("README"));
        assert!(!is_restricted(".bashrc"));
    }

    #[test]
    fn caller_lists_accept_dots_and_case() {
        assert!(is_restricted_by("a.PDF", &[".pdf"]));
        assert!(!is_restricted_by("a.pdf", &["exe"]));
        assert_eq!(extension("dir\\file.Tar"), Some("tar".into()));
    }
}
