//! Crash safety and faults: the load is killed at many seeded moments (including between a create and its journal
//! write) and resumed, or runs against injected faults; the final state always equals an uninterrupted run.

mod common;
use common::*;
use std::process::{Command, Stdio};

fn shape() -> Shape {
    Shape {
        contacts: 6,
        tickets: 16,
        ..Shape::default()
    }
}

/// The normalised state of an uninterrupted load of `shape` into a fresh simulator.
fn baseline(tmp: &std::path::Path, bundle: &str) -> serde_json::Value {
    let sim = start_sim(&tmp.join("base"), &[]);
    let cfg = write_config(&tmp.join("base"), &sim.addr, "");
    let j = tmp.join("base/out/journal.sqlite");
    let run = ti_load(&cfg, &run_args(bundle, j.to_str().unwrap()), &[]);
    assert!(run.status.success(), "{}", show(&run));
    normalise(&sim_state(&sim.addr))
}

/// A tiny deterministic generator (xorshift), so crash points come from a seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// False when the run finished; true when it stopped at the injected crash (anything else fails the test).
fn crashed(out: &std::process::Output) -> bool {
    if out.status.success() {
        return false;
    }
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("crash injected"),
        "{}",
        show(out)
    );
    true
}

#[test]
fn killed_at_many_moments_and_resumed_ends_identical_with_no_duplicates() {
    let tmp = testkit_harness::TempDir::new();
    std::fs::create_dir_all(tmp.path().join("base")).unwrap();
    std::fs::create_dir_all(tmp.path().join("crash")).unwrap();
    let bundle = build_bundle(&tmp.path().join("bundle"), &shape());
    let b = bundle.to_str().unwrap();
    let expected = baseline(tmp.path(), b);

    let sim = start_sim(&tmp.path().join("crash"), &[]);
    let cfg = write_config(&tmp.path().join("crash"), &sim.addr, "");
    let j = tmp.path().join("crash/out/journal.sqlite");
    let js = j.to_str().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut crashes = 0;
    // Deterministic crashes between a response and its journal write, up to the articles (so the notes are
    // left for the crashes below).
    let mut before_notes = run_args(b, js);
    before_notes.extend([
        "--phases",
        "preflight,attributes,companies,contacts,conversations,collections,articles",
    ]);
    for _ in 0..200 {
        let n = 1 + rng.next(12);
        let out = ti_load(
            &cfg,
            &before_notes,
            &[("TI_LOAD_CRASH_AFTER_REQUESTS", &n.to_string())],
        );
        if !crashed(&out) {
            break;
        }
        crashes += 1;
        if crashes >= 24 {
            break;
        }
    }
    // Crashes right after each note's response (two notes on one company share their body: the probe must
    // claim each note once, by body and creation order).
    let mut note_crashes = 0;
    for _ in 0..3 {
        let out = ti_load(
            &cfg,
            &run_args(b, js),
            &[
                ("TI_LOAD_CRASH_AFTER_REQUESTS", "1"),
                ("TI_LOAD_CRASH_IN_PHASE", "notes"),
            ],
        );
        if !crashed(&out) {
            break;
        }
        crashes += 1;
        note_crashes += 1;
    }
    assert!(
        note_crashes >= 2,
        "the notes phase was crashed into only {note_crashes} time(s)"
    );
    // Real SIGKILLs at seeded moments.
    for _ in 0..6 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ti-load"))
            .arg("--config")
            .arg(&cfg)
            .args(run_args(b, js))
            .env("INTERCOM_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50 + rng.next(400)));
        let _ = Command::new("kill")
            .arg("-9")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
        crashes += 1;
    }
    let last = ti_load(&cfg, &run_args(b, js), &[]);
    assert!(last.status.success(), "{}", show(&last));
    assert!(crashes >= 20, "only {crashes} crashes");
    let got = normalise(&sim_state(&sim.addr));
    assert_same(
        &got,
        &expected,
        &format!("state after {crashes} crashes vs an uninterrupted run"),
    );
}

fn fault_run(extra: &[&str], name: &str) {
    let tmp = testkit_harness::TempDir::new();
    for d in ["base", name] {
        std::fs::create_dir_all(tmp.path().join(d)).unwrap();
    }
    let bundle = build_bundle(&tmp.path().join("bundle"), &shape());
    let b = bundle.to_str().unwrap();
    let expected = baseline(tmp.path(), b);
    let sim = start_sim(&tmp.path().join(name), extra);
    let cfg = write_config(&tmp.path().join(name), &sim.addr, "");
    let j = tmp.path().join(name).join("out/journal.sqlite");
    let mut ok = false;
    let mut outputs = String::new();
    // A record whose attempts run out is failed and retried by the next run (at most three runs).
    for _ in 0..3 {
        let out = ti_load(&cfg, &run_args(b, j.to_str().unwrap()), &[]);
        outputs.push_str(&show(&out));
        if out.status.success() {
            ok = true;
            break;
        }
    }
    assert!(ok, "{outputs}");
    let got = normalise(&sim_state(&sim.addr));
    assert_same(&got, &expected, name);
}

#[test]
fn server_errors_and_connection_resets_end_identical() {
    fault_run(
        &[
            "--fault",
            "5xx=0.05",
            "--fault",
            "reset-after-apply=0.02",
            "--fault-seed",
            "7",
        ],
        "5xx",
    );
}

#[test]
fn a_429_storm_with_a_reset_in_the_past_ends_identical() {
    fault_run(&["--fault", "429-storm=3"], "storm");
}

#[test]
fn missing_rate_limit_headers_end_identical() {
    fault_run(
        &[
            "--fault",
            "no-ratelimit-headers",
            "--rate-limit-per-minute",
            "3000",
        ],
        "noheaders",
    );
}
