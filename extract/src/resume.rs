//! Resume state: after each committed part the extractor records, per table, the parts written, their row
//! counts, the last key and the table's counters in `extract-state.json` at the bundle root (temp file +
//! rename). `--resume` reads it, drops any part written after the last recorded one, and continues from the
//! recorded key (keyset tables) or restarts the table (ordered scans). The file is removed before the manifest
//! is written, so it is never part of a finished bundle and the bundle_id equals an uninterrupted run's.

use crate::error::ExtractError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the resume state at the bundle root.
pub const STATE_FILE: &str = "extract-state.json";

/// A character value that could not be decoded (listed in the report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawCell {
    /// Column name.
    pub column: String,
    /// The row's key (`WOID=17`) or ordinal in an ordered scan (`row 17`).
    pub row: String,
    /// Length of the original bytes.
    pub bytes: u64,
    /// The first 32 original bytes in hex.
    pub head_hex: String,
}

/// Progress of one table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableState {
    /// Rows of each committed part, in part order.
    pub part_rows: Vec<u64>,
    /// Last key value of the last committed part (keyset tables).
    pub last_key: Option<i64>,
    /// Every row has been written.
    pub done: bool,
    /// Character cells kept raw.
    pub raw_cells: u64,
    /// Values whose seventh fractional digit was rounded.
    pub rounded: u64,
    /// Cells stored in `blobs/`.
    pub lob_cells: u64,
    /// Values of unsupported types stored as text.
    pub as_text: u64,
    /// The first raw cells (at most [`MAX_RAW_LISTED`]).
    pub raw_samples: Vec<RawCell>,
    /// LOB cells of keyless tables and views over the keyless cap, not read (see [`crate::scan`]).
    #[serde(default)]
    pub omitted_cells: u64,
    /// The first omitted cells, `<column> of row <n>: <bytes> bytes` (at most [`MAX_RAW_LISTED`]).
    #[serde(default)]
    pub omitted_samples: Vec<String>,
}

/// At most this many raw cells are listed per table (all are counted).
pub const MAX_RAW_LISTED: usize = 1000;

impl TableState {
    /// Rows in committed parts.
    pub fn rows(&self) -> u64 {
        self.part_rows.iter().sum()
    }
}

/// The whole resume state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeState {
    /// Per `schema.object`.
    pub tables: BTreeMap<String, TableState>,
}

impl ResumeState {
    /// Reads the state of an interrupted bundle; an absent file is an empty state.
    ///
    /// # Errors
    /// [`ExtractError::Io`] when the file exists but cannot be read or parsed.
    pub fn load(bundle: &Path) -> Result<ResumeState, ExtractError> {
        let path = bundle.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| ExtractError::Io {
                path: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ResumeState::default()),
            Err(source) => Err(ExtractError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the state atomically (temp file + rename).
    ///
    /// # Errors
    /// [`ExtractError::Io`] on write failure.
    pub fn save(&self, bundle: &Path) -> Result<(), ExtractError> {
        let path = bundle.join(STATE_FILE);
        let tmp: PathBuf = bundle.join(format!("{STATE_FILE}{}", ti_shared::bundle::TMP_SUFFIX));
        let io = |source| ExtractError::Io {
            path: path.display().to_string(),
            source,
        };
        let text = serde_json::to_vec(self).map_err(|e| io(std::io::Error::other(e)))?;
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }
}
