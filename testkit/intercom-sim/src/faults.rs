//! Injected faults, from `--fault SPEC` or `POST /_sim/faults` (a JSON array of the same specs).
//!
//! Specs: `5xx=RATE` (answer 500/502/503 before applying), `reset-after-apply=RATE` (apply a state change,
//! then drop the connection without a response), `latency-ms=N`, `429-storm=SECONDS` (refuse everything
//! for that long from the moment it is set), `no-ratelimit-headers`, `revoke-token-after=N` (after N successful
//! state changes, counted from the moment it is set, every API request gets 401 until the fault set is
//! replaced: a token revoked in the middle of a run). RATE is a fraction `0.1` or a
//! percentage `10%`. Draws come from a ChaCha8 RNG seeded with `--fault-seed` (re-seeded whenever the
//! fault set is replaced), so a sequential run is repeatable.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One parsed fault spec.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultSpec {
    /// Fraction of API requests answered with a 5xx before anything is applied.
    ServerError(f64),
    /// Fraction of successful state changes whose connection is dropped without a response.
    ResetAfterApply(f64),
    /// Added latency, milliseconds.
    LatencyMs(u64),
    /// Seconds during which every API request gets 429.
    Storm429(u64),
    /// Omit `X-RateLimit-*` headers.
    NoRateLimitHeaders,
    /// After this many successful state-changing requests, every API request is refused with 401.
    RevokeTokenAfter(u64),
}

fn parse_rate(v: &str) -> Result<f64, String> {
    let (num, scale) = match v.strip_suffix('%') {
        Some(p) => (p, 100.0),
        None => (v, 1.0),
    };
    let r: f64 = num.trim().parse().map_err(|_| format!("bad rate {v:?}"))?;
    let r = r / scale;
    if !(0.0..=1.0).contains(&r) {
        return Err(format!("rate {v:?} not within 0..1 (or 0%..100%)"));
    }
    Ok(r)
}

impl FaultSpec {
    /// Parse `name=value` / `no-ratelimit-headers`.
    ///
    /// # Errors
    /// A message naming the bad spec.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        let (name, value) = spec
            .split_once('=')
            .map(|(a, b)| (a.trim(), Some(b.trim())))
            .unwrap_or((spec, None));
        let num = |v: Option<&str>| -> Result<u64, String> {
            v.ok_or(format!("{name} needs a value"))?
                .parse()
                .map_err(|_| format!("bad number in {spec:?}"))
        };
        match name {
            "5xx" => Ok(Self::ServerError(parse_rate(
                value.ok_or("5xx needs a rate")?,
            )?)),
            "reset-after-apply" => Ok(Self::ResetAfterApply(parse_rate(
                value.ok_or("reset-after-apply needs a rate")?,
            )?)),
            "latency-ms" => Ok(Self::LatencyMs(num(value)?)),
            "429-storm" => Ok(Self::Storm429(num(value)?)),
            "no-ratelimit-headers" if value.is_none() => Ok(Self::NoRateLimitHeaders),
            "revoke-token-after" => Ok(Self::RevokeTokenAfter(num(value)?)),
            _ => Err(format!(
                "unknown fault {spec:?} (known: 5xx=RATE, reset-after-apply=RATE, latency-ms=N, 429-storm=SECONDS, no-ratelimit-headers, revoke-token-after=N)"
            )),
        }
    }
}

/// The active fault set and its RNG.
#[derive(Debug)]
pub struct Faults {
    /// Specs as given.
    pub specs: Vec<String>,
    server_error: f64,
    reset: f64,
    latency_ms: u64,
    base_latency_ms: u64,
    storm_until: Option<i64>,
    storm_started: i64,
    no_headers: bool,
    revoke_after: Option<u64>,
    changes: u64,
    seed: u64,
    rng: ChaCha8Rng,
}

impl Faults {
    /// Parse `specs`; `base_latency_ms` is `--latency-ms`, always added.
    ///
    /// # Errors
    /// The first bad spec.
    pub fn new(specs: &[String], seed: u64, base_latency_ms: u64) -> Result<Self, String> {
        let mut f = Self {
            specs: vec![],
            server_error: 0.0,
            reset: 0.0,
            latency_ms: 0,
            base_latency_ms,
            storm_until: None,
            storm_started: 0,
            no_headers: false,
            revoke_after: None,
            changes: 0,
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
        };
        f.replace(specs)?;
        Ok(f)
    }

    /// Replace the fault set (re-seeds the RNG; a storm starts now).
    ///
    /// # Errors
    /// The first bad spec; the old set stays active then.
    pub fn replace(&mut self, specs: &[String]) -> Result<(), String> {
        let parsed = specs
            .iter()
            .map(|s| FaultSpec::parse(s))
            .collect::<Result<Vec<_>, _>>()?;
        self.specs = specs.to_vec();
        self.server_error = 0.0;
        self.reset = 0.0;
        self.latency_ms = 0;
        self.storm_until = None;
        self.no_headers = false;
        self.revoke_after = None;
        self.changes = 0;
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
        let now = crate::state::now();
        for p in parsed {
            match p {
                FaultSpec::ServerError(r) => self.server_error = r,
                FaultSpec::ResetAfterApply(r) => self.reset = r,
                FaultSpec::LatencyMs(n) => self.latency_ms = n,
                FaultSpec::Storm429(s) => {
                    self.storm_started = now;
                    self.storm_until = Some(now + s as i64);
                }
                FaultSpec::NoRateLimitHeaders => self.no_headers = true,
                FaultSpec::RevokeTokenAfter(n) => self.revoke_after = Some(n),
            }
        }
        Ok(())
    }

    /// Total latency to add, milliseconds.
    pub fn latency_ms(&self) -> u64 {
        self.base_latency_ms + self.latency_ms
    }

    /// During a storm: the (already past) reset time to send.
    pub fn storm_reset(&self, now: i64) -> Option<i64> {
        match self.storm_until {
            Some(until) if now < until => Some(self.storm_started),
            _ => None,
        }
    }

    /// Whether rate-limit headers are suppressed.
    pub fn no_headers(&self) -> bool {
        self.no_headers
    }

    /// Draw for `5xx`: `Some(status)` to fail this request.
    pub fn roll_5xx(&mut self) -> Option<u16> {
        if self.server_error <= 0.0 {
            return None;
        }
        if self.rng.random_bool(self.server_error) {
            Some([500u16, 502, 503][self.rng.random_range(0..3)])
        } else {
            None
        }
    }

    /// Whether `revoke-token-after` has revoked the token (every API request then gets 401).
    pub fn token_revoked(&self) -> bool {
        self.revoke_after.is_some_and(|n| self.changes >= n)
    }

    /// Counts one successful state-changing request (for `revoke-token-after`).
    pub fn count_change(&mut self) {
        self.changes += 1;
    }

    /// Draw for `reset-after-apply`.
    pub fn roll_reset(&mut self) -> bool {
        self.reset > 0.0 && self.rng.random_bool(self.reset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        assert_eq!(
            FaultSpec::parse("5xx=0.25"),
            Ok(FaultSpec::ServerError(0.25))
        );
        assert_eq!(FaultSpec::parse("5xx=10%"), Ok(FaultSpec::ServerError(0.1)));
        assert_eq!(
            FaultSpec::parse("reset-after-apply=1"),
            Ok(FaultSpec::ResetAfterApply(1.0))
        );
        assert_eq!(
            FaultSpec::parse("latency-ms=20"),
            Ok(FaultSpec::LatencyMs(20))
        );
        assert_eq!(FaultSpec::parse("429-storm=5"), Ok(FaultSpec::Storm429(5)));
        assert_eq!(
            FaultSpec::parse("no-ratelimit-headers"),
            Ok(FaultSpec::NoRateLimitHeaders)
        );
        assert_eq!(
            FaultSpec::parse("revoke-token-after=3"),
            Ok(FaultSpec::RevokeTokenAfter(3))
        );
        assert!(FaultSpec::parse("revoke-token-after").is_err());
        assert!(FaultSpec::parse("5xx=2").is_err());
        assert!(FaultSpec::parse("bogus").is_err());
    }

    #[test]
    fn draws_repeat_for_a_seed() {
        let specs = vec!["5xx=0.5".to_string()];
        let mut a = Faults::new(&specs, 7, 0).unwrap();
        let mut b = Faults::new(&specs, 7, 0).unwrap();
        let da: Vec<_> = (0..50).map(|_| a.roll_5xx()).collect();
        let db: Vec<_> = (0..50).map(|_| b.roll_5xx()).collect();
        assert_eq!(da, db);
        assert!(da.iter().any(Option::is_some) && da.iter().any(Option::is_none));
    }
}
