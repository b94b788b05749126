//! The one clock every timestamp and window reads, so tests can move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// The latest instant the clock may show: the start of year 9999. RFC 3339 has four-digit
/// years, and the year of headroom keeps every window and expiry computed from "now" (at most
/// a year ahead: see `RateLimitConfig::MAX_WINDOW_SECONDS`) inside what `time` can represent.
pub const LATEST: OffsetDateTime = time::macros::datetime!(9999-01-01 00:00:00 UTC);

/// Why the clock refused to move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the clock cannot move past {latest} (it is {now}; asked to move {asked_ms} ms ahead)", latest = rfc3339(LATEST), now = rfc3339(*now))]
pub struct ClockError {
    /// The clock's time when it was asked.
    pub now: OffsetDateTime,
    /// How far it was asked to move, milliseconds.
    pub asked_ms: u128,
}

/// Wall-clock time plus an offset that tests (and the admin API) can advance.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// A clock at real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current (possibly advanced) time in UTC, never later than [`LATEST`].
    pub fn now(&self) -> OffsetDateTime {
        let offset = time::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed));
        // `advance` keeps the offset in range; saturating here as well means no offset that
        // got in some other way (a real clock far in the future) can ever panic a request.
        OffsetDateTime::now_utc()
            .checked_add(offset)
            .map_or(LATEST, |at| at.min(LATEST))
    }

    /// How far the clock has been moved ahead of real time, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock forward by `by`, unless that would take it past [`LATEST`]: then it
    /// stays where it is.
    pub fn advance(&self, by: std::time::Duration) -> Result<(), ClockError> {
        let refused = || ClockError {
            now: self.now(),
            asked_ms: by.as_millis(),
        };
        let ms = i64::try_from(by.as_millis()).map_err(|_| refused())?;
        self.offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                let offset = offset.checked_add(ms)?;
                let at =
                    OffsetDateTime::now_utc().checked_add(time::Duration::milliseconds(offset))?;
                (at <= LATEST).then_some(offset)
            })
            .map(|_| ())
            .map_err(|_| refused())
    }

    /// The current time as RFC 3339 text with millisecond precision (`2026-11-24T10:00:00.000Z`).
    pub fn rfc3339(&self) -> String {
        rfc3339(self.now())
    }
}

/// Formats a time as RFC 3339 in UTC with milliseconds, as the vendors' JSON does. Written
/// digit by digit: every create stamps a time or two, and `format!` cost ten times as much.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let year = match u32::try_from(at.year()) {
        Ok(year) if year <= 9999 => year,
        _ => return formatted(at),
    };
    let mut text = String::with_capacity(24);
    let mut digits = |value: u32, width: u32, after: char| {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            text.push(char::from(b'0' + digit as u8));
        }
        text.push(after);
    };
    digits(year, 4, '-');
    digits(u32::from(u8::from(at.month())), 2, '-');
    digits(u32::from(at.day()), 2, 'T');
    digits(u32::from(at.hour()), 2, ':');
    digits(u32::from(at.minute()), 2, ':');
    digits(u32::from(at.second()), 2, '.');
    digits(u32::from(at.millisecond()), 3, 'Z');
    text
}

/// [`rfc3339`] through `format!`, for years before 0000 (and as the tests' reference).
fn formatted(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = Clock::new();
        let before = clock.now();
        clock.advance(std::time::Duration::from_secs(3600)).unwrap();
        assert!(clock.now() - before >= time::Duration::seconds(3600));
    }

    #[test]
    fn the_clock_refuses_to_pass_the_latest_instant_and_keeps_its_time() {
        let clock = Clock::new();
        for seconds in [300_000_000_000, u64::MAX / 1000, u64::MAX] {
            let error = clock
                .advance(std::time::Duration::from_secs(seconds))
                .unwrap_err();
            assert_eq!(error.asked_ms, u128::from(seconds) * 1000);
            assert_eq!(
                clock.offset_ms(),
                0,
                "a refused move leaves the clock alone"
            );
        }
        let to_latest = (LATEST - clock.now()).whole_seconds() as u64 - 10;
        clock
            .advance(std::time::Duration::from_secs(to_latest))
            .unwrap();
        assert!(clock.advance(std::time::Duration::from_secs(60)).is_err());
        assert!(clock.now() <= LATEST);
        assert!(
            clock.rfc3339().starts_with("9998-12-31T"),
            "{}",
            clock.rfc3339()
        );
    }

    #[test]
    fn rfc3339_is_parseable() {
        let text = Clock::new().rfc3339();
        assert!(
            OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339).is_ok()
        );
    }

    #[test]
    fn digit_by_digit_formatting_matches_format() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let ms = rng.i64(-377_705_116_800_000..253_402_300_799_999);
            let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
            assert_eq!(rfc3339(at), formatted(at));
        }
        let before_year_one = OffsetDateTime::from_unix_timestamp(-62_200_000_000).unwrap();
        assert_eq!(rfc3339(before_year_one), formatted(before_year_one));
    }
}
