//! Writing a tree back as syslog-ng configuration text (`--preprocess-into`): includes,
//! `@define`s, backticks and blocks are already resolved, so the output is one
//! self-contained file that syslog-ng and sluice both read back to the same tree.
//!
//! What makes the text read back identically: strings are re-escaped for their quotes,
//! every backtick is written as ``` `` ``` (the escape for a literal backtick, as the
//! output is substituted again when read), floats always have a fractional part, and
//! `python {}` code is written verbatim (backticks doubled on the first line only, the one
//! line of it that is substituted when read).

use std::fmt::Write as _;

use super::ast::{Ast, Node, Number, PythonBlock, Quote, Stmt};
use super::lexer::{Lexed, TokKind, is_plain_word, lex};
use super::span::{Span, Spanned};

/// The configuration as syslog-ng text, `@version:` first.
pub fn print(ast: &Ast) -> String {
    let mut out = String::new();
    if let Some(v) = &ast.version {
        let _ = writeln!(out, "@version: {}", pragma_value(&v.value));
    }
    for m in &ast.modules {
        let keyword = if m.required { "requires" } else { "module" };
        let _ = write!(out, "@{keyword} {}", pragma_value(&m.name.value));
        for (key, value) in &m.options {
            let _ = write!(out, " {key}({})", pragma_value(value));
        }
        if let Some(msg) = &m.message {
            let _ = write!(out, " {}", pragma_value(msg));
        }
        out.push('\n');
    }
    for py in &ast.python_blocks {
        out.push_str("\npython {");
        let (first, rest) = py
            .code
            .split_at(py.code.find('\n').unwrap_or(py.code.len()));
        out.push_str(&first.replace('`', "``"));
        out.push_str(rest);
        out.push_str("};\n");
    }
    for stmt in &ast.stmts {
        out.push('\n');
        print_stmt(&mut out, stmt, 0);
    }
    out
}

/// A pragma argument: bare if it reads back as itself, else a string.
fn pragma_value(value: &str) -> String {
    let as_number = matches!(lex(value, false, false), Lexed::Token(TokKind::Int(_) | TokKind::Float(_), n) if n == value.len());
    if is_plain_word(value) || as_number {
        value.replace('`', "``")
    } else {
        double_quoted(value)
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

/// Statements as text (a block's body), in the same form as [`print`].
pub fn print_stmts(stmts: &[Stmt]) -> String {
    let mut out = String::new();
    for s in stmts {
        print_stmt(&mut out, s, 0);
    }
    out
}

fn print_stmt(out: &mut String, stmt: &Stmt, level: usize) {
    indent(out, level);
    print_nodes(out, &stmt.nodes, level);
    out.push_str(";\n");
}

fn print_nodes(out: &mut String, nodes: &[Node], level: usize) {
    for (i, node) in nodes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_node(out, node, level);
    }
}

fn print_node(out: &mut String, node: &Node, level: usize) {
    match node {
        Node::Word(w) => out.push_str(&w.value.replace('`', "``")),
        Node::Str(s, quote) => out.push_str(&quoted(&s.value, *quote)),
        Node::Number(n) => out.push_str(&number(n.value)),
        Node::Op(o) => out.push_str(&o.value),
        Node::Call { name, args, .. } => {
            out.push_str(&name.value.replace('`', "``"));
            out.push('(');
            print_nodes(out, args, level);
            out.push(')');
        }
        Node::Group { items, .. } => {
            out.push('(');
            print_nodes(out, items, level);
            out.push(')');
        }
        Node::Block { stmts, .. } if stmts.is_empty() => out.push_str("{ }"),
        Node::Block { stmts, .. } => {
            out.push_str("{\n");
            for s in stmts {
                print_stmt(out, s, level + 1);
            }
            indent(out, level);
            out.push('}');
        }
        Node::Arrow { key, value, .. } => {
            if is_plain_word(&key.value) {
                out.push_str(&key.value.replace('`', "``"));
            } else {
                out.push_str(&double_quoted(&key.value));
            }
            out.push_str(" => ");
            print_node(out, value, level);
        }
    }
}

fn number(n: Number) -> String {
    match n {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => {
            // Display never uses an exponent, which the lexer would read as a word.
            let s = f.to_string();
            if s.contains('.') { s } else { format!("{s}.0") }
        }
    }
}

fn quoted(value: &str, quote: Quote) -> String {
    if quote == Quote::Single && raw_ok(value) {
        format!("'{}'", value.replace('`', "``"))
    } else {
        double_quoted(value)
    }
}

/// Whether `'value'` reads back as `value`. A raw string cannot hold an apostrophe or a
/// lone CR, and a backslash before a line break is a continuation where a scanner match
/// starts (at the start, or after a line break). And on its continuation lines, backtick
/// substitution (line by line) no longer knows it is inside '...', and may take a `\`
/// before a backtick for an escape inside "...".
fn raw_ok(value: &str) -> bool {
    if value.contains(['\'', '\r']) || value.starts_with("\\\n") || value.contains("\n\\\n") {
        return false;
    }
    !(value.contains('\n') && value.contains("\\`"))
}

fn double_quoted(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '`' => s.push_str("``"),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

/// The tree with every span reset and every call's `raw` text cleared, to compare two
/// trees by syntax alone (`raw` is verbatim source text, layout and comments included, so
/// it cannot survive reformatting).
pub fn strip_spans(ast: &Ast) -> Ast {
    Ast {
        version: ast.version.as_ref().map(strip),
        stmts: ast.stmts.iter().map(strip_stmt).collect(),
        python_blocks: ast
            .python_blocks
            .iter()
            .map(|p| PythonBlock {
                code: p.code.clone(),
                span: Span::default(),
            })
            .collect(),
        modules: ast
            .modules
            .iter()
            .map(|m| super::ast::ModulePragma {
                name: strip(&m.name),
                required: m.required,
                options: m.options.clone(),
                message: m.message.clone(),
            })
            .collect(),
    }
}

fn strip<T: Clone>(s: &Spanned<T>) -> Spanned<T> {
    Spanned::new(s.value.clone(), Span::default())
}

fn strip_stmt(stmt: &Stmt) -> Stmt {
    Stmt {
        nodes: stmt.nodes.iter().map(strip_node).collect(),
        span: Span::default(),
    }
}

fn strip_node(node: &Node) -> Node {
    let span = Span::default();
    match node {
        Node::Word(w) => Node::Word(strip(w)),
        Node::Str(s, q) => Node::Str(strip(s), *q),
        Node::Number(n) => Node::Number(strip(n)),
        Node::Op(o) => Node::Op(strip(o)),
        Node::Call { name, args, .. } => Node::Call {
            name: strip(name),
            args: args.iter().map(strip_node).collect(),
            raw: String::new(),
            span,
        },
        Node::Group { items, .. } => Node::Group {
            items: items.iter().map(strip_node).collect(),
            span,
        },
        Node::Block { stmts, .. } => Node::Block {
            stmts: stmts.iter().map(strip_stmt).collect(),
            span,
        },
        Node::Arrow { key, value, .. } => Node::Arrow {
            key: strip(key),
            value: Box::new(strip_node(value)),
            span,
        },
    }
}

/// Whether two trees have the same syntax, ignoring spans and raw call text.
pub fn same_syntax(a: &Ast, b: &Ast) -> bool {
    strip_spans(a) == strip_spans(b)
}
