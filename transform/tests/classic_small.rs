//! End to end on a hand-built classic extract: propose → refuse unconfirmed → run → verify → records of every
//! kind, gap files, balanced report, deterministic bundle_id.

mod common;

use assert_cmd::Command;
use common::cli::{classic_setup, records, transform_run};
use serde_json::Value;
use std::path::Path;

#[test]
fn classic_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("extract");
    common::write_bundle(&extract, &common::classic_tables());
    let mapping = dir.path().join("mapping.toml");
    Command::cargo_bin("ti-transform")
        .unwrap()
        .args(["propose"])
        .arg(&extract)
        .arg("--out")
        .arg(&mapping)
        .assert()
        .success();
    let text = std::fs::read_to_string(&mapping).unwrap();
    assert!(text.contains("confirmed = false"));
    assert!(
        text.contains("source_time_zone = \"America/New_York\""),
        "{text}"
    );
    assert!(text.contains("ti_zz_site_costcenter__c"), "{text}");
    assert!(text.contains("\"high\" = \"High\""), "{text}");
    let out1 = dir.path().join("load1");
    let refused = transform_run(&extract, &mapping, &out1).assert().code(2);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(err.contains("confirmed = true"), "{err}");
    std::fs::write(
        &mapping,
        text.replace("confirmed = false", "confirmed = true"),
    )
    .unwrap();
    transform_run(&extract, &mapping, &out1).assert().success();
    Command::cargo_bin("ti-transform")
        .unwrap()
        .arg("verify")
        .arg(&out1)
        .assert()
        .success();
    let out2 = dir.path().join("load2");
    transform_run(&extract, &mapping, &out2).assert().success();
    let id = |p: &Path| -> String {
        let m: Value =
            serde_json::from_slice(&std::fs::read(p.join("manifest.json")).unwrap()).unwrap();
        m["bundle_id"].as_str().unwrap().to_string()
    };
    assert_eq!(id(&out1), id(&out2), "deterministic bundle_id");

    let recs = records(&out1);
    let kinds: std::collections::BTreeSet<&str> = recs.values().map(|r| r.kind.as_str()).collect();
    for k in ti_shared::records::RecordKind::ALL {
        assert!(
            kinds.contains(k.as_str()),
            "missing kind {}: {:?}",
            k.as_str(),
            recs.keys().collect::<Vec<_>>()
        );
    }
    let c1 = &recs["conversation:ticket:1"].body;
    // Requestor matched by the browse view's email; merged duplicates point at the lowest id.
    assert_eq!(c1["create"]["from"]["id"]["$ref"], "contact:person:2");
    assert_eq!(
        c1["create"]["body"],
        "The printer <none> jams\nwhen a < b\n\nResolution:\nReplaced roller"
    );
    // 2021-03-14 01:00 EST = 06:00 UTC.
    assert_eq!(c1["create"]["created_at"], 1615701600);
    assert_eq!(c1["update"]["custom_attributes"]["ti_priority__c"], "High");
    assert_eq!(
        c1["update"]["custom_attributes"]["ti_wo_text1__c"],
        "#3 Top 10 FY19"
    );
    assert!(
        c1["update"]["custom_attributes"]
            .get("ti_due_at__c")
            .is_none(),
        "1900-01-01 is no value"
    );
    assert_eq!(c1["assignee"]["$admin"], "technician:jtech");
    assert!(c1["close"].is_object());
    let parts = c1["parts"].as_array().unwrap();
    // Description note dropped (repeats description); note 12 clamped; attachments after.
    let bodies: Vec<&str> = parts
        .iter()
        .map(|p| p["reply"]["body"].as_str().unwrap())
        .collect();
    assert!(bodies[0].contains("Thanks!"), "{bodies:?}");
    assert_eq!(parts[0]["reply"]["type"], "user");
    assert!(
        bodies[1].contains("Ordered roller part"),
        "NUL removed: {bodies:?}"
    );
    let atts: Vec<&Value> = parts
        .iter()
        .flat_map(|p| p["attachments"].as_array().unwrap())
        .collect();
    let names: Vec<&str> = atts.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"report.pdf") && !names.contains(&"empty.txt"),
        "{names:?} {}",
        std::fs::read_to_string(out1.join("gaps/dropped_records.csv")).unwrap()
    );
    assert!(!names.iter().any(|n| n.ends_with(".exe")));
    for a in &atts {
        assert!(
            out1.join(ti_shared::bundle::blob_rel_path(
                a["blob"].as_str().unwrap()
            ))
            .exists()
        );
    }
    let c2 = &recs["conversation:ticket:2"].body;
    assert_eq!(
        c2["update"]["custom_attributes"]["ti_parent_ticket_id__c"],
        "1"
    );
    assert_eq!(
        c2["create"]["from"]["id"]["$ref"],
        "contact:requestor:nobody-known"
    );
    assert!(
        c2["create"]["body"]
            .as_str()
            .unwrap()
            .contains("Hello team")
    );
    // cid image attached to... the description is not a note; the standalone attachment part carries it.
    assert!(recs.contains_key("contact:requestor:unknown"));
    assert!(
        recs["conversation:ticket:3"].body["update"]["custom_attributes"]
            .get("ti_parent_ticket_id__c")
            .is_none()
    );
    assert_eq!(
        recs["conversation:ticket:3"].body["create"]["body"],
        "Long “body”\nsecond"
    );
    assert!(recs["contact:person:4"].body.get("email").is_none());
    assert_eq!(
        recs["contact:person:2"].body["email"],
        "john.smith@example.com"
    );
    assert!(recs.contains_key("contact_note:dbo.HDUsers:3"));
    assert!(recs.contains_key("company_note:dbo.Assets:1"));
    assert_eq!(
        recs["article:1"].body["parent_id"]["$ref"],
        "collection:Accounts/Passwords"
    );
    assert_eq!(
        recs["collection:Accounts/Passwords"].body["parent_id"]["$ref"],
        "collection:Accounts"
    );

    let tech = std::fs::read_to_string(out1.join("gaps/technicians.csv")).unwrap();
    assert!(
        tech.starts_with(
            "key,name,email,login,active\njtech,Jane Tech,jane@example.com,jtech,true"
        ),
        "{tech}"
    );
    let dropped = std::fs::read_to_string(out1.join("gaps/dropped_records.csv")).unwrap();
    assert!(
        dropped.contains("dbo.TaskNote,13,its ticket does not exist"),
        "{dropped}"
    );
    let restricted = std::fs::read_to_string(out1.join("gaps/restricted_attachments.csv")).unwrap();
    assert!(restricted.contains("invoice.pdf.exe"), "{restricted}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(out1.join("report/report.json")).unwrap()).unwrap();
    for o in report["objects"].as_array().unwrap() {
        assert_eq!(o["balanced"], true, "{o}");
    }
    assert!(
        report["unmapped_tables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "dbo.zz_import_2016")
    );
    let html = std::fs::read_to_string(out1.join("report/migration-report.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("http://") && !html.contains("<link"));

    let explain = Command::cargo_bin("ti-transform")
        .unwrap()
        .arg("explain")
        .arg(&out1)
        .arg("conversation:ticket:1")
        .arg("--extract")
        .arg(&extract)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&explain.get_output().stdout).to_string();
    assert!(
        text.contains("dbo.TASKS row 1:") && text.contains("priority \"high\" → \"High\""),
        "{text}"
    );
}

#[test]
fn sample_keeps_tickets_with_what_they_reference() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, mapping) = classic_setup(dir.path());
    let out = dir.path().join("load");
    let summary = ti_transform::run::run(&extract, &mapping, &out, Some(1)).unwrap();
    assert_eq!(summary.records["conversation"], 1);
    Command::cargo_bin("ti-transform")
        .unwrap()
        .arg("verify")
        .arg(&out)
        .assert()
        .success();
    let recs = records(&out);
    let conv = &recs["conversation:ticket:1"];
    for key in &conv.after {
        assert!(recs.contains_key(key), "sample keeps {key}");
    }
    assert!(recs.contains_key("contact_company:contact:person:2"));
    assert!(recs.contains_key("company:ti-dept-finance"));
    assert!(recs.keys().any(|k| k.starts_with("article:")));
    for r in recs.values() {
        for key in &r.after {
            assert!(recs.contains_key(key), "{} needs {key}", r.key);
        }
    }
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.join("report/report.json")).unwrap()).unwrap();
    assert_eq!(report["sample"], 1);
}

#[test]
fn long_conversations_split_into_linked_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, mapping) = classic_setup(dir.path());
    let text = std::fs::read_to_string(&mapping)
        .unwrap()
        .replace("max_parts = 400", "max_parts = 2");
    std::fs::write(&mapping, text).unwrap();
    let out = dir.path().join("load");
    ti_transform::run::run(&extract, &mapping, &out, None).unwrap();
    let recs = records(&out);
    let first = &recs["conversation:ticket:1"].body;
    let second = &recs["conversation:ticket:1:2"];
    assert_eq!(first["parts"].as_array().unwrap().len(), 2);
    assert_eq!(
        second.body["continued_from"]["$ref"],
        "conversation:ticket:1"
    );
    assert!(second.after.contains(&"conversation:ticket:1".to_string()));
    assert!(
        second.body["create"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Continuation of Track-It! ticket 1")
    );
    let later = second.body["create"]["created_at"].as_i64().unwrap();
    assert!(later >= first["create"]["created_at"].as_i64().unwrap());
}

#[test]
fn more_than_250_attributes_fail_clearly_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, mapping) = classic_setup(dir.path());
    let mut text = std::fs::read_to_string(&mapping).unwrap();
    for i in 0..251 {
        text.push_str(&format!(
            "\n[[attribute]]\ncolumn = \"WO_TEXT1\"\nname = \"ti_extra_{i}__c\"\ndata_type = \"string\"\n"
        ));
    }
    std::fs::write(&mapping, text).unwrap();
    let out = dir.path().join("load");
    let assert = transform_run(&extract, &mapping, &out).assert().code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("limit of 250"), "{err}");
}
