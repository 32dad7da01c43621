//! The linux-kmsg format against syslog-ng 3.38: every record of tests/golden/kmsg/records.txt
//! and line of lines.txt parsed here and compared, field by field, with what syslog-ng wrote
//! for the same bytes (expected/, made by record.sh).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;
use crate::message::framing::{Frame, Newline};
use crate::message::{LocalHost, MsgFlags, MsgFormat, ParseFlags, parse};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/kmsg")
}

fn b64decode(s: &[u8]) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let mut out = Vec::new();
    for chunk in s.chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let mut n = 0u32;
        for &c in chunk {
            n = (n << 6) | if c == b'=' { 0 } else { val(c) };
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// The escapes of records.txt and lines.txt: `\n \t \r \0 \\`.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = s.bytes().peekable();
    while let Some(c) = it.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'r') => out.push(b'\r'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(o) => out.extend_from_slice(&[b'\\', o]),
            None => out.push(b'\\'),
        }
    }
    out
}

fn cases(file: &str) -> Vec<(String, Vec<u8>)> {
    std::fs::read_to_string(dir().join(file))
        .expect("golden input")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, rec) = l.split_once('|').expect("NAME|RECORD");
            (name.to_string(), unescape(rec))
        })
        .collect()
}

type Record = BTreeMap<String, Vec<u8>>;

fn expected(name: &str) -> Vec<Record> {
    let data = std::fs::read(dir().join("expected").join(format!("{name}.out"))).expect("golden");
    data.split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            line.split(|&c| c == b' ')
                .map(|kv| {
                    let eq = kv.iter().position(|&c| c == b'=').expect("NAME=VALUE");
                    let key = String::from_utf8_lossy(&kv[..eq]).into_owned();
                    (key, b64decode(&kv[eq + 1..]))
                })
                .collect()
        })
        .collect()
}

fn meta(key: &str) -> String {
    let text = std::fs::read_to_string(dir().join("expected/meta.txt")).expect("meta.txt");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .expect("meta key")
        .to_string()
}

fn text(r: &Record, k: &str) -> String {
    String::from_utf8_lossy(&r[k]).into_owned()
}

fn num(r: &Record, k: &str) -> i64 {
    text(r, k).parse().expect("number")
}

fn tzoff(s: &str) -> i32 {
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let h: i32 = s[1..3].parse().expect("hours");
    let m: i32 = s[4..6].parse().expect("minutes");
    sign * (h * 3600 + m * 60)
}

/// format-json's nesting undone: `{"_linux":{"DEVICE":{"type":"x"}}}` is `.linux.DEVICE.type`.
fn flatten(v: &serde_json::Value, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let k = if prefix.is_empty() {
                    k.replacen('_', ".", 1)
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &k, out);
            }
        }
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.as_bytes().to_vec());
        }
        other => panic!("unexpected JSON value {other}"),
    }
}

fn options(boot: BootTime) -> ParseOptions {
    ParseOptions {
        format: MsgFormat::LinuxKmsg(boot),
        local_time_zone: jiff::tz::TimeZone::get("Europe/Budapest").expect("zone"),
        local_host: LocalHost::new(&meta("hostname")),
        ..ParseOptions::default()
    }
}

/// system()'s `program-override("kernel") flags(kernel) keep-timestamp(no)` on a local source.
fn system_options(boot: BootTime) -> ParseOptions {
    let mut o = options(boot);
    o.keep_timestamp = false;
    o.default_pri = Some(5);
    o.flags.0 |= ParseFlags::LOCAL;
    o
}

/// Parses `raw` as syslog-ng received it and checks every recorded field.
fn check(case: &str, raw: &[u8], want: &Record, opts: &ParseOptions, program_override: bool) {
    let recvd = UnixTime::new(
        num(want, "R_UNIXTIME"),
        num(want, "R_USEC") as u32,
        tzoff(&text(want, "R_TZOFFSET")),
    );
    let mut msg = parse(raw, opts, None, recvd);
    if program_override {
        // The source's touch (the runtime's part).
        msg.set_builtin(Builtin::Program, b"kernel");
    }
    let get = |b: Builtin| msg.get_builtin(b).unwrap_or_default().to_vec();
    let error = msg.flags.has(MsgFlags::PARSE_ERROR);
    assert_eq!(msg.pri.to_string(), text(want, "PRI"), "{case}: PRI");
    assert_eq!(get(Builtin::Message), want["MSG"], "{case}: MSG");
    assert_eq!(get(Builtin::MsgId), want["MSGID"], "{case}: MSGID");
    assert_eq!(get(Builtin::Program), want["PROGRAM"], "{case}: PROGRAM");
    assert_eq!(get(Builtin::Host), want["HOST"], "{case}: HOST");
    assert_eq!(get(Builtin::RawMsg), want["RAWMSG"], "{case}: RAWMSG");
    assert_eq!(
        get(Builtin::LegacyMsgHdr),
        want["LEGACY_MSGHDR"],
        "{case}: LEGACY_MSGHDR"
    );
    // An error message carries the daemon's pid.
    assert_eq!(get(Builtin::Pid).is_empty(), !error, "{case}: PID");
    assert_eq!(!want["PID"].is_empty(), error, "{case}: PID recorded");
    let stamp = (
        msg.stamp.sec,
        msg.stamp.usec,
        crate::message::timestamp::offset_at(&opts.local_time_zone, msg.stamp.sec),
    );
    assert_eq!(
        (msg.stamp.sec, msg.stamp.usec, msg.stamp.gmtoff),
        (
            num(want, "S_UNIXTIME"),
            num(want, "S_USEC") as u32,
            tzoff(&text(want, "S_TZOFFSET"))
        ),
        "{case}: stamp ({stamp:?})"
    );
    let json: serde_json::Value = serde_json::from_slice(&want["DOT"]).expect("DOT is JSON");
    let mut dot = BTreeMap::new();
    flatten(&json, "", &mut dot);
    let got: BTreeMap<String, Vec<u8>> = msg
        .nv
        .extras()
        .filter(|(n, _)| n.starts_with(b".linux."))
        .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), v.to_vec()))
        .collect();
    assert_eq!(got, dot, "{case}: .linux.* pairs");
}

/// The boot time syslog-ng used in a recording: the stamp of the record 0 µs after boot.
fn recorded_boot(want: &[Record]) -> BootTime {
    let r = &want[0];
    assert_eq!(r["CASE"], b"ref", "the first record is the boot reference");
    BootTime {
        sec: num(r, "S_UNIXTIME"),
        usec: num(r, "S_USEC") as u32,
    }
}

#[test]
fn records_parse_as_syslog_ng_parses_them() {
    let records = cases("records.txt");
    let want = expected("dgram_default");
    assert_eq!(records.len(), want.len());
    let opts = options(recorded_boot(&want));
    for ((name, raw), w) in records.iter().zip(&want) {
        assert_eq!(w["CASE"], name.as_bytes());
        check(name, raw, w, &opts, false);
    }
}

#[test]
fn records_with_system_sources_options() {
    let records = cases("records.txt");
    let want = expected("dgram_system");
    assert_eq!(records.len(), want.len());
    let mut opts = system_options(BootTime::default());
    opts.flags.0 |= ParseFlags::STORE_RAW_MESSAGE;
    for ((name, raw), w) in records.iter().zip(&want) {
        assert_eq!(w["CASE"], name.as_bytes());
        check(name, raw, w, &opts, true);
    }
}

/// A regular file is newline-framed: the byte that ended each line is what the format sees
/// past the record ([`with_terminator`]).
#[test]
fn lines_of_a_file_parse_as_syslog_ng_parses_them() {
    let mut file = Vec::new();
    for (_, line) in cases("lines.txt") {
        file.extend_from_slice(&line);
        file.push(b'\n');
    }
    let want = expected("file_system");
    let opts = system_options(BootTime::default());
    let framing = Newline::new(65536, false);
    let (mut pos, mut n) = (0, 0);
    while pos < file.len() {
        match framing.next(&file[pos..], false) {
            Frame::Message(m, used) => {
                let raw = with_terminator(&file[pos..], m.len());
                let w = want.get(n).expect("as many messages as syslog-ng's");
                check(&format!("line message {n}"), raw, w, &opts, true);
                n += 1;
                pos += used;
            }
            Frame::Skip(used) => pos += used,
            Frame::Incomplete | Frame::Error(_) => break,
        }
    }
    assert_eq!(n, want.len());
}

#[test]
fn boot_time_takes_the_uptime_fraction_as_microseconds() {
    // 20000.5 s now, up 11056.05 s: syslog-ng subtracts 11056 s and 5 µs.
    let b = BootTime::from_uptime(b"11056.05 12318.06\n", 20000, 500_000);
    assert_eq!(
        b,
        BootTime {
            sec: 8944,
            usec: 499_995
        }
    );
    let b = BootTime::from_uptime(b"10.9 1.0\n", 20, 0);
    assert_eq!(
        b,
        BootTime {
            sec: 9,
            usec: 999_991
        }
    );
    // No fraction: whole seconds.
    assert_eq!(
        BootTime::from_uptime(b"123", 1000, 7),
        BootTime { sec: 877, usec: 7 }
    );
    // Anything but digits before the dot, or between it and the space: the epoch.
    assert_eq!(
        BootTime::from_uptime(b"123 4", 1000, 0),
        BootTime::default()
    );
    assert_eq!(
        BootTime::from_uptime(b"12.x4 5", 1000, 0),
        BootTime::default()
    );
    assert_eq!(
        BootTime::from_uptime(b"", 1000, 0),
        BootTime { sec: 1000, usec: 0 }
    );
}

#[test]
fn record_times_wrap_at_64_bits() {
    let boot = BootTime { sec: 10, usec: 5 };
    assert_eq!(boot.after(0), (10, 5));
    assert_eq!(boot.after(999_995), (11, 0));
    assert_eq!(boot.after(u64::MAX), (10, 4));
}

#[test]
fn the_terminator_is_kept_only_when_it_is_a_newline_or_nul() {
    assert_eq!(with_terminator(b"ab\ncd", 2), b"ab\n");
    assert_eq!(with_terminator(b"ab\0cd", 2), b"ab\0");
    assert_eq!(with_terminator(b"ab\r\n", 2), b"ab");
    assert_eq!(with_terminator(b"ab", 2), b"ab");
}

#[test]
fn format_names() {
    assert!(is_linux_kmsg("linux-kmsg"));
    assert!(is_linux_kmsg("linux_kmsg"));
    assert!(!is_linux_kmsg("syslog"));
}

proptest::proptest! {
    /// Whatever the bytes, parsing ends (a message or syslog-ng's error message), never a
    /// panic.
    #[test]
    fn any_bytes_parse(raw in proptest::collection::vec(
        proptest::sample::select(b"0123456789,;=\n \t+bcnx:-\0\r".to_vec()), 0..64)) {
        let opts = ParseOptions {
            format: MsgFormat::LinuxKmsg(BootTime { sec: 1_700_000_000, usec: 999_999 }),
            ..ParseOptions::default()
        };
        let msg = parse(&raw, &opts, None, UnixTime::new(1_700_000_000, 0, 0));
        proptest::prop_assert!(msg.get_builtin(Builtin::Message).is_some());
    }
}
