//! `truth.json`: facts about what was generated (`source`) and what a migration with the default mapping must
//! produce (`expected`). Field definitions are in the crate README; every count is computed from the values
//! as stored, so it equals what a query of the SQLite file returns.

use super::lookups::{self, note_types};
use super::people::People;
use super::sentinels;
use super::tickets::{Gen, Note, Ticket, d};
use super::{Ctx, GenError, io_err};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// Extensions treated as restricted: the default list of ti-shared (`attachments::DEFAULT_RESTRICTED_EXTENSIONS`).
pub const RESTRICTED_EXTENSIONS: &[&str] = &[
    "exe", "scr", "bat", "cmd", "com", "pif", "msi", "msp", "js", "jse", "vbs", "vbe", "wsf",
    "wsh", "ps1", "psm1", "hta", "cpl", "jar", "reg", "lnk", "dll", "sys",
];

/// The last extension of a file name, lower-cased (same rule as `ti_shared::attachments::extension`):
/// trailing dots and spaces ignored, path separators of either kind end the name.
pub fn extension(file_name: &str) -> Option<String> {
    let trimmed = file_name.trim_end_matches(['.', ' ']);
    let base = trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// Email normalisation used for contacts and admin matching: trim ASCII whitespace, lower-case.
pub fn normalise_email(e: &str) -> String {
    e.trim().to_lowercase()
}

/// A normalised email is usable when it is `local@domain.tld`: one `@`, non-empty local part, a dot in the
/// domain that is neither its first nor its last character, no whitespace.
pub fn usable_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !e.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// Name comparison of the view join and of the "unmatched" counts: trailing spaces ignored, ASCII case folded.
pub fn name_key(s: &str) -> String {
    s.trim_end_matches(' ').to_ascii_lowercase()
}

/// Attachment facts of `source.attachments`.
#[derive(Debug, Default, Clone)]
#[allow(missing_docs)]
pub struct AttachFacts {
    pub rows: u64,
    pub files_on_disk: u64,
    pub bytes: u64,
    pub bytes_on_disk: u64,
    pub missing_on_disk: u64,
    pub orphan_files: u64,
    pub restricted: u64,
    pub by_extension: BTreeMap<String, u64>,
}

/// Everything truth.json says.
#[derive(Debug, Clone)]
pub struct Truth {
    profile: &'static str,
    seed: u64,
    tickets: u64,
    attach_mode: &'static str,
    text_mode: &'static str,
    tables: BTreeMap<String, u64>,
    views: BTreeMap<String, u64>,
    /// Attachment facts.
    pub attachments: AttachFacts,
    dirty: BTreeMap<String, u64>,
    sentinels: BTreeMap<String, Vec<i64>>,
    sentinel_users: BTreeMap<String, Vec<i64>>,
    sentinel_notes: BTreeMap<String, Vec<i64>>,
    sentinel_attachments: BTreeMap<String, Vec<i64>>,
    expected: BTreeMap<String, Value>,
}

impl Truth {
    /// An empty truth for this run, with the sentinel WOIDs filled in.
    pub fn new(ctx: &Ctx) -> Self {
        let mut sentinels: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (w, kind) in sentinels::TABLE {
            if sentinels::applies(ctx, *w) {
                sentinels.entry(kind.to_string()).or_default().push(*w);
            }
        }
        sentinels.insert("orphan_note".into(), vec![sentinels::MISSING_WOID]);
        Self {
            profile: ctx.profile.name(),
            seed: ctx.seed,
            tickets: ctx.scale.tickets,
            attach_mode: if ctx.attach == super::AttachMode::Share {
                "share"
            } else {
                "blob"
            },
            text_mode: if ctx.cp1252() { "varchar" } else { "nvarchar" },
            tables: BTreeMap::new(),
            views: BTreeMap::new(),
            attachments: AttachFacts::default(),
            dirty: BTreeMap::new(),
            sentinels,
            sentinel_users: BTreeMap::new(),
            sentinel_notes: BTreeMap::new(),
            sentinel_attachments: BTreeMap::new(),
            expected: BTreeMap::new(),
        }
    }

    /// Adds `n` to a dirty-data kind.
    pub fn dirty(&mut self, kind: &str, n: u64) {
        *self.dirty.entry(kind.into()).or_default() += n;
    }

    /// Records a people sentinel (UserId 1–5, 1001–1020).
    pub fn sentinel_user(&mut self, kind: &str, user_id: i64) {
        if user_id <= 5 || (1001..=1020).contains(&user_id) {
            self.sentinel_users
                .entry(kind.into())
                .or_default()
                .push(user_id);
        }
    }

    /// Records an attachment sentinel (by WOID).
    pub fn sentinel_attachment(&mut self, kind: &str, woid: i64) {
        self.sentinel_attachments
            .entry(kind.into())
            .or_default()
            .push(woid);
    }

    /// Rows of a table after [`Truth::count_tables`] (0 if unknown).
    pub fn table_rows(&self, key: &str) -> u64 {
        self.tables.get(key).copied().unwrap_or(0)
    }

    /// Records one attachment row.
    pub fn attachment_row(&mut self, name: &str, size: u64, id: i64, woid: i64) {
        let a = &mut self.attachments;
        a.rows += 1;
        a.bytes += size;
        let ext = extension(name);
        *a.by_extension
            .entry(ext.clone().unwrap_or_else(|| "(none)".into()))
            .or_default() += 1;
        if ext.is_some_and(|e| RESTRICTED_EXTENSIONS.contains(&e.as_str())) {
            a.restricted += 1;
        }
        if woid < 100 {
            let kind = sentinels::TABLE
                .iter()
                .find(|x| x.0 == woid)
                .map_or("attach_other", |x| x.1);
            self.sentinel_attachments
                .entry(kind.into())
                .or_default()
                .push(id);
        }
    }

    /// Technician facts for `expected` (after admins.json is written).
    pub fn set_technicians(&mut self, people: &People) {
        let techs: Vec<_> = people.techs.iter().map(|&i| &people.persons[i]).collect();
        let unmatched: Vec<String> = techs
            .iter()
            .filter(|p| people.unlisted_techs.contains(&p.id))
            .map(|p| p.full_name.clone())
            .collect();
        self.expected.insert(
            "technicians".into(),
            json!({"total": techs.len(), "matched": techs.len() - unmatched.len(), "unmatched": unmatched.len()}),
        );
        self.expected
            .insert("unmatched_technicians".into(), json!(unmatched));
        let mut keys = HashSet::new();
        let mut rows = 0u64;
        let mut without = 0u64;
        for p in people.requestors.iter().map(|&i| &people.persons[i]) {
            rows += 1;
            let norm = p
                .email
                .as_deref()
                .map(normalise_email)
                .filter(|e| usable_email(e));
            match norm {
                Some(e) => {
                    keys.insert(e);
                }
                None => {
                    without += 1;
                    keys.insert(format!("user:{}", p.id));
                }
            }
        }
        self.expected.insert(
            "contacts".into(),
            json!({"requestor_rows": rows, "distinct": keys.len(), "merged_by_email": rows - keys.len() as u64,
                   "without_usable_email": without}),
        );
    }

    /// A classifier of tickets and notes for this database.
    pub fn classifier(&self, g: &Gen) -> Classifier {
        let persons = &g.people.persons;
        Classifier {
            names: persons.iter().map(|p| name_key(&p.full_name)).collect(),
            authors: persons
                .iter()
                .flat_map(|p| [name_key(&p.full_name), name_key(&p.login)])
                .collect(),
            tech_logins: persons
                .iter()
                .filter(|p| p.is_tech)
                .map(|p| name_key(&p.login))
                .collect(),
            disabled: persons
                .iter()
                .filter(|p| p.is_tech && !p.is_active)
                .flat_map(|p| [name_key(&p.full_name), name_key(&p.login)])
                .collect(),
            statuses: g.statuses.iter().map(|s| (s.0, s.1.clone())).collect(),
            types: g.types.iter().cloned().collect(),
            note_types: lookups::note_type_rows(g.ctx).into_iter().collect(),
            assets: g.assets.names.iter().map(|n| name_key(n)).collect(),
            existing: g
                .plan
                .regular
                .iter()
                .chain(&g.plan.sentinels)
                .copied()
                .collect(),
            unmatched_requests: HashSet::new(),
            first_note_seen: HashSet::new(),
            parts: BTreeMap::new(),
            counts: BTreeMap::new(),
        }
    }

    /// Counts every table and view of the finished database.
    ///
    /// # Errors
    /// SQLite failures.
    pub fn count_tables(&mut self, conn: &rusqlite::Connection) -> Result<(), GenError> {
        let objects: Vec<(String, String, String)> = conn
            .prepare("SELECT schema_name, object_name, object_type FROM _ti_objects ORDER BY 1, 2")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (schema, name, ty) in objects {
            let key = format!("{schema}.{name}");
            let n: i64 =
                conn.query_row(&format!("SELECT COUNT(*) FROM \"{key}\""), [], |r| r.get(0))?;
            if ty == "VIEW" {
                &mut self.views
            } else {
                &mut self.tables
            }
            .insert(key, n as u64);
        }
        let t = |k: &str| self.tables.get(&format!("dbo.{k}")).copied().unwrap_or(0);
        let e = &mut self.expected;
        e.insert(
            "restricted_attachments".into(),
            json!(self.attachments.restricted),
        );
        e.insert("change_requests".into(), json!(t("ChangeRequests")));
        e.insert("change_approvals".into(), json!(t("ChangeApprovals")));
        e.insert("kb_articles".into(), json!(t("KBArticles")));
        let cats: i64 = if self.tables.contains_key("dbo.KBArticles") {
            conn.query_row(
                "SELECT COUNT(DISTINCT Category) FROM \"dbo.KBArticles\"",
                [],
                |r| r.get(0),
            )?
        } else {
            0
        };
        e.insert("kb_categories".into(), json!(cats));
        e.insert("sla_policies".into(), json!(t("SLAPolicies")));
        e.insert("sla_targets".into(), json!(t("SLATargets")));
        e.insert("bcm_relations".into(), json!(t("BCMRelations")));
        e.insert("assets".into(), json!(t("Assets")));
        Ok(())
    }

    /// The truth.json document.
    pub fn to_json(&self) -> Value {
        let a = &self.attachments;
        json!({
            "source": {
                "profile": self.profile,
                "seed": self.seed,
                "tickets": self.tickets,
                "attachments_mode": self.attach_mode,
                "text_mode": self.text_mode,
                "tables": self.tables,
                "views": self.views,
                "attachments": {
                    "rows": a.rows, "files_on_disk": a.files_on_disk, "bytes": a.bytes,
                    "bytes_on_disk": a.bytes_on_disk, "missing_on_disk": a.missing_on_disk,
                    "orphan_files": a.orphan_files, "restricted": a.restricted, "by_extension": a.by_extension,
                },
                "dirty": self.dirty,
                "sentinels": self.sentinels,
                "sentinel_users": self.sentinel_users,
                "sentinel_notes": self.sentinel_notes,
                "sentinel_attachments": self.sentinel_attachments,
            },
            "expected": self.expected,
        })
    }

    /// Writes truth.json.
    ///
    /// # Errors
    /// File-system or serialisation failures.
    pub fn write(&self, path: &Path) -> Result<(), GenError> {
        std::fs::write(path, serde_json::to_vec_pretty(&self.to_json())?).map_err(io_err(path))
    }
}

/// Classifies tickets and notes by their stored values while they are inserted.
pub struct Classifier {
    names: HashSet<String>,
    authors: HashSet<String>,
    tech_logins: HashSet<String>,
    disabled: HashSet<String>,
    statuses: HashMap<i64, String>,
    types: HashMap<i64, String>,
    note_types: HashMap<i64, String>,
    assets: HashSet<String>,
    existing: HashSet<i64>,
    unmatched_requests: HashSet<String>,
    first_note_seen: HashSet<i64>,
    parts: BTreeMap<String, u64>,
    counts: BTreeMap<&'static str, u64>,
}

impl Classifier {
    fn add(&mut self, truth: &mut Truth, kind: &'static str, hit: bool) {
        if hit {
            truth.dirty(kind, 1);
        }
    }

    /// Counts the dirty kinds a ticket carries.
    pub fn ticket(&mut self, t: &Ticket, truth: &mut Truth) {
        let dates = &t.dates;
        let day1900 = super::tickets::ymd(1900, 1, 1, 0, 0, 0);
        let closed = t
            .status_id
            .is_some_and(|s| lookups::CLOSED_IDS.contains(&s));
        let open_id = t
            .status_id
            .is_some_and(|s| !lookups::CLOSED_IDS.contains(&s));
        let all_dates = || dates.iter().chain(&t.wo_date).flatten();
        let checks: Vec<(&'static str, bool)> = vec![
            ("reqdate_null", dates[d::REQ].is_none()),
            (
                "closed_without_clsddate",
                closed && dates[d::CLSD].is_none() && dates[d::COMPLETED].is_some(),
            ),
            (
                "open_with_completed",
                open_id && dates[d::COMPLETED].is_some(),
            ),
            (
                "date_1900",
                [dates[d::DUE], dates[d::RESPONSE]]
                    .iter()
                    .chain(&t.wo_date)
                    .any(|x| *x == Some(day1900)),
            ),
            (
                "closed_before_opened",
                matches!((dates[d::CLSD], dates[d::OPEN]), (Some(c), Some(o)) if c < o),
            ),
            (
                "future_date",
                all_dates().any(|x| (2099..9999).contains(&chrono::Datelike::year(x))),
            ),
            (
                "modidate_before_reqdate",
                matches!((dates[d::MODI], dates[d::REQ]), (Some(m), Some(r)) if m < r),
            ),
            ("status_id_null", t.status_id.is_none()),
            ("status_id_zero", t.status_id == Some(0)),
            (
                "status_id_unknown",
                t.status_id
                    .is_some_and(|s| s != 0 && !self.statuses.contains_key(&s)),
            ),
            (
                "status_text_mismatch",
                t.status_id
                    .and_then(|s| self.statuses.get(&s))
                    .is_some_and(|n| t.status.as_deref() != Some(n.as_str())),
            ),
            (
                "priority_nonstandard",
                t.priority.as_deref().is_some_and(|p| {
                    !p.is_empty() && !["Low", "Medium", "High", "Urgent"].contains(&p)
                }),
            ),
            ("priority_empty", t.priority.as_deref() == Some("")),
            ("priority_null", t.priority.is_none()),
            (
                "type_leading_underscore",
                t.wo_type.as_deref().is_some_and(|x| x.starts_with('_')),
            ),
            (
                "type_id_mismatch",
                t.type_id
                    .and_then(|i| self.types.get(&i))
                    .is_some_and(|n| t.wo_type.as_deref() != Some(n.as_str())),
            ),
            ("respons_null", t.respons.is_none()),
            (
                "respons_login_id",
                t.respons.as_deref().is_some_and(|r| {
                    self.tech_logins.contains(&name_key(r)) && !self.names.contains(&name_key(r))
                }),
            ),
            ("respons_bot", t.respons.as_deref() == Some("helpdeskbot")),
            (
                "disabled_technician_open",
                !t.is_closed()
                    && t.respons
                        .as_deref()
                        .is_some_and(|r| self.disabled.contains(&name_key(r))),
            ),
            (
                "body_whitespace_only",
                t.descript
                    .as_deref()
                    .is_some_and(|s| !s.is_empty() && s.trim().is_empty()),
            ),
            ("body_empty", t.descript.as_deref() == Some("")),
            ("body_null", t.descript.is_none()),
            (
                "body_html",
                t.descript
                    .as_deref()
                    .is_some_and(|s| s.starts_with("<html")),
            ),
            (
                "body_rtf",
                t.descript
                    .as_deref()
                    .is_some_and(|s| s.starts_with("{\\rtf")),
            ),
            (
                "body_over_100k_chars",
                t.descript
                    .as_deref()
                    .is_some_and(|s| s.chars().count() > 100_000),
            ),
            (
                "task_100_chars",
                t.task.as_deref().is_some_and(|s| s.chars().count() == 100),
            ),
            ("self_parent", t.parent == Some(t.woid)),
            (
                "dangling_parent",
                t.parent
                    .is_some_and(|p| p != t.woid && !self.existing.contains(&p)),
            ),
            (
                "child_ticket",
                t.parent
                    .is_some_and(|p| p != t.woid && self.existing.contains(&p)),
            ),
            (
                "udf_coded_value",
                t.wo_text[0].as_deref().is_some_and(|s| s.starts_with('#')),
            ),
            (
                "asset_unmatched",
                t.assetname
                    .as_deref()
                    .is_some_and(|a| !self.assets.contains(&name_key(a))),
            ),
            ("udf_text_over_255", self.udf_over_255(t) > 0),
        ];
        for (kind, hit) in checks {
            self.add(truth, kind, hit);
        }
        *self.counts.entry("tickets").or_default() += 1;
        *self.counts.entry("udf_text_over_255").or_default() += self.udf_over_255(t);
        for k in &t.kinds {
            truth.dirty(k, 1);
        }
        if let Some(r) = t.request.as_deref().filter(|r| !r.trim().is_empty())
            && !self.names.contains(&name_key(r))
        {
            truth.dirty("requestor_unmatched", 1);
            self.unmatched_requests.insert(r.to_string());
        }
    }

    fn udf_over_255(&self, t: &Ticket) -> u64 {
        t.lookups
            .iter()
            .chain(&t.wo_text)
            .chain(std::iter::once(&t.memo))
            .flatten()
            .filter(|s| s.chars().count() > 255)
            .count() as u64
    }

    /// Counts a note (orphans, missing types, unknown authors, parts per kind).
    pub fn note(&mut self, n: &Note, truth: &mut Truth) {
        let exists = n.woid.is_some_and(|w| self.existing.contains(&w));
        if !exists {
            truth.dirty("orphan_note", 1);
        }
        let type_known = n.type_id.is_some_and(|t| self.note_types.contains_key(&t));
        if n.type_id.is_some() && !type_known {
            truth.dirty("note_type_missing", 1);
        }
        if n.created_by
            .as_deref()
            .is_some_and(|b| !self.authors.contains(&name_key(b)))
        {
            truth.dirty("note_created_by_unmatched", 1);
        }
        if matches!(n.text, Some(Err(_))) {
            truth.dirty("note_lone_surrogate", 1);
        }
        if let Some(w) = n.woid.filter(|w| *w < 100) {
            let kind = match w {
                sentinels::MISSING_WOID => Some("orphan_note"),
                75 if !type_known => Some("note_type_missing"),
                76 if n.created_by.as_deref() == Some("former.tech") => {
                    Some("note_created_by_unmatched")
                }
                95 => Some("note_lone_surrogate"),
                96 if n.private == Some(true) => Some("note_private"),
                _ => None,
            };
            if let Some(k) = kind {
                truth.sentinel_notes.entry(k.into()).or_default().push(n.id);
            }
        }
        if exists {
            let w = n.woid.unwrap_or_default();
            if self.first_note_seen.insert(w) && n.type_id == Some(note_types::INCIDENT_DESCRIPTION)
            {
                *self
                    .counts
                    .entry("first_note_incident_description")
                    .or_default() += 1;
            }
            let key = match n.type_id {
                None => "(null)".to_string(),
                Some(t) => self
                    .note_types
                    .get(&t)
                    .cloned()
                    .unwrap_or_else(|| "(unknown)".into()),
            };
            *self.parts.entry(key).or_default() += 1;
            *self
                .counts
                .entry(if n.private == Some(true) {
                    "private"
                } else {
                    "public"
                })
                .or_default() += 1;
        }
    }

    /// Writes the ticket- and note-derived `expected` fields.
    pub fn finish(self, truth: &mut Truth) {
        let d = |k: &str| truth.dirty.get(k).copied().unwrap_or(0);
        let c = |k: &str| self.counts.get(k).copied().unwrap_or(0);
        let total: u64 = self.parts.values().sum();
        let mut e = BTreeMap::new();
        e.insert("conversation_parts", json!({"total": total, "by_note_type": self.parts, "private": c("private"),
            "public": c("public"), "first_note_incident_description": c("first_note_incident_description")}));
        e.insert("orphan_notes", json!(d("orphan_note")));
        e.insert("conversations", json!(c("tickets")));
        e.insert(
            "requestor_names_unmatched",
            json!(self.unmatched_requests.len()),
        );
        e.insert(
            "tickets_with_unmatched_requestor",
            json!(d("requestor_unmatched")),
        );
        e.insert("self_parented_tickets", json!(d("self_parent")));
        e.insert("dangling_parents", json!(d("dangling_parent")));
        e.insert("child_tickets", json!(d("child_ticket")));
        e.insert("udf_text_over_255", json!(c("udf_text_over_255")));
        for (k, v) in e {
            truth.expected.insert(k.into(), v);
        }
    }
}
