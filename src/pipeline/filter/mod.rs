//! Filters: a [`FilterExpr`] from the configuration, compiled once into a [`Filter`] tree that
//! is evaluated per message without looking anything up by name.
//!
//! * [`pri`]: `facility()`, `level()`/`priority()`/`severity()` as bit masks;
//! * regex family: `message()`, `program()`, `host()`, `match()` (with `value()` or
//!   `template()`), `source()`, with the [`Matcher`] types and flags;
//! * [`net`]: `netmask()`, `netmask6()`;
//! * `tags()`, `in-list()`, `filter()` references (resolved once: a referenced filter is
//!   compiled once and shared), `and`/`or`/`not`;
//! * [`cmp`]: comparisons of templates (`"$PROGRAM" eq "sshd"`, `int("$PID") > 100`).
//!
//! Evaluation takes `&mut Arc<LogMessage>` because `flags(store-matches)` writes `$0`..`$9`
//! into the message; only such a filter calls `Arc::make_mut`, and only when it matched.

pub mod cmp;
pub mod funcs;
pub mod net;
pub mod pri;

use std::sync::Arc;

use crate::config::Node;
use crate::config::ast::keyword_eq;
use crate::config::diagnostic::Diagnostic;
use crate::config::model::FilterExpr;
use crate::message::{Builtin, LogMessage, TagId};
use crate::template::Template;

use super::matcher::Matcher;
use super::{BuildEnv, Cx};
pub use pri::{FacilityMatch, LevelMatch};

/// What a regex-family filter matches against.
#[derive(Debug)]
pub enum Subject {
    /// A built-in value (`message()` is MESSAGE, `program()` PROGRAM, ...).
    Builtin(Builtin),
    /// Any other name (`match("x" value(".json.user"))`).
    Name(String),
    /// `match()` without `value()`: syslog-ng's compatibility form, `PROGRAM[PID]: MESSAGE`.
    Legacy,
    /// `match("x" template("$HOST $PROGRAM"))`.
    Template(Template),
}

/// A compiled filter expression.
#[derive(Debug)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Facility(FacilityMatch),
    Level(LevelMatch),
    Regex {
        subject: Subject,
        matcher: Matcher,
    },
    Netmask(net::Netmask),
    /// `tags()`: any of these.
    Tags(Vec<TagId>),
    /// `in-list()`: the value is one of the file's lines.
    InList {
        subject: Subject,
        set: std::collections::HashSet<Vec<u8>>,
    },
    /// `filter(name)`, shared with every other reference to the same filter.
    Ref(Arc<Filter>),
    Compare(Box<cmp::Comparison>),
}

impl Filter {
    /// Evaluates the filter for `msg`. `cx` carries the render context and scratch buffers.
    pub fn eval(&self, msg: &mut Arc<LogMessage>, cx: &mut Cx<'_>) -> bool {
        match self {
            Filter::And(list) => list.iter().all(|f| f.eval(msg, cx)),
            Filter::Or(list) => list.iter().any(|f| f.eval(msg, cx)),
            Filter::Not(f) => !f.eval(msg, cx),
            Filter::Facility(f) => f.eval(msg),
            Filter::Level(l) => l.eval(msg),
            Filter::Regex { subject, matcher } => eval_regex(subject, matcher, msg, cx),
            Filter::Netmask(n) => n.eval(msg),
            Filter::Tags(tags) => tags.iter().any(|t| msg.has_tag(*t)),
            Filter::InList { subject, set } => {
                let mut buf = cx.take_buf();
                let hit = with_subject(subject, msg, cx, &mut buf, |v| set.contains(v));
                cx.put_buf(buf);
                hit
            }
            Filter::Ref(f) => f.eval(msg, cx),
            Filter::Compare(c) => c.eval(msg, cx),
        }
    }
}

impl Filter {
    /// Evaluates without writing to the message (`store-matches` matches without storing):
    /// for `$(if)` and `$(grep)`, which see a borrowed message.
    pub fn matches(&self, msg: &LogMessage, cx: &mut Cx<'_>) -> bool {
        match self {
            Filter::And(list) => list.iter().all(|f| f.matches(msg, cx)),
            Filter::Or(list) => list.iter().any(|f| f.matches(msg, cx)),
            Filter::Not(f) => !f.matches(msg, cx),
            Filter::Facility(f) => f.eval(msg),
            Filter::Level(l) => l.eval(msg),
            Filter::Regex { subject, matcher } => {
                let mut buf = cx.take_buf();
                let hit = with_subject(subject, msg, cx, &mut buf, |v| matcher.is_match(v));
                cx.put_buf(buf);
                hit
            }
            Filter::Netmask(n) => n.eval(msg),
            Filter::Tags(tags) => tags.iter().any(|t| msg.has_tag(*t)),
            Filter::InList { subject, set } => {
                let mut buf = cx.take_buf();
                let hit = with_subject(subject, msg, cx, &mut buf, |v| set.contains(v));
                cx.put_buf(buf);
                hit
            }
            Filter::Ref(f) => f.matches(msg, cx),
            Filter::Compare(c) => c.eval(msg, cx),
        }
    }
}

/// Calls `f` with the subject's value (rendered into `buf` when it is a template).
fn with_subject<R>(
    subject: &Subject,
    msg: &LogMessage,
    cx: &Cx<'_>,
    buf: &mut Vec<u8>,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    match subject {
        Subject::Builtin(b) => f(msg.get_builtin(*b).unwrap_or(&[])),
        Subject::Name(n) => f(msg.get(n).unwrap_or(&[])),
        Subject::Legacy => {
            buf.clear();
            legacy_subject(msg, buf);
            f(buf)
        }
        Subject::Template(t) => {
            buf.clear();
            t.render(msg, &cx.render, buf);
            f(buf)
        }
    }
}

/// `PROGRAM[PID]: MESSAGE`, the compatibility subject of `match()` without `value()`.
fn legacy_subject(msg: &LogMessage, out: &mut Vec<u8>) {
    out.extend_from_slice(msg.get_builtin(Builtin::Program).unwrap_or(&[]));
    let pid = msg.get_builtin(Builtin::Pid).unwrap_or(&[]);
    if !pid.is_empty() {
        out.push(b'[');
        out.extend_from_slice(pid);
        out.push(b']');
    }
    out.extend_from_slice(b": ");
    out.extend_from_slice(msg.message());
}

fn eval_regex(
    subject: &Subject,
    matcher: &Matcher,
    msg: &mut Arc<LogMessage>,
    cx: &mut Cx<'_>,
) -> bool {
    if !matcher.stores() {
        let mut buf = cx.take_buf();
        let hit = with_subject(subject, msg, cx, &mut buf, |v| matcher.is_match(v));
        cx.put_buf(buf);
        return hit;
    }
    // store-matches: find on the shared message first; copy and write only on a match.
    let mut buf = cx.take_buf();
    let hit = with_subject(subject, msg, cx, &mut buf, |v| {
        if matcher.is_match(v) {
            Some(v.to_vec())
        } else {
            None
        }
    });
    cx.put_buf(buf);
    match hit {
        Some(value) => matcher.match_and_store(&value, Arc::make_mut(msg)),
        None => false,
    }
}

/// Compiles a filter expression.
pub fn compile(expr: &FilterExpr, env: &BuildEnv<'_>) -> Result<Filter, Diagnostic> {
    Ok(match expr {
        FilterExpr::And(list) => Filter::And(
            list.iter()
                .map(|e| compile(e, env))
                .collect::<Result<_, _>>()?,
        ),
        FilterExpr::Or(list) => Filter::Or(
            list.iter()
                .map(|e| compile(e, env))
                .collect::<Result<_, _>>()?,
        ),
        FilterExpr::Not { expr, .. } => Filter::Not(Box::new(compile(expr, env)?)),
        FilterExpr::Call(call) => compile_call(call, env)?,
        FilterExpr::Compare(c) => Filter::Compare(Box::new(cmp::Comparison::compile(c, env)?)),
    })
}

/// Compiles one filter function call.
pub fn compile_call(call: &Node, env: &BuildEnv<'_>) -> Result<Filter, Diagnostic> {
    let Node::Call {
        name, args, span, ..
    } = call
    else {
        return Err(Diagnostic::new("expected a filter function", call.span()));
    };
    let is = |k: &str| keyword_eq(&name.value, k);
    if is("filter") {
        let Some(r) = crate::config::model::filter_ref(call) else {
            return Err(Diagnostic::new(
                "filter() takes the name of one filter",
                *span,
            ));
        };
        if env.model().is_none() {
            // Checking a call on its own: references are the configuration checks' job.
            return Ok(Filter::And(Vec::new()));
        }
        return env
            .filter_by_name(&r.name.value)
            .map(Filter::Ref)
            .ok_or_else(|| {
                Diagnostic::new(format!("undefined filter `{}`", r.name.value), r.span)
            });
    }
    if is("facility") {
        return pri::compile_facility(args, *span).map(Filter::Facility);
    }
    if is("level") || is("priority") || is("severity") {
        return pri::compile_level(args, *span).map(Filter::Level);
    }
    funcs::compile_function(call, env)
}
