//! `--profile web`: the 20xx shape holds the same logical data as `classic --text nvarchar` (summaries, bodies,
//! notes), with times in UTC, the confirmed `_TELMASTE_` ordinals, and counts equal to truth.json.

mod generate_support;

use generate_support::{gen_into, int, json, objects, open};
use std::collections::HashMap;
use trackit_fixture::generate::{AttachMode, GenerateArgs, Profile, TextMode, generate};

/// (ticket id, summary, body, open time) as read back for comparison.
type TicketRow = (i64, Option<String>, Option<String>, Option<String>);

#[test]
fn web_profile_matches_classic_logical_data() {
    let web = tempfile::tempdir().unwrap();
    let classic = tempfile::tempdir().unwrap();
    let args = GenerateArgs {
        profile: Profile::Web,
        tickets: 400,
        seed: 5,
        out: web.path().to_path_buf(),
        attachments: AttachMode::Share,
        text: TextMode::Varchar,
    };
    generate(&args).expect("web generates");
    gen_into(
        classic.path(),
        400,
        5,
        AttachMode::Share,
        TextMode::Nvarchar,
    );
    let w = open(web.path());
    let c = open(classic.path());

    let objs: HashMap<String, String> = objects(&w).into_iter().collect();
    assert_eq!(objs["_SMDBA_._TELMASTE_"], "BASE TABLE");
    assert_eq!(objs["_SMDBA_._PERSONNEL_"], "BASE TABLE");
    assert_eq!(objs["_SMDBA_.Ticket"], "VIEW");
    assert_eq!(objs["_SMDBA_.Ticket Notes"], "VIEW");
    for (ord, name) in [
        (1, "SEQUENCE"),
        (2, "LASTMODIFIED"),
        (3, "LASTUSER"),
        (4, "SEQ_GROUP"),
        (9, "STATUS"),
        (12, "OPENDATE"),
        (16, "SEQ_OPENBY"),
        (18, "CLOSEDATE"),
        (22, "SUMMARY"),
    ] {
        let got: String = w
            .query_row(
                "SELECT column_name FROM _ti_columns WHERE object_name = '_TELMASTE_' AND ordinal = ?1",
                [ord],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(got, name, "ordinal {ord}");
    }

    let truth = json(web.path(), "truth.json");
    for (name, n) in truth["source"]["tables"].as_object().unwrap() {
        assert_eq!(
            n.as_i64().unwrap(),
            int(&w, &format!("SELECT COUNT(*) FROM \"{name}\"")),
            "{name}"
        );
    }
    assert_eq!(truth["expected"]["conversations"].as_i64(), Some(400));
    let parts = int(
        &w,
        "SELECT COUNT(*) FROM \"_SMDBA_._NOTES_\" WHERE SEQ_TELMASTE IN (SELECT SEQUENCE FROM \"_SMDBA_._TELMASTE_\")",
    );
    assert_eq!(
        truth["expected"]["conversation_parts"]["total"].as_i64(),
        Some(parts)
    );
    let ctruth = json(classic.path(), "truth.json");
    assert_eq!(
        truth["expected"]["conversation_parts"],
        ctruth["expected"]["conversation_parts"]
    );
    assert_eq!(
        truth["expected"]["contacts"],
        ctruth["expected"]["contacts"]
    );
    assert_eq!(
        truth["expected"]["unmatched_technicians"],
        ctruth["expected"]["unmatched_technicians"]
    );

    // Same summaries and bodies, times shifted to UTC by 4 or 5 hours (placeholder dates unchanged).
    let rows = |conn: &rusqlite::Connection, sql: &str| -> Vec<TicketRow> {
        let mut st = conn.prepare(sql).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let wr = rows(
        &w,
        "SELECT SEQUENCE, SUMMARY, ADDITIONALINFO, OPENDATE FROM \"_SMDBA_._TELMASTE_\" ORDER BY 1",
    );
    let cr = rows(
        &c,
        "SELECT WOID, TASK, DESCRIPT, OPENDATE FROM \"dbo.TASKS\" ORDER BY 1",
    );
    assert_eq!(wr.len(), cr.len());
    let parse = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    for (a, b) in wr.iter().zip(&cr) {
        assert_eq!((a.0, &a.1, &a.2), (b.0, &b.1, &b.2), "ticket {}", a.0);
        let shift = (parse(a.3.as_deref().unwrap()) - parse(b.3.as_deref().unwrap())).num_hours();
        assert!(
            shift == 4 || shift == 5,
            "ticket {}: UTC shift {shift}",
            a.0
        );
    }
    let wn = int(&w, "SELECT COUNT(*) FROM \"_SMDBA_._NOTES_\"");
    assert_eq!(wn, int(&c, "SELECT COUNT(*) FROM \"dbo.TaskNote\""));
    let status: String = w
        .query_row(
            "SELECT Status FROM \"_SMDBA_.Ticket\" WHERE \"Ticket ID\" = 93",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "Open");
    let code: String = w
        .query_row(
            "SELECT STATUS FROM \"_SMDBA_._TELMASTE_\" WHERE SEQUENCE = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(code, "C");
}

#[test]
fn seed_profile_holds_the_classic_data_under_hd_names() {
    let seed = tempfile::tempdir().unwrap();
    let classic = tempfile::tempdir().unwrap();
    let args = GenerateArgs {
        profile: Profile::Seed,
        tickets: 300,
        seed: 8,
        out: seed.path().to_path_buf(),
        attachments: AttachMode::Share,
        text: TextMode::Varchar,
    };
    generate(&args).expect("seed generates");
    gen_into(classic.path(), 300, 8, AttachMode::Share, TextMode::Varchar);
    let s = open(seed.path());
    let c = open(classic.path());
    let objs: HashMap<String, String> = objects(&s).into_iter().collect();
    assert!(objs.contains_key("dbo.HDTickets") && objs.contains_key("dbo.HDTicketNotes"));
    assert!(!objs.contains_key("dbo.TASKS"));
    let truth = json(seed.path(), "truth.json");
    for (name, n) in truth["source"]["tables"].as_object().unwrap() {
        assert_eq!(
            n.as_i64().unwrap(),
            int(&s, &format!("SELECT COUNT(*) FROM \"{name}\"")),
            "{name}"
        );
    }
    let pairs =
        |conn: &rusqlite::Connection, sql: &str| -> Vec<(i64, Option<String>, Option<String>)> {
            let mut st = conn.prepare(sql).unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
    assert_eq!(
        pairs(
            &s,
            "SELECT TicketId, Summary, OpenedAt FROM \"dbo.HDTickets\" ORDER BY 1"
        ),
        pairs(
            &c,
            "SELECT WOID, TASK, OPENDATE FROM \"dbo.TASKS\" ORDER BY 1"
        )
    );
    assert_eq!(
        pairs(
            &s,
            "SELECT NoteId, CreatedBy, CreatedAt FROM \"dbo.HDTicketNotes\" ORDER BY 1"
        ),
        pairs(
            &c,
            "SELECT TaskNoteId, CreatedBy, CreateDate FROM \"dbo.TaskNote\" ORDER BY 1"
        )
    );
    let ctruth = json(classic.path(), "truth.json");
    assert_eq!(
        truth["expected"]["conversation_parts"],
        ctruth["expected"]["conversation_parts"]
    );
    assert_eq!(
        truth["source"]["attachments"],
        ctruth["source"]["attachments"]
    );
}
