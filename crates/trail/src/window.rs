//! The time window of a replay (`--since`, `--until`): `WHEN` is an RFC 3339 time or a duration back
//! from now (`90d`, `12h`, `30m`, `2w`, `45s`). Parsing never panics: every arithmetic step is checked,
//! and a window that ends before it starts is an error.
//!
//! ```
//! use iamfit_trail::window::{parse_when, window, format_utc};
//! use time::macros::datetime;
//!
//! let now = datetime!(2026-12-04 12:00 UTC);
//! assert_eq!(format_utc(parse_when("2d", now)?), "2026-12-02T12:00:00Z");
//! assert!(parse_when("5é", now).is_err());
//! assert!(window(Some("1d"), Some("3d"), None, now).is_err()); // ends before it starts
//! # Ok::<(), iamfit_trail::window::WhenError>(())
//! ```

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::TimeWindow;

/// A `WHEN` or a window that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Neither an RFC 3339 time nor a duration.
    #[error("{0:?} is not a time: use RFC 3339 (2026-11-01T00:00:00Z) or a duration such as 90d or 12h")]
    NotATime(String),
    /// A duration too large to go back from now.
    #[error("{0:?} reaches back before year -9999: give a shorter duration or an RFC 3339 time")]
    OutOfRange(String),
    /// `--since` is later than `--until`.
    #[error("the window ends before it starts: --since {since} is later than --until {until}")]
    Reversed {
        /// The start, as given.
        since: String,
        /// The end, as given.
        until: String,
    },
}

/// Seconds per unit of a duration.
fn unit_seconds(unit: char) -> Option<i64> {
    match unit {
        's' => Some(1),
        'm' => Some(60),
        'h' => Some(3_600),
        'd' => Some(86_400),
        'w' => Some(604_800),
        _ => None,
    }
}

/// Parses `WHEN` relative to `now`.
pub fn parse_when(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, WhenError> {
    let t = text.trim();
    let mut chars = t.chars();
    let unit = chars.next_back();
    let number = chars.as_str();
    if let Some(per_unit) = unit.and_then(unit_seconds) {
        if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = number.parse().map_err(|_| WhenError::OutOfRange(text.to_string()))?;
            let seconds = n.checked_mul(per_unit).ok_or_else(|| WhenError::OutOfRange(text.to_string()))?;
            return now
                .checked_sub(Duration::seconds(seconds))
                .ok_or_else(|| WhenError::OutOfRange(text.to_string()));
        }
    }
    OffsetDateTime::parse(t, &Rfc3339).map_err(|_| WhenError::NotATime(text.to_string()))
}

/// `2026-11-01T10:00:00Z`: the form CloudTrail writes, so that text order is time order.
pub fn format_utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The window from `--since` and `--until`; `default_since` applies when `--since` is absent (`None`:
/// unbounded).
pub fn window(
    since: Option<&str>,
    until: Option<&str>,
    default_since: Option<&str>,
    now: OffsetDateTime,
) -> Result<TimeWindow, WhenError> {
    let start = since.or(default_since).map(|s| parse_when(s, now)).transpose()?;
    let end = until.map(|u| parse_when(u, now)).transpose()?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(WhenError::Reversed {
                since: since.or(default_since).unwrap_or_default().to_string(),
                until: until.unwrap_or_default().to_string(),
            });
        }
    }
    Ok(TimeWindow { since: start.map(format_utc), until: end.map(format_utc) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-04 12:00 UTC);

    #[test]
    fn durations_and_times() {
        assert_eq!(format_utc(parse_when("90d", NOW).unwrap()), "2026-09-05T12:00:00Z");
        assert_eq!(format_utc(parse_when("12h", NOW).unwrap()), "2026-12-04T00:00:00Z");
        assert_eq!(format_utc(parse_when("2w", NOW).unwrap()), "2026-11-20T12:00:00Z");
        assert_eq!(format_utc(parse_when(" 30m ", NOW).unwrap()), "2026-12-04T11:30:00Z");
        assert_eq!(format_utc(parse_when("2026-11-01T10:00:00+02:00", NOW).unwrap()), "2026-11-01T08:00:00Z");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in
            ["5é", "é", "", "d", "-5d", "+5d", "5x", "99999999999999d", "9223372036854775807s", "yesterday"]
        {
            assert!(parse_when(bad, NOW).is_err(), "{bad:?}");
        }
        assert!(matches!(parse_when("99999999999999d", NOW), Err(WhenError::OutOfRange(_))));
    }

    #[test]
    fn reversed_window() {
        let err = window(Some("2026-12-01T00:00:00Z"), Some("2026-11-01T00:00:00Z"), None, NOW).unwrap_err();
        assert!(matches!(err, WhenError::Reversed { .. }));
        let w = window(None, None, Some("1d"), NOW).unwrap();
        assert_eq!(w.since.as_deref(), Some("2026-12-03T12:00:00Z"));
        assert_eq!(w.until, None);
        assert_eq!(window(None, None, None, NOW).unwrap(), TimeWindow::default());
    }
}
