//! A progress bar per phase on a terminal (with an ETA from the rate limit), plain log lines otherwise.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Progress of one phase.
#[derive(Debug)]
pub struct Progress {
    name: String,
    total: u64,
    calls_per_record: f64,
    calls_per_second: f64,
    done: AtomicU64,
    bar: Option<ProgressBar>,
    last_log: Mutex<Instant>,
}

impl Progress {
    /// Starts the progress of `name` over `total` records of about `calls_per_record` API calls each, at most
    /// `calls_per_second` (the limiter's ceiling).
    pub fn new(name: &str, total: u64, calls_per_record: f64, calls_per_second: f64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template("{prefix:>14} [{bar:40}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(name.to_string());
            bar
        });
        Self {
            name: name.to_string(),
            total,
            calls_per_record,
            calls_per_second: calls_per_second.max(0.001),
            done: AtomicU64::new(0),
            bar,
            last_log: Mutex::new(Instant::now()),
        }
    }

    /// Seconds left at the rate limit for the records not yet done.
    pub fn eta_secs(&self) -> f64 {
        let left = self.total.saturating_sub(self.done.load(Ordering::Relaxed)) as f64;
        left * self.calls_per_record / self.calls_per_second
    }

    /// One record finished.
    pub fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let eta = self.eta_secs();
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("ETA ≥ {eta:.0}s at the rate limit"));
            return;
        }
        let mut last = self.last_log.lock().unwrap_or_else(|p| p.into_inner());
        if done == self.total || last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            tracing::info!(
                "{}: {done}/{} records, ETA ≥ {eta:.0}s at the rate limit",
                self.name,
                self.total
            );
        }
    }

    /// Ends the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
