//! `csv-parser(columns() delimiters() quote-pairs() quotes() null() flags() dialect() prefix()
//! template())`, after syslog-ng's `csvparser.c` and `csv-scanner.c`.
//!
//! Defaults as syslog-ng's: the delimiter is a space, quotes are `"` and `'`,
//! `strip-whitespace` is on and the dialect is `escape-none`; giving `flags()` replaces those
//! defaults (so `flags(greedy)` turns stripping off). Fields are read one per column; extra
//! fields are ignored and missing ones left unset, the parser never fails, except with
//! `drop-invalid` when the count differs. `greedy` gives the last column the rest of the
//! input. `delimiters(strings(...))` adds string delimiters to the default space.

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
];

/// `delimiters("...")` or `delimiters(chars("...") strings("..." ...))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Delimiters {
    #[serde(default, rename = "0:chars")]
    pub positional: Option<String>,
    #[serde(default)]
    pub chars: Option<String>,
    #[serde(default)]
    pub strings: Vec<String>,
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
    drop_invalid: bool,
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
            Some(d) => {
                let chars = match (&d.positional, &d.chars) {
                    (None, None) => " ".to_string(),
                    (a, b) => format!(
                        "{}{}",
                        a.as_deref().unwrap_or(""),
                        b.as_deref().unwrap_or("")
                    ),
                };
                (
                    chars.into_bytes(),
                    d.strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
                )
            }
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
        // syslog-ng 3.38 accepts dialect() but the scanner keeps the dialect of flags()
        // (recorded: `dialect(escape-double-char)` leaves `""` alone).
        let _ = o.dialect;
        let mut dialect = Dialect::EscapeNone;
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
            drop_invalid: o.flags.contains(&CsvFlag::DropInvalid),
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

    /// The fields of `input`, at most one per column (extra fields are ignored, missing ones
    /// are simply not there).
    ///
    /// Per field, as syslog-ng's scanner: an opening quote is recognised only at the very
    /// first character (before `strip-whitespace` skips anything), a quote closes at its
    /// pair and later quote characters are plain text; escapes (`escape-backslash`,
    /// `escape-double-char`) apply inside quotes only.
    pub fn scan(&self, input: &[u8]) -> Vec<Vec<u8>> {
        self.scan_checked(input).0
    }

    /// [`CsvParser::scan`], and whether the input had exactly one field per column.
    pub fn scan_checked(&self, input: &[u8]) -> (Vec<Vec<u8>>, bool) {
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut p = 0usize;
        let n = self.columns.len();
        let ws = |c: u8| c == b' ' || c == b'\t';
        let mut complete = false;
        while fields.len() < n && p <= input.len() {
            let last = fields.len() + 1 == n;
            if last && self.greedy {
                // The last column of a greedy parser is the rest of the input, as it is.
                let mut f = input[p..].to_vec();
                if self.strip {
                    let t = f.trim_ascii().len();
                    let lead = f.len() - f.trim_ascii_start().len();
                    f = f[lead..lead + t].to_vec();
                }
                fields.push(f);
                complete = true;
                break;
            }
            let mut quote: Option<u8> = None;
            if let Some(&(_, close)) = self.quotes.iter().find(|(o, _)| input.get(p) == Some(o)) {
                quote = Some(close);
                p += 1;
            }
            if self.strip && quote.is_none() {
                while p < input.len() && ws(input[p]) {
                    p += 1;
                }
            }
            let mut field = Vec::new();
            let mut ended_by_delim = false;
            while p < input.len() {
                let c = input[p];
                if let Some(close) = quote {
                    if self.dialect == Dialect::EscapeBackslash && c == b'\\' && p + 1 < input.len()
                    {
                        // 3.38 takes the next character as it is (`\n` is `n`).
                        field.push(input[p + 1]);
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
                field.push(c);
                p += 1;
            }
            if self.strip {
                while field.last().is_some_and(|c| ws(*c)) {
                    field.pop();
                }
            }
            fields.push(field);
            if !ended_by_delim {
                complete = fields.len() == n;
                break;
            }
        }
        (fields, complete)
    }

    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let (fields, complete) = self.scan_checked(input);
        if self.drop_invalid && !complete {
            return false;
        }
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
