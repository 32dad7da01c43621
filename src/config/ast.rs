//! The generic syntax tree of a syslog-ng configuration, after preprocessing (includes,
//! `@define`, backticks and blocks are already resolved).
//!
//! syslog-ng's grammar is, at the level of syntax, a tree of statements made of words,
//! literals, calls `name(...)` and braced blocks `{ ...; }`. sluice parses every config into
//! this one shape, and gives it meaning in a second step (`config::model`): a driver's options
//! are read from a [`Node::Call`]'s arguments by a serde Deserializer, a filter expression is
//! read from a statement's nodes. Keeping the syntax generic is what lets sluice parse configs
//! for drivers it does not know yet, and report them by name.

use super::span::{Span, Spanned};

/// A number as written: integers stay exact, anything with a dot or exponent is a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// How a string literal was quoted: `"..."` (escapes resolved) or `'...'` (raw).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    Double,
    Single,
}

/// One element of a statement or of a call's argument list.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A bare word: a keyword, a name, `yes`/`no`, `and`/`or`/`not`, `info`, `s_local`...
    /// Kept as written; compare keywords with [`keyword_eq`].
    Word(Spanned<String>),
    /// A quoted string, escapes already resolved. Adjacent strings are separate nodes.
    Str(Spanned<String>, Quote),
    /// An integer or float literal.
    Number(Spanned<Number>),
    /// `name(args...)`. `raw` is the argument text exactly as written between the
    /// parentheses (after backtick substitution), which block arguments need.
    Call {
        name: Spanned<String>,
        args: Vec<Node>,
        raw: String,
        span: Span,
    },
    /// A parenthesised group without a name, e.g. `(level(info) or level(debug))`.
    Group { items: Vec<Node>, span: Span },
    /// `{ stmt; stmt; }`, e.g. the body of `source s { ... }` or `log { ... }`.
    Block { stmts: Vec<Stmt>, span: Span },
    /// `key => value` inside an argument list.
    Arrow {
        key: Spanned<String>,
        value: Box<Node>,
        span: Span,
    },
    /// An operator token: `==`, `!=`, `<`, `<=`, `>`, `>=`, `..`, `=`, `:`, `,` is never one
    /// (commas are whitespace, as in syslog-ng).
    Op(Spanned<String>),
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Word(s) => s.span,
            Node::Str(s, _) => s.span,
            Node::Number(n) => n.span,
            Node::Op(s) => s.span,
            Node::Call { span, .. }
            | Node::Group { span, .. }
            | Node::Block { span, .. }
            | Node::Arrow { span, .. } => *span,
        }
    }

    /// The word, if this node is a bare word.
    pub fn as_word(&self) -> Option<&str> {
        match self {
            Node::Word(w) => Some(&w.value),
            _ => None,
        }
    }
}

/// A statement: the nodes up to a `;`. `source s { ... }`, `file("x")`, `level(info) and
/// program(x)`, `flags(final)` are each one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub nodes: Vec<Node>,
    pub span: Span,
}

/// A `python { ... };` block: code kept verbatim, to be executed by the Python runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonBlock {
    pub code: String,
    pub span: Span,
}

/// A `@module name key=value` or `@requires name` pragma. Accepted and recorded; sluice has
/// its drivers built in.
#[derive(Debug, Clone, PartialEq)]
pub struct ModulePragma {
    pub name: Spanned<String>,
    pub required: bool,
    /// The module's `key(value)` options as written (values with backticks substituted),
    /// e.g. confgen's `context(destination) name(x) exec("...")`; kept so that the
    /// preprocessed output still loads in syslog-ng.
    pub options: Vec<(String, String)>,
    /// `@requires name "message"`: what syslog-ng says when the module is missing (the
    /// SCL's "install syslog-ng-mod-http").
    pub message: Option<String>,
}

/// A whole configuration after preprocessing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ast {
    /// The `@version:` the config declared, as written ("3.38", "4.0", "current").
    pub version: Option<Spanned<String>>,
    /// Top-level statements in order, blocks already expanded.
    pub stmts: Vec<Stmt>,
    pub python_blocks: Vec<PythonBlock>,
    pub modules: Vec<ModulePragma>,
}

/// syslog-ng keyword comparison: case-sensitive, but `-` and `_` are the same character.
pub fn keyword_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || (matches!(x, b'-' | b'_') && matches!(y, b'-' | b'_')))
}

/// The canonical spelling of a keyword: `_` replaced by `-` (syslog-ng's documented form).
pub fn normalize_keyword(s: &str) -> String {
    s.replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_and_underscores_are_the_same() {
        assert!(keyword_eq("follow-freq", "follow_freq"));
        assert!(!keyword_eq("follow-freq", "follow-fre"));
        assert!(!keyword_eq("File", "file"));
        assert_eq!(normalize_keyword("log_fifo_size"), "log-fifo-size");
    }
}
