//! Template micro-benchmarks: messages per second rendering syslog-ng's default file format
//! (the built-in writer and the same format as a compiled template), an ISO-dated custom
//! template, RFC 5424 output and `$(format-json --scope rfc5424)`.
//! Run: `cargo bench --bench template`.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice::message::{LocalHost, ParseFlags, ParseOptions, PeerInfo, UnixTime, parse};
use sluice::template::formats::DEFAULT_FILE_TEMPLATE;
use sluice::template::{
    DaemonInfo, OutputFormat, RenderContext, Template, TemplateOptions, WriterFlags, format_message,
};

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
    let m3164 = parse(RFC3164, &opts, Some(&peer), recvd);
    opts.flags.0 |= ParseFlags::SYSLOG_PROTOCOL;
    let m5424 = parse(RFC5424, &opts, Some(&peer), recvd);

    let topts = TemplateOptions::default();
    let daemon = DaemonInfo::default();
    let ctx = RenderContext::new(&topts, &daemon);
    let mut out = Vec::with_capacity(512);

    let Ok(default_tmpl) = Template::new(DEFAULT_FILE_TEMPLATE) else {
        return;
    };
    let Ok(iso) = Template::new("$ISODATE $HOST $PROGRAM[$PID]: $MSG\n") else {
        return;
    };
    let Ok(json) = Template::new("$(format-json --scope rfc5424)\n") else {
        return;
    };

    let mut g = c.benchmark_group("template");
    g.throughput(Throughput::Elements(1));
    g.bench_function("default_file_format", |b| {
        b.iter(|| {
            out.clear();
            format_message(
                OutputFormat::File,
                None,
                WriterFlags::default(),
                black_box(&m3164),
                &ctx,
                &mut out,
            );
            black_box(out.len())
        })
    });
    g.bench_function("default_file_template", |b| {
        b.iter(|| {
            out.clear();
            default_tmpl.render(black_box(&m3164), &ctx, &mut out);
            black_box(out.len())
        })
    });
    g.bench_function("isodate_template", |b| {
        b.iter(|| {
            out.clear();
            iso.render(black_box(&m3164), &ctx, &mut out);
            black_box(out.len())
        })
    });
    g.bench_function("rfc5424_output", |b| {
        b.iter(|| {
            out.clear();
            format_message(
                OutputFormat::SyslogProtocol,
                None,
                WriterFlags::default(),
                black_box(&m5424),
                &ctx,
                &mut out,
            );
            black_box(out.len())
        })
    });
    g.bench_function("format_json_rfc5424", |b| {
        b.iter(|| {
            out.clear();
            json.render(black_box(&m5424), &ctx, &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
