//! Calendar arithmetic for the simulation clock: civil date-times as seconds since
//! 1970-01-01T00:00 in the same (local) time scale, proleptic Gregorian calendar.

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` into seconds since 1970-01-01T00:00.
pub fn parse_local_datetime(s: &str) -> Result<i64, String> {
    let err = || format!("expected YYYY-MM-DDTHH:MM[:SS], got `{s}`");
    let (date, time) = s.split_once('T').ok_or_else(err)?;
    let mut d = date.split('-');
    let (y, m, day) = (
        d.next().ok_or_else(err)?,
        d.next().ok_or_else(err)?,
        d.next().ok_or_else(err)?,
    );
    if d.next().is_some() || y.len() != 4 || m.len() != 2 || day.len() != 2 {
        return Err(err());
    }
    let y: i64 = y.parse().map_err(|_| err())?;
    let m: u32 = m.parse().map_err(|_| err())?;
    let day: u32 = day.parse().map_err(|_| err())?;
    if !(1..=12).contains(&m) || day == 0 || day > days_in_month(y, m) {
        return Err(format!("`{s}` is not a calendar date"));
    }
    let parts: Vec<&str> = time.split(':').collect();
    if !(parts.len() == 2 || parts.len() == 3) || parts.iter().any(|p| p.len() != 2) {
        return Err(err());
    }
    let hh: i64 = parts[0].parse().map_err(|_| err())?;
    let mm: i64 = parts[1].parse().map_err(|_| err())?;
    let ss: i64 = if parts.len() == 3 {
        parts[2].parse().map_err(|_| err())?
    } else {
        0
    };
    if hh > 23 || mm > 59 || ss > 59 {
        return Err(format!("`{s}` is not a time of day"));
    }
    Ok(days_from_civil(y, m, day) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Formats seconds since 1970-01-01T00:00 as `YYYY-MM-DDTHH:MM:SS`.
pub fn format_datetime(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(parse_local_datetime("1970-01-01T00:00").unwrap(), 0);
        // 2000-03-01 is day 11017 of the Unix epoch.
        assert_eq!(
            parse_local_datetime("2000-03-01T00:00").unwrap(),
            11_017 * 86_400
        );
        assert_eq!(format_datetime(951_782_400 + 3661), "2000-02-29T01:01:01");
        assert!(parse_local_datetime("2023-02-29T00:00").is_err());
        assert!(parse_local_datetime("2024-02-29T24:00").is_err());
        assert!(parse_local_datetime("garbage").is_err());
    }

    proptest::proptest! {
        #[test]
        fn format_and_parse_round_trip(secs in -4_000_000_000i64..8_000_000_000i64) {
            proptest::prop_assert_eq!(parse_local_datetime(&format_datetime(secs)).unwrap(), secs);
        }
    }
}
