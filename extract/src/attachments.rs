//! File-share attachments (`--attachments-dir D`): every file under `D` is copied into `blobs/` (streaming) and
//! listed in `attachments/files.parquet` with its path, hash and size; paths that rows of the database name but
//! that are missing on disk, and files on disk that no row names, are flagged.
//!
//! Paths are relative to `D`, `/`-separated. The database side comes from every column named `StoredPath`
//! (Track-It! 11.x `dbo.Attachments`: `<WO_NUM>\<file name>`): the first `\` separates the folder, because
//! file names may themselves contain backslashes.

use crate::error::ExtractError;
use arrow_array::RecordBatch;
use arrow_array::{ArrayRef, BooleanArray, Int64Array, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use ti_shared::bundle::BundleWriter;

/// Bundle path of the attachment table.
pub const FILES_PARQUET: &str = "attachments/files.parquet";

/// Column names whose values are attachment paths relative to the attachments directory.
pub const PATH_COLUMNS: &[&str] = &["StoredPath"];

/// Counts for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AttachmentSummary {
    /// Files copied into blobs.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Paths named by rows but absent on disk.
    pub missing_on_disk: u64,
    /// Files on disk named by no row.
    pub without_row: u64,
}

/// A database path (`12\report.pdf`) as a bundle-style relative path (`12/report.pdf`).
pub fn normalise_db_path(p: &str) -> String {
    match p.split_once('\\') {
        Some((dir, file)) => format!("{dir}/{file}"),
        None => p.to_string(),
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> Result<(), ExtractError> {
    let io = |source| ExtractError::Io {
        path: dir.display().to_string(),
        source,
    };
    for item in std::fs::read_dir(dir).map_err(io)? {
        let item = item.map_err(io)?;
        let path = item.path();
        if item.file_type().map_err(io)?.is_dir() {
            walk(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((rel.join("/"), path));
        }
    }
    Ok(())
}

/// Copies the files of `dir` into blobs and writes [`FILES_PARQUET`]. `db_paths` are the paths rows name.
///
/// # Errors
/// Unreadable directory or file, bundle or Parquet write errors.
pub fn copy(
    writer: &BundleWriter,
    dir: &Path,
    db_paths: &BTreeSet<String>,
) -> Result<AttachmentSummary, ExtractError> {
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    // (path) → (blake3, bytes, missing_on_disk, no_row)
    let mut rows: BTreeMap<String, (Option<String>, Option<i64>, bool, bool)> = BTreeMap::new();
    let mut summary = AttachmentSummary::default();
    for (rel, path) in files {
        let file = std::fs::File::open(&path).map_err(|source| ExtractError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let blob = writer.add_blob_from(file)?;
        summary.files += 1;
        summary.bytes += blob.bytes;
        let no_row = !db_paths.contains(&rel);
        summary.without_row += u64::from(no_row);
        rows.insert(
            rel,
            (Some(blob.blake3), Some(blob.bytes as i64), false, no_row),
        );
    }
    for p in db_paths {
        if !rows.contains_key(p) {
            summary.missing_on_disk += 1;
            rows.insert(p.clone(), (None, None, true, false));
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("blake3", DataType::Utf8, true),
        Field::new("bytes", DataType::Int64, true),
        Field::new("missing_on_disk", DataType::Boolean, false),
        Field::new("no_row", DataType::Boolean, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(rows.keys().cloned().collect::<Vec<_>>())),
        Arc::new(StringArray::from(
            rows.values().map(|r| r.0.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.values().map(|r| r.1).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.values().map(|r| r.2).collect::<Vec<_>>(),
        )),
        Arc::new(BooleanArray::from(
            rows.values().map(|r| r.3).collect::<Vec<_>>(),
        )),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let sink = writer.create_file(FILES_PARQUET)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut w = ArrowWriter::try_new(sink, schema, Some(props))?;
    w.write(&batch)?;
    let sink = w.into_inner()?;
    writer.commit(sink, Some(rows.len() as u64))?;
    Ok(summary)
}

/// Reads the attachment paths named by the `StoredPath` columns of the written parts of `folders`.
///
/// # Errors
/// A part that cannot be read back.
pub fn db_paths(bundle: &Path, folders: &[String]) -> Result<BTreeSet<String>, ExtractError> {
    use arrow_array::Array;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut out = BTreeSet::new();
    for folder in folders {
        let dir = bundle.join(folder);
        let Ok(items) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut parts: Vec<_> = items
            .flatten()
            .map(|i| i.path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        parts.sort();
        for part in parts {
            let io = |e: std::io::Error| ExtractError::Io {
                path: part.display().to_string(),
                source: e,
            };
            let file = std::fs::File::open(&part).map_err(io)?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
            for batch in reader {
                let batch = batch?;
                for name in PATH_COLUMNS {
                    let Some(col) = batch.column_by_name(name) else {
                        continue;
                    };
                    let Some(strings) = col.as_any().downcast_ref::<StringArray>() else {
                        continue;
                    };
                    for i in 0..strings.len() {
                        if strings.is_valid(i) && !strings.value(i).is_empty() {
                            out.insert(normalise_db_path(strings.value(i)));
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}
