//! The extract report: `report/extract.json` inside the bundle (content only, no timings, so the bundle_id stays
//! deterministic) and the summary table printed at the end of `run` (with timings and retries).

use crate::attachments::AttachmentSummary;
use crate::resume::{RawCell, TableState};
use serde::Serialize;

/// Bundle path of the report.
pub const REPORT_JSON: &str = "report/extract.json";

/// One table's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// `schema.object`.
    pub name: String,
    /// `BASE TABLE` or `VIEW`.
    #[serde(rename = "type")]
    pub object_type: String,
    /// `COUNT_BIG(*)` before the dump.
    pub row_count: u64,
    /// Rows written to Parquet.
    pub rows_written: u64,
    /// Parquet parts.
    pub parts: u64,
    /// Bytes of those parts.
    pub parquet_bytes: u64,
    /// Character cells that could not be decoded (kept in `__raw`, or replaced in a blob).
    pub raw_cells: u64,
    /// datetime2/time/datetimeoffset values whose seventh digit was rounded to the microsecond.
    pub rounded_values: u64,
    /// Cells stored in `blobs/`.
    pub blob_cells: u64,
    /// Values of unsupported types stored as text.
    pub text_fallback_cells: u64,
    /// LOB cells of a keyless table or view over the keyless cap, not read: NULL with `<col>__bytes` set.
    pub omitted_cells: u64,
    /// Anything unusual, in words.
    pub notes: Vec<String>,
    /// The first undecodable cells.
    pub raw_samples: Vec<RawCell>,
}

impl TableReport {
    /// The report line of a finished table.
    pub fn new(
        name: String,
        object_type: String,
        row_count: u64,
        st: &TableState,
        parquet_bytes: u64,
    ) -> Self {
        let mut notes = Vec::new();
        if st.rows() != row_count {
            notes.push(format!("COUNT_BIG(*) said {row_count} rows, {} were read (rows changed during the extract?)", st.rows()));
        }
        if st.raw_cells > 0 {
            notes.push(format!(
                "{} character value(s) could not be decoded; original bytes kept in <column>__raw",
                st.raw_cells
            ));
        }
        if st.rounded > 0 {
            notes.push(format!(
                "{} value(s) had a non-zero 7th fractional digit, rounded to the microsecond",
                st.rounded
            ));
        }
        if st.as_text > 0 {
            notes.push(format!(
                "{} value(s) of unsupported types stored as text",
                st.as_text
            ));
        }
        if st.omitted_cells > 0 {
            notes.push(format!(
                "{} large cell(s) not read: no key to read them in windows and over the keyless cap \
(--keyless-cell-max-bytes); the cell is NULL with <column>__bytes set. First: {}",
                st.omitted_cells,
                st.omitted_samples
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        TableReport {
            name,
            object_type,
            row_count,
            rows_written: st.rows(),
            parts: st.part_rows.len() as u64,
            parquet_bytes,
            raw_cells: st.raw_cells,
            rounded_values: st.rounded,
            blob_cells: st.lob_cells,
            text_fallback_cells: st.as_text,
            omitted_cells: st.omitted_cells,
            notes,
            raw_samples: st.raw_samples.clone(),
        }
    }
}

/// `report/extract.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ExtractReport {
    /// One line per dumped object, in inventory order.
    pub tables: Vec<TableReport>,
    /// File-share attachments, when `--attachments-dir` was given.
    pub attachments: Option<AttachmentSummary>,
}
