//! Issue 7 "Done when", on a generated classic fixture: generate → serve → ti-extract run → run with the
//! confirmed demo mapping of testdata/ → verify; the report balances against truth.json and the sentinel
//! tickets' records have the expected bodies. That the demo mapping still fits what `propose` makes is
//! tests/profiles.rs's check.

mod common;

use common::cli::records_json as records;
use common::fixture::{extract, transform_and_verify};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use testkit_harness as h;

fn sentinel(truth: &Value, name: &str) -> i64 {
    truth["source"]["sentinels"][name][0]
        .as_i64()
        .unwrap_or_else(|| panic!("sentinel {name}"))
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn classic_fixture_run_verify_balance_and_sentinels() {
    let tmp = h::TempDir::new();
    let dir = tmp.path();
    let (extract, truth) = extract(dir, "classic", 200, &[]);
    // Run with the demo mapping (whose fit with what `propose` makes of a fresh fixture is checked, for every
    // profile, by tests/profiles.rs), verify.
    let demo_path = h::workspace_root().join("testdata/mapping-classic.toml");
    let load = dir.join("load");
    transform_and_verify(&extract, &demo_path, &load);
    let report: Value =
        serde_json::from_slice(&std::fs::read(load.join("report/report.json")).unwrap()).unwrap();
    let objects: BTreeMap<String, Value> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["object"].as_str().unwrap().to_string(), o.clone()))
        .collect();
    for (name, o) in &objects {
        assert_eq!(o["balanced"], true, "{name}: {o}");
    }
    let tables = &truth["source"]["tables"];
    let expected = &truth["expected"];
    for (object, table) in [
        ("ticket", "dbo.TASKS"),
        ("note", "dbo.TaskNote"),
        ("user", "dbo.HDUsers"),
        ("attachment", "dbo.Attachments"),
        ("article", "dbo.KBArticles"),
        ("asset", "dbo.Assets"),
        ("change_request", "dbo.ChangeRequests"),
        ("bcm_relation", "dbo.BCMRelations"),
        ("sla_policy", "dbo.SLAPolicies"),
    ] {
        assert_eq!(
            objects[object]["source_rows"], tables[table],
            "{object} source rows vs truth"
        );
    }
    let dropped_for = |object: &str, reason: &str| {
        objects[object]["dropped_by_reason"][reason]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(
        dropped_for("note", "its ticket does not exist"),
        expected["orphan_notes"].as_u64().unwrap()
    );
    let restricted: u64 = objects["attachment"]["dropped_by_reason"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.contains("restricted"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        restricted,
        expected["restricted_attachments"].as_u64().unwrap()
    );
    assert_eq!(
        dropped_for("attachment", "not sent: file missing from the extract"),
        truth["source"]["attachments"]["missing_on_disk"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(report["records"]["article"], expected["kb_articles"]);
    assert_eq!(report["records"]["conversation"], expected["conversations"]);
    // Parts: every note of an existing ticket is a part or dropped as empty / repeating the description.
    let parts_total = expected["conversation_parts"]["total"].as_u64().unwrap();
    assert_eq!(
        objects["note"]["migrated_rows"].as_u64().unwrap()
            + objects["note"]["dropped_rows"].as_u64().unwrap()
            - dropped_for("note", "its ticket does not exist"),
        parts_total
    );
    let merged = lines(&load.join("gaps/merged_contacts.csv")).len() as u64;
    assert_eq!(
        merged,
        expected["contacts"]["merged_by_email"].as_u64().unwrap()
    );
    let hierarchy = lines(&load.join("gaps/hierarchy_issues.csv"));
    assert_eq!(
        hierarchy
            .iter()
            .filter(|l| l.ends_with("self-parented"))
            .count() as u64,
        expected["self_parented_tickets"].as_u64().unwrap()
    );
    assert_eq!(
        hierarchy
            .iter()
            .filter(|l| l.ends_with("parent does not exist"))
            .count() as u64,
        expected["dangling_parents"].as_u64().unwrap()
    );
    let techs = lines(&load.join("gaps/technicians.csv"));
    assert_eq!(
        techs.len() as u64,
        expected["technicians"]["total"].as_u64().unwrap()
    );
    // Unknown requestors: every unmatched name except the "Last, First" variant, which the name rule matches.
    let unknown_tickets: u64 = lines(&load.join("gaps/unknown_requestors.csv"))
        .iter()
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        unknown_tickets,
        expected["tickets_with_unmatched_requestor"]
            .as_u64()
            .unwrap()
            - 1
    );

    // Sentinel tickets.
    let recs = records(&load);
    let conv = |name: &str| -> Value {
        recs[&format!("conversation:ticket:{}", sentinel(&truth, name))]["body"].clone()
    };
    let first =
        |name: &str| -> String { conv(name)["create"]["body"].as_str().unwrap().to_string() };
    assert!(
        first("body_fake_markup").starts_with("Status <none> shown; a < b so the report is empty"),
        "{}",
        first("body_fake_markup")
    );
    assert!(!first("body_nul").contains('\0'));
    let html = first("body_html");
    assert!(
        html.starts_with("Hi,") && !html.contains('<') && !html.contains("font-family"),
        "{html}"
    );
    let rtf = first("body_rtf");
    assert!(
        !rtf.contains("\\rtf") && !rtf.contains("fonttbl") && !rtf.contains('{'),
        "{rtf}"
    );
    assert!(!first("body_crlf").contains('\r'));
    assert!(
        first("body_cp1252_punctuation").contains('“'),
        "{}",
        first("body_cp1252_punctuation")
    );
    assert!(first("body_200k").len() > 100_000);
    assert_eq!(
        conv("task_100_chars")["update"]["title"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        100
    );
    assert_eq!(
        conv("body_whitespace_only")["create"]["body"],
        conv("body_whitespace_only")["update"]["title"]
    );
    let unmatched = conv("requestor_unmatched");
    assert!(
        unmatched["create"]["from"]["id"]["$ref"]
            .as_str()
            .unwrap()
            .starts_with("contact:requestor:")
    );
    let variants: Vec<Value> = truth["source"]["sentinels"]["requestor_name_variant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| recs[&format!("conversation:ticket:{id}")]["body"]["create"]["from"].clone())
        .collect();
    assert!(
        variants.windows(2).all(|w| w[0] == w[1]),
        "name variants are one person: {variants:?}"
    );
    let invalid = &recs[conv("requestor_email_invalid")["create"]["from"]["id"]["$ref"]
        .as_str()
        .unwrap()];
    assert!(invalid["body"].get("email").is_none(), "{invalid}");
    assert!(
        conv("self_parent")["update"]["custom_attributes"]
            .get("ti_parent_ticket_id__c")
            .is_none()
    );
    assert!(
        conv("dangling_parent")["update"]["custom_attributes"]
            .get("ti_parent_ticket_id__c")
            .is_none()
    );
    assert!(
        conv("date_1900")["update"]["custom_attributes"]
            .get("ti_due_at__c")
            .is_none()
    );
    assert!(conv("respons_null")["assignee"].is_null());
    assert_eq!(
        conv("clean_closed")["close"]["admin_id"],
        conv("clean_closed")["assignee"]
    );
    assert!(conv("clean_open")["close"].is_null());
    let all_atts = |c: &Value| -> Vec<Value> {
        c["parts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["attachments"].as_array().unwrap().clone())
            .collect()
    };
    // Zero-byte files cannot be sent (attachment_files needs data): listed with the reason.
    assert!(
        !all_atts(&conv("attach_zero_byte"))
            .iter()
            .any(|a| a["bytes"] == 0)
    );
    let listed = std::fs::read_to_string(load.join("gaps/restricted_attachments.csv")).unwrap();
    let zero = format!(
        "conversation:ticket:{},",
        sentinel(&truth, "attach_zero_byte")
    );
    assert!(
        listed.contains(&zero) && listed.contains("empty file"),
        "{listed}"
    );
    assert!(
        !all_atts(&conv("attach_double_extension"))
            .iter()
            .any(|a| a["name"].as_str().unwrap().to_lowercase().ends_with(".exe"))
    );
    for p in conv("many_notes")["parts"].as_array().unwrap().windows(2) {
        assert!(
            p[0]["reply"]["created_at"].as_i64() <= p[1]["reply"]["created_at"].as_i64(),
            "parts in time order"
        );
    }
    for c in recs.values().filter(|r| r["kind"] == "conversation") {
        for p in c["body"]["parts"].as_array().unwrap() {
            assert!(p["attachments"].as_array().unwrap().len() <= 10);
            assert!(
                p["reply"]["created_at"].as_i64() >= c["body"]["create"]["created_at"].as_i64()
            );
        }
    }
    let truncated = std::fs::read_to_string(load.join("gaps/truncated_values.csv")).unwrap();
    assert!(
        truncated.contains(&format!(
            "conversation:ticket:{},",
            sentinel(&truth, "udf_text_over_255")
        )),
        "{truncated}"
    );
}
