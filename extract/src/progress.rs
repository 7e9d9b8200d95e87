//! Progress: one bar per table (rows, bytes written, rows/s) when stderr is a terminal; plain log lines (one
//! per part and one per table) otherwise, so logs of unattended runs stay readable.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A rate as the bar shows it: whole rows with thousands separators, `19,538 rows/s` (indicatif's own
/// `{per_sec}` printed `19,537.734996456111/s`).
pub fn rate_text(per_sec: f64) -> String {
    let n = if per_sec.is_finite() && per_sec > 0.0 {
        per_sec.round() as u64
    } else {
        0
    };
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out} rows/s")
}

/// Progress display for a whole run.
pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Bars when stderr is a terminal (and `quiet` is false), log lines otherwise.
    pub fn new(quiet: bool) -> Self {
        let bars = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { bars }
    }

    /// Starts a table of `total` rows (its `COUNT_BIG(*)`).
    pub fn table(&self, name: &str, total: u64) -> TableProgress {
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total));
            let style = ProgressStyle::with_template(
                "{prefix:30!} {bar:30} {pos:>9}/{len:9} rows {msg} {rate:>14} {elapsed_precise}",
            )
            .map(|s| {
                s.with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&rate_text(state.per_sec()));
                    },
                )
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(name.to_string());
            bar
        });
        TableProgress {
            name: name.to_string(),
            total,
            bar,
            rows: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            start: Instant::now(),
        }
    }
}

/// Progress of one table.
pub struct TableProgress {
    name: String,
    total: u64,
    bar: Option<ProgressBar>,
    rows: AtomicU64,
    bytes: AtomicU64,
    start: Instant,
}

impl TableProgress {
    /// Sets the rows already done (resume).
    pub fn set_position(&self, rows: u64) {
        self.rows.store(rows, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.set_position(rows);
        }
    }

    /// Adds rows read.
    pub fn inc(&self, rows: u64) {
        self.rows.fetch_add(rows, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc(rows);
        }
    }

    /// Adds Parquet bytes written.
    pub fn add_bytes(&self, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(b) = &self.bar {
            b.set_message(format!("{:.1} MB", total as f64 / 1e6));
        }
    }

    /// A part of `rows` rows was committed; `written` rows of the table are in committed parts now.
    pub fn part_done(&self, path: &str, rows: u64, written: u64) {
        if self.bar.is_none() {
            tracing::debug!("{}: wrote {path} ({rows} rows)", self.name);
            tracing::info!(
                "{}: {written}/{} rows, {:.0} rows/s",
                self.name,
                self.total,
                self.rate()
            );
        }
    }

    fn rate(&self) -> f64 {
        self.rows.load(Ordering::Relaxed) as f64 / self.start.elapsed().as_secs_f64().max(1e-6)
    }

    /// Seconds since the table started.
    pub fn secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// The table is finished.
    pub fn finish(&self, rows: u64) {
        match &self.bar {
            Some(b) => b.finish(),
            None => tracing::info!(
                "{}: done, {rows} rows, {:.1} MB, {:.0} rows/s",
                self.name,
                self.bytes.load(Ordering::Relaxed) as f64 / 1e6,
                self.rate()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rate_text;

    #[test]
    fn rates_are_whole_rows_with_separators() {
        assert_eq!(rate_text(19_537.734_996), "19,538 rows/s");
        assert_eq!(rate_text(999.4), "999 rows/s");
        assert_eq!(rate_text(1_234_567.0), "1,234,567 rows/s");
        assert_eq!(rate_text(f64::NAN), "0 rows/s");
    }
}
