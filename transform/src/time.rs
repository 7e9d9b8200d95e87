//! Source datetimes → Unix seconds (UTC).
//!
//! Rules (issue 7, DESIGN.md §6):
//! - a zone-less value is a wall time of the mapping's IANA `source_time_zone` (chrono-tz), unless the profile
//!   says the source stores UTC;
//! - **DST gap** (a wall time that never existed, e.g. 02:30 on the spring-forward night): read with the offset in
//!   force *before* the transition, i.e. moved forward by the gap's length (02:30 EST = 03:30 EDT); counted;
//! - **DST overlap** (a wall time that happened twice): the earlier instant (the first occurrence); counted;
//! - **sentinels** become "no value", counted: any time on 1900-01-01 (what SQL Server stores for `''`),
//!   1899-12-30 (OLE zero), 1753-01-01 (datetime minimum) and 9999-12-31 (maximum).

use crate::source::Cell;
use chrono::{Datelike, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the conversions, shared by parallel workers.
#[derive(Debug, Default)]
pub struct TimeStats {
    /// Wall times in a DST gap.
    pub dst_gaps: AtomicU64,
    /// Wall times in a DST overlap.
    pub dst_overlaps: AtomicU64,
    /// Sentinel values turned into "no value".
    pub sentinels: AtomicU64,
}

impl TimeStats {
    /// (gaps, overlaps, sentinels).
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.dst_gaps.load(Ordering::Relaxed),
            self.dst_overlaps.load(Ordering::Relaxed),
            self.sentinels.load(Ordering::Relaxed),
        )
    }
}

/// Converter from source datetimes to Unix seconds.
#[derive(Debug)]
pub struct Clock {
    zone: Tz,
    utc_source: bool,
    /// Counters.
    pub stats: TimeStats,
}

/// True for the sentinel dates listed in the module documentation.
pub fn is_sentinel(t: &NaiveDateTime) -> bool {
    matches!(
        (t.year(), t.month(), t.day()),
        (1900, 1, 1) | (1899, 12, 30) | (1753, 1, 1) | (9999, 12, 31)
    )
}

impl Clock {
    /// A clock for zone `zone` (IANA name); `utc_source` when the profile's datetimes are already UTC.
    ///
    /// # Errors
    /// The message names the bad zone.
    pub fn new(zone: &str, utc_source: bool) -> Result<Self, String> {
        let zone: Tz = zone.parse().map_err(|_| {
            format!(
                "source_time_zone {zone:?} is not an IANA time zone name (e.g. America/New_York)"
            )
        })?;
        Ok(Self {
            zone,
            utc_source,
            stats: TimeStats::default(),
        })
    }

    /// Unix seconds of a source cell; `None` for NULL, non-dates and sentinels.
    pub fn unix(&self, cell: &Cell) -> Option<i64> {
        match cell {
            Cell::Utc(t) => self.check(t).map(|t| t.and_utc().timestamp()),
            Cell::Local(t) => {
                let t = self.check(t)?;
                if self.utc_source {
                    return Some(t.and_utc().timestamp());
                }
                Some(self.local_to_unix(&t))
            }
            _ => None,
        }
    }

    fn check(&self, t: &NaiveDateTime) -> Option<NaiveDateTime> {
        if is_sentinel(t) {
            self.stats.sentinels.fetch_add(1, Ordering::Relaxed);
            None
        } else {
            Some(*t)
        }
    }

    /// Unix seconds of a wall time in the configured zone, by the gap/overlap rule of the module doc.
    pub fn local_to_unix(&self, t: &NaiveDateTime) -> i64 {
        match self.zone.from_local_datetime(t) {
            chrono::LocalResult::Single(d) => d.timestamp(),
            chrono::LocalResult::Ambiguous(first, _) => {
                self.stats.dst_overlaps.fetch_add(1, Ordering::Relaxed);
                first.timestamp()
            }
            chrono::LocalResult::None => {
                self.stats.dst_gaps.fetch_add(1, Ordering::Relaxed);
                // The offset in force before the transition: that of the same wall time a few hours earlier.
                let before = *t - chrono::Duration::hours(3);
                let offset = match self.zone.from_local_datetime(&before) {
                    chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => {
                        d.offset().fix().local_minus_utc() as i64
                    }
                    chrono::LocalResult::None => 0,
                };
                t.and_utc().timestamp() - offset
            }
        }
    }
}

use chrono::Offset;

/// Windows time zone display names (as `CURRENT_TIMEZONE()` prints them) → IANA zones, for the zones a
/// Track-It! site is most likely to use. Unknown names fall back to the UTC offset.
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("Eastern Time (US & Canada)", "America/New_York"),
    ("Central Time (US & Canada)", "America/Chicago"),
    ("Mountain Time (US & Canada)", "America/Denver"),
    ("Arizona", "America/Phoenix"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("Alaska", "America/Anchorage"),
    ("Hawaii", "Pacific/Honolulu"),
    ("Atlantic Time (Canada)", "America/Halifax"),
    ("Newfoundland", "America/St_Johns"),
    ("Saskatchewan", "America/Regina"),
    ("Indiana (East)", "America/Indiana/Indianapolis"),
    ("Dublin, Edinburgh, Lisbon, London", "Europe/London"),
    (
        "Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        "Europe/Berlin",
    ),
    ("Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"),
    (
        "Belgrade, Bratislava, Budapest, Ljubljana, Prague",
        "Europe/Budapest",
    ),
    ("Sarajevo, Skopje, Warsaw, Zagreb", "Europe/Warsaw"),
    ("Athens, Bucharest", "Europe/Bucharest"),
    (
        "Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius",
        "Europe/Helsinki",
    ),
    ("Jerusalem", "Asia/Jerusalem"),
    ("Moscow, St. Petersburg", "Europe/Moscow"),
    ("Abu Dhabi, Muscat", "Asia/Dubai"),
    ("Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
    ("Beijing, Chongqing, Hong Kong, Urumqi", "Asia/Shanghai"),
    ("Osaka, Sapporo, Tokyo", "Asia/Tokyo"),
    ("Canberra, Melbourne, Sydney", "Australia/Sydney"),
    ("Brisbane", "Australia/Brisbane"),
    ("Auckland, Wellington", "Pacific/Auckland"),
    ("Coordinated Universal Time", "UTC"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("GMT Standard Time", "Europe/London"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("UTC", "UTC"),
];

/// The IANA zone proposed for a server: its Windows zone name mapped by a small table (either the display form
/// `(UTC-05:00) Eastern Time (US & Canada)` or the id `Eastern Standard Time`), else a fixed `Etc/GMT±N` zone from
/// the offset, else UTC. Returns the zone and the reason.
pub fn propose_zone(
    windows_name: Option<&str>,
    utc_offset_minutes: Option<i32>,
) -> (String, String) {
    if let Some(name) = windows_name {
        let bare = match name.find(") ") {
            Some(i) if name.starts_with("(UTC") => &name[i + 2..],
            _ => name,
        };
        if let Some((_, iana)) = WINDOWS_ZONES
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(bare.trim()))
        {
            return (
                (*iana).to_string(),
                format!("server time zone {name:?} maps to {iana}"),
            );
        }
        if bare.parse::<Tz>().is_ok() {
            return (
                bare.to_string(),
                format!("server time zone {name:?} is an IANA name"),
            );
        }
    }
    match utc_offset_minutes {
        Some(m) if m % 60 == 0 => {
            let h = -m / 60;
            let zone = if h == 0 {
                "UTC".to_string()
            } else {
                format!("Etc/GMT{h:+}")
            };
            (
                zone.clone(),
                format!(
                    "server zone unknown; offset {m} min at snapshot gives {zone} (no DST: check it)"
                ),
            )
        }
        _ => (
            "UTC".into(),
            "server zone and offset unknown: UTC (check it)".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn dst_gap_moves_forward_and_overlap_takes_the_first() {
        let c = Clock::new("America/New_York", false).unwrap();
        // 2021-03-14 02:30 does not exist in New York: read as EST (-5h) → 07:30 UTC.
        assert_eq!(
            c.unix(&Cell::Local(at(2021, 3, 14, 2, 30))),
            Some(at(2021, 3, 14, 7, 30).and_utc().timestamp())
        );
        // 2021-11-07 01:30 happened twice: first (EDT, -4h) → 05:30 UTC.
        assert_eq!(
            c.unix(&Cell::Local(at(2021, 11, 7, 1, 30))),
            Some(at(2021, 11, 7, 5, 30).and_utc().timestamp())
        );
        assert_eq!(c.stats.snapshot(), (1, 1, 0));
        assert_eq!(c.unix(&Cell::Local(at(1900, 1, 1, 0, 0))), None);
        assert_eq!(c.stats.snapshot().2, 1);
    }

    #[test]
    fn windows_zone_names_map_to_iana() {
        assert_eq!(
            propose_zone(Some("(UTC-05:00) Eastern Time (US & Canada)"), Some(-300)).0,
            "America/New_York"
        );
        assert_eq!(propose_zone(None, Some(-300)).0, "Etc/GMT+5");
        assert_eq!(propose_zone(None, None).0, "UTC");
    }
}
