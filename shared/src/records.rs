//! Load-bundle records (DESIGN.md §6, docs/records.md): one JSON object per line in
//! `records/<NN>-<kind>.ndjson`, files numbered in load order.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};

/// Record kinds in load order. The number is the file prefix (`records/01-data_attribute.ndjson`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// Contact or company custom data attribute (`POST /data_attributes`).
    DataAttribute,
    /// Conversation attribute (`POST /conversations/attributes`, 2.16+).
    ConversationAttribute,
    /// Company (`POST /companies`, upsert on `company_id`).
    Company,
    /// Contact, role user (`POST /contacts`).
    Contact,
    /// Link of a contact to a company (`POST /contacts/{id}/companies`).
    ContactCompany,
    /// Conversation with its ordered parts, attachments, attributes and state.
    Conversation,
    /// Help Center collection.
    Collection,
    /// Help Center article.
    Article,
    /// Note on a contact (`POST /contacts/{id}/notes`).
    ContactNote,
    /// Note on a company (`POST /companies/{id}/notes`).
    CompanyNote,
}

impl RecordKind {
    /// Every kind, in load order.
    pub const ALL: [RecordKind; 10] = [
        RecordKind::DataAttribute,
        RecordKind::ConversationAttribute,
        RecordKind::Company,
        RecordKind::Contact,
        RecordKind::ContactCompany,
        RecordKind::Conversation,
        RecordKind::Collection,
        RecordKind::Article,
        RecordKind::ContactNote,
        RecordKind::CompanyNote,
    ];

    /// The snake_case name used in keys, file names and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::DataAttribute => "data_attribute",
            RecordKind::ConversationAttribute => "conversation_attribute",
            RecordKind::Company => "company",
            RecordKind::Contact => "contact",
            RecordKind::ContactCompany => "contact_company",
            RecordKind::Conversation => "conversation",
            RecordKind::Collection => "collection",
            RecordKind::Article => "article",
            RecordKind::ContactNote => "contact_note",
            RecordKind::CompanyNote => "company_note",
        }
    }

    /// The bundle path of this kind's records: `records/<NN>-<kind>.ndjson`, NN from 01 in load order.
    pub fn file_path(self) -> String {
        let position = Self::ALL.iter().position(|k| *k == self).unwrap_or(0) + 1;
        format!("records/{position:02}-{}.ndjson", self.as_str())
    }
}

/// Where a record came from in the extract bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSource {
    /// Source object, `schema.table` (physical name, for `explain`).
    pub table: String,
    /// Primary key value(s) of the source row, as text (composite keys joined with `|`).
    pub pk: String,
}

/// One line of a `records/*.ndjson` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Stable key from the logical object and the Track-It! business key, e.g. `conversation:ticket:1234`.
    pub key: String,
    /// Record kind.
    pub kind: RecordKind,
    /// Keys of records that must be loaded first.
    #[serde(default)]
    pub after: Vec<String>,
    /// Source row.
    pub source: RecordSource,
    /// blake3 hex of the canonical JSON of `body` (see [`Record::compute_digest`]).
    pub digest: String,
    /// Intercom-shaped payload; ids of other records as `{"$ref": key}`, admins as `{"$admin": …}` (docs/records.md).
    pub body: Value,
}

impl Record {
    /// Builds a record and computes its digest.
    pub fn new(
        key: String,
        kind: RecordKind,
        after: Vec<String>,
        source: RecordSource,
        body: Value,
    ) -> Self {
        let digest = crate::canonical::digest(&body);
        Self {
            key,
            kind,
            after,
            source,
            digest,
            body,
        }
    }

    /// The digest of the current body; equal to `digest` for an untouched record.
    pub fn compute_digest(&self) -> String {
        crate::canonical::digest(&self.body)
    }

    /// The record as one NDJSON line (canonical JSON, so equal records give equal bytes), with `\n`.
    pub fn to_line(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        let mut line = crate::canonical::to_canonical_string(&value);
        line.push('\n');
        line
    }
}

/// A record line that could not be read: names the line number (1-based).
#[derive(Debug, thiserror::Error)]
#[error("records line {line}: {reason}")]
pub struct RecordLineError {
    /// 1-based line number in the file.
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// Streams the records of an NDJSON reader, one at a time (memory: one line). Blank lines are skipped.
pub fn read_records(reader: impl Read) -> impl Iterator<Item = Result<Record, RecordLineError>> {
    BufReader::new(reader)
        .lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let line_no = index as u64 + 1;
            match line {
                Err(e) => Some(Err(RecordLineError {
                    line: line_no,
                    reason: e.to_string(),
                })),
                Ok(text) if text.trim().is_empty() => None,
                Ok(text) => Some(serde_json::from_str(&text).map_err(|e| RecordLineError {
                    line: line_no,
                    reason: e.to_string(),
                })),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_paths_follow_load_order() {
        assert_eq!(
            RecordKind::DataAttribute.file_path(),
            "records/01-data_attribute.ndjson"
        );
        assert_eq!(
            RecordKind::Conversation.file_path(),
            "records/06-conversation.ndjson"
        );
        assert_eq!(
            RecordKind::CompanyNote.file_path(),
            "records/10-company_note.ndjson"
        );
    }

    #[test]
    fn lines_round_trip_and_bad_lines_name_their_number() {
        let source = RecordSource {
            table: "dbo.TASKS".into(),
            pk: "7".into(),
        };
        let record = Record::new(
            "conversation:ticket:7".into(),
            RecordKind::Conversation,
            vec![],
            source,
            json!({"b": 1}),
        );
        let text = format!("{}\n{{oops\n", record.to_line());
        let got: Vec<_> = read_records(text.as_bytes()).collect();
        assert_eq!(got[0].as_ref().unwrap(), &record);
        assert_eq!(got[1].as_ref().unwrap_err().line, 3);
        assert_eq!(record.digest, record.compute_digest());
    }
}
