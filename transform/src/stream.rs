//! The per-ticket rows (notes, ticket history, attachments) streamed through ticket windows
//! ([`crate::windows`]): read once in source order, routed to their ticket's window file (or dropped with a
//! reason), then conversations are built window by window in parallel (rayon), each window's rows freed before
//! the next is read.

use crate::attachments::ShareIndex;
use crate::conversations::{TicketInputs, build};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::model::{Attachment, Note, Row, Ticket, each_par};
use crate::profile::Profile;
use crate::source::SourceTables;
use crate::windows::{WindowFiles, WindowRow, Windows};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What the conversation of a selected ticket needs besides its rows: requestor contact key, (status name,
/// closes it), valid parent id.
pub type Inputs = (String, (String, bool), Option<i64>);

/// Physical table names of the streamed objects.
pub struct Tables {
    /// Notes.
    pub note: String,
    /// Ticket history.
    pub history: String,
    /// Attachments.
    pub attachment: String,
}

/// Rows read per streamed object.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Notes.
    pub notes: u64,
    /// Ticket history rows.
    pub history: u64,
    /// Attachments.
    pub attachments: u64,
}

/// The routed rows, one file per window.
pub struct Routed {
    notes: WindowFiles,
    attachments: WindowFiles,
    /// Rows read.
    pub counts: Counts,
}

/// A note row.
pub fn note_row(r: &Row<'_, '_>, note_types: &HashMap<i64, String>) -> Note {
    let type_id = r.int("type_id");
    let pk = r.pk();
    Note {
        table: String::new(),
        seq: pk.parse().unwrap_or(0),
        pk,
        ticket: r.int("ticket"),
        created: r.time("created"),
        author: r.text("author"),
        text: r.text("text"),
        type_name: r
            .text("type_name")
            .or_else(|| type_id.and_then(|i| note_types.get(&i).cloned())),
        type_id,
        private: r.bool("private"),
        history: false,
    }
}

/// A ticket history row, as an internal note `field: old → new`.
pub fn history_row(r: &Row<'_, '_>) -> Note {
    let pk = r.pk();
    Note {
        table: String::new(),
        seq: pk.parse().unwrap_or(0),
        pk,
        ticket: r.int("ticket"),
        created: r.time("created"),
        author: r.text("author"),
        text: Some(format!(
            "{} → {}",
            r.text("old").unwrap_or_default(),
            r.text("new").unwrap_or_default()
        )),
        type_name: r.text("field"),
        type_id: None,
        private: Some(true),
        history: true,
    }
}

/// An attachment row.
pub fn attachment_row(r: &Row<'_, '_>) -> Attachment {
    let pk = r.pk();
    Attachment {
        id: pk.parse().unwrap_or(0),
        pk,
        ticket: r.int("ticket"),
        name: r.text("name").unwrap_or_default(),
        path: r.text("path"),
        size: r.int("size"),
        author: r.text("author"),
        created: r.time("created"),
        content: r.cell("content"),
    }
}

/// Who gets a row: the ticket's window, or a drop reason.
struct Router<'a> {
    windows: &'a Windows,
    selected: &'a HashSet<i64>,
    all: &'a HashSet<i64>,
}

impl Router<'_> {
    fn route(&self, ticket: Option<i64>) -> std::result::Result<usize, &'static str> {
        match ticket {
            Some(t) if self.selected.contains(&t) => Ok(self.windows.of(t)),
            Some(t) if self.all.contains(&t) => {
                Err("its ticket is not migrated (cut-off or sample)")
            }
            _ => Err("its ticket does not exist"),
        }
    }
}

/// Reads notes, history rows and attachments once and routes each to its ticket's window file; rows of tickets
/// that are not selected (or do not exist) are dropped in the ledger with the reason.
///
/// # Errors
/// Parquet read failures; window file failures (naming the file, which is in `staging`).
#[allow(clippy::too_many_arguments)]
pub fn route(
    source: &SourceTables,
    profile: &Profile,
    ctx: &Ctx,
    tables: &Tables,
    windows: &Windows,
    (selected, all): (&HashSet<i64>, &HashSet<i64>),
    note_types: &HashMap<i64, String>,
    staging: &Path,
) -> Result<Routed> {
    let router = Router {
        windows,
        selected,
        all,
    };
    let l = &ctx.ledger;
    let mut notes = WindowFiles::create(staging, windows.len(), "notes")?;
    let mut attachments = WindowFiles::create(staging, windows.len(), "attachments")?;
    let put = |files: &mut WindowFiles,
               object: &str,
               table: &str,
               ticket: Option<i64>,
               pk: &str,
               row: &dyn Fn(&mut WindowFiles, usize) -> Result<()>|
     -> Result<()> {
        match router.route(ticket) {
            Ok(w) => row(files, w),
            Err(reason) => {
                l.drop_row(object, table, pk, reason);
                Ok(())
            }
        }
    };
    let notes_read = each_par(
        source,
        profile,
        "note",
        |r| note_row(r, note_types),
        |n| {
            put(
                &mut notes,
                "note",
                &tables.note,
                n.ticket,
                &n.pk,
                &|f, w| f.push(w, &n),
            )
        },
    )?;
    let history_read = each_par(source, profile, "ticket_history", history_row, |n| {
        put(
            &mut notes,
            "ticket_history",
            &tables.history,
            n.ticket,
            &n.pk,
            &|f, w| f.push(w, &n),
        )
    })?;
    let attachments_read = each_par(source, profile, "attachment", attachment_row, |a| {
        put(
            &mut attachments,
            "attachment",
            &tables.attachment,
            a.ticket,
            &a.pk,
            &|f, w| f.push(w, &a),
        )
    })?;
    Ok(Routed {
        notes,
        attachments,
        counts: Counts {
            notes: notes_read,
            history: history_read,
            attachments: attachments_read,
        },
    })
}

fn group<T: WindowRow>(rows: Vec<T>, ticket: impl Fn(&T) -> Option<i64>) -> HashMap<i64, Vec<T>> {
    let mut by: HashMap<i64, Vec<T>> = HashMap::new();
    for r in rows {
        if let Some(t) = ticket(&r) {
            by.entry(t).or_default().push(r);
        }
    }
    by
}

/// Notes (with their table) and attachments of window `w`, grouped by ticket.
type WindowRows = (HashMap<i64, Vec<Note>>, HashMap<i64, Vec<Attachment>>);

fn read_window(routed: &mut Routed, tables: &Tables, w: usize) -> Result<WindowRows> {
    let mut notes: Vec<Note> = routed.notes.take(w)?;
    for n in &mut notes {
        n.table = if n.history {
            tables.history.clone()
        } else {
            tables.note.clone()
        };
    }
    let atts: Vec<Attachment> = routed.attachments.take(w)?;
    Ok((group(notes, |n| n.ticket), group(atts, |a| a.ticket)))
}

/// Builds the conversations of the selected tickets (sorted by id, `inputs` aligned with them), one window at
/// a time: the window's rows are read back, grouped by ticket and the conversations built in parallel.
///
/// # Errors
/// Window file failures.
#[allow(clippy::too_many_arguments)]
pub fn build_windows(
    ctx: &Ctx,
    source: &SourceTables,
    share: &ShareIndex,
    texts: &crate::windows::TextSpill,
    tables: &Tables,
    windows: &Windows,
    mut routed: Routed,
    selected: &[&Ticket],
    inputs: Vec<Inputs>,
    children: &HashMap<i64, Vec<(i64, Option<i64>)>>,
) -> Result<()> {
    let empty_children = Vec::new();
    let mut inputs = inputs.into_iter();
    // The next window's rows are read back while this window's conversations are built.
    let mut next = if windows.is_empty() {
        None
    } else {
        Some(read_window(&mut routed, tables, 0)?)
    };
    for w in 0..windows.len() {
        let Some((mut notes_by, mut atts_by)) = next.take() else {
            break;
        };
        let range = windows.range(w);
        let work: Vec<_> = selected[range.clone()]
            .iter()
            .zip(inputs.by_ref().take(range.len()))
            .map(|(t, input)| {
                let notes = notes_by.remove(&t.id).unwrap_or_default();
                let atts = atts_by.remove(&t.id).unwrap_or_default();
                (*t, notes, atts, input)
            })
            .collect();
        drop(notes_by);
        drop(atts_by);
        let build_all = || {
            work.into_par_iter()
                .try_for_each(|(t, mut ns, atts, (contact, status, parent))| {
                    let full = texts.restore(t)?;
                    let t = &full;
                    ns.sort_by_key(|n| (n.history, n.seq));
                    let input = TicketInputs {
                        notes: &ns,
                        attachments: &atts,
                        children: children
                            .get(&t.id)
                            .map(Vec::as_slice)
                            .unwrap_or(&empty_children),
                        contact,
                        status,
                        parent,
                    };
                    build(ctx, source, share, t, &input);
                    ctx.ledger.migrated("ticket", 1);
                    Ok(())
                })
        };
        let read_next = || {
            (w + 1 < windows.len())
                .then(|| read_window(&mut routed, tables, w + 1))
                .transpose()
        };
        let (built, read): (Result<()>, _) = rayon::join(build_all, read_next);
        built?;
        next = read?;
    }
    Ok(())
}
