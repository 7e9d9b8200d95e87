//! Shared test support: a hand-built load bundle (docs/records.md), the simulator, `ti-load` runs, and a
//! normalised view of the simulator state that does not depend on generated ids.
#![allow(dead_code, missing_docs)]

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use ti_shared::bundle::{BundleKind, BundleWriter, Producer};
use ti_shared::records::{Record, RecordKind, RecordSource};

pub const TOKEN: &str = "tok-SECRET-4f7e2a9c1b";
pub const TAG: &str = "Migrated from Track-It!";
pub const BASE_TIME: i64 = 1_262_340_000;
/// The record phases in order (DESIGN.md §7), between preflight and verify; spelled out here rather than taken
/// from `ti_load::ALL_PHASES`, so the tests notice when the product's list changes.
pub const RECORD_PHASES: [&str; 7] = [
    "attributes",
    "companies",
    "contacts",
    "conversations",
    "collections",
    "articles",
    "notes",
];

/// Shape of the generated bundle.
#[derive(Debug, Clone)]
pub struct Shape {
    pub contacts: usize,
    pub tickets: usize,
    /// Extra parts appended to every ticket (delta bundles).
    pub extra_parts: usize,
    /// Suffix added to contact names (delta: changed attributes).
    pub name_suffix: String,
    /// Include a contact whose email already exists in the workspace.
    pub existing_email: Option<String>,
    pub migration_id: String,
    /// Leave the article out (delta: a record that disappeared from the source).
    pub no_article: bool,
    /// A ticket that is open although its number is even (re-opened in Track-It!).
    pub reopened: Option<usize>,
    /// A ticket that gets one more reply, from its contact, after the extra parts.
    pub user_reply_on: Option<usize>,
    /// The records per kind written into report/report.json (as ti-transform does), the conversation count off
    /// by this much (`Some(0)`, the default: the true counts; `None`: no `records` map).
    pub report_records: Option<i64>,
    /// Leave report/report.json out of the bundle.
    pub no_report: bool,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            contacts: 4,
            tickets: 6,
            extra_parts: 0,
            name_suffix: String::new(),
            existing_email: None,
            migration_id: "m-test".into(),
            no_article: false,
            reopened: None,
            user_reply_on: None,
            report_records: Some(0),
            no_report: false,
        }
    }
}

fn source(pk: &str) -> RecordSource {
    RecordSource {
        table: "dbo.TEST".into(),
        pk: pk.into(),
    }
}

fn write_kind(
    counts: &std::cell::RefCell<BTreeMap<String, i64>>,
    w: &BundleWriter,
    kind: RecordKind,
    mut records: Vec<Record>,
) {
    counts
        .borrow_mut()
        .insert(kind.as_str().to_string(), records.len() as i64);
    records.sort_by(|a, b| a.key.cmp(&b.key));
    let text: String = records.iter().map(Record::to_line).collect();
    w.write_bytes(
        &kind.file_path(),
        text.as_bytes(),
        Some(records.len() as u64),
    )
    .unwrap();
}

/// A writer of a load bundle in `dir` for `migration_id`, as the tests' producer "test" 0.
pub fn load_writer(dir: &Path, migration_id: &str) -> BundleWriter {
    let w = BundleWriter::create(
        dir,
        BundleKind::Load,
        Producer {
            name: "test".into(),
            version: "0".into(),
        },
    )
    .unwrap();
    w.set_migration_id(migration_id);
    w
}

pub fn contact_key(i: usize) -> String {
    format!("contact:person:{i}")
}

/// Builds a load bundle in `dir`. Ticket `t` belongs to contact `t % contacts`, opens at BASE_TIME + t*1000,
/// has 3 + extra parts: an admin note by `jtech` (matched) with two attachments, an admin comment by `ghost`
/// (unmatched → fallback, "Originally by"), a user comment; even tickets are closed.
pub fn build_bundle(dir: &Path, shape: &Shape) -> PathBuf {
    let w = load_writer(dir, &shape.migration_id);
    let counts = std::cell::RefCell::new(BTreeMap::new());
    let blob_a = w.add_blob(b"PNG-bytes-of-a-screenshot").unwrap();
    let blob_b = w.add_blob(b"plain text log file\n").unwrap();
    w.write_bytes(
        "gaps/technicians.csv",
        b"key,name,email,login,active\njtech,Jane Tech,JANE@example.com ,jtech,1\nghost,Ghost Tech,ghost@nowhere.example,ghost,0\n",
        Some(2),
    )
    .unwrap();
    // The transform's report and a few gap files, shaped like ti-transform's (the migration report reads them).
    let mut report = json!({"producer": "test", "profile": "classic", "objects": [
        {"object": "ticket", "table": "dbo.TASKS", "source_rows": shape.tickets + 1, "migrated_rows": shape.tickets,
         "dropped_rows": 1, "dropped_by_reason": {"its requester does not exist": 1}, "balanced": true},
        {"object": "user", "table": "dbo.HDUsers", "source_rows": shape.contacts, "migrated_rows": shape.contacts,
         "dropped_rows": 0, "dropped_by_reason": {}, "balanced": true}],
        "unmapped_tables": ["dbo.zz_import"]});
    w.write_bytes(
        "gaps/truncated_values.csv",
        b"record,attribute,original_chars,original_value\nconversation:ticket:1,ti_memo,300,\"line one\nline two\"\n",
        Some(1),
    )
    .unwrap();
    w.write_bytes("gaps/sla_spec.md", b"# SLA handoff specification\n", None)
        .unwrap();
    w.write_json(
        "gaps/change_requests.json",
        &json!({"change_requests": [{"change_id": "1"}, {"change_id": "2"}]}),
    )
    .unwrap();
    let attr = |model: &str, name: &str| {
        Record::new(
            format!("data_attribute:{model}:{name}"),
            RecordKind::DataAttribute,
            vec![],
            source(name),
            json!({"name": name, "model": model, "data_type": "string", "description": "Track-It!"}),
        )
    };
    write_kind(
        &counts,
        &w,
        RecordKind::DataAttribute,
        vec![
            attr("contact", "ti_customer_id"),
            attr("company", "ti_company_code"),
        ],
    );
    let cattr = |name: &str| {
        Record::new(
            format!("conversation_attribute:{name}"),
            RecordKind::ConversationAttribute,
            vec![],
            source(name),
            json!({"name": name, "data_type": "string", "description": "Track-It!"}),
        )
    };
    write_kind(
        &counts,
        &w,
        RecordKind::ConversationAttribute,
        vec![cattr("ti_ticket_id"), cattr("ti_priority")],
    );
    write_kind(
        &counts,
        &w,
        RecordKind::Company,
        vec![Record::new(
            "company:ACME".into(),
            RecordKind::Company,
            vec!["data_attribute:company:ti_company_code".into()],
            source("ACME"),
            json!({"company_id": "ACME", "name": "Acme Corp", "custom_attributes": {"ti_company_code": "A-1"}}),
        )],
    );
    let mut contacts = Vec::new();
    for i in 0..shape.contacts {
        let email = if i == 0 {
            shape
                .existing_email
                .clone()
                .unwrap_or_else(|| format!("person{i}@example.com"))
        } else {
            format!("person{i}@example.com")
        };
        contacts.push(Record::new(contact_key(i), RecordKind::Contact, vec!["data_attribute:contact:ti_customer_id".into()], source(&i.to_string()),
            json!({"role": "user", "external_id": format!("ti-person-{i}"), "email": email, "name": format!("Person {i}{}", shape.name_suffix),
                   "custom_attributes": {"ti_customer_id": format!("C{i}{}", shape.name_suffix)}})));
    }
    write_kind(&counts, &w, RecordKind::Contact, contacts);
    write_kind(
        &counts,
        &w,
        RecordKind::ContactCompany,
        vec![Record::new(
            format!("contact_company:{}", contact_key(1)),
            RecordKind::ContactCompany,
            vec![contact_key(1), "company:ACME".into()],
            source("1"),
            json!({"contact": {"$ref": contact_key(1)}, "company": {"$ref": "company:ACME"}}),
        )],
    );
    let mut convs = Vec::new();
    for t in 0..shape.tickets {
        let c = contact_key(t % shape.contacts);
        let open = BASE_TIME + t as i64 * 1000;
        let mut parts = vec![
            json!({"author_name": "Jane Tech", "reply": {"type": "admin", "message_type": "note", "admin_id": {"$admin": "technician:jtech"},
                "body": format!("<p>Looked at ticket {t}</p>"), "created_at": open + 60, "skip_notifications": true},
                "attachments": [{"name": "shot.png", "content_type": "image/png", "blob": blob_a.blake3, "bytes": blob_a.bytes},
                                {"name": "log.txt", "content_type": "text/plain", "blob": blob_b.blake3, "bytes": blob_b.bytes}]}),
            json!({"author_name": "Ghost Tech", "reply": {"type": "admin", "message_type": "comment", "admin_id": {"$admin": "technician:ghost"},
                "body": format!("<p>Fixed ticket {t} &amp; done</p>"), "created_at": open + 120, "skip_notifications": true}, "attachments": []}),
            json!({"author_name": format!("Person {}", t % shape.contacts), "reply": {"type": "user", "message_type": "comment", "intercom_user_id": {"$ref": c},
                "body": format!("Thanks for {t}"), "created_at": open + 180}, "attachments": []}),
        ];
        for x in 0..shape.extra_parts {
            parts.push(json!({"author_name": "Jane Tech", "reply": {"type": "admin", "message_type": "note", "admin_id": {"$admin": "technician:jtech"},
                "body": format!("<p>Follow-up {x} on {t}</p>"), "created_at": open + 500 + x as i64, "skip_notifications": true}, "attachments": []}));
        }
        if shape.user_reply_on == Some(t) {
            parts.push(json!({"author_name": format!("Person {}", t % shape.contacts), "reply": {"type": "user", "message_type": "comment", "intercom_user_id": {"$ref": c},
                "body": format!("Still broken: {t}"), "created_at": open + 900}, "attachments": []}));
        }
        let closed = t % 2 == 0 && shape.reopened != Some(t);
        convs.push(Record::new(format!("conversation:ticket:{t}"), RecordKind::Conversation,
            vec![c.clone(), "conversation_attribute:ti_ticket_id".into()], source(&t.to_string()),
            json!({"ticket_number": t.to_string(),
                   "create": {"from": {"type": "user", "id": {"$ref": c}}, "body": format!("Ticket {t}: printer broken"), "created_at": open},
                   "parts": parts,
                   "update": {"title": format!("Printer {t}"), "custom_attributes": {"ti_ticket_id": t.to_string(), "ti_priority": "High"}},
                   "assignee": {"$admin": "technician:jtech"},
                   "close": if closed { json!({"admin_id": {"$admin": "technician:jtech"}}) } else { Value::Null },
                   "continued_from": null})));
    }
    write_kind(&counts, &w, RecordKind::Conversation, convs);
    write_kind(
        &counts,
        &w,
        RecordKind::Collection,
        vec![
            Record::new(
                "collection:Hardware".into(),
                RecordKind::Collection,
                vec![],
                source("1"),
                json!({"name": "Hardware", "description": "HW", "parent_id": null}),
            ),
            Record::new(
                "collection:Hardware/Printers".into(),
                RecordKind::Collection,
                vec!["collection:Hardware".into()],
                source("2"),
                json!({"name": "Printers", "parent_id": {"$ref": "collection:Hardware"}}),
            ),
        ],
    );
    let articles = vec![Record::new(
        "article:1".into(),
        RecordKind::Article,
        vec!["collection:Hardware/Printers".into()],
        source("1"),
        json!({"title": "Clearing a paper jam", "body": "<p>Open the tray.</p>", "author_id": {"$admin": "technician:jtech"}, "state": "published",
               "parent_id": {"$ref": "collection:Hardware/Printers"}, "parent_type": "collection"}),
    )];
    write_kind(
        &counts,
        &w,
        RecordKind::Article,
        if shape.no_article { vec![] } else { articles },
    );
    write_kind(
        &counts,
        &w,
        RecordKind::ContactNote,
        vec![Record::new(
            "contact_note:dbo.NOTES:1".into(),
            RecordKind::ContactNote,
            vec![contact_key(0)],
            source("1"),
            json!({"contact": {"$ref": contact_key(0)}, "body": "<p>VIP customer (2010-01-01, Jane Tech)</p>", "admin_id": {"$admin": "technician:jtech"}}),
        )],
    );
    // Two notes with the same body on one company (Track-It! allows it): a probe must tell them apart.
    let company_note = |pk: &str| {
        Record::new(
            format!("company_note:dbo.CNOTES:{pk}"),
            RecordKind::CompanyNote,
            vec!["company:ACME".into()],
            source(pk),
            json!({"company": {"$ref": "company:ACME"}, "body": "<p>Contract renewed (2010-02-01, Ghost Tech)</p>", "admin_id": {"$admin": null}}),
        )
    };
    write_kind(
        &counts,
        &w,
        RecordKind::CompanyNote,
        vec![company_note("1"), company_note("2")],
    );
    if let Some(off) = shape.report_records {
        let mut c = counts.borrow().clone();
        *c.entry("conversation".into()).or_default() += off;
        report["records"] = json!(c);
    }
    if !shape.no_report {
        w.write_json("report/report.json", &report).unwrap();
    }
    w.finish().unwrap();
    dir.to_path_buf()
}

pub fn write_admins(dir: &Path) -> PathBuf {
    let p = dir.join("admins.json");
    let v = json!({"me": {"id": "1001", "name": "Migration Admin", "email": "mig@example.com"},
                   "admins": [{"id": "1001", "name": "Migration Admin", "email": "mig@example.com"},
                              {"id": "1002", "name": "Jane Tech", "email": "jane@example.com"}],
                   "teams": []});
    std::fs::write(&p, v.to_string()).unwrap();
    p
}

pub fn start_sim(dir: &Path, extra: &[&str]) -> testkit_harness::ChildServer {
    let admins = write_admins(dir);
    let mut args = vec![
        "--seed-admins",
        admins.to_str().unwrap(),
        "--search-lag-ms",
        "1000",
    ];
    args.extend_from_slice(extra);
    testkit_harness::start_simulator(TOKEN, &args)
}

/// A simulator the default bundle was loaded into (one successful `ti-load run`), with everything a test needs
/// to go on: the simulator's address, the configuration, the bundle and the journal (`DIR/out/journal.sqlite`).
pub struct Loaded {
    pub sim: testkit_harness::ChildServer,
    pub base: String,
    pub cfg: PathBuf,
    pub bundle: String,
    pub journal: String,
}

/// Starts a simulator in `dir`, builds the default bundle (`DIR/b1`) and loads it (asserting success).
pub fn loaded(dir: &Path) -> Loaded {
    let sim = start_sim(dir, &[]);
    let base = sim.addr.clone();
    let bundle = build_bundle(&dir.join("b1"), &Shape::default())
        .to_string_lossy()
        .into_owned();
    let cfg = write_config(dir, &base, "");
    let journal = dir
        .join("out/journal.sqlite")
        .to_string_lossy()
        .into_owned();
    let run = ti_load(&cfg, &run_args(&bundle, &journal), &[]);
    assert!(run.status.success(), "{}", show(&run));
    Loaded {
        sim,
        base,
        cfg,
        bundle,
        journal,
    }
}

pub fn write_config(dir: &Path, base_url: &str, extra_load: &str) -> PathBuf {
    let p = dir.join("pipeline.toml");
    let text = format!(
        "[intercom]\nbase_url = \"{base_url}\"\nrequests_per_minute = 60000\nworkers = 4\ntimeout_seconds = 5\n\n[load]\nfallback_admin_email = \"mig@example.com\"\nmax_attempts = 6\n{extra_load}\n"
    );
    std::fs::write(&p, text).unwrap();
    p
}

pub fn ti_load(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ti-load"));
    cmd.arg("--config")
        .arg(config)
        .args(args)
        .env("INTERCOM_TOKEN", TOKEN)
        .env("RUST_LOG", "warn");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

pub fn run_args<'a>(bundle: &'a str, journal: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        bundle,
        "--journal",
        journal,
        "--workspace-ready",
        "--search-lag-secs",
        "1.5",
    ]
}

pub fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `GET {base}{path}` over plain HTTP/1.0 (no client library needed).
pub fn http_get(base: &str, path: &str) -> Value {
    http(base, "GET", path, None)
}

pub fn http(base: &str, method: &str, path: &str, body: Option<&Value>) -> Value {
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nIntercom-Version: 2.16\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

pub fn sim_state(base: &str) -> Value {
    http_get(base, "/_sim/state")
}

/// The simulator state with generated ids replaced by stable keys: contacts by external_id/email, conversations
/// by (created_at, contact), parts with type, author (admin id or contact external id), created_at, body,
/// attachments (name, blake3); state, title, attributes, assignee, tags by name.
pub fn normalise(state: &Value) -> Value {
    let contacts: BTreeMap<String, Value> = state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["deleted"].as_bool().unwrap_or(false))
        .map(|c| (c["id"].as_str().unwrap().to_string(), c.clone()))
        .collect();
    let ext = |id: &str| {
        contacts
            .get(id)
            .map(|c| {
                c["external_id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| c["email"].to_string())
            })
            .unwrap_or_else(|| format!("?{id}"))
    };
    let companies: BTreeMap<String, String> = state["companies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["company_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let tags = |v: &Value| -> Vec<String> {
        let mut t: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    let mut cs: Vec<Value> = contacts.values().map(|c| json!({
        "key": ext(c["id"].as_str().unwrap()), "email": c["email"], "name": c["name"], "custom": c["custom_attributes"],
        "companies": sorted(c["company_ids"].as_array().unwrap().iter().map(|x| json!(companies.get(x.as_str().unwrap()))).collect::<Vec<_>>()),
        "tags": tags(&c["tags"])})).collect();
    cs.sort_by_key(|c| c["key"].to_string());
    let mut convs: Vec<Value> = state["conversations"].as_array().unwrap().iter().filter(|c| !c["deleted"].as_bool().unwrap_or(false)).map(|c| {
        let author = |a: &Value| if a["type"] == "admin" { a["id"].as_str().unwrap().to_string() } else { ext(a["id"].as_str().unwrap()) };
        json!({"created_at": c["created_at"], "contact": ext(c["source"]["author"]["id"].as_str().unwrap()), "body": c["source"]["body"],
               "title": c["title"], "state": c["state"], "custom": c["custom_attributes"], "assignee": c["admin_assignee_id"], "tags": tags(&c["tags"]),
               "parts": c["parts"].as_array().unwrap().iter().map(|p| json!({
                    "type": p["part_type"], "author": author(&p["author"]),
                    "created_at": if matches!(p["part_type"].as_str(), Some("close" | "assignment")) { Value::Null } else { p["created_at"].clone() },
                    "body": p["body"], "skip": p["skip_notifications"],
                    "attachments": p["attachments"].as_array().unwrap().iter().map(|a| json!([a["name"], a["blake3"]])).collect::<Vec<_>>()})).collect::<Vec<_>>()})
    }).collect();
    convs.sort_by_key(|c| (c["created_at"].as_i64().unwrap(), c.to_string()));
    let live = |k: &str| live(state, k).len();
    // Notes per target (contact external_id / company_id), in creation order: body and author.
    let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in state["notes"].as_array().unwrap() {
        let target_id = n["target_id"].as_str().unwrap_or_default();
        let target = if n["target_type"] == "company" {
            format!(
                "company:{}",
                companies.get(target_id).cloned().unwrap_or_default()
            )
        } else {
            format!("contact:{}", ext(target_id))
        };
        notes
            .entry(target)
            .or_default()
            .push(format!("{}|{}", n["body"], n["author_id"]));
    }
    let mut colls: Vec<String> = state["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| !x["deleted"].as_bool().unwrap_or(false))
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    colls.sort();
    json!({
        "contacts": cs,
        "companies": sorted(state["companies"].as_array().unwrap().iter().filter(|x| !x["deleted"].as_bool().unwrap_or(false)).map(|c| json!({"company_id": c["company_id"], "name": c["name"], "custom": c["custom_attributes"], "tags": tags(&c["tags"])})).collect::<Vec<_>>()),
        "conversations": convs,
        "data_attributes": sorted(state["data_attributes"].as_array().unwrap().iter().map(|a| json!([a["model"], a["name"], a["archived"]])).collect()),
        "conversation_attributes": sorted(state["conversation_attributes"].as_array().unwrap().iter().map(|a| json!([a["name"], a["archived"]])).collect()),
        "collections": colls,
        "articles": live("articles"),
        "notes": notes,
        "notifications": state["notifications"].as_array().unwrap().len(),
    })
}

/// The live (not deleted) objects of `kind` (`"conversations"`, `"collections"`, …) in a simulator state.
pub fn live<'a>(state: &'a Value, kind: &str) -> Vec<&'a Value> {
    state[kind]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| !x["deleted"].as_bool().unwrap_or(false))
        .collect()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path())
            } else {
                out.push(e.path())
            }
        }
    }
    out
}

fn sorted(mut v: Vec<Value>) -> Vec<Value> {
    v.sort_by_key(|x| x.to_string());
    v
}

/// The first path where two JSON values differ (for readable assertion messages).
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                if let Some(d) = first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                ) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "{path}: length {} vs {}: {} vs {}",
                    x.len(),
                    y.len(),
                    a,
                    b
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

/// Asserts equality, reporting the first difference only.
pub fn assert_same(got: &Value, expected: &Value, what: &str) {
    if let Some(d) = first_difference(got, expected, "") {
        panic!("{what}: first difference at {d}");
    }
}
