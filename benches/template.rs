//! Template micro-benchmarks: messages per second rendering syslog-ng's default file format
//! (the built-in writer and the same format as a compiled template), an ISO-dated custom
//! template, RFC 5424 output and `$(format-json --scope rfc5424)`.
//! Run: `cargo bench --bench template`.

use std::hint::black_box;

mod common;

use common::{RECEIVED, RFC3164, RFC5424, parse_options, peer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice::message::{ParseFlags, parse};
use sluice::template::formats::DEFAULT_FILE_TEMPLATE;
use sluice::template::{
    DaemonInfo, OutputFormat, RenderContext, Template, TemplateOptions, WriterFlags, format_message,
};

fn bench(c: &mut Criterion) {
    let mut opts = parse_options();
    let peer = peer();
    let recvd = RECEIVED;
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
