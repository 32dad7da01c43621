//! Reading one text (a file or a block expansion) into tokens.
//!
//! syslog-ng feeds its scanner one line at a time and substitutes backticks in each line as
//! it is read, *unless* the scanner is in the middle of capturing a block body, a block
//! argument or a `python {}` block, whose lines are read raw. We reproduce that exactly by
//! pulling lines lazily: the lines a capture pulls are appended unsubstituted. (A side
//! effect syslog-ng has too: backticks on the line of a `block ... {` header itself are
//! substituted with globals when the definition is read.)

use crate::config::diagnostic::Diagnostic;
use crate::config::lexer::{self, Lexed, TokKind};
use crate::config::span::{ExpansionId, FileId, Span};

use super::capture;
use super::subst::{SegMap, substitute};

/// A token with its place in the user's file and in the reader's (substituted) text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokKind,
    pub span: Span,
    /// The reader it came from and its byte range in that reader's text, to recover the
    /// verbatim text between two tokens (a call's `raw` arguments).
    pub reader: u32,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The word, if the token is a bare word.
    pub fn kind_word(&self) -> Option<&str> {
        match &self.kind {
            TokKind::Word(w) => Some(w),
            _ => None,
        }
    }
}

/// Text captured verbatim between a pair of brackets, with its map to file offsets.
#[derive(Debug, Clone)]
pub struct Captured {
    pub text: String,
    pub map: SegMap,
    pub span: Span,
}

/// Looks a backtick name up (globals, then the environment).
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub struct Reader {
    pub id: u32,
    pub file: FileId,
    pub expansion: ExpansionId,
    /// The text lines are pulled from, and its map to offsets in `file`.
    src: String,
    src_map: SegMap,
    next: usize,
    /// Files are substituted line by line; expansions arrive already substituted.
    substitute: bool,
    /// Everything pulled so far, and its map to offsets in `file`.
    buf: String,
    map: SegMap,
    cur: usize,
}

impl Reader {
    pub fn new(
        id: u32,
        file: FileId,
        expansion: ExpansionId,
        src: String,
        src_map: SegMap,
        substitute: bool,
    ) -> Self {
        Reader {
            id,
            file,
            expansion,
            src,
            src_map,
            next: 0,
            substitute,
            buf: String::new(),
            map: SegMap::default(),
            cur: 0,
        }
    }

    /// A span in the user's file for a byte range of `buf`.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let s = self.map.start(start);
        let e = self.map.end(end).max(s);
        Span {
            file: self.file,
            start: s as u32,
            end: e as u32,
            expansion: self.expansion,
        }
    }

    /// The substituted text between two offsets of this reader, if it has been read.
    pub fn text(&self, start: usize, end: usize) -> Option<&str> {
        self.buf.get(start..end)
    }

    /// Appends the next line of the source; `raw` skips substitution. Returns false at
    /// the end of the text.
    fn pull(&mut self, raw: bool, lookup: Lookup) -> Result<bool, Diagnostic> {
        let Some(rest) = self.src.get(self.next..) else {
            return Ok(false);
        };
        if rest.is_empty() {
            return Ok(false);
        }
        let len = rest.find('\n').map_or(rest.len(), |n| n + 1);
        let line_start = self.next;
        let line = rest.get(..len).unwrap_or(rest);
        self.next += len;
        let out = self.buf.len();
        if raw || !self.substitute {
            self.map
                .append(&self.src_map.slice(line_start, line_start + len), out);
            self.buf.push_str(line);
            return Ok(true);
        }
        match substitute(line, lookup) {
            Ok((text, line_map)) => {
                let to_src = SegMap::identity(line_start, len);
                let to_file = line_map.compose(&to_src).compose(&self.src_map);
                self.map.append(&to_file, out);
                self.buf.push_str(&text);
                Ok(true)
            }
            Err(e) => {
                let s = self.src_map.start(line_start + e.start);
                let end = self.src_map.end(line_start + e.end).max(s);
                let span = Span {
                    file: self.file,
                    start: s as u32,
                    end: end as u32,
                    expansion: self.expansion,
                };
                Err(Diagnostic::new(e.message, span))
            }
        }
    }

    fn at_line_start(&self) -> bool {
        self.cur == 0 || self.buf.as_bytes().get(self.cur - 1) == Some(&b'\n')
    }

    /// The next token, or `None` at the end of the text. With `eol`, line breaks are
    /// returned as [`TokKind::Newline`] (pragmas end at the end of their line).
    pub fn next_token(&mut self, eol: bool, lookup: Lookup) -> Result<Option<Token>, Diagnostic> {
        loop {
            if self.cur >= self.buf.len() && !self.pull(false, lookup)? {
                return Ok(None);
            }
            let rest = self.buf.get(self.cur..).unwrap_or("");
            match lexer::lex(rest, self.at_line_start(), eol) {
                Lexed::Skip(n) => self.cur += n.max(1),
                Lexed::Token(kind, n) => {
                    let start = self.cur;
                    self.cur += n.max(1);
                    return Ok(Some(Token {
                        kind,
                        span: self.span(start, self.cur),
                        reader: self.id,
                        start,
                        end: self.cur,
                    }));
                }
                Lexed::NeedMore => {
                    if !self.pull(false, lookup)? {
                        let quote = self.span(self.cur, self.cur + 1);
                        return Err(Diagnostic::new(
                            "syntax error, unterminated string literal",
                            quote,
                        ));
                    }
                }
                Lexed::Error(message, n) => {
                    return Err(Diagnostic::new(
                        message,
                        self.span(self.cur, self.cur + n.max(1)),
                    ));
                }
            }
        }
    }

    /// Captures the text after an opening bracket (already read) up to its matching closing
    /// one, the way syslog-ng captures block bodies and block arguments: strings and
    /// comments are skipped over, and lines pulled meanwhile are not substituted.
    pub fn capture_config(&mut self, open: char, close: char) -> Option<Captured> {
        let mut scanner = capture::ConfigScanner::new(open, close);
        self.capture_with(|text, at| scanner.scan(text, at))
    }

    /// Captures a `python { ... }` body, knowing Python's strings, triple quotes and
    /// comments (so braces and quotes inside them do not end the block).
    pub fn capture_python(&mut self) -> Option<Captured> {
        let mut scanner = capture::PythonScanner::new();
        self.capture_with(|text, at| scanner.scan(text, at))
    }

    fn capture_with(
        &mut self,
        mut scan: impl FnMut(&str, usize) -> capture::Scan,
    ) -> Option<Captured> {
        let start = self.cur;
        let mut at = self.cur;
        let no_lookup = |_: &str| None;
        loop {
            match scan(&self.buf, at) {
                capture::Scan::Closed { content_end, after } => {
                    let text = self.buf.get(start..content_end)?.to_string();
                    let map = self.map.slice(start, content_end);
                    let span = self.span(start, content_end);
                    self.cur = after;
                    return Some(Captured { text, map, span });
                }
                capture::Scan::More { resume } => {
                    at = resume;
                    match self.pull(true, &no_lookup) {
                        Ok(true) => {}
                        _ => return None,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> Reader {
        Reader::new(
            1,
            FileId(0),
            ExpansionId(0),
            text.into(),
            SegMap::identity(0, text.len()),
            true,
        )
    }

    fn lookup(name: &str) -> Option<String> {
        (name == "x").then(|| "a b".to_string())
    }

    #[test]
    fn substituted_tokens_take_the_reference_span() {
        let mut r = reader("f(`x`) g\n");
        let mut toks = Vec::new();
        while let Some(t) = r.next_token(false, &lookup).unwrap() {
            toks.push((t.kind, t.span.start, t.span.end));
        }
        let w = |s: &str| TokKind::Word(s.into());
        assert_eq!(
            toks,
            vec![
                (w("f"), 0, 1),
                (TokKind::LParen, 1, 2),
                (w("a"), 2, 5),
                (w("b"), 2, 5),
                (TokKind::RParen, 5, 6),
                (w("g"), 7, 8)
            ]
        );
    }

    #[test]
    fn multi_line_strings_and_unterminated_ones() {
        let mut r = reader("\"a\nb\" c");
        let t = r.next_token(false, &lookup).unwrap().unwrap();
        assert_eq!(
            t.kind,
            TokKind::Str("a\nb".into(), crate::config::ast::Quote::Double)
        );
        let mut r = reader("x \"abc\n\n");
        r.next_token(false, &lookup).unwrap();
        let e = r.next_token(false, &lookup).unwrap_err();
        assert_eq!(e.span.map(|s| (s.start, s.end)), Some((2, 3)));
    }

    #[test]
    fn captures_read_following_lines_raw() {
        let mut r = reader("{ a `x`\n b `x` { \"}\" } # }\n} tail `x`\n");
        let t = r.next_token(false, &lookup).unwrap().unwrap();
        assert_eq!(t.kind, TokKind::LBrace);
        let c = r.capture_config('{', '}').unwrap();
        assert_eq!(c.text, " a a b\n b `x` { \"}\" } # }\n");
        // The rest of the closing line was read raw too, as syslog-ng does.
        let t = r.next_token(false, &lookup).unwrap().unwrap();
        assert_eq!(t.kind, TokKind::Word("tail".into()));
        let t = r.next_token(false, &lookup).unwrap().unwrap();
        assert_eq!(t.kind, TokKind::Word("`x`".into()));
    }
}
