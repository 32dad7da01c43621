//! Tests of log paths: references, inline objects, nesting, junctions, if/elif/else, flags.

use super::tests::{errors, model, shape_error};
use super::*;

fn names(path: &LogPath) -> Vec<String> {
    path.items
        .iter()
        .map(|item| match item {
            LogItem::Source(r) => format!("source:{}", r.name.value),
            LogItem::Filter(r) => format!("filter:{}", r.name.value),
            LogItem::Parser(r) => format!("parser:{}", r.name.value),
            LogItem::Rewrite(r) => format!("rewrite:{}", r.name.value),
            LogItem::Destination(r) => format!("destination:{}", r.name.value),
            LogItem::Log(p) => format!("log[{}]", names(p).join(" ")),
            LogItem::Channel(p) => format!("channel[{}]", names(p).join(" ")),
            LogItem::Junction(j) => format!(
                "junction[{}]",
                j.branches
                    .iter()
                    .map(|b| names(b).join(" "))
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
            LogItem::If(c) => format!(
                "if[{}{}]",
                c.branches
                    .iter()
                    .map(|b| format!(
                        "{}:{}",
                        if b.condition.is_some() {
                            "cond"
                        } else {
                            "always"
                        },
                        names(&b.body).join(" ")
                    ))
                    .collect::<Vec<_>>()
                    .join(" | "),
                c.otherwise
                    .as_ref()
                    .map_or(String::new(), |o| format!(" | else:{}", names(o).join(" ")))
            ),
        })
        .collect()
}

#[test]
fn references_in_order() {
    let m = model("log { source(s); filter(f); parser(p); rewrite(\"r\"); destination(d); };");
    assert_eq!(
        names(&m.log_paths[0]),
        vec![
            "source:s",
            "filter:f",
            "parser:p",
            "rewrite:r",
            "destination:d"
        ]
    );
    let refs = m.log_paths[0].references();
    assert_eq!(refs.len(), 5);
    assert_eq!(refs[0].0, ObjectKind::Source);
    assert!(!refs[0].1.inline);
}

#[test]
fn inline_objects_get_syslog_ng_names() {
    let m = model(
        r#"log { source { file("/in"); }; filter { level(info); }; destination { file("/o1"); }; };
log { source { file("/in2"); }; destination { file("/o2"); }; destination { file("/o3"); }; };"#,
    );
    assert_eq!(
        names(&m.log_paths[0]),
        vec![
            "source:#anon-source0",
            "filter:#anon-filter0",
            "destination:#anon-destination0"
        ]
    );
    assert_eq!(
        names(&m.log_paths[1]),
        vec![
            "source:#anon-source1",
            "destination:#anon-destination1",
            "destination:#anon-destination2"
        ]
    );
    let d = m
        .object(ObjectKind::Destination, "#anon-destination2")
        .expect("inline");
    assert!(d.inline);
    assert_eq!(d.drivers().count(), 1);
    assert!(m.filter("#anon-filter0").is_some_and(|f| f.inline));
    // Generated names are not offered as suggestions.
    assert!(m.names(ObjectKind::Destination).is_empty());
}

#[test]
fn nested_logs_channels_and_junctions() {
    let m = model(
        r#"log {
  source(s);
  log { filter(f_auth); destination { file("/a"); }; flags(final); };
  log { filter { program("cron"); }; log { destination(d); }; };
  junction {
    channel { filter(f1); flags(final); };
    channel { rewrite { set("x" value("y")); }; };
    log { destination(d2); };
  };
  channel { parser(p); };
  destination(d_all);
};"#,
    );
    let p = &m.log_paths[0];
    assert_eq!(
        names(p),
        vec![
            "source:s",
            "log[filter:f_auth destination:#anon-destination0]",
            "log[filter:#anon-filter0 log[destination:d]]",
            "junction[filter:f1 | rewrite:#anon-rewrite0 | destination:d2]",
            "channel[parser:p]",
            "destination:d_all",
        ]
    );
    let LogItem::Log(first) = &p.items[1] else {
        panic!("log");
    };
    assert!(first.flags.r#final);
    let LogItem::Junction(j) = &p.items[3] else {
        panic!("junction");
    };
    assert!(j.branches[0].flags.r#final);
    // references() walks every level.
    let all: Vec<&str> = p
        .references()
        .iter()
        .map(|(_, r)| r.name.value.as_str())
        .collect();
    assert_eq!(
        all,
        vec![
            "s",
            "f_auth",
            "#anon-destination0",
            "#anon-filter0",
            "d",
            "f1",
            "#anon-rewrite0",
            "d2",
            "p",
            "d_all"
        ]
    );
}

#[test]
fn if_elif_else() {
    let m = model(
        r#"log {
  source(s);
  if (level(err) and program("x")) { destination(d1); }
  elif ("$HOST" eq "a") { destination(d2); }
  elif { destination(d3); }
  else { destination(d4); };
  if { filter(f); };
};"#,
    );
    let p = &m.log_paths[0];
    assert_eq!(
        names(p),
        vec![
            "source:s",
            "if[cond:destination:d1 | cond:destination:d2 | always:destination:d3 | else:destination:d4]",
            "if[always:filter:f]",
        ]
    );
    assert_eq!(p.conditions().len(), 2);
}

#[test]
fn if_errors() {
    shape_error(
        "log { source(s); if (level(info)) { } else { } else { }; };",
        "unexpected `else`, expecting ';'",
    );
    let e = errors("log { source(s); if () { }; };");
    assert_eq!(e[0].0, "unexpected ')', expecting a filter expression");
    assert_eq!(e[0].1, ")");
    shape_error(
        "log { source(s); if (level(info)) { } else if (level(debug)) { }; };",
        "unexpected `if`, expecting '{' after `else`",
    );
}

#[test]
fn flags() {
    let m = model(
        "log { source(s); flags(final, flow_control); };\n\
         log { flags(catchall); };\nlog { source(s); flags(\"catch-all\" fallback drop-unmatched); };",
    );
    let f0 = &m.log_paths[0].flags;
    assert!(f0.r#final && f0.flow_control && !f0.fallback);
    assert!(m.log_paths[1].flags.catchall);
    let f2 = &m.log_paths[2].flags;
    assert!(f2.catchall && f2.fallback && f2.drop_unmatched);
    assert!(m.log_paths[0].flags.span.is_some());
}

#[test]
fn flag_errors() {
    let (map, ast) = crate::config::de::testing::ast("log { source(s); flags(finall); };");
    let d = &build(&ast).expect_err("bad flag")[0];
    assert_eq!(d.message, "unknown log path flag `finall`");
    assert_eq!(d.notes, vec!["did you mean `final`?".to_string()]);
    assert_eq!(
        d.render(&map),
        "Error parsing within log, unknown log path flag `finall` in test.conf:1:24-1:30:\n\
1-----> log { source(s); flags(finall); };\n\
1----->                        ^^^^^^\n\
\x20 did you mean `final`?\n"
    );
    let e = errors("log { flags(final); source(s); };");
    assert_eq!(
        e[0].0,
        "unexpected `source(...)` after flags(): flags() must be the last element of a log path"
    );
    let e = errors("log { source(s); flags(Final); };");
    assert_eq!(e[0].0, "unknown log path flag `Final`");
}

#[test]
fn malformed_items() {
    let e = errors("log { source(s t); };");
    assert_eq!(e[0].0, "source() takes the name of one source");
    let e = errors("log { sourse(s); };");
    assert_eq!(e[0].0, "unknown log path element `sourse`");
    shape_error(
        "log { destination; };",
        "expected '{' after `destination`, found nothing",
    );
    shape_error(
        "log { junction { destination(d); }; };",
        "expected `channel { ... }` inside a junction, found `destination(...)`",
    );
    shape_error(
        "log { \"s\"; };",
        "expected a log path element, found `\"s\"`",
    );
    let e = errors("log { filter { }; };");
    assert_eq!(e[0].0, "unexpected '}', expecting a filter expression");
}
