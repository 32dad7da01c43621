//! Filter expressions: `level(info) and not facility(kern)`, `"$PROGRAM" eq "x"`,
//! `(a or b) and filter(f_other)`.
//!
//! syslog-ng's precedence is `not` over `and` over `or`, all left-associative; the statements
//! of a `filter {}` body are joined by `and`. Operands of comparisons are templates (strings,
//! words or numbers), optionally with a type hint (`int("$PID") > 5`). Filter functions are
//! kept as their [`Node::Call`]; their arguments are typed later, by the filter's
//! implementation.
//!
//! Checked against syslog-ng 3.38: there are no `true`/`false` constants (a lone word is
//! the start of a comparison, so `filter f { true; };` is an error there as here); keywords
//! are case-sensitive (`AND` is not `and`); comparisons do not chain; operands may be words,
//! strings or numbers (`foo == 5`); `===`/`!==` exist and compare type and value; the type
//! hints are those of [`TYPE_HINTS`].

use crate::config::ast::{Node, keyword_eq};
use crate::config::diagnostic::Diagnostic;
use crate::config::span::{Span, Spanned};

/// A filter expression.
///
/// `and` and `or` are n-ary (`a and b and c` is one `And` of three operands, evaluated left
/// to right), so that long generated chains do not make deep trees.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterExpr {
    /// Two or more operands, all of which must match.
    And(Vec<FilterExpr>),
    /// Two or more operands, one of which must match.
    Or(Vec<FilterExpr>),
    /// `not expr`; the span covers the `not` keyword and the operand.
    Not { expr: Box<FilterExpr>, span: Span },
    /// A filter function call: `level(info..emerg)`, `program("x" flags(ignore-case))`,
    /// `filter(f_other)`, `rate-limit(...)`. Always a [`Node::Call`].
    Call(Node),
    /// `left op right`.
    Compare(Compare),
}

/// A comparison of two templates.
#[derive(Debug, Clone, PartialEq)]
pub struct Compare {
    pub left: Operand,
    pub op: Spanned<CompareOp>,
    pub right: Operand,
}

/// One side of a comparison: a template, and the type hint it was cast with, if any
/// (`int("$PID")`).
#[derive(Debug, Clone, PartialEq)]
pub struct Operand {
    pub template: Spanned<String>,
    pub type_hint: Option<Spanned<String>>,
    /// Written as a bare number token (`< 10`, not `< "10"`): syslog-ng treats such an
    /// operand as explicitly typed, which switches the comparison to type-aware.
    pub number_literal: bool,
}

/// Comparison operators. In 3.x configurations the symbolic ones compare numerically and the
/// word ones as strings; `===`/`!==` compare type and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    NumEq,
    NumNe,
    NumLt,
    NumLe,
    NumGt,
    NumGe,
    StrEq,
    StrNe,
    StrLt,
    StrLe,
    StrGt,
    StrGe,
    TypeEq,
    TypeNe,
}

impl CompareOp {
    const ALL: [(&'static str, CompareOp); 14] = [
        ("==", CompareOp::NumEq),
        ("!=", CompareOp::NumNe),
        ("<", CompareOp::NumLt),
        ("<=", CompareOp::NumLe),
        (">", CompareOp::NumGt),
        (">=", CompareOp::NumGe),
        ("eq", CompareOp::StrEq),
        ("ne", CompareOp::StrNe),
        ("lt", CompareOp::StrLt),
        ("le", CompareOp::StrLe),
        ("gt", CompareOp::StrGt),
        ("ge", CompareOp::StrGe),
        ("===", CompareOp::TypeEq),
        ("!==", CompareOp::TypeNe),
    ];

    /// The operator a token spells, if any (case-sensitive, as in syslog-ng).
    pub fn from_token(token: &str) -> Option<CompareOp> {
        Self::ALL
            .iter()
            .find(|(t, _)| *t == token)
            .map(|(_, op)| *op)
    }

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(t, _)| t)
    }

    /// Whether the operator compares numerically (in 3.x semantics).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            CompareOp::NumEq
                | CompareOp::NumNe
                | CompareOp::NumLt
                | CompareOp::NumLe
                | CompareOp::NumGt
                | CompareOp::NumGe
        )
    }
}

/// The type hints syslog-ng 3.38 accepts on comparison operands.
pub const TYPE_HINTS: [&str; 12] = [
    "string", "literal", "boolean", "int", "int32", "int64", "float", "double", "datetime", "list",
    "json", "null",
];

/// How many `not`s may follow each other (any real configuration has at most two).
const MAX_NOT_NESTING: usize = 64;

impl FilterExpr {
    /// `a and b and ...`, flattening nested `And`s; a single operand stands for itself.
    pub fn and(operands: Vec<FilterExpr>) -> FilterExpr {
        Self::nary(operands, true)
    }

    /// `a or b or ...`, flattening nested `Or`s; a single operand stands for itself.
    pub fn or(operands: Vec<FilterExpr>) -> FilterExpr {
        Self::nary(operands, false)
    }

    fn nary(operands: Vec<FilterExpr>, is_and: bool) -> FilterExpr {
        let mut flat = Vec::with_capacity(operands.len());
        for e in operands {
            match e {
                FilterExpr::And(list) if is_and => flat.extend(list),
                FilterExpr::Or(list) if !is_and => flat.extend(list),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            if let Some(only) = flat.pop() {
                return only;
            }
        }
        if is_and {
            FilterExpr::And(flat)
        } else {
            FilterExpr::Or(flat)
        }
    }

    pub fn span(&self) -> Span {
        match self {
            FilterExpr::And(list) | FilterExpr::Or(list) => match (list.first(), list.last()) {
                (Some(a), Some(b)) => a.span().to(b.span()),
                _ => Span::default(),
            },
            FilterExpr::Not { span, .. } => *span,
            FilterExpr::Call(node) => node.span(),
            FilterExpr::Compare(c) => {
                let left = c
                    .left
                    .type_hint
                    .as_ref()
                    .map_or(c.left.template.span, |h| h.span);
                left.to(c.right.template.span)
            }
        }
    }

    /// Every filter function call in the expression, left to right.
    pub fn calls(&self) -> Vec<&Node> {
        let mut out = Vec::new();
        self.collect_calls(&mut out);
        out
    }

    fn collect_calls<'a>(&'a self, out: &mut Vec<&'a Node>) {
        match self {
            FilterExpr::And(list) | FilterExpr::Or(list) => {
                for e in list {
                    e.collect_calls(out);
                }
            }
            FilterExpr::Not { expr, .. } => expr.collect_calls(out),
            FilterExpr::Call(node) => out.push(node),
            FilterExpr::Compare(_) => {}
        }
    }

    /// The `filter(name)` references in the expression, each with the span of its call.
    pub fn filter_refs(&self) -> Vec<FilterRef> {
        self.calls().into_iter().filter_map(filter_ref).collect()
    }
}

/// A `filter(name)` call inside an expression.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterRef {
    pub name: Spanned<String>,
    /// The whole `filter(...)` call, where syslog-ng reports an unresolved reference.
    pub span: Span,
}

/// The reference a `filter(name)` call makes, if `call` is one with a single name argument.
pub fn filter_ref(call: &Node) -> Option<FilterRef> {
    let Node::Call {
        name, args, span, ..
    } = call
    else {
        return None;
    };
    if !keyword_eq(&name.value, "filter") {
        return None;
    }
    match args.as_slice() {
        [Node::Word(n)] | [Node::Str(n, _)] => Some(FilterRef {
            name: n.clone(),
            span: *span,
        }),
        _ => None,
    }
}

/// What follows the last node of an expression: the `;` of its statement or the `)` of its
/// group, for "unexpected ';'" errors like syslog-ng's.
#[derive(Debug, Clone, Copy)]
pub struct End {
    pub span: Span,
    /// The token at `span`, if known.
    pub token: Option<&'static str>,
}

impl End {
    fn describe(&self) -> String {
        match self.token {
            Some(t) => format!("'{t}'"),
            None => "end of statement".to_string(),
        }
    }
}

/// Parses a whole filter expression from `nodes`; everything must be consumed.
pub fn parse_filter(nodes: &[Node], end: End) -> Result<FilterExpr, Diagnostic> {
    let mut p = Parser { nodes, pos: 0, end };
    let expr = p.or()?;
    if let Some(extra) = p.peek() {
        return Err(Diagnostic::new(
            format!(
                "unexpected {}, expecting `and`, `or` or the end of the expression",
                token(extra)
            ),
            extra.span(),
        ));
    }
    Ok(expr)
}

struct Parser<'a> {
    nodes: &'a [Node],
    pos: usize,
    end: End,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Node> {
        self.nodes.get(self.pos)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        self.peek()
            .and_then(Node::as_word)
            .is_some_and(|w| keyword_eq(w, kw))
    }

    /// An error for a missing operand: at the next token, or at the end.
    fn expected_expr(&self, after: Option<&Node>) -> Diagnostic {
        let after = after.map_or(String::new(), |n| format!(" after {}", token(n)));
        match self.peek() {
            Some(n) => Diagnostic::new(
                format!(
                    "unexpected {}, expecting a filter expression{after}",
                    token(n)
                ),
                n.span(),
            ),
            None => Diagnostic::new(
                format!(
                    "unexpected {}, expecting a filter expression{after}",
                    self.end.describe()
                ),
                self.end.span,
            ),
        }
    }

    fn or(&mut self) -> Result<FilterExpr, Diagnostic> {
        let mut operands = vec![self.and()?];
        while self.peek_keyword("or") {
            let op = self.peek();
            self.pos += 1;
            operands.push(self.and_after(op)?);
        }
        Ok(FilterExpr::or(operands))
    }

    fn and(&mut self) -> Result<FilterExpr, Diagnostic> {
        self.and_after(None)
    }

    fn and_after(&mut self, op: Option<&Node>) -> Result<FilterExpr, Diagnostic> {
        let mut operands = vec![self.not_after(op)?];
        while self.peek_keyword("and") {
            let op = self.peek();
            self.pos += 1;
            operands.push(self.not_after(op)?);
        }
        Ok(FilterExpr::and(operands))
    }

    /// `not not ... primary`, read without recursion; the nesting is bounded so that no
    /// consumer of the tree can run out of stack on it.
    fn not_after(&mut self, op: Option<&Node>) -> Result<FilterExpr, Diagnostic> {
        let mut nots: Vec<&Node> = Vec::new();
        while self.peek_keyword("not") {
            if let Some(not) = self.peek() {
                if nots.len() >= MAX_NOT_NESTING {
                    return Err(Diagnostic::new(
                        format!("more than {MAX_NOT_NESTING} `not`s in a row"),
                        not.span(),
                    ));
                }
                nots.push(not);
            }
            self.pos += 1;
        }
        let mut expr = self.primary(nots.last().copied().or(op))?;
        for not in nots.into_iter().rev() {
            let span = not.span().to(expr.span());
            expr = FilterExpr::Not {
                expr: Box::new(expr),
                span,
            };
        }
        Ok(expr)
    }

    fn primary(&mut self, op: Option<&Node>) -> Result<FilterExpr, Diagnostic> {
        let Some(node) = self.peek() else {
            return Err(self.expected_expr(op));
        };
        match node {
            Node::Word(w) if ["and", "or"].iter().any(|k| keyword_eq(&w.value, k)) => {
                Err(self.expected_expr(op))
            }
            Node::Group { items, span } => {
                self.pos += 1;
                let close = Span {
                    start: span.end.saturating_sub(1),
                    ..*span
                };
                parse_filter(
                    items,
                    End {
                        span: close,
                        token: Some(")"),
                    },
                )
            }
            Node::Call { .. } => {
                self.pos += 1;
                if self.peek_compare_op().is_some() {
                    let left = hinted_operand(node)?;
                    return self.comparison(left);
                }
                Ok(FilterExpr::Call(node.clone()))
            }
            Node::Word(_) | Node::Str(..) | Node::Number(_) => {
                self.pos += 1;
                let left = plain_operand(node).ok_or_else(|| self.expected_expr(op))?;
                if self.peek_compare_op().is_none() {
                    let (span, what) = match self.peek() {
                        Some(n) => (n.span(), token(n)),
                        None => (self.end.span, self.end.describe()),
                    };
                    return Err(Diagnostic::new(
                        format!(
                            "unexpected {what}, expecting a comparison operator after {}",
                            token(node)
                        ),
                        span,
                    ));
                }
                self.comparison(left)
            }
            _ => Err(self.expected_expr(op)),
        }
    }

    fn peek_compare_op(&self) -> Option<Spanned<CompareOp>> {
        let node = self.peek()?;
        let (text, span) = match node {
            Node::Op(o) | Node::Word(o) => (o.value.as_str(), o.span),
            _ => return None,
        };
        CompareOp::from_token(text).map(|op| Spanned::new(op, span))
    }

    fn comparison(&mut self, left: Operand) -> Result<FilterExpr, Diagnostic> {
        let Some(op) = self.peek_compare_op() else {
            return Err(self.expected_expr(None));
        };
        let op_node = self.peek();
        self.pos += 1;
        let right = match self.peek() {
            Some(n @ (Node::Word(_) | Node::Str(..) | Node::Number(_))) => plain_operand(n),
            Some(n @ Node::Call { .. }) => Some(hinted_operand(n)?),
            _ => None,
        };
        let Some(right) = right else {
            let (span, what) = match self.peek() {
                Some(n) => (n.span(), token(n)),
                None => (self.end.span, self.end.describe()),
            };
            let after = op_node.map_or(String::new(), |n| format!(" after {}", token(n)));
            return Err(Diagnostic::new(
                format!("unexpected {what}, expecting a value to compare{after}"),
                span,
            ));
        };
        self.pos += 1;
        if let Some(next) = self.peek_compare_op() {
            return Err(Diagnostic::new(
                "comparisons cannot be chained; use `and` to combine them",
                next.span,
            ));
        }
        Ok(FilterExpr::Compare(Compare { left, op, right }))
    }
}

/// A template operand written as a word, string or number.
fn plain_operand(node: &Node) -> Option<Operand> {
    let template = match node {
        Node::Word(w) => w.clone(),
        Node::Str(s, _) => s.clone(),
        Node::Number(n) => Spanned::new(crate::config::de::number_text(n.value), n.span),
        _ => return None,
    };
    Some(Operand {
        template,
        type_hint: None,
        number_literal: matches!(node, Node::Number(_)),
    })
}

/// A type-hinted operand: `int("$PID")`.
fn hinted_operand(call: &Node) -> Result<Operand, Diagnostic> {
    let Node::Call { name, args, .. } = call else {
        return Err(Diagnostic::new("expected a value to compare", call.span()));
    };
    if !TYPE_HINTS.iter().any(|h| *h == name.value) {
        let mut d = Diagnostic::new(format!("unknown type hint `{}`", name.value), name.span);
        if let Some(best) = crate::config::diagnostic::did_you_mean(&name.value, TYPE_HINTS) {
            d = d.with_note(format!("did you mean `{best}`?"));
        } else {
            d = d.with_note(format!("valid type hints: {}", TYPE_HINTS.join(", ")));
        }
        return Err(d);
    }
    match args.as_slice() {
        [one] => match plain_operand(one) {
            Some(mut operand) => {
                operand.type_hint = Some(name.clone());
                Ok(operand)
            }
            None => Err(Diagnostic::new(
                format!("expected a template inside `{}()`", name.value),
                one.span(),
            )),
        },
        _ => Err(Diagnostic::new(
            format!("`{}()` takes exactly one template", name.value),
            call.span(),
        )),
    }
}

/// How a token is named in messages: syslog-ng quotes punctuation as `';'`.
fn token(node: &Node) -> String {
    match node {
        Node::Op(o) => format!("'{}'", o.value),
        other => crate::config::de::describe_node(other),
    }
}
