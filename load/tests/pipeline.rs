//! Issue 8 on a generated fixture taken through the real stages: generate (classic, 200 tickets, the generator's
//! minimum) → serve → `ti-extract run` → `ti-transform run --sample 100` (demo mapping: 100 tickets with what they
//! reference) → `ti-load`:
//!
//! 1. an uninterrupted load into simulator A: counts per kind equal the bundle's records, zero notifications,
//!    `ti-load audit` reports zero differences, the migration report and crossref are written;
//! 2. the same bundle into simulator B, killed with SIGKILL at 20+ moments chosen by a seed and spread over every
//!    phase (most of them right after a state-changing response and before its journal write, through the
//!    crash hook; a few at seeded wall-clock delays), resumed each time: the final state, normalised (ids
//!    replaced by stable keys), equals A's: nothing missing, nothing duplicated.
//!
//! Both simulators run without latency and with a high rate limit so the test stays well inside CI's time.

mod common;
use common::{TOKEN, assert_same, http_get, normalise, show, ti_load};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit_harness as h;

/// Record phases in order (every one must see a crash).
const PHASES: [&str; 7] = common::RECORD_PHASES;

/// Hook crashes aimed at each phase (at least 20 in all).
const HOOK_CRASHES: [usize; 7] = [3, 2, 3, 8, 2, 2, 4];

/// Crashes at a seeded wall-clock delay after the start (on top of the hook crashes).
const TIMED_CRASHES: usize = 4;

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

/// A tiny deterministic generator (xorshift), so crash moments come from a seed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The phase a state-changing request belongs to (None for preflight's tag).
fn phase_of(method: &str, path: &str) -> Option<&'static str> {
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    Some(match seg.as_slice() {
        ["data_attributes", ..] | ["conversations", "attributes", ..] => "attributes",
        ["companies"] | ["tags"] if method == "POST" => "companies",
        [_, _, "notes"] => "notes",
        ["contacts", ..] => "contacts",
        ["conversations", ..] => "conversations",
        ["help_center", ..] => "collections",
        ["articles", ..] => "articles",
        _ => return None,
    })
}

/// Successful state-changing requests the simulator logged, in arrival order.
fn applied(state: &Value) -> Vec<(String, String)> {
    state["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| (200..300).contains(&r["status"].as_u64().unwrap_or(0)))
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The phase a killed run was in: the first record phase without a reconciliation line on its stdout.
fn phase_reached(stdout: &str) -> &'static str {
    PHASES
        .iter()
        .find(|p| !stdout.contains(&format!("phase {p}:")))
        .copied()
        .unwrap_or("verify")
}

struct Setup {
    cfg: PathBuf,
    bundle: String,
    journal: String,
}

fn setup(dir: &Path, sim: &h::ChildServer, me_email: &str, bundle: &Path) -> Setup {
    std::fs::create_dir_all(dir).unwrap();
    let cfg = dir.join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!("[intercom]\nbase_url = \"{}\"\nrequests_per_minute = 600000\nworkers = 4\ntimeout_seconds = 10\n\n[load]\nfallback_admin_email = \"{me_email}\"\n", sim.addr),
    )
    .unwrap();
    Setup {
        cfg,
        bundle: bundle.to_str().unwrap().to_string(),
        journal: dir.join("out/journal.sqlite").to_str().unwrap().to_string(),
    }
}

impl Setup {
    fn args(&self) -> Vec<&str> {
        vec![
            "run",
            &self.bundle,
            "--journal",
            &self.journal,
            "--workspace-ready",
            "--search-lag-secs",
            "1.5",
        ]
    }

    fn spawn(&self, crash_after: Option<(&str, u64)>) -> std::process::Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ti-load"));
        cmd.arg("--config")
            .arg(&self.cfg)
            .args(self.args())
            .env("INTERCOM_TOKEN", TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((phase, n)) = crash_after {
            // Phases up to the aimed one only: a run whose crash point is never reached stops at the end of that
            // phase instead of finishing the load and taking the later moments with it.
            let upto = PHASES.iter().position(|p| *p == phase).unwrap();
            let list = std::iter::once("preflight")
                .chain(PHASES[..=upto].iter().copied())
                .collect::<Vec<_>>()
                .join(",");
            cmd.args(["--phases", &list]);
            cmd.env("TI_LOAD_CRASH_AFTER_REQUESTS", n.to_string())
                .env("TI_LOAD_CRASH_IN_PHASE", phase)
                .env("TI_LOAD_CRASH_WAIT_FOR_KILL", "true");
        }
        cmd.spawn().unwrap()
    }
}

fn start_sim(admins: &Path) -> h::ChildServer {
    h::start_simulator(
        TOKEN,
        &[
            "--seed-admins",
            admins.to_str().unwrap(),
            "--search-lag-ms",
            "1000",
            "--rate-limit-per-minute",
            "600000",
        ],
    )
}

/// Drains a child's pipe on a thread; the text arrives on the returned channel line by line.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// How one resumed run ended.
enum Ended {
    /// SIGKILLed in this phase, at the crash hook (true) or at the deadline (false).
    Killed(&'static str, bool),
    /// Finished on its own (exit status success?), with its output.
    Finished(bool, String),
}

/// Runs the load once; with `crash_after = (phase, n)`, SIGKILLs it when the crash hook announces that the nth
/// state-changing response of `phase` arrived; with `kill_after`, SIGKILLs it after that delay.
fn run_once(s: &Setup, crash_after: Option<(&str, u64)>, kill_after: Option<Duration>) -> Ended {
    let mut child = s.spawn(crash_after);
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let started = Instant::now();
    let mut err_text = String::new();
    let mut at_hook = false;
    let killed = loop {
        if let Ok(line) = stderr.recv_timeout(Duration::from_millis(10)) {
            at_hook = line.contains("crash point reached");
            err_text.push_str(&line);
            err_text.push('\n');
            if at_hook {
                break true;
            }
            continue;
        }
        if kill_after.is_some_and(|d| started.elapsed() >= d) {
            break true;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break false;
        }
    };
    if killed {
        child.kill().unwrap(); // SIGKILL
    }
    let status = child.wait().unwrap();
    let out_text: String = stdout.iter().map(|l| l + "\n").collect();
    let finished = status.success() || status.code().is_some();
    if killed && !finished {
        return Ended::Killed(phase_reached(&out_text), at_hook);
    }
    err_text.extend(stderr.iter().map(|l| l + "\n"));
    Ended::Finished(
        status.success(),
        format!("status {status:?}\nstdout:\n{out_text}\nstderr:\n{err_text}"),
    )
}

fn prepare(dir: &Path) -> (PathBuf, PathBuf) {
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
        .args(["--sample", "100"])
        .arg("--out")
        .arg(&load));
    (load, fixture.join("admins.json"))
}

#[test]
fn generated_fixture_loads_exactly_once_through_20_sigkills() {
    let started = Instant::now();
    let tmp = h::TempDir::new();
    let dir = tmp.path();
    let (load, admins_json) = prepare(dir);
    let admins: Value = serde_json::from_slice(&std::fs::read(&admins_json).unwrap()).unwrap();
    let me_email = admins["me"]["email"].as_str().unwrap().to_string();
    let prepared = started.elapsed();

    // 1. Uninterrupted.
    let sim_a = start_sim(&admins_json);
    let a = setup(&dir.join("a"), &sim_a, &me_email, &load);
    let plan = ti_load(&a.cfg, &["plan", &a.bundle], &[]);
    assert!(plan.status.success(), "{}", show(&plan));
    println!("{}", String::from_utf8_lossy(&plan.stdout));
    let out = ti_load(&a.cfg, &a.args(), &[]);
    assert!(out.status.success(), "{}", show(&out));
    println!("{}", String::from_utf8_lossy(&out.stdout));
    let state_a = http_get(&sim_a.addr, "/_sim/state");
    let live = |k: &str| {
        state_a[k]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| !x["deleted"].as_bool().unwrap_or(false))
            .count()
    };
    use ti_shared::records::RecordKind as K;
    let conversations = count_records(&load, K::Conversation);
    assert!(conversations >= 100, "{conversations} conversations");
    assert_eq!(live("conversations"), conversations);
    assert_eq!(live("contacts"), count_records(&load, K::Contact));
    assert_eq!(live("companies"), count_records(&load, K::Company));
    assert_eq!(live("collections"), count_records(&load, K::Collection));
    assert_eq!(live("articles"), count_records(&load, K::Article));
    assert_eq!(
        state_a["contact_notes"].as_array().unwrap().len(),
        count_records(&load, K::ContactNote)
    );
    assert_eq!(
        state_a["company_notes"].as_array().unwrap().len(),
        count_records(&load, K::CompanyNote)
    );
    assert_eq!(
        state_a["notifications"].as_array().unwrap().len(),
        0,
        "customers were notified"
    );
    let audit = ti_load(&a.cfg, &["audit", &a.bundle, "--journal", &a.journal], &[]);
    let out_a = dir.join("a/out");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(out_a.join("audit/audit.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    assert!(
        audit.status.success(),
        "{}\n{}",
        show(&audit),
        serde_json::to_string_pretty(&report["items"])
            .unwrap_or_default()
            .chars()
            .take(4000)
            .collect::<String>()
    );
    assert_eq!(report["differences"], 0);
    let html = std::fs::read_to_string(out_a.join("report/migration-report.html")).unwrap();
    assert!(html.contains("Tickets \u{2192} conversations"));
    assert!(html.contains("0 difference(s)"));
    let crossref = std::fs::read_to_string(out_a.join("crossref.csv")).unwrap();
    assert_eq!(crossref.lines().count(), 1 + conversations);
    let expected = normalise(&state_a);
    let uninterrupted = started.elapsed() - prepared;

    // How many state-changing requests each phase sends in the uninterrupted run.
    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    for (m, p) in applied(&state_a) {
        if p == "/tags" && !sizes.contains_key("attributes") {
            continue; // preflight's migration tag
        }
        if let Some(phase) = phase_of(&m, &p) {
            *sizes.entry(phase).or_default() += 1;
        }
    }
    // Seeded crash moments: HOOK_CRASHES[i] positions inside phase i, kept clear of the phase's last requests
    // (a resumed run re-sends a few and other workers run on until the kill lands).
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut targets: Vec<(&str, u64)> = Vec::new();
    for (phase, n) in PHASES.iter().zip(HOOK_CRASHES) {
        let size = sizes[phase];
        let room = if size > 40 {
            size - 8
        } else {
            size.saturating_sub(3).max(1)
        };
        let mut pos: Vec<u64> = (0..n).map(|_| 1 + rng.below(room)).collect();
        pos.sort();
        targets.extend(pos.into_iter().map(|p| (*phase, p)));
    }
    // Timed kills go before seeded hook crashes.
    let mut timed_at: BTreeSet<usize> = BTreeSet::new();
    while timed_at.len() < TIMED_CRASHES {
        timed_at.insert(rng.below(targets.len() as u64) as usize);
    }

    // 2. Killed and resumed.
    let sim_b = start_sim(&admins_json);
    let b = setup(&dir.join("b"), &sim_b, &me_email, &load);
    let mut kills: Vec<String> = Vec::new();
    let mut hook_phases: BTreeSet<&str> = BTreeSet::new();
    let mut previous = ("", 0u64);
    for (i, &(aimed, pos)) in targets.iter().enumerate() {
        // Responses of the aimed phase to let through in this run: the distance from the previous crash in the
        // same phase (its responses before that crash are already applied).
        let n = if previous.0 == aimed {
            (pos - previous.1).max(1)
        } else {
            pos
        };
        previous = (aimed, pos);
        // A timed kill: at a seeded delay, or at the hook if that comes first (so a slow machine never lets it
        // run past the moments still to come).
        let timed = timed_at
            .contains(&i)
            .then(|| Duration::from_millis(100 + rng.below(500)));
        for kill_after in timed.into_iter().map(Some).chain([None]) {
            match run_once(&b, Some((aimed, n)), kill_after) {
                Ended::Killed(phase, true) => {
                    assert_eq!(phase, aimed, "the hook fired outside its phase");
                    hook_phases.insert(phase);
                    kills.push(format!("hook: {aimed} response {pos} (+{n} in this run)"));
                    break;
                }
                Ended::Killed(phase, false) => {
                    kills.push(format!("timed: {kill_after:?} after the start, in {phase}"));
                    let index = |p: &str| PHASES.iter().position(|x| *x == p);
                    if index(phase) >= index(aimed) {
                        break; // this moment is taken; the next one comes from the next target
                    }
                }
                Ended::Finished(ok, text) => {
                    assert!(ok, "{text}");
                    kills.push(format!(
                        "(not killed: run {i} aimed at {aimed} #{pos} finished)"
                    ));
                    break;
                }
            }
        }
    }
    let last = ti_load(&b.cfg, &b.args(), &[]);
    assert!(last.status.success(), "{}", show(&last));
    let crashes = kills.iter().filter(|k| !k.starts_with('(')).count();
    println!("{crashes} SIGKILLs:\n  {}", kills.join("\n  "));
    assert!(crashes >= 20, "only {crashes} kills");
    for p in PHASES {
        assert!(
            hook_phases.contains(p),
            "no crash in phase {p}: {hook_phases:?}"
        );
    }
    let state_b = http_get(&sim_b.addr, "/_sim/state");
    assert_same(
        &normalise(&state_b),
        &expected,
        &format!("state after {crashes} SIGKILLs vs an uninterrupted run"),
    );
    let audit = ti_load(&b.cfg, &["audit", &b.bundle, "--journal", &b.journal], &[]);
    assert!(audit.status.success(), "{}", show(&audit));
    println!(
        "timings: fixture+extract+transform {:.1}s, uninterrupted load+audit {:.1}s, {crashes} kills and resumes {:.1}s",
        prepared.as_secs_f64(),
        uninterrupted.as_secs_f64(),
        (started.elapsed() - prepared - uninterrupted).as_secs_f64()
    );
}
