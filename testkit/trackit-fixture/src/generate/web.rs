//! The `web` profile (Track-It! 20xx, schema `_SMDBA_`, trackit-fixture.md §3): the same logical data as
//! `classic --text nvarchar`, stored in `_SMDBA_._TELMASTE_` (REAL: SEQUENCE, STATUS and the confirmed ordinal
//! positions), `_SMDBA_._PERSONNEL_` (REAL: SEQUENCE, CODE, FNAME, NAME) and PLACEHOLDER tables for customers,
//! groups, categories, departments, locations and notes, with the REAL views `_SMDBA_.Ticket` and
//! `_SMDBA_.[Ticket Notes]`. People, assets, the other modules and attachments use the same `dbo` tables as
//! `classic` (as `transform/profiles/web.toml` expects). Times are stored in UTC (US Eastern local time converted); the sentinel
//! placeholder dates (years before 1970 or after 2090) are stored unchanged.

use super::attachments::AttachState;
use super::classic::Sink;
use super::ddl::{ColDef, Inserter, TableDef, V, col, create_view, nn, pk};
use super::lookups::{self, CLOSED_IDS};
use super::names::{DEPTS, LOCATIONS};
use super::people::People;
use super::schema::Defs;
use super::tickets::{Gen, Note, Plan, Ticket, d, dt};
use super::{GenError, Truth};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

const S: &str = "_SMDBA_";

/// Every object of the web profile: (base tables, views).
pub fn defs() -> (Vec<TableDef>, Vec<TableDef>) {
    let t = |name: &str, cols: Vec<ColDef>| TableDef::new(S, name, cols);
    let people = |name: &str| {
        t(
            name,
            vec![
                pk("SEQUENCE", "int", 1),
                col("CODE", "varchar(30)"),
                col("FNAME", "nvarchar(50)"),
                col("NAME", "nvarchar(50)"),
                col("EMAIL", "nvarchar(100)"),
                col("SEQ_GROUP", "int"),
                col("INACTIVE", "bit"),
            ],
        )
    };
    let lookup = |name: &str| {
        t(
            name,
            vec![pk("SEQUENCE", "int", 1), col("CODE", "nvarchar(100)")],
        )
    };
    let mut telmaste = vec![
        pk("SEQUENCE", "int", 1),
        col("LASTMODIFIED", "datetime"),
        col("LASTUSER", "varchar(30)"),
        col("SEQ_GROUP", "int"),
        col("SEQ_REQUESTOR", "int"),
        col("SEQ_ASSIGNEE", "int"),
        col("SEQ_CATEGORY", "int"),
        col("SEQ_LOCATION", "int"),
        col("STATUS", "char(1)"),
        col("SEQ_DEPARTMENT", "int"),
        col("PRIORITY", "nvarchar(50)"),
        col("OPENDATE", "datetime"),
        col("DUEDATE", "datetime"),
        col("SEQ_SLA", "int"),
        col("CUSTOM_DATE1", "datetime"),
        col("SEQ_OPENBY", "int"),
        col("CUSTOM_DATE2", "datetime"),
        col("CLOSEDATE", "datetime"),
        col("SEQ_CLOSEDBY", "int"),
        col("CUSTOM_INT1", "int"),
        col("CUSTOM_NUM1", "real"),
        col("SUMMARY", "nvarchar(255)"),
        col("ADDITIONALINFO", "ntext"),
    ];
    telmaste.extend((1..=6).map(|i| col(&format!("CUSTOM_TEXT{i}"), "nvarchar(100)")));
    let tables = vec![
        people("_PERSONNEL_"),
        people("_CUSTOMER_"),
        lookup("_GROUPS_"),
        t(
            "_CATEGORY_",
            vec![
                pk("SEQUENCE", "int", 1),
                col("CODE", "nvarchar(100)"),
                col("FULLPATH", "nvarchar(255)"),
            ],
        ),
        lookup("_DEPARTMENT_"),
        lookup("_LOCATION_"),
        t("_TELMASTE_", telmaste),
        t(
            "_NOTES_",
            vec![
                pk("SEQUENCE", "int", 1),
                col("SEQ_TELMASTE", "int"),
                col("NOTETYPE", "nvarchar(50)"),
                col("NOTE", "ntext"),
                col("LASTMODIFIED", "datetime"),
                col("LASTUSER", "varchar(30)"),
            ],
        ),
    ];
    let views = vec![
        t(
            "Ticket",
            vec![
                nn("Ticket ID", "int"),
                col("Open Date & Time", "datetime"),
                col("Due Date & Time", "datetime"),
                col("Close Date & Time", "datetime"),
                col("Requestor", "nvarchar(101)"),
                col("Location", "nvarchar(100)"),
                col("Department", "nvarchar(100)"),
                col("Assigned To Technician", "nvarchar(101)"),
                col("Group", "nvarchar(100)"),
                col("Ticket Summary", "nvarchar(255)"),
                col("Additional Information", "ntext"),
                col("Category", "nvarchar(100)"),
                col("Category Full Path", "nvarchar(255)"),
                col("Priority", "nvarchar(50)"),
                col("Status", "varchar(10)"),
            ],
        ),
        t(
            "Ticket Notes",
            vec![
                col("Ticket ID", "int"),
                col("Note", "ntext"),
                nn("NoteExists", "bit"),
                col("Note Type", "nvarchar(50)"),
                col("LastModified", "datetime"),
            ],
        ),
    ];
    (tables, views)
}

fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let offset = (7 - first.weekday().num_days_from_sunday()) % 7;
    first + Duration::days(i64::from(offset + 7 * (n - 1)))
}

/// US Eastern local wall time → UTC (DST from the 2nd Sunday of March to the 1st Sunday of November, the
/// rule since 2007). Placeholder dates (year < 1970 or > 2090) are returned unchanged.
pub fn to_utc(t: NaiveDateTime) -> NaiveDateTime {
    let y = t.year();
    if !(1970..=2090).contains(&y) {
        return t;
    }
    let start = nth_sunday(y, 3, 2).and_hms_opt(2, 0, 0).unwrap_or_default();
    let end = nth_sunday(y, 11, 1)
        .and_hms_opt(2, 0, 0)
        .unwrap_or_default();
    let dst = t >= start && t < end;
    let _ = Weekday::Sun;
    t + Duration::hours(if dst { 4 } else { 5 })
}

fn utc(t: Option<NaiveDateTime>) -> V {
    V::from(t.map(|t| dt(to_utc(t))))
}

fn find<'a>(defs: &'a [TableDef], name: &str) -> &'a TableDef {
    defs.iter().find(|d| d.name == name).unwrap_or(&defs[0])
}

/// Inserts people and lookups; returns the sink that writes tickets.
pub fn insert_people<'c>(
    conn: &'c rusqlite::Connection,
    ctx: &super::Ctx,
    tables: &[TableDef],
    defs: &Defs,
    people: &People,
) -> Result<WebSink<'c>, GenError> {
    let mut pers = Inserter::new(conn, find(tables, "_PERSONNEL_"))?;
    let mut cust = Inserter::new(conn, find(tables, "_CUSTOMER_"))?;
    let mut by_name = HashMap::new();
    let mut by_login = HashMap::new();
    for p in &people.persons {
        let group = people.members.iter().find(|m| m.1 == p.id).map(|m| m.0);
        let row = |g: Option<i64>| {
            vec![
                V::I(p.id),
                p.login.as_str().into(),
                p.first.as_str().into(),
                p.last.as_str().into(),
                V::from(&p.email),
                g.into(),
                (!p.is_active).into(),
            ]
        };
        if p.is_tech {
            pers.insert(row(group))?;
            by_login
                .entry(super::truth::name_key(&p.login))
                .or_insert(p.id);
        }
        if p.is_requestor {
            cust.insert(row(None))?;
        }
        by_name
            .entry(super::truth::name_key(&p.full_name))
            .or_insert(p.id);
    }
    let mut ins = Inserter::new(conn, find(tables, "_GROUPS_"))?;
    for (id, name) in &people.groups {
        ins.insert(vec![V::I(*id), name.as_str().into()])?;
    }
    let mut ins = Inserter::new(conn, find(tables, "_CATEGORY_"))?;
    for (id, name) in lookups::types(ctx) {
        ins.insert(vec![V::I(id), name.as_str().into(), name.into()])?;
    }
    for (table, list) in [("_DEPARTMENT_", DEPTS), ("_LOCATION_", LOCATIONS)] {
        let mut ins = Inserter::new(conn, find(tables, table))?;
        for (i, name) in list.iter().enumerate() {
            ins.insert(vec![V::I(i as i64 + 1), (*name).into()])?;
        }
    }
    Ok(WebSink {
        tickets: Inserter::new(conn, find(tables, "_TELMASTE_"))?,
        notes: Inserter::new(conn, find(tables, "_NOTES_"))?,
        by_name,
        by_login,
        note_types: lookups::note_type_rows(ctx).into_iter().collect(),
        att: AttachState::new(conn, ctx, defs)?,
    })
}

/// Writes `_TELMASTE_` and `_NOTES_` rows.
pub struct WebSink<'c> {
    tickets: Inserter<'c>,
    notes: Inserter<'c>,
    by_name: HashMap<String, i64>,
    by_login: HashMap<String, i64>,
    note_types: HashMap<i64, String>,
    att: AttachState<'c>,
}

impl WebSink<'_> {
    fn person(&self, name: Option<&str>) -> Option<i64> {
        let key = super::truth::name_key(name?);
        self.by_name
            .get(&key)
            .or_else(|| self.by_login.get(&key))
            .copied()
    }
}

fn status_code(t: &Ticket) -> &'static str {
    if t.status_id.is_some_and(|s| CLOSED_IDS.contains(&s))
        || (t.status_id.is_none() && t.is_closed())
    {
        "C"
    } else {
        "O"
    }
}

fn index_of(list: &[&str], v: Option<&str>) -> Option<i64> {
    v.and_then(|v| list.iter().position(|x| *x == v))
        .map(|i| i as i64 + 1)
}

impl Sink for WebSink<'_> {
    fn write(
        &mut self,
        g: &Gen,
        t: &Ticket,
        notes: &[Note],
        rng: &mut ChaCha8Rng,
        sentinel: bool,
        truth: &mut Truth,
    ) -> Result<(), GenError> {
        let mut row = vec![
            V::I(t.woid),
            utc(t.dates[d::MODI]),
            V::from(&t.responded_by),
            V::I(1),
            self.person(t.request.as_deref()).into(),
            self.person(t.respons.as_deref()).into(),
            t.type_id.into(),
            index_of(LOCATIONS, t.location.as_deref()).into(),
            V::from(status_code(t)),
            index_of(DEPTS, t.dept.as_deref()).into(),
            V::from(&t.priority),
            utc(t.dates[d::OPEN]),
            utc(t.dates[d::DUE]),
            V::Null,
            utc(t.wo_date[0]),
            self.person(t.responded_by.as_deref()).into(),
            utc(t.wo_date[1]),
            utc(t.dates[d::CLSD]),
            self.person(t.clsd_by.as_deref()).into(),
            t.wo_int1.into(),
            t.wo_num1.into(),
            V::from(&t.task),
            V::from(&t.descript),
        ];
        row.extend(t.wo_text.iter().map(V::from));
        self.tickets.insert(row)?;
        for n in notes {
            let text = match &n.text {
                None => V::Null,
                Some(Ok(s)) => V::T(s.clone()),
                Some(Err(b)) => V::B(b.clone()),
            };
            let ty = n.type_id.and_then(|i| self.note_types.get(&i).cloned());
            self.notes.insert(vec![
                V::I(n.id),
                n.woid.into(),
                ty.into(),
                text,
                utc(n.created),
                V::from(&n.created_by),
            ])?;
        }
        self.att.for_ticket(g, t, rng, sentinel, truth)
    }

    fn finish(&mut self, plan: &Plan, truth: &mut Truth) -> Result<(), GenError> {
        self.att.finish(plan, truth)
    }
}

/// Creates the two REAL views.
pub fn create_views(conn: &rusqlite::Connection, views: &[TableDef]) -> Result<(), GenError> {
    let q = |n: &str| format!("\"{S}.{n}\"");
    let ticket = format!(
        "SELECT t.SEQUENCE, t.OPENDATE, t.DUEDATE, t.CLOSEDATE, c.FNAME || ' ' || c.NAME, l.CODE, dp.CODE, \
         p.FNAME || ' ' || p.NAME, g.CODE, t.SUMMARY, t.ADDITIONALINFO, cat.CODE, cat.FULLPATH, t.PRIORITY, \
         CASE t.STATUS WHEN 'C' THEN 'Closed' WHEN 'X' THEN 'Canceled' ELSE 'Open' END \
         FROM {} t LEFT JOIN {} c ON c.SEQUENCE = t.SEQ_REQUESTOR LEFT JOIN {} l ON l.SEQUENCE = t.SEQ_LOCATION \
         LEFT JOIN {} dp ON dp.SEQUENCE = t.SEQ_DEPARTMENT LEFT JOIN {} p ON p.SEQUENCE = t.SEQ_ASSIGNEE \
         LEFT JOIN {} g ON g.SEQUENCE = t.SEQ_GROUP LEFT JOIN {} cat ON cat.SEQUENCE = t.SEQ_CATEGORY",
        q("_TELMASTE_"),
        q("_CUSTOMER_"),
        q("_LOCATION_"),
        q("_DEPARTMENT_"),
        q("_PERSONNEL_"),
        q("_GROUPS_"),
        q("_CATEGORY_"),
    );
    create_view(conn, find(views, "Ticket"), &ticket)?;
    let notes = format!(
        "SELECT n.SEQ_TELMASTE, n.NOTE, CASE WHEN n.NOTE IS NULL THEN 0 ELSE 1 END, n.NOTETYPE, n.LASTMODIFIED \
         FROM {} n",
        q("_NOTES_")
    );
    create_view(conn, find(views, "Ticket Notes"), &notes)
}
