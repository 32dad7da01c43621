//! `regexp-parser(patterns("..." ...) prefix() template() type() flags())`, after syslog-ng
//! 3.38's `regexp-parser.c`.
//!
//! Each pattern is a matcher of the filters' kind ([`crate::pipeline::matcher`]): `type()` and
//! `flags()` as for `match()`, with `store-matches` always on. The patterns are tried in
//! order and the first that matches wins: its groups are stored as `$0`, `$1`... and its
//! named groups as name-value pairs, under `prefix()` + the group's name (the numbered ones
//! get no prefix). When no pattern matches the parser fails, which drops the message from
//! the path; a parser without patterns always fails. `patterns()` given twice keeps the
//! last list, as syslog-ng does.

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::Node;
use crate::config::diagnostic::Diagnostic;
use crate::message::LogMessage;

use super::super::matcher::{Matcher, MatcherFlag, MatcherOptions, MatcherType};

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = &["patterns", "prefix", "template", "type", "flags"];

/// `regexp-parser()` options.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RegexpParserOptions {
    /// The patterns, tried in order.
    #[serde(default)]
    pub patterns: Option<Vec<String>>,
    /// Put in front of the names of named groups.
    #[serde(default)]
    pub prefix: Option<String>,
    /// What to match instead of `$MESSAGE`.
    #[serde(default)]
    pub template: Option<String>,
    /// The matcher type. Default: pcre.
    #[serde(default, rename = "type")]
    pub kind: Option<MatcherType>,
    /// Matcher flags (added to `store-matches`).
    #[serde(default)]
    pub flags: Vec<MatcherFlag>,
}

/// A compiled `regexp-parser()`.
#[derive(Debug)]
pub struct RegexpParser {
    matchers: Vec<Matcher>,
}

impl RegexpParser {
    pub fn new(o: &RegexpParserOptions, call: &Node) -> Result<RegexpParser, Diagnostic> {
        refuse_bare_prefix_flag(call)?;
        // The last `patterns()` wins (a plain read would concatenate them).
        let patterns = super::in_order::<RegexpParserOptions>(call)?
            .into_iter()
            .filter_map(|o| o.patterns)
            .next_back()
            .unwrap_or_default();
        let mut flags = o.flags.clone();
        flags.push(MatcherFlag::StoreMatches);
        let opts = MatcherOptions {
            kind: o.kind,
            flags,
        };
        let prefix = o.prefix.as_deref().unwrap_or("");
        let matchers = patterns
            .iter()
            .map(|p| {
                let mut m = Matcher::new(p, &opts).map_err(|e| {
                    if o.flags.contains(&MatcherFlag::Dupnames)
                        && e.contains("duplicate capture group name")
                    {
                        // PCRE's DUPNAMES has no counterpart in the `regex` crate.
                        Diagnostic::new(
                            format!(
                                "a group name used twice (flags(dupnames)) is not supported \
                                 by the runtime yet, in pattern >>>{p}<<<"
                            ),
                            call.span(),
                        )
                    } else {
                        Diagnostic::new(e, call.span())
                    }
                })?;
                m.set_name_prefix(prefix);
                Ok(m)
            })
            .collect::<Result<_, Diagnostic>>()?;
        Ok(RegexpParser { matchers })
    }

    /// Stores the groups of the first pattern that matches; `false` when none does.
    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        for m in &self.matchers {
            // A shared message is copied only for a pattern that matches.
            if let Some(own) = Arc::get_mut(msg) {
                if m.match_and_store(input, own) {
                    return true;
                }
            } else if m.is_match(input) {
                return m.match_and_store(input, Arc::make_mut(msg));
            }
        }
        false
    }
}

/// `prefix` is a keyword of `regexp-parser()`'s grammar, so 3.38 refuses it unquoted in
/// `flags()` (`flags("prefix")` is the flag).
fn refuse_bare_prefix_flag(call: &Node) -> Result<(), Diagnostic> {
    let Node::Call { args, .. } = call else {
        return Ok(());
    };
    for a in args {
        let Node::Call { name, args, .. } = a else {
            continue;
        };
        if !crate::config::ast::keyword_eq(&name.value, "flags") {
            continue;
        }
        if let Some(w) = args.iter().find_map(|f| match f {
            Node::Word(w) if crate::config::ast::keyword_eq(&w.value, "prefix") => Some(w),
            _ => None,
        }) {
            return Err(Diagnostic::new(
                "syntax error, unexpected KW_PREFIX: `prefix` is a keyword of regexp-parser(), \
                 quote the flag: flags(\"prefix\")",
                w.span,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::de::{self, testing::node};
    use crate::message::UnixTime;

    fn parser(call: &str) -> RegexpParser {
        let (_, n) = node(call);
        let o: RegexpParserOptions = de::from_call(&n).expect("options");
        RegexpParser::new(&o, &n).expect("compiles")
    }

    fn run(call: &str, input: &str) -> Option<Arc<LogMessage>> {
        let mut m = Arc::new(LogMessage::new(UnixTime::default()));
        parser(call).parse(input.as_bytes(), &mut m).then_some(m)
    }

    fn get<'m>(m: &'m LogMessage, k: &str) -> Option<&'m str> {
        m.get(k).map(|v| std::str::from_utf8(v).expect("utf-8"))
    }

    #[test]
    fn first_matching_pattern_wins() {
        let c = r"regexp-parser(patterns('^(?<word>[a-z]+) (?<n>\d+)$', '^(?<word>\w+)'))";
        let m = run(c, "abc 12").expect("matches");
        assert_eq!(get(&m, "word"), Some("abc"));
        assert_eq!(get(&m, "n"), Some("12"));
        assert_eq!(get(&m, "0"), Some("abc 12"));
        assert_eq!(get(&m, "2"), Some("12"));
        let m = run(c, "Xyz 12 more").expect("second pattern");
        assert_eq!(get(&m, "word"), Some("Xyz"));
        assert_eq!(get(&m, "n"), None);
        assert!(run(c, "-").is_none());
    }

    #[test]
    fn prefix_applies_to_named_groups_only() {
        let m = run(
            r#"regexp-parser(patterns("(?<a>x)(y)") prefix(".re."))"#,
            "xy",
        )
        .expect("matches");
        assert_eq!(get(&m, ".re.a"), Some("x"));
        assert_eq!(get(&m, "a"), None);
        assert_eq!(get(&m, "2"), Some("y"));
    }

    #[test]
    fn no_patterns_never_match_and_the_last_list_counts() {
        assert!(run("regexp-parser()", "x").is_none());
        let c = r#"regexp-parser(patterns("a") patterns("b"))"#;
        assert!(run(c, "a").is_none());
        assert!(run(c, "b").is_some());
    }

    #[test]
    fn refusals() {
        let e = |c: &str| {
            let (_, n) = node(c);
            let o: RegexpParserOptions = de::from_call(&n).expect("options");
            RegexpParser::new(&o, &n).expect_err("refused").message
        };
        assert!(e(r#"regexp-parser(patterns("a") flags(prefix))"#).contains("KW_PREFIX"));
        assert!(
            run(
                r#"regexp-parser(patterns("a") flags("prefix") type(string))"#,
                "ab"
            )
            .is_some()
        );
        assert!(
            e(r#"regexp-parser(patterns("(?<a>x)|(?<a>y)") flags(dupnames))"#)
                .contains("not supported by the runtime yet")
        );
    }

    #[test]
    fn bad_patterns_are_errors_at_the_call() {
        let (_, n) = node(r#"regexp-parser(patterns("(?<a>x"))"#);
        let o: RegexpParserOptions = de::from_call(&n).expect("options");
        let e = RegexpParser::new(&o, &n).expect_err("bad regexp");
        assert!(
            e.message
                .starts_with("compiling the regexp failed, error=Failed to compile PCRE"),
            "{}",
            e.message
        );
    }
}
