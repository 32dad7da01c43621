//! JSON as json-c 0.16 reads and writes it (what syslog-ng 3.38's `json-parser()` is built
//! on), in its default, non-strict mode — more lenient than RFC 8259, and `json-parser()`'s
//! results depend on it:
//!
//! * strings may be single-quoted; raw control characters are accepted in them; the escapes
//!   are `\" \\ \/ \b \f \n \r \t \uXXXX` (anything else is an error, `\'` too); a lone or
//!   broken surrogate becomes U+FFFD;
//! * `true`, `false`, `null`, `NaN` and `Infinity` are matched without regard to case (and a
//!   character must follow them); numbers may have leading zeros and a trailing `.`, `e`,
//!   `e+`...; integers saturate (`strtoll`/`strtoull`), beyond `i64::MAX` they are unsigned;
//!   doubles keep the text they were written with (json-c writes it back as it was);
//! * `/* ... */` and `// ...` comments count as white space (a `**/` does not close one:
//!   json-c skips the `/` after a second `*`); a trailing comma in an array or object is
//!   accepted; nesting is limited to 32 levels;
//! * after the first complete value anything may follow (`{"a":1} junk` is `{"a":1}`), but
//!   not a comment left open.
//!
//! Object members keep their order; a repeated key replaces the value in place. Keys are cut
//! at a NUL (json-c `strdup`s them); string values keep theirs.

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer above `i64::MAX`.
    Uint(u64),
    /// A double and the text it was written as (`None` for `NaN` and `Infinity`).
    Double(f64, Option<Vec<u8>>),
    Str(Vec<u8>),
    Array(Vec<Json>),
    Object(Vec<(Vec<u8>, Json)>),
}

/// json-c's `JSON_TOKENER_DEFAULT_DEPTH`.
const MAX_DEPTH: usize = 32;

/// Parses the first JSON value of `input`; `None` where json-c reports an error.
pub(crate) fn parse(input: &[u8]) -> Option<Json> {
    let mut p = Parser { s: input, p: 0 };
    let v = p.value(0)?;
    // Whatever follows is ignored, once white space and complete comments are skipped.
    loop {
        p.skip_blanks();
        if p.peek() != Some(b'/') {
            return Some(v);
        }
        p.comment()?;
    }
}

struct Parser<'a> {
    s: &'a [u8],
    p: usize,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.p).copied()
    }

    fn skip_blanks(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.p += 1;
        }
    }

    /// White space and comments (json-c's `eatws` state).
    fn ws(&mut self) -> Option<()> {
        loop {
            self.skip_blanks();
            if self.peek() != Some(b'/') {
                return Some(());
            }
            self.comment()?;
        }
    }

    /// A comment starting at the `/` under the cursor.
    fn comment(&mut self) -> Option<()> {
        self.p += 1;
        match self.peek()? {
            b'*' => {
                self.p += 1;
                loop {
                    // Up to and past a `*`, then the next character must be `/`.
                    let star = memchr::memchr(b'*', &self.s[self.p..])?;
                    self.p += star + 1;
                    let c = self.peek()?;
                    self.p += 1;
                    if c == b'/' {
                        return Some(());
                    }
                    if c == 0 {
                        return None;
                    }
                }
            }
            b'/' => {
                let nl = memchr::memchr(b'\n', &self.s[self.p..])?;
                self.p += nl + 1;
                Some(())
            }
            _ => None,
        }
    }

    /// Whether `word` (any case) is under the cursor with at least one character after it.
    fn word(&mut self, word: &[u8]) -> bool {
        let end = self.p + word.len();
        let ok = end < self.s.len() && self.s[self.p..end].eq_ignore_ascii_case(word);
        if ok {
            self.p = end;
        }
        ok
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        self.ws()?;
        match self.peek()? {
            b'{' => {
                self.p += 1;
                self.object(depth)
            }
            b'[' => {
                self.p += 1;
                self.array(depth)
            }
            b'I' | b'i' => self.infinity(false),
            b'N' | b'n' => {
                if self.word(b"null") {
                    Some(Json::Null)
                } else if self.word(b"nan") {
                    Some(Json::Double(f64::NAN, None))
                } else {
                    None
                }
            }
            b't' | b'T' => self.word(b"true").then_some(Json::Bool(true)),
            b'f' | b'F' => self.word(b"false").then_some(Json::Bool(false)),
            q @ (b'"' | b'\'') => {
                self.p += 1;
                self.string(q).map(Json::Str)
            }
            b'0'..=b'9' | b'-' => self.number(depth),
            _ => None,
        }
    }

    fn infinity(&mut self, negative: bool) -> Option<Json> {
        if !self.word(b"infinity") {
            return None;
        }
        let inf = if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        Some(Json::Double(inf, None))
    }

    fn object(&mut self, depth: usize) -> Option<Json> {
        let mut members: Vec<(Vec<u8>, Json)> = Vec::new();
        self.ws()?;
        if self.peek()? == b'}' {
            self.p += 1;
            return Some(Json::Object(members));
        }
        loop {
            let q = self.peek()?;
            if q != b'"' && q != b'\'' {
                return None;
            }
            self.p += 1;
            let mut key = self.string(q)?;
            if let Some(nul) = memchr::memchr(0, &key) {
                key.truncate(nul);
            }
            self.ws()?;
            if self.peek()? != b':' {
                return None;
            }
            self.p += 1;
            if depth + 1 >= MAX_DEPTH {
                return None;
            }
            let v = self.value(depth + 1)?;
            match members.iter_mut().find(|(k, _)| *k == key) {
                Some(m) => m.1 = v,
                None => members.push((key, v)),
            }
            self.ws()?;
            match self.peek()? {
                b'}' => {
                    self.p += 1;
                    return Some(Json::Object(members));
                }
                b',' => {
                    self.p += 1;
                    self.ws()?;
                    if self.peek()? == b'}' {
                        self.p += 1;
                        return Some(Json::Object(members));
                    }
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Json> {
        let mut items = Vec::new();
        self.ws()?;
        if self.peek()? == b']' {
            self.p += 1;
            return Some(Json::Array(items));
        }
        loop {
            if depth + 1 >= MAX_DEPTH {
                return None;
            }
            items.push(self.value(depth + 1)?);
            self.ws()?;
            match self.peek()? {
                b']' => {
                    self.p += 1;
                    return Some(Json::Array(items));
                }
                b',' => {
                    self.p += 1;
                    self.ws()?;
                    if self.peek()? == b']' {
                        self.p += 1;
                        return Some(Json::Array(items));
                    }
                }
                _ => return None,
            }
        }
    }

    /// A string after its opening quote `q`, decoded.
    fn string(&mut self, q: u8) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let c = self.peek()?;
            self.p += 1;
            if c == q {
                return Some(out);
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let e = self.peek()?;
            self.p += 1;
            match e {
                b'"' | b'\\' | b'/' => out.push(e),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'u' => self.unicode(&mut out)?,
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = char::from(self.peek()?).to_digit(16)?;
            v = (v << 4) | d;
            self.p += 1;
        }
        Some(v)
    }

    /// `\uXXXX` (the `\u` read), with json-c's surrogate rules.
    fn unicode(&mut self, out: &mut Vec<u8>) -> Option<()> {
        const REPLACEMENT: &[u8] = "\u{fffd}".as_bytes();
        let mut cp = self.hex4()?;
        loop {
            if !(0xD800..0xDC00).contains(&cp) {
                break;
            }
            // A high surrogate: a `\u` low one must follow.
            if self.peek()? != b'\\' {
                out.extend_from_slice(REPLACEMENT);
                return Some(());
            }
            self.p += 1;
            if self.peek()? != b'u' {
                // Another escape: handled as one, after the replacement.
                out.extend_from_slice(REPLACEMENT);
                self.p -= 1;
                return Some(());
            }
            self.p += 1;
            let next = self.hex4()?;
            if (0xDC00..0xE000).contains(&next) {
                cp = 0x10000 + ((cp & 0x3FF) << 10) + (next & 0x3FF);
                break;
            }
            out.extend_from_slice(REPLACEMENT);
            cp = next;
        }
        match char::from_u32(cp) {
            Some(ch) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            None => out.extend_from_slice(REPLACEMENT),
        }
        Some(())
    }

    fn number(&mut self, depth: usize) -> Option<Json> {
        let start = self.p;
        let (mut is_double, mut is_exponent) = (false, false);
        let (mut neg_ok, mut pos_ok) = (true, false);
        loop {
            let c = self.peek()?;
            let takes = c.is_ascii_digit()
                || (!is_exponent && (c == b'e' || c == b'E'))
                || (neg_ok && c == b'-')
                || (pos_ok && c == b'+')
                || (!is_double && c == b'.');
            if c == 0 || !takes {
                break;
            }
            neg_ok = false;
            pos_ok = false;
            match c {
                b'.' => {
                    is_double = true;
                    (neg_ok, pos_ok) = (true, true);
                }
                b'e' | b'E' => {
                    is_exponent = true;
                    is_double = true;
                    (neg_ok, pos_ok) = (true, true);
                }
                _ => {}
            }
            self.p += 1;
        }
        let c = self.peek()?;
        if depth > 0 && !matches!(c, b',' | b']' | b'}' | b'/' | b'I' | b'i') && !is_ws(c) {
            return None;
        }
        let mut text = &self.s[start..self.p];
        if text == b"-" && (c == b'i' || c == b'I') {
            return self.infinity(true);
        }
        if is_double {
            while text.len() > 1 && matches!(text.last(), Some(b'e' | b'E' | b'-' | b'+')) {
                text = &text[..text.len() - 1];
            }
            let d: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
            return Some(Json::Double(d, Some(text.to_vec())));
        }
        let (negative, digits) = match text.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, text),
        };
        if digits.is_empty() {
            return None;
        }
        // strtoll / strtoull: saturating on overflow.
        let mut n: u64 = 0;
        let mut overflow = false;
        for &d in digits {
            match n
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
            {
                Some(v) => n = v,
                None => overflow = true,
            }
        }
        Some(if negative {
            let limit = i64::MIN.unsigned_abs();
            if overflow || n >= limit {
                Json::Int(i64::MIN)
            } else {
                Json::Int(-i64::try_from(n).ok()?)
            }
        } else if overflow {
            Json::Uint(u64::MAX)
        } else {
            match i64::try_from(n) {
                Ok(i) => Json::Int(i),
                Err(_) => Json::Uint(n),
            }
        })
    }
}

/// Writes `v` as `json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)` does.
pub(crate) fn write_plain(v: &Json, out: &mut Vec<u8>) {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Json::Uint(u) => out.extend_from_slice(u.to_string().as_bytes()),
        Json::Double(_, Some(text)) => out.extend_from_slice(text),
        Json::Double(d, None) => out.extend_from_slice(if d.is_nan() {
            b"NaN"
        } else if *d > 0.0 {
            b"Infinity"
        } else {
            b"-Infinity"
        }),
        Json::Str(s) => write_string(s, out),
        Json::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_plain(item, out);
            }
            out.push(b']');
        }
        Json::Object(members) => {
            out.push(b'{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_plain(item, out);
            }
            out.push(b'}');
        }
    }
}

/// json-c's `json_escape_str`: `/` is escaped too, other control characters as `\u00xx`,
/// everything else (non-ASCII included) as it is.
fn write_string(s: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &c in s {
        match c {
            8 => out.extend_from_slice(b"\\b"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            12 => out.extend_from_slice(b"\\f"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            c if c < b' ' => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 15)]);
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests;
