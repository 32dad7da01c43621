//! API-level checks: error positions as syslog-ng reports them, extending the function
//! registry (what the Python layer does for `$(python)`), a custom condition compiler for
//! `$(if)`, named templates, and the built-in formats against their template spelling.

use std::sync::Arc;

use sluice::message::{LocalHost, LogMessage, ParseOptions, UnixTime, parse};
use sluice::template::formats::{
    DEFAULT_FILE_TEMPLATE, DEFAULT_NETWORK_TEMPLATE, push_octet_counted,
};
use sluice::template::functions::{
    Condition, ConditionCompiler, FunctionCall, Invocation, PrepareError, PreparedFunction,
};
use sluice::template::{
    CompileEnv, CompileError, DaemonInfo, FunctionRegistry, OutputFormat, RenderContext,
    SequenceCounter, Template, TemplateFunction, TemplateLookup, TemplateOptions, WriterFlags,
    format_message,
};

fn msg(raw: &[u8]) -> LogMessage {
    let opts = ParseOptions {
        local_time_zone: jiff::tz::TimeZone::UTC,
        local_host: LocalHost::new("h"),
        ..ParseOptions::default()
    };
    parse(raw, &opts, None, UnixTime::new(1_700_000_000, 5, 0))
}

fn render(t: &Template, m: &LogMessage) -> String {
    let opts = TemplateOptions::default();
    let daemon = DaemonInfo::default();
    let ctx = RenderContext::new(&opts, &daemon);
    String::from_utf8_lossy(&t.render_to_vec(m, &ctx)).into_owned()
}

#[test]
fn error_positions_match_syslog_ng() {
    let pos = |t: &str| {
        Template::new(t)
            .err()
            .map(|e| (e.position(), e.to_string()))
    };
    assert_eq!(
        pos("${MSG:x}"),
        Some((6, "Unknown substitution function".into()))
    );
    assert_eq!(
        pos("${MSG"),
        Some((5, "Invalid macro, '}' is missing".into()))
    );
    assert_eq!(
        pos("$(echo"),
        Some((
            6,
            "Invalid template function reference, missing function name or imbalanced '('".into()
        ))
    );
    assert!(matches!(
        Template::new("ab $(nosuch x)"),
        Err(CompileError::UnknownFunction { pos: 3, .. })
    ));
    assert!(matches!(
        Template::new("$(padding a x)"),
        Err(CompileError::Function { .. })
    ));
}

/// A stateful function registered from outside, as `$(python)` will be.
struct Counter;

#[derive(Debug)]
struct CounterPrepared {
    prefix: Template,
    calls: std::sync::atomic::AtomicU64,
}

impl TemplateFunction for Counter {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let arg = call.args.first().ok_or("$(counter) needs a prefix")?;
        Ok(Box::new(CounterPrepared {
            prefix: call.compile_arg(arg)?,
            calls: Default::default(),
        }))
    }
}

impl PreparedFunction for CounterPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        inv.render(&self.prefix, out);
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        out.extend_from_slice(n.to_string().as_bytes());
    }
}

#[derive(Debug)]
struct Always(bool);

impl Condition for Always {
    fn eval(&self, _: &[&LogMessage], _: &RenderContext<'_>) -> bool {
        self.0
    }
}

struct Words;

impl ConditionCompiler for Words {
    fn compile(&self, expr: &str, _: &CompileEnv) -> Result<Arc<dyn Condition>, String> {
        match expr {
            "yes" => Ok(Arc::new(Always(true))),
            "no" => Ok(Arc::new(Always(false))),
            other => Err(format!("unknown {other}")),
        }
    }
}

struct Named(Arc<Template>);

impl TemplateLookup for Named {
    fn lookup(&self, name: &str) -> Option<Arc<Template>> {
        (name == "t_prog").then(|| self.0.clone())
    }
}

#[test]
fn registry_conditions_and_named_templates() {
    let mut reg = FunctionRegistry::with_builtins();
    reg.register("counter", Arc::new(Counter));
    let env = CompileEnv {
        functions: Arc::new(reg),
        conditions: Some(Arc::new(Words)),
        templates: Some(Arc::new(Named(Arc::new(
            Template::new("<$PROGRAM>").unwrap(),
        )))),
        ..CompileEnv::default()
    };
    let m = msg(b"<13>Mar  1 10:00:00 host sshd[42]: hello");
    let t = Template::compile(
        "$(counter ${PID}-)|$(counter x)|$(if yes a b)$(if no c d)|$(template t_prog)",
        &env,
    )
    .unwrap();
    assert_eq!(render(&t, &m), "42-0|x0|ad|<sshd>");
    assert_eq!(render(&t, &m), "42-1|x1|ad|<sshd>");
    assert!(Template::compile("$(if maybe a b)", &env).is_err());
    assert!(Template::new("$(template t_prog)").is_err());
}

#[test]
fn builtin_formats_equal_their_templates() {
    let opts = TemplateOptions::default();
    let daemon = DaemonInfo::default();
    let ctx = RenderContext::new(&opts, &daemon);
    for raw in [
        &b"<13>Mar  1 10:00:00 host sshd[42]: hello"[..],
        b"<13>Mar  1 10:00:00 host hello",
        b"no header at all",
    ] {
        let m = msg(raw);
        for (fmt, text) in [
            (OutputFormat::File, DEFAULT_FILE_TEMPLATE),
            (OutputFormat::Network, DEFAULT_NETWORK_TEMPLATE),
        ] {
            let mut a = Vec::new();
            format_message(fmt, None, WriterFlags::default(), &m, &ctx, &mut a);
            let b = Template::new(text).unwrap().render_to_vec(&m, &ctx);
            assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        }
    }
}

#[test]
fn framing_and_sequence() {
    let mut out = Vec::new();
    push_octet_counted(&mut out, b"<13>1 - - - - - -\n");
    assert_eq!(out, b"18 <13>1 - - - - - -\n");
    let mut c = SequenceCounter::default();
    assert_eq!(c.current(), 1);
    c.step();
    assert_eq!(c.current(), 2);
}

#[test]
fn env_function_reads_the_environment() {
    let t = Template::new("$(env PATH)").unwrap();
    let m = msg(b"x");
    assert_eq!(render(&t, &m), std::env::var("PATH").unwrap_or_default());
}
