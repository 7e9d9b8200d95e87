//! The one rate limiter shared by every worker (intercom-api.md §2).
//!
//! Intercom splits its per-minute budget into 10-second windows and reports the current window in
//! `X-RateLimit-Limit` (requests per window), `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds when
//! the window refills). The limiter:
//! - never sends more than `ceil(requests_per_minute / 6)` requests per 10-second window (the configured ceiling);
//! - follows the server's window when headers are present (window end = `X-RateLimit-Reset`, budget = the smaller
//!   of the header limit and the ceiling, and never more than the server says remain);
//! - ignores a reset time in the past (stale headers) and works on the ceiling alone when headers are missing;
//! - on a 429 pauses **every** worker until the reset time plus 50–500 ms of jitter, or, when the reset is missing
//!   or already past, for a jittered exponential backoff (1 s, 2 s, 4 s … capped at 10 s).

use rand::Rng;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of Intercom's rate-limit window, seconds.
pub const WINDOW_SECS: f64 = 10.0;

/// Rate-limit headers of one response, when present and parseable.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateHeaders {
    /// `X-RateLimit-Limit`: requests per window.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Reset`: Unix seconds.
    pub reset: Option<i64>,
}

impl RateHeaders {
    /// Reads the three headers from a response's header map (case-insensitive; unparseable values count as absent).
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Self {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<i64>().ok())
        };
        Self {
            limit: num("x-ratelimit-limit").and_then(|v| u32::try_from(v).ok()),
            remaining: num("x-ratelimit-remaining").and_then(|v| u32::try_from(v).ok()),
            reset: num("x-ratelimit-reset"),
        }
    }
}

#[derive(Debug)]
struct State {
    ceiling: u32,
    allowance: u32,
    window_end: f64,
    sent: u32,
    server_remaining: Option<u32>,
    pause_until: f64,
    consecutive_429: u32,
    total_429: u64,
    total_waits: u64,
}

/// The shared limiter. Cheap to call; hold it in an `Arc`.
#[derive(Debug)]
pub struct Limiter {
    state: Mutex<State>,
}

/// What [`Limiter::acquire`] decided: go now, or sleep this long and ask again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Send the request now (the slot is taken).
    Go,
    /// Sleep this long, then ask again.
    Wait(Duration),
}

/// Current Unix time, fractional seconds.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Limiter {
    /// A limiter allowing at most `requests_per_minute` (split into 10-second windows of `ceil(n / 6)`).
    pub fn new(requests_per_minute: u32) -> Self {
        let ceiling = requests_per_minute.max(1).div_ceil(6);
        Self {
            state: Mutex::new(State {
                ceiling,
                allowance: ceiling,
                window_end: 0.0,
                sent: 0,
                server_remaining: None,
                pause_until: 0.0,
                consecutive_429: 0,
                total_429: 0,
                total_waits: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Requests allowed per window by the configured ceiling.
    pub fn ceiling_per_window(&self) -> u32 {
        self.lock().ceiling
    }

    /// 429 responses seen so far.
    pub fn total_429(&self) -> u64 {
        self.lock().total_429
    }

    /// Times a worker had to wait for a slot.
    pub fn total_waits(&self) -> u64 {
        self.lock().total_waits
    }

    /// Decides at Unix time `now` whether a request may go (pure bookkeeping; see [`acquire`](Self::acquire)).
    pub fn try_acquire(&self, now: f64) -> Decision {
        let mut s = self.lock();
        if now < s.pause_until {
            s.total_waits += 1;
            return Decision::Wait(Duration::from_secs_f64(s.pause_until - now));
        }
        if now >= s.window_end {
            s.window_end = now + WINDOW_SECS;
            s.sent = 0;
            s.server_remaining = None;
        }
        let server_ok = s.server_remaining.is_none_or(|r| r > 0);
        if s.sent < s.allowance && server_ok {
            s.sent += 1;
            if let Some(r) = s.server_remaining.as_mut() {
                *r -= 1;
            }
            return Decision::Go;
        }
        s.total_waits += 1;
        let jitter = rand::rng().random_range(0.005..0.050);
        Decision::Wait(Duration::from_secs_f64(
            (s.window_end - now).max(0.0) + jitter,
        ))
    }

    /// Waits for a slot (all workers share the budget).
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire(unix_now()) {
                Decision::Go => return,
                Decision::Wait(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// Records the headers of a non-429 response received at `now`.
    pub fn observe(&self, h: &RateHeaders, now: f64) {
        let mut s = self.lock();
        s.consecutive_429 = 0;
        let (Some(limit), Some(remaining), Some(reset)) = (h.limit, h.remaining, h.reset) else {
            if let Some(limit) = h.limit {
                s.allowance = s.ceiling.min(limit.max(1));
            }
            return;
        };
        s.allowance = s.ceiling.min(limit.max(1));
        let reset = reset as f64;
        if reset <= now {
            return; // stale: the window it describes is over
        }
        if (reset - s.window_end).abs() > 0.5 {
            // A reset in the future names the server's current window (windows do not overlap): adopt its
            // boundary and its count, whether our own window was provisional or the server moved on.
            s.window_end = reset;
            s.sent = limit.saturating_sub(remaining).min(s.allowance);
            s.server_remaining = Some(remaining);
        } else {
            s.window_end = reset;
            s.server_remaining = Some(s.server_remaining.map_or(remaining, |r| r.min(remaining)));
        }
    }

    /// Records a 429 received at `now`: every worker pauses until the reset time plus jitter, or for a jittered
    /// backoff when the reset is missing or already past. Returns the pause.
    pub fn on_429(&self, h: &RateHeaders, now: f64) -> Duration {
        let mut s = self.lock();
        s.total_429 += 1;
        s.consecutive_429 += 1;
        let mut rng = rand::rng();
        let until = match h.reset.map(|r| r as f64) {
            Some(reset) if reset > now => reset + rng.random_range(0.05..0.5),
            _ => {
                let backoff =
                    (2f64.powi(s.consecutive_429.saturating_sub(1).min(4) as i32)).min(10.0);
                now + backoff * rng.random_range(0.5..1.0)
            }
        };
        if until > s.pause_until {
            s.pause_until = until;
        }
        s.window_end = s.pause_until;
        s.sent = s.allowance;
        s.server_remaining = None;
        Duration::from_secs_f64((s.pause_until - now).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(limit: u32, remaining: u32, reset: i64) -> RateHeaders {
        RateHeaders {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(reset),
        }
    }

    #[test]
    fn ceiling_caps_each_window() {
        let l = Limiter::new(60); // 10 per window
        let now = 1000.0;
        for _ in 0..10 {
            assert_eq!(l.try_acquire(now), Decision::Go);
        }
        assert!(matches!(l.try_acquire(now + 1.0), Decision::Wait(d) if d.as_secs_f64() > 8.9));
        assert_eq!(l.try_acquire(now + 10.0), Decision::Go);
    }

    #[test]
    fn headers_align_the_window_and_cap_remaining() {
        let l = Limiter::new(10_000);
        let now = 1003.0;
        assert_eq!(l.try_acquire(now), Decision::Go);
        l.observe(&h(100, 2, 1010), now);
        assert_eq!(l.try_acquire(now), Decision::Go);
        assert_eq!(l.try_acquire(now), Decision::Go);
        assert!(
            matches!(l.try_acquire(now), Decision::Wait(d) if d.as_secs_f64() >= 7.0 && d.as_secs_f64() < 7.1)
        );
        assert_eq!(l.try_acquire(1010.0), Decision::Go);
    }

    #[test]
    fn reset_in_the_past_is_ignored_and_missing_headers_fall_back_to_the_ceiling() {
        let l = Limiter::new(600); // 100 per window
        l.observe(&h(5, 0, 900), 1000.0);
        // limit 5 applies, the past reset does not block
        for _ in 0..5 {
            assert_eq!(l.try_acquire(1000.0), Decision::Go);
        }
        assert!(matches!(l.try_acquire(1000.0), Decision::Wait(_)));
        l.observe(&RateHeaders::default(), 1000.0);
        assert_eq!(l.try_acquire(1011.0), Decision::Go);
    }

    #[test]
    fn a_429_pauses_everyone_until_reset_or_backoff() {
        let l = Limiter::new(10_000);
        let d = l.on_429(&h(10, 0, 1005), 1000.0);
        assert!(d.as_secs_f64() >= 5.0 && d.as_secs_f64() < 5.6);
        assert!(matches!(l.try_acquire(1004.0), Decision::Wait(_)));
        assert_eq!(l.try_acquire(1006.0), Decision::Go);
        // reset in the past: bounded, jittered backoff, growing
        l.observe(&RateHeaders::default(), 1999.0);
        let d1 = l.on_429(&h(10, 0, 990), 2000.0);
        assert!(d1.as_secs_f64() >= 0.5 && d1.as_secs_f64() <= 1.0, "{d1:?}");
        let d2 = l.on_429(&RateHeaders::default(), 2000.0);
        assert!(d2.as_secs_f64() >= 1.0 && d2.as_secs_f64() <= 2.0, "{d2:?}");
        for _ in 0..10 {
            l.on_429(&RateHeaders::default(), 2000.0);
        }
        let capped = l.on_429(&RateHeaders::default(), 2000.0);
        assert!(
            capped.as_secs_f64() <= 10.0,
            "backoff is bounded: {capped:?}"
        );
    }
}
