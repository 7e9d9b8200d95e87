//! The extract report: `report/extract.json` inside the bundle (content only, no timings, so the bundle_id stays
//! deterministic) and the summary table printed at the end of `run` (with timings and retries).

use crate::attachments::AttachmentSummary;
use crate::resume::{RawCell, TableState};
use serde::Serialize;
use ti_shared::report::Report;

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

/// Large cells of one keyless table or view that were not read (over the keyless cap): what the console says
/// about them (a warning when the table finishes, a footnote under the summary table). The bundle's record of them
/// is [`TableReport::omitted_cells`] and its note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmittedCells {
    /// `schema.object`.
    pub table: String,
    /// Cells not read.
    pub cells: u64,
    /// Their `DATALENGTH`s added up, bytes.
    pub bytes: u64,
    /// The largest one, bytes: the smallest cap that reads them all.
    pub largest: u64,
    /// The keyless cap in force, bytes (`--keyless-cell-max-bytes`, else `[extract] keyless_cell_max_bytes`).
    pub cap: u64,
}

impl OmittedCells {
    /// The omitted cells of a finished table, `None` when there are none.
    pub fn of(table: &str, st: &TableState, cap: u64) -> Option<Self> {
        (st.omitted_cells > 0).then(|| OmittedCells {
            table: table.to_string(),
            cells: st.omitted_cells,
            bytes: st.omitted_bytes,
            largest: st.omitted_max_bytes,
            cap,
        })
    }

    /// The warning line logged when the table finishes.
    pub fn warning(&self) -> String {
        format!(
            "{}: {} large cell(s) not read ({} bytes in all, the largest {} bytes): over the keyless cap of {} \
bytes, they are NULL with <column>__bytes set (omitted_cells in {REPORT_JSON}); to read them, raise \
--keyless-cell-max-bytes or [extract] keyless_cell_max_bytes to at least {}",
            self.table, self.cells, self.bytes, self.largest, self.cap, self.largest
        )
    }

    /// The footnote line under the summary table.
    pub fn footnote(&self) -> String {
        format!(
            "  {}: {} cell(s), {} bytes, the largest {} bytes (cap {}); raise --keyless-cell-max-bytes or \
[extract] keyless_cell_max_bytes to at least {}",
            self.table, self.cells, self.bytes, self.largest, self.cap, self.largest
        )
    }
}

/// The summary printed at the end of `run`: the table of counters, then a footnote listing the tables whose large
/// cells were not read (they are in no column of the table: `rejected` counts undecodable character values).
pub fn console_summary(printed: &Report, omitted: &[OmittedCells]) -> String {
    let mut out = printed.to_string();
    if !omitted.is_empty() {
        out.push_str(&format!(
            "large cells not read (keyless tables and views, over the keyless cap; NULL with <column>__bytes set, \
listed in {REPORT_JSON}):\n"
        ));
        for o in omitted {
            out.push_str(&o.footnote());
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ti_shared::report::ReportRow;

    #[test]
    fn omitted_cells_are_a_warning_and_a_footnote() {
        let st = TableState {
            part_rows: vec![4],
            omitted_cells: 2,
            omitted_bytes: 5_000_000,
            omitted_max_bytes: 3_000_000,
            ..TableState::default()
        };
        assert_eq!(
            OmittedCells::of("dbo.Keyed", &TableState::default(), 10),
            None
        );
        let o = OmittedCells::of("dbo.Dump", &st, 2_000_000).unwrap();
        assert_eq!(
            o.warning(),
            "dbo.Dump: 2 large cell(s) not read (5000000 bytes in all, the largest 3000000 bytes): over the \
keyless cap of 2000000 bytes, they are NULL with <column>__bytes set (omitted_cells in report/extract.json); to \
read them, raise --keyless-cell-max-bytes or [extract] keyless_cell_max_bytes to at least 3000000"
        );
        let mut printed = Report::new("table");
        printed.add(ReportRow {
            name: "dbo.Dump".into(),
            read: 4,
            written: 4,
            ..ReportRow::default()
        });
        let text = console_summary(&printed, std::slice::from_ref(&o));
        assert!(text.starts_with(&printed.to_string()), "{text}");
        assert_eq!(
            &text[printed.to_string().len()..],
            "large cells not read (keyless tables and views, over the keyless cap; NULL with <column>__bytes \
set, listed in report/extract.json):\n  dbo.Dump: 2 cell(s), 5000000 bytes, the largest 3000000 bytes (cap \
2000000); raise --keyless-cell-max-bytes or [extract] keyless_cell_max_bytes to at least 3000000\n"
        );
        assert_eq!(console_summary(&printed, &[]), printed.to_string());
    }
}
