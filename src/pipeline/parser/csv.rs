//! `csv-parser(columns() delimiters() quote-pairs() quotes() null() flags() dialect() prefix()
//! template())`, after syslog-ng's `csvparser.c` and `csv-scanner.c`.
//!
//! Defaults as syslog-ng's: the delimiter is a space, quotes are `"` and `'`,
//! `strip-whitespace` is on and the dialect is `escape-none`. Fields are read one per column;
//! `greedy` gives the last column the rest of the input. A message with fewer fields than
//! columns, or more without `greedy`, fails the parser (and is dropped from the path).

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::Node;
use crate::config::diagnostic::Diagnostic;
use crate::message::LogMessage;

use super::super::args::option_span;

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = &[
    "columns",
    "delimiters",
    "quote-pairs",
    "quotes",
    "null",
    "flags",
    "dialect",
    "prefix",
    "template",
    "on-type-error",
];

/// `delimiters("...")` or `delimiters(chars("...") strings("..." ...))`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Delimiters {
    Chars(String),
    Spec {
        #[serde(default)]
        chars: Option<String>,
        #[serde(default)]
        strings: Vec<String>,
    },
}

/// `csv-parser()` options.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CsvParserOptions {
    #[serde(default)]
    pub columns: Vec<String>,
    #[serde(default)]
    pub delimiters: Option<Delimiters>,
    #[serde(default)]
    pub quote_pairs: Option<String>,
    #[serde(default)]
    pub quotes: Option<String>,
    #[serde(default)]
    pub null: Option<String>,
    #[serde(default)]
    pub flags: Vec<CsvFlag>,
    #[serde(default)]
    pub dialect: Option<Dialect>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub on_type_error: Option<String>,
}

/// `flags()` words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CsvFlag {
    EscapeNone,
    EscapeBackslash,
    EscapeDoubleChar,
    StripWhitespace,
    Greedy,
    DropInvalid,
}

/// `dialect()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    EscapeNone,
    EscapeBackslash,
    EscapeDoubleChar,
}

/// A compiled `csv-parser()`.
#[derive(Debug)]
pub struct CsvParser {
    columns: Vec<String>,
    delim_chars: Vec<u8>,
    delim_strings: Vec<Vec<u8>>,
    quotes: Vec<(u8, u8)>,
    null: Option<Vec<u8>>,
    dialect: Dialect,
    strip: bool,
    greedy: bool,
}

impl CsvParser {
    pub fn new(o: &CsvParserOptions, call: &Node) -> Result<CsvParser, Diagnostic> {
        if o.columns.is_empty() {
            return Err(Diagnostic::new(
                "csv-parser() needs columns()",
                option_span(call, "columns"),
            ));
        }
        let (delim_chars, delim_strings) = match &o.delimiters {
            None => (b" ".to_vec(), Vec::new()),
            Some(Delimiters::Chars(c)) => (c.as_bytes().to_vec(), Vec::new()),
            Some(Delimiters::Spec { chars, strings }) => (
                chars.clone().unwrap_or_default().into_bytes(),
                strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ),
        };
        let quotes = match (&o.quote_pairs, &o.quotes) {
            (Some(p), _) => {
                let b = p.as_bytes();
                if b.len() % 2 != 0 {
                    return Err(Diagnostic::new(
                        "quote-pairs() must have an even number of characters",
                        option_span(call, "quote-pairs"),
                    ));
                }
                b.chunks(2).map(|c| (c[0], c[1])).collect()
            }
            (None, Some(q)) => q.bytes().map(|c| (c, c)).collect(),
            (None, None) => vec![(b'"', b'"'), (b'\'', b'\'')],
        };
        let mut dialect = o.dialect.unwrap_or(Dialect::EscapeNone);
        let mut strip = true;
        let mut explicit_flags = false;
        let mut greedy = false;
        for f in &o.flags {
            explicit_flags = true;
            match f {
                CsvFlag::EscapeNone => dialect = Dialect::EscapeNone,
                CsvFlag::EscapeBackslash => dialect = Dialect::EscapeBackslash,
                CsvFlag::EscapeDoubleChar => dialect = Dialect::EscapeDoubleChar,
                CsvFlag::Greedy => greedy = true,
                CsvFlag::StripWhitespace | CsvFlag::DropInvalid => {}
            }
        }
        if explicit_flags {
            strip = o.flags.contains(&CsvFlag::StripWhitespace);
        }
        let prefix = o.prefix.clone().unwrap_or_default();
        Ok(CsvParser {
            columns: o.columns.iter().map(|c| format!("{prefix}{c}")).collect(),
            delim_chars,
            delim_strings,
            quotes,
            null: o.null.as_ref().map(|n| n.as_bytes().to_vec()),
            dialect,
            strip,
            greedy,
        })
    }

    fn delimiter_at(&self, input: &[u8], p: usize) -> Option<usize> {
        for s in &self.delim_strings {
            if !s.is_empty() && input[p..].starts_with(s) {
                return Some(s.len());
            }
        }
        self.delim_chars.contains(&input[p]).then_some(1)
    }

    /// The fields of `input`; `None` when the number of fields does not fit the columns.
    pub fn scan(&self, input: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut p = 0usize;
        let n = self.columns.len();
        let ws = |c: u8| c == b' ' || c == b'\t';
        loop {
            let last = fields.len() + 1 == n;
            if self.strip {
                while p < input.len() && ws(input[p]) {
                    p += 1;
                }
            }
            if last && self.greedy {
                let mut f = input[p..].to_vec();
                if self.strip {
                    while f.last().is_some_and(|c| ws(*c)) {
                        f.pop();
                    }
                }
                fields.push(f);
                return Some(fields);
            }
            let mut field = Vec::new();
            let mut quote: Option<u8> = None;
            if let Some(&(_, close)) = self.quotes.iter().find(|(o, _)| input.get(p) == Some(o)) {
                quote = Some(close);
                p += 1;
            }
            let mut ended_by_delim = false;
            while p < input.len() {
                let c = input[p];
                if let Some(close) = quote {
                    if self.dialect == Dialect::EscapeBackslash && c == b'\\' && p + 1 < input.len()
                    {
                        field.push(match input[p + 1] {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'r' => b'\r',
                            other => other,
                        });
                        p += 2;
                        continue;
                    }
                    if c == close {
                        if self.dialect == Dialect::EscapeDoubleChar
                            && input.get(p + 1) == Some(&close)
                        {
                            field.push(close);
                            p += 2;
                            continue;
                        }
                        quote = None;
                        p += 1;
                        continue;
                    }
                    field.push(c);
                    p += 1;
                    continue;
                }
                if let Some(len) = self.delimiter_at(input, p) {
                    p += len;
                    ended_by_delim = true;
                    break;
                }
                if self.dialect == Dialect::EscapeBackslash && c == b'\\' && p + 1 < input.len() {
                    field.push(input[p + 1]);
                    p += 2;
                    continue;
                }
                field.push(c);
                p += 1;
            }
            if self.strip {
                while field.last().is_some_and(|c| ws(*c)) {
                    field.pop();
                }
            }
            fields.push(field);
            if fields.len() == n {
                return (!ended_by_delim && p >= input.len()).then_some(fields);
            }
            if !ended_by_delim {
                return None;
            }
        }
    }

    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let Some(fields) = self.scan(input) else {
            return false;
        };
        let m = Arc::make_mut(msg);
        for (name, value) in self.columns.iter().zip(fields) {
            if self.null.as_deref() == Some(value.as_slice()) {
                m.set(name, b"");
            } else {
                m.set(name, &value);
            }
        }
        true
    }
}
