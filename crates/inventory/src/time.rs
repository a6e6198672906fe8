//! Dates without a time crate: UTC only, which is all SBOM timestamps and
//! waiver expiry need.

/// Seconds since the epoch → `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339_from_epoch(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// When an SBOM says it was made: the time `SOURCE_DATE_EPOCH` names when it
/// is set (the reproducible-builds convention), else now; RFC 3339, UTC. A
/// value that is not whole seconds since the epoch is an error, as the
/// convention asks, rather than a silently different timestamp.
pub fn now_or_source_date_epoch() -> Result<String, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text.trim().parse::<i64>().map(rfc3339_from_epoch).map_err(|_| {
            format!(
                "SOURCE_DATE_EPOCH={text:?} is not a number of seconds since 1970-01-01; set it to one (e.g. $(git log -1 --format=%ct)) or unset it"
            )
        }),
        Err(_) => Ok(rfc3339_from_epoch(now_secs())),
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn today() -> String {
    rfc3339_from_epoch(now_secs())[..10].to_string()
}

/// Whether `text` is a real calendar date written `YYYY-MM-DD`: `2027-02-30`
/// and `2026-13-01` are not, `2028-02-29` is. A date that does not exist
/// comes back from the day count as another one, which is how it is caught.
pub fn is_date(text: &str) -> bool {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shaped
        && days_from_civil(text)
            .is_some_and(|days| rfc3339_from_epoch(days * 86_400).starts_with(text))
}

/// Whole days from `YYYY-MM-DD` `from` to `to`; `None` when either is not such a date.
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    Some(days_from_civil(to)? - days_from_civil(from)?)
}

/// Howard Hinnant's days_from_civil: days since 1970-01-01.
fn days_from_civil(date: &str) -> Option<i64> {
    let mut parts = date.get(..10)?.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_between_dates() {
        assert_eq!(days_between("2026-11-26", "2026-11-26"), Some(0));
        assert_eq!(days_between("2026-11-25", "2027-01-01"), Some(37));
        assert_eq!(days_between("2024-02-28", "2024-03-01"), Some(2));
        assert_eq!(days_between("soon", "2024-03-01"), None);
    }

    #[test]
    fn only_real_dates_are_dates() {
        for real in ["2026-01-31", "2028-02-29", "2000-02-29", "1999-12-31"] {
            assert!(is_date(real), "{real}");
        }
        for not in [
            "2027-02-30",
            "2027-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-01-00",
            "2026-1-01",
            "2026/01/01",
            "soon",
            "2026-01-01T00:00:00Z",
        ] {
            assert!(!is_date(not), "{not}");
        }
    }

    #[test]
    fn epoch_to_rfc3339() {
        assert_eq!(rfc3339_from_epoch(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_epoch(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(today().len(), 10);
    }
}
