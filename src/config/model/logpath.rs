//! Log paths: `log { source(s); filter(f); destination(d); flags(final); };`, with nested
//! `log {}`, `channel {}`, `junction { channel {...}; ... }`, inline objects and
//! `if (...) {...} elif (...) {...} else {...};`.
//!
//! As in syslog-ng 3.38: `flags()` must be the last element; `if` and `elif` may omit the
//! condition (`if { ... }`); `else if` is not `elif`; objects may hold `channel {}`/`log {}`
//! sequences; a junction holds `channel {}` and `log {}` branches. One difference: syslog-ng
//! only warns about an unknown flag ("Unknown log statement flag") and ignores it, sluice
//! rejects it, since a misspelt `final` silently changes where messages go.

use super::build::Builder;
use super::filter::{End, FilterExpr, parse_filter};
use super::{Filter, Object};
use crate::config::ast::{Node, Stmt, keyword_eq};
use crate::config::catalog::ObjectKind;
use crate::config::de::describe_node;
use crate::config::diagnostic::{Diagnostic, did_you_mean};
use crate::config::span::{Span, Spanned};

/// A `log {}` statement, a nested `log {}`, a `channel {}` or a junction branch.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogPath {
    pub items: Vec<LogItem>,
    pub flags: LogFlags,
    pub span: Span,
}

/// The `flags()` of a log path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogFlags {
    /// `final`: a message processed here is not processed by later paths.
    pub r#final: bool,
    /// `fallback`: only messages no other path processed.
    pub fallback: bool,
    /// `catchall` (`catch-all`): messages from every source.
    pub catchall: bool,
    /// `flow-control`.
    pub flow_control: bool,
    /// `drop-unmatched`.
    pub drop_unmatched: bool,
    /// The `flags(...)` call, if written.
    pub span: Option<Span>,
}

/// The flags syslog-ng 3.38 knows (with `-`/`_` interchangeable).
const FLAGS: [&str; 6] = [
    "final",
    "fallback",
    "catchall",
    "catch-all",
    "flow-control",
    "drop-unmatched",
];

/// A reference from a log path to an object, named or inline (then by its generated name).
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRef {
    pub name: Spanned<String>,
    /// The whole `source(name)` call or inline `source { ... }`: where syslog-ng reports an
    /// unresolved reference.
    pub span: Span,
    pub inline: bool,
}

/// One element of a log path, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum LogItem {
    Source(ObjectRef),
    Filter(ObjectRef),
    Parser(ObjectRef),
    Rewrite(ObjectRef),
    Destination(ObjectRef),
    /// A nested `log {}`: a branch that receives a copy of each message.
    Log(LogPath),
    /// A `channel {}` written directly in a path: its items in sequence.
    Channel(LogPath),
    Junction(Junction),
    If(IfChain),
}

/// `junction { channel { ... }; channel { ... }; };`: parallel branches.
#[derive(Debug, Clone, PartialEq)]
pub struct Junction {
    pub branches: Vec<LogPath>,
    pub span: Span,
}

/// `if (a) { ... } elif (b) { ... } else { ... };`
#[derive(Debug, Clone, PartialEq)]
pub struct IfChain {
    /// The `if` and each `elif`, in order.
    pub branches: Vec<IfBranch>,
    pub otherwise: Option<LogPath>,
    pub span: Span,
}

/// A conditional branch; syslog-ng allows the condition to be left out (`if { ... }`).
#[derive(Debug, Clone, PartialEq)]
pub struct IfBranch {
    pub condition: Option<FilterExpr>,
    pub body: LogPath,
}

impl LogItem {
    /// The reference this item makes, with the kind of object it refers to.
    pub fn reference(&self) -> Option<(ObjectKind, &ObjectRef)> {
        match self {
            LogItem::Source(r) => Some((ObjectKind::Source, r)),
            LogItem::Filter(r) => Some((ObjectKind::Filter, r)),
            LogItem::Parser(r) => Some((ObjectKind::Parser, r)),
            LogItem::Rewrite(r) => Some((ObjectKind::Rewrite, r)),
            LogItem::Destination(r) => Some((ObjectKind::Destination, r)),
            _ => None,
        }
    }

    /// The log paths directly inside this item (nested logs, channels, branches).
    pub fn sub_paths(&self) -> Vec<&LogPath> {
        match self {
            LogItem::Log(p) | LogItem::Channel(p) => vec![p],
            LogItem::Junction(j) => j.branches.iter().collect(),
            LogItem::If(chain) => chain
                .branches
                .iter()
                .map(|b| &b.body)
                .chain(chain.otherwise.as_ref())
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl LogPath {
    /// Calls `f` for every item of this path and of every path nested in it, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a LogItem)) {
        for item in &self.items {
            f(item);
            for sub in item.sub_paths() {
                sub.walk(f);
            }
        }
    }

    /// Every object reference in this path and its nested paths.
    pub fn references(&self) -> Vec<(ObjectKind, &ObjectRef)> {
        let mut out = Vec::new();
        self.walk(&mut |item| out.extend(item.reference()));
        out
    }

    /// Every `if`/`elif` condition in this path and its nested paths.
    pub fn conditions(&self) -> Vec<&FilterExpr> {
        let mut out = Vec::new();
        self.walk(&mut |item| {
            if let LogItem::If(chain) = item {
                out.extend(chain.branches.iter().filter_map(|b| b.condition.as_ref()));
            }
        });
        out
    }
}

/// The words that can start a log path element.
const ITEMS: [&str; 10] = [
    "source",
    "filter",
    "parser",
    "rewrite",
    "destination",
    "log",
    "channel",
    "junction",
    "if",
    "flags",
];

fn reference_kind(word: &str) -> Option<ObjectKind> {
    [
        ObjectKind::Source,
        ObjectKind::Filter,
        ObjectKind::Parser,
        ObjectKind::Rewrite,
        ObjectKind::Destination,
    ]
    .into_iter()
    .find(|k| keyword_eq(word, k.keyword()))
}

impl Builder {
    /// Reads the statements of a log path body.
    pub(super) fn log_path(&mut self, stmts: &[Stmt], span: Span) -> LogPath {
        let mut path = LogPath {
            span,
            ..LogPath::default()
        };
        for stmt in stmts {
            let Some(first) = stmt.nodes.first() else {
                continue;
            };
            if path.flags.span.is_some() {
                let d = Diagnostic::new(
                    format!(
                        "unexpected {} after flags(): flags() must be the last element of a log path",
                        describe_node(first)
                    ),
                    first.span(),
                );
                self.error(d, "log");
                break;
            }
            self.log_item(stmt, first, &mut path);
        }
        path
    }

    fn log_item(&mut self, stmt: &Stmt, first: &Node, path: &mut LogPath) {
        match first {
            Node::Call {
                name, args, span, ..
            } => {
                self.expect_end(stmt, 1, "log");
                if keyword_eq(&name.value, "flags") {
                    path.flags = self.log_flags(args, *span);
                } else if let Some(kind) = reference_kind(&name.value) {
                    match args.as_slice() {
                        [Node::Word(n)] | [Node::Str(n, _)] => {
                            let r = ObjectRef {
                                name: n.clone(),
                                span: *span,
                                inline: false,
                            };
                            path.items.push(item_for(kind, r));
                        }
                        _ => {
                            let d = Diagnostic::new(
                                format!(
                                    "{}() takes the name of one {}",
                                    name.value,
                                    kind.keyword()
                                ),
                                *span,
                            );
                            self.error(d, "log");
                        }
                    }
                } else {
                    self.unknown_item(name);
                }
            }
            Node::Word(w) => self.log_word_item(stmt, w, path),
            other => {
                let d = Diagnostic::new(
                    format!(
                        "expected a log path element, found {}",
                        describe_node(other)
                    ),
                    other.span(),
                );
                self.error(d, "log");
            }
        }
    }

    fn unknown_item(&mut self, word: &Spanned<String>) {
        let mut d = Diagnostic::new(
            format!("unknown log path element `{}`", word.value),
            word.span,
        );
        d = match did_you_mean(&word.value, ITEMS) {
            Some(best) => d.with_note(format!("did you mean `{best}`?")),
            None => d.with_note(format!("valid elements: {}", ITEMS.join(", "))),
        };
        self.error(d, "log");
    }

    fn log_word_item(&mut self, stmt: &Stmt, w: &Spanned<String>, path: &mut LogPath) {
        let kw = |k: &str| keyword_eq(&w.value, k);
        if kw("if") {
            if let Some(chain) = self.if_chain(stmt) {
                path.items.push(LogItem::If(chain));
            }
            return;
        }
        if kw("elif") || kw("else") {
            let d = Diagnostic::new(format!("`{}` without `if`", w.value), w.span);
            self.error(d, "log");
            return;
        }
        let known = ITEMS.iter().any(|k| kw(k)) && !kw("flags");
        if !known {
            self.unknown_item(w);
            return;
        }
        let Some(Node::Block { stmts, span }) = stmt.nodes.get(1) else {
            let (at, found) = stmt
                .nodes
                .get(1)
                .map_or((w.span, "nothing".to_string()), |n| {
                    (n.span(), describe_node(n))
                });
            let d = Diagnostic::new(
                format!("expected '{{' after `{}`, found {found}", w.value),
                at,
            );
            self.error(d, "log");
            return;
        };
        self.expect_end(stmt, 2, "log");
        let whole = w.span.to(*span);
        if kw("log") {
            let sub = self.log_path(stmts, whole);
            path.items.push(LogItem::Log(sub));
        } else if kw("channel") {
            let sub = self.log_path(stmts, whole);
            path.items.push(LogItem::Channel(sub));
        } else if kw("junction") {
            let junction = self.junction(stmts, whole);
            path.items.push(LogItem::Junction(junction));
        } else if kw("filter") {
            let name = self.anon_name("filter");
            if let Some(expr) = self.filter_body(stmts, *span) {
                self.model.filters.push(Filter {
                    name: Spanned::new(name.clone(), w.span),
                    expr,
                    span: whole,
                    inline: true,
                });
            }
            let r = ObjectRef {
                name: Spanned::new(name, w.span),
                span: whole,
                inline: true,
            };
            path.items.push(LogItem::Filter(r));
        } else if let Some(kind) = reference_kind(&w.value) {
            let name = self.anon_name(kind.keyword());
            let items = self.object_body(kind, stmts);
            self.push_object(Object {
                kind,
                name: Spanned::new(name.clone(), w.span),
                items,
                span: whole,
                inline: true,
            });
            let r = ObjectRef {
                name: Spanned::new(name, w.span),
                span: whole,
                inline: true,
            };
            path.items.push(item_for(kind, r));
        }
    }

    fn junction(&mut self, stmts: &[Stmt], span: Span) -> Junction {
        let mut branches = Vec::new();
        for s in stmts {
            match s.nodes.as_slice() {
                [] => {}
                [Node::Word(w), Node::Block { stmts, span }, ..]
                    if keyword_eq(&w.value, "channel") || keyword_eq(&w.value, "log") =>
                {
                    self.expect_end(s, 2, "junction");
                    branches.push(self.log_path(stmts, w.span.to(*span)));
                }
                [other, ..] => {
                    let d = Diagnostic::new(
                        format!(
                            "expected `channel {{ ... }}` inside a junction, found {}",
                            describe_node(other)
                        ),
                        other.span(),
                    );
                    self.error(d, "junction");
                }
            }
        }
        Junction { branches, span }
    }

    fn log_flags(&mut self, args: &[Node], span: Span) -> LogFlags {
        let mut flags = LogFlags {
            span: Some(span),
            ..LogFlags::default()
        };
        for arg in args {
            let Some(word) = (match arg {
                Node::Word(w) | Node::Str(w, _) => Some(w),
                _ => None,
            }) else {
                let d = Diagnostic::new(
                    format!("expected a log path flag, found {}", describe_node(arg)),
                    arg.span(),
                );
                self.error(d, "log");
                continue;
            };
            let is = |f: &str| keyword_eq(&word.value, f);
            if is("final") {
                flags.r#final = true;
            } else if is("fallback") {
                flags.fallback = true;
            } else if is("catchall") || is("catch-all") {
                flags.catchall = true;
            } else if is("flow-control") {
                flags.flow_control = true;
            } else if is("drop-unmatched") {
                flags.drop_unmatched = true;
            } else {
                let mut d =
                    Diagnostic::new(format!("unknown log path flag `{}`", word.value), word.span);
                d = match did_you_mean(&word.value, FLAGS) {
                    Some(best) => d.with_note(format!("did you mean `{best}`?")),
                    None => d.with_note(format!("valid flags: {}", FLAGS.join(", "))),
                };
                self.error(d, "log");
            }
        }
        flags
    }

    /// `if (cond) { ... } elif (cond) { ... } else { ... }`, the whole statement.
    fn if_chain(&mut self, stmt: &Stmt) -> Option<IfChain> {
        let nodes = &stmt.nodes;
        let mut chain = IfChain {
            branches: Vec::new(),
            otherwise: None,
            span: stmt.span,
        };
        let mut i = 0;
        let mut ok = true;
        while let Some(Node::Word(kw)) = nodes.get(i) {
            let is_if = keyword_eq(&kw.value, "if") && i == 0;
            let is_elif = keyword_eq(&kw.value, "elif") && i > 0;
            let is_else = keyword_eq(&kw.value, "else") && i > 0;
            if !(is_if || is_elif || is_else) {
                break;
            }
            i += 1;
            let mut condition = None;
            if !is_else {
                if let Some(Node::Group { items, span }) = nodes.get(i) {
                    i += 1;
                    let end = End {
                        span: Span {
                            start: span.end.saturating_sub(1),
                            ..*span
                        },
                        token: Some(")"),
                    };
                    match parse_filter(items, end) {
                        Ok(expr) => {
                            ok &= self.check_filter_calls(&expr);
                            condition = Some(expr);
                        }
                        Err(d) => {
                            self.error(d, "log");
                            ok = false;
                        }
                    }
                }
            }
            let Some(Node::Block { stmts, span }) = nodes.get(i) else {
                let (at, found) = nodes.get(i).map_or((kw.span, "nothing".to_string()), |n| {
                    (n.span(), describe_node(n))
                });
                let expected = if is_else { "'{'" } else { "'(' or '{'" };
                let d = Diagnostic::new(
                    format!(
                        "unexpected {found}, expecting {expected} after `{}`",
                        kw.value
                    ),
                    at,
                );
                self.error(d, "log");
                return None;
            };
            i += 1;
            let body = self.log_path(stmts, kw.span.to(*span));
            if is_else {
                chain.otherwise = Some(body);
                break;
            }
            chain.branches.push(IfBranch { condition, body });
        }
        if let Some(extra) = nodes.get(i) {
            let d = Diagnostic::new(
                format!("unexpected {}, expecting ';'", describe_node(extra)),
                extra.span(),
            );
            self.error(d, "log");
            return None;
        }
        ok.then_some(chain)
    }
}

fn item_for(kind: ObjectKind, r: ObjectRef) -> LogItem {
    match kind {
        ObjectKind::Source => LogItem::Source(r),
        ObjectKind::Filter => LogItem::Filter(r),
        ObjectKind::Parser => LogItem::Parser(r),
        ObjectKind::Rewrite => LogItem::Rewrite(r),
        ObjectKind::Destination => LogItem::Destination(r),
    }
}
