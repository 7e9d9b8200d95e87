//! SQL Server date and time values → microseconds since 1970-01-01 (Arrow Timestamp(µs) / Date32 / Time64(µs)).
//!
//! - `datetime`: days since 1900-01-01 and 1/300-second ticks, converted to the millisecond SQL Server prints
//!   (`.997` stays `.997`), exact in µs;
//! - `smalldatetime`: days since 1900-01-01 and minutes;
//! - `datetime2`, `time`, `datetimeoffset` (n digits): a non-zero seventh digit is rounded half up to the
//!   microsecond and reported as rounded (DESIGN.md §4); a value that would round past 23:59:59.999999 is
//!   clamped to it instead of changing the date;
//! - `datetimeoffset` arrives in UTC with its offset; the UTC instant is stored.

use tiberius::time::{Date, DateTime, DateTime2, SmallDateTime, Time};

/// Microseconds per day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;
/// Days from 0001-01-01 (the `date` epoch) to 1970-01-01.
pub const DAYS_0001_TO_1970: i64 = 719_162;
/// Days from 1900-01-01 (the `datetime` epoch) to 1970-01-01.
pub const DAYS_1900_TO_1970: i64 = 25_567;

/// `datetime` → µs since 1970 (wall time).
pub fn datetime_micros(dt: DateTime) -> i64 {
    let ticks = i64::from(dt.seconds_fragments());
    // 1 tick = 1/300 s; SQL Server prints the nearest millisecond (.000, .003, .007).
    let millis = (ticks * 1000 + 150) / 300;
    (i64::from(dt.days()) - DAYS_1900_TO_1970) * MICROS_PER_DAY + millis * 1000
}

/// `smalldatetime` → µs since 1970 (wall time).
pub fn smalldatetime_micros(dt: SmallDateTime) -> i64 {
    (i64::from(dt.days()) - DAYS_1900_TO_1970) * MICROS_PER_DAY
        + i64::from(dt.seconds_fragments()) * 60_000_000
}

/// `date` → days since 1970 (Date32).
pub fn date_days(d: Date) -> i32 {
    (i64::from(d.days()) - DAYS_0001_TO_1970) as i32
}

/// `time(n)` → (µs since midnight, true when a seventh digit was rounded away).
pub fn time_micros(t: Time) -> (i64, bool) {
    let inc = t.increments() as i64;
    let scale = u32::from(t.scale());
    if scale <= 6 {
        return (inc * 10i64.pow(6 - scale), false);
    }
    let div = 10i64.pow(scale - 6);
    let rem = inc % div;
    let mut us = inc / div + i64::from(rem * 2 >= div);
    us = us.min(MICROS_PER_DAY - 1);
    (us, rem != 0)
}

/// `datetime2(n)` (or the UTC part of `datetimeoffset`) → (µs since 1970, rounded).
pub fn datetime2_micros(dt: DateTime2) -> (i64, bool) {
    let (us, rounded) = time_micros(dt.time());
    (
        (i64::from(dt.date().days()) - DAYS_0001_TO_1970) * MICROS_PER_DAY + us,
        rounded,
    )
}

/// µs since 1970 → RFC 3339 UTC text (`2020-12-08T23:30:00Z`), empty when out of range.
pub fn rfc3339_utc(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_ticks_print_like_sql_server() {
        // 9999-12-31 23:59:59.997 = day 2958463, 25919999 ticks.
        let dt = DateTime::new(2_958_463, 25_919_999);
        assert_eq!(rfc3339_utc(datetime_micros(dt)), "9999-12-31T23:59:59.997Z");
        assert_eq!(
            rfc3339_utc(datetime_micros(DateTime::new(-53690, 0))),
            "1753-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc3339_utc(smalldatetime_micros(SmallDateTime::new(65535, 1439))),
            "2079-06-06T23:59:00Z"
        );
    }

    #[test]
    fn seventh_digit_is_rounded_and_flagged() {
        // 09:16:20.6566667
        let inc = (9 * 3600 + 16 * 60 + 20) as u64 * 10_000_000 + 6_566_667;
        let (us, rounded) = time_micros(Time::new(inc, 7));
        assert!(rounded);
        assert_eq!(us % 1_000_000, 656_667);
        let (max, rounded) = time_micros(Time::new(863_999_999_999, 7));
        assert!(rounded);
        assert_eq!(max, MICROS_PER_DAY - 1);
        assert_eq!(time_micros(Time::new(5, 3)), (5_000, false));
        let d = Date::new(737_767); // 2020-12-09
        assert_eq!(date_days(d), 18_605);
    }
}
