//! Date formatting: `$ISODATE`, `$DATE`, `$STAMP`, `$HOUR`... the way syslog-ng 3.38's
//! `lib/timeutils/format.c` and `macros.c` print them.
//!
//! A stamp is shown at an offset (its own, or the destination's `time-zone()` at that instant)
//! by plain civil arithmetic on `sec + offset`: no zone lookups or allocation per field, which
//! matters because the default file format prints a date for every message.

use crate::message::UnixTime;

use super::options::TsFormat;

/// Month abbreviations as `$MONTH_ABBREV` and BSD stamps print them.
pub const MONTH_ABBREV: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// Full month names (`$MONTH_NAME`).
pub const MONTH_NAME: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Weekday abbreviations, Sunday first (`$WEEK_DAY_ABBREV`).
pub const WEEKDAY_ABBREV: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/// Full weekday names, Sunday first (`$WEEK_DAY_NAME`).
pub const WEEKDAY_NAME: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Broken-down time at some offset, `struct tm` conventions (month 0..11, wday 0 = Sunday,
/// yday 0-based) so the week formulas read like syslog-ng's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// Full year.
    pub year: i64,
    /// Month, 0..11.
    pub mon: u32,
    /// Day of month, 1..31.
    pub mday: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub min: u32,
    /// Second.
    pub sec: u32,
    /// Microseconds.
    pub usec: u32,
    /// Day of week, 0 = Sunday.
    pub wday: u32,
    /// Day of year, 0-based.
    pub yday: u32,
    /// The offset this wall clock is at, seconds east.
    pub gmtoff: i32,
}

/// Civil date of a day number (days since 1970-01-01), Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const DAYS_BEFORE_MONTH: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

impl WallClock {
    /// The wall clock of `t` shown at `offset` seconds east.
    pub fn new(t: &UnixTime, offset: i32) -> WallClock {
        let local = t.sec.saturating_add(i64::from(offset));
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (year, month, mday) = civil_from_days(days);
        let mon = month - 1;
        let leap = mon >= 2 && is_leap(year);
        let yday = DAYS_BEFORE_MONTH[mon as usize] + mday - 1 + u32::from(leap);
        // 1970-01-01 was a Thursday.
        let wday = (days + 4).rem_euclid(7) as u32;
        WallClock {
            year,
            mon,
            mday,
            hour: secs / 3600,
            min: (secs / 60) % 60,
            sec: secs % 60,
            usec: t.usec % 1_000_000,
            wday,
            yday,
            gmtoff: offset,
        }
    }

    /// `$WEEK`: the week number with weeks starting on Monday (`%W`).
    pub fn week(&self) -> u32 {
        let w = self.wday as i64;
        ((self.yday as i64 - (w - 1 + 7) % 7 + 7) / 7) as u32
    }

    /// `$MONTH_WEEK`: syslog-ng's formula, kept as it is.
    pub fn month_week(&self) -> u32 {
        self.mday / 7 + u32::from(self.wday > 0 && self.mday % 7 >= self.wday)
    }

    /// `$ISOWEEK`: the ISO 8601 week number.
    pub fn iso_week(&self) -> u32 {
        // Monday = 0 .. Sunday = 6.
        let wd = (self.wday + 6) % 7;
        let yday = self.yday as i64;
        // (ordinal - weekday + 10) / 7 with a 1-based ordinal and weekday: the +1s cancel.
        let week = (yday - wd as i64 + 10) / 7;
        if week < 1 {
            weeks_in_year(self.year - 1)
        } else if week > i64::from(weeks_in_year(self.year)) {
            1
        } else {
            week as u32
        }
    }
}

/// 52 or 53: the number of ISO weeks of `year`.
fn weeks_in_year(year: i64) -> u32 {
    let p = |y: i64| (y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)).rem_euclid(7);
    if p(year) == 4 || p(year - 1) == 3 {
        53
    } else {
        52
    }
}

/// Appends `n` in decimal, left-padded with `pad` to `width`.
pub fn push_padded(out: &mut Vec<u8>, n: u64, width: usize, pad: u8) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = buf.len() - i;
    for _ in digits..width {
        out.push(pad);
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends a signed number in decimal.
pub fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_padded(out, n.unsigned_abs(), 0, b'0');
}

fn push2(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + ((n / 10) % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// `.ddd`: the first `digits` digits of the microseconds (at most 6), nothing for 0.
pub fn push_frac(out: &mut Vec<u8>, usec: u32, digits: u8) {
    if digits == 0 {
        return;
    }
    out.push(b'.');
    let mut usec = usec % 1_000_000;
    let mut x = 100_000;
    let mut n = digits.min(6);
    while n > 0 && x > 0 {
        out.push(b'0' + (usec / x) as u8);
        usec %= x;
        x /= 10;
        n -= 1;
    }
}

/// `+HH:MM`, as `$TZOFFSET` prints an offset (seconds are dropped).
pub fn push_zone(out: &mut Vec<u8>, gmtoff: i32) {
    out.push(if gmtoff < 0 { b'-' } else { b'+' });
    let a = gmtoff.unsigned_abs();
    push_padded(out, u64::from(a / 3600), 2, b'0');
    out.push(b':');
    push2(out, (a % 3600) / 60);
}

/// Appends the year, as `%d` would (4 digits for ordinary years, a sign before 0).
fn push_year(out: &mut Vec<u8>, year: i64) {
    push_i64(out, year);
}

/// The stamp in seconds since the epoch as syslog-ng prints it: its `(int)` cast then an
/// unsigned 32-bit print, so stamps past 2106 or before 1970 wrap the same way.
pub fn push_unix(out: &mut Vec<u8>, t: &UnixTime, frac_digits: u8) {
    let v = (t.sec as i32) as u32;
    push_padded(out, u64::from(v), 0, b'0');
    push_frac(out, t.usec, frac_digits);
}

/// Formats a wall clock in one of the stamp formats.
pub fn push_wall_clock(out: &mut Vec<u8>, w: &WallClock, fmt: TsFormat, frac_digits: u8) {
    match fmt {
        TsFormat::Bsd => {
            push_bsd(out, w);
            push_frac(out, w.usec, frac_digits);
        }
        TsFormat::Iso => {
            push_year(out, w.year);
            out.push(b'-');
            push2(out, w.mon + 1);
            out.push(b'-');
            push2(out, w.mday);
            out.push(b'T');
            push_hms(out, w);
            push_frac(out, w.usec, frac_digits);
            push_zone(out, w.gmtoff);
        }
        TsFormat::Full => {
            push_year(out, w.year);
            out.push(b' ');
            push_bsd(out, w);
            push_frac(out, w.usec, frac_digits);
        }
        TsFormat::Unix => {
            // Reconstructed from the wall clock, as syslog-ng does.
            let days = days_from_civil(w.year, w.mon + 1, w.mday);
            let sec =
                days * 86_400 + i64::from(w.hour * 3600 + w.min * 60 + w.sec) - i64::from(w.gmtoff);
            push_unix(out, &UnixTime::new(sec, w.usec, w.gmtoff), frac_digits);
        }
    }
}

fn push_bsd(out: &mut Vec<u8>, w: &WallClock) {
    out.extend_from_slice(MONTH_ABBREV[w.mon as usize % 12].as_bytes());
    out.push(b' ');
    push_padded(out, u64::from(w.mday), 2, b' ');
    out.push(b' ');
    push_hms(out, w);
}

fn push_hms(out: &mut Vec<u8>, w: &WallClock) {
    push2(out, w.hour);
    out.push(b':');
    push2(out, w.min);
    out.push(b':');
    push2(out, w.sec);
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats `t` at `offset` in `fmt` (the `$STAMP` family and the default formats).
pub fn push_stamp(out: &mut Vec<u8>, t: &UnixTime, offset: i32, fmt: TsFormat, frac_digits: u8) {
    if fmt == TsFormat::Unix {
        push_unix(out, t, frac_digits);
    } else {
        push_wall_clock(out, &WallClock::new(t, offset), fmt, frac_digits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(sec: i64, usec: u32, off: i32, f: TsFormat, d: u8) -> String {
        let mut out = Vec::new();
        push_stamp(&mut out, &UnixTime::new(sec, usec, off), off, f, d);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn formats() {
        assert_eq!(
            fmt(1_065_910_455, 3000, 0, TsFormat::Iso, 3),
            "2003-10-11T22:14:15.003+00:00"
        );
        assert_eq!(
            fmt(1_704_046_500, 0, 20_700, TsFormat::Bsd, 0),
            "Jan  1 00:00:00"
        );
        assert_eq!(
            fmt(1_709_166_600, 0, -1800, TsFormat::Iso, 0),
            "2024-02-29T00:00:00-00:30"
        );
        assert_eq!(
            fmt(1_061_727_255, 3, -25_200, TsFormat::Full, 6),
            "2003 Aug 24 05:14:15.000003"
        );
        assert_eq!(fmt(2_147_483_648, 0, 0, TsFormat::Unix, 0), "2147483648");
        assert_eq!(fmt(0, 5, 0, TsFormat::Unix, 9), "0.000005");
    }

    #[test]
    fn weeks() {
        // 2024-12-30 is a Monday in ISO week 1 of 2025; %W says 53.
        let w = WallClock::new(&UnixTime::new(1_735_560_000, 0, 0), 0);
        assert_eq!((w.iso_week(), w.week(), w.month_week()), (1, 53, 5));
        // 2021-01-03 is a Sunday in ISO week 53 of 2020.
        let w = WallClock::new(&UnixTime::new(1_609_632_000, 0, 0), 0);
        assert_eq!((w.iso_week(), w.week(), w.wday), (53, 0, 0));
        let w = WallClock::new(&UnixTime::new(1_065_910_455, 0, 0), 0);
        assert_eq!(
            (w.iso_week(), w.week(), w.yday + 1, w.wday),
            (41, 40, 284, 6)
        );
    }

    #[test]
    fn negative_times_do_not_panic() {
        let w = WallClock::new(&UnixTime::new(-1, 0, 0), 0);
        assert_eq!((w.year, w.mon, w.mday, w.hour), (1969, 11, 31, 23));
        let _ = fmt(i64::MIN, u32::MAX, i32::MIN, TsFormat::Iso, 6);
        let _ = fmt(i64::MAX, 0, i32::MAX, TsFormat::Unix, 6);
    }
}
