//! RFC 3339 UTC formatting of Unix seconds, and parsing of the instants `--since` and
//! `--until` take, without a date library.

/// A time `--since` or `--until` cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a time: use RFC 3339 (2025-10-30T22:00:00Z), a date (2025-10-30), \
     Unix seconds, or an age such as 24h or 7d"
)]
pub struct TimeError {
    /// What was given.
    pub input: String,
}

/// `1699063291` → `2023-11-04T02:01:31Z`. Valid for the years 0 to 9999.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Howard Hinnant's `days_from_civil`: (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an instant as Unix seconds: RFC 3339 (`2025-10-30T22:00:00Z`, any offset,
/// fractions ignored; a space may replace the `T`), a date (`2025-10-30`, midnight UTC),
/// Unix seconds (`1761861600`), or a time before `now`: a number and a unit of `s`, `m`,
/// `h`, `d` or `w` (`90m`, `24h`, `7d`).
pub fn parse_instant(s: &str, now: i64) -> Result<i64, TimeError> {
    let s = s.trim();
    let bad = || TimeError {
        input: s.to_string(),
    };
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    let relative = s.len() > 1 && s[..s.len() - 1].bytes().all(|c| c.is_ascii_digit());
    if let Some(unit) = s
        .chars()
        .last()
        .filter(|c| relative && c.is_ascii_alphabetic())
    {
        let n: i64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
        let mult = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        return n
            .checked_mul(mult)
            .and_then(|d| now.checked_sub(d))
            .ok_or_else(bad);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, TimeError> {
        let part = s.get(r).ok_or_else(bad)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let day = days_from_civil(y, m as u32, d as u32) * 86_400;
    if b.len() == 10 {
        return Ok(day);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hh > 23 || mm > 59 || ss > 60 {
        return Err(bad());
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let oh = num(s.len() - 5..s.len() - 3)?;
            let om = num(s.len() - 2..s.len())?;
            if &rest[3..4] != ":" {
                return Err(bad());
            }
            let o = oh * 3600 + om * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return Err(bad()),
    };
    Ok(day + hh * 3600 + mm * 60 + ss - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        let now = 1_761_861_610;
        assert_eq!(
            parse_instant("2025-10-30T22:00:10Z", now),
            Ok(1_761_861_610)
        );
        assert_eq!(
            parse_instant("2025-10-30 22:00:10z", now),
            Ok(1_761_861_610)
        );
        assert_eq!(
            parse_instant("2025-10-30T22:00:10.123Z", now),
            Ok(1_761_861_610)
        );
        assert_eq!(
            parse_instant("2025-10-31T00:00:10+02:00", now),
            Ok(1_761_861_610)
        );
        assert_eq!(
            parse_instant("2025-10-30T20:00:10-02:00", now),
            Ok(1_761_861_610)
        );
        assert_eq!(parse_instant("2025-10-30", now), Ok(1_761_782_400));
        assert_eq!(parse_instant("2000-02-29", now), Ok(951_782_400));
        assert_eq!(parse_instant("1761861610", now), Ok(1_761_861_610));
        assert_eq!(parse_instant("24h", now), Ok(now - 86_400));
        assert_eq!(parse_instant("7d", now), Ok(now - 7 * 86_400));
        assert_eq!(parse_instant("90m", now), Ok(now - 5400));
        assert_eq!(parse_instant("2w", now), Ok(now - 14 * 86_400));
        for bad in [
            "",
            "yesterday",
            "7y",
            "2025-13-01",
            "2025-10-30T25:00:00Z",
            "2025-10-30T22:00:00",
            "2025/10/30",
            "h",
        ] {
            assert!(parse_instant(bad, now).is_err(), "{bad}");
        }
        // Round trip with the formatter.
        for t in [0, 951_782_400, 1_699_063_291, 253_402_300_799] {
            assert_eq!(parse_instant(&format_utc(t), now), Ok(t));
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_699_063_291), "2023-11-04T02:01:31Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(format_utc(1_761_861_610), "2025-10-30T22:00:10Z");
    }
}
