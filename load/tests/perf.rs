//! Performance benchmark (ignored by default; `cargo test -p ti-load --test perf -- --ignored --nocapture`):
//! against the simulator at 10,000 requests per minute with 20 ms latency, sustained throughput of the
//! conversations phase must reach 95% of the limit with zero failed records; journal overhead per step is
//! measured on its own. Figures go to docs/perf.md, section "load".

mod common;
use common::*;
use std::time::Instant;

#[test]
#[ignore]
fn throughput_at_the_rate_limit_and_journal_overhead() {
    let tmp = testkit_harness::TempDir::new();
    let tickets: usize = std::env::var("TI_PERF_TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let bundle = build_bundle(
        &tmp.path().join("bundle"),
        &Shape {
            contacts: 200,
            tickets,
            ..Shape::default()
        },
    );
    let sim = start_sim(
        tmp.path(),
        &["--rate-limit-per-minute", "10000", "--latency-ms", "20"],
    );
    let cfg = tmp.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        format!("[intercom]\nbase_url = \"{}\"\nrequests_per_minute = 10000\nworkers = 16\n\n[load]\nfallback_admin_email = \"mig@example.com\"\n", sim.addr),
    )
    .unwrap();
    let j = tmp.path().join("out/journal.sqlite");
    let started = Instant::now();
    let run = ti_load(
        &cfg,
        &run_args(bundle.to_str().unwrap(), j.to_str().unwrap()),
        &[],
    );
    let wall = started.elapsed().as_secs_f64();
    assert!(run.status.success(), "{}", show(&run));
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    println!("{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("phase conversations:"))
        .unwrap();
    assert!(line.contains("failed 0"), "{line}");
    let inner = line.rsplit_once('(').unwrap().1;
    let requests: f64 = inner.split(' ').next().unwrap().parse().unwrap();
    let secs: f64 = inner
        .split(", ")
        .nth(1)
        .unwrap()
        .trim_end_matches("s)")
        .parse()
        .unwrap();
    let limit = 10_000.0 / 60.0;
    let rate = requests / secs;
    let done_line = stdout.lines().find(|l| l.starts_with("done:")).unwrap();
    println!(
        "conversations phase: {requests} requests in {secs:.1}s = {rate:.1}/s = {:.1}% of {limit:.1}/s; whole run {wall:.1}s; {done_line}",
        rate / limit * 100.0
    );

    // Sustained rate: state-changing requests per 10-second window of the simulator's clock, windows entirely
    // inside the run (the first and last are partial).
    let state = sim_state(&sim.addr);
    let mut per_window: std::collections::BTreeMap<i64, u64> = std::collections::BTreeMap::new();
    for r in state["requests"].as_array().unwrap() {
        if r["status"].as_u64() != Some(429) {
            *per_window
                .entry(r["at"].as_i64().unwrap() / 10)
                .or_default() += 1;
        }
    }
    let counts: Vec<u64> = per_window.values().copied().collect();
    let full = &counts[1..counts.len().saturating_sub(1).max(1)];
    let per_window_limit = (10_000f64 / 6.0).ceil();
    let sustained = full.iter().sum::<u64>() as f64 / full.len().max(1) as f64 / per_window_limit;
    println!(
        "requests per full 10-s window: {full:?} (limit {per_window_limit}); sustained {:.1}% of the limit",
        sustained * 100.0
    );

    // Journal overhead: one step = intent committed + outcome committed.
    let jdir = tempfile::tempdir().unwrap();
    let journal = ti_load::journal::Journal::open(&jdir.path().join("j.sqlite")).unwrap();
    let n = 5_000;
    let t = Instant::now();
    for i in 0..n {
        let key = format!("conversation:ticket:{i}");
        journal.intent(&key, "part:0", "bundle").unwrap();
        journal
            .step_done(&key, "part:0", Some("123"), "created")
            .unwrap();
    }
    let per_step_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("journal: {per_step_us:.0} µs per step (intent + outcome, WAL, synchronous=NORMAL)");
    assert!(
        per_step_us < 1000.0,
        "journal overhead {per_step_us:.0} µs per step"
    );
    assert!(
        sustained >= 0.95,
        "sustained {:.1}% of the limit",
        sustained * 100.0
    );
}
