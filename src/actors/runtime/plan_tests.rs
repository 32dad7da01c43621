//! Tests of planning: what plans, what is refused by name.
use super::*;
use crate::config::load::{LoadOptions, load_str};

fn try_plan(body: &str) -> Result<Plan, Vec<Diagnostic>> {
    let text = format!("@version: 3.38\n{body}");
    let loaded = load_str("t.conf", &text, &LoadOptions::default()).expect("config");
    let model = crate::config::model::build(&loaded.ast).expect("model");
    plan(&model)
}

#[test]
fn plans_tcp_to_file() {
    let p = try_plan(
        "source s { network(port(5140)); internal(); };\n\
         destination d { file(\"/tmp/x\"); file(\"/tmp/y\"); };\n\
         log { source(s); destination(d); flags(flow-control); };\n",
    )
    .map_err(|e| format!("{e:?}"))
    .expect("plan");
    assert_eq!(p.sources.len(), 2);
    assert_eq!(p.dests.len(), 2);
    assert_eq!(p.slots, vec![vec![0, 1]]);
}

#[test]
fn inline_sources_in_a_channel_run_under_the_enclosing_source() {
    // system()'s shape: `$SOURCE`, the stats rows and the driver ids are the named
    // source's, its drivers numbered across the nesting (syslog-ng 3.38: `s#1` for
    // internal() here).
    let p = try_plan(
        "source s { channel { source { unix-dgram(\"/tmp/t.sock\"); };\n\
         rewrite { set(\"x\" value(\"PID\")); }; }; internal(); };\n\
         destination d { file(\"/tmp/x\"); };\nlog { source(s); destination(d); };\n",
    )
    .map_err(|e| format!("{e:?}"))
    .expect("plan");
    let seen: Vec<_> = p
        .sources
        .iter()
        .map(|s| {
            (
                s.group.as_str(),
                s.driver_id.as_str(),
                s.driver_name.as_str(),
            )
        })
        .collect();
    assert_eq!(seen, [("s", "s#0", "unix-dgram"), ("s", "s#1", "internal")]);
}

#[test]
fn refuses_what_the_runtime_lacks_by_name() {
    let e = try_plan(
        "source s { wildcard-file(base-dir(\"/tmp\") filename-pattern(\"*.log\")); };\n\
         destination d { file(\"/dev/null\"); };\n\
         log { source(s); destination(d); };\n",
    )
    .err()
    .unwrap_or_default();
    let msgs: Vec<_> = e.iter().map(|d| d.message.as_str()).collect();
    assert!(msgs.contains(&"driver `wildcard-file` is not supported by the runtime yet"));
    let e = try_plan(
        "source s { network(transport(proxied-tcp)); };\n\
         destination d { file(\"/var/x\"); };\nlog { source(s); destination(d); };\n",
    )
    .err()
    .unwrap_or_default();
    let msgs: Vec<_> = e.iter().map(|d| d.message.as_str()).collect();
    assert!(msgs.contains(&"transport(proxied-tcp) is not supported by the runtime yet"));
}

#[test]
fn template_functions_are_compiled_in_order_and_called_without_arguments() {
    let dest = |t: &str| {
        format!(
            "source s {{ internal(); }};\n\
             destination d {{ file(\"/tmp/x\" template(\"{t}\")); }};\n\
             log {{ source(s); destination(d); }};\n"
        )
    };
    let body = format!(
        "template-function tf \"x${{MSG}}\";\ntemplate-function tf2 \"[$(tf)]\";\n{}",
        dest("$(tf2) $(format-gelf)")
    );
    assert!(try_plan(&body).is_ok());
    let messages = |body: &str| -> Vec<String> {
        try_plan(body)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.message)
            .collect()
    };
    let body = format!("template-function tf \"x$(tf)\";\n{}", dest("$(tf)"));
    assert_eq!(
        messages(&body),
        vec!["Error compiling template: Unknown template function \"tf\""]
    );
    let body = format!("template-function tf \"x\";\n{}", dest("$(tf a)"));
    assert_eq!(
        messages(&body),
        vec![
            "Error compiling template: User defined template function $(tf) cannot have \
             arguments"
        ]
    );
}

#[test]
fn two_socket_destinations_with_one_persist_name_are_refused() {
    let body = "source s { internal(); };\n\
         destination a { network(\"127.0.0.1\" port(5999)); };\n\
         destination b { network(\"127.0.0.1\" port(5999)); };\n\
         destination c { network(\"127.0.0.1\" port(5999) persist-name(\"c\")); };\n\
         log { source(s); destination(a); destination(b); destination(c); };\n";
    let e = try_plan(body).err().unwrap_or_default();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0].message,
        "conflicting persist names: `afsocket_dd.(stream,127.0.0.1:5999)` is used by two \
         destinations; give one of them a persist-name()"
    );
    assert_eq!(e[0].notes, vec!["the other one is in destination `a`"]);
}
