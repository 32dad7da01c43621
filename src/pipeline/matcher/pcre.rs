//! What PCRE means by a pattern, where the `regex` crate reads it otherwise; the pattern is
//! rewritten into the `regex` crate's syntax for the same meaning before it is compiled.
//!
//! * `(?'name'...)`, PCRE's other spelling of a named group (the SCL's cisco parser uses
//!   it), becomes `(?<name>...)`.
//! * PCRE has no nested character classes or class set operations: a `[` inside a class is a
//!   member (`[a[]`), and so are `&&` and `~~`; they are escaped.
//! * syslog-ng's `utf8` flag sets `PCRE_UTF8` only, not `PCRE_UCP`: `.` is one UTF-8
//!   character then, but `\d`, `\w`, `\s` and `\b` stay ASCII (recorded from 3.38: `\w+` does
//!   not match `árvíztűrő`), while the `regex` crate's Unicode mode makes them Unicode. With
//!   `utf8` they are written as their ASCII classes (`\W` as `[^0-9A-Za-z_]`, which still
//!   takes a whole character) and `\b` as an ASCII boundary.

use std::borrow::Cow;

/// The ASCII members of a Perl class escape, and whether the escape is negated.
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

/// `pattern` in the `regex` crate's syntax (see the module doc); `utf8` for the Unicode-mode
/// rewrites.
pub(super) fn translate(pattern: &str, utf8: bool) -> Cow<'_, str> {
    let special =
        pattern.contains("(?'") || pattern.contains('[') || (utf8 && pattern.contains('\\'));
    if !special {
        return Cow::Borrowed(pattern);
    }
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
                match (ascii_set(e).filter(|_| utf8), in_class) {
                    (Some((set, negated)), false) => {
                        out.push_str(if negated { "[^" } else { "[" });
                        out.push_str(set);
                        out.push(']');
                    }
                    (Some((set, false)), true) => out.push_str(set),
                    (Some((set, true)), true) => {
                        // A nested class: the `regex` crate allows `[[^0-9]a]`.
                        out.push_str("[^");
                        out.push_str(set);
                        out.push(']');
                    }
                    (None, false) if utf8 && (e == 'b' || e == 'B') => {
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
            '(' if !in_class && chars.peek() == Some(&'?') => {
                out.push('(');
                out.push(chars.next().unwrap_or('?'));
                if chars.peek() == Some(&'\'') {
                    // `(?'name'` → `(?<name>`
                    chars.next();
                    out.push('<');
                    for n in chars.by_ref() {
                        if n == '\'' {
                            out.push('>');
                            break;
                        }
                        out.push(n);
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
            '[' => out.push_str("\\["),
            '&' | '~' if in_class && chars.peek() == Some(&c) => {
                out.push('\\');
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::translate;

    fn u(p: &str) -> String {
        translate(p, true).into_owned()
    }

    #[test]
    fn perl_classes_become_ascii_under_utf8() {
        assert_eq!(u(r"^\w+ \d"), r"^[0-9A-Za-z_]+ [0-9]");
        assert_eq!(u(r"[\w.-]+\b"), r"[0-9A-Za-z_.-]+(?-u:\b)");
        assert_eq!(u(r"[^\S\d]"), r"[^[^\t\n\x0B\x0C\r ]0-9]");
        assert_eq!(u(r"\W"), r"[^0-9A-Za-z_]");
        assert_eq!(u(r"\(\x41\p{L}"), r"\(\x41\p{L}");
        assert_eq!(translate(r"^\w+$", false), r"^\w+$");
    }

    #[test]
    fn pcre_syntax_the_regex_crate_lacks() {
        let t = |p: &str| translate(p, false).into_owned();
        assert_eq!(t("^(?'HOST'[^:]+): (.*)"), "^(?<HOST>[^:]+): (.*)");
        assert_eq!(t("(?i)a(?:b)"), "(?i)a(?:b)");
        assert_eq!(t(r"[]a[:alpha:]\]]"), r"[]a[:alpha:]\]]");
        assert_eq!(t(r"[a[]x\\w"), r"[a\[]x\\w");
        assert_eq!(t("[a&&b~~c]"), r"[a\&&b\~~c]");
    }

    #[test]
    fn rewritten_patterns_match_as_pcre_does() {
        let re = |p: &str| {
            regex::bytes::RegexBuilder::new(&translate(p, true))
                .unicode(true)
                .build()
                .expect("compiles")
        };
        assert!(!re(r"^\w+$").is_match("árvíz".as_bytes()));
        assert!(re(r"^.{5}$").is_match("árvíz".as_bytes()));
        assert!(re(r"^\W$").is_match("é".as_bytes()));
        assert!(re(r"^[\w]+ \d$").is_match(b"ab_1 2"));
        assert!(re(r"\bz").is_match("áz".as_bytes()));
        assert!(re(r"^[^\W]+$").is_match(b"abc"));
        assert!(re(r"^[a[]+$").is_match(b"a[a"));
    }
}
