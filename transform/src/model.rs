//! Logical rows: the source tables read through a profile into typed structs (one per logical object of
//! DESIGN.md §3). Only what the transform uses is kept; bodies stay as source text until converted.

use crate::error::Result;
use crate::profile::{ObjectMap, Profile};
use crate::source::{Batch, Cell, SourceTables};

/// One source row seen through its object map.
pub struct Row<'a, 'b> {
    batch: &'a Batch<'b>,
    map: &'a ObjectMap,
    row: usize,
}

impl Row<'_, '_> {
    /// A wall time of an object whose profile entry says `times = "utc"` becomes [`Cell::Utc`].
    fn basis(&self, cell: Cell) -> Cell {
        match cell {
            Cell::Local(t) if self.map.times == Some(crate::profile::TimeBasis::Utc) => {
                Cell::Utc(t)
            }
            c => c,
        }
    }
    /// Text of a logical field (profile constant when the table lacks it).
    pub fn text(&self, field: &str) -> Option<String> {
        match self.map.col(field) {
            Some(col) if self.batch.has(col) => self.batch.text(col, self.row),
            _ => self.map.constants.get(field).cloned(),
        }
    }
    /// Integer of a logical field.
    pub fn int(&self, field: &str) -> Option<i64> {
        self.map
            .col(field)
            .and_then(|c| self.batch.int(c, self.row))
    }
    /// Boolean of a logical field.
    pub fn bool(&self, field: &str) -> Option<bool> {
        self.map
            .col(field)
            .and_then(|c| self.batch.bool(c, self.row))
    }
    /// Date-time cell of a logical field.
    pub fn time(&self, field: &str) -> Cell {
        self.map
            .col(field)
            .map(|c| self.basis(self.batch.time(c, self.row)))
            .unwrap_or(Cell::Null)
    }
    /// Raw cell of a logical field.
    pub fn cell(&self, field: &str) -> Cell {
        self.map
            .col(field)
            .map(|c| self.basis(self.batch.cell(c, self.row)))
            .unwrap_or(Cell::Null)
    }
    /// Raw cell of a physical column.
    pub fn column(&self, column: &str) -> Cell {
        self.basis(self.batch.cell(column, self.row))
    }
    /// Text of a physical column.
    pub fn column_text(&self, column: &str) -> Option<String> {
        self.batch.text(column, self.row)
    }
    /// The source primary key as text (the key column; the row number when the table has none).
    pub fn pk(&self) -> String {
        self.batch
            .text(&self.map.key, self.row)
            .unwrap_or_else(|| format!("row{}", self.row))
    }
}

/// The physical table (`schema.name` as the inventory spells it) of a logical object; the profile's name when
/// the extract lacks it, empty when the profile lacks the object.
pub fn physical_table(source: &SourceTables, profile: &Profile, logical: &str) -> String {
    let Some(map) = profile.object(logical) else {
        return String::new();
    };
    source
        .inventory()
        .object(&map.table)
        .map(|o| o.full_name())
        .unwrap_or_else(|| map.table.clone())
}

/// Streams every row of a logical object to `f`, one record batch in memory at a time. A logical object the
/// profile lacks, or whose table the extract lacks, gives no rows. Returns the number of rows.
///
/// # Errors
/// Parquet read failures; whatever `f` returns.
pub fn each(
    source: &SourceTables,
    profile: &Profile,
    logical: &str,
    mut f: impl FnMut(&Row<'_, '_>) -> Result<()>,
) -> Result<u64> {
    let Some(map) = profile.object(logical) else {
        return Ok(0);
    };
    source.scan_map(map, |batch| {
        for row in 0..batch.num_rows() {
            f(&Row { batch, map, row })?;
        }
        Ok(())
    })
}

/// Like [`each`], but the rows of each record batch are converted by `f` in parallel (rayon) and handed to
/// `sink` in source order, so the result does not depend on the number of threads. Memory: one batch of
/// converted rows.
///
/// # Errors
/// Parquet read failures; whatever `sink` returns.
pub fn each_par<T: Send>(
    source: &SourceTables,
    profile: &Profile,
    logical: &str,
    f: impl Fn(&Row<'_, '_>) -> T + Sync,
    mut sink: impl FnMut(T) -> Result<()>,
) -> Result<u64> {
    use rayon::prelude::*;
    let Some(map) = profile.object(logical) else {
        return Ok(0);
    };
    source.scan_map(map, |batch| {
        let rows: Vec<T> = (0..batch.num_rows())
            .into_par_iter()
            .map(|row| f(&Row { batch, map, row }))
            .collect();
        rows.into_iter().try_for_each(&mut sink)
    })
}

/// [`load`] with the rows of each batch converted in parallel ([`each_par`]); same rows, same order.
///
/// # Errors
/// Parquet read failures.
pub fn load_par<T: Send>(
    source: &SourceTables,
    profile: &Profile,
    logical: &str,
    f: impl Fn(&Row<'_, '_>) -> T + Sync,
) -> Result<(Vec<T>, String)> {
    let table = physical_table(source, profile, logical);
    let mut out = Vec::new();
    each_par(source, profile, logical, f, |t| {
        out.push(t);
        Ok(())
    })?;
    Ok((out, table))
}

/// Reads every row of a logical object through `f`. A logical object the profile lacks, or whose table the
/// extract lacks, gives an empty list. Returns the rows and the physical table name.
///
/// # Errors
/// Parquet read failures.
pub fn load<T>(
    source: &SourceTables,
    profile: &Profile,
    logical: &str,
    mut f: impl FnMut(&Row<'_, '_>) -> T,
) -> Result<(Vec<T>, String)> {
    let table = physical_table(source, profile, logical);
    let mut out = Vec::new();
    each(source, profile, logical, |row| {
        out.push(f(row));
        Ok(())
    })?;
    Ok((out, table))
}

/// A work order (`TASKS` row).
#[derive(Debug, Clone, Default)]
pub struct Ticket {
    /// Stable id (WOID): the key of `conversation:ticket:<id>`.
    pub id: i64,
    /// Source primary key text.
    pub pk: String,
    /// Parent work order id (assignments).
    pub parent: Option<i64>,
    /// Summary (`TASK`).
    pub summary: Option<String>,
    /// Description (`DESCRIPT`).
    pub description: Option<String>,
    /// Resolution (`NOTE`).
    pub resolution: Option<String>,
    /// Requestor name text.
    pub requestor: Option<String>,
    /// Requestor email from the browse view, when the profile has one.
    pub requestor_email: Option<String>,
    /// Technician name or login text.
    pub technician: Option<String>,
    /// Department text.
    pub department: Option<String>,
    /// Location text.
    pub location: Option<String>,
    /// Priority text.
    pub priority: Option<String>,
    /// Category levels, non-empty ones.
    pub category: Vec<String>,
    /// Status id.
    pub status_id: Option<i64>,
    /// Status text.
    pub status: Option<String>,
    /// Requested time.
    pub requested: Cell,
    /// Opened time.
    pub opened: Cell,
    /// Due time.
    pub due: Cell,
    /// Closed time.
    pub closed: Cell,
    /// Completed time.
    pub completed: Cell,
    /// Hours worked.
    pub hours: Option<f64>,
    /// Asset name text.
    pub asset: Option<String>,
    /// Values of the mapping's enabled ticket attributes, in mapping order.
    pub attributes: Vec<Cell>,
    /// Where `description` and `resolution` were moved to in the run's ticket text file
    /// ([`crate::windows::TextSpill`]), so that memory does not hold every ticket's text; `None` when they are
    /// held here.
    pub text_at: Option<(u64, u32)>,
}

/// A ticket note (`TaskNote` row) or a ticket history row.
#[derive(Debug, Clone, Default)]
pub struct Note {
    /// Source table.
    pub table: String,
    /// Source primary key text.
    pub pk: String,
    /// Sequence for ordering ties (the numeric pk when there is one).
    pub seq: i64,
    /// Ticket id.
    pub ticket: Option<i64>,
    /// Original time.
    pub created: Cell,
    /// Author name text.
    pub author: Option<String>,
    /// Body text.
    pub text: Option<String>,
    /// Note type name (resolved from the lookup or given directly); `None` when missing from the lookup.
    pub type_name: Option<String>,
    /// Type id as stored.
    pub type_id: Option<i64>,
    /// Private flag.
    pub private: Option<bool>,
    /// True for a ticket history row (field change), rendered as an internal note.
    pub history: bool,
}

/// A person row (`HDUsers`).
#[derive(Debug, Clone, Default)]
pub struct User {
    /// Stable id.
    pub id: i64,
    /// Login.
    pub login: Option<String>,
    /// Full name as tickets write it.
    pub full_name: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email as stored.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Technician flag.
    pub is_technician: bool,
    /// Requestor flag.
    pub is_requestor: bool,
    /// Active flag.
    pub active: Option<bool>,
    /// Created time.
    pub created: Cell,
}

impl User {
    /// The display name: full name, else "First Last", else the login.
    pub fn display_name(&self) -> Option<String> {
        let full = self
            .full_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(f) = full {
            return Some(f.to_string());
        }
        let parts: Vec<&str> = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .collect();
        let joined = parts.join(" ").trim().to_string();
        if !joined.is_empty() {
            return Some(joined);
        }
        self.login.clone()
    }
}

/// An asset row.
#[derive(Debug, Clone, Default)]
pub struct Asset {
    /// Stable id.
    pub id: i64,
    /// Source pk.
    pub pk: String,
    /// Name, tag, serial, type, manufacturer, model, assigned user, location, BCM device id.
    pub fields: std::collections::BTreeMap<&'static str, String>,
    /// Purchased.
    pub purchased: Cell,
    /// Retired.
    pub retired: Cell,
    /// BCM-managed.
    pub managed: Option<bool>,
}

/// An attachment row.
#[derive(Debug, Clone, Default)]
pub struct Attachment {
    /// Stable id.
    pub id: i64,
    /// Source pk.
    pub pk: String,
    /// Ticket id.
    pub ticket: Option<i64>,
    /// Original file name.
    pub name: String,
    /// Stored path (file-share mode).
    pub path: Option<String>,
    /// Size as recorded.
    pub size: Option<i64>,
    /// Who added it.
    pub author: Option<String>,
    /// When.
    pub created: Cell,
    /// The content cell (blob mode).
    pub content: Cell,
}

/// A KB article.
#[derive(Debug, Clone, Default)]
pub struct Article {
    /// Stable id.
    pub id: i64,
    /// Source pk.
    pub pk: String,
    /// Title.
    pub title: Option<String>,
    /// Body (HTML, RTF or plain).
    pub body: Option<String>,
    /// Category path text.
    pub category: Option<String>,
    /// Published.
    pub published: Option<bool>,
    /// Self-service (visible to customers).
    pub self_service: Option<bool>,
    /// Author.
    pub author: Option<String>,
    /// Created.
    pub created: Cell,
}

/// A generic row kept as (field, text) pairs, for gap datasets.
#[derive(Debug, Clone, Default)]
pub struct Generic {
    /// Source pk.
    pub pk: String,
    /// Logical field → text.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Logical field → unix seconds (date fields).
    pub times: std::collections::BTreeMap<String, i64>,
}

/// Reads a logical object as [`Generic`] rows: every mapped column, date fields converted with `clock`.
///
/// # Errors
/// Parquet read failures.
pub fn load_generic(
    source: &SourceTables,
    profile: &Profile,
    logical: &str,
    clock: &crate::time::Clock,
) -> Result<(Vec<Generic>, String)> {
    let fields: Vec<String> = profile
        .object(logical)
        .map(|m| m.columns.keys().cloned().collect())
        .unwrap_or_default();
    load(source, profile, logical, |row| {
        let mut g = Generic {
            pk: row.pk(),
            ..Default::default()
        };
        for f in &fields {
            match row.cell(f) {
                c @ (Cell::Local(_) | Cell::Utc(_)) => {
                    if let Some(t) = clock.unix(&c) {
                        g.times.insert(f.clone(), t);
                    }
                }
                Cell::Null => {}
                _ => {
                    if let Some(t) = row.text(f) {
                        g.fields.insert(f.clone(), t);
                    }
                }
            }
        }
        g
    })
}
