//! The load bundle being written (`--out`). It is created before anything is read, with a `staging/` folder
//! inside it that holds the run's temporary files (ticket texts, window files, record spill): a full disk is
//! then reported on a path beside the output the consultant chose, and nothing is left in the system temporary
//! directory. On success the staging folder is removed before `manifest.json` is written; a failed run removes
//! what it wrote (the whole folder when the run created it), so no partial bundle is left looking complete. A
//! crash (no unwinding) leaves the folder without a manifest, which every reader refuses as incomplete.

use crate::ctx::{BlobSource, Ctx};
use crate::error::{Result, TransformError, io_at};
use crate::source::SourceTables;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use ti_shared::bundle::{BlobRef, BundleKind, BundleWriter, Manifest, Producer};
use ti_shared::records::RecordKind;

/// Name of the folder, inside the output bundle, that holds a run's temporary files until it ends.
pub const STAGING: &str = "staging";

/// The message for an `--out` that holds a `staging/` folder and no `manifest.json`: what an interrupted run
/// leaves (SIGKILL, a crash, SIGXFSZ when a file-size limit is hit: signals no process can clean up after).
pub fn leftover_message(out: &Path) -> String {
    format!(
        "--out {0} holds a {STAGING}/ folder and no manifest.json: it is left over from an interrupted ti-transform \
         run (killed, crashed, or stopped by a file-size limit) and holds no finished load bundle; deleting the \
         folder {0} is safe, then run again",
        out.display()
    )
}

/// Refuses an `--out` inside the extract bundle, or an extract bundle inside `--out` (both compared after
/// resolving symbolic links and `..`; an `--out` that does not exist yet is resolved through its nearest existing
/// ancestor). Writing the load bundle there would add files the extract's manifest does not list, so the extract
/// would no longer verify. Called before anything is written.
///
/// # Errors
/// [`TransformError::Usage`] (exit 2) naming both paths.
pub fn check_not_nested(extract: &Path, out: &Path) -> Result<()> {
    let Ok(input) = extract.canonicalize() else {
        // A missing extract bundle is reported by the bundle reader.
        return Ok(());
    };
    let output = resolve(out);
    let problem = if output.starts_with(&input) {
        "is inside the extract bundle"
    } else if input.starts_with(&output) {
        "contains the extract bundle"
    } else {
        return Ok(());
    };
    Err(TransformError::Usage(format!(
        "--out {} {problem} {} (resolved: {} and {}); writing there would damage the extract bundle: choose an \
         --out outside it",
        out.display(),
        extract.display(),
        output.display(),
        input.display()
    )))
}

/// `path` made absolute with symbolic links and `..` resolved, through its nearest existing ancestor when it does
/// not exist (the missing components are appended as given, `.` dropped).
fn resolve(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut rest = Vec::new();
    let mut cur = absolute.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                match part {
                    std::path::Component::ParentDir => {
                        out.pop();
                    }
                    std::path::Component::CurDir => {}
                    other => out.push(other.as_os_str()),
                }
            }
            return out;
        }
        match (cur.parent(), cur.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                cur = parent;
            }
            _ => return absolute,
        }
    }
}

/// The output bundle of a run and its staging folder; dropped without [`finish`](Self::finish), it removes
/// what the run wrote.
pub struct Output {
    writer: Option<BundleWriter>,
    root: PathBuf,
    staging: PathBuf,
    /// The run created `root` (it did not exist): a failed run removes it whole.
    created: bool,
    finished: bool,
}

impl Output {
    /// Starts the load bundle at `out` (which must not exist or be empty) and creates its staging folder.
    ///
    /// # Errors
    /// [`TransformError::Usage`] (exit 2) when `out` holds a `staging/` folder and no `manifest.json` (left over
    /// from an interrupted run: [`leftover_message`]); [`ti_shared::bundle::BundleError::NotEmpty`] for a
    /// directory that holds anything else; I/O failures naming the path.
    pub fn create(out: &Path) -> Result<Self> {
        if out.join(STAGING).is_dir() && !out.join(ti_shared::bundle::MANIFEST_FILE).exists() {
            return Err(TransformError::Usage(leftover_message(out)));
        }
        let created = !out.exists();
        let producer = Producer {
            name: "ti-transform".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        };
        let writer = BundleWriter::create(out, BundleKind::Load, producer)?;
        let output = Self {
            writer: Some(writer),
            root: out.to_path_buf(),
            staging: out.join(STAGING),
            created,
            finished: false,
        };
        *crate::interrupt::active() = Some(crate::interrupt::Active {
            root: out.to_path_buf(),
            created,
        });
        std::fs::create_dir(&output.staging).map_err(io_at(&output.staging))?;
        crate::interrupt::test_hold();
        Ok(output)
    }

    /// The folder for the run's temporary files.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// The bundle writer.
    ///
    /// # Errors
    /// Never in practice: the writer is only taken by [`finish`](Self::finish), which consumes `self`.
    pub fn writer(&self) -> Result<&BundleWriter> {
        self.writer
            .as_ref()
            .ok_or_else(|| TransformError::Input("the load bundle is already finished".into()))
    }

    /// Removes the staging folder (its files must be closed: drop their owners first), then writes
    /// `manifest.json`: from here on the bundle is complete.
    ///
    /// # Errors
    /// When the staging folder cannot be removed or the manifest cannot be written (naming the path).
    pub fn finish(mut self) -> Result<Manifest> {
        // A signal waits while the manifest is written (crate::interrupt): the bundle is then whole or removed.
        let mut active = crate::interrupt::active();
        std::fs::remove_dir_all(&self.staging).map_err(io_at(&self.staging))?;
        let writer = self
            .writer
            .take()
            .ok_or_else(|| TransformError::Input("the load bundle is already finished".into()))?;
        let manifest = writer.finish()?;
        self.finished = true;
        *active = None;
        Ok(manifest)
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.writer = None;
        crate::interrupt::remove_output(&self.root, self.created);
        *crate::interrupt::active() = None;
    }
}

/// Writes the records, lineage, blobs, gap files and reports of a run into `output` (everything but the
/// manifest: [`Output::finish`]). Returns the records per kind and report.json.
///
/// # Errors
/// Write failures, naming the file (a full disk included); reads of the spill file and of source blobs.
pub fn write_bundle(
    output: &Output,
    source: &SourceTables,
    ctx: &Ctx,
    gap_files: BTreeMap<String, Vec<u8>>,
    sample: Option<u64>,
) -> Result<(BTreeMap<String, u64>, serde_json::Value)> {
    let writer = output.writer()?;
    writer.set_parent(source.bundle_id());
    writer.set_migration_id(&ctx.mapping.migration_id);
    writer.set_config_digest(&ctx.mapping.digest());
    let mut recs = std::mem::take(&mut *ctx.records.lock().unwrap_or_else(|p| p.into_inner()));
    {
        use rayon::prelude::*;
        recs.par_sort_by(|a, b| {
            (a.record.kind, &a.record.key).cmp(&(b.record.kind, &b.record.key))
        });
    }
    recs.dedup_by(|a, b| a.record.key == b.record.key);
    // Record files, the lineage file and the blobs are written in parallel (three independent outputs).
    let write_records = || -> Result<BTreeMap<String, u64>> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut spill = ctx.spill.reader()?;
        let mut buf = Vec::new();
        for kind in RecordKind::ALL {
            let rel = kind.file_path();
            let mut sink = writer.create_file(&rel)?;
            let mut n = 0;
            for o in recs.iter().filter(|o| o.record.kind == kind) {
                spill.read_into(o.line, &mut buf)?;
                sink.write_all(&buf).map_err(io_at(&writer.path(&rel)))?;
                n += 1;
            }
            writer.commit(sink, Some(n))?;
            counts.insert(kind.as_str().into(), n);
        }
        Ok(counts)
    };
    let write_lineage = || -> Result<()> {
        let rel = "report/lineage.ndjson";
        let mut spill = ctx.spill.reader()?;
        let mut buf = Vec::new();
        let mut sink = writer.create_file(rel)?;
        for o in &recs {
            spill.read_into(o.lineage, &mut buf)?;
            sink.write_all(&buf).map_err(io_at(&writer.path(rel)))?;
        }
        writer.commit(sink, Some(recs.len() as u64))?;
        Ok(())
    };
    // Blobs referenced by the kept records only.
    let write_blobs = || -> Result<()> {
        let mut needed: BTreeSet<&str> = BTreeSet::new();
        for o in &recs {
            needed.extend(o.blobs.iter().map(String::as_str));
        }
        let blobs = ctx.blobs.lock().unwrap_or_else(|p| p.into_inner());
        for (hash, src) in blobs.iter().filter(|(h, _)| needed.contains(h.as_str())) {
            match src {
                BlobSource::Extract(h) => match source.blob_file(h) {
                    Some(path) => {
                        let bytes = std::fs::metadata(&path)
                            .map(|m| m.len())
                            .map_err(io_at(&path))?;
                        writer.link_blob(
                            &path,
                            &BlobRef {
                                blake3: hash.clone(),
                                bytes,
                            },
                        )?;
                    }
                    None => {
                        writer.add_blob(&source.read_blob(h)?)?;
                    }
                },
                BlobSource::Inline(b) => {
                    writer.add_blob(b)?;
                }
            }
        }
        Ok(())
    };
    let (counts, (lineage, blobs)) =
        rayon::join(write_records, || rayon::join(write_lineage, write_blobs));
    let counts = counts?;
    lineage?;
    blobs?;
    let (gaps_n, overlaps, sentinels) = ctx.clock.stats.snapshot();
    let l = &ctx.ledger;
    l.count("dst_gap_times", gaps_n);
    l.count("dst_overlap_times", overlaps);
    l.count("sentinel_dates_as_no_value", sentinels);
    l.count(
        "nul_characters_removed",
        ctx.text
            .nul_removed
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    l.count(
        "html_bodies_converted",
        ctx.text
            .html_converted
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    l.count(
        "rtf_bodies_converted",
        ctx.text
            .rtf_converted
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    // Gap files: regenerate dropped_records (the sample trim may have added counters only).
    let mut gap_names: Vec<String> = gap_files.keys().cloned().collect();
    for (rel, bytes) in &gap_files {
        let rows = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        let rows = if rel.ends_with(".csv") {
            Some(rows.saturating_sub(1))
        } else {
            None
        };
        writer.write_bytes(rel, bytes, rows)?;
    }
    let changes = crate::gaps_parquet::change_requests_parquet(&gap_files)?;
    writer.write_bytes("gaps/change_requests.parquet", &changes.0, Some(changes.1))?;
    gap_names.push("gaps/change_requests.parquet".into());
    gap_names.sort();
    let report = crate::report::json_report(
        source.bundle_id(),
        &ctx.mapping.migration_id,
        &ctx.mapping.digest(),
        &ctx.profile.name,
        sample,
        &l.objects(),
        &counts,
        &l.counters(),
        &gap_names,
        &crate::propose::unmapped_tables(source, &ctx.profile),
    );
    writer.write_json("report/report.json", &report)?;
    writer.write_bytes(
        "report/migration-report.html",
        crate::report::html_report(&report).as_bytes(),
        None,
    )?;
    Ok((counts, report))
}
