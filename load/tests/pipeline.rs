//! Issue 8 "Done when" on a generated fixture taken through the real stages: generate (classic, 200 tickets, the generator's minimum) →
//! serve → ti-extract run → ti-transform run (demo mapping) → ti-load run into intercom-sim seeded with the
//! fixture's admins.json, killed at seeded moments and resumed → counts per kind equal the bundle's records, zero
//! notifications, `ti-load audit` reports zero differences.

mod common;
use common::{TOKEN, http_get, show, ti_load};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use testkit_harness as h;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{cmd:?}:\n{}", show(&out));
}

fn count_records(bundle: &Path, kind: ti_shared::records::RecordKind) -> usize {
    match std::fs::File::open(bundle.join(kind.file_path())) {
        Ok(f) => ti_shared::records::read_records(f).count(),
        Err(_) => 0,
    }
}

#[test]
fn generated_fixture_through_extract_transform_and_load() {
    let tmp = h::TempDir::new();
    let dir = tmp.path();
    let fixture = h::generate_fixture(&dir.join("fixture"), "classic", 200, 3, &[]);
    let server = h::start_fixture_server(&fixture.join("trackit.sqlite"), &[]);
    let extract = dir.join("extract");
    run(Command::new(h::binary("ti-extract"))
        .env("TRACKIT_SQL_PASSWORD", h::FIXTURE_PASSWORD)
        .args([
            "run",
            "-q",
            "--connection-string",
            &h::fixture_connection_string(&server),
        ])
        .arg("--attachments-dir")
        .arg(fixture.join("attachments"))
        .arg("--out")
        .arg(&extract));
    let load = dir.join("load");
    run(Command::new(h::binary("ti-transform"))
        .arg("run")
        .arg(&extract)
        .arg("--mapping")
        .arg(h::workspace_root().join("testdata/mapping-classic.toml"))
        .arg("--out")
        .arg(&load));

    let admins: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("admins.json")).unwrap()).unwrap();
    let me_email = admins["me"]["email"].as_str().unwrap().to_string();
    let sim = h::start_simulator(
        TOKEN,
        &[
            "--seed-admins",
            fixture.join("admins.json").to_str().unwrap(),
            "--search-lag-ms",
            "1000",
        ],
    );
    let cfg = dir.join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!("[intercom]\nbase_url = \"{}\"\nrequests_per_minute = 60000\nworkers = 4\n\n[load]\nfallback_admin_email = \"{me_email}\"\n", sim.addr),
    )
    .unwrap();
    let journal = dir.join("out/journal.sqlite");
    let (b, j) = (load.to_str().unwrap(), journal.to_str().unwrap());
    let plan = ti_load(&cfg, &["plan", b], &[]);
    assert!(plan.status.success(), "{}", show(&plan));
    println!("{}", String::from_utf8_lossy(&plan.stdout));

    // A few seeded crashes (the notes phase excluded, see crash_and_faults.rs), then a clean finish.
    let args = [
        "run",
        b,
        "--journal",
        j,
        "--workspace-ready",
        "--search-lag-secs",
        "1.5",
    ];
    let mut crash_args = args.to_vec();
    crash_args.extend([
        "--phases",
        "preflight,attributes,companies,contacts,conversations,collections,articles",
    ]);
    for n in [5u64, 17, 40, 90, 160, 300] {
        let out = ti_load(
            &cfg,
            &crash_args,
            &[("TI_LOAD_CRASH_AFTER_REQUESTS", &n.to_string())],
        );
        if out.status.success() {
            break;
        }
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("crash injected"),
            "{}",
            show(&out)
        );
    }
    let out = ti_load(&cfg, &args, &[]);
    assert!(out.status.success(), "{}", show(&out));
    println!("{}", String::from_utf8_lossy(&out.stdout));

    let state = http_get(&sim.addr, "/_sim/state");
    let live = |k: &str| {
        state[k]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| !x["deleted"].as_bool().unwrap_or(false))
            .count()
    };
    use ti_shared::records::RecordKind as K;
    assert_eq!(live("conversations"), count_records(&load, K::Conversation));
    assert_eq!(live("contacts"), count_records(&load, K::Contact));
    assert_eq!(live("companies"), count_records(&load, K::Company));
    assert_eq!(live("collections"), count_records(&load, K::Collection));
    assert_eq!(live("articles"), count_records(&load, K::Article));
    assert_eq!(
        state["contact_notes"].as_array().unwrap().len(),
        count_records(&load, K::ContactNote)
    );
    assert_eq!(
        state["company_notes"].as_array().unwrap().len(),
        count_records(&load, K::CompanyNote)
    );
    assert_eq!(
        state["notifications"].as_array().unwrap().len(),
        0,
        "customers were notified"
    );

    let audit = ti_load(&cfg, &["audit", b, "--journal", j], &[]);
    let a: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("out/audit/audit.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    assert!(
        audit.status.success(),
        "{}\n{}",
        show(&audit),
        serde_json::to_string_pretty(&a["items"])
            .unwrap_or_default()
            .chars()
            .take(4000)
            .collect::<String>()
    );
    assert_eq!(a["differences"], 0);
    let html = std::fs::read_to_string(dir.join("out/report/migration-report.html")).unwrap();
    assert!(
        html.contains(
            "<tr><td>Tickets \u{2192} conversations</td><td>200</td><td>200</td><td>200</td>"
        ),
        "source rows of tickets missing from the report"
    );
    assert!(html.contains("0 difference(s)"));
    let crossref = std::fs::read_to_string(dir.join("out/crossref.csv")).unwrap();
    assert_eq!(
        crossref.lines().count(),
        1 + count_records(&load, K::Conversation)
    );
}
