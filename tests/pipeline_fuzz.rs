//! Property tests: compiling patterns, filters, rewrites, parsers and log paths from random
//! input, and running random messages through them, never panics.

use std::sync::Arc;

use proptest::prelude::*;
use sluice::config::load::{LoadOptions, load_str};
use sluice::config::model::build;
use sluice::message::{LogMessage, ParseOptions, UnixTime, parse};
use sluice::pipeline::matcher::{Matcher, MatcherFlag, MatcherOptions, MatcherType};
use sluice::pipeline::{BuildEnv, Router};

fn flags() -> impl Strategy<Value = Vec<MatcherFlag>> {
    proptest::collection::vec(
        prop_oneof![
            Just(MatcherFlag::Global),
            Just(MatcherFlag::IgnoreCase),
            Just(MatcherFlag::Utf8),
            Just(MatcherFlag::StoreMatches),
            Just(MatcherFlag::Substring),
            Just(MatcherFlag::Prefix),
        ],
        0..4,
    )
}

fn kind() -> impl Strategy<Value = MatcherType> {
    prop_oneof![
        Just(MatcherType::Pcre),
        Just(MatcherType::String),
        Just(MatcherType::Glob)
    ]
}

/// Builds a router for the configuration text, if it loads at all.
fn try_router(text: &str) -> Option<Router> {
    let loaded = load_str("fuzz.conf", text, &LoadOptions::default()).ok()?;
    let model = build(&loaded.ast).ok()?;
    let env = BuildEnv::new(&model);
    Router::build(&model, &env).ok()
}

fn msg(raw: &[u8]) -> Arc<LogMessage> {
    Arc::new(parse(
        raw,
        &ParseOptions::default(),
        None,
        UnixTime::new(1_700_000_000, 0, 0),
    ))
}

const FILTER_PARTS: &[&str] = &[
    "level(info..emerg)",
    "facility(kern, local7)",
    "program(\"ss[h\")",
    "program(\"sshd\")",
    "message(\"a*\" flags(store-matches global))",
    "match(\"x\" value(\"PID\") type(glob))",
    "host(\"h\" type(string) flags(prefix ignore-case))",
    "netmask(10.0.0.0/8)",
    "netmask6(\"::1/128\")",
    "tags(\"t\")",
    "\"$PID\" < 10",
    "int(\"$PID\") >= 5",
    "\"$PROGRAM\" eq \"x\"",
    "\"$MSG\" === \"$HOST\"",
];

const ITEMS: &[&str] = &[
    "filter(f)",
    "parser(p)",
    "rewrite(r)",
    "destination(d1)",
    "destination(d2)",
    "log { filter(f); destination(d1); flags(final); }",
    "log { destination(d2); flags(fallback); }",
    "junction { channel { filter(f); }; channel { rewrite(r); }; }",
    "if (program(\"a\")) { destination(d1); } elif (level(err)) { parser(p); } else { destination(d2); }",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn matchers_never_panic(pattern in ".{0,24}", value in proptest::collection::vec(any::<u8>(), 0..64),
                            kind in kind(), flags in flags()) {
        let opts = MatcherOptions { kind: Some(kind), flags };
        if let Ok(m) = Matcher::new(&pattern, &opts) {
            let mut lm = LogMessage::new(UnixTime::default());
            let _ = m.is_match(&value);
            let _ = m.match_and_store(&value, &mut lm);
            let _ = m.replace(&value, &mut lm, &mut |_, out| out.extend_from_slice(b"$"));
        }
    }

    #[test]
    fn filters_never_panic(parts in proptest::collection::vec(0..FILTER_PARTS.len(), 1..5),
                           ops in proptest::collection::vec(0..3usize, 5),
                           raw in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut expr = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                expr.push_str([" and ", " or ", " and not "][ops[i % ops.len()]]);
            }
            expr.push_str(FILTER_PARTS[*p]);
        }
        let text = format!(
            "@version: 3.38\nsource s {{ network(port(5514)); }};\ndestination d {{ file(\"/dev/null\"); }};\n\
             filter f {{ {expr}; }};\nlog {{ source(s); filter(f); destination(d); }};\n"
        );
        if let Some(r) = try_router(&text) {
            if let Some(s) = r.source_id("s") {
                let _ = r.route(s, msg(&raw), &mut |_, _| {});
            }
        }
    }

    #[test]
    fn routing_never_panics(paths in proptest::collection::vec(
                                (proptest::collection::vec(0..ITEMS.len(), 0..5), 0..4usize), 1..5),
                            raw in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut text = String::from(
            "@version: 3.38\nsource s { network(port(5514)); };\n\
             destination d1 { file(\"/dev/null\"); };\ndestination d2 { file(\"/dev/null\"); };\n\
             filter f { program(\"a|b\") or level(err); };\n\
             parser p { kv-parser(prefix(\"kv.\")); csv-parser(columns(a, b) flags(drop-invalid)); };\n\
             rewrite r { set(\"x\" value(\"PROGRAM\")); subst(\"a\" \"b\" flags(global)); set-tag(\"t\"); };\n",
        );
        for (items, flag) in &paths {
            text.push_str("log { source(s); ");
            for i in items {
                text.push_str(ITEMS[*i]);
                text.push_str("; ");
            }
            text.push_str(["", "flags(final);", "flags(fallback);", "flags(catchall);"][*flag]);
            text.push_str(" };\n");
        }
        if let Some(r) = try_router(&text) {
            if let Some(s) = r.source_id("s") {
                let mut n = 0;
                let _ = r.route(s, msg(&raw), &mut |_, _| n += 1);
                prop_assert!(n < 1000);
            }
        }
    }

    #[test]
    fn parsers_never_panic(input in proptest::collection::vec(any::<u8>(), 0..160),
                           which in 0..6usize) {
        let parser = [
            "kv-parser(pair-separator(\";\") extract-stray-words-into(\"stray\"))",
            "json-parser(prefix(\"j.\") marker(\"@\") extract-prefix(\"a.b\"))",
            "csv-parser(columns(a, b, c) delimiters(chars(\",;\") strings(\"||\")) flags(escape-backslash greedy))",
            "csv-parser(columns(a, b) flags(escape-double-char strip-whitespace) null(\"-\"))",
            "date-parser(format(\"%s\" \"%Y-%m-%dT%H:%M:%S%z\" \"%b %d %I:%M:%S %p\") flags(guess-timezone))",
            "syslog-parser(flags(syslog-protocol))",
        ][which];
        let text = format!(
            "@version: 3.38\nsource s {{ network(port(5514)); }};\ndestination d {{ file(\"/dev/null\"); }};\n\
             log {{ source(s); parser {{ {parser}; }}; destination(d); }};\n"
        );
        let r = try_router(&text).expect("router");
        let s = r.source_id("s").expect("source");
        let mut m = LogMessage::new(UnixTime::default());
        m.set("MESSAGE", &input);
        let _ = r.route(s, Arc::new(m), &mut |_, _| {});
    }
}
