//! The first half of `run`: the source tables read through the profile into the model (people, lookups,
//! tickets, articles, assets, the reference tables of the gap datasets). Notes, history rows and attachments are
//! not read here: they are streamed through ticket windows later (stream.rs).

use crate::error::Result;
use crate::mapping::Mapping;
use crate::model::{Article, Asset, Generic, Row, Ticket, User, each_par, load, load_generic};
use crate::people::{Directory, technician_key};
use crate::profile::Profile;
use crate::source::{Cell, SourceTables};
use crate::time::Clock;
use crate::windows::TextSpill;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Logical object → physical table (`schema.name`), for the ledger and the lineage.
pub type TableNames = HashMap<String, String>;

/// The people of the source: the directory and the record keys of technicians and contacts.
pub struct People {
    /// Every user, with shared emails merged unless the mapping says not to.
    pub directory: Directory,
    /// Technician key by user id (a second technician with the same key gets `technician:user-<id>`).
    pub tech_keys: BTreeMap<i64, String>,
    /// Contact key by user id: contacts that were not merged into another.
    pub contact_keys: BTreeMap<i64, String>,
    /// User rows read.
    pub rows: u64,
}

/// Reads the users and derives the technician and contact keys.
///
/// # Errors
/// Parquet read failures.
pub fn people(
    source: &SourceTables,
    profile: &Profile,
    mapping: &Mapping,
    lowercase_local: bool,
    tables: &mut TableNames,
) -> Result<People> {
    let (users, t) = load(source, profile, "user", |r| User {
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
    tables.insert("user".to_string(), t);
    let rows = users.len() as u64;
    let mut directory = Directory::new(users, lowercase_local);
    if !mapping.people.merge_shared_email {
        directory.merged_into.clear();
    }
    let mut tech_keys = BTreeMap::new();
    let mut seen_keys = BTreeSet::new();
    for (id, u) in &directory.users {
        if u.is_technician {
            let mut k = technician_key(u);
            if !seen_keys.insert(k.clone()) {
                k = format!("technician:user-{id}");
                seen_keys.insert(k.clone());
            }
            tech_keys.insert(*id, k);
        }
    }
    let contact_keys: BTreeMap<i64, String> = directory
        .users
        .keys()
        .filter(|id| directory.is_contact_role(**id) && !directory.merged_into.contains_key(id))
        .map(|id| (*id, format!("contact:person:{id}")))
        .collect();
    Ok(People {
        directory,
        tech_keys,
        contact_keys,
        rows,
    })
}

/// The small lookup tables tickets and notes refer to by id.
pub struct Lookups {
    /// Status id → name (trimmed).
    pub status: HashMap<i64, String>,
    /// Note type id → name (trimmed).
    pub note_types: HashMap<i64, String>,
    /// Ticket id → requestor email (11.x keeps it only in the browse view).
    pub requestor_emails: HashMap<i64, String>,
}

/// Reads an id → text lookup of `logical` (`field` of every row whose key is a number and whose value is set).
fn id_lookup(
    source: &SourceTables,
    profile: &Profile,
    logical: &str,
    field: &str,
    trim: bool,
) -> Result<HashMap<i64, String>> {
    let (rows, _) = load(source, profile, logical, |r| {
        (r.pk().parse::<i64>().ok(), r.text(field))
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, v)| {
            let v = v?;
            Some((k?, if trim { v.trim().to_string() } else { v }))
        })
        .collect())
}

/// Reads the status, note type and requestor-email lookups.
///
/// # Errors
/// Parquet read failures.
pub fn lookups(source: &SourceTables, profile: &Profile) -> Result<Lookups> {
    Ok(Lookups {
        status: id_lookup(source, profile, "status_lookup", "name", true)?,
        note_types: id_lookup(source, profile, "note_type", "name", true)?,
        requestor_emails: id_lookup(source, profile, "requestor_view", "email", false)?,
    })
}

/// A ticket row with the enabled attribute columns `attr_cols`.
fn ticket_row(r: &Row<'_, '_>, attr_cols: &[String]) -> Ticket {
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
}

/// Reads every ticket, sorted by id, with its requestor email; the fields only its conversation needs go to
/// `texts` (finished on return).
///
/// # Errors
/// Parquet read failures; write failures of the ticket text file (naming its path).
pub fn tickets(
    source: &SourceTables,
    profile: &Profile,
    mapping: &Mapping,
    emails: &HashMap<i64, String>,
    texts: &mut TextSpill,
    tables: &mut TableNames,
) -> Result<Vec<Ticket>> {
    let attr_cols: Vec<String> = mapping
        .attributes
        .iter()
        .filter(|a| a.enabled)
        .map(|a| a.column.clone())
        .collect();
    let mut tickets: Vec<Ticket> = Vec::new();
    let t = crate::model::physical_table(source, profile, "ticket");
    each_par(
        source,
        profile,
        "ticket",
        |r| ticket_row(r, &attr_cols),
        |mut tk| {
            texts.stash(&mut tk)?;
            tickets.push(tk);
            Ok(())
        },
    )?;
    texts.finish()?;
    tables.insert("ticket".into(), t);
    for tk in &mut tickets {
        tk.requestor_email = emails.get(&tk.id).cloned();
    }
    tickets.sort_by_key(|t| t.id);
    Ok(tickets)
}

/// Reads the knowledge base articles.
///
/// # Errors
/// Parquet read failures.
pub fn articles(
    source: &SourceTables,
    profile: &Profile,
    tables: &mut TableNames,
) -> Result<Vec<Article>> {
    let (articles, t) = load(source, profile, "article", |r| Article {
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
    tables.insert("article".into(), t);
    Ok(articles)
}

/// The asset fields carried to companies, in this order.
const ASSET_FIELDS: [&str; 9] = [
    "name",
    "tag",
    "serial",
    "type",
    "manufacturer",
    "model",
    "assigned_user",
    "location",
    "bcm_device",
];

/// Reads the assets (empty fields left out).
///
/// # Errors
/// Parquet read failures.
pub fn assets(
    source: &SourceTables,
    profile: &Profile,
    tables: &mut TableNames,
) -> Result<Vec<Asset>> {
    let (assets, t) = load(source, profile, "asset", |r| {
        let mut fields = BTreeMap::new();
        for k in ASSET_FIELDS {
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
    tables.insert("asset".into(), t);
    Ok(assets)
}

/// The objects read as [`Generic`] rows: tracked items and what the gap datasets list.
pub struct Reference {
    /// Tracked items (company attributes).
    pub config_items: Vec<Generic>,
    /// Inputs of the gap files (statuses, note types, unmapped tables and asset names are set later).
    pub gaps: crate::gaps::GapInputs,
    /// Logical object → (physical table, rows read), for the ledger.
    pub tables: BTreeMap<String, (String, u64)>,
}

/// Reads tracked items, change requests and approvals, SLA policies and targets, BCM relations, groups and
/// members, with dates converted by `clock`.
///
/// # Errors
/// Parquet read failures.
pub fn reference(
    source: &SourceTables,
    profile: &Profile,
    clock: &Clock,
    assets: &[Asset],
    tables: &mut TableNames,
) -> Result<Reference> {
    let mut gap_tables = BTreeMap::new();
    let mut generic = |logical: &str| -> Result<Vec<Generic>> {
        let (rows, t) = load_generic(source, profile, logical, clock)?;
        gap_tables.insert(logical.to_string(), (t, rows.len() as u64));
        Ok(rows)
    };
    let config_items = generic("config_item")?;
    let mut gaps = crate::gaps::GapInputs {
        changes: generic("change_request")?,
        approvals: generic("change_approval")?,
        sla_policies: generic("sla_policy")?,
        sla_targets: generic("sla_target")?,
        bcm: generic("bcm_relation")?,
        groups: generic("group")?,
        members: generic("group_member")?,
        ..Default::default()
    };
    for (logical, (t, _)) in &gap_tables {
        tables.insert(logical.clone(), t.clone());
    }
    gaps.asset_names = assets
        .iter()
        .map(|a| {
            (
                a.pk.clone(),
                a.fields.get("name").cloned().unwrap_or_default(),
            )
        })
        .collect();
    Ok(Reference {
        config_items,
        gaps,
        tables: gap_tables,
    })
}
