//! `linux-audit-parser(prefix() template() ...)`, after syslog-ng 3.38's
//! `modules/kvformat/linux-audit-parser.c`: `kv-parser()` (same options, same scanner) whose
//! values the kernel may have hex-encoded are decoded.
//!
//! A value is decoded when it was not quoted, has an even length, starts with a hex digit
//! and belongs to a field the kernel hex-encodes (`name proctitle path dir comm ocomm data
//! old new`, and `aN...`: an `a` followed by a digit, as `execve`'s arguments), and only if
//! the decoded bytes are something the kernel would have encoded — a byte below `!`, above
//! `~` or a `"` — and are valid UTF-8; otherwise the value stays as it is (`a1=2D6C`, which
//! is plain `-l`, stays `2D6C`). NUL bytes become tabs (`proctitle`'s argument separators).

use super::kv::{KvParserOptions, Pair};

/// `linux-audit-parser()` takes `kv-parser()`'s options.
pub type LinuxAuditParserOptions = KvParserOptions;

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = super::kv::OPTION_NAMES;

/// The fields the kernel hex-encodes (besides `a<digit>...`).
const HEX_FIELDS: &[&[u8]] = &[
    b"name",
    b"proctitle",
    b"path",
    b"dir",
    b"comm",
    b"ocomm",
    b"data",
    b"old",
    b"new",
];

fn hex_encoded_field(key: &[u8]) -> bool {
    (key.first() == Some(&b'a') && key.get(1).is_some_and(u8::is_ascii_digit))
        || HEX_FIELDS.contains(&key)
}

fn nibble(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The value transformation of `linux-audit-parser()` (see the module doc).
pub(crate) fn decode_hex(p: &Pair) -> Option<Vec<u8>> {
    let v = &p.value;
    if p.quoted || v.len() % 2 != 0 || !v.first()?.is_ascii_hexdigit() || !hex_encoded_field(&p.key)
    {
        return None;
    }
    let mut out = Vec::with_capacity(v.len() / 2);
    let mut kernel_would_encode = false;
    for two in v.chunks_exact(2) {
        let b = (nibble(two[0])? << 4) | nibble(two[1])?;
        if !(0x21..=0x7e).contains(&b) || b == b'"' {
            kernel_would_encode = true;
        }
        out.push(if b == 0 { b'\t' } else { b });
    }
    if !kernel_would_encode || std::str::from_utf8(&out).is_err() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(key: &str, value: &str, quoted: bool) -> Option<String> {
        let p = Pair {
            key: key.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
            quoted,
        };
        decode_hex(&p).map(|v| String::from_utf8(v).expect("utf-8"))
    }

    #[test]
    fn what_the_kernel_would_have_encoded_is_decoded() {
        assert_eq!(
            decode("proctitle", "2F62696E2F7368002D63", false).as_deref(),
            Some("/bin/sh\t-c")
        );
        assert_eq!(
            decode("comm", "746573742070", false).as_deref(),
            Some("test p")
        );
        assert_eq!(decode("a1x", "20", false).as_deref(), Some(" "));
        assert_eq!(decode("old", "c3a9", false).as_deref(), Some("é"));
    }

    #[test]
    fn everything_else_stays() {
        // Plain text the kernel would have written as it is.
        assert_eq!(decode("a1", "2D6C", false), None);
        assert_eq!(decode("name", "2F20", true), None);
        assert_eq!(decode("ax", "2020", false), None);
        assert_eq!(decode("a", "2020", false), None);
        assert_eq!(decode("data", "202", false), None);
        assert_eq!(decode("dir", "2G", false), None);
        assert_eq!(decode("path", "", false), None);
        // Not UTF-8 once decoded.
        assert_eq!(decode("new", "FF00", false), None);
    }
}
