//! `ti-extract`: stage 1 of the Track-It! → Intercom migration (DESIGN.md §4–§5, issue 6). Reads a SQL Server
//! database read-only and writes either a discovery (`discover`: inventory and scope, no data) or a verified
//! extract bundle (`run`: every table and view as Parquet, large cells and file-share attachments in `blobs/`).
//!
//! Modules: [`connect`] (connection string, password from the environment), [`queries`] (every SQL template),
//! [`inventory`] (Q2–Q7), [`types`] (SQL Server → Arrow), [`dump`] (row groups → Parquet parts), [`keyset`] (keyset pages on the whole primary key), [`lob`]
//! (large cells in windows), [`scan`] (ordered scans of keyless tables, views and keys keyset pages cannot compare), [`attachments`], [`resume`], [`progress`], [`report`], [`discover`].

pub mod attachments;
pub mod cells;
pub mod connect;
pub mod discover;
pub mod dump;
pub mod error;
pub mod guard;
pub mod inventory;
pub mod keyset;
pub mod lob;
pub mod parts;
pub mod progress;
pub mod queries;
pub mod report;
pub mod resume;
pub mod scan;
pub mod types;

pub use error::ExtractError;

use connect::Source;
use inventory::{Inventory, ObjectInfo};
use std::path::{Path, PathBuf};
use ti_shared::bundle::{BundleKind, BundleWriter, Manifest, Producer, SourceInfo, layout};
use ti_shared::config::PipelineConfig;
use ti_shared::report::{Report, ReportRow};

/// Options of `ti-extract run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides `[source] connection_string`.
    pub connection_string: Option<String>,
    /// File-share attachments to copy into the bundle.
    pub attachments_dir: Option<PathBuf>,
    /// Only objects whose `schema.object` (or `object`) matches one of these globs (`*`, `?`; case-insensitive);
    /// empty = all.
    pub tables: Vec<String>,
    /// Skip views even when `[extract] include_views` is true.
    pub no_views: bool,
    /// Continue an interrupted bundle in `out`.
    pub resume: bool,
    /// The bundle directory.
    pub out: PathBuf,
    /// No progress bars.
    pub quiet: bool,
    /// Keyless tables and views: LOB cells over this many bytes are not read (see [`scan`]). Overrides
    /// `[extract] keyless_cell_max_bytes` (default 32 MiB); `None` = the config's value.
    pub keyless_cell_max_bytes: Option<u64>,
}

/// What `run` produced.
#[derive(Debug)]
pub struct RunSummary {
    /// The finished manifest.
    pub manifest: Manifest,
    /// Rows per table with timings (printed).
    pub report: Report,
    /// The bundle's report.
    pub extract_report: report::ExtractReport,
    /// What `[extract] max_rows_per_second` decided (rows counted, pauses).
    pub throttle: dump::Throttle,
    /// Tables whose large cells were not read (over the keyless cap), in dump order.
    pub omitted: Vec<report::OmittedCells>,
}

impl RunSummary {
    /// What the console shows at the end (unless `-q`): the summary table and its footnote on large cells not
    /// read ([`report::console_summary`]).
    pub fn console(&self) -> String {
        report::console_summary(&self.report, &self.omitted)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExtractError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| ExtractError::Io {
            path: "tokio runtime".into(),
            source,
        })
}

fn source(cfg: &PipelineConfig, conn: Option<&str>) -> Result<Source, ExtractError> {
    let conn = conn.unwrap_or(&cfg.source.connection_string);
    let password = std::env::var(&cfg.source.password_env).ok();
    let source = Source::prepare(conn, password, &cfg.source.password_env)?;
    if source.info.plaintext {
        tracing::warn!(
            "encrypt=DANGER_PLAINTEXT: the connection to {} is not encrypted (acceptable for a test fixture only)",
            source.info.server
        );
    }
    Ok(source)
}

/// Case-insensitive glob match with `*` and `?`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) => a == b && go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    go(&p, &t)
}

fn selected(obj: &ObjectInfo, opts: &RunOptions, include_views: bool) -> bool {
    if obj.is_view() && (!include_views || opts.no_views) {
        return false;
    }
    opts.tables.is_empty()
        || opts
            .tables
            .iter()
            .any(|g| glob_match(g, &obj.full_name()) || glob_match(g, &obj.name))
}

/// Checks that every `--tables` pattern names at least one table or view of the inventory, before any bundle is
/// written: a pattern that matches nothing is a typing mistake, and a bundle without the tables the operator meant
/// would only fail later (or worse, transform into a migration without them).
///
/// # Errors
/// [`ExtractError::Usage`] (exit 2) naming the pattern.
fn check_table_globs(inv: &Inventory, opts: &RunOptions) -> Result<(), ExtractError> {
    for pattern in &opts.tables {
        let matches = inv
            .objects
            .iter()
            .any(|o| glob_match(pattern, &o.full_name()) || glob_match(pattern, &o.name));
        if !matches {
            return Err(ExtractError::Usage(format!(
                "--tables {pattern:?} matches no table or view of database {} (see `ti-extract discover` for the names)",
                inv.server.database
            )));
        }
    }
    Ok(())
}

/// Checks `--attachments-dir` before anything is read, so a mistyped folder is reported at once instead of
/// after the whole dump.
///
/// # Errors
/// [`ExtractError::Usage`] (exit 2) naming the folder when it does not exist or is not a folder.
pub fn check_attachments_dir(dir: Option<&Path>) -> Result<(), ExtractError> {
    match dir {
        Some(d) if !d.is_dir() => Err(ExtractError::Usage(format!(
            "--attachments-dir {}: {}",
            d.display(),
            if d.exists() {
                "is not a folder"
            } else {
                "no such folder"
            }
        ))),
        _ => Ok(()),
    }
}

/// `ti-extract discover`: writes `inventory.json`, `discovery.json` and `discovery.md` into `out`.
///
/// # Errors
/// Connection, query or file errors.
pub fn discover(
    cfg: &PipelineConfig,
    conn: Option<&str>,
    out: &Path,
) -> Result<discover::Discovery, ExtractError> {
    guard::check_discover_out(out)?;
    let rt = runtime()?;
    let source = source(cfg, conn)?;
    let nolock = cfg.extract.isolation == "nolock";
    let (inv, d) = rt.block_on(async {
        let mut client = source.connect().await?;
        let (inv, _) = inventory::read(&mut client, nolock).await?;
        let d = discover::discover(&mut client, &inv, nolock).await?;
        Ok::<_, ExtractError>((inv, d))
    })?;
    let io = |p: &Path| {
        let path = p.display().to_string();
        move |source| ExtractError::Io { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let write = |name: &str, bytes: Vec<u8>| {
        let p = out.join(name);
        std::fs::write(&p, bytes).map_err(io(&p))
    };
    let json = |v: &dyn erased::Json| v.to_pretty();
    write(layout::INVENTORY, json(&inv))?;
    write("discovery.json", json(&d))?;
    write("discovery.md", discover::markdown(&d, &inv).into_bytes())?;
    Ok(d)
}

mod erased {
    /// Pretty JSON of any serialisable value, newline-terminated.
    pub trait Json {
        fn to_pretty(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_pretty(&self) -> Vec<u8> {
            let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
            v.push(b'\n');
            v
        }
    }
}

/// `ti-extract run`: dumps the database into a verified extract bundle at `opts.out`.
///
/// # Errors
/// Connection errors, a table failing after its retries, bundle or Parquet write errors. The bundle is then
/// left without a manifest (incomplete) and `--resume` continues it.
pub fn run(cfg: &PipelineConfig, opts: &RunOptions) -> Result<RunSummary, ExtractError> {
    check_attachments_dir(opts.attachments_dir.as_deref())?;
    if opts.keyless_cell_max_bytes == Some(0) {
        return Err(ExtractError::Usage(
            "--keyless-cell-max-bytes must be at least 1 (like [extract] keyless_cell_max_bytes)"
                .into(),
        ));
    }
    guard::check_out(&opts.out)?;
    if opts.resume {
        guard::check_resume_out(&opts.out)?;
    }
    let rt = runtime()?;
    let source = source(cfg, opts.connection_string.as_deref())?;
    let nolock = cfg.extract.isolation == "nolock";
    let (mut inv, snapshot, client, server_name) = rt.block_on(async {
        let mut client = source.connect().await?;
        let (inv, snapshot) = inventory::read(&mut client, nolock).await?;
        let name = inventory::server_name(&mut client).await?;
        Ok::<_, ExtractError>((inv, snapshot, client, name))
    })?;
    inventory::check_reserved(&inv)?;
    check_table_globs(&inv, opts)?;
    if !opts.tables.is_empty()
        && !inv
            .objects
            .iter()
            .any(|o| selected(o, opts, cfg.extract.include_views))
    {
        return Err(ExtractError::Usage(format!(
            "the selection is empty: --tables {} matches only views, and views are left out ({}); nothing to \
extract",
            opts.tables.join(" --tables "),
            if opts.no_views {
                "--no-views"
            } else {
                "[extract] include_views = false"
            }
        )));
    }
    let producer = Producer {
        name: "ti-extract".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let keyless_cap = opts
        .keyless_cell_max_bytes
        .unwrap_or(cfg.extract.keyless_cell_max_bytes);
    let origin = resume::Origin {
        // The server's own name: the same server reached through another address is the same source.
        server: if server_name.is_empty() {
            source.info.server.clone()
        } else {
            server_name
        },
        database: inv.server.database.clone(),
        schema_fingerprint: guard::inventory_fingerprint(&inv),
        settings: guard::bundle_settings(
            &cfg.extract,
            keyless_cap,
            cfg.extract.include_views && !opts.no_views,
            &opts.tables,
        ),
    };
    if !opts.resume
        && opts.out.is_dir()
        && std::fs::read_dir(&opts.out).is_ok_and(|mut d| d.next().is_some())
    {
        return Err(ti_shared::bundle::BundleError::NotEmpty {
            bundle: opts.out.clone(),
        }
        .into());
    }
    // Held until the manifest is sealed: a second run on this folder is refused.
    let _lock = guard::lock(&opts.out)?;
    let (writer, mut state) = if opts.resume {
        let mut state = resume::ResumeState::load(&opts.out)?;
        guard::check_origin(&opts.out, state.origin.as_ref(), &origin)?;
        let writer = BundleWriter::reopen(&opts.out, BundleKind::Extract, producer)?;
        guard::verify_parts(writer.root(), &inv, &mut state);
        (writer, state)
    } else {
        (
            BundleWriter::create(&opts.out, BundleKind::Extract, producer)?,
            resume::ResumeState::default(),
        )
    };
    state.origin = Some(origin);
    state.pid = std::process::id();
    state.save(writer.root())?;
    let default_collation = inv.server.collation.clone();
    let mut dumper = dump::Dumper::new(
        &rt,
        &source,
        &writer,
        &cfg.extract,
        default_collation,
        state,
    );
    dumper.client = Some(client);
    // The flag wins over `[extract] keyless_cell_max_bytes`, which Dumper::new started from.
    if let Some(cap) = opts.keyless_cell_max_bytes {
        dumper.keyless_cap = cap;
    }
    let keyless_cap = dumper.keyless_cap;
    let mut omitted = Vec::new();
    let progress = progress::Progress::new(opts.quiet);
    let mut printed = Report::new("table");
    let mut tables = Vec::new();
    for i in 0..inv.objects.len() {
        if !selected(&inv.objects[i], opts, cfg.extract.include_views) {
            continue;
        }
        let obj = inv.objects[i].clone();
        let read_before = dumper.rows_read;
        let tp = progress.table(&obj.full_name(), obj.row_count);
        let st = dumper.dump(&obj, &tp)?;
        tp.finish(st.rows());
        let bytes: u64 = (0..st.part_rows.len())
            .filter_map(|p| std::fs::metadata(writer.path(&dump::part_path(&obj, p))).ok())
            .map(|m| m.len())
            .sum();
        guard::check_rows(writer.root(), &obj, st.rows())?;
        inv.objects[i].extracted_rows = Some(st.rows());
        if let Some(o) = report::OmittedCells::of(&obj.full_name(), &st, keyless_cap) {
            tracing::warn!("{}", o.warning());
            omitted.push(o);
        }
        printed.add(ReportRow {
            name: obj.full_name(),
            read: dumper.rows_read - read_before,
            written: st.rows(),
            rejected: st.raw_cells,
            secs: tp.secs(),
            ..ReportRow::default()
        });
        tables.push(report::TableReport::new(
            obj.full_name(),
            obj.object_type.clone(),
            obj.row_count,
            &st,
            bytes,
        ));
    }
    let throttle = dumper.throttle.clone();
    if throttle.max_rows_per_second > 0 {
        tracing::info!(
            "max_rows_per_second {}: {} rows counted, {} pauses, {:.3} s paused",
            throttle.max_rows_per_second,
            throttle.rows,
            throttle.pauses,
            throttle.paused_secs
        );
    }
    drop(dumper);
    let attachments = match &opts.attachments_dir {
        Some(dir) => {
            let folders: Vec<String> = inv
                .objects
                .iter()
                .filter(|o| {
                    o.extracted_rows.is_some()
                        && o.columns
                            .iter()
                            .any(|c| attachments::PATH_COLUMNS.contains(&c.name.as_str()))
                })
                .map(|o| o.folder.clone())
                .collect();
            let paths = attachments::db_paths(writer.root(), &folders)?;
            Some(attachments::copy(&writer, dir, &paths)?)
        }
        None => None,
    };
    let extract_report = report::ExtractReport {
        tables,
        attachments,
    };
    writer.write_json(layout::INVENTORY, &inv)?;
    writer.write_json(report::REPORT_JSON, &extract_report)?;
    writer.remove(resume::STATE_FILE)?;
    let snapshot_time = if snapshot.server_time.is_empty() {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    } else {
        snapshot.server_time
    };
    writer.set_source(SourceInfo {
        server: source.info.server.clone(),
        database: inv.server.database.clone(),
        snapshot_time,
    });
    writer.set_config_digest(&cfg.digest());
    let manifest = writer.finish()?;
    Ok(RunSummary {
        manifest,
        report: printed,
        extract_report,
        throttle,
        omitted,
    })
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_case_insensitively() {
        assert!(glob_match("dbo.task*", "dbo.TaskNote"));
        assert!(glob_match("TASKS", "tasks"));
        assert!(glob_match("*.v?ASKS_BROWSE", "dbo.vTASKS_BROWSE"));
        assert!(!glob_match("dbo.TASKS", "dbo.TASKS2"));
    }
}
