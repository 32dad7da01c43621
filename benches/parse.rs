//! Parse micro-benchmarks: messages per second for RFC 3164 and RFC 5424 lines (one parse
//! includes HOST/HOST_FROM resolution rules and the stamp conversion in a DST zone).
//! Run: `cargo bench --bench parse`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice::message::{LocalHost, ParseFlags, ParseOptions, PeerInfo, UnixTime, parse};

const RFC3164: &[u8] = b"<38>Nov 24 08:07:15 web-01 sshd[21345]: Accepted publickey for deploy from 192.0.2.17 port 51234 ssh2: ED25519 SHA256:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const RFC5424: &[u8] = b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] An application event log entry with some text";

fn bench(c: &mut Criterion) {
    let mut opts = ParseOptions {
        local_time_zone: jiff::tz::TimeZone::get("Europe/Budapest")
            .unwrap_or(jiff::tz::TimeZone::UTC),
        local_host: LocalHost::new("relay"),
        ..ParseOptions::default()
    };
    let peer = PeerInfo {
        addr: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))),
        dns_name: Some(Arc::from("web-01.example.com")),
    };
    let recvd = UnixTime::new(1_795_507_700, 0, 3600);
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    g.bench_function("rfc3164", |b| {
        b.iter(|| black_box(parse(black_box(RFC3164), &opts, Some(&peer), recvd)))
    });
    opts.flags.0 |= ParseFlags::SYSLOG_PROTOCOL;
    g.bench_function("rfc5424", |b| {
        b.iter(|| black_box(parse(black_box(RFC5424), &opts, Some(&peer), recvd)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
