//! Attachments: sanitised names, the policy (restricted extensions, size limit), and where the bytes are
//! (a blob of the extract bundle, an in-row binary cell, or a file-share file listed in
//! `attachments/files.parquet`).

use crate::ctx::{BlobSource, Ctx};
use crate::model::Attachment;
use crate::source::{Cell, SourceTables};
use std::collections::HashMap;

/// Windows device names that cannot be file names (with any extension).
const DEVICES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// A safe file name: the last path component (either separator), `..`, `:` and control characters replaced by
/// `_`, trailing dots and spaces removed, device names prefixed with `_`, at most 255 bytes (cut on a character
/// boundary, extension kept), never empty (`attachment`).
pub fn sanitise_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut s: String = base
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    while s.contains("..") {
        s = s.replace("..", "_");
    }
    let mut s = s.trim_end_matches(['.', ' ']).trim_start().to_string();
    if s.is_empty() {
        s = "attachment".into();
    }
    let stem = s.split('.').next().unwrap_or("").to_lowercase();
    if DEVICES.contains(&stem.trim()) {
        s = format!("_{s}");
    }
    if s.len() > 255 {
        let ext = s
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .filter(|e| e.len() < 20);
        let budget = 255 - ext.as_ref().map(|e| e.len() + 1).unwrap_or(0);
        let mut cut = String::new();
        for c in s.chars() {
            if cut.len() + c.len_utf8() > budget {
                break;
            }
            cut.push(c);
        }
        s = match ext {
            Some(e) => format!("{cut}.{e}"),
            None => cut,
        };
    }
    s
}

/// File-share attachments of the extract (`attachments/files.parquet`): normalised relative path → (blake3,
/// bytes). Paths are compared lower-case with `/` separators, by suffix.
#[derive(Debug, Default)]
pub struct ShareIndex {
    exact: HashMap<String, (String, u64)>,
    files: HashMap<String, (String, u64)>,
    /// Every proper `/`-suffix of an indexed path (`a/b/c` → `b/c`, `c`) → the indexed path it ends, the
    /// longest (then greatest) one when several do; built once so a lookup never scans all files.
    tails: HashMap<String, String>,
}

/// ti-extract's rule for a database path (`12\\report.pdf` → `12/report.pdf`): the first `\\` separates the
/// folder, because file names may themselves contain backslashes.
fn extract_path(p: &str) -> String {
    match p.split_once('\\') {
        Some((dir, file)) => format!("{dir}/{file}"),
        None => p.to_string(),
    }
}

fn norm_path(p: &str) -> String {
    p.replace('\\', "/")
        .trim_start_matches("./")
        .trim_start_matches('/')
        .to_lowercase()
}

impl ShareIndex {
    /// Reads `attachments/files.parquet` when the extract has one (columns named `path`, `blake3`, `bytes`).
    ///
    /// # Errors
    /// Parquet read failures.
    pub fn load(source: &SourceTables) -> crate::error::Result<Self> {
        let mut files = HashMap::new();
        let mut exact = HashMap::new();
        source.scan_file("attachments/files.parquet", |b| {
            for row in 0..b.num_rows() {
                let path = b.text("path", row);
                let hash = b.text("blake3", row);
                let bytes = b.int("bytes", row).unwrap_or(0).max(0) as u64;
                if let (Some(p), Some(h)) = (path, hash) {
                    exact.insert(p.clone(), (h.clone(), bytes));
                    files.insert(norm_path(&p), (h, bytes));
                }
            }
            Ok(())
        })?;
        let mut tails: HashMap<String, String> = HashMap::new();
        for k in files.keys() {
            for (i, _) in k.match_indices('/') {
                let tail = &k[i + 1..];
                let better = match tails.get(tail) {
                    Some(cur) => (k.len(), k) > (cur.len(), cur),
                    None => true,
                };
                if better {
                    tails.insert(tail.to_string(), k.clone());
                }
            }
        }
        Ok(Self {
            exact,
            files,
            tails,
        })
    }

    /// The file for a stored path: exact match, else the longest indexed path that is a suffix of it (or of which
    /// it is a suffix).
    pub fn find(&self, stored: &str) -> Option<&(String, u64)> {
        if let Some(f) = self.exact.get(&extract_path(stored)) {
            return Some(f);
        }
        let p = norm_path(stored);
        if let Some(f) = self.files.get(&p) {
            return Some(f);
        }
        // Candidates: indexed paths that are a `/`-suffix of `p`, and the best indexed path `p` is a `/`-suffix
        // of; the longest (then greatest) wins.
        let mut best: Option<&String> = None;
        let candidates = p
            .match_indices('/')
            .filter_map(|(i, _)| self.files.get_key_value(&p[i + 1..]).map(|(k, _)| k))
            .chain(self.tails.get(&p));
        for k in candidates {
            if best.is_none_or(|b| (k.len(), k) > (b.len(), b)) {
                best = Some(k);
            }
        }
        best.and_then(|k| self.files.get(k))
    }
}

/// What happens to one attachment.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// Sent: the attachment entry of a part.
    Send(serde_json::Value),
    /// Listed, not sent, with the reason.
    Listed(String),
}

/// Decides an attachment's fate and registers its blob for the load bundle.
pub fn resolve(ctx: &Ctx, source: &SourceTables, share: &ShareIndex, a: &Attachment) -> Fate {
    let rules = &ctx.mapping.attachments;
    let ext = ti_shared::attachments::extension(&a.name).unwrap_or_else(|| "(none)".into());
    ctx.ledger.count(&format!("extension:{ext}"), 1);
    let located: Option<(String, u64, BlobSource)> = match &a.content {
        Cell::Blob { hash, bytes } => {
            Some((hash.clone(), *bytes, BlobSource::Extract(hash.clone())))
        }
        Cell::Bytes(b) => {
            let hash = blake3::hash(b).to_hex().to_string();
            Some((hash, b.len() as u64, BlobSource::Inline(b.clone())))
        }
        _ => a
            .path
            .as_deref()
            .and_then(|p| share.find(p))
            .map(|(h, n)| (h.clone(), *n, BlobSource::Extract(h.clone()))),
    };
    if ti_shared::attachments::is_restricted_by(&a.name, &rules.restricted_extensions) {
        return Fate::Listed(format!("restricted extension .{ext}"));
    }
    let Some((hash, bytes, blob)) = located else {
        return Fate::Listed("file missing from the extract".into());
    };
    if let BlobSource::Extract(h) = &blob
        && !source.has_blob(h)
    {
        return Fate::Listed("file missing from the extract".into());
    }
    if bytes > rules.max_bytes {
        return Fate::Listed(format!("larger than {} bytes", rules.max_bytes));
    }
    if bytes == 0 {
        // Intercom's `attachment_files[].data` must hold the file's bytes; an empty file cannot be sent, so it
        // is listed (name and ticket) rather than silently skipped.
        return Fate::Listed("empty file (0 bytes): Intercom needs file data".into());
    }
    ctx.carry_blob(&hash, blob);
    let name = sanitise_file_name(&a.name);
    if name != a.name {
        ctx.ledger.list(
            "renamed_attachments",
            vec![a.pk.clone(), a.name.clone(), name.clone()],
        );
    }
    let content_type = mime_guess::from_path(&name)
        .first_or_octet_stream()
        .essence_str()
        .to_string();
    Fate::Send(
        serde_json::json!({"name": name, "content_type": content_type, "blob": hash, "bytes": bytes}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitised() {
        assert_eq!(sanitise_file_name("..\\..\\evil.txt"), "evil.txt");
        assert_eq!(sanitise_file_name("a/b/c.pdf"), "c.pdf");
        assert_eq!(sanitise_file_name("CON.txt"), "_CON.txt");
        assert_eq!(sanitise_file_name("report. . "), "report");
        assert_eq!(sanitise_file_name("x:y.doc"), "x_y.doc");
        assert_eq!(sanitise_file_name(""), "attachment");
        let long = format!("{}.pdf", "é".repeat(200));
        let s = sanitise_file_name(&long);
        assert!(s.len() <= 255 && s.ends_with(".pdf"));
    }
}
