//! Summary tables: one counter model (`read`, `written`, `existing`, `rejected`, `skipped`, `secs` per row),
//! printed as text and saved as JSON from the same data (STYLE.md, after pgloader).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::AddAssign;

/// Counters of one table, record kind or phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Table, kind or phase name.
    pub name: String,
    /// Rows or records read.
    pub read: u64,
    /// Rows, records or objects written/created.
    pub written: u64,
    /// Objects found already existing and matched instead of created (load).
    pub existing: u64,
    /// Rejected or failed, each listed in the file the report names.
    pub rejected: u64,
    /// Deliberately not processed (unchanged in a delta, filtered by sample or cut-off).
    pub skipped: u64,
    /// Wall time, seconds.
    pub secs: f64,
}

impl AddAssign<&ReportRow> for ReportRow {
    fn add_assign(&mut self, other: &ReportRow) {
        self.read += other.read;
        self.written += other.written;
        self.existing += other.existing;
        self.rejected += other.rejected;
        self.skipped += other.skipped;
        self.secs += other.secs;
    }
}

/// A titled list of rows with a total.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What the rows are (`table`, `kind`, `phase`).
    pub title: String,
    /// One row per item, in the order added.
    pub rows: Vec<ReportRow>,
}

impl Report {
    /// An empty report whose first column is headed `title`.
    pub fn new(title: &str) -> Self {
        Self {
            title: title.to_string(),
            rows: Vec::new(),
        }
    }

    /// Adds a row, or merges it into the row of the same name.
    pub fn add(&mut self, row: ReportRow) {
        match self.rows.iter_mut().find(|r| r.name == row.name) {
            Some(existing) => *existing += &row,
            None => self.rows.push(row),
        }
    }

    /// The sum of every row, named `total`.
    pub fn total(&self) -> ReportRow {
        let mut total = ReportRow {
            name: "total".into(),
            ..ReportRow::default()
        };
        for row in &self.rows {
            total += row;
        }
        total
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(5)
            .max(self.title.len())
            .max(5);
        let line = |f: &mut fmt::Formatter<'_>, r: &ReportRow| {
            writeln!(
                f,
                "{:<width$} {:>10} {:>10} {:>9} {:>9} {:>8} {:>8.1}s",
                r.name, r.read, r.written, r.existing, r.rejected, r.skipped, r.secs
            )
        };
        writeln!(
            f,
            "{:<width$} {:>10} {:>10} {:>9} {:>9} {:>8} {:>9}",
            self.title, "read", "written", "existing", "rejected", "skipped", "time"
        )?;
        for row in &self.rows {
            line(f, row)?;
        }
        writeln!(f, "{}", "-".repeat(width + 60))?;
        line(f, &self.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_the_same_name_merge_and_total_adds_up() {
        let mut report = Report::new("table");
        report.add(ReportRow {
            name: "dbo.TASKS".into(),
            read: 5,
            written: 5,
            ..Default::default()
        });
        report.add(ReportRow {
            name: "dbo.TASKS".into(),
            read: 2,
            written: 1,
            rejected: 1,
            ..Default::default()
        });
        report.add(ReportRow {
            name: "dbo.TaskNote".into(),
            read: 3,
            written: 3,
            ..Default::default()
        });
        assert_eq!(report.rows.len(), 2);
        let total = report.total();
        assert_eq!((total.read, total.written, total.rejected), (10, 9, 1));
        assert!(report.to_string().contains("dbo.TaskNote"));
    }
}
