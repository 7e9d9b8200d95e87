//! The `classic` writer: every work order of the plan, generated, classified for truth.json and inserted into
//! `dbo.TASKS`, `dbo.TaskNote` and `dbo.Attachments`.

use super::attachments::AttachState;
use super::ddl::{Inserter, V};
use super::dirty::dirty;
use super::lookups;
use super::modules::AssetNames;
use super::people::People;
use super::schema::Defs;
use super::text::cp1252_lossy;
use super::tickets::{Gen, Note, Plan, Ticket, d, dt};
use super::{Ctx, GenError, Truth, sentinels, sub_rng};
use chrono::Duration;
use rand_chacha::ChaCha8Rng;

/// Where generated work orders go: one implementation per profile.
pub trait Sink {
    /// Writes one work order with its notes (and, if the profile has them, attachments).
    ///
    /// # Errors
    /// SQLite or file-system failures.
    fn write(
        &mut self,
        g: &Gen,
        t: &Ticket,
        notes: &[Note],
        rng: &mut ChaCha8Rng,
        sentinel: bool,
        truth: &mut Truth,
    ) -> Result<(), GenError>;

    /// Called once after the last work order.
    ///
    /// # Errors
    /// SQLite or file-system failures.
    fn finish(&mut self, plan: &Plan, truth: &mut Truth) -> Result<(), GenError>;
}

/// Generates every work order of the plan (sentinels first, then regular tickets in WOID order), classifies it
/// for truth.json and hands it to `sink`. The logical data does not depend on the profile.
///
/// # Errors
/// Whatever the sink reports.
pub fn run_tickets(
    ctx: &Ctx,
    people: &People,
    assets: &AssetNames,
    truth: &mut Truth,
    sink: &mut dyn Sink,
) -> Result<(), GenError> {
    let plan = Plan::new(ctx);
    let g = Gen {
        ctx,
        people,
        assets,
        plan: &plan,
        statuses: lookups::statuses(ctx),
        types: lookups::types(ctx),
    };
    let mut classifier = truth.classifier(&g);
    let mut next_note = 1;
    let cp = ctx.cp1252();
    let n_regular = plan.regular.len().max(1) as f64;
    let all = plan
        .sentinels
        .iter()
        .map(|&w| (w, None))
        .chain(plan.regular.iter().enumerate().map(|(i, &w)| (w, Some(i))));
    for (woid, idx) in all {
        let mut rng = sub_rng(ctx.seed, "ticket", woid as u64);
        let frac = idx.map_or(0.5 + woid as f64 / 400.0, |i| (i as f64 + 0.5) / n_regular);
        let mut t = g.base(woid, frac, &mut rng);
        if idx.is_some() {
            dirty(&g, &mut t, frac, &mut rng);
        } else {
            sentinels::apply_ticket(&g, &mut t, &mut rng);
        }
        t.fit(cp);
        let mut notes = g.notes(&t, &mut rng, &mut next_note, idx.is_some());
        if idx.is_none() {
            sentinels::apply_notes(&g, &t, &mut notes, &mut next_note);
        }
        let last = notes.iter().filter_map(|n| n.created).max();
        t.dates[d::MODI] = [last, t.dates[d::CLSD], t.dates[d::OPEN]]
            .into_iter()
            .flatten()
            .max();
        if t.modi_before_req {
            t.dates[d::MODI] = t.dates[d::REQ].map(|r| r - Duration::days(2));
        }
        classifier.ticket(&t, truth);
        for n in &notes {
            classifier.note(n, truth);
        }
        sink.write(&g, &t, &notes, &mut rng, idx.is_none(), truth)?;
    }
    sink.finish(&plan, truth)?;
    classifier.finish(truth);
    Ok(())
}

/// The classic sink: `dbo.TASKS`, `dbo.TaskNote`, `dbo.Attachments` (and attachment files).
pub struct ClassicSink<'c> {
    tasks: Inserter<'c>,
    notes: Inserter<'c>,
    att: AttachState<'c>,
    cp: bool,
}

impl<'c> ClassicSink<'c> {
    /// Prepares the inserts.
    ///
    /// # Errors
    /// SQLite or file-system failures.
    pub fn new(conn: &'c rusqlite::Connection, ctx: &Ctx, defs: &Defs) -> Result<Self, GenError> {
        Ok(Self {
            tasks: Inserter::new(conn, &defs.tasks)?,
            notes: Inserter::new(conn, &defs.task_note)?,
            att: AttachState::new(conn, ctx, defs)?,
            cp: ctx.cp1252(),
        })
    }
}

impl Sink for ClassicSink<'_> {
    fn write(
        &mut self,
        g: &Gen,
        t: &Ticket,
        notes: &[Note],
        rng: &mut ChaCha8Rng,
        sentinel: bool,
        truth: &mut Truth,
    ) -> Result<(), GenError> {
        self.tasks.insert(t.row())?;
        for n in notes {
            self.notes.insert(note_row(n, self.cp))?;
        }
        self.att.for_ticket(g, t, rng, sentinel, truth)
    }

    fn finish(&mut self, plan: &Plan, truth: &mut Truth) -> Result<(), GenError> {
        self.att.finish(plan, truth)
    }
}

fn note_row(n: &Note, cp: bool) -> Vec<V> {
    let text = match &n.text {
        None => V::Null,
        Some(Ok(s)) => V::T(if cp {
            cp1252_lossy(s).unwrap_or_else(|| s.clone())
        } else {
            s.clone()
        }),
        Some(Err(b)) => V::B(b.clone()),
    };
    vec![
        V::I(n.id),
        n.woid.into(),
        V::from(n.created.map(dt)),
        V::from(n.modified.map(dt)),
        V::from(&n.created_by),
        text,
        n.type_id.into(),
        n.category_id.into(),
        n.private.into(),
        V::from(&n.activity),
    ]
}
