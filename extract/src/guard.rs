//! Guards around the bundle folder (session-3 newcomer findings): what `--out` may point at, the exclusive lock of
//! a run on its bundle folder, what `--resume` may continue (same source, same settings, committed parts intact),
//! and the last cross-check of row counts against the Parquet footers before the manifest is sealed.

use crate::error::ExtractError;
use crate::inventory::{Inventory, ObjectInfo};
use crate::resume::{Origin, ResumeState, STATE_FILE, TableState};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use ti_shared::bundle::layout;

/// The files a discovery writes: `discover --out` may overwrite a folder holding only these.
pub const DISCOVERY_FILES: [&str; 3] = [layout::INVENTORY, "discovery.json", "discovery.md"];

/// `--out` must be a folder (or not exist yet) and must not lie inside a bundle (a parent holding `manifest.json`
/// or `extract-state.json`).
///
/// # Errors
/// [`ExtractError::Usage`] (exit 2) naming the path.
pub fn check_out(out: &Path) -> Result<(), ExtractError> {
    if out.exists() && !out.is_dir() {
        return Err(ExtractError::Usage(format!(
            "--out {}: is a file, not a folder",
            out.display()
        )));
    }
    let abs = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    for parent in abs.ancestors().skip(1) {
        for marker in ["manifest.json", STATE_FILE] {
            if parent.join(marker).is_file() {
                return Err(ExtractError::Usage(format!(
                    "--out {}: is inside the bundle {} (it holds {marker}); choose a folder outside it",
                    out.display(),
                    parent.display()
                )));
            }
        }
    }
    Ok(())
}

fn entries(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .map(|items| {
            items
                .flatten()
                .map(|i| i.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `discover --out`: the folder must be new, empty, or hold only an earlier discovery's files.
///
/// # Errors
/// [`ExtractError::Usage`] (exit 2) naming the folder and the first file that is not a discovery's.
pub fn check_discover_out(out: &Path) -> Result<(), ExtractError> {
    check_out(out)?;
    let mut names = entries(out);
    names.sort();
    if let Some(other) = names
        .iter()
        .find(|n| !DISCOVERY_FILES.contains(&n.as_str()))
    {
        return Err(ExtractError::Usage(format!(
            "--out {}: the folder is not empty ({other}); a discovery writes only into a new or empty folder or \
             over an earlier discovery",
            out.display()
        )));
    }
    Ok(())
}

/// `run --resume`: the folder must be an interrupted extract (holding `extract-state.json`), or new or empty
/// (then the run starts from scratch).
///
/// # Errors
/// [`ExtractError::Usage`] (exit 2) naming the folder.
pub fn check_resume_out(out: &Path) -> Result<(), ExtractError> {
    if out.join(STATE_FILE).is_file() || entries(out).is_empty() {
        return Ok(());
    }
    let why = if out.join("manifest.json").is_file() {
        "is a finished bundle, there is nothing to resume".to_string()
    } else {
        format!(
            "holds no {STATE_FILE}: it is not an interrupted ti-extract bundle, there is nothing to resume"
        )
    };
    Err(ExtractError::Usage(format!(
        "--out {}: {why}",
        out.display()
    )))
}

/// The exclusive lock of one run on its bundle folder, so no lock file ever lands in the bundle: on Unix an
/// advisory lock (`flock`) on the folder itself; on Windows, which cannot open a folder as a file, a lock on the
/// sibling file `<folder>.ti-extract.lock`, removed when the lock is dropped. Released when dropped (or when the
/// process ends, however it ends).
#[derive(Debug)]
pub struct BundleLock {
    _handle: File,
    /// The sibling lock file to remove on drop (Windows only).
    sibling: Option<std::path::PathBuf>,
}

impl Drop for BundleLock {
    fn drop(&mut self) {
        if let Some(path) = &self.sibling {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// What is locked for `out`: the folder itself (Unix).
#[cfg(unix)]
fn lock_handle(out: &Path) -> std::io::Result<(File, Option<std::path::PathBuf>)> {
    Ok((File::open(out)?, None))
}

/// What is locked for `out`: the sibling file `<out>.ti-extract.lock` (Windows cannot open a folder as a file).
#[cfg(not(unix))]
fn lock_handle(out: &Path) -> std::io::Result<(File, Option<std::path::PathBuf>)> {
    let mut name = out.as_os_str().to_owned();
    name.push(".ti-extract.lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    Ok((file, Some(path)))
}

/// Creates `out` if needed and locks it for this run.
///
/// # Errors
/// [`ExtractError::Usage`] (exit 2) `bundle X is in use by another ti-extract run (pid N)` when another run holds
/// it (the pid is read from its resume state); [`ExtractError::Io`] when the folder cannot be created or opened.
pub fn lock(out: &Path) -> Result<BundleLock, ExtractError> {
    let io = |source| ExtractError::Io {
        path: out.display().to_string(),
        source,
    };
    std::fs::create_dir_all(out).map_err(io)?;
    let (handle, sibling) = lock_handle(out).map_err(io)?;
    match handle.try_lock() {
        Ok(()) => Ok(BundleLock {
            _handle: handle,
            sibling,
        }),
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = ResumeState::load(out)
                .ok()
                .map(|s| s.pid)
                .filter(|p| *p != 0)
                .map_or_else(|| "unknown".to_string(), |p| p.to_string());
            Err(ExtractError::Usage(format!(
                "bundle {} is in use by another ti-extract run (pid {pid})",
                out.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

/// blake3 of every object's name, type, columns (name, type, length, precision, scale, nullability, collation)
/// and primary key, in inventory order: what must not change between a run and its `--resume`.
pub fn inventory_fingerprint(inv: &Inventory) -> String {
    let shape: Vec<_> = inv
        .objects
        .iter()
        .map(|o| (o.full_name(), &o.object_type, &o.columns, &o.primary_key))
        .collect();
    blake3::hash(&serde_json::to_vec(&shape).unwrap_or_default())
        .to_hex()
        .to_string()
}

/// The settings that shape a bundle, by name (`page_rows`, `--tables`, …), as recorded in the resume state.
pub fn bundle_settings(
    cfg: &ti_shared::config::ExtractConfig,
    keyless_cap: u64,
    views: bool,
    tables: &[String],
) -> BTreeMap<String, String> {
    [
        ("[extract] page_rows", cfg.page_rows.to_string()),
        ("[extract] row_group_rows", cfg.row_group_rows.to_string()),
        (
            "[extract] lob_inline_max_bytes",
            cfg.lob_inline_max_bytes.to_string(),
        ),
        ("[extract] lob_chunk_bytes", cfg.lob_chunk_bytes.to_string()),
        ("keyless cell cap", keyless_cap.to_string()),
        ("views", views.to_string()),
        (
            "--tables",
            if tables.is_empty() {
                "(all)".to_string()
            } else {
                tables.join(",")
            },
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `--resume`: refuses a source or settings other than the bundle's (exit 2, naming each difference).
///
/// # Errors
/// [`ExtractError::Usage`] listing the differences.
pub fn check_origin(
    out: &Path,
    recorded: Option<&Origin>,
    now: &Origin,
) -> Result<(), ExtractError> {
    let Some(recorded) = recorded else {
        return Ok(());
    };
    let diff = recorded.differences(now);
    if diff.is_empty() {
        return Ok(());
    }
    Err(ExtractError::Usage(format!(
        "cannot resume {}: it was started with another source or other settings (run again without --resume into \
         a new folder, or with the bundle's settings):\n  {}",
        out.display(),
        diff.join("\n  ")
    )))
}

fn part_rel(obj: &ObjectInfo, index: usize) -> String {
    crate::dump::part_path(obj, index)
}

fn hash(path: &Path) -> Option<(u64, String)> {
    let mut file = File::open(path).ok()?;
    let mut h = blake3::Hasher::new();
    let bytes = std::io::copy(&mut file, &mut h).ok()?;
    Some((bytes, h.finalize().to_hex().to_string()))
}

/// `--resume`: checks every committed part against the blake3 and size recorded when it was committed. A table
/// with a part missing or changed (or recorded by a version that kept no hashes) restarts from scratch, with a
/// warning naming the file; its parts are then dropped by the dump.
pub fn verify_parts(root: &Path, inv: &Inventory, state: &mut ResumeState) {
    for obj in &inv.objects {
        let Some(st) = state.tables.get_mut(&obj.full_name()) else {
            continue;
        };
        let bad = (0..st.part_rows.len()).find_map(|i| {
            let rel = part_rel(obj, i);
            let why = match (hash(&root.join(&rel)), st.part_files.get(i)) {
                (None, _) => "is missing",
                (Some(_), None) => "has no recorded hash",
                (Some((bytes, b3)), Some(rec)) if bytes != rec.bytes || b3 != rec.blake3 => {
                    "changed after it was committed"
                }
                _ => return None,
            };
            Some(format!("{rel} {why}"))
        });
        if let Some(why) = bad {
            tracing::warn!(
                "{}: {why}; the table is extracted again from its first row",
                obj.full_name()
            );
            *st = TableState::default();
        }
    }
}

/// Rows in the Parquet footers of the `part-*.parquet` files in `folder`.
fn footer_rows(folder: &Path) -> Result<u64, ExtractError> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let mut rows = 0u64;
    let Ok(items) = std::fs::read_dir(folder) else {
        return Ok(0);
    };
    for item in items.flatten() {
        let path: PathBuf = item.path();
        let name = item.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("part-") && name.ends_with(".parquet")) {
            continue;
        }
        let file = File::open(&path).map_err(|source| ExtractError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let reader = SerializedFileReader::new(file).map_err(|e| {
            ExtractError::Data(format!(
                "{}: not a readable Parquet file: {e}",
                path.display()
            ))
        })?;
        rows += reader.metadata().file_metadata().num_rows().max(0) as u64;
    }
    Ok(rows)
}

/// Before sealing: the rows each table reports written must be the rows in its part files' footers.
///
/// # Errors
/// [`ExtractError::Data`] (exit 1) naming the table and both counts.
pub fn check_rows(root: &Path, obj: &ObjectInfo, written: u64) -> Result<(), ExtractError> {
    let in_parts = footer_rows(&root.join(&obj.folder))?;
    if in_parts != written {
        return Err(ExtractError::Data(format!(
            "{}: rows_written is {written} but its part files hold {in_parts} rows; the bundle is not sealed",
            obj.full_name()
        )));
    }
    Ok(())
}
