//! `csv-parser(columns() delimiters() quote-pairs() quotes() null() flags() dialect() prefix()
//! drop-invalid() template())`, after syslog-ng 3.38's `csvparser.c` and `csv-scanner.c`.
//!
//! Defaults as syslog-ng's: the delimiter is a space, quotes are `"` and `'`,
//! `strip-whitespace` is on and the dialect is `escape-none`. The options are applied in the
//! order written, as syslog-ng's grammar does:
//!
//! * `flags()` replaces the scanner flags (`strip-whitespace`, `greedy`), so `flags(greedy)`
//!   and even an empty `flags()` turn stripping off; an escape flag sets the dialect (two of
//!   them are an error); `drop-invalid` turns `drop-invalid(yes)` on (never off).
//! * `dialect()` is checked but, in 3.38, stores a garbage value (its grammar action does not
//!   set its result), which the scanner treats as `escape-none` (recorded:
//!   `dialect(escape-double-char)` leaves `""` alone, and a `flags(escape-backslash)` before
//!   it is undone).
//! * `quotes()` and `quote-pairs()` replace each other; an odd last character of
//!   `quote-pairs()` is ignored.
//!
//! The scanner reads one field per column: a field may open with a quote (its first
//! character, before stripping), a quote closes at its pair and text after it is read
//! unquoted up to the next delimiter; escapes (`escape-backslash`, `escape-double-char`)
//! apply inside quotes only. `greedy` gives the last column the rest of the input as it is.
//! Input that runs out before the last column leaves the remaining columns unset. The input
//! is read as a C string (up to its first NUL). The parser fails only with `drop-invalid`,
//! when the columns did not consume the input exactly.

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
    "drop-invalid",
    "template",
];

/// `delimiters("...")` or `delimiters(chars("...") strings("..." ...))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Delimiters {
    /// The delimiter characters, written without `chars()`.
    #[serde(default, rename = "0:chars")]
    pub positional: Option<String>,
    /// The delimiter characters (each one delimits on its own).
    #[serde(default)]
    pub chars: Option<String>,
    /// Multi-character delimiters, tried before the characters.
    #[serde(default)]
    pub strings: Option<Vec<String>>,
}

/// `csv-parser()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CsvParserOptions {
    /// The names of the fields, in order.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// What separates fields. Default: a space.
    #[serde(default)]
    pub delimiters: Option<Delimiters>,
    /// Opening and closing quote characters, two by two (`'[]'`).
    #[serde(default)]
    pub quote_pairs: Option<String>,
    /// Quote characters that close themselves. Default: `"` and `'`.
    #[serde(default)]
    pub quotes: Option<String>,
    /// A field equal to this is set empty.
    #[serde(default)]
    pub null: Option<String>,
    /// Scanner flags and the escape style; replaces the defaults.
    #[serde(default)]
    pub flags: Option<Vec<CsvFlag>>,
    /// Checked only (see the module doc).
    #[serde(default)]
    pub dialect: Option<Dialect>,
    /// Put in front of every column name.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Fail (drop the message from the path) when the input has more or fewer fields than
    /// columns. Default: no.
    #[serde(default)]
    pub drop_invalid: Option<bool>,
    /// What to parse instead of `$MESSAGE`.
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

/// `dialect()`, and the escape style the scanner uses.
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

/// What a scan found: one value per column reached, and whether the columns consumed the
/// input exactly (syslog-ng's `csv_scanner_is_scan_complete`).
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    pub fields: Vec<Vec<u8>>,
    pub complete: bool,
}

impl CsvParser {
    /// Compiles the options of `call` (read in the order written, see the module doc).
    pub fn new(call: &Node) -> Result<CsvParser, Diagnostic> {
        let mut p = CsvParser {
            columns: Vec::new(),
            delim_chars: b" ".to_vec(),
            delim_strings: Vec::new(),
            quotes: vec![(b'"', b'"'), (b'\'', b'\'')],
            null: None,
            dialect: Dialect::EscapeNone,
            strip: true,
            greedy: false,
            drop_invalid: false,
        };
        let mut prefix = String::new();
        for o in super::in_order::<CsvParserOptions>(call)? {
            if let Some(c) = o.columns {
                p.columns = c;
            }
            if let Some(d) = o.delimiters {
                if let Some(c) = d.positional.or(d.chars) {
                    p.delim_chars = c.into_bytes();
                }
                if let Some(s) = d.strings {
                    p.delim_strings = s.into_iter().map(String::into_bytes).collect();
                }
            }
            if let Some(q) = o.quote_pairs {
                p.quotes = q.as_bytes().chunks_exact(2).map(|c| (c[0], c[1])).collect();
            }
            if let Some(q) = o.quotes {
                p.quotes = q.bytes().map(|c| (c, c)).collect();
            }
            if let Some(n) = o.null {
                p.null = (!n.is_empty()).then(|| n.into_bytes());
            }
            if let Some(flags) = o.flags {
                p.apply_flags(&flags, call)?;
            }
            if o.dialect.is_some() {
                p.dialect = Dialect::EscapeNone;
            }
            if let Some(v) = o.prefix {
                prefix = v;
            }
            if let Some(v) = o.drop_invalid {
                p.drop_invalid = v;
            }
        }
        p.columns = p.columns.iter().map(|c| format!("{prefix}{c}")).collect();
        Ok(p)
    }

    /// One `flags()`: syslog-ng's `csv_parser_set_flags`.
    fn apply_flags(&mut self, flags: &[CsvFlag], call: &Node) -> Result<(), Diagnostic> {
        let escapes: Vec<Dialect> = flags
            .iter()
            .filter_map(|f| match f {
                CsvFlag::EscapeNone => Some(Dialect::EscapeNone),
                CsvFlag::EscapeBackslash => Some(Dialect::EscapeBackslash),
                CsvFlag::EscapeDoubleChar => Some(Dialect::EscapeDoubleChar),
                _ => None,
            })
            .collect();
        if escapes.iter().any(|d| *d != escapes[0]) {
            return Err(Diagnostic::new(
                "only one escape style can be used in the flags argument",
                option_span(call, "flags"),
            ));
        }
        if let Some(d) = escapes.first() {
            self.dialect = *d;
        }
        self.strip = flags.contains(&CsvFlag::StripWhitespace);
        self.greedy = flags.contains(&CsvFlag::Greedy);
        if flags.contains(&CsvFlag::DropInvalid) {
            self.drop_invalid = true;
        }
        Ok(())
    }

    /// The length of the delimiter at `p`: string delimiters first, in order (an empty one
    /// matches anywhere, as `strncmp` with length 0 does), then the characters.
    fn delimiter_at(&self, input: &[u8], p: usize) -> Option<usize> {
        for s in &self.delim_strings {
            if input[p..].starts_with(s) {
                return Some(s.len());
            }
        }
        self.delim_chars.contains(&input[p]).then_some(1)
    }

    /// Reads the fields of `input`, one per column, as syslog-ng's scanner does.
    pub fn scan(&self, input: &[u8]) -> Scan {
        let input = match memchr::memchr(0, input) {
            Some(nul) => &input[..nul],
            None => input,
        };
        let ws = |c: u8| c == b' ' || c == b'\t';
        let mut fields = Vec::with_capacity(self.columns.len());
        let mut p = 0usize;
        for col in 0..self.columns.len() {
            let mut value = Vec::new();
            if col + 1 == self.columns.len() && self.greedy {
                if self.strip {
                    while p < input.len() && ws(input[p]) {
                        p += 1;
                    }
                }
                value.extend_from_slice(&input[p..]);
                p = input.len();
            } else if p == input.len() {
                // The input ran out before this column: it stays unset.
                return Scan {
                    fields,
                    complete: false,
                };
            } else {
                let mut quote = self
                    .quotes
                    .iter()
                    .find(|(open, _)| *open == input[p])
                    .map(|&(_, close)| close);
                if quote.is_some() {
                    p += 1;
                }
                if self.strip {
                    while p < input.len() && ws(input[p]) {
                        p += 1;
                    }
                }
                while p < input.len() {
                    let c = input[p];
                    let Some(close) = quote else {
                        if let Some(len) = self.delimiter_at(input, p) {
                            p += len;
                            break;
                        }
                        value.push(c);
                        p += 1;
                        continue;
                    };
                    if self.dialect == Dialect::EscapeBackslash && c == b'\\' && p + 1 < input.len()
                    {
                        // The next character is taken as it is (`\n` is `n`).
                        p += 1;
                    } else if self.dialect == Dialect::EscapeDoubleChar
                        && c == close
                        && input.get(p + 1) == Some(&close)
                    {
                        p += 1;
                    } else if c == close {
                        quote = None;
                        p += 1;
                        continue;
                    }
                    value.push(input[p]);
                    p += 1;
                }
            }
            if self.strip {
                while value.last().is_some_and(|c| ws(*c)) {
                    value.pop();
                }
            }
            if self.null.as_deref() == Some(value.as_slice()) {
                value.clear();
            }
            fields.push(value);
        }
        Scan {
            fields,
            complete: p == input.len(),
        }
    }

    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let scan = self.scan(input);
        if !scan.fields.is_empty() {
            let m = Arc::make_mut(msg);
            for (name, value) in self.columns.iter().zip(&scan.fields) {
                m.set(name, value);
            }
        }
        !self.drop_invalid || scan.complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::de::testing::node;

    fn parser(call: &str) -> CsvParser {
        let (_, n) = node(call);
        CsvParser::new(&n).expect("compiles")
    }

    fn scan(call: &str, input: &str) -> (Vec<String>, bool) {
        let s = parser(call).scan(input.as_bytes());
        (
            s.fields
                .into_iter()
                .map(|f| String::from_utf8(f).expect("utf-8"))
                .collect(),
            s.complete,
        )
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fields_and_completeness() {
        let c = "csv-parser(columns(a, b, c))";
        assert_eq!(scan(c, "x y z"), (strs(&["x", "y", "z"]), true));
        // Running out leaves the rest unset; a trailing delimiter does too.
        assert_eq!(scan(c, "x y"), (strs(&["x", "y"]), false));
        assert_eq!(scan(c, "x y "), (strs(&["x", "y"]), false));
        assert_eq!(scan(c, "x y z "), (strs(&["x", "y", "z"]), true));
        assert_eq!(scan(c, "x y z w"), (strs(&["x", "y", "z"]), false));
        assert_eq!(scan(c, ""), (strs(&[]), false));
        // Up to the first NUL only.
        assert_eq!(scan(c, "x y\0z"), (strs(&["x", "y"]), false));
        assert_eq!(scan("csv-parser()", ""), (strs(&[]), true));
        assert_eq!(scan("csv-parser()", "x"), (strs(&[]), false));
    }

    #[test]
    fn quotes_and_stripping() {
        let c = "csv-parser(columns(a, b) delimiters(\",\"))";
        // Stripping happens inside the opening quote too.
        assert_eq!(scan(c, "\" q \",x"), (strs(&["q", "x"]), true));
        assert_eq!(scan(c, "\"ab\"cd,x"), (strs(&["abcd", "x"]), true));
        assert_eq!(scan(c, " \"q\",x"), (strs(&["\"q\"", "x"]), true));
        let c = "csv-parser(columns(a, b) delimiters(\",\") flags())";
        assert_eq!(scan(c, " a , b "), (strs(&[" a ", " b "]), true));
        let c = "csv-parser(columns(a, b) quote-pairs(\"[]<\"))";
        assert_eq!(scan(c, "[x y] <z>"), (strs(&["x y", "<z>"]), true));
    }

    #[test]
    fn greedy_strips_only_blanks() {
        let c = "csv-parser(columns(a, b) flags(greedy, strip-whitespace))";
        assert_eq!(
            scan(c, "x   rest of\tit \t"),
            (strs(&["x", "rest of\tit"]), true)
        );
        assert_eq!(scan(c, "x \nrest\n"), (strs(&["x", "\nrest\n"]), true));
        assert_eq!(scan(c, "x"), (strs(&["x", ""]), true));
    }

    #[test]
    fn escapes() {
        let c = "csv-parser(columns(a, b) delimiters(\",\") flags(escape-backslash))";
        assert_eq!(scan(c, r#""a\"b\n",x"#), (strs(&["a\"bn", "x"]), true));
        let c = "csv-parser(columns(a, b) delimiters(\",\") flags(escape-double-char))";
        assert_eq!(scan(c, r#""a""b",x"#), (strs(&["a\"b", "x"]), true));
        // dialect() after flags() undoes the escape style (3.38's garbage dialect).
        let c = "csv-parser(columns(a, b) delimiters(\",\") flags(escape-double-char) \
                 dialect(escape-double-char))";
        assert_eq!(scan(c, r#""a""b",x"#), (strs(&["a\"b\"", "x"]), true));
    }

    #[test]
    fn options_apply_in_order() {
        let p = parser("csv-parser(columns(a) flags(drop-invalid) drop-invalid(no))");
        assert!(!p.drop_invalid);
        let p = parser("csv-parser(columns(a) drop-invalid(no) flags(drop-invalid))");
        assert!(p.drop_invalid && !p.strip);
        let p = parser("csv-parser(columns(a) flags(greedy) flags(strip-whitespace))");
        assert!(p.strip && !p.greedy);
        let p = parser("csv-parser(columns(a) quote-pairs(\"[]\") quotes(\"'\"))");
        assert_eq!(p.quotes, vec![(b'\'', b'\'')]);
        let p = parser("csv-parser(columns(a) columns(b, c) prefix(\"x.\"))");
        assert_eq!(p.columns, strs(&["x.b", "x.c"]));
        let (_, n) = node("csv-parser(columns(a) flags(escape-backslash, escape-double-char))");
        let e = CsvParser::new(&n).expect_err("two escape styles");
        assert!(e.message.contains("only one escape style"), "{}", e.message);
    }

    #[test]
    fn drop_invalid_fails_incomplete_input() {
        let p = parser("csv-parser(columns(a, b) drop-invalid(yes))");
        let mut m = Arc::new(LogMessage::new(crate::message::UnixTime::default()));
        assert!(p.parse(b"x y", &mut m));
        assert!(!p.parse(b"x", &mut m));
        assert!(!p.parse(b"x y z", &mut m));
        // The values found are set all the same.
        assert_eq!(m.get("a"), Some(&b"x"[..]));
    }
}
