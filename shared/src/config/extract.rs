//! `[extract]`: how `ti-extract` reads from SQL Server.

use serde::{Deserialize, Serialize};

/// `[extract]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtractConfig {
    /// Rows fetched per keyset page (`TOP (n)`). Default 5,000.
    pub page_rows: u64,
    /// Rows per Parquet row group; also the unit of resume. Default 65,536.
    pub row_group_rows: u64,
    /// Character and binary cells above this many bytes go to `blobs/`. Default 1 MiB (1,048,576).
    pub lob_inline_max_bytes: u64,
    /// Cells above this many bytes are read in `SUBSTRING` windows of this size. Default 8 MiB (8,388,608).
    pub lob_chunk_bytes: u64,
    /// Ceiling on rows read per second, to spare a production server; 0 = unlimited (default).
    pub max_rows_per_second: u64,
    /// `nolock` (default; `WITH (NOLOCK)` hints, never blocks writers) or `read_committed`.
    pub isolation: String,
    /// Also dump views (default true: in 11.x the requestor email lives only in `vTASKS_BROWSE`).
    pub include_views: bool,
    /// Retries of a table after a dropped connection or server error, from the last row group. Default 3.
    pub retries: u32,
    /// Keyless tables and views: LOB cells over this many bytes are not read (there is no key to read them in
    /// windows); they are reported. `ti-extract run --keyless-cell-max-bytes` overrides it. Default 32 MiB
    /// ([`DEFAULT_KEYLESS_CELL_MAX_BYTES`], 33,554,432).
    pub keyless_cell_max_bytes: u64,
}

/// Default of [`ExtractConfig::keyless_cell_max_bytes`]: 32 MiB.
pub const DEFAULT_KEYLESS_CELL_MAX_BYTES: u64 = 32 << 20;

impl Default for ExtractConfig {
    fn default() -> Self {
        Self {
            page_rows: 5_000,
            row_group_rows: 65_536,
            lob_inline_max_bytes: 1 << 20,
            lob_chunk_bytes: 8 << 20,
            max_rows_per_second: 0,
            isolation: "nolock".into(),
            include_views: true,
            retries: 3,
            keyless_cell_max_bytes: DEFAULT_KEYLESS_CELL_MAX_BYTES,
        }
    }
}

impl ExtractConfig {
    pub(super) fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.page_rows == 0 {
            problems.push("extract.page_rows must be at least 1".into());
        }
        if self.row_group_rows == 0 {
            problems.push("extract.row_group_rows must be at least 1".into());
        }
        if self.keyless_cell_max_bytes == 0 {
            problems.push("extract.keyless_cell_max_bytes must be at least 1".into());
        }
        if self.lob_chunk_bytes == 0 {
            problems.push("extract.lob_chunk_bytes must be at least 1".into());
        }
        if !matches!(self.isolation.as_str(), "nolock" | "read_committed") {
            problems.push(format!(
                "extract.isolation must be \"nolock\" or \"read_committed\", not {:?}",
                self.isolation
            ));
        }
        problems
    }
}
