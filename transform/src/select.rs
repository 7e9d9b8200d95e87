//! Which tickets migrate (cut-off date, then `--sample`), and what each selected ticket's conversation needs
//! besides its rows: the requestor contact (or an unknown-requestor contact), the status and whether it closes
//! the conversation, and a valid parent. Problems found on the way go to the ledger (dropped rows, counters,
//! `hierarchy_issues`).

use crate::companies::UnknownRequestor;
use crate::ctx::Ctx;
use crate::model::Ticket;
use crate::people::{Match, normalise_name, slug};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The tickets that migrate, in id order: those opened on or after the mapping's `cutoff_date` (when set), the
/// first `sample` of them when sampling. The others are dropped in the ledger with the reason.
pub fn select<'t>(
    ctx: &Ctx,
    tickets: &'t [Ticket],
    ticket_table: &str,
    sample: Option<u64>,
) -> Vec<&'t Ticket> {
    let l = &ctx.ledger;
    let cutoff = chrono::NaiveDate::parse_from_str(&ctx.mapping.cutoff_date, "%Y-%m-%d").ok();
    let mut selected: Vec<&Ticket> = Vec::new();
    for t in tickets {
        if let Some(c) = cutoff {
            let opened = ctx.unix(&t.opened).or_else(|| ctx.unix(&t.requested));
            let limit = c
                .and_hms_opt(0, 0, 0)
                .map(|d| ctx.clock.local_to_unix(&d))
                .unwrap_or(0);
            if opened.is_none_or(|o| o < limit) {
                l.drop_row("ticket", ticket_table, &t.pk, "opened before cutoff_date");
                continue;
            }
        }
        if let Some(n) = sample
            && selected.len() as u64 >= n
        {
            l.drop_row("ticket", ticket_table, &t.pk, "not in sample");
            continue;
        }
        selected.push(t);
    }
    selected
}

/// What the selected tickets' conversations need, and what the companies and gap files need from them.
#[derive(Default)]
pub struct Resolved {
    /// Per selected ticket, in the same order (stream.rs [`crate::stream::Inputs`]).
    pub inputs: Vec<crate::stream::Inputs>,
    /// Requestors that matched no contact, by contact key.
    pub unknown: BTreeMap<String, UnknownRequestor>,
    /// Selected parent id → its selected children (id, opened).
    pub children: HashMap<i64, Vec<(i64, Option<i64>)>>,
    /// Status name → "open" or "closed", for every status seen.
    pub statuses: BTreeMap<String, String>,
}

/// Resolves requestor, status and parent of every selected ticket. `all` holds every ticket id of the source
/// (a parent outside it does not exist), `status_lookup` the status names by id.
pub fn resolve(
    ctx: &Ctx,
    selected: &[&Ticket],
    all: &HashSet<i64>,
    status_lookup: &HashMap<i64, String>,
) -> Resolved {
    let l = &ctx.ledger;
    let selected_ids: HashSet<i64> = selected.iter().map(|t| t.id).collect();
    let mut out = Resolved::default();
    // Requestor matching normalises names and emails: done in parallel, used in ticket order below.
    let matches: Vec<Match> = {
        use rayon::prelude::*;
        selected
            .par_iter()
            .map(|t| {
                ctx.people.match_requestor(
                    t.requestor.as_deref(),
                    t.requestor_email.as_deref(),
                    ctx.lowercase_local,
                )
            })
            .collect()
    };
    for (t, matched) in selected.iter().zip(matches) {
        let contact = contact(ctx, t, matched, &mut out.unknown);
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
                l.list("unmapped_status", vec![name.clone()]);
                false
            }
        };
        out.statuses
            .insert(name.clone(), if closed { "closed" } else { "open" }.into());
        let parent = match t.parent {
            Some(p) if p == t.id => {
                l.list(
                    "hierarchy_issues",
                    vec![t.id.to_string(), p.to_string(), "self-parented".into()],
                );
                None
            }
            Some(p) if !all.contains(&p) => {
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
                    out.children
                        .entry(p)
                        .or_default()
                        .push((t.id, ctx.unix(&t.opened)));
                }
                Some(p)
            }
            None => None,
        };
        out.inputs.push((contact, (name, closed), parent));
    }
    out
}

/// The contact key of a ticket's requestor: the matched person's, or an unknown-requestor contact made from the
/// free-text name (counted in `unknown`).
fn contact(
    ctx: &Ctx,
    t: &Ticket,
    matched: Match,
    unknown: &mut BTreeMap<String, UnknownRequestor>,
) -> String {
    match matched {
        Match::One(id) | Match::Ambiguous(id, _) if ctx.contact_keys.contains_key(&id) => {
            if let Match::Ambiguous(..) = matched {
                ctx.ledger.count("ambiguous_requestor_names", 1);
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
    }
}
