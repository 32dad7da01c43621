//! Token recognisers for the syslog-ng configuration language, written with nom over `&str`.
//!
//! This module only answers "what token starts here, and how long is it": it knows nothing
//! about files, lines, backticks or pragmas (see [`super::preprocess`], which drives it one
//! line at a time, the way syslog-ng's flex scanner is fed by `fgets`).
//!
//! The rules reproduce syslog-ng 3.38's `cfg-lex.l`, including its flex semantics: the
//! longest match wins and, on a tie, the earlier rule. That is why `0.0.0.0`, `a==b` and
//! `5x` are single bare words, `-5` and `5KiB` are numbers, `1.5` is a float, and
//! `info..emerg` is three tokens (`info`, `..`, `emerg`): a dot may only sit *between* word
//! characters, never two in a row.

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_while_m_n, take_while1},
    character::complete::{char, digit1, hex_digit1, one_of},
    combinator::{opt, recognize},
    multi::separated_list1,
};

use super::ast::Quote;

/// What a token is. Values (string contents, numbers) are already decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum TokKind {
    /// A bare word (`file`, `s_local`, `/var/log/x`, `0.0.0.0`, `$HOST`).
    Word(String),
    /// A string literal with escapes resolved.
    Str(String, Quote),
    Int(i64),
    Float(f64),
    /// An operator: `==`, `!=`, `<`, `<=`, `>`, `>=`, `=`, `..`, `:`, `|`, `[` or `]`.
    Op(String),
    /// `=>`
    Arrow,
    /// `...` (only meaningful in block parameter lists).
    Ellipsis,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Semi,
    /// `@` at the start of a line: a pragma follows.
    Pragma,
    /// A line break; only reported while reading a pragma (pragmas end at the line's end).
    Newline,
}

impl TokKind {
    /// How syslog-ng's parser messages name the token ("unexpected '}'").
    pub fn describe(&self) -> String {
        match self {
            TokKind::Word(w) => format!("identifier `{w}`"),
            TokKind::Str(..) => "string".into(),
            TokKind::Int(_) => "number".into(),
            TokKind::Float(_) => "float".into(),
            TokKind::Op(o) => format!("'{o}'"),
            TokKind::Arrow => "'=>'".into(),
            TokKind::Ellipsis => "'...'".into(),
            TokKind::LParen => "'('".into(),
            TokKind::RParen => "')'".into(),
            TokKind::LBrace => "'{'".into(),
            TokKind::RBrace => "'}'".into(),
            TokKind::Semi => "';'".into(),
            TokKind::Pragma => "'@'".into(),
            TokKind::Newline => "end of line".into(),
        }
    }
}

/// The outcome of looking at the input at one position.
#[derive(Debug, Clone, PartialEq)]
pub enum Lexed {
    /// Whitespace, commas, a comment or a `\`-newline continuation: skip `len` bytes.
    Skip(usize),
    /// A token of `len` bytes.
    Token(TokKind, usize),
    /// The input ends inside a token that may continue on the next line (a string): the
    /// caller should append the next line and ask again, or report it unterminated at EOF.
    NeedMore,
    /// Not a valid token: an error message, and how many bytes the bad token covers.
    Error(String, usize),
}

/// Recognises the token at the start of `input`. `bol` says whether `input` starts a line
/// (a `@` there starts a pragma); `eol` whether line breaks are tokens (inside pragmas).
pub fn lex(input: &str, bol: bool, eol: bool) -> Lexed {
    let Some(first) = input.chars().next() else {
        return Lexed::NeedMore;
    };
    match first {
        ' ' | '\t' | ',' => {
            let n = input
                .find(|c| !matches!(c, ' ' | '\t' | ','))
                .unwrap_or(input.len());
            Lexed::Skip(n)
        }
        '#' => Lexed::Skip(input.find('\n').map_or(input.len(), |n| {
            // Keep a `\r\n` line end for the newline rule.
            if input[..n].ends_with('\r') { n - 1 } else { n }
        })),
        '\n' => newline(1, eol),
        '\r' if input.starts_with("\r\n") => newline(2, eol),
        '\\' if input.starts_with("\\\n") => Lexed::Skip(2),
        '\\' if input.starts_with("\\\r\n") => Lexed::Skip(3),
        '@' if bol => Lexed::Token(TokKind::Pragma, 1),
        '"' => string_token(input, Quote::Double),
        '\'' => string_token(input, Quote::Single),
        '(' => Lexed::Token(TokKind::LParen, 1),
        ')' => Lexed::Token(TokKind::RParen, 1),
        '{' => Lexed::Token(TokKind::LBrace, 1),
        '}' => Lexed::Token(TokKind::RBrace, 1),
        ';' => Lexed::Token(TokKind::Semi, 1),
        // `[`/`]` only appear in `application name[topic]` (appmodel); `:` in `@version:`.
        ':' | '|' | '[' | ']' => Lexed::Token(TokKind::Op(first.to_string()), 1),
        _ => longest_match(input),
    }
}

fn newline(len: usize, eol: bool) -> Lexed {
    if eol {
        Lexed::Token(TokKind::Newline, len)
    } else {
        Lexed::Skip(len)
    }
}

/// The flex rules that compete on length, in flex's order (earlier wins a tie).
#[derive(Clone, Copy)]
enum Rule {
    DotDot,
    DotDotDot,
    Arrow,
    Float,
    Hex,
    Octal,
    Decimal,
    Word,
}

/// A nom recogniser of one token rule.
type Recogniser = fn(&str) -> IResult<&str, &str>;

fn longest_match(input: &str) -> Lexed {
    let rules: [(Rule, Recogniser); 8] = [
        (Rule::DotDot, |i| tag("..").parse(i)),
        (Rule::DotDotDot, |i| tag("...").parse(i)),
        (Rule::Arrow, |i| tag("=>").parse(i)),
        (Rule::Float, float),
        (Rule::Hex, hex),
        (Rule::Octal, octal),
        (Rule::Decimal, decimal),
        (Rule::Word, word),
    ];
    let mut best: Option<(Rule, &str)> = None;
    for (rule, recognise) in rules {
        if let Ok((_, text)) = recognise(input) {
            if best.is_none_or(|(_, b)| text.len() > b.len()) {
                best = Some((rule, text));
            }
        }
    }
    let Some((rule, text)) = best else {
        let len = input.chars().next().map_or(1, char::len_utf8);
        let shown = input.get(..len).unwrap_or("?").escape_debug().to_string();
        return Lexed::Error(
            format!("syntax error, unexpected invalid token '{shown}'"),
            len,
        );
    };
    let len = text.len();
    let kind = match rule {
        Rule::DotDot => TokKind::Op("..".into()),
        Rule::DotDotDot => TokKind::Ellipsis,
        Rule::Arrow => TokKind::Arrow,
        Rule::Float => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => TokKind::Float(f),
            _ => return out_of_range(text),
        },
        Rule::Hex => match text.get(2..).and_then(|d| i64::from_str_radix(d, 16).ok()) {
            Some(n) => TokKind::Int(n),
            None => return out_of_range(text),
        },
        Rule::Octal => match i64::from_str_radix(text, 8) {
            Ok(n) => TokKind::Int(n),
            Err(_) => return out_of_range(text),
        },
        Rule::Decimal => match number_with_suffix(text) {
            Some(n) => TokKind::Int(n),
            None => {
                return Lexed::Error(format!("syntax error, invalid number `{text}`"), len);
            }
        },
        Rule::Word => word_or_operator(text),
    };
    Lexed::Token(kind, len)
}

fn out_of_range(text: &str) -> Lexed {
    Lexed::Error(format!("number `{text}` is out of range"), text.len())
}

/// `==`, `<=` and friends are bare words to syslog-ng's scanner (their characters are word
/// characters); its grammar then treats them as comparison keywords. They become
/// [`TokKind::Op`] here so the tree says what they are.
fn word_or_operator(text: &str) -> TokKind {
    match text {
        "==" | "!=" | "<" | "<=" | ">" | ">=" | "=" => TokKind::Op(text.into()),
        _ => TokKind::Word(text.into()),
    }
}

/// A character that may appear in a bare word: anything but whitespace, quotes, brackets,
/// `#`, `\`, `;`, `,`, `|`, `.`, `@` and `:` (flex's `word` class in cfg-lex.l).
pub fn is_word_char(c: char) -> bool {
    !matches!(
        c,
        ' ' | '#'
            | '\''
            | '"'
            | '('
            | ')'
            | '{'
            | '}'
            | '['
            | ']'
            | '\\'
            | ';'
            | '\r'
            | '\n'
            | '\t'
            | ','
            | '|'
            | '.'
            | '@'
            | ':'
    )
}

/// `({word}+(\.)?)*{word}+`: word characters with single dots between them.
fn word(i: &str) -> IResult<&str, &str> {
    recognize(separated_list1(char('.'), take_while1(is_word_char))).parse(i)
}

/// `(-|\+)?{digit}+\.{digit}+`
fn float(i: &str) -> IResult<&str, &str> {
    recognize((opt(one_of("+-")), digit1, char('.'), digit1)).parse(i)
}

/// `0x{xdigit}+`
fn hex(i: &str) -> IResult<&str, &str> {
    recognize((tag("0x"), hex_digit1)).parse(i)
}

/// `0{odigit}+`
fn octal(i: &str) -> IResult<&str, &str> {
    recognize((char('0'), take_while1(|c: char| c.is_digit(8)))).parse(i)
}

/// `(-|\+)?{digit}+(M|m|G|g|k|K)?(i|I)?(b|B)?`
fn decimal(i: &str) -> IResult<&str, &str> {
    recognize((
        opt(one_of("+-")),
        digit1,
        opt(one_of("MmGgkK")),
        opt(one_of("iI")),
        opt(one_of("bB")),
    ))
    .parse(i)
}

/// Decodes a decimal with an optional size suffix like syslog-ng's
/// `parse_number_with_suffix`: `k`/`M`/`G` multiply by 1000 (1024 with `i`), a trailing
/// `b`/`B` is just a unit; `5i` alone is invalid.
fn number_with_suffix(text: &str) -> Option<i64> {
    let digits_end = text
        .char_indices()
        .find(|&(i, c)| i > 0 && !c.is_ascii_digit())
        .map_or(text.len(), |(i, _)| i);
    let (number, suffix) = text.split_at(digits_end);
    let mut value: i64 = number.parse().ok()?;
    let suffix: Vec<char> = suffix.chars().collect();
    let (exponent, base, unit) = match suffix.as_slice() {
        [] => (None, None, None),
        [e, b, u] => (Some(*e), Some(*b), Some(*u)),
        [e, u] if matches!(u, 'b' | 'B') => (Some(*e), None, Some(*u)),
        [e, b] => (Some(*e), Some(*b), None),
        [u] if matches!(u, 'b' | 'B') => (None, None, Some(*u)),
        [e] => (Some(*e), None, None),
        _ => return None,
    };
    let multiplier: i64 = match base {
        None => 1000,
        Some('i' | 'I') => 1024,
        Some(_) => return None,
    };
    if unit.is_some_and(|u| !matches!(u, 'b' | 'B')) {
        return None;
    }
    let times = match exponent {
        None => 0,
        Some('k' | 'K') => 1,
        Some('m' | 'M') => 2,
        Some('g' | 'G') => 3,
        Some(_) => return None,
    };
    for _ in 0..times {
        value = value.checked_mul(multiplier)?;
    }
    Some(value)
}

fn string_token(input: &str, quote: Quote) -> Lexed {
    let body = input.get(1..).unwrap_or("");
    let scanned = match quote {
        Quote::Double => scan_double(body),
        Quote::Single => scan_single(body),
    };
    match scanned {
        Some((value, len)) => Lexed::Token(TokKind::Str(value, quote), len + 1),
        None => Lexed::NeedMore,
    }
}

/// One piece of a double-quoted string body.
enum Piece<'a> {
    Text(&'a str),
    Byte(u8),
    Nothing,
}

/// An escape sequence in a double-quoted string, as cfg-lex.l knows them: `\a \n \r \t \v`,
/// `\xH[H]`, `\oO[O[O]]`, a `\`-newline continuation (dropped), and any other `\c` which
/// stands for `c` itself (so `\101` is `101`, `\q` is `q`, `\\` is `\`).
fn escape(i: &str) -> IResult<&str, Piece<'_>> {
    let (i, _) = char('\\').parse(i)?;
    alt((
        |i| {
            let (i, _) = alt((tag("\r\n"), tag("\n"))).parse(i)?;
            Ok((i, Piece::Nothing))
        },
        |i| {
            let (i, _) = char('x').parse(i)?;
            let (i, digits) = take_while_m_n(1, 2, |c: char| c.is_ascii_hexdigit()).parse(i)?;
            Ok((i, Piece::Byte(u8::from_str_radix(digits, 16).unwrap_or(0))))
        },
        |i| {
            let (i, _) = char('o').parse(i)?;
            let (i, digits) = take_while_m_n(1, 3, |c: char| c.is_digit(8)).parse(i)?;
            // C's g_string_append_c keeps the low byte of e.g. \o777.
            let n = u32::from_str_radix(digits, 8).unwrap_or(0);
            Ok((i, Piece::Byte((n & 0xff) as u8)))
        },
        escaped_char,
    ))
    .parse(i)
}

/// `\c` for any other `c`: the control-character escapes, or `c` itself.
fn escaped_char(i: &str) -> IResult<&str, Piece<'_>> {
    let mut chars = i.chars();
    let c = chars
        .next()
        .ok_or_else(|| nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Eof)))?;
    let piece = match c {
        'a' => Piece::Byte(7),
        'n' => Piece::Byte(b'\n'),
        'r' => Piece::Byte(b'\r'),
        't' => Piece::Byte(b'\t'),
        'v' => Piece::Byte(11),
        _ => Piece::Text(i.get(..c.len_utf8()).unwrap_or("")),
    };
    Ok((chars.as_str(), piece))
}

/// Scans a double-quoted string body (after the opening quote). Returns the decoded value
/// and the number of bytes up to and including the closing quote, or `None` if the input
/// ends first. A raw line break inside the string is kept; a lone `\r` is dropped, as
/// flex's default rule does with it.
fn scan_double(body: &str) -> Option<(String, usize)> {
    let mut bytes: Vec<u8> = Vec::new();
    let mut rest = body;
    loop {
        if let Some(after) = rest.strip_prefix('"') {
            let value = String::from_utf8_lossy(&bytes).into_owned();
            return Some((value, body.len() - after.len()));
        }
        if rest.starts_with('\\') {
            // A backslash at the very end may still be followed by a newline.
            let (after, piece) = escape(rest).ok()?;
            match piece {
                Piece::Text(t) => bytes.extend_from_slice(t.as_bytes()),
                Piece::Byte(b) => bytes.push(b),
                Piece::Nothing => {}
            }
            rest = after;
            continue;
        }
        let chunk: IResult<&str, &str> =
            take_while1(|c| !matches!(c, '"' | '\\' | '\r' | '\n')).parse(rest);
        if let Ok((after, text)) = chunk {
            bytes.extend_from_slice(text.as_bytes());
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix("\r\n") {
            bytes.extend_from_slice(b"\r\n");
            rest = after;
        } else if let Some(after) = rest.strip_prefix('\n') {
            bytes.push(b'\n');
            rest = after;
        } else if rest == "\r" {
            return None;
        } else if let Some(after) = rest.strip_prefix('\r') {
            rest = after;
        } else {
            return None;
        }
    }
}

/// Scans a single-quoted string body: no escapes at all, line breaks kept. The one quirk
/// of flex's longest-match: a backslash directly before a line break that *starts* a match
/// (right after the opening quote or a previous line break) is a continuation and both
/// characters vanish; anywhere else the backslash is ordinary text.
fn scan_single(body: &str) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut rest = body;
    loop {
        if let Some(after) = rest.strip_prefix('\'') {
            return Some((value, body.len() - after.len()));
        }
        let continuation: IResult<&str, &str> =
            recognize((char('\\'), opt(char('\r')), char('\n'))).parse(rest);
        if let Ok((after, _)) = continuation {
            rest = after;
            continue;
        }
        let chunk: IResult<&str, &str> =
            take_while1(|c| !matches!(c, '\'' | '\r' | '\n')).parse(rest);
        if let Ok((after, text)) = chunk {
            value.push_str(text);
            rest = after;
            continue;
        }
        let newline: IResult<&str, &str> = recognize((opt(char('\r')), char('\n'))).parse(rest);
        if let Ok((after, text)) = newline {
            value.push_str(text);
            rest = after;
        } else if rest.is_empty() || rest == "\r" {
            return None;
        } else {
            // A lone carriage return: flex echoes it and moves on.
            rest = rest.get(1..).unwrap_or("");
        }
    }
}

/// If `text` is exactly one string literal (surrounded by nothing but whitespace and
/// comments), its decoded value. Backtick substitution uses this to paste a quoted value
/// into a string without doubling the quotes, like syslog-ng's `_extract_string_literal`.
pub fn single_string_literal(text: &str) -> Option<String> {
    let mut rest = text;
    let mut found: Option<String> = None;
    let mut bol = true;
    while !rest.is_empty() {
        match lex(rest, bol, false) {
            Lexed::Skip(n) => {
                bol = rest.get(..n).is_some_and(|s| s.ends_with('\n'));
                rest = rest.get(n..)?;
            }
            Lexed::Token(TokKind::Str(value, _), n) if found.is_none() => {
                found = Some(value);
                bol = false;
                rest = rest.get(n..)?;
            }
            _ => return None,
        }
    }
    found
}

/// Whether `text` lexes back as exactly this one bare word (the printer quotes it if not).
pub fn is_plain_word(text: &str) -> bool {
    matches!(lex(text, false, false), Lexed::Token(TokKind::Word(w), n) if n == text.len() && w == text)
}

#[cfg(test)]
#[path = "lexer_tests.rs"]
mod tests;
