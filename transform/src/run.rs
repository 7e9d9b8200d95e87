//! `ti-transform run`: extract bundle + confirmed mapping → load bundle (records, blobs, gaps, report).
//!
//! The steps, each in its own module: the output bundle and its staging folder are created ([`crate::output`]);
//! the source is read into the model ([`crate::read`]); tickets are selected and resolved
//! ([`crate::select`]); notes, history rows and attachments are streamed through ticket windows and the
//! conversations built ([`crate::stream`]); companies, contacts, articles, attributes and gap files are made;
//! `--sample` trims the records ([`crate::sample`]); the bundle is written and sealed ([`crate::output`]).

use crate::attachments::ShareIndex;
use crate::ctx::Ctx;
use crate::error::{Result, TransformError};
use crate::mapping::Mapping;
use crate::model::physical_table;
use crate::output::Output;
use crate::profile::{Profile, TimeBasis};
use crate::source::SourceTables;
use crate::windows::{TextSpill, Windows};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The load bundle's id.
    pub bundle_id: String,
    /// Records per kind.
    pub records: BTreeMap<String, u64>,
    /// report.json.
    pub report: serde_json::Value,
}

/// Logs the end of a phase with the time since the run started (`-v` shows it).
fn phase(start: std::time::Instant, what: &str) {
    tracing::debug!(
        elapsed_ms = start.elapsed().as_millis() as u64,
        "transform: {what}"
    );
}

/// How a run is made, besides its inputs.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// `--sample N`: N tickets with what they reference.
    pub sample: Option<u64>,
    /// Tickets per window (`--window-tickets`, `[transform] window_tickets`): bounds the memory held for notes,
    /// history rows and attachments (windows.rs). Does not change the output.
    pub window_tickets: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            sample: None,
            window_tickets: crate::windows::DEFAULT_WINDOW_TICKETS,
        }
    }
}

/// Runs the transform with a mapping file (checked: confirmed, same fingerprint), default options but `sample`.
///
/// # Errors
/// Bundle verification, mapping problems (unconfirmed, fingerprint), read and write failures.
pub fn run(
    extract: &Path,
    mapping_path: &Path,
    out: &Path,
    sample: Option<u64>,
) -> Result<RunSummary> {
    run_with(
        extract,
        mapping_path,
        out,
        &RunOptions {
            sample,
            ..Default::default()
        },
    )
}

/// Runs the transform with a mapping file (checked: confirmed, same fingerprint).
///
/// # Errors
/// Bundle verification, mapping problems (unconfirmed, fingerprint), read and write failures.
pub fn run_with(
    extract: &Path,
    mapping_path: &Path,
    out: &Path,
    options: &RunOptions,
) -> Result<RunSummary> {
    let start = std::time::Instant::now();
    crate::output::check_not_nested(extract, out)?;
    let bundle =
        ti_shared::bundle::Bundle::open_kind(extract, ti_shared::bundle::BundleKind::Extract)?;
    let source = SourceTables::from_bundle(&bundle)?;
    phase(start, "extract bundle opened and verified");
    let shown = mapping_path.display().to_string();
    let text = std::fs::read_to_string(mapping_path)
        .map_err(|e| TransformError::Usage(format!("mapping {shown}: {e}")))?;
    let mapping = Mapping::parse(&text, &shown)?;
    mapping.check(&shown, &source.inventory().fingerprint())?;
    mapping.check_source(&shown, &source)?;
    run_source(&source, mapping, out, options)
}

/// Runs the transform on opened source tables with an already checked mapping.
///
/// # Errors
/// Read and write failures (naming the file); the attribute limit. A failed run leaves no bundle at `out`
/// ([`Output`]).
pub fn run_source(
    source: &SourceTables,
    mapping: Mapping,
    out: &Path,
    options: &RunOptions,
) -> Result<RunSummary> {
    let sample = options.sample;
    let start = std::time::Instant::now();
    let profile = Profile::built_in(&mapping.profile)?;
    let clock = crate::time::Clock::new(&mapping.source_time_zone, profile.times == TimeBasis::Utc)
        .map_err(TransformError::Usage)?;
    // Declared before the owners of the temporary files, so dropped after them: a failed run's files are
    // closed before its folder is removed.
    let output = Output::create(out)?;
    let lowercase_local = mapping.people.email_local_part == "lowercase";
    let mut tables = HashMap::new();

    let people = crate::read::people(source, &profile, &mapping, lowercase_local, &mut tables)?;
    let lookups = crate::read::lookups(source, &profile)?;
    // Ticket bodies wait in a temporary file until their conversation is built (windows.rs, TextSpill).
    let mut texts = TextSpill::create(output.staging())?;
    let tickets = crate::read::tickets(
        source,
        &profile,
        &mapping,
        &lookups.requestor_emails,
        &mut texts,
        &mut tables,
    )?;
    // Notes, history rows and attachments are streamed through ticket windows after the selection (stream.rs).
    let stream_tables = crate::stream::Tables {
        note: physical_table(source, &profile, "note"),
        history: physical_table(source, &profile, "ticket_history"),
        attachment: physical_table(source, &profile, "attachment"),
    };
    tables.insert("note".into(), stream_tables.note.clone());
    tables.insert("ticket_history".into(), stream_tables.history.clone());
    tables.insert("attachment".into(), stream_tables.attachment.clone());
    let articles = crate::read::articles(source, &profile, &mut tables)?;
    let assets = crate::read::assets(source, &profile, &mut tables)?;
    let reference = crate::read::reference(source, &profile, &clock, &assets, &mut tables)?;
    let mut gap_inputs = reference.gaps;

    phase(start, "tickets and reference tables read");
    let ctx = Ctx {
        mapping,
        profile: profile.clone(),
        clock,
        text: Default::default(),
        ledger: Default::default(),
        people: people.directory,
        tech_keys: people.tech_keys,
        contact_keys: people.contact_keys,
        records: Default::default(),
        spill: crate::ctx::Spill::new(output.staging())?,
        blobs: Default::default(),
        lowercase_local,
        conversation_attributes: Default::default(),
        tables: std::sync::Mutex::new(tables.clone()),
        tech_memo: Default::default(),
    };
    let l = &ctx.ledger;
    l.source("ticket", &tables["ticket"], tickets.len() as u64);
    l.source("user", &tables["user"], people.rows);
    l.source("article", &tables["article"], articles.len() as u64);
    l.source("asset", &tables["asset"], assets.len() as u64);
    for (logical, (t, n)) in &reference.tables {
        if *n > 0 {
            l.source(logical, t, *n);
        }
    }

    // Ticket selection (cut-off, then sample); requestors, statuses, hierarchy.
    let selected = crate::select::select(&ctx, &tickets, &tables["ticket"], sample);
    let ids: HashSet<i64> = tickets.iter().map(|t| t.id).collect();
    let selected_ids: HashSet<i64> = selected.iter().map(|t| t.id).collect();
    let resolved = crate::select::resolve(&ctx, &selected, &ids, &lookups.status);
    let share = ShareIndex::load(source)?;
    let windows = Windows::new(
        &selected.iter().map(|t| t.id).collect::<Vec<_>>(),
        options.window_tickets,
    );
    let effective = crate::windows::effective_size(selected.len(), options.window_tickets);
    if effective > options.window_tickets {
        tracing::info!(
            requested = options.window_tickets,
            effective,
            tickets = selected.len(),
            "transform: window size raised from {} to {effective} tickets to keep at most {} windows",
            options.window_tickets,
            crate::windows::MAX_WINDOWS
        );
    }
    tracing::debug!(
        windows = windows.len(),
        window_tickets = options.window_tickets,
        "transform: ticket windows"
    );
    let routed = crate::stream::route(
        source,
        &profile,
        &ctx,
        &stream_tables,
        &windows,
        (&selected_ids, &ids),
        &lookups.note_types,
        output.staging(),
    )?;
    phase(
        start,
        "notes, history and attachments routed to ticket windows",
    );
    let counts = routed.counts;
    l.source("note", &stream_tables.note, counts.notes);
    if counts.history > 0 {
        l.source("ticket_history", &stream_tables.history, counts.history);
    }
    l.source("attachment", &stream_tables.attachment, counts.attachments);
    crate::stream::build_windows(
        &ctx,
        source,
        &share,
        &texts,
        &stream_tables,
        &windows,
        routed,
        &selected,
        resolved.inputs,
        &resolved.children,
    )?;
    drop(texts);
    phase(start, "conversations built");
    crate::companies::emit(&ctx, &resolved.unknown, &assets, &reference.config_items);
    crate::articles::emit(&ctx, &articles);
    crate::attributes::emit_attribute_records(&ctx, crate::companies::DATA_ATTRIBUTES)?;
    gap_inputs.statuses = resolved.statuses.into_iter().collect();
    gap_inputs.note_types = ctx
        .mapping
        .note_types
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    gap_inputs.unmapped = crate::propose::unmapped_tables(source, &profile);
    gap_inputs.attribute_columns = crate::propose::attribute_columns(&profile, source.inventory())
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    gap_inputs.omitted_cells = crate::omitted::omitted_cells(source)?;
    let gap_files = crate::gaps::files(&ctx, &gap_inputs);
    if sample.is_some() {
        crate::sample::trim_sample(&ctx);
    }
    phase(start, "companies, contacts, articles and gap files made");
    let (records, report) = crate::output::write_bundle(&output, source, &ctx, gap_files, sample)?;
    // The record spill file lives in the staging folder: closed before the folder is removed.
    drop(ctx);
    let manifest = output.finish()?;
    phase(start, "load bundle written");
    Ok(RunSummary {
        bundle_id: manifest.bundle_id,
        records,
        report,
    })
}
