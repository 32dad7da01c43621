//! The filter functions with options: `message()`, `program()`, `host()`, `match()`,
//! `source()`, `netmask()`, `netmask6()`, `tags()`, `in-list()`. Each has its options struct
//! (what `sluice -s` checks, through the driver catalog) next to the code that compiles it.
//!
//! syslog-ng 3.38's grammar, checked with `syslog-ng -s`: `message()`, `program()` and
//! `host()` take a pattern, `type()` and `flags()`; `match()` also `value()` and
//! `template()`; `source()` is a string match on `$SOURCE`; `tags()` takes any number of
//! names (none is fine); `in-list()` takes a file and the value to look up, as `value(NAME)`
//! or a second string.

use serde::Deserialize;

use crate::config::ast::keyword_eq;
use crate::config::de;
use crate::config::diagnostic::Diagnostic;
use crate::config::{Node, Span};
use crate::message::{Builtin, TagId};

use super::super::BuildEnv;
use super::super::matcher::{Matcher, MatcherFlag, MatcherOptions, MatcherType};
use super::net::Netmask;
use super::{Filter, Subject};

/// `message()`, `program()`, `host()`: a pattern against one built-in value.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RegexFilterOptions {
    #[serde(rename = "0:pattern")]
    pub pattern: String,
    #[serde(default, rename = "type")]
    pub kind: Option<MatcherType>,
    #[serde(default)]
    pub flags: Vec<MatcherFlag>,
}

/// `match()`: a pattern against a value, a template, or (without either) `PROGRAM[PID]: MSG`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MatchFilterOptions {
    #[serde(rename = "0:pattern")]
    pub pattern: String,
    #[serde(default, rename = "type")]
    pub kind: Option<MatcherType>,
    #[serde(default)]
    pub flags: Vec<MatcherFlag>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
}

/// `tags("a" "b")`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsFilterOptions {
    #[serde(default, rename = "0:tag")]
    pub tags: Vec<String>,
}

/// `in-list("/etc/list" value("HOST"))` or `in-list("/etc/list" "HOST")`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InListFilterOptions {
    #[serde(rename = "0:file")]
    pub file: String,
    #[serde(default, rename = "1:value")]
    pub positional_value: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// The filter functions this module compiles, for the driver catalog.
pub const FUNCTIONS: &[&str] = &[
    "message", "program", "host", "match", "source", "netmask", "netmask6", "tags", "in-list",
];

/// The option names of a filter function (for "did you mean" suggestions).
pub fn option_names(name: &str) -> Vec<&'static str> {
    match name {
        "match" => vec!["type", "flags", "value", "template"],
        "message" | "program" | "host" | "source" => vec!["type", "flags"],
        "in-list" => vec!["value"],
        _ => Vec::new(),
    }
}

/// A subject for a value name: built-ins get their slot.
pub fn subject_for(name: &str) -> Subject {
    match Builtin::from_name(name.as_bytes()) {
        Some(b) => Subject::Builtin(b),
        None => Subject::Name(name.to_string()),
    }
}

fn opts(kind: Option<MatcherType>, flags: Vec<MatcherFlag>) -> MatcherOptions {
    MatcherOptions { kind, flags }
}

/// The span of the first positional argument (where a bad pattern is reported).
pub fn first_arg_span(call: &Node) -> Span {
    match call {
        Node::Call { args, span, .. } => args
            .iter()
            .find(|a| matches!(a, Node::Str(..) | Node::Word(_) | Node::Number(_)))
            .map_or(*span, Node::span),
        other => other.span(),
    }
}

fn matcher(pattern: &str, o: &MatcherOptions, call: &Node) -> Result<Matcher, Diagnostic> {
    Matcher::new(pattern, o).map_err(|e| Diagnostic::new(e, first_arg_span(call)))
}

/// The argument text of a call as written, unquoted (`netmask(10.0.0.0/8)`).
fn raw_arg(call: &Node) -> String {
    match call {
        Node::Call { args, raw, .. } => match args.as_slice() {
            [Node::Str(s, _)] => s.value.clone(),
            _ => raw.trim().to_string(),
        },
        _ => String::new(),
    }
}

/// Compiles the functions of this module (the caller handles `facility`, `level`, `filter`).
pub fn compile_function(call: &Node, env: &BuildEnv<'_>) -> Result<Filter, Diagnostic> {
    let Node::Call { name, span, .. } = call else {
        return Err(Diagnostic::new("expected a filter function", call.span()));
    };
    let is = |k: &str| keyword_eq(&name.value, k);
    let builtin = if is("message") {
        Some(Builtin::Message)
    } else if is("program") {
        Some(Builtin::Program)
    } else if is("host") {
        Some(Builtin::Host)
    } else {
        None
    };
    if let Some(b) = builtin {
        let o: RegexFilterOptions = de::from_call(call)?;
        let m = matcher(&o.pattern, &opts(o.kind, o.flags), call)?;
        return Ok(Filter::Regex {
            subject: Subject::Builtin(b),
            matcher: m,
        });
    }
    if is("source") {
        let o: RegexFilterOptions = de::from_call(call)?;
        let mo = opts(Some(o.kind.unwrap_or(MatcherType::String)), o.flags);
        let m = matcher(&o.pattern, &mo, call)?;
        return Ok(Filter::Regex {
            subject: Subject::Builtin(Builtin::Source),
            matcher: m,
        });
    }
    if is("match") {
        let o: MatchFilterOptions = de::from_call(call)?;
        let m = matcher(&o.pattern, &opts(o.kind, o.flags), call)?;
        let subject = match (&o.template, &o.value) {
            (Some(t), _) => Subject::Template(env.template(t, *span)?),
            (None, Some(v)) => subject_for(v.strip_prefix('$').unwrap_or(v)),
            (None, None) => Subject::Legacy,
        };
        return Ok(Filter::Regex {
            subject,
            matcher: m,
        });
    }
    if is("netmask") || is("netmask6") {
        let text = raw_arg(call);
        let parsed = if is("netmask6") {
            Netmask::parse_v6(&text)
        } else {
            Netmask::parse_netmask(&text)
        };
        return parsed
            .map(Filter::Netmask)
            .map_err(|e| Diagnostic::new(e, *span));
    }
    if is("tags") {
        let o: TagsFilterOptions = de::from_call(call)?;
        return Ok(Filter::Tags(
            o.tags.iter().map(|t| TagId::intern(t)).collect(),
        ));
    }
    if is("in-list") {
        let o: InListFilterOptions = de::from_call(call)?;
        let Some(value) = o.value.or(o.positional_value) else {
            return Err(Diagnostic::new(
                "in-list() needs the name of the value to look up: in-list(\"file\" value(NAME))",
                *span,
            ));
        };
        let text = std::fs::read(&o.file).map_err(|e| {
            Diagnostic::new(
                format!("Error opening in-list filter list file `{}`: {e}", o.file),
                first_arg_span(call),
            )
        })?;
        // Lines are taken as they are (only the newline goes): recorded, a line with a
        // trailing space does not match the value without it.
        let set = text
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        return Ok(Filter::InList {
            subject: subject_for(&value),
            set,
        });
    }
    Err(Diagnostic::new(
        format!("filter function `{}` is not supported yet", name.value),
        name.span,
    ))
}
