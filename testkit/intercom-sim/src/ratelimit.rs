//! Intercom's rate limit: the per-minute budget split evenly into 10-second windows aligned to Unix time
//! (docs: 1,000/min ⇒ 167 per 10 s, i.e. `ceil(n / 6)`).

/// Length of one window, seconds.
pub const WINDOW_SECS: i64 = 10;

/// Outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// False → answer 429 `rate_limit_exceeded`.
    pub allowed: bool,
    /// `X-RateLimit-Limit`: requests per window.
    pub limit: u32,
    /// `X-RateLimit-Remaining`.
    pub remaining: u32,
    /// `X-RateLimit-Reset`: Unix seconds when the window refills.
    pub reset: i64,
}

/// Counts requests per window. `per_minute == 0` disables limiting.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    per_minute: u32,
    window_start: i64,
    used: u32,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per minute.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            window_start: 0,
            used: 0,
        }
    }

    /// True when limiting is on.
    pub fn enabled(&self) -> bool {
        self.per_minute > 0
    }

    /// Requests allowed per 10-second window.
    pub fn limit(&self) -> u32 {
        self.per_minute.div_ceil(6)
    }

    /// Count one request arriving at Unix second `now`.
    pub fn check(&mut self, now: i64) -> Decision {
        let start = now - now.rem_euclid(WINDOW_SECS);
        if start != self.window_start {
            self.window_start = start;
            self.used = 0;
        }
        let limit = self.limit();
        let reset = start + WINDOW_SECS;
        if !self.enabled() {
            return Decision {
                allowed: true,
                limit,
                remaining: limit,
                reset,
            };
        }
        if self.used >= limit {
            return Decision {
                allowed: false,
                limit,
                remaining: 0,
                reset,
            };
        }
        self.used += 1;
        Decision {
            allowed: true,
            limit,
            remaining: limit - self.used,
            reset,
        }
    }

    /// The message Intercom sends with a 429.
    pub fn message(&self) -> String {
        format!("Exceeded rate limit of {} in 10_seconds", self.limit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_minute_into_six_windows() {
        let mut r = RateLimiter::new(1000);
        assert_eq!(r.limit(), 167);
        for i in 0..167 {
            let d = r.check(1_000_003);
            assert!(d.allowed);
            assert_eq!(d.remaining, 166 - i);
            assert_eq!(d.reset, 1_000_010);
        }
        assert!(!r.check(1_000_009).allowed);
        let d = r.check(1_000_010);
        assert!(d.allowed);
        assert_eq!(d.reset, 1_000_020);
    }
}
