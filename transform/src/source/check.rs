//! Before a run: every table the profile reads is in the bundle whole, and each Parquet part is the table the
//! inventory says it is (issue 7). A bundle can verify (hashes, seal) and still lack data: an extract made with
//! `--tables`, or a folder removed and the manifest re-sealed. Transforming such a bundle would give a migration
//! without tickets or notes and exit 0, so it is refused instead.

use super::{Backend, SourceTables};
use crate::error::{Result, TransformError};
use std::collections::BTreeSet;

/// What one Parquet part holds, read from its footer (no data pages are read).
struct PartFacts {
    rows: u64,
    columns: BTreeSet<String>,
}

fn part_facts(root: &std::path::Path, path: &std::path::Path, rel: &str) -> Result<PartFacts> {
    let file =
        std::fs::File::open(path).map_err(|e| TransformError::Parquet(format!("{rel}: {e}")))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| crate::error::content(root, rel, e))?;
    let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let columns = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().to_lowercase())
        .collect();
    Ok(PartFacts { rows, columns })
}

impl SourceTables {
    /// Checks every table of `tables` (`schema.name`, any case) that the inventory lists:
    ///
    /// * the extract wrote it (`extracted_rows` set in inventory.json), else [`TransformError::Incomplete`];
    /// * its Parquet parts hold exactly `extracted_rows` rows by the manifest's `rows` (the footer's count when the
    ///   manifest has none), else [`TransformError::Incomplete`];
    /// * each part's footer row count equals the manifest's, and its schema has every inventory column of the
    ///   table (by name, case-insensitive), else [`TransformError::Inconsistent`] naming the file.
    ///
    /// Tables the inventory does not list are the database's business (an older version without that table) and
    /// are not checked. In-memory sources (tests) are not checked.
    ///
    /// # Errors
    /// As above; [`TransformError::Content`] (exit 3) when a part's footer cannot be read.
    pub fn check_complete(&self, tables: &[String]) -> Result<()> {
        let Backend::Bundle {
            root, parts, rows, ..
        } = &self.backend
        else {
            return Ok(());
        };
        let mut seen = BTreeSet::new();
        let mut absent = Vec::new();
        let mut short = Vec::new();
        for table in tables {
            let Some(object) = self.inventory.object(table) else {
                continue;
            };
            let full = object.full_name();
            if !seen.insert(full.to_lowercase()) {
                continue;
            }
            let Some(expected) = object.extracted_rows else {
                absent.push(format!(
                    "{full} ({} rows in the database)",
                    object
                        .row_count
                        .map_or_else(|| "?".to_string(), |n| n.to_string())
                ));
                continue;
            };
            let mut held = 0u64;
            for rel in parts.get(&full.to_lowercase()).into_iter().flatten() {
                let facts = part_facts(root, &root.join(rel), rel)?;
                let manifest_rows = rows.get(rel).copied().flatten();
                if let Some(m) = manifest_rows
                    && m != facts.rows
                {
                    return Err(TransformError::Inconsistent(format!(
                        "{rel} holds {} rows but the manifest says {m}: the bundle was altered after the extract; \
                         re-extract {full}",
                        facts.rows
                    )));
                }
                let missing: Vec<&str> = object
                    .columns
                    .iter()
                    .filter(|c| !facts.columns.contains(&c.name.to_lowercase()))
                    .map(|c| c.name.as_str())
                    .collect();
                if !missing.is_empty() {
                    return Err(TransformError::Inconsistent(format!(
                        "{rel} lacks column(s) {} that inventory.json lists for {full}: this file is not {full}'s \
                         data; re-extract {full}",
                        missing.join(", ")
                    )));
                }
                held += manifest_rows.unwrap_or(facts.rows);
            }
            if held != expected {
                short.push(format!(
                    "{full} holds {held} rows but the extract wrote {expected} (inventory.json extracted_rows)"
                ));
            }
        }
        let mut problems = Vec::new();
        if !absent.is_empty() {
            problems.push(format!(
                "not extracted into this bundle: {}",
                absent.join(", ")
            ));
        }
        if !short.is_empty() {
            problems.push(format!("rows missing: {}", short.join("; ")));
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(TransformError::Incomplete(format!(
            "{}. The transform reads these tables and would migrate without their data: re-extract them \
             (`ti-extract run` without --tables, or with --tables naming them)",
            problems.join("; ")
        )))
    }
}
