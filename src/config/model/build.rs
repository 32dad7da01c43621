//! Reading top-level statements into the model: options, objects, filters, templates.

use serde::Deserialize;

use super::filter::{End, FilterExpr, filter_ref, parse_filter};
use super::{Filter, Model, Object, ObjectItem, Template};
use crate::config::ast::{Ast, Node, Stmt, keyword_eq};
use crate::config::catalog::ObjectKind;
use crate::config::de::{self, describe_node};
use crate::config::diagnostic::{Diagnostic, did_you_mean};
use crate::config::span::{Span, Spanned};

/// The top-level statements syslog-ng 3.38 has (blocks and `python {}` are gone by now).
const TOP_LEVEL: [&str; 10] = [
    "application",
    "options",
    "source",
    "destination",
    "filter",
    "parser",
    "rewrite",
    "template",
    "template-function",
    "log",
];

/// Accumulates the model and every error found on the way.
pub(super) struct Builder {
    pub(super) model: Model,
    pub(super) errors: Vec<Diagnostic>,
    /// Counters for generated names, per kind keyword.
    anon: Vec<(&'static str, usize)>,
}

impl Builder {
    pub(super) fn new(ast: &Ast) -> Self {
        Builder {
            model: Model {
                version: ast.version.clone(),
                python_blocks: ast.python_blocks.clone(),
                ..Model::default()
            },
            errors: Vec::new(),
            anon: Vec::new(),
        }
    }

    pub(super) fn run(mut self, ast: &Ast) -> Result<Model, Vec<Diagnostic>> {
        for stmt in &ast.stmts {
            self.top_level(stmt);
        }
        if self.errors.is_empty() {
            Ok(self.model)
        } else {
            Err(self.errors)
        }
    }

    pub(super) fn error(&mut self, d: Diagnostic, context: &str) {
        self.errors.push(d.with_context(context));
    }

    /// syslog-ng's name for the next inline object of a kind: `#anon-source0`, ...
    pub(super) fn anon_name(&mut self, kind: &'static str) -> String {
        let n = match self.anon.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                self.anon.push((kind, 1));
                0
            }
        };
        format!("#anon-{kind}{n}")
    }

    fn top_level(&mut self, stmt: &Stmt) {
        let Some(first) = stmt.nodes.first() else {
            return;
        };
        let keyword = match first {
            Node::Word(w) => w,
            Node::Call { name, .. } => name,
            other => {
                let d = Diagnostic::new(
                    format!(
                        "expected a top-level statement such as `source name {{ ... }};`, found {}",
                        describe_node(other)
                    ),
                    other.span(),
                );
                self.errors.push(d);
                return;
            }
        };
        let kw = |k: &str| keyword_eq(&keyword.value, k);
        if matches!(first, Node::Call { .. }) || !TOP_LEVEL.iter().any(|k| kw(k)) {
            let mut d = Diagnostic::new(
                format!("unknown top-level statement `{}`", keyword.value),
                keyword.span,
            );
            let suggestion = if matches!(first, Node::Word(_)) {
                did_you_mean(&keyword.value, TOP_LEVEL)
            } else {
                None
            };
            d = match suggestion {
                Some(best) => d.with_note(format!("did you mean `{best}`?")),
                None => d.with_note(format!("valid statements: {}", TOP_LEVEL.join(", "))),
            };
            self.errors.push(d);
            return;
        }
        if kw("options") {
            self.options(stmt);
        } else if kw("source") {
            self.named_object(ObjectKind::Source, stmt);
        } else if kw("destination") {
            self.named_object(ObjectKind::Destination, stmt);
        } else if kw("parser") {
            self.named_object(ObjectKind::Parser, stmt);
        } else if kw("rewrite") {
            self.named_object(ObjectKind::Rewrite, stmt);
        } else if kw("filter") {
            self.named_filter(stmt);
        } else if kw("template") {
            self.template(stmt, false);
        } else if kw("template-function") {
            self.template(stmt, true);
        } else if kw("log") {
            self.top_log(stmt);
        } else if kw("application") {
            self.application(stmt);
        }
    }

    /// `application NAME[TOPIC] { filter {...}; parser {...}; };` — syslog-ng 3.38's
    /// grammar: any number of `filter` and `parser` blocks, their contents unchecked until
    /// an `app-parser()` uses them.
    fn application(&mut self, stmt: &Stmt) {
        const CTX: &str = "appmodel";
        let nodes = &stmt.nodes;
        let word = |i: usize| match nodes.get(i) {
            Some(Node::Word(w)) => Some(w.clone()),
            _ => None,
        };
        let op = |i: usize, o: &str| matches!(nodes.get(i), Some(Node::Op(s)) if s.value == o);
        let unexpected = |i: usize, wanted: &str| {
            let (what, at) = match nodes.get(i) {
                Some(n) => (describe_node(n), n.span()),
                None => (
                    "the end of the statement".to_string(),
                    nodes.last().map_or(stmt.span, Node::span),
                ),
            };
            Diagnostic::new(format!("unexpected {what}, expecting {wanted}"), at)
        };
        let Some(name) = word(1) else {
            let d = unexpected(1, "an application name");
            return self.error(d, CTX);
        };
        if !op(2, "[") {
            let d = unexpected(2, "'['");
            return self.error(d, CTX);
        }
        let Some(topic) = word(3) else {
            let d = unexpected(3, "a topic name");
            return self.error(d, CTX);
        };
        if !op(4, "]") {
            let d = unexpected(4, "']'");
            return self.error(d, CTX);
        }
        let Some(body) = self.expect_block(stmt, 5, CTX) else {
            return;
        };
        let mut app = super::Application {
            name,
            topic,
            filters: Vec::new(),
            parsers: Vec::new(),
        };
        for s in body {
            let kind = match s.nodes.first() {
                Some(Node::Word(w)) if keyword_eq(&w.value, "filter") => Some(true),
                Some(Node::Word(w)) if keyword_eq(&w.value, "parser") => Some(false),
                _ => None,
            };
            let (Some(is_filter), Some(Node::Block { stmts, .. })) = (kind, s.nodes.get(1)) else {
                let at = match kind {
                    Some(_) => s.nodes.get(1).or(s.nodes.first()),
                    None => s.nodes.first(),
                };
                let d = match at {
                    Some(n) => Diagnostic::new(
                        format!("unexpected {}, expecting '}}'", describe_node(n)),
                        n.span(),
                    ),
                    None => Diagnostic::new("expecting '}'", s.span),
                };
                self.error(d, CTX);
                continue;
            };
            self.expect_end(s, 2, CTX);
            match is_filter {
                true => app.filters.push(stmts.clone()),
                false => app.parsers.push(stmts.clone()),
            }
        }
        self.model.applications.push(app);
    }

    fn options(&mut self, stmt: &Stmt) {
        let Some(stmts) = self.expect_block(stmt, 1, "options") else {
            return;
        };
        for s in stmts {
            self.model.global_options.extend(s.nodes.iter().cloned());
        }
    }

    /// The block at `index` of a statement, which must end there.
    fn expect_block<'a>(&mut self, stmt: &'a Stmt, index: usize, ctx: &str) -> Option<&'a [Stmt]> {
        match stmt.nodes.get(index) {
            Some(Node::Block { stmts, .. }) => {
                self.expect_end(stmt, index + 1, ctx);
                Some(stmts)
            }
            Some(other) => {
                let d = Diagnostic::new(
                    format!("unexpected {}, expecting '{{'", describe_node(other)),
                    other.span(),
                );
                self.error(d, ctx);
                None
            }
            None => {
                let at = stmt.nodes.last().map_or(stmt.span, Node::span);
                let d = Diagnostic::new(format!("expected '{{' after `{ctx}`"), at);
                self.error(d, ctx);
                None
            }
        }
    }

    /// Reports a node after the end of a statement.
    pub(super) fn expect_end(&mut self, stmt: &Stmt, index: usize, ctx: &str) {
        if let Some(extra) = stmt.nodes.get(index) {
            let d = Diagnostic::new(
                format!("unexpected {}, expecting ';'", describe_node(extra)),
                extra.span(),
            );
            self.error(d, ctx);
        }
    }

    /// The name of `kind name ...`: a word or a string.
    fn object_name(&mut self, stmt: &Stmt, ctx: &str) -> Option<Spanned<String>> {
        match stmt.nodes.get(1) {
            Some(Node::Word(w)) | Some(Node::Str(w, _)) => Some(w.clone()),
            Some(other) => {
                let d = Diagnostic::new(
                    format!(
                        "expected the name of the {ctx}, found {}",
                        describe_node(other)
                    ),
                    other.span(),
                );
                self.error(d, ctx);
                None
            }
            None => {
                let d = Diagnostic::new(
                    format!("expected the name of the {ctx}"),
                    stmt.nodes.first().map_or(stmt.span, Node::span),
                );
                self.error(d, ctx);
                None
            }
        }
    }

    fn named_object(&mut self, kind: ObjectKind, stmt: &Stmt) {
        let ctx = kind.keyword();
        let Some(name) = self.object_name(stmt, ctx) else {
            return;
        };
        let Some(stmts) = self.expect_block(stmt, 2, ctx) else {
            return;
        };
        let items = self.object_body(kind, stmts);
        let object = Object {
            kind,
            name,
            items,
            span: stmt.span,
            inline: false,
        };
        self.push_object(object);
    }

    pub(super) fn push_object(&mut self, object: Object) {
        match object.kind {
            ObjectKind::Source => self.model.sources.push(object),
            ObjectKind::Destination => self.model.destinations.push(object),
            ObjectKind::Parser => self.model.parsers.push(object),
            ObjectKind::Rewrite => self.model.rewrites.push(object),
            ObjectKind::Filter => {}
        }
    }

    /// The statements of an object's body: driver calls, channels and nested logs.
    pub(super) fn object_body(&mut self, kind: ObjectKind, stmts: &[Stmt]) -> Vec<ObjectItem> {
        let ctx = kind.keyword();
        let mut items = Vec::new();
        for s in stmts {
            match s.nodes.as_slice() {
                [] => {}
                [call @ Node::Call { .. }, ..] => {
                    items.push(ObjectItem::Driver(call.clone()));
                    self.expect_end(s, 1, ctx);
                }
                [Node::Word(w), Node::Block { stmts, span }, ..]
                    if keyword_eq(&w.value, "channel") || keyword_eq(&w.value, "log") =>
                {
                    let path = self.log_path(stmts, w.span.to(*span));
                    items.push(ObjectItem::Channel(path));
                    self.expect_end(s, 2, ctx);
                }
                [other, ..] => {
                    let d = Diagnostic::new(
                        format!("expected a {ctx} driver, found {}", describe_node(other)),
                        other.span(),
                    );
                    self.error(d, ctx);
                }
            }
        }
        items
    }

    fn named_filter(&mut self, stmt: &Stmt) {
        let Some(name) = self.object_name(stmt, "filter") else {
            return;
        };
        let Some(Node::Block { stmts, span }) = stmt.nodes.get(2) else {
            self.expect_block(stmt, 2, "filter");
            return;
        };
        self.expect_end(stmt, 3, "filter");
        if let Some(expr) = self.filter_body(stmts, *span) {
            self.model.filters.push(Filter {
                name,
                expr,
                span: stmt.span,
                inline: false,
            });
        }
    }

    /// A filter body: its statements joined by `and`.
    pub(super) fn filter_body(&mut self, stmts: &[Stmt], block: Span) -> Option<FilterExpr> {
        let mut result: Option<FilterExpr> = None;
        let mut ok = true;
        for s in stmts.iter().filter(|s| !s.nodes.is_empty()) {
            match parse_filter(&s.nodes, stmt_end(s)) {
                Ok(expr) => {
                    ok &= self.check_filter_calls(&expr);
                    result = Some(match result {
                        Some(prev) => FilterExpr::and(vec![prev, expr]),
                        None => expr,
                    });
                }
                Err(d) => {
                    self.error(d, "filter");
                    ok = false;
                }
            }
        }
        if result.is_none() && ok {
            let close = Span {
                start: block.end.saturating_sub(1),
                ..block
            };
            let d = Diagnostic::new("unexpected '}', expecting a filter expression", close);
            self.error(d, "filter");
            return None;
        }
        result.filter(|_| ok)
    }

    /// Checks the shape of `filter(name)` calls; other functions are checked by the catalog.
    pub(super) fn check_filter_calls(&mut self, expr: &FilterExpr) -> bool {
        let mut ok = true;
        for call in expr.calls() {
            if let Node::Call { name, span, .. } = call {
                if keyword_eq(&name.value, "filter") && filter_ref(call).is_none() {
                    let d = Diagnostic::new("filter() takes the name of one filter", *span);
                    self.error(d, "filter");
                    ok = false;
                }
            }
        }
        ok
    }

    fn template(&mut self, stmt: &Stmt, function: bool) {
        let ctx = if function {
            "template-function"
        } else {
            "template"
        };
        let Some(name) = self.object_name(stmt, ctx) else {
            return;
        };
        let (content, escape) = match stmt.nodes.get(2) {
            Some(n @ (Node::Str(..) | Node::Word(_) | Node::Number(_))) => {
                self.expect_end(stmt, 3, ctx);
                (Some(scalar(n)), None)
            }
            Some(Node::Block { stmts, span }) if !function => {
                self.expect_end(stmt, 3, ctx);
                match self.template_block(stmts, *span) {
                    Some(parts) => parts,
                    None => return,
                }
            }
            other => {
                let at = other.map_or(name.span, Node::span);
                let found = other.map_or("nothing".to_string(), describe_node);
                let expected = if function {
                    "a template string"
                } else {
                    "a template string or '{'"
                };
                let d = Diagnostic::new(format!("expected {expected}, found {found}"), at);
                self.error(d, ctx);
                return;
            }
        };
        let template = Template {
            name,
            content,
            escape,
            span: stmt.span,
        };
        if function {
            self.model.template_functions.push(template);
        } else {
            self.model.templates.push(template);
        }
    }

    /// `{ template("..."); template-escape(yes); }`
    fn template_block(
        &mut self,
        stmts: &[Stmt],
        span: Span,
    ) -> Option<(Option<Spanned<String>>, Option<bool>)> {
        #[derive(Deserialize)]
        #[serde(rename_all = "kebab-case", deny_unknown_fields)]
        struct TemplateBlock {
            template: Option<String>,
            template_escape: Option<bool>,
        }
        let nodes: Vec<Node> = stmts.iter().flat_map(|s| s.nodes.iter().cloned()).collect();
        let block: TemplateBlock = match de::from_nodes(&nodes, span) {
            Ok(b) => b,
            Err(d) => {
                self.error(d, "template");
                return None;
            }
        };
        // The text's location: the argument of the last template() call.
        let content = block.template.map(|text| {
            let at = nodes
                .iter()
                .rev()
                .find_map(|n| match n {
                    Node::Call { name, args, .. } if keyword_eq(&name.value, "template") => {
                        args.first().map(Node::span)
                    }
                    _ => None,
                })
                .unwrap_or(span);
            Spanned::new(text, at)
        });
        Some((content, block.template_escape))
    }

    fn top_log(&mut self, stmt: &Stmt) {
        match stmt.nodes.get(1) {
            Some(Node::Block { stmts, span }) => {
                self.expect_end(stmt, 2, "log");
                let full = stmt.nodes.first().map_or(*span, |n| n.span().to(*span));
                let path = self.log_path(stmts, full);
                self.model.log_paths.push(path);
            }
            _ => {
                self.expect_block(stmt, 1, "log");
            }
        }
    }
}

/// A word, string or number as text with its span.
fn scalar(node: &Node) -> Spanned<String> {
    match node {
        Node::Word(w) | Node::Str(w, _) => w.clone(),
        Node::Number(n) => Spanned::new(de::number_text(n.value), n.span),
        other => Spanned::new(String::new(), other.span()),
    }
}

/// Where a statement ends, for "unexpected ';'" errors: the `;` if the statement's span
/// covers it, else the point just after the last node.
pub(super) fn stmt_end(stmt: &Stmt) -> End {
    let last_end = stmt.nodes.last().map_or(stmt.span.end, |n| n.span().end);
    if stmt.span.end > last_end {
        End {
            span: Span {
                start: stmt.span.end - 1,
                ..stmt.span
            },
            token: Some(";"),
        }
    } else {
        End {
            span: Span {
                start: last_end,
                end: last_end,
                ..stmt.span
            },
            token: None,
        }
    }
}
