//! Sentinel work orders: fixed WOIDs 1–99, each carrying one dirty-data case (or a clean baseline) so that
//! tests can name them. The table below is also what truth.json reports under `source.sentinels`; the crate
//! README documents it.

use super::Ctx;
use super::people::ids;
use super::text;
use super::tickets::{Gen, Note, Ticket, d, note, ymd};
use chrono::Duration;
use rand_chacha::ChaCha8Rng;

/// A WOID that never exists: target of the dangling parent and the orphan-note sentinel.
pub const MISSING_WOID: i64 = 98;
/// A WOID with no TASKS row but an attachment folder on disk (share mode).
pub const ORPHAN_FOLDER_WOID: i64 = 97;

/// Every sentinel: (WOID, kind). Kinds match `source.dirty` keys where the row is counted there.
pub const TABLE: &[(i64, &str)] = &[
    (1, "clean_closed"),
    (2, "reqdate_null"),
    (3, "closed_without_clsddate"),
    (4, "open_with_completed"),
    (5, "date_1900"),
    (6, "closed_before_opened"),
    (7, "future_date"),
    (8, "modidate_before_reqdate"),
    (9, "status_id_null"),
    (10, "datetime_extremes"),
    (11, "status_id_zero"),
    (12, "status_id_unknown"),
    (13, "status_text_mismatch"),
    (14, "priority_nonstandard"),
    (15, "priority_nonstandard"),
    (16, "priority_nonstandard"),
    (17, "priority_nonstandard"),
    (18, "priority_nonstandard"),
    (19, "priority_empty"),
    (20, "priority_null"),
    (21, "type_leading_underscore"),
    (22, "subtype_mismatch"),
    (23, "type_id_mismatch"),
    (24, "requestor_unmatched"),
    (25, "requestor_name_variant"),
    (26, "requestor_name_variant"),
    (27, "requestor_name_variant"),
    (28, "requestor_duplicate_full_name"),
    (29, "requestor_email_missing"),
    (30, "requestor_email_invalid"),
    (31, "requestor_email_shared"),
    (32, "requestor_email_upper_padded"),
    (33, "requestor_email_plus_address"),
    (34, "technician_as_requestor"),
    (35, "respons_bot"),
    (36, "disabled_technician_open"),
    (37, "respons_administrator"),
    (38, "respons_null"),
    (39, "respons_login_id"),
    (40, "respons_display_name"),
    (41, "name_apostrophe"),
    (42, "name_hyphen"),
    (43, "name_accented"),
    (44, "name_accented"),
    (45, "name_cjk"),
    (46, "name_rtl"),
    (47, "name_rtl"),
    (48, "body_crlf"),
    (49, "body_whitespace_only"),
    (50, "body_empty"),
    (51, "body_null"),
    (52, "body_html"),
    (53, "body_rtf"),
    (54, "body_cp1252_punctuation"),
    (55, "body_tabs"),
    (56, "body_nul"),
    (57, "body_emoji"),
    (58, "body_rtl"),
    (59, "body_200k"),
    (60, "body_2mb"),
    (61, "task_100_chars"),
    (62, "body_fake_markup"),
    (63, "udf_coded_value"),
    (64, "text_literal_null"),
    (65, "text_empty"),
    (66, "text_null"),
    (67, "self_parent"),
    (68, "dangling_parent"),
    (69, "parent_chain_3"),
    (70, "parent_chain_3"),
    (71, "parent_chain_3"),
    (72, "closed_parent_open_child"),
    (73, "closed_parent_open_child"),
    (74, "orphan_note_source"),
    (75, "note_type_missing"),
    (76, "note_created_by_unmatched"),
    (77, "many_notes"),
    (78, "asset_unmatched"),
    (79, "asset_two_names"),
    (80, "asset_two_names"),
    (81, "attach_restricted"),
    (82, "attach_double_extension"),
    (83, "attach_no_extension"),
    (84, "attach_upper_extension"),
    (85, "attach_zero_byte"),
    (86, "attach_duplicate_name"),
    (87, "attach_odd_names"),
    (88, "attach_blob_only_names"),
    (89, "attach_missing_on_disk"),
    (90, "attach_30mb"),
    (91, "udf_text_over_255"),
    (92, "site_column_unicode"),
    (93, "clean_open"),
    (95, "note_lone_surrogate"),
    (96, "note_private"),
];

/// Sentinel WOIDs that exist as TASKS rows.
pub fn present(_ctx: &Ctx) -> Vec<i64> {
    TABLE
        .iter()
        .map(|(w, _)| *w)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// True when the sentinel's case is actually generated with these arguments.
pub fn applies(ctx: &Ctx, woid: i64) -> bool {
    match woid {
        60 => ctx.scale.tickets >= 10_000,
        90 => ctx.scale.tickets >= 100_000,
        88 => ctx.attach == super::AttachMode::Blob,
        95 => ctx.text == super::TextMode::Nvarchar,
        _ => true,
    }
}

fn make_open(t: &mut Ticket) {
    t.status_id = Some(1);
    t.status = Some("Open".into());
    t.dates[d::CLSD] = None;
    t.dates[d::COMPLETED] = None;
    t.clsd_by = None;
    t.elapsetime = None;
    t.elapsemin = None;
    t.note = None;
}

fn make_closed(t: &mut Ticket) {
    if t.status_id == Some(2) {
        return;
    }
    let close = t.dates[d::OPEN].map(|o| o + Duration::hours(2));
    t.status_id = Some(2);
    t.status = Some("Closed".into());
    t.dates[d::CLSD] = close;
    t.dates[d::COMPLETED] = close;
    t.clsd_by = t.respons.clone().or_else(|| Some("Administrator".into()));
    t.elapsetime = Some("0d 02:00".into());
    t.elapsemin = Some(120);
    t.note = Some("Resolved: done.".into());
}

fn person_name(g: &Gen, id: i64) -> Option<String> {
    g.people
        .persons
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.full_name.clone())
}

/// Turns an ordinary ticket into the sentinel case of its WOID.
pub fn apply_ticket(g: &Gen, t: &mut Ticket, rng: &mut ChaCha8Rng) {
    let tech = &g.people.persons[g.tech(rng)];
    t.respons = Some(tech.full_name.clone());
    t.kinds.clear();
    let open = t.dates[d::OPEN].unwrap_or_default();
    match t.woid {
        1 | 3 | 6 | 72 => make_closed(t),
        4 | 36 | 73 | 93 => make_open(t),
        _ => {}
    }
    match t.woid {
        2 => t.dates[d::REQ] = None,
        3 => t.dates[d::CLSD] = None,
        4 => t.dates[d::COMPLETED] = Some(open + Duration::hours(5)),
        5 => {
            let day = Some(ymd(1900, 1, 1, 0, 0, 0));
            t.dates[d::DUE] = day;
            t.dates[d::RESPONSE] = day;
            t.wo_date[0] = day;
        }
        6 => t.dates[d::CLSD] = Some(open - Duration::hours(26)),
        7 => t.dates[d::DUE] = Some(ymd(2099, 12, 31, 9, 0, 0)),
        8 => t.modi_before_req = true,
        9 => {
            make_closed(t);
            t.status_id = None;
        }
        10 => {
            t.wo_date[0] = Some(ymd(1753, 1, 1, 0, 0, 0));
            t.wo_date[1] = Some(ymd(9999, 12, 31, 23, 59, 59) + Duration::milliseconds(997));
            t.wo_date[2] = Some(ymd(2019, 3, 4, 10, 11, 12) + Duration::milliseconds(997));
        }
        11 => t.status_id = Some(0),
        12 => t.status_id = Some(999),
        13 => {
            make_closed(t);
            t.status = Some("Open".into());
        }
        14..=18 => {
            t.priority = Some(
                ["high ", "URGENT", "1-Low", "2 - Medium", "Project"][(t.woid - 14) as usize]
                    .into(),
            )
        }
        19 => t.priority = Some(String::new()),
        20 => t.priority = None,
        21 => set_type(g, t, "_Change Request", "General"),
        22 => {
            set_type(g, t, "Printer", "VPN");
            t.kinds.push("subtype_mismatch");
        }
        23 => {
            set_type(g, t, "Hardware", "Laptop");
            t.type_id = g.types.iter().find(|x| x.1 == "Software").map(|x| x.0);
        }
        24 => t.request = Some("Zed Unknownperson".into()),
        25 => t.request = Some("Smith, John".into()),
        26 => t.request = Some("John Smith".into()),
        27 => t.request = Some("JOHN SMITH ".into()),
        28 => t.request = Some("Maria Garcia".into()),
        29 => t.request = person_name(g, ids::EMAIL_NULL),
        30 => t.request = person_name(g, ids::EMAIL_INVALID[0]),
        31 => t.request = person_name(g, ids::EMAIL_SHARED[0]),
        32 => t.request = person_name(g, ids::EMAIL_PADDED),
        33 => t.request = person_name(g, ids::EMAIL_PLUS),
        34 => t.request = person_name(g, ids::TECH_REQUESTOR),
        35 => t.respons = Some("helpdeskbot".into()),
        36 => t.respons = person_name(g, ids::DISABLED_TECH),
        37 => t.respons = Some("Administrator".into()),
        38 => t.respons = None,
        39 => t.respons = Some(tech.login.clone()),
        40 => t.respons = Some(tech.full_name.clone()),
        41..=47 => t.request = person_name(g, ids::SPECIAL_FIRST + t.woid - 41),
        48 => t.descript = Some(text::plain_crlf(rng, 3)),
        49 => t.descript = Some(" \r\n\t  ".into()),
        50 => t.descript = Some(String::new()),
        51 => t.descript = None,
        52 => t.descript = Some(text::html_email(rng, "John Smith")),
        53 => t.descript = Some(text::rtf(rng)),
        54 => {
            t.descript = Some(
                "The user’s screen shows “Access denied” – again. Ordered a café crème.".into(),
            )
        }
        55 => t.descript = Some("Step 1:\tRestart\r\nStep 2:\tLog in\tagain".into()),
        56 => t.descript = Some("Pasted from log:\0end".into()),
        57 => t.descript = Some("Thanks so much 😀👍 it works".into()),
        58 => t.descript = Some("Printer says: الطابعة لا تعمل — please help. שלום".into()),
        59 => t.descript = Some(text::long_body(rng, 200_000)),
        60 if g.ctx.scale.tickets >= 10_000 => {
            t.descript = Some(text::long_body(rng, 2 * 1024 * 1024))
        }
        61 => {
            let mut s =
                "Summary of exactly one hundred characters, the width of TASKS.TASK, ".to_string();
            while s.len() < 100 {
                s.push('x');
            }
            t.task = Some(s);
        }
        62 => t.descript = Some("Status <none> shown; a < b so the report is empty".into()),
        63 => t.wo_text[0] = Some("#3 Top 10 FY19".into()),
        64 => t.task = Some("NULL".into()),
        65 => t.task = Some(String::new()),
        66 => t.task = None,
        67 => t.parent = Some(67),
        68 => t.parent = Some(MISSING_WOID),
        70 => t.parent = Some(69),
        71 => t.parent = Some(70),
        73 => t.parent = Some(72),
        78 => t.assetname = Some("OLD-PC-000".into()),
        79 => t.assetname = g.assets.names.first().cloned(),
        80 => t.assetname = g.assets.tags.first().cloned(),
        91 => t.memo = Some(text::long_body(rng, 400)),
        92 => t.costcenter = Some("CC-Zürich-€".into()),
        _ => {}
    }
    if matches!(t.woid, 57 | 58 | 54 | 55 | 56 | 62) {
        let k = TABLE
            .iter()
            .find(|x| x.0 == t.woid)
            .map(|x| x.1)
            .unwrap_or("");
        t.kinds.push(k);
    }
    if matches!(t.woid, 25 | 27) {
        t.kinds.push("requestor_name_variant");
    }
    if t.woid == 80 {
        t.kinds.push("asset_referenced_by_tag");
    }
}

fn set_type(g: &Gen, t: &mut Ticket, name: &str, sub: &str) {
    t.wo_type = Some(name.into());
    t.type_id = g.types.iter().find(|x| x.1 == name).map(|x| x.0);
    t.wo_type2 = Some(sub.into());
}

/// Adds or changes the notes of a sentinel ticket.
pub fn apply_notes(g: &Gen, t: &Ticket, notes: &mut Vec<Note>, next_id: &mut i64) {
    let at = notes
        .last()
        .and_then(|n| n.created)
        .or(t.dates[d::OPEN])
        .unwrap_or_default()
        + Duration::minutes(7);
    let by = Some(
        g.people.persons[g.people.techs[g.people.techs.len() - 1]]
            .login
            .clone(),
    );
    let mut add = |notes: &mut Vec<Note>, mut n: Note| {
        n.id = *next_id;
        *next_id += 1;
        notes.push(n);
    };
    match t.woid {
        74 => {
            let mut n = note(
                MISSING_WOID,
                at,
                by,
                Some("Note of a deleted work order".into()),
                2,
            );
            n.woid = Some(MISSING_WOID);
            add(notes, n);
        }
        75 => add(
            notes,
            note(
                t.woid,
                at,
                by,
                Some("Note with a type id missing from TaskNoteType".into()),
                99,
            ),
        ),
        76 => add(
            notes,
            note(
                t.woid,
                at,
                Some("former.tech".into()),
                Some("Written by a deleted account".into()),
                2,
            ),
        ),
        77 => {
            let mut k = 0;
            while notes.len() < 200 {
                k += 1;
                let text = format!("Follow-up #{k}: still waiting on the vendor.");
                add(
                    notes,
                    note(
                        t.woid,
                        at + Duration::minutes(k * 13),
                        by.clone(),
                        Some(text),
                        2,
                    ),
                );
            }
        }
        95 => {
            let mut n = note(t.woid, at, by, None, 2);
            n.text = Some(if g.ctx.text == super::TextMode::Nvarchar {
                let mut units: Vec<u16> = "Broken emoji: ".encode_utf16().collect();
                units.push(0xD83D);
                units.extend(" end".encode_utf16());
                Err(units.iter().flat_map(|u| u.to_le_bytes()).collect())
            } else {
                Ok("Only Windows-1252 here: naïve café – “quoted” €5".into())
            });
            add(notes, n);
        }
        96 => {
            let mut n = note(
                t.woid,
                at,
                by,
                Some("Private: user's manager asked us not to share this.".into()),
                2,
            );
            n.private = Some(true);
            add(notes, n);
        }
        _ => {}
    }
}
