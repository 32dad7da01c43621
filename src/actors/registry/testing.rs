//! Test-only: read a driver call written as configuration text into a [`Node`] with real
//! spans, and run it through the option structs. A small reader of the generic syntax (words,
//! both string forms, numbers with syslog-ng's octal and hex forms, calls, groups, `=>`), so
//! that driver tests do not depend on the full parser and preprocessor.

use serde::de::DeserializeOwned;

use crate::actors::sources::common::DriverOptions;
use crate::config::ast::{Node, Number, Quote};
use crate::config::de;
use crate::config::diagnostic::Diagnostic;
use crate::config::span::{FileId, Span, Spanned};

struct Reader<'t> {
    text: &'t str,
    pos: usize,
}

impl Reader<'_> {
    fn span(&self, start: usize) -> Span {
        Span::new(FileId(0), start, self.pos)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.pos += c.len_utf8();
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    self.pos += c.len_utf8();
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// Nodes up to the closing `)` (consumed) or the end of the text.
    fn items(&mut self) -> Vec<Node> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => return items,
                Some(')') => {
                    self.pos += 1;
                    return items;
                }
                Some(_) => items.push(self.node()),
            }
        }
    }

    fn node(&mut self) -> Node {
        let start = self.pos;
        let first = match self.peek() {
            Some('"') => self.string('"'),
            Some('\'') => self.string('\''),
            Some('(') => {
                self.pos += 1;
                let items = self.items();
                Node::Group {
                    items,
                    span: self.span(start),
                }
            }
            _ => self.word_or_number(),
        };
        // `key => value`
        let save = self.pos;
        self.skip_blank();
        if self.text[self.pos..].starts_with("=>") {
            self.pos += 2;
            self.skip_blank();
            let value = self.node();
            let key = match &first {
                Node::Word(s) | Node::Str(s, _) => s.clone(),
                other => Spanned::new(String::new(), other.span()),
            };
            return Node::Arrow {
                key,
                value: Box::new(value),
                span: self.span(start),
            };
        }
        self.pos = save;
        first
    }

    fn string(&mut self, quote: char) -> Node {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            if c == quote {
                break;
            }
            if c == '\\' && quote == '"' {
                if let Some(e) = self.peek() {
                    self.pos += e.len_utf8();
                    value.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                }
                continue;
            }
            value.push(c);
        }
        let kind = if quote == '"' {
            Quote::Double
        } else {
            Quote::Single
        };
        Node::Str(Spanned::new(value, self.span(start)), kind)
    }

    fn word_or_number(&mut self) -> Node {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, '(' | ')' | ',' | '"' | '\'') {
                break;
            }
            self.pos += c.len_utf8();
        }
        if self.pos == start {
            // A stray character: take it as a word so the reader always advances.
            self.pos += self.peek().map_or(1, char::len_utf8);
        }
        let text = &self.text[start..self.pos];
        let span = self.span(start);
        if self.peek() == Some('(') {
            let name = Spanned::new(text.to_string(), span);
            self.pos += 1;
            let raw_start = self.pos;
            let args = self.items();
            let raw_end = self.pos.saturating_sub(1).max(raw_start);
            return Node::Call {
                name,
                args,
                raw: self.text[raw_start..raw_end].to_string(),
                span: self.span(start),
            };
        }
        match number(text) {
            Some(n) => Node::Number(Spanned::new(n, span)),
            None => Node::Word(Spanned::new(text.to_string(), span)),
        }
    }
}

/// A number as syslog-ng's lexer reads it: `0x` hex, leading-zero octal, decimal, float.
fn number(text: &str) -> Option<Number> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(digits, 8).ok()
    } else {
        digits.parse::<i64>().ok()
    };
    match value {
        Some(v) => Some(Number::Int(if neg { -v } else { v })),
        None => text.parse::<f64>().ok().map(Number::Float),
    }
}

/// Reads `text` as one node (a driver call).
pub(crate) fn call(text: &str) -> Node {
    let mut r = Reader { text, pos: 0 };
    r.skip_blank();
    r.node()
}

/// Reads `text` as a list of nodes (the contents of an `options {}` statement).
pub(crate) fn nodes(text: &str) -> Vec<Node> {
    let mut r = Reader { text, pos: 0 };
    r.items()
}

/// Reads a driver's options; panics with the diagnostic if they do not check.
pub(crate) fn check<T: DriverOptions>(text: &str) -> T {
    match T::from_call(&call(text)) {
        Ok(v) => v,
        Err(d) => panic!("{text}: {} {:?}", d.message, d.notes),
    }
}

/// The diagnostic a driver's options produce; panics if they check.
pub(crate) fn err<T: DriverOptions + std::fmt::Debug>(text: &str) -> Diagnostic {
    match T::from_call(&call(text)) {
        Ok(v) => panic!("{text}: expected an error, got {v:?}"),
        Err(d) => d,
    }
}

/// Like [`check`] for a plain serde struct read with `de::from_call`.
pub(crate) fn check_de<T: DeserializeOwned>(text: &str) -> T {
    match de::from_call::<T>(&call(text)) {
        Ok(v) => v,
        Err(d) => panic!("{text}: {} {:?}", d.message, d.notes),
    }
}

/// Like [`err`] for a plain serde struct read with `de::from_call`.
pub(crate) fn err_de<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> Diagnostic {
    match de::from_call::<T>(&call(text)) {
        Ok(v) => panic!("{text}: expected an error, got {v:?}"),
        Err(d) => d,
    }
}
