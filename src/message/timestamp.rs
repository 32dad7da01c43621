//! Timestamps: the message's own stamp and the received time, and the scanners for the
//! stamps found in syslog headers (BSD `Mmm dd hh:mm:ss`, Cisco PIX/ASA `Mmm dd yyyy hh:mm:ss`,
//! LinkSys `Mmm dd hh:mm:ss yyyy`, ISO 8601 / RFC 3339).
//!
//! The rules follow syslog-ng 3.38's `lib/timeutils/` (scan-timestamp.c, conv.c, unixtime.c)
//! closely, because users compare the output byte for byte: e.g. a stamp without a zone takes
//! the source's `time-zone()` offset *as of now* (not as of the stamp), a BSD stamp without a
//! year takes the current year except around new year, and out-of-range fields are normalised
//! the way `mktime()` does (`Feb 30` is `Mar 2`).

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// A point in time as syslog-ng keeps it: seconds and microseconds since the epoch plus the
/// UTC offset (seconds east) the stamp was written in, which `$S_TZOFFSET`, `$S_ISODATE`...
/// render.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct UnixTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub sec: i64,
    /// Microseconds, 0..=999_999.
    pub usec: u32,
    /// Offset from UTC in seconds, east positive.
    pub gmtoff: i32,
}

impl UnixTime {
    /// Builds a time from its parts.
    pub const fn new(sec: i64, usec: u32, gmtoff: i32) -> Self {
        UnixTime { sec, usec, gmtoff }
    }

    /// The current time with the offset `tz` has now: what a source stamps as received time.
    pub fn now(tz: &TimeZone) -> Self {
        let now = jiff::Timestamp::now();
        let sec = now.as_second();
        let usec = now.subsec_microsecond().max(0) as u32;
        UnixTime {
            sec,
            usec,
            gmtoff: offset_at(tz, sec),
        }
    }
}

/// The UTC offset of `tz` at `sec` (seconds since the epoch), in seconds east.
pub fn offset_at(tz: &TimeZone, sec: i64) -> i32 {
    match jiff::Timestamp::from_second(sec) {
        Ok(ts) => tz.to_offset(ts).seconds(),
        Err(_) => 0,
    }
}

/// A source's (or the global `recv-time-zone()`) time zone: syslog-ng accepts exactly
/// `+HH:MM`/`-HH:MM` as a fixed offset, anything else is a tz database name.
#[derive(Clone, Debug)]
pub enum ZoneSpec {
    /// A fixed offset in seconds east of UTC.
    Fixed(i32),
    /// A zone from the tz database (its offset depends on the date).
    Named(TimeZone),
}

impl ZoneSpec {
    /// Parses a `time-zone()` value; `None` when it is neither an offset nor a known zone
    /// (syslog-ng then reports a config error, which the config layer does).
    pub fn parse(spec: &str) -> Option<ZoneSpec> {
        let b = spec.as_bytes();
        if b.len() == 6
            && (b[0] == b'+' || b[0] == b'-')
            && b[1].is_ascii_digit()
            && b[2].is_ascii_digit()
            && b[3] == b':'
            && b[4].is_ascii_digit()
            && b[5].is_ascii_digit()
        {
            let sign = if b[0] == b'-' { -1 } else { 1 };
            let hours = i32::from(b[1] - b'0') * 10 + i32::from(b[2] - b'0');
            let mins = i32::from(b[4] - b'0') * 10 + i32::from(b[5] - b'0');
            if (hours < 24 && mins <= 60) || (hours == 24 && mins == 0) {
                return Some(ZoneSpec::Fixed(sign * (hours * 3600 + mins * 60)));
            }
            // syslog-ng falls through to the zone database here, where such a name fails.
            return None;
        }
        TimeZone::get(spec).ok().map(ZoneSpec::Named)
    }

    /// The offset in seconds east at `sec`.
    pub fn offset_at(&self, sec: i64) -> i32 {
        match self {
            ZoneSpec::Fixed(off) => *off,
            ZoneSpec::Named(tz) => offset_at(tz, sec),
        }
    }
}

/// Broken-down time as scanned from a header, before it is tied to a zone. Fields use
/// `struct tm` conventions (month 0..11) so that normalisation matches `mktime()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct WallClock {
    /// Full year (e.g. 2024), `None` when the stamp has none (BSD).
    pub year: Option<i32>,
    /// Month, 0-based; may be out of range in ISO stamps (`2024-13-01`) and is normalised.
    pub mon: i32,
    /// Day of month.
    pub mday: i32,
    /// Hour.
    pub hour: i32,
    /// Minute.
    pub min: i32,
    /// Second.
    pub sec: i32,
    /// Microseconds.
    pub usec: u32,
    /// Offset written in the stamp (`Z`, `+02:00`), `None` when absent.
    pub gmtoff: Option<i32>,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// `Jan`..`Dec` to 0..11: the first letter must be upper case (syslog-ng switches on it),
/// the other two may be any case.
fn month_abbrev(b: &[u8]) -> Option<i32> {
    let m = b.get(..3)?;
    if !m[0].is_ascii_uppercase() {
        return None;
    }
    let lower = [
        m[0].to_ascii_lowercase(),
        m[1].to_ascii_lowercase(),
        m[2].to_ascii_lowercase(),
    ];
    MONTHS.iter().position(|x| **x == lower).map(|p| p as i32)
}

/// syslog-ng's `scan_positive_int`: exactly `width` characters, leading spaces allowed
/// (`Mar  1`), then digits; anything else fails.
fn positive_int(b: &[u8], pos: &mut usize, width: usize) -> Option<i32> {
    let mut w = width;
    while w > 0 && b.get(*pos) == Some(&b' ') {
        *pos += 1;
        w -= 1;
    }
    let mut v: i32 = 0;
    while w > 0 {
        match b.get(*pos) {
            Some(c) if c.is_ascii_digit() => {
                v = v * 10 + i32::from(c - b'0');
                *pos += 1;
                w -= 1;
            }
            _ => return None,
        }
    }
    Some(v)
}

fn expect(b: &[u8], pos: &mut usize, c: u8) -> Option<()> {
    if b.get(*pos) == Some(&c) {
        *pos += 1;
        Some(())
    } else {
        None
    }
}

/// `YYYY-MM-DD[T ]HH:MM:SS` (shape already checked by the caller).
fn scan_iso(b: &[u8], pos: &mut usize, w: &mut WallClock) -> Option<()> {
    w.year = Some(positive_int(b, pos, 4)?);
    expect(b, pos, b'-')?;
    w.mon = positive_int(b, pos, 2)? - 1;
    expect(b, pos, b'-')?;
    w.mday = positive_int(b, pos, 2)?;
    if expect(b, pos, b'T').is_none() {
        expect(b, pos, b' ')?;
    }
    w.hour = positive_int(b, pos, 2)?;
    expect(b, pos, b':')?;
    w.min = positive_int(b, pos, 2)?;
    expect(b, pos, b':')?;
    w.sec = positive_int(b, pos, 2)?;
    Some(())
}

/// Fractional seconds after `.` or `,` (Aruba uses a comma): the first six digits count,
/// the rest are skipped.
fn usec(b: &[u8], pos: &mut usize) -> u32 {
    match b.get(*pos) {
        Some(b'.') | Some(b',') => {}
        _ => return 0,
    }
    *pos += 1;
    let mut frac: u32 = 0;
    let mut div: u32 = 1;
    while div < 1_000_000 {
        match b.get(*pos) {
            Some(c) if c.is_ascii_digit() => {
                frac = frac * 10 + u32::from(c - b'0');
                div *= 10;
                *pos += 1;
            }
            _ => break,
        }
    }
    while b.get(*pos).is_some_and(u8::is_ascii_digit) {
        *pos += 1;
    }
    frac * (1_000_000 / div)
}

/// `+HH:MM` not followed by another digit.
fn iso_zone(b: &[u8], pos: usize) -> Option<i32> {
    let s = b.get(pos..pos + 6)?;
    if (s[0] == b'+' || s[0] == b'-')
        && s[1].is_ascii_digit()
        && s[2].is_ascii_digit()
        && s[3] == b':'
        && s[4].is_ascii_digit()
        && s[5].is_ascii_digit()
        && !b.get(pos + 6).is_some_and(u8::is_ascii_digit)
    {
        let sign = if s[0] == b'-' { -1 } else { 1 };
        let h = i32::from(s[1] - b'0') * 10 + i32::from(s[2] - b'0');
        let m = i32::from(s[4] - b'0') * 10 + i32::from(s[5] - b'0');
        Some(sign * (h * 3600 + m * 60))
    } else {
        None
    }
}

/// RFC 3339 stamp with optional fraction and zone; returns the bytes consumed.
fn parse_iso_stamp(b: &[u8]) -> Option<(WallClock, usize)> {
    let mut w = WallClock::default();
    let mut pos = 0;
    scan_iso(b, &mut pos, &mut w)?;
    w.usec = usec(b, &mut pos);
    if b.get(pos) == Some(&b'Z') {
        w.gmtoff = Some(0);
        pos += 1;
    } else if let Some(off) = iso_zone(b, pos) {
        w.gmtoff = Some(off);
        pos += 6;
    }
    Some((w, pos))
}

fn is_iso_shape(b: &[u8]) -> bool {
    b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
        && b[16] == b':'
}

fn is_pix_shape(b: &[u8]) -> bool {
    b.len() >= 21
        && b[3] == b' '
        && b[6] == b' '
        && b[11] == b' '
        && b[14] == b':'
        && b[17] == b':'
        && (b[20] == b':' || b[20] == b' ')
        && b[7..11].iter().all(u8::is_ascii_digit)
}

fn is_linksys_shape(b: &[u8]) -> bool {
    b.len() >= 21
        && b[3] == b' '
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' '
        && b[16..20].iter().all(u8::is_ascii_digit)
        // C isspace(): space, \t, \n, \v, \f, \r
        && matches!(b[20], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_bsd_shape(b: &[u8]) -> bool {
    b.len() >= 15 && b[3] == b' ' && b[6] == b' ' && b[9] == b':' && b[12] == b':'
}

fn scan_month_day(b: &[u8], pos: &mut usize, w: &mut WallClock) -> Option<()> {
    w.mon = month_abbrev(b.get(*pos..)?)?;
    *pos += 3;
    expect(b, pos, b' ')?;
    w.mday = positive_int(b, pos, 2)?;
    expect(b, pos, b' ')?;
    Some(())
}

fn scan_hms(b: &[u8], pos: &mut usize, w: &mut WallClock) -> Option<()> {
    w.hour = positive_int(b, pos, 2)?;
    expect(b, pos, b':')?;
    w.min = positive_int(b, pos, 2)?;
    expect(b, pos, b':')?;
    w.sec = positive_int(b, pos, 2)?;
    Some(())
}

/// The stamp of an RFC 3164 header: ISO, PIX/ASA, LinkSys or BSD, plus one trailing `:`
/// (Cisco). Returns the wall clock and the bytes consumed; `year` is `None` for BSD stamps
/// (the caller infers it, see [`guess_year`]).
pub fn scan_rfc3164(b: &[u8]) -> Option<(WallClock, usize)> {
    let (w, mut pos) = if is_iso_shape(b) {
        parse_iso_stamp(b)?
    } else if is_pix_shape(b) {
        let mut w = WallClock::default();
        let mut pos = 0;
        scan_month_day(b, &mut pos, &mut w)?;
        w.year = Some(positive_int(b, &mut pos, 4)?);
        expect(b, &mut pos, b' ')?;
        scan_hms(b, &mut pos, &mut w)?;
        if b.get(pos) == Some(&b':') {
            pos += 1;
        }
        (w, pos)
    } else if is_linksys_shape(b) {
        let mut w = WallClock::default();
        let mut pos = 0;
        scan_month_day(b, &mut pos, &mut w)?;
        scan_hms(b, &mut pos, &mut w)?;
        expect(b, &mut pos, b' ')?;
        w.year = Some(positive_int(b, &mut pos, 4)?);
        (w, pos)
    } else if is_bsd_shape(b) {
        let mut w = WallClock::default();
        let mut pos = 0;
        scan_month_day(b, &mut pos, &mut w)?;
        scan_hms(b, &mut pos, &mut w)?;
        w.usec = usec(b, &mut pos);
        (w, pos)
    } else {
        return None;
    };
    if b.get(pos) == Some(&b':') {
        pos += 1;
    }
    Some((w, pos))
}

/// The stamp of an RFC 5424 header (ISO only; the `-` nil value is handled by the caller).
pub fn scan_rfc5424(b: &[u8]) -> Option<(WallClock, usize)> {
    parse_iso_stamp(b)
}

/// syslog-ng's year rule for stamps without one: the current year, except that a December
/// stamp seen in January belongs to last year and a January stamp seen in December to next
/// year. "Current" is in the local time zone, as `localtime()` would tell.
pub fn guess_year(mon: i32, now: i64, local: &TimeZone) -> i32 {
    let (year, cur_mon) = match jiff::Timestamp::from_second(now) {
        Ok(ts) => {
            let dt = local.to_datetime(ts);
            (i32::from(dt.year()), i32::from(dt.month()) - 1)
        }
        Err(_) => (1970, 0),
    };
    if mon == 11 && cur_mon == 0 {
        year - 1
    } else if mon == 0 && cur_mon == 11 {
        year + 1
    } else {
        year
    }
}

/// Days since the epoch of a proleptic Gregorian date (month 1..12), Howard Hinnant's
/// `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `timegm()` with `mktime()`'s normalisation of out-of-range fields.
pub fn timegm(w: &WallClock, year: i32) -> i64 {
    let y = i64::from(year) + i64::from(w.mon).div_euclid(12);
    let m = i64::from(w.mon).rem_euclid(12) + 1;
    let days = days_from_civil(y, m, 1) + i64::from(w.mday) - 1;
    days * 86_400 + i64::from(w.hour) * 3600 + i64::from(w.min) * 60 + i64::from(w.sec)
}

/// Ties a wall clock to a zone: the stamp's own offset wins, then the source's
/// `time-zone()` hint, then the local zone at that moment.
///
/// This reproduces syslog-ng's `convert_and_normalize_wall_clock_time_to_unix_time_with_tz_hint`
/// exactly, including its side effect: the time is first resolved as *local* time
/// (`mktime`), and whenever that moves the hour field (out-of-range hours like `25`, or a
/// local DST gap) the difference is subtracted again in whole hours. So `Mar 32 25:61:61`
/// lands 23 hours later than plain normalisation would put it, and `02:30` in a spring-forward
/// gap keeps its wall-clock reading with the summer offset.
pub fn to_unix(w: &WallClock, year: i32, hint: Option<i32>, local: &TimeZone) -> UnixTime {
    let naive = timegm(w, year);
    let usec = w.usec;
    let Some((mk, local_gmtoff)) = mktime_local(naive, local) else {
        let off = w.gmtoff.or(hint).unwrap_or(0);
        return UnixTime {
            sec: naive - i64::from(off),
            usec,
            gmtoff: off,
        };
    };
    let norm_hour = (mk + i64::from(local_gmtoff)).rem_euclid(86_400) / 3600;
    let target = w.gmtoff.or(hint).unwrap_or(local_gmtoff);
    let sec =
        mk + i64::from(local_gmtoff) - (norm_hour - i64::from(w.hour)) * 3600 - i64::from(target);
    UnixTime {
        sec,
        usec,
        gmtoff: target,
    }
}

/// `mktime()` with `tm_isdst = -1` on already-normalised civil time (`naive` seconds as if
/// UTC): the instant and the local offset then. A time in a DST gap moves forward; of the
/// two readings in a fold glibc (as observed with syslog-ng) takes the later.
fn mktime_local(naive: i64, local: &TimeZone) -> Option<(i64, i32)> {
    let ts = jiff::Timestamp::from_second(naive).ok()?;
    let dt: DateTime = Offset::UTC.to_datetime(ts);
    let ts = local.to_ambiguous_timestamp(dt).later().ok()?;
    Some((ts.as_second(), local.to_offset(ts).seconds()))
}

/// syslog-ng's `guess-timezone` flag: when the stamp is within a day of `now` and differs
/// from it by a whole quarter hour (±30 s), the difference is taken to be the sender's zone
/// and the stamp is re-anchored there (only offsets that exist somewhere are accepted).
pub fn guess_timezone(stamp: &mut UnixTime, now: i64) {
    let diff = now - stamp.sec;
    if diff.abs() >= 24 * 3600 {
        return;
    }
    let q = 900;
    let rounded = div_round(diff, q) * q;
    if (diff - rounded).abs() > 30 {
        return;
    }
    let result = i64::from(stamp.gmtoff) - rounded;
    if !gmtoff_valid(result) {
        return;
    }
    let implied = i64::from(stamp.gmtoff);
    stamp.sec -= result - implied;
    stamp.gmtoff = result as i32;
}

fn div_round(n: i64, d: i64) -> i64 {
    if (n < 0) ^ (d < 0) {
        (n - d / 2) / d
    } else {
        (n + d / 2) / d
    }
}

fn gmtoff_valid(off: i64) -> bool {
    const ODD: [i64; 17] = [
        -34200, -16200, -12600, -9000, 12600, 16200, 19800, 20700, 23400, 30600, 31500, 34200,
        35100, 37800, 41400, 45900, 49500,
    ];
    if !(-12 * 3600..=14 * 3600).contains(&off) {
        return false;
    }
    off % 3600 == 0 || ODD.binary_search(&off).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    #[test]
    fn bsd_and_variants() {
        let (w, n) = scan_rfc3164(b"Oct 11 22:14:15 host").unwrap();
        assert_eq!(
            (w.mon, w.mday, w.hour, w.min, w.sec, w.year, n),
            (9, 11, 22, 14, 15, None, 15)
        );
        let (w, n) = scan_rfc3164(b"Mar  1 00:00:01.123456789: x").unwrap();
        assert_eq!((w.mday, w.usec, n), (1, 123_456, 26));
        let (w, n) = scan_rfc3164(b"Mar 01 2021 10:00:00: %ASA").unwrap();
        assert_eq!((w.year, n), (Some(2021), 21));
        let (w, n) = scan_rfc3164(b"Mar 01 10:00:00 2021 host").unwrap();
        assert_eq!((w.year, n), (Some(2021), 20));
        let (w, n) = scan_rfc3164(b"2021-03-01T10:00:00.5+02:00 host").unwrap();
        assert_eq!(
            (w.year, w.usec, w.gmtoff, n),
            (Some(2021), 500_000, Some(7200), 27)
        );
        assert!(scan_rfc3164(b"Foo 11 22:14:15 host").is_none());
        assert!(scan_rfc3164(b"short").is_none());
    }

    #[test]
    fn year_rule() {
        // 2024-01-05 UTC
        let jan = timegm(
            &WallClock {
                mon: 0,
                mday: 5,
                ..Default::default()
            },
            2024,
        );
        assert_eq!(guess_year(11, jan, &utc()), 2023);
        assert_eq!(guess_year(0, jan, &utc()), 2024);
        assert_eq!(guess_year(5, jan, &utc()), 2024);
        let dec = timegm(
            &WallClock {
                mon: 11,
                mday: 30,
                ..Default::default()
            },
            2024,
        );
        assert_eq!(guess_year(0, dec, &utc()), 2025);
        assert_eq!(guess_year(11, dec, &utc()), 2024);
    }

    #[test]
    fn normalisation_like_mktime() {
        let w = WallClock {
            mon: 1,
            mday: 30,
            ..Default::default()
        };
        let mar2 = WallClock {
            mon: 2,
            mday: 2,
            ..Default::default()
        };
        assert_eq!(timegm(&w, 2023), timegm(&mar2, 2023));
        assert_eq!(
            timegm(
                &WallClock {
                    mon: 0,
                    mday: 1,
                    ..Default::default()
                },
                1970
            ),
            0
        );
    }

    #[test]
    fn guess_timezone_rule() {
        // Sent at 12:00 in +02:00 without a zone, parsed as UTC, received at 10:00:10Z.
        let now = 1_700_000_000;
        let mut st = UnixTime::new(now - 10 + 7200, 0, 0);
        guess_timezone(&mut st, now);
        assert_eq!((st.sec, st.gmtoff), (now - 10, 7200));
        // 17 minutes off is no zone: left alone; a day off too.
        let mut st = UnixTime::new(now + 17 * 60, 0, 0);
        guess_timezone(&mut st, now);
        assert_eq!(st.gmtoff, 0);
        let mut st = UnixTime::new(now - 86_400, 0, 0);
        guess_timezone(&mut st, now);
        assert_eq!(st.gmtoff, 0);
        // +05:45 (Nepal) exists, +05:15 does not.
        let mut st = UnixTime::new(now + 20_700, 0, 0);
        guess_timezone(&mut st, now);
        assert_eq!(st.gmtoff, 20_700);
        let mut st = UnixTime::new(now + 18_900, 0, 0);
        guess_timezone(&mut st, now);
        assert_eq!(st.gmtoff, 0);
    }

    #[test]
    fn mktime_hour_quirk() {
        // `25:00` is normalised by mktime and the hour difference subtracted again: syslog-ng
        // puts "Mar 32 25:61:61" 23 hours after Apr 2 02:02:01.
        let w = WallClock {
            mon: 2,
            mday: 32,
            hour: 25,
            min: 61,
            sec: 61,
            ..Default::default()
        };
        let t = to_unix(&w, 2026, Some(0), &TimeZone::UTC);
        let plain = timegm(
            &WallClock {
                mon: 3,
                mday: 2,
                hour: 2,
                min: 2,
                sec: 1,
                ..Default::default()
            },
            2026,
        );
        assert_eq!(t.sec, plain + 23 * 3600);
    }

    #[test]
    fn zone_spec() {
        assert!(matches!(
            ZoneSpec::parse("+05:30"),
            Some(ZoneSpec::Fixed(19800))
        ));
        assert!(matches!(
            ZoneSpec::parse("-02:00"),
            Some(ZoneSpec::Fixed(-7200))
        ));
        assert!(ZoneSpec::parse("Europe/Budapest").is_some());
        assert!(ZoneSpec::parse("Nowhere/Special").is_none());
    }
}
