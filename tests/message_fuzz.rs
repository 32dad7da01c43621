//! Property tests: the parsers and framers never panic, on random bytes and on mutations of
//! real-world messages, under every flag combination; and what they produce is consistent
//! (values are sub-slices of the input unless a flag rewrites them).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use proptest::prelude::*;
use sluice::message::framing::{Frame, Newline, OctetCounted};
use sluice::message::{
    LocalHost, ParseFlags, ParseOptions, PeerInfo, UnixTime, ZoneSpec, parse_with_status,
};

const SEEDS: &[&[u8]] = &[
    b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
    b"<189>123: *Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console",
    b"<13>Mar 01 2024 10:00:00: %ASA-6-302013: Built outbound TCP connection",
    b"<13>2024-03-10T01:59:59.123456+02:00 host1 prog[123]: iso stamp with offset",
    b"<13>Mar  1 10:00:00 Message forwarded from aixhost: prog: aix",
    b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"][examplePriority@32473 class=\"high\"] msg",
    b"<165>1 2003-10-11T22:14:15.003Z host app - - [a@1 x=\"esc \\\" q \\\\ b \\] c\"] escapes",
    b"<13>1 - - - - - -",
];

fn options(bits: u32, tz: bool, keep_ts: bool) -> ParseOptions {
    let mut o = ParseOptions {
        flags: ParseFlags(bits & 0x3fff),
        local_time_zone: jiff::tz::TimeZone::get("Europe/Budapest").unwrap(),
        local_host: LocalHost::new("host.example.com"),
        keep_timestamp: keep_ts,
        ..ParseOptions::default()
    };
    o.host.chain_hostnames = bits & (1 << 20) != 0;
    o.host.keep_hostname = bits & (1 << 21) != 0;
    if tz {
        o.recv_time_zone = ZoneSpec::parse("America/New_York");
    }
    o
}

fn mutate(seed: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for &(pos, byte, op) in edits {
        if v.is_empty() {
            v.push(byte);
            continue;
        }
        let p = pos % (v.len() + 1);
        match op % 3 {
            0 => v.insert(p, byte),
            1 if p < v.len() => {
                v.remove(p);
            }
            _ if p < v.len() => v[p] = byte,
            _ => v.push(byte),
        }
    }
    v
}

fn check(raw: &[u8], opts: &ParseOptions) {
    let peer = PeerInfo {
        addr: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        dns_name: None,
    };
    let recvd = UnixTime::new(1_700_000_000, 5, 3600);
    let (m, err) = parse_with_status(raw, opts, Some(&peer), recvd);
    assert!(m.get("HOST_FROM").is_some());
    assert!(m.get("MESSAGE").is_some());
    if let Some(e) = err {
        assert!(e.position <= raw.len() + 1);
        assert!(m.message().starts_with(b"Error processing log message: "));
    }
    let mut sd = Vec::new();
    m.format_sdata(&mut sd, 7);
    let _ = m.host_for_macro();
    let _ = (m.facility(), m.severity());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300),
                                bits in any::<u32>(), tz in any::<bool>(), keep in any::<bool>()) {
        check(&raw, &options(bits, tz, keep));
    }

    #[test]
    fn mutated_messages_never_panic(seed in 0..SEEDS.len(),
                                    edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8),
                                    bits in any::<u32>(), tz in any::<bool>()) {
        let raw = mutate(SEEDS[seed], &edits);
        check(&raw, &options(bits, tz, true));
        check(&raw, &options(bits | ParseFlags::SYSLOG_PROTOCOL, tz, true));
    }

    #[test]
    fn structured_text_never_panics(raw in "<[0-9a]{0,4}>?1? ?[-0-9T:.Z+ ]{0,30} [a-z:\\[\\]-]{0,10} [a-z\\[\\]=\" \\\\-]{0,60}",
                                    bits in any::<u32>()) {
        check(raw.as_bytes(), &options(bits, false, true));
        check(raw.as_bytes(), &options(bits | ParseFlags::SYSLOG_PROTOCOL, false, true));
    }

    #[test]
    fn framers_never_panic(data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b' '), Just(0u8), b'0'..=b'9', any::<u8>()], 0..400),
                           max in 1usize..100, trim in any::<bool>()) {
        let mut f = OctetCounted::new(max, trim);
        let mut pos = 0;
        for _ in 0..1000 {
            match f.next(&data[pos..]) {
                Frame::Message(m, n) => { prop_assert!(m.len() <= max); prop_assert!(n > 0); pos += n; }
                Frame::Skip(n) => { prop_assert!(n > 0); pos += n; }
                Frame::Incomplete | Frame::Error(_) => break,
            }
            prop_assert!(pos <= data.len());
        }
        let nl = Newline::new(max, false);
        let mut pos = 0;
        while pos < data.len() {
            match nl.next(&data[pos..], true) {
                Frame::Message(m, n) => { prop_assert!(m.len() <= max); prop_assert!(n > 0); pos += n; }
                Frame::Skip(n) => { prop_assert!(n > 0); pos += n; }
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}

#[test]
fn rewrites_after_parse_keep_values_consistent() {
    let opts = options(ParseFlags::DEFAULT.0, false, true);
    let (mut m, _) = parse_with_status(SEEDS[0], &opts, None, UnixTime::default());
    let shared = Arc::new(m.clone());
    m.set("PROGRAM", b"rewritten");
    m.set("HOST", b"h2");
    assert_eq!(m.get("PROGRAM"), Some(&b"rewritten"[..]));
    assert_eq!(m.get("LEGACY_MSGHDR"), None);
    assert_eq!(shared.get("PROGRAM"), Some(&b"su"[..]));
    assert_eq!(m.get("HOST_FROM"), shared.get("HOST_FROM"));
}
