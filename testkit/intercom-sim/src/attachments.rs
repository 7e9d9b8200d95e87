//! Attachment checks: the restricted-extension list comes from `ti_shared::attachments`.

/// The default refused extensions (ti-shared's list, executables and scripts).
pub fn default_restricted_extensions() -> Vec<String> {
    ti_shared::attachments::DEFAULT_RESTRICTED_EXTENSIONS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// True when `file_name`'s last extension is in `list` (case-insensitive).
pub fn is_restricted(file_name: &str, list: &[String]) -> bool {
    ti_shared::attachments::is_restricted_by(file_name, list)
}
