//! The built-in parsers: `kv-parser()`, `linux-audit-parser()`, `json-parser()`,
//! `csv-parser()`, `syslog-parser()`, `date-parser()`, `regexp-parser()`, `tags-parser()`,
//! `map-value-pairs()` and `python()`. Each reads MESSAGE, or what its `template()` renders,
//! and sets values (`map-value-pairs()` reads no input: it copies selected values).
//!
//! A parser that fails drops the message from that log path (syslog-ng marks the branch
//! unmatched, so `flags(fallback)` paths and `if`/`else` see it as not matched). A parser
//! writes into the message through `Arc::make_mut` only once it knows it will set something.

pub mod csv;
pub mod date;
pub mod json;
mod json_c;
pub mod kv;
pub mod linux_audit;
pub mod map_value_pairs;
pub mod regexp;
pub mod tags;

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::{Node, keyword_eq};
use crate::config::de;
use crate::config::diagnostic::Diagnostic;
use crate::message::{Builtin, LogMessage, ParseFlags, ParseOptions, parse};
use crate::template::Template;

use super::args::option_span;
use super::{BuildEnv, Cx};

/// The parser drivers this module builds, for the driver catalog.
pub const DRIVERS: &[&str] = &[
    "kv-parser",
    "json-parser",
    "csv-parser",
    "syslog-parser",
    "date-parser",
    "regexp-parser",
    "tags-parser",
    "map-value-pairs",
    "linux-audit-parser",
    "python",
];

/// The option names of a parser driver (for "did you mean").
pub fn option_names(name: &str) -> Vec<&'static str> {
    match name {
        "kv-parser" => kv::OPTION_NAMES.to_vec(),
        "json-parser" => json::OPTION_NAMES.to_vec(),
        "csv-parser" => csv::OPTION_NAMES.to_vec(),
        "date-parser" => date::OPTION_NAMES.to_vec(),
        "regexp-parser" => regexp::OPTION_NAMES.to_vec(),
        "tags-parser" => tags::OPTION_NAMES.to_vec(),
        "map-value-pairs" => map_value_pairs::OPTION_NAMES.to_vec(),
        "linux-audit-parser" => linux_audit::OPTION_NAMES.to_vec(),
        "syslog-parser" => vec!["flags", "template", "drop-invalid"],
        _ => Vec::new(),
    }
}

/// What HOST is when the parsed header had none (the message's own HOST is kept then).
const NO_HOST: &str = "\u{1}no-host";

/// `syslog-parser(flags(...) template(...) drop-invalid(yes))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SyslogParserOptions {
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub drop_invalid: Option<bool>,
}

#[derive(Debug)]
enum Kind {
    Kv(kv::KvParser),
    Json(json::JsonParser),
    Csv(csv::CsvParser),
    Date(date::DateParser),
    Regexp(regexp::RegexpParser),
    Tags(tags::TagsParser),
    /// `map-value-pairs()`: no input, a value-pairs selection set back into the message.
    MapValuePairs(Box<map_value_pairs::MapValuePairs>),
    Syslog {
        opts: Box<ParseOptions>,
        drop_invalid: bool,
    },
    /// `python()`: a Python class's `parse()` (the Python layer runs it).
    Python(Arc<crate::python::parser::PythonParser>),
}

/// A compiled parser.
#[derive(Debug)]
pub struct Parser {
    kind: Kind,
    template: Option<Arc<Template>>,
}

/// Compiles a parser driver call.
pub fn compile(call: &Node, env: &BuildEnv<'_>) -> Result<Parser, Diagnostic> {
    let Node::Call { name, span, .. } = call else {
        return Err(Diagnostic::new("expected a parser", call.span()));
    };
    let is = |k: &str| keyword_eq(&name.value, k);
    let template_opt = |t: &Option<String>| -> Result<Option<Arc<Template>>, Diagnostic> {
        t.as_deref()
            .map(|t| env.template_or_name(t, option_span(call, "template")))
            .transpose()
    };
    let (kind, template) = if is("kv-parser") {
        let o: kv::KvParserOptions = de::from_call(call)?;
        let t = template_opt(&o.template)?;
        (Kind::Kv(kv::KvParser::new(&o, call)?), t)
    } else if is("linux-audit-parser") {
        let o: linux_audit::LinuxAuditParserOptions = de::from_call(call)?;
        let t = template_opt(&o.template)?;
        let p = kv::KvParser::new(&o, call)?.with_transform(linux_audit::decode_hex);
        (Kind::Kv(p), t)
    } else if is("json-parser") {
        let o: json::JsonParserOptions = de::from_call(call)?;
        let t = template_opt(&o.template)?;
        (Kind::Json(json::JsonParser::new(&o, call)?), t)
    } else if is("csv-parser") {
        let o: csv::CsvParserOptions = de::from_call(call)?;
        let t = template_opt(&o.template)?;
        (Kind::Csv(csv::CsvParser::new(call)?), t)
    } else if is("date-parser") {
        let o: date::DateParserOptions = de::from_call(call)?;
        let t = template_opt(&o.template)?;
        (Kind::Date(date::DateParser::new(&o, call)?), t)
    } else if is("regexp-parser") {
        let o: regexp::RegexpParserOptions = de::from_call(call)?;
        let t = template_opt(&o.template)?;
        (Kind::Regexp(regexp::RegexpParser::new(&o, call)?), t)
    } else if is("tags-parser") {
        let o: tags::TagsParserOptions = de::from_call(call)?;
        (Kind::Tags(tags::TagsParser), template_opt(&o.template)?)
    } else if is("map-value-pairs") {
        let p = map_value_pairs::MapValuePairs::new(call, env)?;
        (Kind::MapValuePairs(Box::new(p)), None)
    } else if is("syslog-parser") {
        let o: SyslogParserOptions = de::from_call(call)?;
        let t = template_opt(&o.template)?;
        let mut opts = ParseOptions::default();
        for f in &o.flags {
            if !opts.flags.apply(f) {
                return Err(Diagnostic::new(
                    format!("unknown syslog-parser flag `{f}`"),
                    option_span(call, "flags"),
                ));
            }
        }
        opts.host.keep_hostname = true;
        opts.local_host = crate::message::LocalHost::new(NO_HOST);
        (
            Kind::Syslog {
                opts: Box::new(opts),
                drop_invalid: o.drop_invalid.unwrap_or(false),
            },
            t,
        )
    } else if is("python") {
        let p = crate::python::parser::compile(call, "python-parser", env.python.as_ref())?;
        (Kind::Python(p), None)
    } else {
        return Err(Diagnostic::new(
            format!("parser `{}` is not supported yet", name.value),
            *span,
        ));
    };
    Ok(Parser { kind, template })
}

/// Reads each option of `call` on its own, in the order written, for parsers whose options
/// syslog-ng applies one by one (a later one overriding, or combining with, an earlier one),
/// which a single struct read cannot tell apart. The call is read whole first, so errors are
/// the usual ones.
fn in_order<T: serde::de::DeserializeOwned>(call: &Node) -> Result<Vec<T>, Diagnostic> {
    de::from_call::<T>(call)?;
    let Node::Call { args, .. } = call else {
        return Ok(Vec::new());
    };
    args.iter()
        .map(|a| de::from_nodes::<T>(std::slice::from_ref(a), a.span()))
        .collect()
}

impl Parser {
    /// Parses and sets values; `false` drops the message from the path.
    pub fn process(&self, msg: &mut Arc<LogMessage>, cx: &mut Cx<'_>) -> bool {
        match &self.kind {
            Kind::Python(p) => return p.process(msg),
            Kind::MapValuePairs(p) => return p.process(msg, cx),
            _ => {}
        }
        let mut input = cx.take_buf();
        match &self.template {
            Some(t) => t.render(msg, &cx.render, &mut input),
            None => input.extend_from_slice(msg.message()),
        }
        let ok = match &self.kind {
            Kind::Kv(p) => p.parse(&input, msg),
            Kind::Json(p) => p.parse(&input, msg),
            Kind::Csv(p) => p.parse(&input, msg),
            Kind::Date(p) => p.parse(&input, msg, &cx.render.daemon.local_zone),
            Kind::Regexp(p) => p.parse(&input, msg),
            Kind::Tags(p) => p.parse(&input, msg),
            Kind::Python(_) | Kind::MapValuePairs(_) => false,
            Kind::Syslog { opts, drop_invalid } => syslog_parse(
                &input,
                opts,
                *drop_invalid,
                msg,
                &cx.render.daemon.local_zone,
            ),
        };
        cx.put_buf(input);
        ok
    }
}

/// `syslog-parser()`: parses the input as a syslog message into this message: priority,
/// stamp, HOST, PROGRAM, PID, MSGID, MESSAGE, structured data and LEGACY_MSGHDR are
/// replaced; everything else the message has (SOURCE, HOST_FROM, parsed values) stays.
fn syslog_parse(
    input: &[u8],
    opts: &ParseOptions,
    drop_invalid: bool,
    msg: &mut Arc<LogMessage>,
    local: &jiff::tz::TimeZone,
) -> bool {
    let mut o = opts.clone();
    o.flags.0 &= !ParseFlags::STORE_RAW_MESSAGE;
    o.local_time_zone = local.clone();
    let (parsed, err) = crate::message::parse_with_status(input, &o, None, msg.recvd);
    if err.is_some() && drop_invalid {
        return false;
    }
    let m = Arc::make_mut(msg);
    m.pri = parsed.pri;
    m.stamp = parsed.stamp;
    // A header without a host name leaves HOST alone (the parser sets the sentinel then).
    if let Some(h) = parsed.get_builtin(Builtin::Host) {
        if h != NO_HOST.as_bytes() {
            m.set_builtin(Builtin::Host, h);
        }
    }
    for b in [
        Builtin::Program,
        Builtin::Pid,
        Builtin::MsgId,
        Builtin::Message,
        Builtin::LegacyMsgHdr,
    ] {
        match parsed.get_builtin(b) {
            Some(v) => m.set_builtin(b, v),
            None => m.unset(b.name()),
        }
    }
    for (k, v) in parsed.nv.extras() {
        m.set(&String::from_utf8_lossy(k), v);
    }
    let _ = parse;
    true
}
