//! Unit tests of routing semantics that the golden files do not isolate.

use std::sync::Arc;

use super::testing::{deliveries, msg, router};

const HEAD: &str = "@version: 3.38\nsource s { network(port(5514)); };\nsource s2 { network(port(5515)); };\n\
destination a { file(\"/dev/null\"); };\ndestination b { file(\"/dev/null\"); };\ndestination c { file(\"/dev/null\"); };\n";

fn cfg(body: &str) -> String {
    format!("{HEAD}{body}")
}

#[test]
fn final_stops_later_paths_only_when_matched() {
    let r = router(&cfg(
        "log { source(s); filter { program(\"x\"); }; destination(a); flags(final); };\n\
         log { source(s); destination(b); };",
    ));
    assert_eq!(deliveries(&r, "s", msg("x", "m")), ["a"]);
    assert_eq!(deliveries(&r, "s", msg("y", "m")), ["b"]);
}

#[test]
fn fallback_runs_when_nothing_matched() {
    let r = router(&cfg(
        "log { source(s); destination(c); flags(fallback); };\n\
         log { source(s); filter { program(\"x\"); }; destination(a); };",
    ));
    assert_eq!(deliveries(&r, "s", msg("x", "m")), ["a"]);
    assert_eq!(deliveries(&r, "s", msg("y", "m")), ["c"]);
}

#[test]
fn catchall_gets_every_source() {
    let r = router(&cfg("log { destination(a); flags(catchall); };"));
    assert_eq!(deliveries(&r, "s2", msg("x", "m")), ["a"]);
}

#[test]
fn rewrites_do_not_leak_between_paths() {
    let r = router(&cfg(
        "log { source(s); rewrite { set(\"changed\"); }; destination(a); };\n\
         log { source(s); destination(b); };",
    ));
    let mut seen = Vec::new();
    let id = r.source_id("s").unwrap();
    let original = msg("x", "orig");
    r.route(id, original.clone(), &mut |d, m| {
        seen.push((d.dest.0, String::from_utf8_lossy(m.message()).into_owned()))
    });
    assert_eq!(seen, [(0, "changed".to_string()), (1, "orig".to_string())]);
    assert_eq!(original.message(), b"orig");
}

#[test]
fn unmodified_messages_are_not_copied() {
    let r = router(&cfg(
        "log { source(s); filter { level(info..emerg); }; destination(a); destination(b); };",
    ));
    let m = msg("x", "m");
    let mut ptrs = Vec::new();
    r.route(r.source_id("s").unwrap(), m.clone(), &mut |_, d| {
        ptrs.push(Arc::as_ptr(&d))
    });
    assert_eq!(ptrs, [Arc::as_ptr(&m), Arc::as_ptr(&m)]);
}

#[test]
fn if_else_and_continuation() {
    let r = router(&cfg(
        "log { source(s); if (program(\"x\")) { destination(a); } else { destination(b); }; destination(c); };",
    ));
    assert_eq!(deliveries(&r, "s", msg("x", "m")), ["a", "c"]);
    assert_eq!(deliveries(&r, "s", msg("y", "m")), ["b", "c"]);
}

#[test]
fn failed_parser_drops_from_the_path() {
    let r = router(&cfg(
        "log { source(s); parser { json-parser(); }; destination(a); };\n\
         log { source(s); destination(b); flags(fallback); };",
    ));
    assert_eq!(deliveries(&r, "s", msg("x", "{\"k\":1}")), ["a"]);
    assert_eq!(deliveries(&r, "s", msg("x", "not json")), ["b"]);
}

#[test]
fn unknown_references_are_errors() {
    let m = super::testing::model(&cfg("log { source(s); destination(zzz); };"));
    let env = super::BuildEnv::new(&m);
    assert!(super::Router::build(&m, &env).is_err());
}

#[test]
fn flow_control_is_reported_per_delivery() {
    let r = router(&cfg(
        "log { source(s); destination(a); flags(flow-control); };\n\
         log { source(s); destination(b); };",
    ));
    let mut seen = Vec::new();
    r.route(r.source_id("s").unwrap(), msg("x", "m"), &mut |d, _| {
        seen.push((d.dest.0, d.flow_control))
    });
    assert_eq!(seen, [(0, true), (1, false)]);
}

#[test]
fn objects_with_channels() {
    // A destination made of a channel: its rewrite applies to what reaches the destination.
    let r = router(&cfg(
        "destination dc { channel { rewrite { set(\"via channel\"); }; destination(a); }; };\n\
         log { source(s); destination(dc); destination(b); };",
    ));
    let mut seen = Vec::new();
    r.route(r.source_id("s").unwrap(), msg("x", "m"), &mut |d, m| {
        seen.push((
            r.destinations()[d.dest.0 as usize].clone(),
            String::from_utf8_lossy(m.message()).into_owned(),
        ))
    });
    assert_eq!(
        seen,
        [
            ("a".to_string(), "via channel".to_string()),
            ("b".to_string(), "m".to_string())
        ]
    );
    // An object whose channel refers back to itself is refused, not followed forever.
    let m = super::testing::model(&cfg(
        "destination loop { channel { destination(loop); }; };\nlog { source(s); destination(loop); };",
    ));
    let env = super::BuildEnv::new(&m);
    assert!(super::Router::build(&m, &env).is_err());
}

#[test]
fn parser_objects_with_channels_run_their_channels_in_sequence() {
    // What the SCL's sudo-parser and app-parser() expand to: a parser whose body is a channel
    // with a parser and a filter, and a junction of final channels with a catch-all after.
    let r = router(&cfg(
        "parser p { channel { rewrite { set(\"seen ${MSG}\"); }; filter { program(\"x\"); }; }; };\n\
         parser apps { channel { junction {\n\
             channel { filter { program(\"x\"); }; rewrite { set-tag(\"app.x\"); }; flags(final); };\n\
             channel { filter { program(\"y\"); }; rewrite { set-tag(\"app.y\"); }; flags(final); };\n\
             channel { filter { tags(\".app.doesnotexist\"); }; flags(final); };\n\
         }; }; };\n\
         log { source(s); parser(p); destination(a); };\n\
         log { source(s2); junction { channel { parser(apps); flags(final); }; channel { flags(final); }; }; destination(b); };",
    ));
    let rendered = |source: &str, m| {
        let mut seen = Vec::new();
        r.route(r.source_id(source).unwrap(), m, &mut |d, m| {
            let tags: Vec<&str> = ["app.x", "app.y"]
                .into_iter()
                .filter(|t| m.has_tag(crate::message::TagId::intern(t)))
                .collect();
            seen.push((
                r.destinations()[d.dest.0 as usize].clone(),
                String::from_utf8_lossy(m.message()).into_owned(),
                tags.join(","),
            ))
        });
        seen
    };
    let one = |d: &str, m: &str, t: &str| vec![(d.to_string(), m.to_string(), t.to_string())];
    // The channel's rewrite runs, then its filter decides: a parser that drops.
    assert_eq!(rendered("s", msg("x", "m")), one("a", "seen m", ""));
    assert_eq!(rendered("s", msg("z", "m")), []);
    // The first application that matches wins; none matching passes the message unchanged.
    assert_eq!(rendered("s2", msg("x", "m")), one("b", "m", "app.x"));
    assert_eq!(rendered("s2", msg("y", "m")), one("b", "m", "app.y"));
    assert_eq!(rendered("s2", msg("z", "m")), one("b", "m", ""));
}

#[test]
fn a_junction_of_source_and_non_source_branches_is_refused() {
    // syslog-ng 3.38: "Error compiling junction, source and non-source branches are mixed".
    let m = super::testing::model(&cfg(
        "source mixed { channel { source { internal(); }; }; channel { rewrite { set(\"x\"); }; }; };\n\
         log { source(mixed); destination(a); };",
    ));
    let env = super::BuildEnv::new(&m);
    let e = super::Router::build(&m, &env).err().unwrap_or_default();
    assert!(
        e.iter()
            .any(|d| d.message
                == "Error compiling junction, source and non-source branches are mixed"),
        "{e:?}"
    );
}

#[test]
fn a_channel_without_sources_beside_a_source_driver_is_refused() {
    // Recorded with syslog-ng 3.38: a source object's drivers and channels are the branches of
    // one junction, and a channel with no source in it does not go with drivers.
    let m = super::testing::model(&cfg(
        "source sr { network(port(5516)); channel { rewrite { set(\"x\"); }; }; };\n\
         log { source(sr); destination(a); };",
    ));
    let env = super::BuildEnv::new(&m);
    let e = super::Router::build(&m, &env).err().unwrap_or_default();
    assert!(
        e.iter().any(|d| d
            .message
            .contains("source and non-source branches are mixed")),
        "{e:?}"
    );
}
