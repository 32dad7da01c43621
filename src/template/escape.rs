//! Escaping: `template-escape(yes)` (syslog-ng's `result_append` with escape) and the JSON
//! string escaping of `$(format-json)` (`append_unsafe_utf8_as_escaped_text`).

/// Appends `s`, escaped as `template-escape(yes)` does when `escape` is set: `'`, `"` and `\`
/// get a backslash, bytes below 0x20 become a backslash and three octal digits, everything
/// else (including bytes that are not UTF-8) is copied.
#[inline]
pub fn append(out: &mut Vec<u8>, s: &[u8], escape: bool) {
    if !escape {
        out.extend_from_slice(s);
        return;
    }
    for &c in s {
        match c {
            b'\'' | b'"' | b'\\' => {
                out.push(b'\\');
                out.push(c);
            }
            c if c < b' ' => {
                out.push(b'\\');
                out.push(b'0' + (c >> 6));
                out.push(b'0' + ((c >> 3) & 7));
                out.push(b'0' + (c & 7));
            }
            c => out.push(c),
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` escaped for a JSON string (without the quotes), as syslog-ng 3.38 does:
/// `\b \f \n \r \t \\` by name, other control characters as `\u00XX`, the characters of
/// `unsafe_chars` with a backslash, valid UTF-8 as it is, and every byte of an invalid sequence
/// as the six characters `\\xHH` (an escaped backslash, so the JSON stays valid UTF-8).
pub fn append_json(out: &mut Vec<u8>, s: &[u8], unsafe_chars: &[u8]) {
    let mut rest = s;
    while !rest.is_empty() {
        // Fast path: a run of plain printable ASCII.
        let run = rest
            .iter()
            .position(|&c| !(0x20..0x80).contains(&c) || c == b'\\' || unsafe_chars.contains(&c))
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest[..run]);
        rest = &rest[run..];
        let Some(&c) = rest.first() else { break };
        if c < 0x80 {
            match c {
                c if let Some(e) = named_escape(c) => out.extend_from_slice(e),
                c if c < 0x20 => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(c >> 4)]);
                    out.push(HEX[usize::from(c & 15)]);
                }
                c => {
                    out.push(b'\\');
                    out.push(c);
                }
            }
            rest = &rest[1..];
            continue;
        }
        // A multi-byte sequence: copy it when valid, escape its first byte otherwise (GLib's
        // g_utf8_get_char_validated then a one-byte step, as syslog-ng does).
        let len = utf8_len(rest);
        if len > 0 {
            out.extend_from_slice(&rest[..len]);
            rest = &rest[len..];
        } else {
            out.extend_from_slice(b"\\\\x");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 15)]);
            rest = &rest[1..];
        }
    }
}

/// The escapes both escapers write by name: `\b \f \n \r \t \\`.
fn named_escape(c: u8) -> Option<&'static [u8]> {
    Some(match c {
        0x08 => b"\\b",
        0x0c => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        b'\\' => b"\\\\",
        _ => return None,
    })
}

/// Length of the valid UTF-8 character at the start of `s` (which starts with a byte >= 0x80),
/// 0 when it is not one.
fn utf8_len(s: &[u8]) -> usize {
    let n = match s[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return 0,
    };
    match s.get(..n) {
        Some(seq) if std::str::from_utf8(seq).is_ok() => n,
        _ => 0,
    }
}

/// Appends `s` escaped as syslog-ng's `append_unsafe_utf8_as_escaped_binary`: `\b \f \n \r
/// \t \\` by name, other control characters and invalid bytes as `\xhh`, the characters of
/// `unsafe_chars` with a backslash, valid UTF-8 as it is.
pub fn append_binary(out: &mut Vec<u8>, s: &[u8], unsafe_chars: &[u8]) {
    for chunk in s.utf8_chunks() {
        for &c in chunk.valid().as_bytes() {
            match c {
                c if let Some(e) = named_escape(c) => out.extend_from_slice(e),
                c if c < 0x20 => {
                    out.extend_from_slice(b"\\x");
                    out.push(HEX[usize::from(c >> 4)]);
                    out.push(HEX[usize::from(c & 15)]);
                }
                c if unsafe_chars.contains(&c) => {
                    out.push(b'\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        for &c in chunk.invalid() {
            out.extend_from_slice(b"\\x");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 15)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_escape() {
        let mut out = Vec::new();
        append(&mut out, b"a\"b'c\\d\te", true);
        assert_eq!(out, br#"a\"b\'c\\d\011e"#);
    }

    #[test]
    fn json() {
        let mut out = Vec::new();
        append_json(&mut out, "a\"b\\c\n\x01é\u{7f}\u{85}".as_bytes(), b"\"");
        assert_eq!(out, "a\\\"b\\\\c\\n\\u0001é\u{7f}\u{85}".as_bytes());
        let mut out = Vec::new();
        append_json(&mut out, b"x\xc3(\xff", b"\"");
        assert_eq!(out, b"x\\\\xc3(\\\\xff");
    }
}
