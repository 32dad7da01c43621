//! Filter and routing micro-benchmarks: messages per second for a typical filter
//! (`level(info..emerg) and program("sshd") and not message("debug")`), for the same filter
//! inside a routed log path with a rewrite, and for a comparison of templates.
//! Run: `cargo bench --bench filter`.

use std::hint::black_box;
use std::sync::Arc;

mod common;

use common::{RECEIVED, peer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice::config::load::{LoadOptions, load_str};
use sluice::config::model::build;
use sluice::message::{LocalHost, LogMessage, ParseOptions, parse};
use sluice::pipeline::{BuildEnv, Router};

const LINE: &[u8] = b"<38>Nov 24 08:07:15 web-01 sshd[21345]: Accepted publickey for deploy from 192.0.2.17 port 51234 ssh2";

const CONFIG: &str = r#"
@version: 3.38
source s { network(port(5514)); };
destination d { file("/dev/null"); };
destination d_other { file("/dev/null"); };
filter f_typical { level(info..emerg) and program("sshd") and not message("debug"); };
filter f_cmp { "$PROGRAM" eq "sshd" and "$PID" > 100; };
rewrite r_tag { set-tag("ssh"); set("${HOST}" value("origin")); };
log { source(s); filter(f_typical); destination(d); flags(final); };
log { source(s); destination(d_other); };
log { source(s); filter(f_cmp); rewrite(r_tag); destination(d_other); };
"#;

fn message() -> Arc<LogMessage> {
    let opts = ParseOptions {
        local_host: LocalHost::new("relay"),
        ..ParseOptions::default()
    };
    Arc::new(parse(LINE, &opts, Some(&peer()), RECEIVED))
}

fn bench(c: &mut Criterion) {
    let loaded = load_str("bench.conf", CONFIG, &LoadOptions::default()).expect("config");
    let model = build(&loaded.ast).expect("model");
    let env = BuildEnv::new(&model);
    let router = Router::build(&model, &env).expect("router");
    let typical = env.compile_filter("f_typical").expect("f").expect("f");
    let cmp = env.compile_filter("f_cmp").expect("f").expect("f");
    let msg = message();
    let src = router.source_id("s").expect("s");

    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(1));
    let mut cx = router.context();
    g.bench_function("typical", |b| {
        b.iter(|| {
            let mut m = msg.clone();
            black_box(typical.eval(black_box(&mut m), &mut cx))
        })
    });
    g.bench_function("template_compare", |b| {
        b.iter(|| {
            let mut m = msg.clone();
            black_box(cmp.eval(black_box(&mut m), &mut cx))
        })
    });
    g.bench_function("route_final", |b| {
        b.iter(|| {
            let mut n = 0u32;
            router.route_with(&mut cx, src, msg.clone(), &mut |_, _| n += 1);
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
