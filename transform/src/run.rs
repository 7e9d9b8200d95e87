//! `ti-transform run`: extract bundle + confirmed mapping → load bundle (records, blobs, gaps, report).

use crate::attachments::ShareIndex;
use crate::companies::UnknownRequestor;
use crate::ctx::{BlobSource, Ctx};
use crate::error::{Result, TransformError};
use crate::mapping::Mapping;
use crate::model::{Article, Asset, Ticket, User, each_par, load, load_generic, physical_table};
use crate::people::{Directory, Match, normalise_name, slug, technician_key};
use crate::profile::{Profile, TimeBasis};
use crate::source::{Cell, SourceTables};
use crate::windows::Windows;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use ti_shared::bundle::{BlobRef, BundleKind, BundleWriter, Producer};
use ti_shared::records::RecordKind;

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

fn io(path: &str) -> impl Fn(std::io::Error) -> TransformError + '_ {
    move |source| TransformError::Io {
        path: path.to_string(),
        source,
    }
}

/// How a run is made, besides its inputs.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// `--sample N`: N tickets with what they reference.
    pub sample: Option<u64>,
    /// Tickets per window (`--window-tickets`): bounds the memory held for notes, history rows and attachments
    /// (windows.rs). Does not change the output.
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
/// Read and write failures; the attribute limit.
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
    let lowercase_local = mapping.people.email_local_part == "lowercase";
    let mut tables = HashMap::new();

    let (users, t) = load(source, &profile, "user", |r| User {
        id: r.int("key_id").or_else(|| r.pk().parse().ok()).unwrap_or(0),
        login: r.text("login"),
        full_name: r.text("full_name"),
        first_name: r.text("first_name"),
        last_name: r.text("last_name"),
        email: r.text("email"),
        phone: r.text("phone"),
        department: r.text("department"),
        location: r.text("location"),
        is_technician: r.bool("is_technician").unwrap_or(false),
        is_requestor: r.bool("is_requestor").unwrap_or(false),
        active: r.bool("active"),
        created: r.time("created"),
    })?;
    tables.insert("user".to_string(), t.clone());
    let user_rows = users.len() as u64;
    let mut people = Directory::new(users, lowercase_local);
    if !mapping.people.merge_shared_email {
        people.merged_into.clear();
    }
    let mut tech_keys = BTreeMap::new();
    let mut seen_keys = BTreeSet::new();
    for (id, u) in &people.users {
        if u.is_technician {
            let mut k = technician_key(u);
            if !seen_keys.insert(k.clone()) {
                k = format!("technician:user-{id}");
                seen_keys.insert(k.clone());
            }
            tech_keys.insert(*id, k);
        }
    }
    let contact_keys: BTreeMap<i64, String> = people
        .users
        .keys()
        .filter(|id| people.is_contact_role(**id) && !people.merged_into.contains_key(id))
        .map(|id| (*id, format!("contact:person:{id}")))
        .collect();

    let (status_rows, _) = load(source, &profile, "status_lookup", |r| {
        (r.pk().parse::<i64>().ok(), r.text("name"))
    })?;
    let status_lookup: HashMap<i64, String> = status_rows
        .into_iter()
        .filter_map(|(k, v)| Some((k?, v?.trim().to_string())))
        .collect();
    let (type_rows, _) = load(source, &profile, "note_type", |r| {
        (r.pk().parse::<i64>().ok(), r.text("name"))
    })?;
    let note_types: HashMap<i64, String> = type_rows
        .into_iter()
        .filter_map(|(k, v)| Some((k?, v?.trim().to_string())))
        .collect();
    let (view_rows, _) = load(source, &profile, "requestor_view", |r| {
        (r.pk().parse::<i64>().ok(), r.text("email"))
    })?;
    let requestor_emails: HashMap<i64, String> = view_rows
        .into_iter()
        .filter_map(|(k, v)| Some((k?, v?)))
        .collect();

    let attr_cols: Vec<String> = mapping
        .attributes
        .iter()
        .filter(|a| a.enabled)
        .map(|a| a.column.clone())
        .collect();
    // Ticket bodies wait in a temporary file until their conversation is built (windows.rs, TextSpill).
    let mut texts = crate::windows::TextSpill::create().map_err(io("ticket text file"))?;
    let mut tickets: Vec<Ticket> = Vec::new();
    let t = physical_table(source, &profile, "ticket");
    let ticket_row = |r: &crate::model::Row<'_, '_>| {
        let id = r.pk().parse::<i64>().unwrap_or(0);
        Ticket {
            id,
            pk: r.pk(),
            parent: r.int("parent"),
            summary: r.text("summary"),
            description: r.text("description"),
            resolution: r.text("resolution"),
            requestor: r.text("requestor"),
            requestor_email: None,
            technician: r.text("technician"),
            department: r.text("department"),
            location: r.text("location"),
            priority: r.text("priority"),
            category: ["category1", "category2", "category3"]
                .iter()
                .filter_map(|c| r.text(c))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            status_id: r.int("status_id"),
            status: r.text("status"),
            requested: r.time("requested"),
            opened: r.time("opened"),
            due: r.time("due"),
            closed: r.time("closed"),
            completed: r.time("completed"),
            hours: match r.cell("hours") {
                Cell::Float(f) => Some(f),
                Cell::Int(i) => Some(i as f64),
                _ => None,
            },
            asset: r.text("asset"),
            attributes: attr_cols.iter().map(|c| r.column(c)).collect(),
            text_at: None,
        }
    };
    each_par(source, &profile, "ticket", ticket_row, |mut tk| {
        texts.stash(&mut tk).map_err(io("ticket text file"))?;
        tickets.push(tk);
        Ok(())
    })?;
    texts.finish().map_err(io("ticket text file"))?;
    tables.insert("ticket".into(), t.clone());
    for tk in &mut tickets {
        tk.requestor_email = requestor_emails.get(&tk.id).cloned();
    }
    tickets.sort_by_key(|t| t.id);

    // Notes, history rows and attachments are streamed through ticket windows after the selection (stream.rs).
    let nt = physical_table(source, &profile, "note");
    let ht = physical_table(source, &profile, "ticket_history");
    let at = physical_table(source, &profile, "attachment");
    tables.insert("note".into(), nt.clone());
    tables.insert("ticket_history".into(), ht.clone());
    tables.insert("attachment".into(), at.clone());
    let (articles, art) = load(source, &profile, "article", |r| Article {
        id: r.pk().parse().unwrap_or(0),
        pk: r.pk(),
        title: r.text("title"),
        body: r.text("body"),
        category: r.text("category"),
        published: r.bool("published"),
        self_service: r.bool("self_service"),
        author: r.text("author"),
        created: r.time("created"),
    })?;
    tables.insert("article".into(), art.clone());
    let (assets, ast) = load(source, &profile, "asset", |r| {
        let mut fields = BTreeMap::new();
        for k in [
            "name",
            "tag",
            "serial",
            "type",
            "manufacturer",
            "model",
            "assigned_user",
            "location",
            "bcm_device",
        ] {
            if let Some(v) = r
                .text(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
            {
                fields.insert(k, v);
            }
        }
        Asset {
            id: r.pk().parse().unwrap_or(0),
            pk: r.pk(),
            fields,
            purchased: r.time("purchased"),
            retired: r.time("retired"),
            managed: r.bool("managed"),
        }
    })?;
    tables.insert("asset".into(), ast.clone());
    let mut gap_tables = BTreeMap::new();
    let mut generic = |logical: &str| -> Result<Vec<crate::model::Generic>> {
        let (rows, t) = load_generic(source, &profile, logical, &clock)?;
        gap_tables.insert(logical.to_string(), (t, rows.len() as u64));
        Ok(rows)
    };
    let config_items = generic("config_item")?;
    let mut gap_inputs = crate::gaps::GapInputs {
        changes: generic("change_request")?,
        approvals: generic("change_approval")?,
        sla_policies: generic("sla_policy")?,
        sla_targets: generic("sla_target")?,
        bcm: generic("bcm_relation")?,
        groups: generic("group")?,
        members: generic("group_member")?,
        ..Default::default()
    };
    for (logical, t) in gap_tables
        .iter()
        .map(|(l, (t, _))| (l.clone(), t.clone()))
        .collect::<Vec<_>>()
    {
        tables.insert(logical, t);
    }
    gap_inputs.asset_names = assets
        .iter()
        .map(|a| {
            (
                a.pk.clone(),
                a.fields.get("name").cloned().unwrap_or_default(),
            )
        })
        .collect();

    phase(start, "tickets and reference tables read");
    let ctx = Ctx {
        mapping,
        profile: profile.clone(),
        clock,
        text: Default::default(),
        ledger: Default::default(),
        people,
        tech_keys,
        contact_keys,
        records: Default::default(),
        spill: crate::ctx::Spill::new().map_err(io("record spill file"))?,
        blobs: Default::default(),
        lowercase_local,
        conversation_attributes: Default::default(),
        tables: std::sync::Mutex::new(tables.clone()),
        tech_memo: Default::default(),
    };
    let l = &ctx.ledger;
    l.source("ticket", &tables["ticket"], tickets.len() as u64);
    l.source("user", &tables["user"], user_rows);
    l.source("article", &art, articles.len() as u64);
    l.source("asset", &ast, assets.len() as u64);
    for (logical, (t, n)) in &gap_tables {
        if *n > 0 {
            l.source(logical, t, *n);
        }
    }

    // Ticket selection: cut-off, then sample.
    let cutoff = chrono::NaiveDate::parse_from_str(&ctx.mapping.cutoff_date, "%Y-%m-%d").ok();
    let ids: HashSet<i64> = tickets.iter().map(|t| t.id).collect();
    let mut selected: Vec<&Ticket> = Vec::new();
    for t in &tickets {
        if let Some(c) = cutoff {
            let opened = ctx.unix(&t.opened).or_else(|| ctx.unix(&t.requested));
            let limit = c
                .and_hms_opt(0, 0, 0)
                .map(|d| ctx.clock.local_to_unix(&d))
                .unwrap_or(0);
            if opened.is_none_or(|o| o < limit) {
                l.drop_row(
                    "ticket",
                    &t.pk_table(&tables),
                    &t.pk,
                    "opened before cutoff_date",
                );
                continue;
            }
        }
        if let Some(n) = sample
            && selected.len() as u64 >= n
        {
            l.drop_row("ticket", &t.pk_table(&tables), &t.pk, "not in sample");
            continue;
        }
        selected.push(t);
    }
    let selected_ids: HashSet<i64> = selected.iter().map(|t| t.id).collect();
    // Requestors, statuses, hierarchy.
    let mut unknown: BTreeMap<String, UnknownRequestor> = BTreeMap::new();
    let mut children: HashMap<i64, Vec<(i64, Option<i64>)>> = HashMap::new();
    let mut inputs: Vec<crate::stream::Inputs> = Vec::new();
    let mut status_seen: BTreeMap<String, String> = BTreeMap::new();
    // Requestor matching normalises names and emails: done in parallel, used in ticket order below.
    let matches: Vec<Match> = {
        use rayon::prelude::*;
        selected
            .par_iter()
            .map(|t| {
                ctx.people.match_requestor(
                    t.requestor.as_deref(),
                    t.requestor_email.as_deref(),
                    lowercase_local,
                )
            })
            .collect()
    };
    for (t, matched) in selected.iter().zip(matches) {
        let contact = match matched {
            Match::One(id) | Match::Ambiguous(id, _) if ctx.contact_keys.contains_key(&id) => {
                if let Match::Ambiguous(..) = matched {
                    l.count("ambiguous_requestor_names", 1);
                }
                ctx.contact_keys[&id].clone()
            }
            _ => {
                let n = t
                    .requestor
                    .as_deref()
                    .map(normalise_name)
                    .unwrap_or_default();
                let key = if n.is_empty() {
                    "contact:requestor:unknown".to_string()
                } else {
                    format!("contact:requestor:{}", slug(&n))
                };
                let e = unknown
                    .entry(key.clone())
                    .or_insert_with(|| UnknownRequestor {
                        name: if n.is_empty() {
                            String::new()
                        } else {
                            t.requestor.clone().unwrap_or_default().trim().to_string()
                        },
                        department: t.department.clone(),
                        location: t.location.clone(),
                        tickets: 0,
                    });
                e.tickets += 1;
                key
            }
        };
        let name = t
            .status_id
            .and_then(|i| status_lookup.get(&i).cloned())
            .or_else(|| {
                if t.status_id.is_some() {
                    l.count("status_id_missing_from_lookup", 1);
                }
                t.status
                    .as_deref()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| "(none)".into());
        let closed = match ctx.mapping.status_of(&name) {
            Some(s) => s == "closed",
            None => {
                l.count("unmapped_status_values", 1);
                false
            }
        };
        status_seen.insert(name.clone(), if closed { "closed" } else { "open" }.into());
        let parent = match t.parent {
            Some(p) if p == t.id => {
                l.list(
                    "hierarchy_issues",
                    vec![t.id.to_string(), p.to_string(), "self-parented".into()],
                );
                None
            }
            Some(p) if !ids.contains(&p) => {
                l.list(
                    "hierarchy_issues",
                    vec![
                        t.id.to_string(),
                        p.to_string(),
                        "parent does not exist".into(),
                    ],
                );
                None
            }
            Some(p) => {
                if selected_ids.contains(&p) {
                    children
                        .entry(p)
                        .or_default()
                        .push((t.id, ctx.unix(&t.opened)));
                }
                Some(p)
            }
            None => None,
        };
        inputs.push((contact, (name, closed), parent));
    }
    let share = ShareIndex::load(source)?;
    let windows = Windows::new(
        &selected.iter().map(|t| t.id).collect::<Vec<_>>(),
        options.window_tickets,
    );
    let stream_tables = crate::stream::Tables {
        note: nt.clone(),
        history: ht.clone(),
        attachment: at.clone(),
    };
    let routed = crate::stream::route(
        source,
        &profile,
        &ctx,
        &stream_tables,
        &windows,
        &selected_ids,
        &ids,
        &note_types,
    )?;
    phase(
        start,
        "notes, history and attachments routed to ticket windows",
    );
    let counts = routed.counts;
    l.source("note", &nt, counts.notes);
    if counts.history > 0 {
        l.source("ticket_history", &ht, counts.history);
    }
    l.source("attachment", &at, counts.attachments);
    crate::stream::build_windows(
        &ctx,
        source,
        &share,
        &texts,
        &stream_tables,
        &windows,
        routed,
        &selected,
        inputs,
        &children,
    )?;
    phase(start, "conversations built");
    crate::companies::emit(&ctx, &unknown, &assets, &config_items);
    crate::articles::emit(&ctx, &articles);
    crate::attributes::emit_attribute_records(&ctx, crate::companies::DATA_ATTRIBUTES)?;
    gap_inputs.statuses = status_seen.into_iter().collect();
    gap_inputs.note_types = ctx
        .mapping
        .note_types
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    gap_inputs.unmapped = crate::propose::unmapped_tables(source, &profile);
    let gap_files = crate::gaps::files(&ctx, &gap_inputs);
    if sample.is_some() {
        trim_sample(&ctx);
    }
    phase(start, "companies, contacts, articles and gap files made");
    let summary = write_bundle(source, &ctx, out, gap_files, sample);
    phase(start, "load bundle written");
    summary
}

impl Ticket {
    fn pk_table(&self, tables: &HashMap<String, String>) -> String {
        tables.get("ticket").cloned().unwrap_or_default()
    }
}

/// Sample mode: keep the selected conversations and what they reference, plus up to 20 other contacts and 10
/// articles (with their collections).
fn trim_sample(ctx: &Ctx) {
    let mut recs = ctx.records.lock().unwrap_or_else(|p| p.into_inner());
    let mut keep: BTreeSet<String> = BTreeSet::new();
    for o in recs.iter() {
        if matches!(
            o.record.kind,
            RecordKind::Conversation
                | RecordKind::DataAttribute
                | RecordKind::ConversationAttribute
        ) {
            keep.insert(o.record.key.clone());
            keep.extend(o.record.after.iter().cloned());
        }
    }
    let mut extra_contacts = 0;
    let mut articles = 0;
    let mut sorted: Vec<usize> = (0..recs.len()).collect();
    sorted.sort_by(|a, b| recs[*a].record.key.cmp(&recs[*b].record.key));
    for i in sorted {
        let r = &recs[i].record;
        if r.kind == RecordKind::Contact && !keep.contains(&r.key) && extra_contacts < 20 {
            extra_contacts += 1;
            keep.insert(r.key.clone());
        }
        if r.kind == RecordKind::Article && articles < 10 {
            articles += 1;
            keep.insert(r.key.clone());
            keep.extend(r.after.iter().cloned());
        }
    }
    // Links and notes of kept contacts/companies; companies of kept contacts; parent collections.
    for _ in 0..4 {
        for o in recs.iter() {
            let r = &o.record;
            let linked = matches!(
                r.kind,
                RecordKind::ContactCompany
                    | RecordKind::ContactNote
                    | RecordKind::CompanyNote
                    | RecordKind::Collection
            );
            if linked
                && r.after.iter().any(|a| {
                    keep.contains(a) && (a.starts_with("contact:") || a.starts_with("collection:"))
                })
                && (r.kind == RecordKind::ContactCompany
                    || r.kind == RecordKind::ContactNote
                    || r.kind == RecordKind::Collection)
            {
                keep.insert(r.key.clone());
                keep.extend(r.after.iter().cloned());
            }
            if keep.contains(&r.key) {
                keep.extend(r.after.iter().cloned());
            }
        }
    }
    for o in recs.iter() {
        if o.record.kind == RecordKind::CompanyNote
            && o.record.after.iter().all(|a| keep.contains(a))
        {
            keep.insert(o.record.key.clone());
        }
    }
    let before = recs.len();
    recs.retain(|o| keep.contains(&o.record.key));
    ctx.ledger
        .count("records_left_out_by_sample", (before - recs.len()) as u64);
}

fn write_bundle(
    source: &SourceTables,
    ctx: &Ctx,
    out: &Path,
    gap_files: BTreeMap<String, Vec<u8>>,
    sample: Option<u64>,
) -> Result<RunSummary> {
    let producer = Producer {
        name: "ti-transform".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let writer = BundleWriter::create(out, BundleKind::Load, producer)?;
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
        let mut spill = ctx.spill.reader().map_err(io("record spill file"))?;
        let mut buf = Vec::new();
        for kind in RecordKind::ALL {
            let rel = kind.file_path();
            let mut sink = writer.create_file(&rel)?;
            let mut n = 0;
            for o in recs.iter().filter(|o| o.record.kind == kind) {
                spill
                    .read_into(o.line, &mut buf)
                    .map_err(io("record spill file"))?;
                sink.write_all(&buf).map_err(io(&rel))?;
                n += 1;
            }
            writer.commit(sink, Some(n))?;
            counts.insert(kind.as_str().into(), n);
        }
        Ok(counts)
    };
    let write_lineage = || -> Result<()> {
        let rel = "report/lineage.ndjson";
        let mut spill = ctx.spill.reader().map_err(io("record spill file"))?;
        let mut buf = Vec::new();
        let mut sink = writer.create_file(rel)?;
        for o in &recs {
            spill
                .read_into(o.lineage, &mut buf)
                .map_err(io("record spill file"))?;
            sink.write_all(&buf).map_err(io(rel))?;
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
                        let bytes = std::fs::metadata(&path).map(|m| m.len()).map_err(io(h))?;
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
    let manifest = writer.finish()?;
    Ok(RunSummary {
        bundle_id: manifest.bundle_id,
        records: counts,
        report,
    })
}
