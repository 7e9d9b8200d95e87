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
    /// Last key value of the last committed part, as written by versions that paged only integer keys (read for
    /// compatibility, never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_key: Option<i64>,
    /// The key tuple of the last row of the last committed part (keyset tables): the restart point of retries
    /// and `--resume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_keys: Option<Vec<KeyValue>>,
    /// blake3 and size of each committed part, in part order, recorded when it was committed: `--resume` checks
    /// every part on disk against them (a part deleted, emptied or changed after the kill restarts its table).
    #[serde(default)]
    pub part_files: Vec<PartFile>,
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
    /// Bytes of the omitted cells, in all (their `DATALENGTH`s added up).
    #[serde(default)]
    pub omitted_bytes: u64,
    /// `DATALENGTH` of the largest omitted cell: the keyless cap that would have read them all.
    #[serde(default)]
    pub omitted_max_bytes: u64,
}

/// What a committed part looked like when it was committed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartFile {
    /// blake3 of the file, 64 lower-case hex characters.
    pub blake3: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// Where and how a bundle was started: `--resume` refuses to continue it against another source or with other
/// settings (exit 2), since the result would match neither run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// Server as written in the connection string.
    pub server: String,
    /// Database name (as the server reports it).
    pub database: String,
    /// blake3 of every object's name, type, columns and key (see [`crate::inventory_fingerprint`]).
    pub schema_fingerprint: String,
    /// The settings that shape the bundle (`name` → value), see [`crate::bundle_settings`].
    pub settings: BTreeMap<String, String>,
}

impl Origin {
    /// The differences between a bundle's origin (`self`) and this run's (`now`), one line each:
    /// `server: A (bundle) vs B (this run)`. Empty when they match.
    pub fn differences(&self, now: &Origin) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |what: &str, a: &str, b: &str| {
            if a != b {
                out.push(format!("{what}: {a} (bundle) vs {b} (this run)"));
            }
        };
        cmp("server", &self.server, &now.server);
        cmp("database", &self.database, &now.database);
        cmp(
            "schema fingerprint",
            &self.schema_fingerprint,
            &now.schema_fingerprint,
        );
        let keys: std::collections::BTreeSet<&String> =
            self.settings.keys().chain(now.settings.keys()).collect();
        for k in keys {
            let none = "(unset)".to_string();
            cmp(
                k,
                self.settings.get(k).unwrap_or(&none),
                now.settings.get(k).unwrap_or(&none),
            );
        }
        out
    }
}

/// At most this many raw cells are listed per table (all are counted).
pub const MAX_RAW_LISTED: usize = 1000;

impl TableState {
    /// Rows in committed parts.
    pub fn rows(&self) -> u64 {
        self.part_rows.iter().sum()
    }

    /// Where a keyset read continues: the last committed key tuple (`None` = from the first row).
    pub fn cursor(&self) -> Option<Vec<KeyValue>> {
        self.last_keys
            .clone()
            .or_else(|| self.last_key.map(|k| vec![KeyValue::Int(k)]))
    }
}

/// One column of a key tuple, as the keyset query compares it (`queries::key_expr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyValue {
    /// An integer key column (tinyint, smallint, int, bigint), sent back as bigint.
    Int(i64),
    /// A character key column as the `varbinary` its select-list item read, or a binary key column; sent back
    /// as varbinary. Hex in the state file.
    Bytes(#[serde(with = "hex_bytes")] Vec<u8>),
}

impl std::fmt::Display for KeyValue {
    /// `17`; printable ASCII bytes quoted (`'AB-1'`); anything else in hex (`0x00ff`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyValue::Int(i) => write!(f, "{i}"),
            KeyValue::Bytes(b) if b.iter().all(|c| (0x20..0x7f).contains(c) && *c != b'\'') => {
                write!(f, "'{}'", String::from_utf8_lossy(b))
            }
            KeyValue::Bytes(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|c| write!(f, "{c:02x}"))
            }
        }
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b.iter().map(|c| format!("{c:02x}")).collect::<String>())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() % 2 != 0 {
            return Err(D::Error::custom("odd number of hex digits"));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| D::Error::custom("not hex"))
            })
            .collect()
    }
}

/// The whole resume state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeState {
    /// Source and settings of the run that started the bundle (absent in states of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Process id of the run writing the bundle (named when a second run finds the bundle locked).
    #[serde(default)]
    pub pid: u32,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_tuples_round_trip_and_old_integer_cursors_still_read() {
        let st = TableState {
            last_keys: Some(vec![
                KeyValue::Int(-7),
                KeyValue::Bytes(vec![0x41, 0x00, 0xff]),
            ]),
            ..TableState::default()
        };
        let text = serde_json::to_string(&st).unwrap();
        assert!(
            text.contains(r#""last_keys":[{"int":-7},{"bytes":"4100ff"}]"#),
            "{text}"
        );
        assert!(!text.contains("last_key\""), "{text}");
        let back: TableState = serde_json::from_str(&text).unwrap();
        assert_eq!(back, st);
        let old: TableState = serde_json::from_str(
            r#"{"part_rows":[5],"last_key":17,"done":false,"raw_cells":0,"rounded":0,"lob_cells":0,"as_text":0,"raw_samples":[]}"#,
        )
        .unwrap();
        assert_eq!(old.cursor(), Some(vec![KeyValue::Int(17)]));
        assert_eq!(KeyValue::Bytes(b"AB-1".to_vec()).to_string(), "'AB-1'");
        assert_eq!(KeyValue::Bytes(vec![0, 255]).to_string(), "0x00ff");
    }

    #[test]
    fn origin_differences_name_both_values() {
        let a = Origin {
            server: "SQL01".into(),
            database: "TRACKIT".into(),
            schema_fingerprint: "f1".into(),
            settings: [("[extract] page_rows".to_string(), "1000".to_string())].into(),
        };
        let b = Origin {
            server: "SQL02".into(),
            database: "TRACKIT2".into(),
            schema_fingerprint: "f1".into(),
            settings: [("[extract] page_rows".to_string(), "50".to_string())].into(),
        };
        assert_eq!(
            a.differences(&b),
            [
                "server: SQL01 (bundle) vs SQL02 (this run)",
                "database: TRACKIT (bundle) vs TRACKIT2 (this run)",
                "[extract] page_rows: 1000 (bundle) vs 50 (this run)",
            ]
        );
        assert!(a.differences(&a).is_empty());
    }
}
