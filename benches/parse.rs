//! Parse micro-benchmarks: messages per second for RFC 3164 and RFC 5424 lines (one parse
//! includes HOST/HOST_FROM resolution rules and the stamp conversion in a DST zone).
//! Run: `cargo bench --bench parse`.

use std::hint::black_box;

mod common;

use common::{RECEIVED, RFC3164, RFC5424, parse_options, peer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice::message::{ParseFlags, parse};

fn bench(c: &mut Criterion) {
    let mut opts = parse_options();
    let peer = peer();
    let recvd = RECEIVED;
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
