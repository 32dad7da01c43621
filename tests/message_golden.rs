//! Golden tests: parse the inputs in tests/golden/messages/inputs the way each variant in
//! variants.txt configures a source, and compare field by field with what syslog-ng 3.38
//! wrote for the same bytes (tests/golden/messages/expected, made by record.sh).
//! syslog-ng is not needed here. The received time of each golden message is fed to the
//! parser, so year inference and stamp-less messages are deterministic.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sluice::message::framing::{Frame, Newline, OctetCounted};
use sluice::message::{
    LocalHost, LogMessage, MsgFlags, ParseFlags, ParseOptions, PeerInfo, UnixTime, UseDns,
    ZoneSpec, parse,
};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/messages")
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

type Record = Vec<(String, Vec<u8>)>;

fn read_expected(name: &str) -> Vec<Record> {
    let data = std::fs::read(dir().join("expected").join(format!("{name}.out"))).unwrap();
    data.split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            line.split(|&c| c == b' ')
                .map(|kv| {
                    let eq = kv.iter().position(|&c| c == b'=').unwrap();
                    (
                        String::from_utf8(kv[..eq].to_vec()).unwrap(),
                        b64decode(&kv[eq + 1..]),
                    )
                })
                .collect()
        })
        .collect()
}

fn field<'a>(r: &'a Record, k: &str) -> &'a [u8] {
    &r.iter().find(|(n, _)| n == k).unwrap().1
}

fn num(r: &Record, k: &str) -> i64 {
    std::str::from_utf8(field(r, k)).unwrap().parse().unwrap()
}

fn tzoff(s: &[u8]) -> i32 {
    let s = std::str::from_utf8(s).unwrap();
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let h: i32 = s[1..3].parse().unwrap();
    let m: i32 = s[4..6].parse().unwrap();
    sign * (h * 3600 + m * 60)
}

fn fmt_tz(off: i32) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

/// The source options a variant uses, interpreted from the same text syslog-ng got.
struct Variant {
    name: String,
    input: String,
    driver: String,
    opts: ParseOptions,
    log_msg_size: usize,
}

fn facility_code(name: &str) -> u16 {
    match name {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        n if n.starts_with("local") => 16 + n[5..].parse::<u16>().unwrap(),
        other => panic!("facility {other}"),
    }
}

fn severity_code(name: &str) -> u16 {
    [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ]
    .iter()
    .position(|s| *s == name)
    .unwrap() as u16
}

fn variants() -> Vec<Variant> {
    let text = std::fs::read_to_string(dir().join("variants.txt")).unwrap();
    let hostname = std::fs::read_to_string(dir().join("expected/meta.txt"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("hostname=").map(str::to_string))
        .unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let mut opts = ParseOptions {
            local_time_zone: jiff::tz::TimeZone::get("Europe/Budapest").unwrap(),
            local_host: LocalHost::new(&hostname),
            ..ParseOptions::default()
        };
        opts.host.group_name = Arc::from("s_in");
        // What the drivers do at start-up (syslog-ng's *_adjust_reader_options).
        if cols[2] == "unix-stream" {
            opts.flags.0 |= ParseFlags::LOCAL;
            opts.flags.0 &= !ParseFlags::EXPECT_HOSTNAME;
        }
        if cols[2] == "syslog" {
            opts.flags.0 |= ParseFlags::SYSLOG_PROTOCOL;
        }
        let mut log_msg_size = 65536;
        // name(args) words
        let mut rest = cols[3];
        while let Some(open) = rest.find('(') {
            let key = rest[..open].trim();
            let close = rest[open..].find(')').unwrap() + open;
            let arg = rest[open + 1..close].trim().trim_matches('"');
            match key {
                "flags" => {
                    for f in arg.split(',') {
                        assert!(opts.flags.apply(f.trim()), "flag {f}");
                    }
                }
                "keep-hostname" => opts.host.keep_hostname = arg == "yes",
                "chain-hostnames" => opts.host.chain_hostnames = arg == "yes",
                "use-dns" => opts.host.use_dns = if arg == "no" { UseDns::No } else { UseDns::Yes },
                "default-facility" => opts.set_default_facility(facility_code(arg)),
                "default-priority" => opts.set_default_severity(severity_code(arg)),
                "keep-timestamp" => opts.keep_timestamp = arg == "yes",
                "time-zone" => opts.recv_time_zone = Some(ZoneSpec::parse(arg).unwrap()),
                "log-msg-size" => log_msg_size = arg.parse().unwrap(),
                other => panic!("option {other} not interpreted"),
            }
            rest = &rest[close + 1..];
        }
        out.push(Variant {
            name: cols[0].to_string(),
            input: cols[1].to_string(),
            driver: cols[2].to_string(),
            opts,
            log_msg_size,
        });
    }
    out
}

fn frames(v: &Variant) -> Vec<Vec<u8>> {
    let data = std::fs::read(dir().join("inputs").join(&v.input)).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    if v.driver == "syslog" {
        let mut f = OctetCounted::new(v.log_msg_size, false);
        while pos < data.len() {
            match f.next(&data[pos..]) {
                Frame::Message(m, n) => {
                    if !m.is_empty() {
                        out.push(m.to_vec());
                    }
                    pos += n;
                }
                Frame::Skip(n) => pos += n,
                other => panic!("{other:?}"),
            }
        }
    } else {
        let f = Newline::new(v.log_msg_size, false);
        while pos < data.len() {
            match f.next(&data[pos..], true) {
                Frame::Message(m, n) => {
                    out.push(m.to_vec());
                    pos += n;
                }
                Frame::Skip(n) => pos += n,
                other => panic!("{other:?}"),
            }
        }
    }
    out
}

fn check(v: &Variant, i: usize, raw: &[u8], exp: &Record, m: &LogMessage, errs: &mut String) {
    // Local messages get the file writer's own sequence number in $SDATA (a destination
    // matter): take it from the golden line and render with it.
    let exp_sdata = field(exp, "SDATA").to_vec();
    let mut seq_num = 0;
    if m.flags.has(MsgFlags::LOCAL) {
        let s = String::from_utf8_lossy(&exp_sdata).to_string();
        for (p, _) in s.match_indices("sequenceId=\"") {
            let digits: String = s[p + 12..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                seq_num = n;
                break;
            }
        }
    }
    let mut sdata = Vec::new();
    m.format_sdata(&mut sdata, seq_num);
    let get = |n: &str| m.get(n).unwrap_or(&[]).to_vec();
    let ours: Vec<(&str, Vec<u8>)> = vec![
        ("PRI", m.pri.to_string().into_bytes()),
        ("FACILITY_NUM", m.facility().to_string().into_bytes()),
        ("LEVEL_NUM", m.severity().to_string().into_bytes()),
        ("HOST", m.host_for_macro().to_vec()),
        ("FULLHOST", get("HOST")),
        ("HOST_FROM", get("HOST_FROM")),
        ("PROGRAM", get("PROGRAM")),
        ("PID", get("PID")),
        ("MSGID", get("MSGID")),
        ("SDATA", sdata),
        ("MSG", get("MSG")),
        ("S_UNIXTIME", m.stamp.sec.to_string().into_bytes()),
        ("S_USEC", format!("{:06}", m.stamp.usec).into_bytes()),
        ("S_TZOFFSET", fmt_tz(m.stamp.gmtoff).into_bytes()),
        ("LEGACY_MSGHDR", get("LEGACY_MSGHDR")),
        ("RAWMSG", get("RAWMSG")),
        (
            "SOURCEIP",
            m.get("SOURCEIP").unwrap_or(b"127.0.0.1").to_vec(),
        ),
    ];
    for (k, got) in ours {
        let want: Vec<u8> = match k {
            "SDATA" => exp_sdata.clone(),
            _ => field(exp, k).to_vec(),
        };
        let pid_ok =
            k == "PID" && m.flags.has(MsgFlags::PARSE_ERROR) && want.iter().all(u8::is_ascii_digit);
        if got != want && !pid_ok {
            let _ = writeln!(
                errs,
                "{}[{i}] {k}: want {:?} got {:?}\n    input {:?}",
                v.name,
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(raw)
            );
        }
    }
}

#[test]
fn golden_messages() {
    let mut errs = String::new();
    let mut total = 0;
    for v in variants() {
        let expected = read_expected(&v.name);
        let inputs = frames(&v);
        assert_eq!(inputs.len(), expected.len(), "{}: message count", v.name);
        let peer = PeerInfo {
            addr: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            dns_name: Some(Arc::from("localhost")),
        };
        let peer = if v.driver == "unix-stream" {
            None
        } else {
            Some(&peer)
        };
        for (i, (raw, exp)) in inputs.iter().zip(&expected).enumerate() {
            let received = UnixTime::new(
                num(exp, "R_UNIXTIME"),
                num(exp, "R_USEC") as u32,
                tzoff(field(exp, "R_TZOFFSET")),
            );
            let m = parse(raw, &v.opts, peer, received);
            check(&v, i, raw, exp, &m, &mut errs);
            total += 1;
        }
    }
    assert!(
        errs.is_empty(),
        "{} mismatches in {total} messages:\n{errs}",
        errs.lines().count() / 2
    );
}

/// A BSD stamp carries no year: syslog-ng takes the current one, except that December stamps
/// seen in January are last year's and January stamps seen in December next year's.
#[test]
fn year_inference_around_new_year() {
    let opts = ParseOptions {
        local_time_zone: jiff::tz::TimeZone::UTC,
        local_host: LocalHost::new("h"),
        ..ParseOptions::default()
    };
    let at = |s: &str| {
        let ts: jiff::Timestamp = s.parse().unwrap();
        UnixTime::new(ts.as_second(), 0, 0)
    };
    let year_of = |raw: &[u8], now: UnixTime| {
        let m = parse(raw, &opts, None, now);
        jiff::tz::TimeZone::UTC
            .to_datetime(jiff::Timestamp::from_second(m.stamp.sec).unwrap())
            .year()
    };
    let jan = at("2025-01-01T00:00:05Z");
    assert_eq!(year_of(b"<13>Dec 31 23:59:59 h p: m", jan), 2024);
    assert_eq!(year_of(b"<13>Jan  1 00:00:01 h p: m", jan), 2025);
    assert_eq!(year_of(b"<13>Jun  1 00:00:01 h p: m", jan), 2025);
    let dec = at("2024-12-31T23:59:58Z");
    assert_eq!(year_of(b"<13>Jan  1 00:00:01 h p: m", dec), 2025);
    assert_eq!(year_of(b"<13>Dec 31 23:59:59 h p: m", dec), 2024);
    assert_eq!(year_of(b"<13>Nov 30 23:59:59 h p: m", dec), 2024);
}

/// Messages without a stamp take the received time.
#[test]
fn stampless_uses_received_time() {
    let opts = ParseOptions {
        local_host: LocalHost::new("h"),
        ..ParseOptions::default()
    };
    let recvd = UnixTime::new(1_700_000_000, 123_456, 3600);
    for raw in [&b"<13>no stamp here"[..], b"plain", b"<13>1 2024-13"] {
        let m = parse(raw, &opts, None, recvd);
        assert_eq!(
            (m.stamp.sec, m.stamp.usec),
            (recvd.sec, recvd.usec),
            "{raw:?}"
        );
        assert_eq!(m.recvd, recvd);
    }
}
