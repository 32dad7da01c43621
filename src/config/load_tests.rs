//! Tests of the whole syntax layer through its public entry points.

use std::path::{Path, PathBuf};

use super::*;
use crate::config::ast::{Ast, Node, Number, Quote, Stmt};
use crate::config::printer::{print, same_syntax};

fn opts() -> LoadOptions {
    LoadOptions {
        include_path: Vec::new(),
    }
}

fn load(text: &str) -> Ast {
    match load_str("test.conf", text, &opts()) {
        Ok(l) => l.ast,
        Err(f) => panic!("{}", f.render()),
    }
}

fn error(text: &str) -> (String, LoadFailure) {
    match load_str("test.conf", text, &opts()) {
        Ok(l) => panic!("loaded: {:#?}", l.ast),
        Err(f) => (f.render(), f),
    }
}

/// A compact rendering of a tree: words bare, strings quoted, calls `f(...)`, groups
/// `(...)`, blocks `{a; b;}`, arrows `k=>v`.
fn show(ast: &Ast) -> String {
    ast.stmts
        .iter()
        .map(show_stmt)
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_stmt(s: &Stmt) -> String {
    format!(
        "{};",
        s.nodes.iter().map(show_node).collect::<Vec<_>>().join(" ")
    )
}

fn show_node(n: &Node) -> String {
    let list = |v: &[Node]| v.iter().map(show_node).collect::<Vec<_>>().join(" ");
    match n {
        Node::Word(w) => w.value.clone(),
        Node::Str(s, Quote::Double) => format!("{:?}", s.value),
        Node::Str(s, Quote::Single) => format!("'{}'", s.value),
        Node::Number(n) => match n.value {
            Number::Int(i) => i.to_string(),
            Number::Float(f) => format!("{f:?}"),
        },
        Node::Op(o) => o.value.clone(),
        Node::Call { name, args, .. } => format!("{}({})", name.value, list(args)),
        Node::Group { items, .. } => format!("({})", list(items)),
        Node::Block { stmts, .. } => {
            format!(
                "{{{}}}",
                stmts.iter().map(show_stmt).collect::<Vec<_>>().join(" ")
            )
        }
        Node::Arrow { key, value, .. } => format!("{}=>{}", key.value, show_node(value)),
    }
}

fn roundtrip(ast: &Ast) {
    let printed = print(ast);
    let again = match load_str("printed.conf", &printed, &opts()) {
        Ok(l) => l.ast,
        Err(f) => panic!("printed text does not load:\n{printed}\n{}", f.render()),
    };
    assert!(same_syntax(ast, &again), "round trip differs:\n{printed}");
}

#[test]
fn statements_calls_groups_blocks() {
    let ast = load(
        "@version: 3.38\nsource s_net { network(ip(0.0.0.0) port(514)); };\n\
         filter f { level(info..emerg) and not (facility(auth, authpriv) or program('x')); };\n",
    );
    assert_eq!(
        show(&ast),
        "source s_net {network(ip(0.0.0.0) port(514));}; \
         filter f {level(info .. emerg) and not (facility(auth authpriv) or program('x'));};"
    );
    assert_eq!(ast.version.as_ref().map(|v| v.value.as_str()), Some("3.38"));
    let Node::Block { stmts, .. } = &ast.stmts[0].nodes[2] else {
        panic!()
    };
    let Node::Call { args, raw, .. } = &stmts[0].nodes[0] else {
        panic!()
    };
    assert_eq!(raw, "ip(0.0.0.0) port(514)");
    let Node::Call { raw, .. } = &args[0] else {
        panic!()
    };
    assert_eq!(raw, "0.0.0.0");
    roundtrip(&ast);
}

#[test]
fn arrows_and_option_forms() {
    let ast = load(
        "destination d { python(class(m.D) options(key => value, \"k2\" => \"v\" n => 5) \
         options(\"key\" \"value\")); };",
    );
    assert_eq!(
        show(&ast),
        "destination d {python(class(m.D) options(key=>value k2=>\"v\" n=>5) options(\"key\" \"value\"));};"
    );
    roundtrip(&ast);
}

#[test]
fn log_paths_junctions_if_and_flags() {
    let text = "log { source(s); junction { channel { filter(f); destination(d); }; channel { }; }; \
                log { destination(d2); }; \
                if (level(err) or program(\"x\")) { destination(d3); } elif (facility(mail)) { destination(d4); } else { flags(final); }; \
                flags(final fallback catchall flow-control); };";
    let ast = load(text);
    assert_eq!(
        show(&ast),
        "log {source(s); junction {channel {filter(f); destination(d);}; channel {};}; log {destination(d2);}; \
         if (level(err) or program(\"x\")) {destination(d3);} elif (facility(mail)) {destination(d4);} else {flags(final);}; \
         flags(final fallback catchall flow-control);};"
    );
    roundtrip(&ast);
}

#[test]
fn dashes_and_underscores_are_kept_as_written() {
    let ast = load(
        "options { log_fifo_size(1000); log-fifo-size(2); };\n\
         block destination my_dest(file_name(\"/x\")) {\nfile(`file-name`);\n};\n\
         destination d { my-dest(file-name(\"/y\")); };",
    );
    assert_eq!(
        show(&ast),
        "options {log_fifo_size(1000); log-fifo-size(2);}; destination d {file(\"/y\");};"
    );
}

#[test]
fn python_blocks_are_captured_verbatim() {
    let code = "\nimport re\n# don't { worry `not substituted`\n@staticmethod\ndef f(x):\n    d = {\"a\": '}', 'b': \"it's {\"}\n    s = \"\"\"triple { \" quoted\n    } \"\"\"\n    t = 'it\\'s }'\n    return d\n";
    let text = format!(
        "@version: 3.38\npython {{{code}}};\n@define x \"1\"\nsource s {{ internal(); }};\npython{{y = 1}};\n"
    );
    let loaded = load_str("py.conf", &text, &opts()).unwrap_or_else(|f| panic!("{}", f.render()));
    let ast = loaded.ast;
    assert_eq!(ast.python_blocks.len(), 2);
    assert_eq!(ast.python_blocks[0].code, code);
    assert_eq!(ast.python_blocks[1].code, "y = 1");
    let span = ast.python_blocks[0].span;
    assert_eq!(loaded.map.snippet(span), Some(code));
    assert_eq!(show(&ast), "source s {internal();};");
    roundtrip(&ast);
}

#[test]
fn defines_backticks_and_environment() {
    // SAFETY: tests in this module do not read this variable concurrently.
    unsafe { std::env::set_var("SLUICE_TEST_ENV_DIR", "/from/env") };
    let ast = load(
        "@define logdir \"/var/log\"\n@define mode 0640\n@define q \"\\\"quoted\\\"\"\n\
         destination d { file(\"`logdir`/`SLUICE_TEST_ENV_DIR`/`undefined`x\" perm(`mode`) template(`q`)); };\n\
         destination e { `logdir`; };",
    );
    assert_eq!(
        show(&ast),
        "destination d {file(\"/var/log//from/env/x\" perm(416) template(\"quoted\"));}; destination e {/var/log;};"
    );
}

#[test]
fn substituted_tokens_point_at_the_reference() {
    let text = "@define two \"a b\"\nsource s { `two`; };";
    let loaded = load_str("t.conf", text, &opts()).unwrap();
    let Node::Block { stmts, .. } = &loaded.ast.stmts[0].nodes[2] else {
        panic!()
    };
    let spans: Vec<_> = stmts[0]
        .nodes
        .iter()
        .map(|n| loaded.map.snippet(n.span()))
        .collect();
    assert_eq!(spans, vec![Some("`two`"), Some("`two`")]);
}

#[test]
fn modules_and_requires_are_recorded() {
    let ast = load(
        "@version: 3.38\n@module confgen context(destination) name(x) exec(\"`scl-root`/x.sh\")\n@requires json-plugin\n@module \"affile\"\n",
    );
    let names: Vec<_> = ast
        .modules
        .iter()
        .map(|m| (m.name.value.as_str(), m.required))
        .collect();
    assert_eq!(
        names,
        vec![("confgen", false), ("json-plugin", true), ("affile", false)]
    );
    roundtrip(&ast);
}

#[test]
fn empty_statements_where_syslog_ng_allows_them() {
    let ast = load(";;\nsource s { internal();; ; };\nlog { source(s);; };;");
    assert_eq!(show(&ast), "source s {internal();}; log {source(s);};");
    let (msg, _) = error("destination d { ; file(\"/x\"); };");
    assert!(
        msg.contains("syntax error, unexpected ';', expecting '}'"),
        "{msg}"
    );
}

#[test]
fn filter_bodies_may_omit_the_last_semicolon() {
    let ast = load("filter f { level(info) };\nlog { filter { program(x) }; };");
    assert_eq!(
        show(&ast),
        "filter f {level(info);}; log {filter {program(x);};};"
    );
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/valid")
}

/// Every valid corpus config loads, and prints to text that loads back to the same tree.
#[test]
fn corpus_configs_load_and_round_trip() {
    let Ok(entries) = std::fs::read_dir(corpus_dir()) else {
        return;
    };
    let mut count = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "conf") {
            continue;
        }
        let loaded = load_file(&path, &LoadOptions::default())
            .unwrap_or_else(|f| panic!("{}: {}", path.display(), f.render()));
        roundtrip(&loaded.ast);
        count += 1;
    }
    assert!(count > 0);
}

/// The system's syslog-ng configuration and SCL, where installed, load.
#[test]
fn system_configs_load() {
    let main = Path::new("/etc/syslog-ng/syslog-ng.conf");
    if main.exists() {
        let loaded =
            load_file(main, &LoadOptions::default()).unwrap_or_else(|f| panic!("{}", f.render()));
        roundtrip(&loaded.ast);
    }
    let scl = Path::new("/usr/share/syslog-ng/include/scl");
    let Ok(pattern) = glob::glob(&format!("{}/**/*.conf", scl.display())) else {
        return;
    };
    for path in pattern.flatten() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let wrapped = format!("@version: 3.38\n{text}");
        let name = path.display().to_string();
        if let Err(f) = load_str(&name, &wrapped, &LoadOptions::default()) {
            panic!("{}", f.render());
        }
    }
}
