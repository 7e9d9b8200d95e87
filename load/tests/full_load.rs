//! A full load of a hand-built bundle into the simulator ends in the state the bundle describes.

mod common;
use common::*;
use serde_json::Value;

#[test]
fn full_load_matches_the_bundle_and_sends_no_notification() {
    let tmp = testkit_harness::TempDir::new();
    let bundle = build_bundle(&tmp.path().join("bundle"), &Shape::default());
    let sim = start_sim(tmp.path(), &[]);
    let cfg = write_config(tmp.path(), &sim.addr, "");
    let out = tmp.path().join("out");
    let journal = out.join("journal.sqlite");
    let (b, j) = (bundle.to_str().unwrap(), journal.to_str().unwrap());

    let plan = ti_load(&cfg, &["plan", b], &[]);
    assert!(plan.status.success(), "{}", show(&plan));
    let plan_text = String::from_utf8_lossy(&plan.stdout).to_string();

    // --dry-run: preflight, then what would be sent; nothing is created.
    let mut dry_args = run_args(b, j);
    dry_args.push("--dry-run");
    let dry = ti_load(&cfg, &dry_args, &[]);
    assert!(dry.status.success(), "{}", show(&dry));
    let dry_text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry_text.contains("conversation conversation:ticket:0 ")
            && dry_text.contains("<id of contact:person:0>"),
        "{dry_text}"
    );
    assert!(
        sim_state(&sim.addr)["requests"]
            .as_array()
            .unwrap()
            .is_empty(),
        "dry run changed the workspace"
    );

    let run = ti_load(&cfg, &run_args(b, j), &[]);
    assert!(run.status.success(), "{}", show(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    for phase in std::iter::once("preflight")
        .chain(RECORD_PHASES)
        .chain(["verify"])
    {
        assert!(
            stdout.contains(&format!("phase {phase}:")),
            "no reconciliation line for {phase}:\n{stdout}"
        );
    }

    let state = sim_state(&sim.addr);
    let n = normalise(&state);
    assert_eq!(n["contacts"].as_array().unwrap().len(), 4);
    assert_eq!(n["companies"].as_array().unwrap().len(), 1);
    assert_eq!(n["conversations"].as_array().unwrap().len(), 6);
    assert_eq!(
        n["collections"],
        serde_json::json!(["Hardware", "Printers"])
    );
    assert_eq!(n["articles"], 1);
    assert_eq!(n["notes"].as_object().unwrap().len(), 2);
    assert_eq!(n["data_attributes"].as_array().unwrap().len(), 2);
    assert_eq!(n["conversation_attributes"].as_array().unwrap().len(), 2);
    assert_eq!(n["notifications"], 0, "customers were notified");
    assert_eq!(state["notifications"].as_array().unwrap().len(), 0);
    for c in n["contacts"].as_array().unwrap() {
        assert_eq!(c["tags"], serde_json::json!([TAG]));
    }
    assert_eq!(n["contacts"][1]["companies"], serde_json::json!(["ACME"]));
    assert_eq!(n["companies"][0]["tags"], serde_json::json!([TAG]));
    assert_eq!(n["companies"][0]["custom"]["ti_company_code"], "A-1");

    for (t, c) in n["conversations"].as_array().unwrap().iter().enumerate() {
        let open = BASE_TIME + t as i64 * 1000;
        assert_eq!(c["created_at"], open);
        assert_eq!(c["contact"], format!("ti-person-{}", t % 4));
        assert_eq!(c["title"], format!("Printer {t}"));
        assert_eq!(c["custom"]["ti_ticket_id"], t.to_string());
        assert_eq!(c["tags"], serde_json::json!([TAG]));
        assert_eq!(c["assignee"], "1002");
        assert_eq!(c["state"], if t % 2 == 0 { "closed" } else { "open" });
        let parts = c["parts"].as_array().unwrap();
        let replies: Vec<&Value> = parts
            .iter()
            .filter(|p| p["type"] != "assignment" && p["type"] != "close")
            .collect();
        assert_eq!(replies.len(), 3, "{c}");
        assert_eq!(
            (
                replies[0]["type"].as_str(),
                replies[0]["author"].as_str(),
                replies[0]["created_at"].as_i64()
            ),
            (Some("note"), Some("1002"), Some(open + 60))
        );
        assert_eq!(replies[0]["attachments"].as_array().unwrap().len(), 2);
        assert_eq!(replies[0]["attachments"][0][0], "shot.png");
        assert_eq!(
            replies[0]["attachments"][0][1],
            blake3::hash(b"PNG-bytes-of-a-screenshot")
                .to_hex()
                .to_string()
        );
        assert_eq!(
            (
                replies[1]["type"].as_str(),
                replies[1]["author"].as_str(),
                replies[1]["created_at"].as_i64()
            ),
            (Some("comment"), Some("1001"), Some(open + 120))
        );
        assert_eq!(
            replies[1]["body"],
            format!("<p>Originally by Ghost Tech</p><p>Fixed ticket {t} &amp; done</p>")
        );
        assert_eq!(replies[1]["skip"], true);
        assert_eq!(
            (
                replies[2]["type"].as_str(),
                replies[2]["author"].as_str(),
                replies[2]["created_at"].as_i64()
            ),
            (
                Some("comment"),
                Some(format!("ti-person-{}", t % 4).as_str()),
                Some(open + 180)
            )
        );
        assert!(
            replies[1..]
                .iter()
                .all(|p| p["attachments"].as_array().unwrap().is_empty())
        );
        // close is the last part of a closed ticket
        if t % 2 == 0 {
            assert_eq!(parts.last().unwrap()["type"], "close");
        }
    }

    let crossref = std::fs::read_to_string(out.join("crossref.csv")).unwrap();
    assert_eq!(crossref.lines().count(), 7, "{crossref}");
    assert!(crossref.contains("/a/inbox/simws001/inbox/conversation/"));
    assert!(out.join("report/migration-report.html").exists());
    let html = std::fs::read_to_string(out.join("report/migration-report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("crossref.csv"));

    let status = ti_load(&cfg, &["status", "--journal", j], &[]);
    assert!(status.status.success(), "{}", show(&status));
    assert!(String::from_utf8_lossy(&status.stdout).contains("conversation"));

    let audit = ti_load(&cfg, &["audit", b, "--journal", j], &[]);
    assert!(audit.status.success(), "{}", show(&audit));
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit/audit.json")).unwrap())
            .unwrap();
    assert_eq!(a["differences"], 0, "{a:#}");
    assert!(out.join("audit/audit.html").exists());

    // A sampled audit draws its records with a seed (default: from the bundle id) and prints it; the same seed
    // draws the same records, and the sample is not simply the first records.
    let sampled = |extra: &[&str]| {
        let mut args = vec!["audit", b, "--journal", j, "--sample", "3"];
        args.extend_from_slice(extra);
        let o = ti_load(&cfg, &args, &[]);
        assert!(o.status.success(), "{}", show(&o));
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let seed: u64 = text
            .split("seed ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no seed printed: {text}"));
        let a: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("audit/audit.json")).unwrap())
                .unwrap();
        assert_eq!(a["seed"], seed);
        assert_eq!(a["differences"], 0, "{a:#}");
        (seed, a["checked"].as_u64().unwrap())
    };
    let (seed, checked) = sampled(&[]);
    assert_eq!(sampled(&[]).0, seed, "the default seed is not repeatable");
    assert_eq!(sampled(&["--seed", "42"]), (42, checked));
    let contacts: Vec<ti_shared::records::Record> = ti_shared::records::read_records(
        std::fs::File::open(bundle.join(ti_shared::records::RecordKind::Contact.file_path()))
            .unwrap(),
    )
    .map(Result::unwrap)
    .collect();
    let first_keys = |seed: u64| -> Vec<String> {
        ti_load::audit::Sample { per_kind: 3, seed }
            .pick(&contacts)
            .iter()
            .map(|r| r.key.clone())
            .collect()
    };
    assert_eq!(first_keys(seed), first_keys(seed));
    assert!(
        (0..8).any(|s| first_keys(s) != first_keys(seed)),
        "every seed picks the same contacts"
    );

    // A second run changes nothing.
    let requests_before = state["requests"].as_array().unwrap().len();
    let again = ti_load(&cfg, &run_args(b, j), &[]);
    assert!(again.status.success(), "{}", show(&again));
    let state2 = sim_state(&sim.addr);
    assert_eq!(normalise(&state2), n);
    // only preflight's POST /tags (idempotent) was sent again
    assert_eq!(
        state2["requests"].as_array().unwrap().len(),
        requests_before + 1
    );

    // plan counts exactly the calls of an uninterrupted run
    let planned: u64 = plan_text
        .lines()
        .find_map(|l| l.strip_prefix("total API calls: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let made: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("done: "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        made, planned,
        "plan said {planned} API calls, the run made {made}\n{plan_text}"
    );

    // The token never appears in any file written.
    for f in common::files_under(&out) {
        let bytes = std::fs::read(&f).unwrap();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(TOKEN), "token found in {}", f.display());
    }
    assert!(!String::from_utf8_lossy(&run.stderr).contains(TOKEN));
}
