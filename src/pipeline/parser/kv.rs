//! `kv-parser(value-separator("=") pair-separator(", ") prefix() extract-stray-words-into()
//! allow-pair-separator-in-value() template())`, after syslog-ng 3.38's `kv-parser.c`,
//! `kv-scanner.c` and the `str-repr` decoder it uses, step by step.
//!
//! A key is the run of key characters (letters, digits, `_`, `-`, `.`) right before a value
//! separator (spaces between them are allowed); text between pairs that is not a key is a
//! "stray word". A value starts after the spaces behind the separator (unless those spaces
//! already end it) and is either quoted (`'...'` or `"..."`: `\b \f \n \r \t \\` and an
//! escaped quote of its own kind are decoded, any other escape keeps its backslash) or runs
//! until a delimiter: the pair separator, or white space followed by the end, by another
//! `key=` or by the pair separator (so `msg=hello world user=x` gives `msg` = `hello world`).
//! A quoted value that is not well formed (text after the closing quote, or no closing quote)
//! is kept as written up to where the decoder stopped — including the delimiter it stopped
//! at (recorded: `a="x y"z k=v` gives `a` = `"x y"z `) — and scanning goes on from the
//! value's start, so the pairs inside it are read too. Stray words are kept as a list value
//! (`junk,"two words"`), set (possibly empty) whenever `extract-stray-words-into()` is given.
//! The input is read up to its first NUL. The parser never fails.
//!
//! `allow-pair-separator-in-value()` is accepted and does nothing, as in 3.38 (its grammar
//! rule has no action). `linux-audit-parser()` is this parser with a value transformation
//! ([`super::linux_audit`]).

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

/// `kv-parser()` (and `linux-audit-parser()`) options.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct KvParserOptions {
    /// Put in front of every key.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Between a key and its value; one character, not a space or a quote. Default: `=`.
    #[serde(default)]
    pub value_separator: Option<String>,
    /// Between pairs. Default: `, `.
    #[serde(default)]
    pub pair_separator: Option<String>,
    /// Where the words that are not part of a pair go, as a list.
    #[serde(default)]
    pub extract_stray_words_into: Option<String>,
    /// What to parse instead of `$MESSAGE`.
    #[serde(default)]
    pub template: Option<String>,
    /// Accepted; 3.38 ignores it.
    #[serde(default)]
    pub allow_pair_separator_in_value: Option<bool>,
}

/// A key, its value and whether the value was quoted (well formed).
#[derive(Debug, PartialEq, Eq)]
pub struct Pair {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub quoted: bool,
}

/// A transformation of a value: `Some(new value)` replaces it (`linux-audit-parser()`'s
/// hex decoding).
pub type Transform = fn(&Pair) -> Option<Vec<u8>>;

/// A compiled `kv-parser()`.
#[derive(Debug)]
pub struct KvParser {
    prefix: String,
    value_sep: u8,
    pair_sep: Vec<u8>,
    stray: Option<String>,
    transform: Option<Transform>,
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// The decoder's states (`str-repr/decode.c`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Initial,
    Quoted,
    Backslash,
    ExpectDelimiter,
    QuoteError,
    Unquoted,
    Success,
    Failure,
}

impl KvParser {
    pub fn new(o: &KvParserOptions, call: &Node) -> Result<KvParser, Diagnostic> {
        let value_sep = match o.value_separator.as_deref() {
            None => b'=',
            Some(s) if s.len() != 1 => {
                return Err(Diagnostic::new(
                    "kv-parser() only supports single-character values for value-separator()",
                    option_span(call, "value-separator"),
                ));
            }
            Some(s) if matches!(s.as_bytes()[0], b' ' | b'\'' | b'"') => {
                return Err(Diagnostic::new(
                    "kv-parser() unsupported character for value-separator()",
                    option_span(call, "value-separator"),
                ));
            }
            Some(s) => s.as_bytes()[0],
        };
        Ok(KvParser {
            prefix: o.prefix.clone().unwrap_or_default(),
            value_sep,
            pair_sep: o
                .pair_separator
                .clone()
                .unwrap_or_else(|| ", ".into())
                .into_bytes(),
            stray: o.extract_stray_words_into.clone(),
            transform: None,
        })
    }

    /// The same parser with a value transformation.
    pub fn with_transform(mut self, t: Transform) -> KvParser {
        self.transform = Some(t);
        self
    }

    /// The pairs of `input`, and the stray words (as a list).
    pub fn scan(&self, input: &[u8]) -> (Vec<Pair>, Vec<u8>) {
        let input = match memchr::memchr(0, input) {
            Some(nul) => &input[..nul],
            None => input,
        };
        let mut pairs = Vec::new();
        let mut stray = Vec::new();
        let mut pos = 0usize;
        while pos < input.len() {
            let Some((key, after)) = self.key(input, pos, &mut stray) else {
                break;
            };
            pos = after;
            // Leading spaces, unless they already end the value.
            while input.get(pos) == Some(&b' ') && self.delimiter(input, pos, false).is_none() {
                pos += 1;
            }
            let mut quoted = matches!(input.get(pos), Some(b'"' | b'\''));
            let (ok, value, end) = self.decode(input, pos, quoted);
            if ok {
                pos = end;
            } else {
                quoted = false;
            }
            let mut pair = Pair { key, value, quoted };
            if let Some(new) = self.transform.and_then(|t| t(&pair)) {
                pair.value = new;
            }
            pairs.push(pair);
        }
        (pairs, stray)
    }

    /// The next key from `pos` and the position after its separator; the text skipped in
    /// front of it is a stray word.
    fn key(&self, input: &[u8], pos: usize, stray: &mut Vec<u8>) -> Option<(Vec<u8>, usize)> {
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
                self.add_stray(stray, &input[pos..start]);
                return Some((input[start..end].to_vec(), sep + 1));
            }
            search = sep + 1;
        }
        self.add_stray(stray, &input[pos..]);
        None
    }

    /// A gap between pairs, trimmed of spaces, is one item of the stray-words list.
    fn add_stray(&self, stray: &mut Vec<u8>, gap: &[u8]) {
        if self.stray.is_none() {
            return;
        }
        let start = gap.iter().position(|&c| c != b' ').unwrap_or(gap.len());
        let end = gap
            .iter()
            .rposition(|&c| c != b' ')
            .map_or(start, |e| e + 1);
        if end > start {
            if !stray.is_empty() {
                stray.push(b',');
            }
            crate::template::list_repr::str_repr_encode(stray, &gap[start..end], b",");
        }
    }

    /// Whether a value ends at `cur`: `Some(where scanning goes on)` (`_match_delimiter`).
    fn delimiter(&self, input: &[u8], cur: usize, quoted: bool) -> Option<usize> {
        let at = |p: usize| input[p..].starts_with(&self.pair_sep);
        if !quoted && input[cur] == b' ' {
            if self.pair_sep.first() == Some(&b' ') && at(cur) {
                return Some(cur + self.pair_sep.len());
            }
            let mut p = cur;
            while p < input.len() && input[p] == b' ' {
                p += 1;
            }
            if p == input.len() || self.key_follows(input, p) {
                return Some(p);
            }
            return at(p).then(|| p + self.pair_sep.len());
        }
        if input[cur] == b' ' {
            return Some(cur + 1);
        }
        at(cur).then(|| cur + self.pair_sep.len())
    }

    fn key_follows(&self, input: &[u8], cur: usize) -> bool {
        let mut p = cur;
        while p < input.len() && is_key_char(input[p]) {
            p += 1;
        }
        let had_key = p != cur;
        while p < input.len() && input[p] == b' ' {
            p += 1;
        }
        had_key && input.get(p) == Some(&self.value_sep)
    }

    /// Decodes one value from `start`: whether it was well formed, the value, and where
    /// the decoder stopped. Only a space or the pair separator's first character is checked
    /// for a delimiter, as the decoder's `delimiter_chars` do.
    fn decode(&self, input: &[u8], start: usize, quoted: bool) -> (bool, Vec<u8>, usize) {
        let mut value = Vec::new();
        let mut state = State::Initial;
        let mut quote = 0u8;
        let mut cur = start;
        let delim = |cur: usize| {
            let c = input[cur];
            (c == b' ' || self.pair_sep.first() == Some(&c))
                .then(|| self.delimiter(input, cur, quoted))
                .flatten()
        };
        while cur < input.len() {
            let c = input[cur];
            let ends = match state {
                State::Initial | State::Unquoted | State::ExpectDelimiter | State::QuoteError => {
                    delim(cur)
                }
                _ => None,
            };
            if let Some(next) = ends {
                state = if state == State::QuoteError {
                    State::Failure
                } else {
                    State::Success
                };
                cur = next;
                break;
            }
            state = match state {
                State::Initial if c == b'"' || c == b'\'' => {
                    quote = c;
                    State::Quoted
                }
                State::Initial | State::Unquoted => {
                    value.push(c);
                    State::Unquoted
                }
                State::Quoted if c == quote => State::ExpectDelimiter,
                State::Quoted if c == b'\\' => State::Backslash,
                State::Quoted => {
                    value.push(c);
                    State::Quoted
                }
                State::Backslash => {
                    match c {
                        b'b' => value.push(8),
                        b'f' => value.push(12),
                        b'n' => value.push(b'\n'),
                        b'r' => value.push(b'\r'),
                        b't' => value.push(b'\t'),
                        b'\\' => value.push(b'\\'),
                        c => {
                            if c != quote {
                                value.push(b'\\');
                            }
                            value.push(c);
                        }
                    }
                    State::Quoted
                }
                State::ExpectDelimiter | State::QuoteError => State::QuoteError,
                s => s,
            };
            cur += 1;
        }
        let ok = matches!(
            state,
            State::Initial | State::ExpectDelimiter | State::Unquoted | State::Success
        );
        if !ok {
            value = input[start..cur].to_vec();
        }
        (ok, value, cur)
    }

    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let (pairs, stray) = self.scan(input);
        if pairs.is_empty() && self.stray.is_none() {
            return true;
        }
        let m = Arc::make_mut(msg);
        let mut name = self.prefix.clone();
        for p in pairs {
            name.truncate(self.prefix.len());
            name.push_str(&String::from_utf8_lossy(&p.key));
            m.set(&name, &p.value);
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

    fn parser(pair: &str, stray: bool) -> KvParser {
        KvParser {
            prefix: String::new(),
            value_sep: b'=',
            pair_sep: pair.as_bytes().to_vec(),
            stray: stray.then(|| "stray".to_string()),
            transform: None,
        }
    }

    fn kv(input: &str, pair: Option<&str>) -> Vec<(String, String)> {
        parser(pair.unwrap_or(", "), false)
            .scan(input.as_bytes())
            .0
            .into_iter()
            .map(|p| {
                (
                    String::from_utf8(p.key).expect("utf-8"),
                    String::from_utf8(p.value).expect("utf-8"),
                )
            })
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

    #[test]
    fn escapes_and_malformed_quotes() {
        // Only the C escapes and the value's own quote are decoded.
        assert_eq!(
            kv(r#"a="\a\'\"\x41\t""#, None),
            pairs(&[("a", "\\a\\'\"\\x41\t")])
        );
        // Junk after the closing quote: kept as written, with the space that ended it.
        assert_eq!(
            kv(r#"a="x y"z k=v"#, None),
            pairs(&[("a", "\"x y\"z "), ("k", "v")])
        );
        // No closing quote: the rest as written, and the pairs inside are read too.
        assert_eq!(
            kv(r#"a="open b=2"#, None),
            pairs(&[("a", "\"open b=2"), ("b", "2")])
        );
    }

    #[test]
    fn stray_words_are_a_list() {
        let (_, stray) = parser(", ", true).scan(b"junk a=1 two words, b=2 x,y");
        assert_eq!(stray, b"junk");
        let (p, stray) = parser(";", true).scan(b"lead in;a=1; mid,dle ; b=2");
        assert_eq!(p.len(), 2);
        assert_eq!(stray, br#""lead in;","mid,dle ;""#);
    }
}
