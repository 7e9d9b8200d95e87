//! `trackit-fixture generate`: a seeded, deterministic generator of Track-It!-shaped databases.
//!
//! Writes `DIR/trackit.sqlite` (FORMAT.md), `DIR/attachments/<WO_NUM>/<file>` (share mode), `DIR/truth.json`
//! and `DIR/admins.json`. What is generated, table by table, follows `shared/reference/trackit-fixture.md`;
//! the crate README lists every table, the sentinel rows and the truth-file fields.
//!
//! Every random choice comes from a ChaCha8 stream derived from `(seed, domain, id)` (see [`sub_rng`]), so a
//! ticket's content does not depend on how many other tickets were generated before it, and the same
//! arguments always give the same database content.

mod admins;
mod attachments;
mod classic;
mod ddl;
mod dirty;
mod lookups;
mod modules;
mod names;
mod people;
mod probe;
mod schema;
mod seed;
mod sentinels;
mod text;
mod tickets;
mod truth;
mod web;

use clap::ValueEnum;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

pub use truth::Truth;

/// Which Track-It! shape to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    /// Track-It! 8–11.x: schema `dbo`, `TASKS`, `TaskNote`, `vTASKS_BROWSE` (the default).
    Classic,
    /// Track-It! 20xx: schema `_SMDBA_`, `_TELMASTE_`, views `Ticket` and `[Ticket Notes]`, times in UTC.
    Web,
    /// The seed document's invented HD* names (kept for mapping compatibility only).
    Seed,
}

impl Profile {
    /// The lower-case name used on the command line and in truth.json.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Classic => "classic",
            Profile::Web => "web",
            Profile::Seed => "seed",
        }
    }
}

/// Where attachment bytes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AttachMode {
    /// Files under `DIR/attachments/<WO_NUM>/<file>`, `Attachments.Content` NULL (the likely 11.x layout).
    Share,
    /// Bytes in `Attachments.Content`; no files written.
    Blob,
}

/// Character type of short text columns and bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextMode {
    /// `varchar(n)` and `text` in a Windows-1252 collation: non-Latin text becomes `?` (the default).
    Varchar,
    /// `nvarchar(n)` and `ntext`: everything survives, including emoji and a lone surrogate.
    Nvarchar,
}

/// Arguments of `trackit-fixture generate`.
#[derive(clap::Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Database shape.
    #[arg(long, value_enum, default_value = "classic")]
    pub profile: Profile,
    /// Number of work orders (TASKS rows), sentinels included; at least 200.
    #[arg(long, default_value_t = 2000)]
    pub tickets: u64,
    /// Seed of every random choice; the same arguments give the same content.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory (created if missing; an existing trackit.sqlite, attachments/, truth.json and
    /// admins.json in it are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Where attachment bytes go.
    #[arg(long, value_enum, default_value = "share")]
    pub attachments: AttachMode,
    /// varchar/text (default) or nvarchar/ntext for short text columns and bodies.
    #[arg(long, value_enum, default_value = "varchar")]
    pub text: TextMode,
}

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The arguments cannot be honoured (user error).
    #[error("invalid arguments: {0}")]
    Args(String),
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// JSON serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A bug in the generator.
    #[error("internal error (a bug): {0}")]
    Internal(String),
}

/// Attaches a path to an I/O error.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> GenError + '_ {
    move |source| GenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A ChaCha8 stream for one entity: `(seed, domain, id)` hashed with BLAKE3 into the 32-byte key.
pub(crate) fn sub_rng(seed: u64, domain: &str, id: u64) -> ChaCha8Rng {
    let mut h = blake3::Hasher::new();
    h.update(&seed.to_le_bytes());
    h.update(domain.as_bytes());
    h.update(&[0]);
    h.update(&id.to_le_bytes());
    ChaCha8Rng::from_seed(*h.finalize().as_bytes())
}

/// Sizes derived from the ticket count (trackit-fixture.md §5).
#[derive(Debug, Clone)]
pub struct Scale {
    /// TASKS rows, sentinels included.
    pub tickets: u64,
    /// Technicians in HDUsers.
    pub technicians: usize,
    /// Requestors in HDUsers (technicians not included).
    pub requestors: usize,
    /// HDGroups rows.
    pub groups: usize,
    /// Custom statuses (ids 106…).
    pub custom_statuses: usize,
    /// WorkOrderType rows.
    pub types: usize,
    /// TaskNoteType rows.
    pub note_types: usize,
    /// TaskNoteCategory rows.
    pub note_categories: usize,
    /// Assets rows.
    pub assets: usize,
    /// ChangeRequests rows.
    pub changes: usize,
    /// KBArticles rows.
    pub articles: usize,
    /// SLAPolicies rows.
    pub sla_policies: usize,
    /// Years covered by the tickets.
    pub years: f64,
}

impl Scale {
    /// Sizes for `tickets` work orders: the small (10k) and large (100k) rows of §5, interpolated on a
    /// power law, with floors so that a 2,000-ticket database still holds every kind of row.
    pub fn for_tickets(tickets: u64) -> Self {
        let r = tickets as f64 / 10_000.0;
        let pow = |base: f64, exp: f64, min: f64| (base * r.powf(exp)).round().max(min) as usize;
        let lin = |small: f64, large: f64, min: f64| {
            (small + (large - small) * (tickets as f64 - 10_000.0) / 90_000.0)
                .round()
                .max(min) as usize
        };
        let requestors = pow(1500.0, 0.727, 60.0);
        let assets = (requestors as f64 * 1.3).round() as usize;
        Self {
            tickets,
            technicians: pow(15.0, 0.602, 10.0),
            requestors,
            groups: pow(5.0, 0.602, 4.0),
            custom_statuses: lin(8.0, 11.0, 8.0).min(20),
            types: lin(25.0, 60.0, 14.0),
            note_types: lin(6.0, 8.0, 6.0).min(12),
            note_categories: lin(6.0, 10.0, 6.0).min(12),
            assets,
            changes: ((tickets as f64) * 0.02).round().max(10.0) as usize,
            articles: lin(150.0, 800.0, 40.0),
            sla_policies: lin(4.0, 10.0, 4.0).min(12),
            years: (3.0 + 9.0 * (tickets as f64 - 10_000.0) / 90_000.0).clamp(3.0, 12.0),
        }
    }
}

/// Everything a table generator needs to know about the run.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The seed.
    pub seed: u64,
    /// The profile.
    pub profile: Profile,
    /// Attachment storage.
    pub attach: AttachMode,
    /// Text mode.
    pub text: TextMode,
    /// Derived sizes.
    pub scale: Scale,
    /// Output directory.
    pub out: PathBuf,
}

impl Ctx {
    /// True when short text columns are single-byte (Windows-1252) varchar.
    pub fn cp1252(&self) -> bool {
        self.text == TextMode::Varchar
    }
}

/// The customer's email domain (people, admins.json).
pub const CUSTOMER_DOMAIN: &str = "northbridge.example";

/// Runs the generator with parsed arguments.
///
/// # Errors
/// Invalid arguments (fewer than 200 or more than 5,000,000 tickets), SQLite or file-system failures.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let truth = generate(&args)?;
    eprintln!(
        "generated {} ({} profile: {} tickets, {} notes, {} attachments)",
        args.out.join("trackit.sqlite").display(),
        args.profile.name(),
        ["dbo.TASKS", "_SMDBA_._TELMASTE_", "dbo.HDTickets"]
            .iter()
            .map(|k| truth.table_rows(k))
            .sum::<u64>(),
        ["dbo.TaskNote", "_SMDBA_._NOTES_", "dbo.HDTicketNotes"]
            .iter()
            .map(|k| truth.table_rows(k))
            .sum::<u64>(),
        truth.attachments.rows,
    );
    Ok(())
}

/// Generates the database, attachments, truth.json and admins.json; returns the truth.
///
/// # Errors
/// See [`run`].
pub fn generate(args: &GenerateArgs) -> Result<Truth, GenError> {
    if args.tickets < 200 || args.tickets > 5_000_000 {
        return Err(GenError::Args(format!(
            "--tickets must be between 200 and 5000000, got {}",
            args.tickets
        )));
    }
    let ctx = Ctx {
        seed: args.seed,
        profile: args.profile,
        attach: args.attachments,
        // The web profile carries the logical data of `classic --text nvarchar` (20xx is nvarchar throughout).
        text: if args.profile == Profile::Web {
            TextMode::Nvarchar
        } else {
            args.text
        },
        scale: Scale::for_tickets(args.tickets),
        out: args.out.clone(),
    };
    std::fs::create_dir_all(&ctx.out).map_err(io_err(&ctx.out))?;
    let db_path = ctx.out.join("trackit.sqlite");
    for stale in [
        "trackit.sqlite",
        "trackit.sqlite-journal",
        "truth.json",
        "admins.json",
    ] {
        let p = ctx.out.join(stale);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io_err(&p))?;
        }
    }
    let att_dir = ctx.out.join("attachments");
    if att_dir.exists() {
        std::fs::remove_dir_all(&att_dir).map_err(io_err(&att_dir))?;
    }
    let mut conn = rusqlite::Connection::open(&db_path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;",
    )?;
    let mut truth = Truth::new(&ctx);
    let tx = conn.transaction()?;
    build(&tx, &ctx, &mut truth)?;
    tx.commit()?;
    truth.count_tables(&conn)?;
    drop(conn);
    truth.write(&ctx.out.join("truth.json"))?;
    Ok(truth)
}

fn build(conn: &rusqlite::Connection, ctx: &Ctx, truth: &mut Truth) -> Result<(), GenError> {
    let defs = schema::classic(ctx);
    if ctx.profile == Profile::Web {
        ddl::create_catalog(
            conn,
            "TRACKIT2020DB",
            "Microsoft SQL Server 2019 (RTM-CU16) (KB5011644) - 15.0.4223.1 (X64) \n\tApr 11 2022 16:24:07 \n\t\
             Copyright (C) 2019 Microsoft Corporation\n\tExpress Edition (64-bit) on Windows Server 2019 Standard \
             10.0 <X64> (Build 17763: ) (Hypervisor)\n",
            "15.0.4223.1",
            Some("(UTC-05:00) Eastern Time (US & Canada)"),
            -300,
        )?;
    } else {
        ddl::create_catalog(
            conn,
            "TRACKIT_DATA",
            "Microsoft SQL Server 2008 R2 (SP3) - 10.50.6000.34 (X64) \n\tAug 19 2014 12:21:34 \n\tCopyright (c) \
             Microsoft Corporation\n\tExpress Edition with Advanced Services (64-bit) on Windows NT 6.1 <X64> \
             (Build 7601: Service Pack 1)\n",
            "10.50.6000.34",
            None,
            -300,
        )?;
    }
    let (web_tables, web_views) = web::defs();
    let seed_tables = seed::defs(ctx);
    let own: Vec<&ddl::TableDef> = match ctx.profile {
        Profile::Classic => defs.tables(),
        Profile::Web => web_tables.iter().chain(defs.modules()).collect(),
        Profile::Seed => seed_tables.iter().chain(defs.modules()).collect(),
    };
    for def in own {
        ddl::create_table(conn, def)?;
    }
    let people = people::generate(ctx);
    people::insert(conn, ctx, &defs, &people, truth)?;
    admins::write_admins(ctx, &people, truth)?;
    if ctx.profile == Profile::Classic {
        lookups::insert(conn, ctx, &defs)?;
    }
    let assets = modules::insert_assets(conn, ctx, &defs, &people)?;
    match ctx.profile {
        Profile::Classic => {
            let mut sink = classic::ClassicSink::new(conn, ctx, &defs)?;
            classic::run_tickets(ctx, &people, &assets, truth, &mut sink)?;
        }
        Profile::Web => {
            let mut sink = web::insert_people(conn, ctx, &web_tables, &defs, &people)?;
            classic::run_tickets(ctx, &people, &assets, truth, &mut sink)?;
        }
        Profile::Seed => {
            let mut sink = seed::SeedSink::new(conn, ctx, &defs, &seed_tables)?;
            classic::run_tickets(ctx, &people, &assets, truth, &mut sink)?;
        }
    }
    modules::insert_rest(conn, ctx, &defs, &people, &assets)?;
    probe::insert(conn, &defs)?;
    match ctx.profile {
        Profile::Classic => lookups::create_views(conn, &defs),
        Profile::Web => web::create_views(conn, &web_views),
        Profile::Seed => Ok(()),
    }
}
