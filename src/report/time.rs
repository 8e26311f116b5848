//! Instants as reports write them (RFC 3339, UTC) and as `--since` and `--until` take them,
//! with the calendar of `jiff`: impossible dates and offsets are refused, not rolled over.

use jiff::civil::{Date, DateTime};

/// The latest instant steplog handles: 9999-12-31T23:59:59Z.
const MAX_SECONDS: i64 = 253_402_300_799;

/// A time `--since` or `--until` cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a time: {why}")]
pub struct TimeError {
    /// What was given.
    pub input: String,
    /// Why not.
    pub why: String,
}

/// `1699063291` → `2023-11-04T02:01:31Z`. Valid for the years 1970 to 9999 (earlier and
/// later seconds are clamped to them).
pub fn format_utc(secs: i64) -> String {
    // Civil time, not `Timestamp`: jiff's timestamps stop a day short of 9999-12-31.
    let epoch = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);
    let dt = epoch
        .checked_add(jiff::SignedDuration::from_secs(secs.clamp(0, MAX_SECONDS)))
        .unwrap_or(epoch);
    dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

const FORMS: &str = "use RFC 3339 (2025-10-30T22:00:00Z or with an offset), a date \
                     (2025-10-30, midnight UTC), a date and time in UTC (2025-10-30 22:00), \
                     Unix seconds, or an age such as 24h or 7d";

/// Parses an instant as Unix seconds: RFC 3339 (`2025-10-30T22:00:00Z`, any offset up to
/// ±23:59, fractions ignored; a space may replace the `T`), a date (`2025-10-30`,
/// midnight UTC), a date and time without an offset (`2025-10-30T22:00:00`, UTC), Unix
/// seconds (`1761861600`), or a time before `now`: a number and a unit of `s`, `m`, `h`,
/// `d` or `w` (`90m`, `24h`, `7d`). Milliseconds since the epoch are refused, with the
/// seconds they stand for.
pub fn parse_instant(s: &str, now: i64) -> Result<i64, TimeError> {
    let s = s.trim();
    let fail = |why: String| TimeError {
        input: s.to_string(),
        why,
    };
    if let Ok(secs) = s.parse::<i64>() {
        if secs > MAX_SECONDS && secs / 1000 <= MAX_SECONDS {
            return Err(fail(format!(
                "that is after the year 9999 as seconds; as milliseconds it is {}, so write {}",
                format_utc(secs / 1000),
                secs / 1000
            )));
        }
        if !(0..=MAX_SECONDS).contains(&secs) {
            return Err(fail("Unix seconds must be between 1970 and 9999".into()));
        }
        return Ok(secs);
    }
    if let Some(age) = age(s) {
        // An age reaching before 1970 means everything: no log is older than Unix time 0.
        return age
            .and_then(|d| now.checked_sub(d))
            .map(|t| t.max(0))
            .ok_or_else(|| fail("that age is too long".into()));
    }
    let secs = if let Some(d) = (s.len() == 10).then(|| s.parse::<Date>().ok()).flatten() {
        midnight(d)
    } else {
        let (body, offset) = split_offset(s).map_err(fail)?;
        match body.parse::<DateTime>() {
            Ok(dt) => utc(dt) - offset,
            Err(e) => {
                // Say what the calendar objects to when the text had the right shape.
                let why = if s.as_bytes().first().is_some_and(u8::is_ascii_digit) && s.len() >= 10 {
                    let e = e.to_string();
                    format!("{}; {FORMS}", e.rsplit(": ").next().unwrap_or(&e))
                } else {
                    FORMS.to_string()
                };
                return Err(fail(why));
            }
        }
    };
    if !(0..=MAX_SECONDS).contains(&secs) {
        return Err(fail("steplog handles times from 1970 to 9999".into()));
    }
    Ok(secs)
}

/// `90m`, `24h`, `7d`, `2w`: the seconds (`None` inside when they overflow).
fn age(s: &str) -> Option<Option<i64>> {
    let unit = s.chars().last()?;
    let digits = &s[..s.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    Some(digits.parse::<i64>().ok().and_then(|n| n.checked_mul(mult)))
}

/// A time and its offset in seconds: `…Z` (0), `…+02:00` (7200), or no offset (UTC).
fn split_offset(s: &str) -> Result<(&str, i64), String> {
    if let Some(body) = s.strip_suffix(['Z', 'z']) {
        return Ok((body, 0));
    }
    let b = s.as_bytes();
    let n = b.len();
    if n > 16 && matches!(b[n - 6], b'+' | b'-') && b[n - 3] == b':' {
        let part = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
        let (Some(h), Some(m)) = (part(n - 5..n - 3), part(n - 2..n)) else {
            return Err(format!("`{}` is not an offset", &s[n - 6..]));
        };
        if h > 23 || m > 59 {
            return Err(format!(
                "the offset {} is not one (at most ±23:59)",
                &s[n - 6..]
            ));
        }
        let sign = if b[n - 6] == b'-' { -1 } else { 1 };
        return Ok((&s[..n - 6], sign * (h * 3600 + m * 60)));
    }
    Ok((s, 0))
}

fn midnight(d: Date) -> i64 {
    utc(d.to_datetime(jiff::civil::Time::midnight()))
}

fn utc(dt: DateTime) -> i64 {
    let epoch = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);
    dt.duration_since(epoch).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        let now = 1_761_861_610;
        for (s, want) in [
            ("2025-10-30T22:00:10Z", 1_761_861_610),
            ("2025-10-30 22:00:10z", 1_761_861_610),
            ("2025-10-30T22:00:10.123Z", 1_761_861_610),
            ("2025-10-31T00:00:10+02:00", 1_761_861_610),
            ("2025-10-30T20:00:10-02:00", 1_761_861_610),
            ("2025-10-30T22:00:10", 1_761_861_610),
            ("2025-10-30 22:00:10", 1_761_861_610),
            ("2025-10-30", 1_761_782_400),
            ("2000-02-29", 951_782_400),
            ("1761861610", 1_761_861_610),
            ("24h", now - 86_400),
            ("7d", now - 7 * 86_400),
            ("90m", now - 5400),
            ("2w", now - 14 * 86_400),
        ] {
            assert_eq!(parse_instant(s, now), Ok(want), "{s}");
        }
        for bad in [
            "",
            "yesterday",
            "7y",
            "2025-13-01",
            "2025-10-30T25:00:00Z",
            "2025/10/30",
            "h",
            "2024-02-30",
            "2023-02-29",
            "2025-10-30T22:00:00+99:00",
            "2025-10-30T22:00:00+24:00",
            "-5",
            "99999999999999999999d",
        ] {
            assert!(parse_instant(bad, now).is_err(), "{bad}");
        }
        let ms = parse_instant("1704456000000", now).unwrap_err();
        assert!(
            ms.why.contains("milliseconds") && ms.why.contains("1704456000"),
            "{ms}"
        );
        let feb = parse_instant("2024-02-30", now).unwrap_err().to_string();
        assert!(feb.contains("2024-02-30") && feb.contains("29"), "{feb}");
        // Round trip with the formatter.
        for t in [0, 951_782_400, 1_699_063_291, MAX_SECONDS] {
            assert_eq!(parse_instant(&format_utc(t), now), Ok(t));
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_699_063_291), "2023-11-04T02:01:31Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(MAX_SECONDS), "9999-12-31T23:59:59Z");
        assert_eq!(format_utc(1_761_861_610), "2025-10-30T22:00:10Z");
    }
}
