//! Test-only: a tiny reader for the generic syntax, so that unit tests of `de`, `model` and
//! `check` can be written as configuration text with real spans (and render diagnostics)
//! without depending on the real parser. It knows words, the two string forms, numbers,
//! calls, groups, blocks, `=>` and the comparison operators; nothing of the preprocessor.

use crate::config::ast::{Ast, Node, Number, PythonBlock, Quote, Stmt};
use crate::config::span::{FileId, SourceMap, Span, Spanned};

pub(crate) struct Reader<'t> {
    text: &'t str,
    pos: usize,
    file: FileId,
}

#[allow(dead_code)] // used by the model tests
/// Parses `text` as top-level statements; `@version: x` on the first line is recorded.
pub(crate) fn ast(text: &str) -> (SourceMap, Ast) {
    let mut map = SourceMap::new();
    let file = map.add_file("test.conf", text.to_string());
    let mut r = Reader { text, pos: 0, file };
    let mut ast = Ast::default();
    if let Some(rest) = text.strip_prefix("@version:") {
        let line = rest.lines().next().unwrap_or("");
        let start = "@version:".len() + (line.len() - line.trim_start().len());
        let v = line.trim();
        ast.version = Some(Spanned::new(
            v.to_string(),
            Span::new(file, start, start + v.len()),
        ));
        r.pos = "@version:".len() + line.len();
    }
    let mut stmts = r.stmts(None);
    // `python { ... };` would be captured by the preprocessor; mimic it crudely.
    stmts.retain(|s| {
        if s.nodes.first().and_then(Node::as_word) == Some("python") {
            ast.python_blocks.push(PythonBlock {
                code: String::new(),
                span: s.span,
            });
            false
        } else {
            true
        }
    });
    ast.stmts = stmts;
    (map, ast)
}

/// Parses `text` as one argument list's contents (what is inside a call's parentheses),
/// returning the nodes and the source map.
pub(crate) fn nodes(text: &str) -> (SourceMap, Vec<Node>) {
    let mut map = SourceMap::new();
    let file = map.add_file("test.conf", text.to_string());
    let mut r = Reader { text, pos: 0, file };
    let nodes = r.items(None);
    (map, nodes)
}

/// Parses `text` as a single node (typically a call).
pub(crate) fn node(text: &str) -> (SourceMap, Node) {
    let (map, mut nodes) = nodes(text);
    assert_eq!(nodes.len(), 1, "expected one node in {text:?}");
    (map, nodes.remove(0))
}

impl Reader<'_> {
    fn span(&self, start: usize) -> Span {
        Span::new(self.file, start, self.pos)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.pos += c.len_utf8();
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    if c == '\n' {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
            } else {
                break;
            }
        }
    }

    /// Statements up to `close` (or the end): nodes separated by `;`.
    fn stmts(&mut self, close: Option<char>) -> Vec<Stmt> {
        let mut stmts = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => break,
                Some(c) if Some(c) == close => break,
                Some(';') => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let start = self.pos;
            let nodes = self.items(close);
            let end = self.pos;
            if self.peek() == Some(';') {
                self.pos += 1;
            }
            if !nodes.is_empty() {
                stmts.push(Stmt {
                    nodes,
                    span: Span::new(self.file, start, end),
                });
            }
        }
        stmts
    }

    /// Nodes up to `;`, `close`, `)` or the end.
    fn items(&mut self, close: Option<char>) -> Vec<Node> {
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(';') | Some(')') => break,
                Some(c) if Some(c) == close => break,
                _ => {}
            }
            match self.item() {
                Some(n) => out.push(n),
                None => break,
            }
        }
        out
    }

    fn item(&mut self) -> Option<Node> {
        let start = self.pos;
        let c = self.peek()?;
        let node = match c {
            '"' | '\'' => {
                let s = self.string(c);
                Node::Str(
                    Spanned::new(s, self.span(start)),
                    if c == '"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    },
                )
            }
            '(' => {
                self.pos += 1;
                let items = self.items(None);
                if self.peek() == Some(')') {
                    self.pos += 1;
                }
                Node::Group {
                    items,
                    span: self.span(start),
                }
            }
            '{' => {
                self.pos += 1;
                let stmts = self.stmts(Some('}'));
                if self.peek() == Some('}') {
                    self.pos += 1;
                }
                Node::Block {
                    stmts,
                    span: self.span(start),
                }
            }
            _ => {
                for op in ["===", "!==", "==", "!=", "<=", ">=", "..", "<", ">"] {
                    if self.text[self.pos..].starts_with(op) {
                        self.pos += op.len();
                        return Some(Node::Op(Spanned::new(op.to_string(), self.span(start))));
                    }
                }
                let word = self.word();
                if word.is_empty() {
                    self.pos += c.len_utf8();
                    return Some(Node::Op(Spanned::new(c.to_string(), self.span(start))));
                }
                let wspan = self.span(start);
                if let Some(n) = number(&word) {
                    Node::Number(Spanned::new(n, wspan))
                } else if self.peek() == Some('(') {
                    self.pos += 1;
                    let raw_start = self.pos;
                    let args = self.items(None);
                    let raw = self.text[raw_start..self.pos].to_string();
                    if self.peek() == Some(')') {
                        self.pos += 1;
                    }
                    Node::Call {
                        name: Spanned::new(word, wspan),
                        args,
                        raw,
                        span: self.span(start),
                    }
                } else {
                    Node::Word(Spanned::new(word, wspan))
                }
            }
        };
        // `key => value`
        let save = self.pos;
        self.skip_ws();
        if self.text[self.pos..].starts_with("=>") {
            if let Node::Word(k) | Node::Str(k, _) = &node {
                let key = k.clone();
                self.pos += 2;
                self.skip_ws();
                let value = self.item()?;
                return Some(Node::Arrow {
                    key,
                    value: Box::new(value),
                    span: self.span(start),
                });
            }
        }
        self.pos = save;
        Some(node)
    }

    fn string(&mut self, quote: char) -> String {
        self.pos += 1;
        let mut out = String::new();
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            if c == quote {
                break;
            }
            if c == '\\' && quote == '"' {
                if let Some(e) = self.peek() {
                    self.pos += e.len_utf8();
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                continue;
            }
            out.push(c);
        }
        out
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let ok = c.is_alphanumeric()
                || "_-$/:*@+".contains(c)
                || (c == '.' && !self.text[self.pos..].starts_with(".."));
            if !ok || self.text[self.pos..].starts_with("=>") {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.text[start..self.pos].to_string()
    }
}

fn number(word: &str) -> Option<Number> {
    let digits = word.strip_prefix('-').unwrap_or(word);
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if let Ok(i) = word.parse::<i64>() {
        return Some(Number::Int(i));
    }
    word.parse::<f64>().ok().map(Number::Float)
}
