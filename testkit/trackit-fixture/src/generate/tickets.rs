//! Work orders (`dbo.TASKS`) and their notes (`dbo.TaskNote`), trackit-fixture.md §2.1–2.2, with the
//! ticket-level dirty data of §4 at its stated rates. Sentinel work orders (WOID 1–99) are built by
//! `sentinels.rs` on top of an ordinary ticket.

use super::ddl::{V, fitted};
use super::lookups::{self, CLOSED_IDS, note_types};
use super::modules::AssetNames;
use super::people::People;
use super::text::{self, cp1252_lossy};
use super::{Ctx, sentinels, sub_rng};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// The last moment of generated activity (fixed, so output never depends on the clock).
pub fn end() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 6, 28)
        .and_then(|d| d.and_hms_opt(17, 30, 0))
        .unwrap_or_default()
}

/// Seconds covered by the tickets (3 years for 10k tickets, 12 for 100k).
pub fn span_secs(ctx: &Ctx) -> i64 {
    (ctx.scale.years * 365.25 * 86_400.0) as i64
}

/// The first moment of generated activity.
pub fn epoch(ctx: &Ctx) -> NaiveDateTime {
    end() - Duration::seconds(span_secs(ctx))
}

/// A fixed date-time.
pub fn ymd(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(h, mi, s))
        .unwrap_or_default()
}

/// Formats a datetime as FORMAT.md stores it: `YYYY-MM-DD HH:MM:SS[.fff]`.
pub fn dt(t: NaiveDateTime) -> String {
    let ms = t.and_utc().timestamp_subsec_millis();
    if ms == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        format!("{}.{ms:03}", t.format("%Y-%m-%d %H:%M:%S"))
    }
}

/// One work order, values as stored in `dbo.TASKS` (after [`Ticket::fit`]).
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct Ticket {
    pub woid: i64,
    pub wo_num: i64,
    pub parent: Option<i64>,
    pub task: Option<String>,
    pub descript: Option<String>,
    pub note: Option<String>,
    pub request: Option<String>,
    pub respons: Option<String>,
    pub responded_by: Option<String>,
    pub clsd_by: Option<String>,
    pub dept: Option<String>,
    pub priority: Option<String>,
    pub wo_type: Option<String>,
    pub wo_type2: Option<String>,
    pub wo_type3: Option<String>,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub status: Option<String>,
    /// REQDATE, OPENDATE, DUEDATE, MODIDATE, ASSNDATE, RESPONSEDATE, RESPONDEDDATE, CLSDDATE, COMPLETED.
    pub dates: [Option<NaiveDateTime>; 9],
    pub elapsetime: Option<String>,
    pub elapsemin: Option<i64>,
    pub hours: Option<f64>,
    /// LOOKUP1, LOOKUP2, TaskLookup3..8.
    pub lookups: [Option<String>; 8],
    pub wo_text: [Option<String>; 6],
    pub wo_num1: Option<f64>,
    pub wo_int1: Option<i64>,
    pub wo_date: [Option<NaiveDateTime>; 6],
    pub location: Option<String>,
    pub assetname: Option<String>,
    pub memo: Option<String>,
    pub costcenter: Option<String>,
    /// Set MODIDATE two days before REQDATE once notes are known (dirty case).
    pub modi_before_req: bool,
    /// Dirty-data kinds recorded when they were made (those not visible from the row alone).
    pub kinds: Vec<&'static str>,
}

/// Indices into [`Ticket::dates`].
#[allow(missing_docs)]
pub mod d {
    pub const REQ: usize = 0;
    pub const OPEN: usize = 1;
    pub const DUE: usize = 2;
    pub const MODI: usize = 3;
    pub const ASSN: usize = 4;
    pub const RESPONSE: usize = 5;
    pub const RESPONDED: usize = 6;
    pub const CLSD: usize = 7;
    pub const COMPLETED: usize = 8;
}

/// One TaskNote row.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct Note {
    pub id: i64,
    pub woid: Option<i64>,
    pub created: Option<NaiveDateTime>,
    pub modified: Option<NaiveDateTime>,
    pub created_by: Option<String>,
    /// NoteText; `Err(bytes)` = raw UTF-16LE bytes stored as BLOB (lone surrogate, ntext mode only).
    pub text: Option<Result<String, Vec<u8>>>,
    pub type_id: Option<i64>,
    pub category_id: Option<i64>,
    pub private: Option<bool>,
    pub activity: Option<String>,
}

fn fit_opt(v: &mut Option<String>, max: usize, cp: bool) {
    if let Some(s) = v {
        *s = fitted(s, max, cp);
    }
}

impl Ticket {
    /// Fits every text value to its classic column (width, Windows-1252 loss in varchar mode).
    pub fn fit(&mut self, cp: bool) {
        for (v, w) in [
            (&mut self.task, 100),
            (&mut self.request, 50),
            (&mut self.respons, 30),
            (&mut self.responded_by, 30),
            (&mut self.clsd_by, 30),
            (&mut self.dept, 30),
            (&mut self.priority, 50),
            (&mut self.wo_type, 30),
            (&mut self.wo_type2, 30),
            (&mut self.wo_type3, 30),
            (&mut self.status, 25),
            (&mut self.elapsetime, 20),
            (&mut self.location, 50),
            (&mut self.assetname, 50),
        ] {
            fit_opt(v, w, cp);
        }
        for v in &mut self.lookups {
            fit_opt(v, 50, cp);
        }
        for v in &mut self.wo_text {
            fit_opt(v, 40, cp);
        }
        fit_opt(&mut self.costcenter, 20, false);
        for body in [&mut self.descript, &mut self.note, &mut self.memo] {
            if let (Some(s), true) = (body.as_mut(), cp)
                && let Some(l) = cp1252_lossy(s)
            {
                *s = l;
            }
        }
    }

    /// True when the status id is Closed or Completed.
    pub fn is_closed(&self) -> bool {
        self.status_id.is_some_and(|s| CLOSED_IDS.contains(&s))
            || (self.status_id.is_none()
                && matches!(self.status.as_deref(), Some("Closed" | "Completed")))
    }

    /// The `dbo.TASKS` row, values in column order.
    pub fn row(&self) -> Vec<V> {
        let mut r: Vec<V> = vec![
            V::I(self.woid),
            V::I(self.wo_num),
            self.parent.into(),
            V::from(&self.task),
            V::from(&self.descript),
            V::from(&self.note),
            V::from(&self.request),
            V::from(&self.respons),
            V::from(&self.responded_by),
            V::from(&self.clsd_by),
            V::from(&self.dept),
            V::from(&self.priority),
            V::from(&self.wo_type),
            V::from(&self.wo_type2),
            V::from(&self.wo_type3),
            self.type_id.into(),
            self.status_id.into(),
            V::from(&self.status),
        ];
        r.extend(self.dates.iter().map(|t| V::from(t.map(dt))));
        r.push(V::from(&self.elapsetime));
        r.push(self.elapsemin.into());
        r.push(self.hours.into());
        r.extend(self.lookups.iter().map(V::from));
        r.extend(self.wo_text.iter().map(V::from));
        r.push(self.wo_num1.into());
        r.push(self.wo_int1.into());
        r.extend(self.wo_date.iter().map(|t| V::from(t.map(dt))));
        r.push(V::from(&self.location));
        r.push(V::from(&self.assetname));
        r.push(V::from(&self.memo));
        r.push(V::from(&self.costcenter));
        r
    }
}

/// WOIDs of one database: sentinels, regular tickets and the gaps between them.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Sentinel WOIDs present (subset of 1–99).
    pub sentinels: Vec<i64>,
    /// Regular WOIDs, ascending, from 100.
    pub regular: Vec<i64>,
    /// WOIDs ≥ 100 skipped (deleted tickets), plus the reserved missing WOID 98.
    pub gaps: Vec<i64>,
    exists: Vec<bool>,
}

impl Plan {
    /// The WOIDs for `ctx`: every sentinel, then regular tickets from 100 with about 1% gaps, N rows in all.
    pub fn new(ctx: &Ctx) -> Self {
        let sentinels = sentinels::present(ctx);
        let want = ctx.scale.tickets as usize - sentinels.len();
        let mut rng = sub_rng(ctx.seed, "gaps", 0);
        let mut regular = Vec::with_capacity(want);
        let mut gaps = vec![sentinels::MISSING_WOID];
        let mut w = 100;
        while regular.len() < want {
            if rng.random_bool(0.01) {
                gaps.push(w);
            } else {
                regular.push(w);
            }
            w += 1;
        }
        let mut exists = vec![false; w as usize + 1];
        for &s in sentinels.iter().chain(&regular) {
            exists[s as usize] = true;
        }
        Self {
            sentinels,
            regular,
            gaps,
            exists,
        }
    }

    /// True when a TASKS row has this WOID.
    pub fn exists(&self, woid: i64) -> bool {
        usize::try_from(woid)
            .ok()
            .and_then(|i| self.exists.get(i))
            .copied()
            .unwrap_or(false)
    }
}

/// Shared inputs of ticket generation.
pub struct Gen<'a> {
    /// Run context.
    pub ctx: &'a Ctx,
    /// People.
    pub people: &'a People,
    /// Asset names.
    pub assets: &'a AssetNames,
    /// WOIDs.
    pub plan: &'a Plan,
    /// Status rows.
    pub statuses: Vec<(i64, String, bool)>,
    /// Type rows.
    pub types: Vec<(i64, String)>,
}

impl Gen<'_> {
    /// A technician's UserId-index pick: anyone but the disabled technician and the bot.
    pub fn tech(&self, rng: &mut ChaCha8Rng) -> usize {
        let techs = &self.people.techs;
        loop {
            let i = techs[rng.random_range(0..techs.len())];
            if self.people.persons[i].is_active
                && self.people.persons[i].id != super::people::ids::BOT
            {
                return i;
            }
        }
    }

    /// A requestor pick, skewed so that some people file many tickets.
    pub fn requestor(&self, rng: &mut ChaCha8Rng) -> usize {
        let r = &self.people.requestors;
        let u: f64 = rng.random();
        r[((u * u * r.len() as f64) as usize).min(r.len() - 1)]
    }

    fn status_name(&self, id: i64) -> Option<String> {
        self.statuses
            .iter()
            .find(|s| s.0 == id)
            .map(|s| s.1.clone())
    }

    /// An ordinary ticket at position `frac` (0..1) of the timeline.
    pub fn base(&self, woid: i64, frac: f64, rng: &mut ChaCha8Rng) -> Ticket {
        let ctx = self.ctx;
        let span = span_secs(ctx) as f64;
        let mut open =
            epoch(ctx) + Duration::seconds((span * (0.3 * frac + 0.7 * frac.sqrt())) as i64);
        open += Duration::seconds(rng.random_range(0..3600));
        let closed = rng.random_bool(0.9);
        let status_id = if closed {
            if rng.random_bool(0.78) { 2 } else { 3 }
        } else if rng.random_bool(0.6) || self.statuses.len() <= 3 {
            1
        } else {
            self.statuses[rng.random_range(3..self.statuses.len())].0
        };
        let req = &self.people.persons[self.requestor(rng)];
        let tech = &self.people.persons[self.tech(rng)];
        let (ti, (type_id, type_name)) = {
            let i = rng.random_range(0..self.types.len());
            (i, self.types[i].clone())
        };
        let _ = ti;
        let lines = rng.random_range(1..5);
        let mut t = Ticket {
            woid,
            wo_num: woid,
            task: Some(text::subject(rng)),
            descript: Some(text::plain_crlf(rng, lines)),
            request: Some(req.full_name.clone()),
            respons: Some(if rng.random_bool(0.8) {
                tech.full_name.clone()
            } else {
                tech.login.clone()
            }),
            dept: Some(req.dept.clone()),
            priority: Some(
                ["Low", "Medium", "High", "Urgent"][[0, 1, 1, 1, 2, 2, 3][rng.random_range(0..7)]]
                    .into(),
            ),
            wo_type2: lookups::subtypes(&type_name)
                .choose(rng)
                .map(|s| s.to_string())
                .filter(|_| rng.random_bool(0.85)),
            wo_type3: rng.random_bool(0.3).then(|| {
                lookups::WOTYPE3
                    .choose(rng)
                    .copied()
                    .unwrap_or("Other")
                    .into()
            }),
            wo_type: Some(type_name),
            type_id: Some(type_id),
            status_id: Some(status_id),
            status: self.status_name(status_id),
            location: Some(req.location.clone()),
            ..Default::default()
        };
        t.dates[d::REQ] = Some(open - Duration::seconds(rng.random_range(0..1800)));
        t.dates[d::OPEN] = Some(open);
        t.dates[d::DUE] = Some(open + Duration::days(3));
        t.dates[d::ASSN] = Some(open + Duration::minutes(rng.random_range(1..120)));
        t.dates[d::RESPONSE] = Some(open + Duration::hours(4));
        t.dates[d::RESPONDED] = Some(open + Duration::minutes(rng.random_range(5..600)));
        t.responded_by = Some(tech.login.clone());
        if closed {
            let close = open + Duration::minutes(rng.random_range(30..30 * 1440));
            t.dates[d::CLSD] = Some(close);
            t.dates[d::COMPLETED] = Some(close);
            t.clsd_by = Some(tech.full_name.clone());
            let mins = (close - open).num_minutes();
            t.elapsetime = Some(format!(
                "{}d {:02}:{:02}",
                mins / 1440,
                (mins % 1440) / 60,
                mins % 60
            ));
            t.elapsemin = Some(mins);
            t.hours = Some(f64::from(rng.random_range(1..40u8)) * 0.25);
            t.note = Some(format!("Resolved: {}", text::plain_crlf(rng, 1)));
        }
        t.lookups[0] = rng
            .random_bool(0.7)
            .then(|| ["Phone", "Email", "Walk-in", "Web Portal"][rng.random_range(0..4)].into());
        t.lookups[1] = rng
            .random_bool(0.5)
            .then(|| ["Tier 1", "Tier 2", "Tier 3"][rng.random_range(0..3)].into());
        t.lookups[2] = rng
            .random_bool(0.3)
            .then(|| ["Building A", "Building B", "Annex"][rng.random_range(0..3)].into());
        for l in &mut t.lookups[3..] {
            *l = rng.random_bool(0.1).then(|| text::words(rng, 2));
        }
        t.wo_text[0] = rng.random_bool(0.1).then(|| text::words(rng, 2));
        for (i, v) in t.wo_text.iter_mut().enumerate().skip(1) {
            *v = rng
                .random_bool(0.1)
                .then(|| format!("PO-{}{:05}", i, rng.random_range(0..99_999)));
        }
        t.wo_num1 = rng
            .random_bool(0.1)
            .then(|| f64::from(rng.random_range(0..4000u16)) * 0.5);
        t.wo_int1 = rng.random_bool(0.1).then(|| rng.random_range(0..500));
        for v in &mut t.wo_date {
            *v = rng
                .random_bool(0.05)
                .then(|| open + Duration::days(rng.random_range(-30..60)));
        }
        if rng.random_bool(0.3) && !self.assets.names.is_empty() {
            t.assetname = self.assets.names.choose(rng).cloned();
        }
        t.memo = rng.random_bool(0.03).then(|| text::plain_crlf(rng, 1));
        t.costcenter = rng
            .random_bool(0.6)
            .then(|| format!("CC-{:04}", rng.random_range(1000..9999)));
        t
    }

    /// Notes of a ticket: usually an 'Incident Description' repeating DESCRIPT, then about three more.
    pub fn notes(
        &self,
        t: &Ticket,
        rng: &mut ChaCha8Rng,
        next_id: &mut i64,
        dirty: bool,
    ) -> Vec<Note> {
        let mut notes = Vec::new();
        let mut time =
            t.dates[d::OPEN].unwrap_or_else(end) + Duration::seconds(rng.random_range(0..120));
        let requestor = t.request.clone();
        let mut push = |notes: &mut Vec<Note>, n: Note| {
            notes.push(Note { id: *next_id, ..n });
            *next_id += 1;
        };
        if rng.random_bool(0.9) {
            let by = if rng.random_bool(0.5) {
                requestor.clone()
            } else {
                t.responded_by.clone()
            };
            push(
                &mut notes,
                note(
                    t.woid,
                    time,
                    by,
                    t.descript.clone(),
                    note_types::INCIDENT_DESCRIPTION,
                ),
            );
        }
        let mut extra = 0;
        while rng.random_bool(0.69) && extra < 30 {
            extra += 1;
        }
        for _ in 0..extra {
            time += Duration::minutes(rng.random_range(10..2 * 1440));
            let tech = &self.people.persons[self.tech(rng)];
            let (ty, by) = match rng.random_range(0..10) {
                0..=5 => (
                    note_types::TECHNICIAN,
                    if rng.random_bool(0.7) {
                        tech.login.clone()
                    } else {
                        tech.full_name.clone()
                    },
                ),
                6..=7 => (note_types::EMAIL, requestor.clone().unwrap_or_default()),
                8 => (note_types::STATUS_CHANGE, tech.login.clone()),
                _ => (note_types::PHONE, tech.login.clone()),
            };
            let body = text::note_body(rng, &by);
            let mut n = note(t.woid, time, Some(by), Some(body), ty);
            n.private = Some(ty == note_types::TECHNICIAN && rng.random_bool(0.25));
            n.activity = rng.random_bool(0.1).then(|| "Research".into());
            n.category_id = rng
                .random_bool(0.3)
                .then(|| rng.random_range(1..=self.ctx.scale.note_categories as i64));
            push(&mut notes, n);
        }
        if t.is_closed() {
            time += Duration::minutes(rng.random_range(1..60));
            push(
                &mut notes,
                note(
                    t.woid,
                    time,
                    t.clsd_by.clone(),
                    t.note.clone(),
                    note_types::RESOLUTION,
                ),
            );
        }
        // Dirty notes: missing type, unknown author, orphan.
        for n in notes.iter_mut().filter(|_| dirty) {
            if rng.random_bool(0.003) {
                n.type_id = Some(note_types::MISSING);
            }
            if rng.random_bool(0.02) {
                n.created_by = Some(
                    ["SYSTEM", "import_svc", "former.tech", "tt_admin_old"][rng.random_range(0..4)]
                        .into(),
                );
            }
            if rng.random_bool(0.005) {
                n.woid = self.plan.gaps[1.min(self.plan.gaps.len() - 1)..]
                    .choose(rng)
                    .copied();
            }
        }
        notes
    }
}

/// A note with the common fields set.
pub fn note(
    woid: i64,
    at: NaiveDateTime,
    by: Option<String>,
    text: Option<String>,
    ty: i64,
) -> Note {
    Note {
        woid: Some(woid),
        created: Some(at),
        modified: Some(at),
        created_by: by,
        text: text.map(Ok),
        type_id: Some(ty),
        private: Some(false),
        ..Default::default()
    }
}
