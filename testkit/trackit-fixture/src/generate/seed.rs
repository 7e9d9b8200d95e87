//! The `seed` profile: the seed document's invented HD* names (SEED/PLACEHOLDER, no real evidence), kept only
//! for mappings that already use them. Work orders go to `dbo.HDTickets`, notes to `dbo.HDTicketNotes`, with
//! the column names of `transform/profiles/seed.toml`; every other module uses the same `dbo` tables as
//! `classic`. Same logical data as `classic` with the same `--text` mode; times are local.

use super::GenError;
use super::attachments::AttachState;
use super::classic::Sink;
use super::ddl::{ColDef, Inserter, TableDef, V, col, pk};
use super::lookups;
use super::schema::Defs;
use super::tickets::{Gen, Note, Plan, Ticket, d, dt};
use super::{Ctx, Truth};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// `dbo.HDTickets` and `dbo.HDTicketNotes` (text types follow `--text`).
pub fn defs(ctx: &Ctx) -> Vec<TableDef> {
    let w = |ty: &str| {
        if ctx.cp1252() {
            ty.to_string()
        } else {
            super::ddl::widen_type(ty)
        }
    };
    let c = |name: &str, ty: &str| -> ColDef { col(name, &w(ty)) };
    vec![
        TableDef::new(
            "dbo",
            "HDTickets",
            vec![
                pk("TicketId", "int", 1),
                col("ParentTicketId", "int"),
                c("Summary", "varchar(100)"),
                c("Description", "text"),
                c("Resolution", "text"),
                c("RequestorName", "varchar(50)"),
                c("TechnicianName", "varchar(30)"),
                c("Department", "varchar(30)"),
                c("Location", "varchar(50)"),
                c("Priority", "varchar(50)"),
                c("Category", "varchar(30)"),
                c("Status", "varchar(25)"),
                col("OpenedAt", "datetime"),
                col("DueAt", "datetime"),
                col("ClosedAt", "datetime"),
                c("AssetName", "varchar(50)"),
            ],
        ),
        TableDef::new(
            "dbo",
            "HDTicketNotes",
            vec![
                pk("NoteId", "int", 1),
                col("TicketId", "int"),
                col("CreatedAt", "datetime"),
                c("CreatedBy", "varchar(50)"),
                c("NoteText", "text"),
                c("NoteType", "varchar(100)"),
                col("IsPrivate", "bit"),
            ],
        ),
    ]
}

/// Writes HDTickets, HDTicketNotes and Attachments.
pub struct SeedSink<'c> {
    tickets: Inserter<'c>,
    notes: Inserter<'c>,
    att: AttachState<'c>,
    note_types: HashMap<i64, String>,
}

impl<'c> SeedSink<'c> {
    /// Prepares the inserts.
    ///
    /// # Errors
    /// SQLite or file-system failures.
    pub fn new(
        conn: &'c rusqlite::Connection,
        ctx: &Ctx,
        defs: &Defs,
        seed: &[TableDef],
    ) -> Result<Self, GenError> {
        Ok(Self {
            tickets: Inserter::new(conn, &seed[0])?,
            notes: Inserter::new(conn, &seed[1])?,
            att: AttachState::new(conn, ctx, defs)?,
            note_types: lookups::note_type_rows(ctx).into_iter().collect(),
        })
    }
}

impl Sink for SeedSink<'_> {
    fn write(
        &mut self,
        g: &Gen,
        t: &Ticket,
        notes: &[Note],
        rng: &mut ChaCha8Rng,
        sentinel: bool,
        truth: &mut Truth,
    ) -> Result<(), GenError> {
        self.tickets.insert(vec![
            V::I(t.woid),
            t.parent.into(),
            V::from(&t.task),
            V::from(&t.descript),
            V::from(&t.note),
            V::from(&t.request),
            V::from(&t.respons),
            V::from(&t.dept),
            V::from(&t.location),
            V::from(&t.priority),
            V::from(&t.wo_type),
            V::from(&t.status),
            V::from(t.dates[d::OPEN].map(dt)),
            V::from(t.dates[d::DUE].map(dt)),
            V::from(t.dates[d::CLSD].map(dt)),
            V::from(&t.assetname),
        ])?;
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
                V::from(n.created.map(dt)),
                V::from(&n.created_by),
                text,
                ty.into(),
                n.private.into(),
            ])?;
        }
        self.att.for_ticket(g, t, rng, sentinel, truth)
    }

    fn finish(&mut self, plan: &Plan, truth: &mut Truth) -> Result<(), GenError> {
        self.att.finish(plan, truth)
    }
}
