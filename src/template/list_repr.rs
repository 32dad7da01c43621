//! syslog-ng 3.38's list representation: the list scanner (`list-scanner.c` over
//! `str_repr_decode`), which reads a comma-separated list (the list template functions,
//! `tags-parser()`, Python's list values), and `str_repr_encode`, which writes an item of one
//! (the list functions, `$TAGS`, kv-parser's stray words, json-parser's arrays).
//!
//! Items are separated by commas and empty items (`a,,b`, a leading or trailing comma) are
//! skipped; white space is kept. An item that starts with `"` or `'` is quoted: inside it
//! `\b \f \n \r \t \\` and an escaped quote of its own kind are decoded, other escapes keep
//! their backslash. An item that is not well formed — text after its closing quote, or a
//! quote never closed — is taken as written, up to and *including* the comma that ends it
//! (recorded: `"a"b,c` gives `"a"b,` and `c`). The input is read up to its first NUL.

/// Appends `item` to a list as syslog-ng's `str_repr_encode_append(.., forbidden)` does:
/// as it is, unless it is empty or holds a quote, one of `\b \f \n \r \t \\` and space, or a
/// byte of `forbidden` (kv-parser's stray words forbid `,`, json-parser's lists nothing);
/// then in `'...'` when it holds a `"` and no `'`, else in `"..."` (escaping `"` if it holds
/// both), with the escapes of [`crate::template::escape::append_binary`].
pub(crate) fn str_repr_encode(out: &mut Vec<u8>, item: &[u8], forbidden: &[u8]) {
    if item.is_empty() {
        out.extend_from_slice(b"\"\"");
        return;
    }
    let apos = item.contains(&b'\'');
    let quote = item.contains(&b'"');
    if !apos && !quote {
        let needs = item.iter().any(|&c| {
            matches!(c, 8 | 12 | b'\n' | b'\r' | b'\t' | b'\\' | b' ') || forbidden.contains(&c)
        });
        if !needs {
            out.extend_from_slice(item);
            return;
        }
    }
    let (q, unsafe_chars): (u8, &[u8]) = match (apos, quote) {
        (false, true) => (b'\'', b""),
        (true, true) => (b'"', b"\""),
        _ => (b'"', b""),
    };
    out.push(q);
    crate::template::escape::append_binary(out, item, unsafe_chars);
    out.push(q);
}

/// Where the decoder is (`str-repr/decode.c`'s states).
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

/// The items of `input`, in order.
pub(crate) fn scan(input: &[u8]) -> Vec<Vec<u8>> {
    let input = match memchr::memchr(0, input) {
        Some(nul) => &input[..nul],
        None => input,
    };
    let mut items = Vec::new();
    let mut pos = 0usize;
    loop {
        while input.get(pos) == Some(&b',') {
            pos += 1;
        }
        if pos >= input.len() {
            return items;
        }
        let (item, end) = decode(input, pos);
        items.push(item);
        pos = end;
    }
}

/// Decodes one item from `start`: the item and where the next one starts.
fn decode(input: &[u8], start: usize) -> (Vec<u8>, usize) {
    let mut value = Vec::new();
    let mut state = State::Initial;
    let mut quote = 0u8;
    let mut cur = start;
    while cur < input.len() {
        let c = input[cur];
        state = match state {
            State::Initial if c == b',' => State::Success,
            State::Initial if c == b'"' || c == b'\'' => {
                quote = c;
                State::Quoted
            }
            State::Initial | State::Unquoted if c != b',' => {
                value.push(c);
                State::Unquoted
            }
            State::Unquoted => State::Success,
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
            State::ExpectDelimiter if c == b',' => State::Success,
            State::ExpectDelimiter | State::QuoteError if c != b',' => State::QuoteError,
            State::QuoteError => State::Failure,
            s => s,
        };
        match state {
            // A delimiter is consumed with the item.
            State::Success | State::Failure => {
                cur += 1;
                break;
            }
            _ => cur += 1,
        }
    }
    let well_formed = matches!(
        state,
        State::Initial | State::ExpectDelimiter | State::Unquoted | State::Success
    );
    if !well_formed {
        value = input[start..cur].to_vec();
    }
    (value, cur)
}

#[cfg(test)]
mod tests {
    use super::{scan, str_repr_encode};

    #[test]
    fn encoding() {
        let enc = |v: &[u8], forbidden: &[u8]| {
            let mut out = Vec::new();
            str_repr_encode(&mut out, v, forbidden);
            String::from_utf8(out).expect("utf-8")
        };
        assert_eq!(enc(b"a,b", b""), "a,b");
        assert_eq!(enc(b"a,b", b","), "\"a,b\"");
        assert_eq!(enc(b"", b""), "\"\"");
        assert_eq!(enc(b"x y", b""), "\"x y\"");
        assert_eq!(enc(b"\x01", b""), "\x01");
        assert_eq!(enc(b"it's", b""), "\"it's\"");
        assert_eq!(enc(b"say \"hi\"", b""), "'say \"hi\"'");
        assert_eq!(enc(b"'\"\n", b""), "\"'\\\"\\n\"");
    }

    fn items(s: &str) -> Vec<String> {
        scan(s.as_bytes())
            .into_iter()
            .map(|i| String::from_utf8(i).expect("utf-8"))
            .collect()
    }

    #[test]
    fn plain_and_empty_items() {
        assert_eq!(items("a,b,c"), ["a", "b", "c"]);
        assert_eq!(items(",,a,,b,"), ["a", "b"]);
        assert_eq!(items("a, b ,c"), ["a", " b ", "c"]);
        assert_eq!(items(""), Vec::<String>::new());
        assert_eq!(items(r"a\,b"), [r"a\", "b"]);
        assert_eq!(items("a\0,b"), ["a"]);
    }

    #[test]
    fn quoted_items() {
        assert_eq!(items(r#""x,y",'z'"#), ["x,y", "z"]);
        assert_eq!(items(r#""a\"b\n\q",''"#), ["a\"b\n\\q", ""]);
        assert_eq!(items(r#"'it\'s',"it\'s""#), ["it's", "it\\'s"]);
    }

    #[test]
    fn malformed_items_are_kept_as_written() {
        assert_eq!(items(r#""a"b,c"#), [r#""a"b,"#, "c"]);
        assert_eq!(items(r#""a"b"#), [r#""a"b"#]);
        assert_eq!(items(r#""open,x"#), [r#""open,x"#]);
        assert_eq!(items(r#"x"y",z"#), [r#"x"y""#, "z"]);
    }
}
