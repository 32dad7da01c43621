//! `date-parser(format("%Y-%m-%dT%H:%M:%S%z" ...) template() time-zone() flags(guess-timezone)
//! time-stamp(stamp|recvd))`: reads a date with `strptime()` conversions and makes it the
//! message's stamp (`$S_*`, `$DATE`...) or its received time.
//!
//! The formats are tried in order; the first that matches the whole input wins, and the
//! parser fails (the message is dropped from the path) when none does. As in syslog-ng the
//! attempts share one broken-down time, so a format that failed half-way leaves what it read
//! (recorded: after a failed `%s`, a date without a zone keeps the offset `%s` set). A date without a zone is taken in
//! `time-zone()`, else in the local zone; without a year it gets syslog-ng's year rule (the
//! current year, December/January wrap). `time-zone()` applies its offset at the time of
//! parsing, not at the date's own time, as 3.38 does. Conversions: `%Y %y %m %d %e %H %M %S %b %B %h %a %A
//! %j %p %I %z %Z %f %s %T %D %F %R %n %t %%`; white space in the format matches any run of
//! white space.

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::Node;
use crate::config::diagnostic::Diagnostic;
use jiff::tz::TimeZone;

use crate::message::timestamp::{WallClock, guess_timezone, guess_year, offset_at, to_unix};
use crate::message::{LogMessage, UnixTime, ZoneSpec};

use super::super::args::option_span;

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = &["format", "template", "time-zone", "flags", "time-stamp"];

/// `date-parser()` options.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DateParserOptions {
    #[serde(default)]
    pub format: Vec<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub flags: Vec<DateFlag>,
    #[serde(default)]
    pub time_stamp: Option<TimeStampKind>,
}

/// `flags()` words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateFlag {
    GuessTimezone,
}

/// Which stamp `time-stamp()` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeStampKind {
    Stamp,
    Recvd,
}

/// A compiled `date-parser()`.
#[derive(Debug)]
pub struct DateParser {
    formats: Vec<Vec<u8>>,
    zone: Option<ZoneSpec>,
    guess: bool,
    recvd: bool,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

impl DateParser {
    pub fn new(o: &DateParserOptions, call: &Node) -> Result<DateParser, Diagnostic> {
        let zone = match &o.time_zone {
            Some(z) => Some(ZoneSpec::parse(z).ok_or_else(|| {
                Diagnostic::new(
                    format!("unknown time zone `{z}`"),
                    option_span(call, "time-zone"),
                )
            })?),
            None => None,
        };
        let formats = if o.format.is_empty() {
            vec![b"%FT%T%z".to_vec()]
        } else {
            o.format.iter().map(|f| f.as_bytes().to_vec()).collect()
        };
        Ok(DateParser {
            formats,
            zone,
            guess: o.flags.contains(&DateFlag::GuessTimezone),
            recvd: o.time_stamp == Some(TimeStampKind::Recvd),
        })
    }

    /// Parses `input` with the formats in turn; `local` is the daemon's local zone.
    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>, local: &TimeZone) -> bool {
        let now = msg.recvd;
        // One broken-down time for all the attempts, as syslog-ng has: what a failed format
        // set stays (a failed `%s` leaves its zone offset for the next format).
        let mut s = Scan::default();
        let Some(t) = self
            .formats
            .iter()
            .find_map(|f| self.convert(input, f, now, local, &mut s))
        else {
            return false;
        };
        let m = Arc::make_mut(msg);
        if self.recvd {
            m.recvd = t;
        } else {
            m.stamp = t;
        }
        true
    }

    fn convert(
        &self,
        input: &[u8],
        format: &[u8],
        now: UnixTime,
        local: &TimeZone,
        s: &mut Scan,
    ) -> Option<UnixTime> {
        s.local = Some(local.clone());
        let used = strptime(input, format, s)?;
        // The whole input must be the date.
        if used != input.len() {
            return None;
        }
        let mut w = s.w;
        if s.pm == Some(true) && w.hour < 12 {
            w.hour += 12;
        } else if s.pm == Some(false) && w.hour == 12 {
            w.hour = 0;
        }
        let year = match w.year {
            Some(y) => y,
            None => guess_year(w.mon, now.sec, local),
        };
        if s.yday.is_some() && !s.has_mday {
            let yday = s.yday.unwrap_or(0);
            w.mon = 0;
            w.mday = yday + 1;
        }
        // time-zone() is taken at its offset *now* (recorded: a June date with
        // time-zone("America/New_York") parsed in November gets -05:00).
        let hint = self.zone.as_ref().map(|z| z.offset_at(now.sec));
        let mut t = to_unix(&w, year, hint, local);
        if self.guess && w.gmtoff.is_none() {
            guess_timezone(&mut t, now.sec);
        }
        Some(t)
    }
}

#[derive(Default)]
struct Scan {
    w: WallClock,
    pm: Option<bool>,
    yday: Option<i32>,
    has_mday: bool,
    /// The zone `%s` breaks the epoch down in.
    local: Option<TimeZone>,
}

fn num(input: &[u8], p: &mut usize, max_digits: usize, allow_space: bool) -> Option<i64> {
    if allow_space {
        while *p < input.len() && input[*p] == b' ' {
            *p += 1;
        }
    }
    let start = *p;
    let mut neg = false;
    if input.get(*p) == Some(&b'-') || input.get(*p) == Some(&b'+') {
        neg = input[*p] == b'-';
        *p += 1;
    }
    let digits_start = *p;
    let mut v: i64 = 0;
    while *p < input.len() && *p - digits_start < max_digits && input[*p].is_ascii_digit() {
        v = v * 10 + i64::from(input[*p] - b'0');
        *p += 1;
    }
    if *p == digits_start {
        *p = start;
        return None;
    }
    Some(if neg { -v } else { v })
}

fn name(input: &[u8], p: &mut usize, names: &[&str]) -> Option<usize> {
    let rest = input.get(*p..)?;
    for (i, n) in names.iter().enumerate() {
        let n = n.as_bytes();
        if rest.len() >= n.len() && rest[..n.len()].eq_ignore_ascii_case(n) {
            *p += n.len();
            return Some(i);
        }
    }
    for (i, n) in names.iter().enumerate() {
        let n = &n.as_bytes()[..3];
        if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(n) {
            *p += 3;
            return Some(i);
        }
    }
    None
}

fn zone(input: &[u8], p: &mut usize) -> Option<i32> {
    let rest = input.get(*p..)?;
    if rest.first() == Some(&b'Z') {
        *p += 1;
        return Some(0);
    }
    let sign = match rest.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let d = |i: usize| {
        rest.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| i32::from(c - b'0'))
    };
    let h = d(1)? * 10 + d(2)?;
    let (m, used) = if rest.get(3) == Some(&b':') {
        (d(4)? * 10 + d(5)?, 6)
    } else {
        match (d(3), d(4)) {
            (Some(a), Some(b)) => (a * 10 + b, 5),
            _ => (0, 3),
        }
    };
    *p += used;
    Some(sign * (h * 3600 + m * 60))
}

/// A `strptime()` over bytes; `None` when the input does not match the format.
fn strptime(input: &[u8], fmt: &[u8], s: &mut Scan) -> Option<usize> {
    let mut p = 0usize;
    let mut f = 0usize;
    while f < fmt.len() {
        let c = fmt[f];
        if c.is_ascii_whitespace() {
            while p < input.len() && input[p].is_ascii_whitespace() {
                p += 1;
            }
            f += 1;
            continue;
        }
        if c != b'%' || f + 1 >= fmt.len() {
            if input.get(p) != Some(&c) {
                return None;
            }
            p += 1;
            f += 1;
            continue;
        }
        let conv = fmt[f + 1];
        f += 2;
        match conv {
            b'Y' => s.w.year = Some(num(input, &mut p, 4, true)? as i32),
            b'y' => {
                let y = num(input, &mut p, 2, true)? as i32;
                s.w.year = Some(if y < 69 { 2000 + y } else { 1900 + y });
            }
            b'm' => s.w.mon = num(input, &mut p, 2, true)? as i32 - 1,
            b'd' | b'e' => {
                s.w.mday = num(input, &mut p, 2, true)? as i32;
                s.has_mday = true;
            }
            b'H' | b'k' => s.w.hour = num(input, &mut p, 2, true)? as i32,
            b'I' | b'l' => s.w.hour = num(input, &mut p, 2, true)? as i32,
            b'M' => s.w.min = num(input, &mut p, 2, true)? as i32,
            b'S' => s.w.sec = num(input, &mut p, 2, true)? as i32,
            b'j' => s.yday = Some(num(input, &mut p, 3, true)? as i32 - 1),
            b'b' | b'B' | b'h' => s.w.mon = name(input, &mut p, &MONTHS)? as i32,
            b'a' | b'A' => {
                name(input, &mut p, &DAYS)?;
            }
            b'p' | b'P' => {
                let rest = input.get(p..p + 2)?;
                if rest.eq_ignore_ascii_case(b"am") {
                    s.pm = Some(false);
                } else if rest.eq_ignore_ascii_case(b"pm") {
                    s.pm = Some(true);
                } else {
                    return None;
                }
                p += 2;
            }
            b'z' => s.w.gmtoff = Some(zone(input, &mut p)?),
            b'Z' => {
                while p < input.len() && input[p].is_ascii_alphabetic() {
                    p += 1;
                }
            }
            b'f' => {
                let start = p;
                let v = num(input, &mut p, 9, false)?;
                let digits = (p - start) as u32;
                let usec = if digits >= 6 {
                    v / 10i64.pow(digits - 6)
                } else {
                    v * 10i64.pow(6 - digits)
                };
                s.w.usec = usec as u32;
            }
            b's' => {
                // Like glibc: the epoch is broken down in local time, offset included.
                let epoch = num(input, &mut p, 19, true)?;
                let tz = s.local.clone().unwrap_or(TimeZone::UTC);
                let ts = jiff::Timestamp::from_second(epoch).ok()?;
                let off = offset_at(&tz, epoch);
                let dt = tz.to_datetime(ts);
                s.w.year = Some(i32::from(dt.year()));
                s.w.mon = i32::from(dt.month()) - 1;
                s.w.mday = i32::from(dt.day());
                s.w.hour = i32::from(dt.hour());
                s.w.min = i32::from(dt.minute());
                s.w.sec = i32::from(dt.second());
                s.w.gmtoff = Some(off);
                s.has_mday = true;
            }
            b'T' => strptime_sub(input, &mut p, b"%H:%M:%S", s)?,
            b'D' => strptime_sub(input, &mut p, b"%m/%d/%y", s)?,
            b'F' => strptime_sub(input, &mut p, b"%Y-%m-%d", s)?,
            b'R' => strptime_sub(input, &mut p, b"%H:%M", s)?,
            b'n' | b't' => {
                while p < input.len() && input[p].is_ascii_whitespace() {
                    p += 1;
                }
            }
            b'%' => {
                if input.get(p) != Some(&b'%') {
                    return None;
                }
                p += 1;
            }
            _ => return None,
        }
    }
    Some(p)
}

fn strptime_sub(input: &[u8], p: &mut usize, fmt: &[u8], s: &mut Scan) -> Option<()> {
    let used = strptime(input.get(*p..)?, fmt, s)?;
    *p += used;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str, fmt: &str) -> Option<Scan> {
        let mut s = Scan::default();
        strptime(input.as_bytes(), fmt.as_bytes(), &mut s)?;
        Some(s)
    }

    #[test]
    fn conversions() {
        let s = parse("2024-03-05T10:20:30+02:00", "%Y-%m-%dT%H:%M:%S%z").unwrap();
        assert_eq!(
            (s.w.year, s.w.mon, s.w.mday, s.w.hour),
            (Some(2024), 2, 5, 10)
        );
        assert_eq!(s.w.gmtoff, Some(7200));
        let s = parse("Mar  5 10:20:30.123", "%b %d %H:%M:%S.%f").unwrap();
        assert_eq!((s.w.mon, s.w.mday, s.w.usec), (2, 5, 123_000));
        assert!(parse("x", "%Y").is_none());
        let s = parse("1700000000", "%s").unwrap();
        assert_eq!((s.w.year, s.w.gmtoff), (Some(2023), Some(0)));
    }
}
