//! What PCRE means by a pattern, where the `regex` crate's Unicode mode reads it otherwise.
//!
//! syslog-ng's `utf8` flag sets `PCRE_UTF8` only, not `PCRE_UCP`: `.` is one UTF-8 character
//! then, but `\d`, `\w`, `\s` and `\b` stay ASCII (recorded from 3.38: `\w+` does not match
//! `árvíztűrő`), while the `regex` crate's Unicode mode makes them Unicode. The pattern is
//! rewritten to their ASCII forms before it is compiled in Unicode mode.

/// The ASCII members of a Perl class escape, as written inside a character class.
fn ascii_set(e: char) -> Option<(&'static str, bool)> {
    Some(match e {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        'w' => ("0-9A-Za-z_", false),
        'W' => ("0-9A-Za-z_", true),
        's' => (r"\t\n\x0B\x0C\r ", false),
        'S' => (r"\t\n\x0B\x0C\r ", true),
        _ => return None,
    })
}

/// `pattern` with `\d \w \s \b` (and their negations) made ASCII-only, in and out of
/// character classes.
pub(super) fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match (ascii_set(e), in_class) {
                    (Some(_), false) => {
                        out.push_str("(?-u:\\");
                        out.push(e);
                        out.push(')');
                    }
                    (Some((set, false)), true) => out.push_str(set),
                    (Some((set, true)), true) => {
                        // A nested class: the `regex` crate allows `[[^0-9]a]`.
                        out.push_str("[^");
                        out.push_str(set);
                        out.push(']');
                    }
                    (None, false) if e == 'b' || e == 'B' => {
                        out.push_str("(?-u:\\");
                        out.push(e);
                        out.push(')');
                    }
                    (None, _) => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                // A `]` right at the start is a member, in PCRE as in `regex`.
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push(']');
                }
            }
            '[' if chars.peek() == Some(&':') => {
                // A POSIX class (`[:alpha:]`, ASCII in both) is copied through.
                out.push('[');
                for c in chars.by_ref() {
                    out.push(c);
                    if c == ']' {
                        break;
                    }
                }
            }
            // PCRE has no nested classes: a `[` inside one is a member.
            '[' => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::ascii_perl_classes as a;

    #[test]
    fn perl_classes_become_ascii() {
        assert_eq!(a(r"^\w+ \d"), r"^(?-u:\w)+ (?-u:\d)");
        assert_eq!(a(r"[\w.-]+\b"), r"[0-9A-Za-z_.-]+(?-u:\b)");
        assert_eq!(a(r"[^\S\d]"), r"[^[^\t\n\x0B\x0C\r ]0-9]");
        assert_eq!(a(r"[]a[:alpha:]\]]"), r"[]a[:alpha:]\]]");
        assert_eq!(a(r"[a[]x\\w"), r"[a\[]x\\w");
        assert_eq!(a(r"\(\x41\p{L}"), r"\(\x41\p{L}");
    }

    #[test]
    fn rewritten_patterns_match_as_pcre_does() {
        let re = |p: &str| {
            regex::bytes::RegexBuilder::new(&a(p))
                .unicode(true)
                .build()
                .expect("compiles")
        };
        assert!(!re(r"^\w+$").is_match("árvíz".as_bytes()));
        assert!(re(r"^.{5}$").is_match("árvíz".as_bytes()));
        assert!(re(r"^[\w]+ \d$").is_match(b"ab_1 2"));
        assert!(re(r"\bz").is_match("áz".as_bytes()));
        assert!(re(r"^[^\W]+$").is_match(b"abc"));
    }
}
