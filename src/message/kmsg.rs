//! `format(linux-kmsg)`: the records of Linux's `/dev/kmsg` (3.5+), parsed as syslog-ng
//! 3.38's `modules/linux-kmsg-format` does.
//!
//! A record is `PRI,SEQ,TIMESTAMP_USEC[,FLAGS...];MESSAGE\n` followed by ` KEY=VALUE\n`
//! lines (the kernel escapes non-printable bytes of MESSAGE and VALUE as `\xNN`; syslog-ng
//! keeps the escapes as they are). What it becomes:
//!
//! * PRI: the priority (`gint` accumulated, stored in 16 bits: `99999` is 34463); SEQ: MSGID;
//!   TIMESTAMP_USEC: `.linux.timestamp` as written, and the stamp is boot time + that many
//!   microseconds, with the local zone's offset at that time. `keep-timestamp(no)` then
//!   replaces the stamp with the received time, as for every format. Fields after the
//!   timestamp (the kernel's flags) are skipped up to the `;`.
//! * `KEY=VALUE` lines: `.linux.KEY`; `DEVICE=` is split instead: `b8:0` / `c4:1` (block /
//!   char device: `.linux.DEVICE.type`, `.major`, `.minor`), `n2` (`netdev`, `.index`),
//!   `+pci:0000:02:00.0` (`.type` = the subsystem, `.name`), anything else (`<unknown>`,
//!   `.name` = the whole value).
//! * HOST, PROGRAM, PID are not set (the source's rules and overrides apply after).
//!
//! Boot time ([`BootTime::system`]) is computed once per process, as syslog-ng does when it
//! loads the module: now minus `/proc/uptime` — with syslog-ng's quirk that the fraction's
//! digits are taken as *microseconds* (`11056.05` is 11056 s + 5 µs), so stamps run up to a
//! second after the kernel's time. Unreadable uptime makes boot time the epoch.
//!
//! Malformed records are parsed as far as syslog-ng goes and then become its "Error
//! processing log message" message ([`crate::message::parse_with_status`] does that from the
//! position returned here); quirks kept (recorded in tests/golden/kmsg):
//!
//! * a non-digit in SEQ ends SEQ there (no MSGID) and the timestamp is read from the next
//!   byte on (`6,x1,18,-;m` has `.linux.timestamp` `1`);
//! * the `KEY` of a pair runs to the first `=`, across line ends (` foo\n BAR=1` is the pair
//!   `.linux.foo\n BAR`);
//! * MESSAGE and each VALUE must end at a `\n`, and syslog-ng looks at the byte just *past*
//!   the record for the last one (the trailing newline it stripped, or in a newline-framed
//!   file the byte that ended the line): a file line ending in `\r\n` or at a NUL is a parse
//!   error. The caller passes the frame with that byte.
//!
//! One divergence: `DEVICE=b8` / `+pci` without a `:` make syslog-ng read past the value
//! (undefined; it takes whatever follows in its buffer as the minor or name); sluice sets
//! it empty.

use std::sync::OnceLock;

use super::message::LogMessage;
use super::nv::Builtin;
use super::options::ParseOptions;
use super::timestamp::{UnixTime, offset_at};

const USEC: u64 = 1_000_000;

/// Whether a `format()` value names this format (plugin names match with `-` and `_` alike).
pub fn is_linux_kmsg(name: &str) -> bool {
    name.replace('_', "-") == "linux-kmsg"
}

/// A newline-framed message `buf[..len]` with the byte that ended it when that is a newline or
/// a NUL (the framer took it off): what [`parse_kmsg`] needs to see past the record's end, as
/// syslog-ng does in its read buffer. Any other ending byte (a `\r` before the newline, the
/// next byte of a line cut at `log-msg-size()`) is not `\n` and fails the same way without it.
pub fn with_terminator(buf: &[u8], len: usize) -> &[u8] {
    match buf.get(len) {
        Some(b'\n' | 0) => &buf[..=len],
        _ => &buf[..len.min(buf.len())],
    }
}

/// When the machine booted, as syslog-ng 3.38 computes it (see the module's notes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootTime {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Microseconds, 0..=999_999.
    pub usec: u32,
}

impl BootTime {
    /// The process's boot time: computed at the first call (the first configuration that
    /// uses the format), then kept — syslog-ng computes it once, when it loads the module.
    pub fn system() -> BootTime {
        static BOOT: OnceLock<BootTime> = OnceLock::new();
        *BOOT.get_or_init(|| {
            let Ok(uptime) = std::fs::read("/proc/uptime") else {
                return BootTime::default();
            };
            let now = jiff::Timestamp::now();
            let usec = now.subsec_microsecond().max(0) as u32;
            BootTime::from_uptime(&uptime, now.as_second(), usec)
        })
    }

    /// `now` minus the uptime text `uptime` (`/proc/uptime`'s `SECONDS.FRACTION ...`), read
    /// as syslog-ng's `kmsg_init_boot_time` reads it: the fraction's digits are microseconds,
    /// and a character that is not a digit makes it the epoch.
    pub fn from_uptime(uptime: &[u8], now_sec: i64, now_usec: u32) -> BootTime {
        let mut pos = 0;
        let mut sec: u64 = 0;
        while pos < uptime.len() && uptime[pos] != b'.' {
            let Some(d) = digit(uptime[pos]) else {
                return BootTime::default();
            };
            sec = sec.wrapping_mul(10).wrapping_add(d);
            pos += 1;
        }
        pos += 1;
        let mut frac: u64 = 0;
        while pos < uptime.len() && uptime[pos] != b' ' {
            let Some(d) = digit(uptime[pos]) else {
                return BootTime::default();
            };
            frac = frac.wrapping_mul(10).wrapping_add(d);
            pos += 1;
        }
        // Unsigned, wrapping arithmetic, as in syslog-ng's kmsg_timeval_diff.
        let diff = (now_sec as u64)
            .wrapping_sub(sec)
            .wrapping_mul(USEC)
            .wrapping_add(u64::from(now_usec).wrapping_sub(frac));
        BootTime {
            sec: (diff / USEC) as i64,
            usec: (diff % USEC) as u32,
        }
    }

    /// The absolute time of a record `ts` microseconds after boot (syslog-ng's
    /// `kmsg_to_absolute_time`, wrapping at 64 bits like it).
    pub fn after(self, ts: u64) -> (i64, u32) {
        let t = (self.sec as u64)
            .wrapping_add(ts / USEC)
            .wrapping_mul(USEC)
            .wrapping_add(u64::from(self.usec))
            .wrapping_add(ts % USEC);
        ((t / USEC) as i64, (t % USEC) as u32)
    }
}

fn digit(c: u8) -> Option<u64> {
    c.is_ascii_digit().then(|| u64::from(c - b'0'))
}

/// A record being parsed: `data` is the record without its trailing newlines and NULs,
/// `raw` the frame it came in, which may go on past `data` (see [`Record::at`]).
struct Record<'a> {
    raw: &'a [u8],
    len: usize,
}

impl Record<'_> {
    /// The byte at `i`, also past the record's end: syslog-ng reads its buffer there (the
    /// stripped newline, or what ended the line); nothing known reads as NUL.
    fn at(&self, i: usize) -> u8 {
        self.raw.get(i).copied().unwrap_or(0)
    }

    fn data(&self, from: usize, to: usize) -> &[u8] {
        self.raw.get(from..to.min(self.len)).unwrap_or(&[])
    }
}

/// Parses the record `raw[..len]` into `msg` (whose payload starts with those bytes); `raw`
/// may hold more (the byte that ended the record). `Err(position)` is where syslog-ng
/// stopped, for its parse-error message.
pub(crate) fn parse_kmsg(
    msg: &mut LogMessage,
    raw: &[u8],
    len: usize,
    boot: BootTime,
    opts: &ParseOptions,
) -> Result<(), usize> {
    let r = Record {
        raw,
        len: len.min(raw.len()),
    };
    let len = r.len;
    let mut pos = 0;

    // PRI, up to the first comma.
    let mut pri: i32 = 0;
    while pos < len && r.at(pos) != b',' {
        let Some(d) = digit(r.at(pos)) else {
            return Err(pos);
        };
        pri = pri.wrapping_mul(10).wrapping_add(d as i32);
        pos += 1;
    }
    if pos == len {
        return Err(pos);
    }
    msg.pri = pri as u16;
    pos += 1;

    // SEQ: a non-digit ends it without a MSGID and without the comma check.
    let start = pos;
    let mut seq_ok = true;
    while pos < len && r.at(pos) != b',' {
        if !r.at(pos).is_ascii_digit() {
            seq_ok = false;
            break;
        }
        pos += 1;
    }
    if seq_ok {
        if pos == len {
            return Err(pos);
        }
        let s = msg.nv.raw_span(start, pos);
        msg.nv.set_builtin_span(Builtin::MsgId, s);
    }
    pos += 1;

    // TIMESTAMP, up to a comma or the semicolon.
    let start = pos;
    let mut ts: u64 = 0;
    while pos < len && !matches!(r.at(pos), b',' | b';') {
        let Some(d) = digit(r.at(pos)) else {
            return Err(pos);
        };
        ts = ts.wrapping_mul(10).wrapping_add(d);
        pos += 1;
    }
    if pos == len {
        return Err(pos);
    }
    msg.nv.set(b".linux.timestamp", r.data(start, pos));
    let (sec, usec) = boot.after(ts);
    msg.stamp = UnixTime::new(sec, usec, offset_at(&opts.local_time_zone, sec));

    // Whatever else comes before the `;`.
    while pos < len && r.at(pos) != b';' {
        pos += 1;
    }
    if pos == len {
        return Err(pos);
    }
    pos += 1;

    // MESSAGE, up to the first newline (which must be there).
    let start = pos;
    while pos < len && r.at(pos) != b'\n' {
        pos += 1;
    }
    if r.at(pos) != b'\n' {
        return Err(pos);
    }
    let s = msg.nv.raw_span(start, pos);
    msg.nv.set_builtin_span(Builtin::Message, s);
    if pos + 1 >= len {
        return Ok(());
    }
    loop {
        pos += 1;
        key_value(msg, &r, &mut pos)?;
        if pos >= len {
            return Ok(());
        }
    }
}

/// One ` KEY=VALUE` line from `pos`; leaves `pos` on the newline that ends it.
fn key_value(msg: &mut LogMessage, r: &Record<'_>, pos: &mut usize) -> Result<(), usize> {
    let len = r.len;
    while *pos < len && matches!(r.at(*pos), b' ' | b'\t') {
        *pos += 1;
    }
    if *pos == len {
        return Err(*pos);
    }
    let name_start = *pos;
    while *pos < len && r.at(*pos) != b'=' {
        *pos += 1;
    }
    if *pos == len {
        return Err(*pos);
    }
    let name_end = *pos;
    *pos += 1;
    let value_start = *pos;
    while *pos < len && r.at(*pos) != b'\n' {
        *pos += 1;
    }
    if r.at(*pos) != b'\n' {
        return Err(*pos);
    }
    let name = r.data(name_start, name_end);
    let value = r.data(value_start, *pos);
    if name == b"DEVICE" {
        device(msg, r.at(value_start), value);
    } else {
        let mut key = Vec::with_capacity(7 + name.len());
        key.extend_from_slice(b".linux.");
        key.extend_from_slice(name);
        msg.nv.set(&key, value);
    }
    Ok(())
}

/// `DEVICE=VALUE`; `first` is the byte at the value's start (the line's newline when the
/// value is empty).
fn device(msg: &mut LogMessage, first: u8, value: &[u8]) {
    let rest = value.get(1..).unwrap_or(&[]);
    let split = |v: &[u8]| -> (Vec<u8>, Vec<u8>) {
        match memchr::memchr(b':', v) {
            Some(i) => (v[..i].to_vec(), v[i + 1..].to_vec()),
            // syslog-ng reads past the value here (see the module's notes).
            None => (v.to_vec(), Vec::new()),
        }
    };
    match first {
        b'b' | b'c' => {
            let kind: &[u8] = if first == b'b' { b"block" } else { b"char" };
            let (major, minor) = split(rest);
            msg.nv.set(b".linux.DEVICE.type", kind);
            msg.nv.set(b".linux.DEVICE.major", &major);
            msg.nv.set(b".linux.DEVICE.minor", &minor);
        }
        b'n' => {
            msg.nv.set(b".linux.DEVICE.type", b"netdev");
            msg.nv.set(b".linux.DEVICE.index", rest);
        }
        b'+' => {
            let (subsystem, name) = split(rest);
            msg.nv.set(b".linux.DEVICE.type", &subsystem);
            msg.nv.set(b".linux.DEVICE.name", &name);
        }
        _ => {
            msg.nv.set(b".linux.DEVICE.type", b"<unknown>");
            msg.nv.set(b".linux.DEVICE.name", value);
        }
    }
}

#[cfg(test)]
#[path = "kmsg_tests.rs"]
mod tests;
