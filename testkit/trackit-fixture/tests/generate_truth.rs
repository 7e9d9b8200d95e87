//! A classic 2,000-ticket database: SQL Server types in the catalog, and every count of truth.json equal to
//! what an independent query of the SQLite file (or a walk of the attachment folder) returns.

mod generate_support;

use generate_support::{files_under, gen_into, int, json, objects, open};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use trackit_fixture::generate::{AttachMode, TextMode};

const TASKS: &str = "\"dbo.TASKS\"";
const NOTES: &str = "\"dbo.TaskNote\"";

fn u(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[test]
fn classic_2000_types_counts_and_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    gen_into(dir, 2000, 42, AttachMode::Share, TextMode::Varchar);
    let conn = open(dir);
    let truth = json(dir, "truth.json");
    let src = &truth["source"];
    let exp = &truth["expected"];

    // Catalog: SQL Server types, one _ti_columns row per SQLite column.
    let col = |obj: &str, name: &str| -> (String, Option<i64>, i64) {
        conn.query_row(
            "SELECT data_type, max_length, is_nullable FROM _ti_columns WHERE schema_name='dbo' AND object_name=?1 \
             AND column_name=?2",
            [obj, name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap_or_else(|e| panic!("{obj}.{name}: {e}"))
    };
    assert_eq!(col("TASKS", "WOID"), ("int".into(), None, 0));
    assert_eq!(col("TASKS", "TASK"), ("varchar".into(), Some(100), 1));
    assert_eq!(
        col("TASKS", "DESCRIPT"),
        ("text".into(), Some(2_147_483_647), 1)
    );
    assert_eq!(col("TASKS", "HOURS"), ("real".into(), None, 1));
    assert_eq!(col("TASKS", "REQDATE"), ("datetime".into(), None, 1));
    assert_eq!(
        col("TASKS", "ZZ_SITE_COSTCENTER"),
        ("nvarchar".into(), Some(20), 1)
    );
    assert_eq!(col("TaskNote", "IsPrivate"), ("bit".into(), None, 1));
    assert_eq!(
        col("Attachments", "Content"),
        ("varbinary".into(), Some(-1), 1)
    );
    assert_eq!(col("zz_type_probe", "DtoValue").0, "datetimeoffset");
    assert_eq!(col("zz_type_probe", "GuidValue").0, "uniqueidentifier");
    let decl: String = conn
        .query_row(
            "SELECT type FROM pragma_table_info('dbo.TASKS') WHERE name='TASK'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(decl, "varchar(100)");
    for (name, _) in objects(&conn) {
        let (schema, obj) = name.split_once('.').unwrap();
        let catalogued = int(
            &conn,
            &format!(
                "SELECT COUNT(*) FROM _ti_columns WHERE schema_name='{schema}' AND object_name='{obj}'"
            ),
        );
        let actual = int(
            &conn,
            &format!("SELECT COUNT(*) FROM pragma_table_info('{name}')"),
        );
        assert_eq!(catalogued, actual, "{name}: catalog columns");
    }
    let view_type: String = conn
        .query_row(
            "SELECT object_type FROM _ti_objects WHERE object_name='vTASKS_BROWSE'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(view_type, "VIEW");

    // Table and view counts.
    for (section, kind) in [("tables", "BASE TABLE"), ("views", "VIEW")] {
        let listed = src[section].as_object().unwrap();
        let actual: Vec<_> = objects(&conn).into_iter().filter(|o| o.1 == kind).collect();
        assert_eq!(listed.len(), actual.len(), "{section}: every object listed");
        for (name, _) in actual {
            assert_eq!(
                u(&listed[&name]),
                int(&conn, &format!("SELECT COUNT(*) FROM \"{name}\"")),
                "{name}"
            );
        }
    }
    assert_eq!(u(&src["tables"]["dbo.TASKS"]), 2000);
    assert_eq!(u(&src["views"]["dbo.vTASKS_BROWSE"]), 2000);
    assert_eq!(
        int(
            &conn,
            "SELECT COUNT(*) FROM \"dbo.WorkOrderStatus\" WHERE WorkOrderStatusId = 0"
        ),
        0
    );

    // Dirty-data kinds, each re-counted by SQL.
    let dirty = &src["dirty"];
    let checks: &[(&str, &str)] = &[
        ("reqdate_null", "REQDATE IS NULL"),
        ("status_id_null", "WorkOrderStatusId IS NULL"),
        ("status_id_zero", "WorkOrderStatusId = 0"),
        (
            "status_id_unknown",
            "WorkOrderStatusId <> 0 AND WorkOrderStatusId NOT IN (SELECT WorkOrderStatusId FROM \"dbo.WorkOrderStatus\")",
        ),
        (
            "closed_without_clsddate",
            "WorkOrderStatusId IN (2,3) AND CLSDDATE IS NULL AND COMPLETED IS NOT NULL",
        ),
        (
            "open_with_completed",
            "WorkOrderStatusId NOT IN (2,3) AND COMPLETED IS NOT NULL",
        ),
        ("closed_before_opened", "CLSDDATE < OPENDATE"),
        ("modidate_before_reqdate", "MODIDATE < REQDATE"),
        (
            "date_1900",
            "'1900-01-01 00:00:00' IN (DUEDATE, RESPONSEDATE, WO_DATE1, WO_DATE2, WO_DATE3, WO_DATE4, WO_DATE5, WO_DATE6)",
        ),
        ("priority_empty", "PRIORITY = ''"),
        ("priority_null", "PRIORITY IS NULL"),
        ("type_leading_underscore", "TYPE LIKE '\\_%' ESCAPE '\\'"),
        ("respons_null", "RESPONS IS NULL"),
        ("self_parent", "PARENTWOID = WOID"),
        (
            "dangling_parent",
            "PARENTWOID <> WOID AND PARENTWOID NOT IN (SELECT WOID FROM \"dbo.TASKS\")",
        ),
        (
            "child_ticket",
            "PARENTWOID <> WOID AND PARENTWOID IN (SELECT WOID FROM \"dbo.TASKS\")",
        ),
        ("task_100_chars", "length(TASK) = 100"),
        ("body_null", "DESCRIPT IS NULL"),
        ("body_empty", "DESCRIPT = ''"),
        ("body_html", "DESCRIPT LIKE '<html%'"),
        ("udf_coded_value", "WO_TEXT1 LIKE '#%'"),
        ("udf_text_over_255", "length(WO_MEMO1) > 255"),
        (
            "requestor_unmatched",
            "trim(REQUEST) <> '' AND NOT EXISTS (SELECT 1 FROM \"dbo.HDUsers\" u WHERE rtrim(u.FullName) = \
             rtrim(REQUEST) COLLATE NOCASE)",
        ),
        (
            "asset_unmatched",
            "ASSETNAME IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \"dbo.Assets\" a WHERE rtrim(a.AssetName) = \
             rtrim(tk.ASSETNAME) COLLATE NOCASE)",
        ),
    ];
    for (kind, cond) in checks {
        let n = int(
            &conn,
            &format!("SELECT COUNT(*) FROM {TASKS} tk WHERE {cond}"),
        );
        assert_eq!(dirty[*kind].as_i64().unwrap_or(0), n, "dirty.{kind}");
        assert!(n > 0, "{kind} present in a 2,000-ticket database");
    }
    let note_checks: &[(&str, &str)] = &[
        (
            "orphan_note",
            "woid IS NULL OR woid NOT IN (SELECT WOID FROM \"dbo.TASKS\")",
        ),
        (
            "note_type_missing",
            "TaskNoteTypeId NOT IN (SELECT TaskNoteTypeId FROM \"dbo.TaskNoteType\")",
        ),
        (
            "note_created_by_unmatched",
            "CreatedBy IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \"dbo.HDUsers\" u WHERE rtrim(u.FullName) = rtrim(CreatedBy) COLLATE NOCASE \
             OR rtrim(u.LoginId) = rtrim(CreatedBy) COLLATE NOCASE)",
        ),
    ];
    for (kind, cond) in note_checks {
        let n = int(&conn, &format!("SELECT COUNT(*) FROM {NOTES} WHERE {cond}"));
        assert_eq!(u(&dirty[*kind]), n, "dirty.{kind}");
        assert!(n > 0, "{kind}");
    }

    // Expected fields.
    assert_eq!(u(&exp["conversations"]), 2000);
    let parts = int(
        &conn,
        &format!("SELECT COUNT(*) FROM {NOTES} WHERE woid IN (SELECT WOID FROM {TASKS})"),
    );
    assert_eq!(u(&exp["conversation_parts"]["total"]), parts);
    let by_type: BTreeMap<String, i64> = exp["conversation_parts"]["by_note_type"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), u(v)))
        .collect();
    assert_eq!(by_type.values().sum::<i64>(), parts);
    let incident = int(
        &conn,
        &format!(
            "SELECT COUNT(*) FROM {NOTES} n JOIN \"dbo.TaskNoteType\" t ON t.TaskNoteTypeId = n.TaskNoteTypeId \
             WHERE t.TaskNoteTypeName = 'Incident Description' AND n.woid IN (SELECT WOID FROM {TASKS})"
        ),
    );
    assert_eq!(by_type["Incident Description"], incident);
    let first_incident = int(
        &conn,
        &format!(
            "SELECT COUNT(*) FROM {NOTES} n WHERE n.TaskNoteTypeId = 1 AND n.woid IN (SELECT WOID FROM {TASKS}) \
             AND n.TaskNoteId = (SELECT MIN(TaskNoteId) FROM {NOTES} m WHERE m.woid = n.woid)"
        ),
    );
    assert_eq!(
        u(&exp["conversation_parts"]["first_note_incident_description"]),
        first_incident
    );
    assert_eq!(u(&exp["orphan_notes"]), u(&dirty["orphan_note"]));
    assert_eq!(u(&exp["self_parented_tickets"]), u(&dirty["self_parent"]));
    assert_eq!(u(&exp["dangling_parents"]), u(&dirty["dangling_parent"]));
    assert_eq!(u(&exp["udf_text_over_255"]), u(&dirty["udf_text_over_255"]));
    let unmatched_names = int(
        &conn,
        &format!(
            "SELECT COUNT(DISTINCT REQUEST) FROM {TASKS} WHERE trim(REQUEST) <> '' AND NOT EXISTS (SELECT 1 FROM \
             \"dbo.HDUsers\" u WHERE rtrim(u.FullName) = rtrim(REQUEST) COLLATE NOCASE)"
        ),
    );
    assert_eq!(u(&exp["requestor_names_unmatched"]), unmatched_names);
    for (field, table) in [
        ("change_requests", "ChangeRequests"),
        ("change_approvals", "ChangeApprovals"),
        ("kb_articles", "KBArticles"),
        ("sla_policies", "SLAPolicies"),
        ("bcm_relations", "BCMRelations"),
    ] {
        assert_eq!(
            u(&exp[field]),
            int(&conn, &format!("SELECT COUNT(*) FROM \"dbo.{table}\"")),
            "{field}"
        );
    }

    // Contacts: requestor rows, email trimmed and lower-cased, merged when equal and usable.
    let mut stmt = conn
        .prepare("SELECT UserId, Email FROM \"dbo.HDUsers\" WHERE IsRequestor = 1")
        .unwrap();
    let rows: Vec<(i64, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let keys: HashSet<String> = rows
        .iter()
        .map(|(id, e)| {
            let n = e
                .as_deref()
                .map(|e| e.trim().to_lowercase())
                .unwrap_or_default();
            let ok = n.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty()
                    && d.contains('.')
                    && !d.starts_with('.')
                    && !d.ends_with('.')
                    && !d.contains('@')
            });
            if ok { n } else { format!("user:{id}") }
        })
        .collect();
    assert_eq!(u(&exp["contacts"]["distinct"]), keys.len() as i64);
    assert_eq!(u(&exp["contacts"]["requestor_rows"]), rows.len() as i64);
    assert!(
        u(&exp["contacts"]["merged_by_email"]) >= 2,
        "shared emails merge"
    );

    // Technicians and admins.json.
    let techs = int(
        &conn,
        "SELECT COUNT(*) FROM \"dbo.HDUsers\" WHERE IsTechnician = 1",
    );
    assert_eq!(u(&exp["technicians"]["total"]), techs);
    let admins = json(dir, "admins.json");
    assert_eq!(admins["me"]["id"], "9000001");
    assert_eq!(admins["me"]["name"], "Migration Admin");
    let list = admins["admins"].as_array().unwrap();
    assert!(
        list.iter().any(|a| a == &admins["me"]),
        "me is listed in admins"
    );
    for a in list {
        let id = a["id"].as_str().unwrap();
        assert!(
            id.len() == 7 && id.bytes().all(|b| b.is_ascii_digit()),
            "7-digit id {id}"
        );
    }
    let admin_emails: HashSet<&str> = list.iter().map(|a| a["email"].as_str().unwrap()).collect();
    let mut stmt = conn
        .prepare("SELECT FullName, Email FROM \"dbo.HDUsers\" WHERE IsTechnician = 1")
        .unwrap();
    let tech_rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let unmatched: Vec<String> = tech_rows
        .iter()
        .filter(|(_, e)| !admin_emails.contains(e.trim().to_lowercase().as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    let listed: Vec<String> = exp["unmatched_technicians"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(unmatched, listed);
    assert!((2..=3).contains(&listed.len()));
    assert_eq!(
        u(&exp["technicians"]["matched"]),
        techs - listed.len() as i64
    );
    assert_eq!(admins["teams"][0]["name"], "Help Desk");

    // Attachments: rows, files on disk, missing and orphan files, restricted names.
    let att = &src["attachments"];
    assert_eq!(
        u(&att["rows"]),
        int(&conn, "SELECT COUNT(*) FROM \"dbo.Attachments\"")
    );
    assert_eq!(
        u(&att["bytes"]),
        int(&conn, "SELECT SUM(SizeBytes) FROM \"dbo.Attachments\"")
    );
    let root = dir.join("attachments");
    let on_disk = files_under(&root);
    assert_eq!(u(&att["files_on_disk"]), on_disk.len() as i64);
    let mut stmt = conn
        .prepare("SELECT StoredPath, FileName FROM \"dbo.Attachments\"")
        .unwrap();
    let stored: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let referenced: HashSet<std::path::PathBuf> = stored
        .iter()
        .map(|(p, _)| {
            let (folder, file) = p.split_once('\\').unwrap();
            std::path::Path::new(folder).join(file)
        })
        .collect();
    let missing = referenced.iter().filter(|p| !root.join(p).exists()).count();
    assert_eq!(u(&att["missing_on_disk"]), missing as i64);
    let orphans = on_disk.iter().filter(|p| !referenced.contains(*p)).count();
    assert_eq!(u(&att["orphan_files"]), orphans as i64);
    assert!(orphans > 0 && missing > 0);
    let restricted = ["exe", "scr", "bat", "js", "vbs", "msi", "cmd", "com", "ps1"];
    let n_restricted = stored
        .iter()
        .filter(|(_, name)| {
            let t = name.trim_end_matches(['.', ' ']);
            let base = t.rsplit(['/', '\\']).next().unwrap_or(t);
            base.rsplit_once('.').is_some_and(|(s, e)| {
                !s.is_empty() && restricted.contains(&e.to_lowercase().as_str())
            })
        })
        .count();
    assert_eq!(u(&exp["restricted_attachments"]), n_restricted as i64);
    assert_eq!(u(&att["restricted"]), n_restricted as i64);
}

#[test]
fn sentinel_rows_hold_their_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    gen_into(dir, 300, 1, AttachMode::Share, TextMode::Varchar);
    let conn = open(dir);
    let q = |sql: &str| -> Option<String> {
        conn.query_row(sql, [], |r| r.get::<_, Option<String>>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    let task = |w: i64| q(&format!("SELECT TASK FROM {TASKS} WHERE WOID = {w}"));
    assert_eq!(task(61).map(|s| s.chars().count()), Some(100));
    assert_eq!(task(64).as_deref(), Some("NULL"));
    assert_eq!(task(65).as_deref(), Some(""));
    assert_eq!(task(66), None);
    assert_eq!(
        q(&format!("SELECT WO_DATE1 FROM {TASKS} WHERE WOID = 10")).as_deref(),
        Some("1753-01-01 00:00:00")
    );
    assert_eq!(
        q(&format!("SELECT WO_DATE2 FROM {TASKS} WHERE WOID = 10")).as_deref(),
        Some("9999-12-31 23:59:59.997")
    );
    let body54 = q(&format!("SELECT DESCRIPT FROM {TASKS} WHERE WOID = 54")).unwrap();
    assert!(body54.contains("café") && body54.contains('“'));
    let body57 = q(&format!("SELECT DESCRIPT FROM {TASKS} WHERE WOID = 57")).unwrap();
    assert!(
        body57.contains("??") && !body57.contains('😀'),
        "emoji become ? in varchar mode"
    );
    let name45 = q("SELECT FullName FROM \"dbo.HDUsers\" WHERE UserId = 1017").unwrap();
    assert_eq!(name45, "??", "CJK in varchar(50) is lost to ?");
    let first45 = q("SELECT FirstName FROM \"dbo.HDUsers\" WHERE UserId = 1017").unwrap();
    assert_eq!(first45, "雷", "nvarchar keeps it");
    assert!(
        int(
            &conn,
            &format!("SELECT length(DESCRIPT) FROM {TASKS} WHERE WOID = 59")
        ) >= 199_000
    );
    assert_eq!(
        int(
            &conn,
            &format!("SELECT PARENTWOID FROM {TASKS} WHERE WOID = 67")
        ),
        67
    );
    assert_eq!(
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM {TASKS} WHERE WOID IN (97, 98, 99)")
        ),
        0
    );
    assert_eq!(
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM {NOTES} WHERE woid = 77")
        ),
        200
    );
    assert_eq!(
        int(
            &conn,
            &format!("SELECT COUNT(*) FROM {NOTES} WHERE woid = 98")
        ),
        1
    );
    let money: (String, String) = conn
        .query_row(
            "SELECT typeof(MoneyValue), MoneyValue FROM \"dbo.zz_type_probe\" WHERE Label = 'money_min'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(money, ("text".into(), "-922337203685477.5808".into()));
    let dec: String = conn
        .query_row(
            "SELECT DecimalValue FROM \"dbo.zz_type_probe\" WHERE Label = 'decimal_38_38_smallest'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dec, "0.00000000000000000000000000000000000001");
    let email: Option<String> =
        q("SELECT request_email FROM \"dbo.vTASKS_BROWSE\" WHERE woid = 24");
    assert_eq!(
        email, None,
        "unmatched requestor has a NULL email in the view"
    );
    let truth = json(dir, "truth.json");
    assert_eq!(
        truth["source"]["sentinels"]["self_parent"],
        serde_json::json!([67])
    );
    assert!(
        truth["source"]["sentinels"].get("body_2mb").is_none(),
        "2 MB body only from 10,000 tickets"
    );
    assert!(
        std::fs::read_dir(dir.join("attachments/97")).is_ok(),
        "folder of a missing work order"
    );
}

#[test]
fn too_few_tickets_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let args = trackit_fixture::generate::GenerateArgs {
        profile: trackit_fixture::generate::Profile::Classic,
        tickets: 10,
        seed: 1,
        out: tmp.path().to_path_buf(),
        attachments: AttachMode::Share,
        text: TextMode::Varchar,
    };
    assert!(trackit_fixture::generate::generate(&args).is_err());
}
