//! Backtick substitution (`` `name` ``) and the offset maps that let every token produced
//! from substituted text point back at the user's file.
//!
//! syslog-ng substitutes backticks textually, before its scanner sees the text: one input
//! line at a time for files, and the whole body at once for a block expansion. Quoting is
//! tracked so that a value pasted inside a string literal is re-encoded for that string
//! (`_extract_string_literal` in syslog-ng's cfg-lexer-subst.c). We do the same, and record
//! for every output range where it came from ([`SegMap`]).

use crate::config::lexer;

/// One run of output text and the source range it was produced from. `verbatim` runs are
/// copied byte for byte; the others are substituted values, which map as a whole onto the
/// backtick reference they replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seg {
    pub out: usize,
    pub out_end: usize,
    pub src: usize,
    pub src_end: usize,
    pub verbatim: bool,
}

/// Maps offsets of a produced text back to offsets of its source, segment by segment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegMap {
    segs: Vec<Seg>,
}

impl SegMap {
    /// The map of a text copied unchanged from `src_start` onwards.
    pub fn identity(src_start: usize, len: usize) -> Self {
        let mut map = SegMap::default();
        map.push_verbatim(0, src_start, len);
        map
    }

    pub fn push_verbatim(&mut self, out: usize, src: usize, len: usize) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.segs.last_mut() {
            if last.verbatim && last.out_end == out && last.src_end == src {
                last.out_end += len;
                last.src_end += len;
                return;
            }
        }
        self.segs.push(Seg {
            out,
            out_end: out + len,
            src,
            src_end: src + len,
            verbatim: true,
        });
    }

    pub fn push_replaced(&mut self, out: usize, out_len: usize, src: usize, src_end: usize) {
        if out_len == 0 {
            return;
        }
        self.segs.push(Seg {
            out,
            out_end: out + out_len,
            src,
            src_end,
            verbatim: false,
        });
    }

    fn seg_at(&self, p: usize) -> Option<&Seg> {
        let idx = self.segs.partition_point(|s| s.out <= p);
        self.segs.get(idx.checked_sub(1)?)
    }

    /// The source offset where output offset `p` starts.
    pub fn start(&self, p: usize) -> usize {
        match self.seg_at(p) {
            None => self.segs.first().map_or(0, |s| s.src),
            Some(s) if p >= s.out_end => s.src_end,
            Some(s) if s.verbatim => s.src + (p - s.out),
            Some(s) => s.src,
        }
    }

    /// The source offset where an output range ending at `p` (exclusive) ends.
    pub fn end(&self, p: usize) -> usize {
        if p == 0 {
            return self.start(0);
        }
        match self.seg_at(p - 1) {
            None => self.start(p),
            Some(s) if p > s.out_end => s.src_end,
            Some(s) if s.verbatim => s.src + (p - s.out),
            Some(s) => s.src_end,
        }
    }

    /// The part of the map covering output `from..to`, re-based so `from` becomes 0.
    pub fn slice(&self, from: usize, to: usize) -> SegMap {
        let mut out = SegMap::default();
        for s in &self.segs {
            let a = s.out.max(from);
            let b = s.out_end.min(to);
            if a >= b {
                continue;
            }
            if s.verbatim {
                out.push_verbatim(a - from, s.src + (a - s.out), b - a);
            } else {
                out.push_replaced(a - from, b - a, s.src, s.src_end);
            }
        }
        out
    }

    /// Appends `other`, whose output offsets start at `shift` in this map's output.
    pub fn append(&mut self, other: &SegMap, shift: usize) {
        for s in &other.segs {
            if s.verbatim {
                self.push_verbatim(s.out + shift, s.src, s.out_end - s.out);
            } else {
                self.push_replaced(s.out + shift, s.out_end - s.out, s.src, s.src_end);
            }
        }
    }

    /// Chains two maps: `self` maps output to a middle text, `inner` maps that middle text
    /// to the final source.
    pub fn compose(&self, inner: &SegMap) -> SegMap {
        let mut out = SegMap::default();
        for s in &self.segs {
            if !s.verbatim {
                out.push_replaced(
                    s.out,
                    s.out_end - s.out,
                    inner.start(s.src),
                    inner.end(s.src_end),
                );
                continue;
            }
            let mid = inner.slice(s.src, s.src_end);
            out.append(&mid, s.out);
        }
        out
    }
}

/// The most text one substitution may produce: definitions that paste each other twice
/// would otherwise double at every level.
pub const MAX_OUTPUT: usize = 4 << 20;

/// A failed substitution: the message and the byte range of the input at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct SubstError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    None,
    Double,
    DoubleBackslash,
    DoubleEscaped,
    Single,
}

impl Quoting {
    /// syslog-ng's `_track_string_state`, one character at a time.
    fn next(self, c: char) -> Quoting {
        match (self, c) {
            (Quoting::None, '"') => Quoting::Double,
            (Quoting::None, '\'') => Quoting::Single,
            (Quoting::None, _) => Quoting::None,
            (Quoting::Double, '\\') => Quoting::DoubleBackslash,
            (Quoting::Double, '"') => Quoting::None,
            (Quoting::Double, _) => Quoting::Double,
            (Quoting::DoubleBackslash, _) => Quoting::DoubleEscaped,
            (Quoting::DoubleEscaped, _) => Quoting::Double,
            (Quoting::Single, '\'') => Quoting::None,
            (Quoting::Single, _) => Quoting::Single,
        }
    }
}

/// Replaces every `` `name` `` in `input` by `lookup(name)` (an unknown name gives the
/// empty string, silently, as in syslog-ng). An empty reference ``` `` ``` stands for one
/// backtick. Inside a string literal, a value that is itself one string literal is pasted
/// as that literal's contents, re-escaped for the enclosing quotes.
pub fn substitute(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, SegMap), SubstError> {
    let mut out = String::with_capacity(input.len());
    let mut map = SegMap::default();
    let mut quoting = Quoting::None;
    let mut reference: Option<usize> = None;
    let mut verbatim_from = 0;
    for (i, c) in input.char_indices() {
        quoting = quoting.next(c);
        if c != '`' {
            continue;
        }
        let Some(open) = reference else {
            if quoting == Quoting::DoubleEscaped {
                return Err(SubstError {
                    message:
                        "cannot substitute backticked values right after a string quote character"
                            .into(),
                    start: i.saturating_sub(1),
                    end: i + 1,
                });
            }
            let text = input.get(verbatim_from..i).unwrap_or("");
            map.push_verbatim(out.len(), verbatim_from, text.len());
            out.push_str(text);
            reference = Some(i);
            continue;
        };
        reference = None;
        verbatim_from = i + 1;
        let name = input.get(open + 1..i).unwrap_or("");
        let value = if name.is_empty() {
            "`".to_string()
        } else {
            let raw = lookup(name).unwrap_or_default();
            encode_for(quoting, &raw).map_err(|message| SubstError {
                message,
                start: open,
                end: i + 1,
            })?
        };
        if out.len() + value.len() > MAX_OUTPUT {
            return Err(SubstError {
                message: format!("backtick substitution produces more than {MAX_OUTPUT} bytes"),
                start: open,
                end: i + 1,
            });
        }
        map.push_replaced(out.len(), value.len(), open, i + 1);
        out.push_str(&value);
    }
    if let Some(open) = reference {
        let end = input[open..].find('\n').map_or(input.len(), |n| open + n);
        return Err(SubstError {
            message: "missing closing backtick (`) character".into(),
            start: open,
            end,
        });
    }
    let text = input.get(verbatim_from..).unwrap_or("");
    map.push_verbatim(out.len(), verbatim_from, text.len());
    out.push_str(text);
    Ok((out, map))
}

fn encode_for(quoting: Quoting, value: &str) -> Result<String, String> {
    let inside = matches!(quoting, Quoting::Double | Quoting::Single);
    let Some(literal) = inside
        .then(|| lexer::single_string_literal(value))
        .flatten()
    else {
        return Ok(value.to_string());
    };
    if quoting == Quoting::Single {
        if literal.contains('\'') {
            return Err("cannot represent apostrophes within apostrophe-enclosed string".into());
        }
        return Ok(literal);
    }
    let mut encoded = String::with_capacity(literal.len());
    for c in literal.chars() {
        match c {
            '"' => encoded.push_str("\\\""),
            '\n' => encoded.push_str("\\n"),
            '\r' => encoded.push_str("\\r"),
            '\\' => encoded.push_str("\\\\"),
            _ => encoded.push(c),
        }
    }
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "foo" => Some("bar baz".into()),
            "q" => Some("\"quoted\"".into()),
            "nl" => Some("'a\"b'".into()),
            "ap" => Some("\"it's\"".into()),
            _ => None,
        }
    }

    #[test]
    fn substitutes_like_syslog_ng() {
        let (out, _) = substitute(r#"x `foo` "`foo`-`nope`-`q`" `q` '`q`' ``"#, &lookup).unwrap();
        assert_eq!(out, r#"x bar baz "bar baz--quoted" "quoted" 'quoted' `"#);
        let (out, _) = substitute(r#""`nl`""#, &lookup).unwrap();
        assert_eq!(out, r#""a\"b""#);
    }

    #[test]
    fn substitution_errors() {
        let e = substitute("# it`s\n", &lookup).unwrap_err();
        assert_eq!(e.message, "missing closing backtick (`) character");
        assert_eq!((e.start, e.end), (4, 6));
        let e = substitute(r#""x\`y`""#, &lookup).unwrap_err();
        assert!(e.message.starts_with("cannot substitute"));
        let e = substitute("'`ap`'", &lookup).unwrap_err();
        assert!(e.message.contains("apostrophe"));
    }

    #[test]
    fn maps_point_back_to_the_reference() {
        let (out, map) = substitute("ab `foo` cd", &lookup).unwrap();
        assert_eq!(out, "ab bar baz cd");
        assert_eq!(map.start(0), 0);
        assert_eq!(map.start(3), 3);
        assert_eq!(map.start(5), 3);
        assert_eq!(map.end(10), 8);
        assert_eq!(map.start(11), 9);
        assert_eq!(map.end(13), 11);
        // Composition: output -> middle -> source.
        let (out2, outer) = substitute("1 `foo`", &lookup).unwrap();
        assert_eq!(out2, "1 bar baz");
        let inner = SegMap::identity(100, 7);
        let both = outer.compose(&inner);
        assert_eq!(both.start(0), 100);
        assert_eq!(both.start(4), 102);
        assert_eq!(both.end(9), 107);
        let sliced = both.slice(2, 9);
        assert_eq!(sliced.start(0), 102);
    }
}
