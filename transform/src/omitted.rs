//! Cells the extractor did not read (`gaps/omitted_cells.csv`). A keyless table or view cannot be read in key
//! windows, so ti-extract skips a LOB cell over `keyless_cell_max_bytes` (`--keyless-cell-max-bytes`): the Parquet
//! cell is NULL, `<column>__bytes` holds its length and `<column>__blake3` stays NULL, and `report/extract.json`
//! counts it per table (`tables[].omitted_cells`; extract/src/scan.rs, extract/src/report.rs). The transform
//! reads that count, then finds every such cell in the table's parts to list it with its row position (1-based in
//! the extract's read order, as the extract report names it) and its length, so the customer's reports state the
//! loss.

use crate::error::{Result, content};
use crate::source::{Cell, SourceTables};
use serde::Deserialize;

/// Bundle path of the extract report.
pub const EXTRACT_REPORT: &str = "report/extract.json";

/// Why a listed cell has no value in Intercom.
pub const REASON: &str = "not read by ti-extract: keyless table or view and the cell is over \
keyless_cell_max_bytes (--keyless-cell-max-bytes): the extract and so the migration hold no value for it; \
re-extract with a larger cap to keep it";

#[derive(Deserialize)]
struct Report {
    #[serde(default)]
    tables: Vec<TableLine>,
}

#[derive(Deserialize)]
struct TableLine {
    name: String,
    #[serde(default)]
    omitted_cells: u64,
}

/// Rows of `gaps/omitted_cells.csv`: table, column, row (1-based position), key (empty: the tables concerned
/// have none), bytes, reason. Tables whose report line counts more cells than their parts show get one more row
/// with the row left empty and the number not located. Empty when the bundle has no `report/extract.json` (an
/// older extract, in-memory inputs) or it lists no omitted cell.
///
/// # Errors
/// [`crate::error::TransformError::Content`] (exit 3) when `report/extract.json` is present but not JSON of that
/// shape; Parquet read failures of the tables concerned.
pub fn omitted_cells(source: &SourceTables) -> Result<Vec<Vec<String>>> {
    let Some(root) = source.root() else {
        return Ok(Vec::new());
    };
    let path = root.join(EXTRACT_REPORT);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(Vec::new());
    };
    let report: Report =
        serde_json::from_slice(&bytes).map_err(|e| content(root, EXTRACT_REPORT, e))?;
    let mut rows = Vec::new();
    for t in report.tables.iter().filter(|t| t.omitted_cells > 0) {
        let mut found = 0u64;
        let mut position = 0u64;
        source.scan(&t.name, |b| {
            let columns: Vec<String> = b
                .column_names()
                .into_iter()
                .filter(|c| b.has(&format!("{c}__bytes")))
                .collect();
            for row in 0..b.num_rows() {
                position += 1;
                for c in &columns {
                    let Some(len) = b.int(&format!("{c}__bytes"), row) else {
                        continue;
                    };
                    if b.cell(c, row) == Cell::Null {
                        found += 1;
                        rows.push(vec![
                            t.name.clone(),
                            c.clone(),
                            position.to_string(),
                            String::new(),
                            len.to_string(),
                            REASON.into(),
                        ]);
                    }
                }
            }
            Ok(())
        })?;
        if found < t.omitted_cells {
            rows.push(vec![
                t.name.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                format!(
                    "{} more cell(s) counted by report/extract.json but not located in the table's parts; {REASON}",
                    t.omitted_cells - found
                ),
            ]);
        }
    }
    Ok(rows)
}
