//! Tickets → conversations (docs/records.md "Conversation body").
//!
//! Rules:
//! - first message: plain text of the description, then `Resolution:` and the resolution; the summary when both
//!   are empty; `created_at` = open time, else request time, else the first note's time;
//! - parts: notes, ticket history rows (internal notes), attachment notes and the parent's list of child tickets,
//!   ordered by (timestamp, source sequence). A part older than the ticket is clamped to the ticket's start and
//!   listed (gaps/clamped_parts.csv); a part without time takes the ticket's start;
//! - at most 10 attachments per part, the rest in following notes; restricted, oversize and missing files are
//!   named in the part's text and listed (gaps/restricted_attachments.csv); `cid:` images of an HTML note become
//!   attachments of that note;
//! - more than `conversations.max_parts` parts: split into conversations of at most that many parts,
//!   `conversation:ticket:<id>:<n>` from n = 2, each `continued_from` the previous one.

use crate::attachments::{Fate, ShareIndex, resolve};
use crate::ctx::Ctx;
use crate::ledger::Lineage;
use crate::model::{Attachment, Note, Ticket};
use crate::source::SourceTables;
use crate::text::{Format, cid_refs, detect, to_html, to_plain};
use serde_json::{Value, json};
use ti_shared::records::RecordKind;

/// What a ticket needs besides its own row.
pub struct TicketInputs<'a> {
    /// Its notes and history rows.
    pub notes: &'a [Note],
    /// Its attachments.
    pub attachments: &'a [Attachment],
    /// Its child ticket ids with their open times.
    pub children: &'a [(i64, Option<i64>)],
    /// Contact key of the requestor.
    pub contact: String,
    /// Status name and whether it closes the ticket.
    pub status: (String, bool),
    /// Valid parent id (exists, not self).
    pub parent: Option<i64>,
}

struct Part {
    ts: i64,
    seq: (u8, i64, String),
    author_name: String,
    reply: Value,
    attachments: Vec<Value>,
    after: Vec<String>,
}

fn admin_note(ctx: &Ctx, author: Option<&str>, body: String, ts: i64) -> (Value, String) {
    let (admin, _) = ctx.admin_ref(author);
    (
        json!({"type": "admin", "message_type": "note", "admin_id": admin, "body": body, "created_at": ts,
               "skip_notifications": true}),
        author
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("Track-It!")
            .to_string(),
    )
}

/// Builds the conversation record(s) of one ticket.
pub fn build(
    ctx: &Ctx,
    source: &SourceTables,
    share: &ShareIndex,
    t: &Ticket,
    input: &TicketInputs<'_>,
) {
    let key = format!("conversation:ticket:{}", t.id);
    let table = ctx.table("ticket");
    let mut lineage = Lineage {
        sources: vec![format!("{table}:{}", t.pk)],
        rules: Vec::new(),
    };
    let created = ctx.unix(&t.opened).or_else(|| ctx.unix(&t.requested));
    let first_note_ts = input
        .notes
        .iter()
        .filter_map(|n| ctx.unix(&n.created))
        .min();
    let start = match (created, first_note_ts) {
        (Some(c), _) => c,
        (None, Some(n)) => {
            lineage
                .rules
                .push("no open or request time: created_at = first note's time".into());
            n
        }
        (None, None) => {
            lineage
                .rules
                .push("no time at all: created_at left to the load time".into());
            ctx.ledger.count("tickets_without_time", 1);
            0
        }
    };
    let description = t
        .description
        .as_deref()
        .map(|d| to_plain(d, &ctx.text))
        .unwrap_or_default();
    let resolution = t
        .resolution
        .as_deref()
        .map(|d| to_plain(d, &ctx.text))
        .unwrap_or_default();
    let mut first = description.clone();
    if !resolution.is_empty() {
        if !first.is_empty() {
            first.push_str("\n\n");
        }
        first.push_str("Resolution:\n");
        first.push_str(&resolution);
    }
    if first.is_empty() {
        first = t
            .summary
            .as_deref()
            .map(|s| to_plain(s, &ctx.text))
            .unwrap_or_default();
        lineage
            .rules
            .push("description and resolution empty: first message = summary".into());
    }
    if first.is_empty() {
        first = format!("(Track-It! ticket {} has no description)", t.id);
    }

    let mut parts: Vec<Part> = Vec::new();
    let mut used_attachments = std::collections::BTreeSet::new();
    let notes_table = ctx.table("note");
    for n in input.notes {
        lineage.sources.push(format!("{}:{}", n.table, n.pk));
        let object = if n.history { "ticket_history" } else { "note" };
        let raw = n.text.as_deref().unwrap_or("");
        let plain = to_plain(raw, &ctx.text);
        let kind = if n.history {
            "note".to_string()
        } else {
            let ty = n.type_name.as_deref().map(str::trim).unwrap_or("");
            if n.type_name.is_none() {
                ctx.ledger.count("notes_with_unknown_type", 1);
            }
            ctx.mapping.note_types.get(ty).cloned().unwrap_or_else(|| {
                if n.type_name.is_some() {
                    ctx.ledger.count("unmapped_note_type_values", 1);
                    ctx.ledger.list("unmapped_note_type", vec![ty.to_string()]);
                }
                "note".into()
            })
        };
        if plain.trim().is_empty() {
            ctx.ledger
                .drop_row(object, &n.table, &n.pk, "empty note text");
            continue;
        }
        if kind == "description" && plain.trim() == description.trim() {
            ctx.ledger.drop_row(
                object,
                &n.table,
                &n.pk,
                "repeats the ticket description (first message)",
            );
            continue;
        }
        let mut ts = match ctx.unix(&n.created) {
            Some(ts) => ts,
            None => {
                lineage.rules.push(format!(
                    "note {}: no time, placed at the ticket's start",
                    n.pk
                ));
                start
            }
        };
        if ts < start {
            ctx.ledger.list(
                "clamped_parts",
                vec![
                    key.clone(),
                    n.table.clone(),
                    n.pk.clone(),
                    ts.to_string(),
                    start.to_string(),
                ],
            );
            lineage.rules.push(format!(
                "note {}: older than the ticket, clamped to its start",
                n.pk
            ));
            ts = start;
        }
        let private = n.private.unwrap_or(false);
        let body = if n.history {
            let field = n.type_name.as_deref().unwrap_or("field");
            to_html(&format!("{field} changed: {plain}"))
        } else {
            to_html(&plain)
        };
        // Inline images of an HTML body: attachments of the same part.
        let mut atts = Vec::new();
        if detect(raw) == Format::Html {
            for cid in cid_refs(raw) {
                let stem = cid.split('@').next().unwrap_or(&cid).to_lowercase();
                if let Some(a) = input
                    .attachments
                    .iter()
                    .find(|a| !used_attachments.contains(&a.id) && a.name.to_lowercase() == stem)
                {
                    used_attachments.insert(a.id);
                    if let Fate::Send(v) = resolve(ctx, source, share, a) {
                        ctx.ledger.migrated("attachment", 1);
                        atts.push(v);
                    } else {
                        ctx.ledger.drop_row(
                            "attachment",
                            &ctx.table("attachment"),
                            &a.pk,
                            "inline image not sendable",
                        );
                    }
                }
            }
        }
        let author = n.author.as_deref();
        let (admin, tech) = ctx.admin_ref(author);
        let contact = if kind == "comment" && tech.is_none() {
            author.and_then(|a| {
                match ctx
                    .people
                    .match_requestor(Some(a), None, ctx.lowercase_local)
                {
                    crate::people::Match::One(id) | crate::people::Match::Ambiguous(id, _) => {
                        ctx.contact_keys.get(&id).cloned()
                    }
                    crate::people::Match::None => None,
                }
            })
        } else {
            None
        };
        let author_name = author
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("Track-It!")
            .to_string();
        let (reply, after) = match (&contact, kind.as_str(), private) {
            (Some(c), "comment", false) => (
                json!({"type": "user", "message_type": "comment", "intercom_user_id": {"$ref": c}, "body": body,
                       "created_at": ts}),
                vec![c.clone()],
            ),
            _ => {
                let message_type = if kind == "comment" && !private {
                    "comment"
                } else {
                    "note"
                };
                (
                    json!({"type": "admin", "message_type": message_type, "admin_id": admin, "body": body,
                           "created_at": ts, "skip_notifications": true}),
                    vec![],
                )
            }
        };
        ctx.ledger.migrated(object, 1);
        let seq_rank = if n.history { 1 } else { 0 };
        parts.push(Part {
            ts,
            seq: (seq_rank, n.seq, n.pk.clone()),
            author_name,
            reply,
            attachments: atts,
            after,
        });
    }
    let _ = notes_table;

    // Attachments not consumed inline: grouped by (time, author), ≤ 10 per part.
    let mut rest: Vec<&Attachment> = input
        .attachments
        .iter()
        .filter(|a| !used_attachments.contains(&a.id))
        .collect();
    rest.sort_by_key(|a| (ctx.unix(&a.created).unwrap_or(start), a.id));
    let mut groups: Vec<(i64, Option<String>, Vec<&Attachment>)> = Vec::new();
    for a in rest {
        let ts = ctx.unix(&a.created).unwrap_or(start).max(start);
        match groups.last_mut() {
            Some((gts, gauthor, items)) if *gts == ts && *gauthor == a.author => items.push(a),
            _ => groups.push((ts, a.author.clone(), vec![a])),
        }
    }
    for (ts, author, items) in groups {
        let mut sent = Vec::new();
        let mut listed = Vec::new();
        for a in &items {
            lineage
                .sources
                .push(format!("{}:{}", ctx.table("attachment"), a.pk));
            match resolve(ctx, source, share, a) {
                Fate::Send(v) => {
                    ctx.ledger.migrated("attachment", 1);
                    sent.push((a.name.clone(), v));
                }
                Fate::Listed(reason) => {
                    ctx.ledger.list(
                        "restricted_attachments",
                        vec![key.clone(), a.pk.clone(), a.name.clone(), reason.clone()],
                    );
                    ctx.ledger.drop_row(
                        "attachment",
                        &ctx.table("attachment"),
                        &a.pk,
                        &format!("not sent: {reason}"),
                    );
                    listed.push(format!("{} (not migrated: {reason})", a.name));
                }
            }
        }
        let chunks: Vec<Vec<(String, Value)>> = if sent.is_empty() {
            vec![vec![]]
        } else {
            sent.chunks(10).map(<[_]>::to_vec).collect()
        };
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut text = if i == 0 {
                "Attachments".to_string()
            } else {
                "Attachments (continued)".to_string()
            };
            if let Some(a) = author.as_deref().filter(|a| !a.trim().is_empty()) {
                text.push_str(&format!(" added by {}", a.trim()));
            }
            text.push(':');
            for (name, _) in &chunk {
                text.push_str(&format!("\n{name}"));
            }
            if i == 0 {
                for l in &listed {
                    text.push_str(&format!("\n{l}"));
                }
            }
            let (reply, author_name) = admin_note(ctx, author.as_deref(), to_html(&text), ts);
            let first_id = items.first().map(|a| a.id).unwrap_or(0);
            parts.push(Part {
                ts,
                seq: (2, first_id, format!("{i:04}")),
                author_name,
                reply,
                attachments: chunk.into_iter().map(|(_, v)| v).collect(),
                after: vec![],
            });
        }
    }
    if !input.children.is_empty() {
        let ts = input
            .children
            .iter()
            .filter_map(|(_, t)| *t)
            .min()
            .unwrap_or(start)
            .max(start);
        let list: Vec<String> = input
            .children
            .iter()
            .map(|(id, _)| format!("#{id}"))
            .collect();
        let text = format!(
            "Child tickets (assignments) of this ticket: {}",
            list.join(", ")
        );
        let (reply, author_name) = admin_note(ctx, None, to_html(&text), ts);
        parts.push(Part {
            ts,
            seq: (3, 0, String::new()),
            author_name,
            reply,
            attachments: vec![],
            after: vec![],
        });
        lineage.rules.push(format!(
            "parent of {} child tickets: note listing them",
            list.len()
        ));
    }
    parts.sort_by(|a, b| (a.ts, &a.seq).cmp(&(b.ts, &b.seq)));
    emit(ctx, t, input, key, start, first, parts, lineage);
}

#[allow(clippy::too_many_arguments)]
fn emit(
    ctx: &Ctx,
    t: &Ticket,
    input: &TicketInputs<'_>,
    key: String,
    start: i64,
    first: String,
    parts: Vec<Part>,
    mut lineage: Lineage,
) {
    let custom = crate::attributes::ticket_attributes(ctx, t, input, &key, &mut lineage);
    let title = t
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("Track-It! ticket {}", t.id));
    let (assignee, tech) = match t.technician.as_deref().filter(|s| !s.trim().is_empty()) {
        None => (Value::Null, None),
        Some(text) => {
            let (admin, tech) = ctx.admin_ref(Some(text));
            if tech.is_none() {
                ctx.ledger.list(
                    "unmatched_technicians",
                    vec![text.trim().to_string(), key.clone()],
                );
                lineage.rules.push(format!(
                    "technician {text:?} matches no technician: fallback admin"
                ));
            }
            (admin, tech)
        }
    };
    let (status_name, closed) = &input.status;
    let close = match (*closed, &tech) {
        (false, _) => Value::Null,
        (true, Some(k)) => json!({"admin_id": {"$admin": k}}),
        (true, None) => json!({"admin_id": {"$admin": null}}),
    };
    lineage.rules.push(format!(
        "status {status_name:?} → {}",
        if *closed { "closed" } else { "open" }
    ));
    let max = ctx.mapping.conversations.max_parts.max(2);
    let total = parts.len();
    let chunks: Vec<Vec<Part>> = if total <= max {
        vec![parts]
    } else {
        let mut out = Vec::new();
        let mut it = parts.into_iter().peekable();
        while it.peek().is_some() {
            out.push(it.by_ref().take(max).collect());
        }
        out
    };
    let n = chunks.len();
    if n > 1 {
        lineage.rules.push(format!(
            "{total} parts > {max}: split into {n} linked conversations"
        ));
    }
    let mut prev: Option<String> = None;
    let created_at = if start > 0 { json!(start) } else { Value::Null };
    for (i, chunk) in chunks.into_iter().enumerate() {
        let this_key = if i == 0 {
            key.clone()
        } else {
            format!("{key}:{}", i + 1)
        };
        let mut after = vec![input.contact.clone()];
        let (body, ts) = if i == 0 {
            (first.clone(), created_at.clone())
        } else {
            let ts = chunk
                .first()
                .map(|p| json!(p.ts))
                .unwrap_or(created_at.clone());
            (
                format!(
                    "Continuation of Track-It! ticket {} (part {} of {n}): the ticket has {total} entries, more than one Intercom conversation shows.",
                    t.id,
                    i + 1
                ),
                ts,
            )
        };
        let mut create =
            json!({"from": {"type": "user", "id": {"$ref": input.contact}}, "body": body});
        if !ts.is_null() {
            create["created_at"] = ts;
        }
        let parts_json: Vec<Value> = chunk
            .into_iter()
            .map(|p| {
                after.extend(p.after);
                json!({"author_name": p.author_name, "reply": p.reply, "attachments": p.attachments})
            })
            .collect();
        let continued = match &prev {
            Some(p) => {
                after.push(p.clone());
                json!({"$ref": p})
            }
            None => Value::Null,
        };
        let mut update_title = title.clone();
        if n > 1 {
            update_title = format!("{title} ({}/{n})", i + 1);
        }
        let body = json!({
            "ticket_number": t.id.to_string(),
            "create": create,
            "parts": parts_json,
            "update": {"title": update_title, "custom_attributes": custom},
            "assignee": assignee,
            "close": close,
            "continued_from": continued,
        });
        ctx.emit(
            this_key.clone(),
            RecordKind::Conversation,
            after,
            (&ctx.table("ticket"), &t.pk),
            body,
            lineage.clone(),
        );
        prev = Some(this_key);
    }
}
