//! Pattern matching as syslog-ng's `LogMatcher` does it: `type(pcre)` (the default),
//! `type(string)`, `type(glob)` (and `type(posix)`, which 3.38 silently turns into pcre), with
//! `flags(...)`: `ignore-case`/`icase`, `store-matches`, `global`, `utf8`/`unicode`,
//! `substring`, `prefix`, `newline`, `disable-jit`, `dupnames`.
//!
//! The same matcher serves the filters (`message()`, `program()`, `host()`, `match()`) and the
//! `subst()` rewrite, so its matching and replacing rules are in one place:
//!
//! * **pcre** uses the `regex` crate over bytes. Without `utf8` the pattern runs in byte mode
//!   (`(?-u)`: `.` is one byte, `\d`/`\w`/`\s` are ASCII, `ignore-case` is ASCII), which is
//!   what PCRE does without `PCRE2_UTF`; with `utf8` it runs in Unicode mode, with `\d`,
//!   `\w`, `\s` and `\b` kept ASCII as PCRE keeps them without `PCRE_UCP`. PCRE syntax the
//!   `regex` crate reads otherwise (`(?'name'...)`, a `[` inside a class) is rewritten first
//!   ([`pcre`]). The `regex`
//!   crate (linear time, the fast path) has no look-around and no back-references; a pattern
//!   that needs them is run by `fancy-regex` instead, in Unicode mode over the value read as
//!   UTF-8 (invalid bytes become U+FFFD there, so such a pattern sees them replaced).
//! * **string** is an exact comparison; `prefix` and `substring` make it a prefix or
//!   substring test; `ignore-case` compares ASCII letters case-insensitively (`strncasecmp`).
//! * **glob** is GLib's `g_pattern_match_simple`: `*` and `?` (one character) over the
//!   whole value, which must be valid UTF-8, else it never matches (as in syslog-ng).
//!
//! `store-matches` stores the whole match as `$0` and the groups as `$1`.. (unset groups are
//! skipped; the values from one past the last group that took part in the match are unset, as
//! PCRE counts a match's groups), and named groups under their names (behind a prefix for
//! `regexp-parser(prefix())`, [`Matcher::set_name_prefix`]). `subst()`
//! stores groups for every replacement whatever the flags, as syslog-ng's replace does.

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::message::LogMessage;

/// syslog-ng keeps at most 256 match values.
const MAX_MATCHES: usize = 256;

/// `type()` of a matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MatcherType {
    /// Perl-compatible regular expression (the default).
    #[default]
    Pcre,
    /// Deprecated since 3.14; syslog-ng 3.38 uses pcre for it (with a warning).
    Posix,
    /// Literal string.
    String,
    /// Shell-style glob.
    Glob,
}

/// One word of a matcher's `flags()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatcherFlag {
    Global,
    #[serde(alias = "icase")]
    IgnoreCase,
    Newline,
    #[serde(alias = "unicode")]
    Utf8,
    StoreMatches,
    Substring,
    Prefix,
    DisableJit,
    Dupnames,
}

/// `type()` and `flags()` as written, shared by every driver that has a matcher.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MatcherOptions {
    #[serde(default, rename = "type")]
    pub kind: Option<MatcherType>,
    #[serde(default)]
    pub flags: Vec<MatcherFlag>,
}

impl MatcherOptions {
    fn has(&self, f: MatcherFlag) -> bool {
        self.flags.contains(&f)
    }
}

#[derive(Debug)]
enum Kind {
    /// A pcre pattern without any special character, matched without storing: a substring
    /// search (what the regex would do, minus the engine's overhead).
    Literal {
        finder: Box<memchr::memmem::Finder<'static>>,
        re: Regex,
    },
    Regex {
        re: Regex,
        named: bool,
    },
    /// A pattern the `regex` crate refuses for its look-around or back-references, run by
    /// `fancy-regex` (Unicode mode, over the value as UTF-8, invalid bytes replaced).
    Fancy {
        re: Box<fancy_regex::Regex>,
        named: bool,
    },
    String {
        pat: Vec<u8>,
    },
    Glob {
        pat: Vec<char>,
    },
}

/// A compiled pattern with its flags.
#[derive(Debug)]
pub struct Matcher {
    kind: Kind,
    icase: bool,
    store: bool,
    global: bool,
    prefix: bool,
    substring: bool,
    pattern: String,
    /// Put in front of the names named groups are stored under.
    name_prefix: String,
}

impl Matcher {
    /// Compiles `pattern`. The error is syslog-ng's wording where it has one.
    pub fn new(pattern: &str, opts: &MatcherOptions) -> Result<Matcher, String> {
        let icase = opts.has(MatcherFlag::IgnoreCase);
        let kind = match opts.kind.unwrap_or_default() {
            MatcherType::Pcre | MatcherType::Posix => {
                match compile_regex(pattern, icase, opts.has(MatcherFlag::Utf8)) {
                    Ok(re)
                        if is_plain_literal(pattern)
                            && !icase
                            && !opts.has(MatcherFlag::StoreMatches) =>
                    {
                        Kind::Literal {
                            finder: Box::new(
                                memchr::memmem::Finder::new(pattern.as_bytes()).into_owned(),
                            ),
                            re,
                        }
                    }
                    Ok(re) => {
                        let named = re.capture_names().any(|n| n.is_some());
                        Kind::Regex { re, named }
                    }
                    Err(e) if e.contains("look-around") || e.contains("backreferences") => {
                        let re = fancy_regex::RegexBuilder::new(&pcre::translate(pattern, false))
                            .case_insensitive(icase)
                            .build()
                            .map_err(|_| e)?;
                        let named = re.capture_names().any(|n| n.is_some());
                        Kind::Fancy {
                            re: Box::new(re),
                            named,
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            MatcherType::String => Kind::String {
                pat: pattern.as_bytes().to_vec(),
            },
            MatcherType::Glob => Kind::Glob {
                pat: pattern.chars().collect(),
            },
        };
        Ok(Matcher {
            kind,
            icase,
            store: opts.has(MatcherFlag::StoreMatches),
            global: opts.has(MatcherFlag::Global),
            prefix: opts.has(MatcherFlag::Prefix),
            substring: opts.has(MatcherFlag::Substring),
            pattern: pattern.to_string(),
            name_prefix: String::new(),
        })
    }

    /// Stores named groups as `PREFIX` + name (syslog-ng's `log_matcher_pcre_set_nv_prefix`,
    /// used by `regexp-parser(prefix())`); numbered groups keep their names.
    pub fn set_name_prefix(&mut self, prefix: &str) {
        self.name_prefix = prefix.to_string();
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether a match stores values into the message (`flags(store-matches)` on a regex).
    pub fn stores(&self) -> bool {
        self.store && matches!(self.kind, Kind::Regex { .. } | Kind::Fancy { .. })
    }

    /// Whether `value` matches, without storing anything.
    pub fn is_match(&self, value: &[u8]) -> bool {
        match &self.kind {
            Kind::Literal { finder, .. } => finder.find(value).is_some(),
            Kind::Regex { re, .. } => re.is_match(value),
            Kind::Fancy { re, .. } => re
                .is_match(String::from_utf8_lossy(value).as_ref())
                .unwrap_or(false),
            Kind::String { pat } => self.string_find(value, pat).is_some(),
            Kind::Glob { pat } => match std::str::from_utf8(value) {
                Ok(s) => glob_match_chars(pat, &s.chars().collect::<Vec<_>>()),
                Err(_) => false,
            },
        }
    }

    /// Matches `value` and, with `store-matches`, stores the groups into `msg`.
    pub fn match_and_store(&self, value: &[u8], msg: &mut LogMessage) -> bool {
        if let Kind::Fancy { re, named } = &self.kind {
            if !self.store {
                return self.is_match(value);
            }
            let hay = String::from_utf8_lossy(value);
            return match fancy_spans(re, &hay, 0) {
                Some(spans) => {
                    store_spans(
                        hay.as_bytes(),
                        &spans,
                        fancy_names(re, *named, &self.name_prefix),
                        msg,
                    );
                    true
                }
                None => false,
            };
        }
        let Kind::Regex { re, named } = &self.kind else {
            return self.is_match(value);
        };
        if !self.store {
            return re.is_match(value);
        }
        match re.captures(value) {
            Some(caps) => {
                store_captures(re, *named, &self.name_prefix, &caps, msg);
                true
            }
            None => false,
        }
    }

    /// `subst()`: replaces the first match (every match with `global`) in `value`; the
    /// replacement is rendered by `render` after the groups of that match were stored in
    /// `msg` (so it can refer to `$1`). `None` when nothing matched (the value is then left
    /// alone). Glob matchers cannot replace (syslog-ng refuses them in `subst()`).
    pub fn replace(
        &self,
        value: &[u8],
        msg: &mut LogMessage,
        render: &mut dyn FnMut(&LogMessage, &mut Vec<u8>),
    ) -> Option<Vec<u8>> {
        match &self.kind {
            Kind::Literal { re, .. } => self.replace_regex(re, false, value, msg, render),
            Kind::Regex { re, named } => self.replace_regex(re, *named, value, msg, render),
            Kind::Fancy { re, named } => {
                let hay = String::from_utf8_lossy(value);
                self.replace_fancy(re, *named, &hay, msg, render)
            }
            Kind::String { pat } => self.replace_string(pat, value, msg, render),
            Kind::Glob { .. } => None,
        }
    }

    fn replace_regex(
        &self,
        re: &Regex,
        named: bool,
        value: &[u8],
        msg: &mut LogMessage,
        render: &mut dyn FnMut(&LogMessage, &mut Vec<u8>),
    ) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut last = 0usize;
        let mut start = 0usize;
        let mut last_empty = false;
        loop {
            // PCRE2_NOTEMPTY|PCRE2_ANCHORED after an empty match: retry at the same place
            // for a non-empty match, else step one byte (syslog-ng's Perl-like rule).
            let caps = if last_empty {
                match re.captures_at(value, start) {
                    Some(c)
                        if c.get(0)
                            .is_some_and(|m| m.start() == start && !m.is_empty()) =>
                    {
                        Some(c)
                    }
                    _ => {
                        start += 1;
                        last_empty = false;
                        if !self.global || start >= value.len() {
                            break;
                        }
                        continue;
                    }
                }
            } else {
                re.captures_at(value, start)
            };
            let Some(caps) = caps else { break };
            let Some(m0) = caps.get(0) else { break };
            store_captures(re, named, &self.name_prefix, &caps, msg);
            let buf = out.get_or_insert_with(|| Vec::with_capacity(value.len()));
            buf.extend_from_slice(value.get(last..m0.start()).unwrap_or(&[]));
            render(msg, buf);
            last_empty = m0.is_empty();
            start = m0.end();
            last = m0.end();
            if !self.global || start >= value.len() {
                break;
            }
        }
        let mut buf = out?;
        buf.extend_from_slice(value.get(last..).unwrap_or(&[]));
        Some(buf)
    }

    /// [`Matcher::replace_regex`] for a `fancy-regex` pattern.
    fn replace_fancy(
        &self,
        re: &fancy_regex::Regex,
        named: bool,
        hay: &str,
        msg: &mut LogMessage,
        render: &mut dyn FnMut(&LogMessage, &mut Vec<u8>),
    ) -> Option<Vec<u8>> {
        let value = hay.as_bytes();
        let names = fancy_names(re, named, &self.name_prefix);
        let mut out: Option<Vec<u8>> = None;
        let (mut last, mut start, mut last_empty) = (0usize, 0usize, false);
        loop {
            let spans = fancy_spans(re, hay, start);
            let spans = match spans {
                Some(sp)
                    if last_empty
                        && !sp
                            .first()
                            .copied()
                            .flatten()
                            .is_some_and(|(a, b)| a == start && b > a) =>
                {
                    // No non-empty match here after an empty one: step one character.
                    start += hay[start..].chars().next().map_or(1, char::len_utf8);
                    last_empty = false;
                    if !self.global || start >= value.len() {
                        break;
                    }
                    continue;
                }
                Some(sp) => sp,
                None => break,
            };
            let Some((m0, m1)) = spans.first().copied().flatten() else {
                break;
            };
            store_spans(value, &spans, names.clone(), msg);
            let buf = out.get_or_insert_with(|| Vec::with_capacity(value.len()));
            buf.extend_from_slice(value.get(last..m0).unwrap_or(&[]));
            render(msg, buf);
            last_empty = m0 == m1;
            start = m1;
            last = m1;
            if !self.global || start >= value.len() {
                break;
            }
        }
        let mut buf = out?;
        buf.extend_from_slice(value.get(last..).unwrap_or(&[]));
        Some(buf)
    }

    fn replace_string(
        &self,
        pat: &[u8],
        value: &[u8],
        msg: &mut LogMessage,
        render: &mut dyn FnMut(&LogMessage, &mut Vec<u8>),
    ) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        let mut cur = 0usize;
        let mut first = true;
        loop {
            if cur == value.len() {
                break;
            }
            let rest = &value[cur..];
            let Some(rel) = self.string_find(rest, pat) else {
                break;
            };
            let mut start = cur + rel;
            let mut end = start + pat.len();
            if start == end && !first {
                start += 1;
                end += 1;
            }
            if self.store {
                clear_matches(msg);
            }
            let buf = out.get_or_insert_with(|| Vec::with_capacity(value.len()));
            buf.extend_from_slice(value.get(cur..start.min(value.len())).unwrap_or(&[]));
            render(msg, buf);
            cur = end.min(value.len());
            if !self.global {
                break;
            }
            first = false;
        }
        let mut buf = out?;
        buf.extend_from_slice(value.get(cur..).unwrap_or(&[]));
        Some(buf)
    }

    /// Where the string matcher matches in `value` (syslog-ng's
    /// `log_matcher_string_match_string`): exact, prefix or substring.
    fn string_find(&self, value: &[u8], pat: &[u8]) -> Option<usize> {
        if pat.len() > value.len() {
            return None;
        }
        let eq = |a: &[u8], b: &[u8]| {
            if self.icase {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        if !self.prefix && !self.substring {
            return eq(value, pat).then_some(0);
        }
        if self.prefix {
            return eq(&value[..pat.len()], pat).then_some(0);
        }
        if pat.is_empty() {
            return Some(0);
        }
        if self.icase {
            value
                .windows(pat.len())
                .position(|w| w.eq_ignore_ascii_case(pat))
        } else {
            memchr::memmem::find(value, pat)
        }
    }
}

/// Whether a pattern has no regex syntax at all (every byte matches itself).
fn is_plain_literal(pattern: &str) -> bool {
    !pattern.is_empty()
        && pattern
            .bytes()
            .all(|c| !b"\\.^$|?*+()[]{}#".contains(&c) && !c.is_ascii_whitespace())
}

fn compile_regex(pattern: &str, icase: bool, utf8: bool) -> Result<Regex, String> {
    RegexBuilder::new(&pcre::translate(pattern, utf8))
        .case_insensitive(icase)
        .unicode(utf8)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| {
            let detail = match &e {
                regex::Error::Syntax(s) => {
                    s.lines().last().unwrap_or("").trim().to_string()
                }
                other => other.to_string(),
            };
            format!("compiling the regexp failed, error=Failed to compile PCRE expression >>>{pattern}<<< `{detail}'")
        })
}

type Spans = Vec<Option<(usize, usize)>>;

/// The group spans of the first `fancy-regex` match at or after `start`.
fn fancy_spans(re: &fancy_regex::Regex, hay: &str, start: usize) -> Option<Spans> {
    if !hay.is_char_boundary(start) {
        return None;
    }
    let caps = re.captures_from_pos(hay, start).ok()??;
    Some(
        (0..caps.len())
            .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
            .collect(),
    )
}

/// The names groups are stored under, by index (empty when the pattern has none).
fn fancy_names(re: &fancy_regex::Regex, named: bool, prefix: &str) -> Vec<Option<String>> {
    if !named {
        return Vec::new();
    }
    re.capture_names()
        .map(|n| n.map(|n| format!("{prefix}{n}")))
        .collect()
}

/// How many groups PCRE reports for a match: one past the last group that took part in it
/// (`pcre_exec`'s return value), at most [`MAX_MATCHES`].
fn match_count(set: impl DoubleEndedIterator<Item = bool> + ExactSizeIterator) -> usize {
    let len = set.len();
    let unset_tail = set.rev().take_while(|s| !s).count();
    (len - unset_tail).min(MAX_MATCHES)
}

/// [`store_captures`] from spans over `hay`.
fn store_spans(hay: &[u8], spans: &Spans, names: Vec<Option<String>>, msg: &mut LogMessage) {
    let n = match_count(spans.iter().map(Option::is_some));
    let mut name = itoa_buf();
    for (i, sp) in spans.iter().enumerate().take(n) {
        if let Some((a, b)) = sp {
            msg.set(num_name(&mut name, i), hay.get(*a..*b).unwrap_or(&[]));
        }
    }
    truncate_matches(msg, n);
    for (i, group) in names.iter().enumerate() {
        if let (Some(group), Some(Some((a, b)))) = (group, spans.get(i)) {
            msg.set(group, hay.get(*a..*b).unwrap_or(&[]));
        }
    }
}

/// Sets `$0`.. and named groups from one match, and unsets the numbered values beyond.
fn store_captures(
    re: &Regex,
    named: bool,
    prefix: &str,
    caps: &regex::bytes::Captures<'_>,
    msg: &mut LogMessage,
) {
    let n = match_count((0..caps.len()).map(|i| caps.get(i).is_some()));
    let mut name = itoa_buf();
    for i in 0..n {
        if let Some(m) = caps.get(i) {
            msg.set(num_name(&mut name, i), m.as_bytes());
        }
    }
    truncate_matches(msg, n);
    if named {
        let mut key = String::from(prefix);
        for (i, group) in re.capture_names().enumerate() {
            if let (Some(group), Some(m)) = (group, caps.get(i)) {
                key.truncate(prefix.len());
                key.push_str(group);
                msg.set(&key, m.as_bytes());
            }
        }
    }
}

/// Unsets `$n`.. up to the previous highest match (syslog-ng's `log_msg_truncate_matches`).
fn truncate_matches(msg: &mut LogMessage, from: usize) {
    let mut name = itoa_buf();
    for i in from..MAX_MATCHES {
        let key = num_name(&mut name, i);
        if msg.get(key).is_none() {
            break;
        }
        msg.unset(key);
    }
}

fn clear_matches(msg: &mut LogMessage) {
    truncate_matches(msg, 0);
}

fn itoa_buf() -> String {
    String::with_capacity(4)
}

fn num_name(buf: &mut String, i: usize) -> &str {
    use std::fmt::Write;
    buf.clear();
    let _ = write!(buf, "{i}");
    buf.as_str()
}

/// GLib's `g_pattern_match_simple`: `*` matches any run of characters, `?` one character,
/// everything else itself; the whole value must match.
pub fn glob_match_chars(pat: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') => {
                p += 1;
                t += 1;
            }
            Some(c) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p.min(pat.len())..].iter().all(|c| *c == '*')
}

mod pcre;
#[cfg(test)]
mod tests;
