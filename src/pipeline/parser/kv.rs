//! `kv-parser(value-separator("=") pair-separator(", ") prefix() extract-stray-words-into()
//! template())`, after syslog-ng's `kv-scanner.c`.
//!
//! A key is the run of key characters (letters, digits, `_`, `-`, `.`) right before a value
//! separator (spaces between them are allowed); text between pairs that is not a key is a
//! "stray word". A value is either quoted (`'...'` or `"..."`, with backslash escapes) or runs
//! until the pair separator, or until white space that is followed by the end or by another
//! `key=` (so `msg=hello world user=x` gives `msg` = `hello world`). A quote that is never
//! closed makes the rest of the input the value, and the pairs inside it are read too; stray
//! words are kept as a list value (`junk,"two words"`). The parser never fails.

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::Node;
use crate::config::diagnostic::Diagnostic;
use crate::message::LogMessage;

use super::super::args::option_span;

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = &[
    "prefix",
    "value-separator",
    "pair-separator",
    "extract-stray-words-into",
    "template",
    "allow-pair-separator-in-value",
];

/// `kv-parser()` options.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KvParserOptions {
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub value_separator: Option<String>,
    #[serde(default)]
    pub pair_separator: Option<String>,
    #[serde(default)]
    pub extract_stray_words_into: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub allow_pair_separator_in_value: Option<bool>,
}

/// A key and its value.
pub type Pair = (Vec<u8>, Vec<u8>);

/// A compiled `kv-parser()`.
#[derive(Debug)]
pub struct KvParser {
    prefix: String,
    value_sep: u8,
    pair_sep: Vec<u8>,
    stray: Option<String>,
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

impl KvParser {
    pub fn new(o: &KvParserOptions, call: &Node) -> Result<KvParser, Diagnostic> {
        let value_sep = match o.value_separator.as_deref() {
            None => b'=',
            Some(s) if s.len() == 1 => s.as_bytes()[0],
            Some(_) => {
                return Err(Diagnostic::new(
                    "value-separator() must be a single character",
                    option_span(call, "value-separator"),
                ));
            }
        };
        let pair_sep = o
            .pair_separator
            .clone()
            .unwrap_or_else(|| ", ".into())
            .into_bytes();
        Ok(KvParser {
            prefix: o.prefix.clone().unwrap_or_default(),
            value_sep,
            pair_sep,
            stray: o.extract_stray_words_into.clone(),
        })
    }

    /// The pairs of `input`, and the stray words.
    pub fn scan(&self, input: &[u8]) -> (Vec<Pair>, Vec<u8>) {
        let mut pairs = Vec::new();
        let mut stray: Vec<u8> = Vec::new();
        let mut pos = 0usize;
        loop {
            // The key: before the next separator that has key characters in front of it.
            let mut found = None;
            let mut search = pos;
            while let Some(rel) = memchr::memchr(self.value_sep, &input[search..]) {
                let sep = search + rel;
                let mut end = sep;
                while end > pos && input[end - 1] == b' ' {
                    end -= 1;
                }
                let mut start = end;
                while start > pos && is_key_char(input[start - 1]) {
                    start -= 1;
                }
                if end > start {
                    found = Some((start, end, sep));
                    break;
                }
                search = sep + 1;
            }
            let Some((start, end, sep)) = found else {
                self.add_stray(&mut stray, &input[pos..]);
                break;
            };
            self.add_stray(&mut stray, &input[pos..start]);
            let key = input[start..end].to_vec();
            pos = sep + 1;
            // Leading spaces of the value, unless they end it.
            while pos < input.len()
                && input[pos] == b' '
                && self.delimiter(input, pos, false).is_none()
            {
                pos += 1;
            }
            let (value, next) = self.value(input, pos);
            pairs.push((key, value));
            if next == pos && input.get(pos).is_some_and(|&c| c == b'"' || c == b'\'') {
                // An unterminated quote: the value is the rest of the input, and scanning
                // goes on from the value's start (syslog-ng leaves its position there).
                continue;
            }
            pos = next;
            if pos >= input.len() {
                break;
            }
        }
        (pairs, stray)
    }

    /// A gap between pairs, trimmed of spaces, is one item of the stray-words list.
    fn add_stray(&self, stray: &mut Vec<u8>, gap: &[u8]) {
        let g = gap.trim_ascii();
        if !g.is_empty() {
            super::push_list_item(stray, g);
        }
    }

    /// Where a value ends at `cur`: `Some(position after the delimiter)`.
    fn delimiter(&self, input: &[u8], cur: usize, quoted: bool) -> Option<usize> {
        if !quoted && input.get(cur) == Some(&b' ') {
            let mut p = cur;
            while p < input.len() && input[p] == b' ' {
                p += 1;
            }
            if p >= input.len() || self.key_follows(input, p) {
                return Some(p);
            }
            if input[p..].starts_with(&self.pair_sep) {
                return Some(p + self.pair_sep.len());
            }
            return None;
        }
        if !self.pair_sep.is_empty() && input[cur..].starts_with(&self.pair_sep) {
            return Some(cur + self.pair_sep.len());
        }
        None
    }

    fn key_follows(&self, input: &[u8], cur: usize) -> bool {
        let mut p = cur;
        while p < input.len() && is_key_char(input[p]) {
            p += 1;
        }
        if p == cur {
            return false;
        }
        while p < input.len() && input[p] == b' ' {
            p += 1;
        }
        input.get(p) == Some(&self.value_sep)
    }

    /// Decodes one value from `pos`; returns it and where scanning goes on.
    fn value(&self, input: &[u8], pos: usize) -> (Vec<u8>, usize) {
        if let Some(&q) = input.get(pos).filter(|&&c| c == b'"' || c == b'\'') {
            let mut out = Vec::new();
            let mut p = pos + 1;
            while p < input.len() && input[p] != q {
                if input[p] == b'\\' && p + 1 < input.len() {
                    p += 1;
                    // The C escapes and escaped quotes or backslashes are decoded; any other
                    // escape keeps its backslash (recorded: `\x41` stays `\x41`).
                    match input[p] {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'a' => out.push(7),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'v' => out.push(11),
                        c @ (b'\\' | b'"' | b'\'') => out.push(c),
                        c => {
                            out.push(b'\\');
                            out.push(c);
                        }
                    }
                } else {
                    out.push(input[p]);
                }
                p += 1;
            }
            if p < input.len() {
                let after = p + 1;
                if after >= input.len() {
                    return (out, after);
                }
                if let Some(next) = self.delimiter(input, after, true).or_else(|| {
                    // Spaces after a closing quote separate pairs too.
                    (input[after] == b' ').then(|| {
                        let mut n = after;
                        while n < input.len() && input[n] == b' ' {
                            n += 1;
                        }
                        n
                    })
                }) {
                    return (out, next);
                }
            }
            if p >= input.len() {
                return (input[pos..].to_vec(), pos);
            }
            // Text after the closing quote: the value is read as unquoted text.
        }
        let mut p = pos;
        while p < input.len() {
            if let Some(next) = self.delimiter(input, p, false) {
                return (input[pos..p].to_vec(), next);
            }
            p += 1;
        }
        (input[pos..].to_vec(), input.len())
    }

    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let (pairs, stray) = self.scan(input);
        if pairs.is_empty() && (self.stray.is_none() || stray.is_empty()) {
            return true;
        }
        let m = Arc::make_mut(msg);
        let mut name = self.prefix.clone();
        for (k, v) in pairs {
            name.truncate(self.prefix.len());
            name.push_str(&String::from_utf8_lossy(&k));
            m.set(&name, &v);
        }
        if let Some(s) = &self.stray {
            m.set(s, &stray);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(input: &str, pair: Option<&str>) -> Vec<(String, String)> {
        let p = KvParser {
            prefix: String::new(),
            value_sep: b'=',
            pair_sep: pair.unwrap_or(", ").as_bytes().to_vec(),
            stray: None,
        };
        p.scan(input.as_bytes())
            .0
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn basics() {
        assert_eq!(kv("a=1 b=2", None), pairs(&[("a", "1"), ("b", "2")]));
        assert_eq!(kv("a=1, b=2", None), pairs(&[("a", "1"), ("b", "2")]));
        assert_eq!(
            kv("msg=hello world user=x", None),
            pairs(&[("msg", "hello world"), ("user", "x")])
        );
        assert_eq!(
            kv("a=\"x y\" b='q\\'r'", None),
            pairs(&[("a", "x y"), ("b", "q'r")])
        );
        assert_eq!(kv("a= b=c", None), pairs(&[("a", ""), ("b", "c")]));
        assert_eq!(
            kv("time=2016/02/18 16:00:07; policy=370;", Some(";")),
            pairs(&[("time", "2016/02/18 16:00:07"), ("policy", "370")])
        );
    }
}
