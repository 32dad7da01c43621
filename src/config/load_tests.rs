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

/// The SCL's two-argument form: `@requires MODULE "what to install"`.
#[test]
fn requires_takes_a_message() {
    let ast = load(
        "@version: 3.38\n@requires json-plugin \"install syslog-ng-mod-json\"\n@requires afsocket\n",
    );
    let got: Vec<_> = ast
        .modules
        .iter()
        .map(|m| (m.name.value.as_str(), m.message.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("json-plugin", Some("install syslog-ng-mod-json")),
            ("afsocket", None)
        ]
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
    // Each file included, as scl.conf does: a `@requires` of a module sluice lacks skips
    // the rest of an included file, where in a main file it is an error (3.38's rule).
    for path in pattern.flatten() {
        let wrapped = format!("@version: 3.38\n@include \"{}\"\n", path.display());
        let name = format!("including {}", path.display());
        if let Err(f) = load_str(&name, &wrapped, &LoadOptions::default()) {
            panic!("{}", f.render());
        }
    }
}

#[test]
fn renders_missing_semicolon_after_object() {
    let (msg, _) = error(
        "@version: 3.38\nsource s_local {\n  internal();\n}\ndestination d { file(\"/x\"); };\n",
    );
    assert_eq!(
        msg,
        "Error parsing within source, syntax error, unexpected identifier `destination`, expecting ';' in test.conf:5:1-5:12:\n\
3         internal();\n\
4       }\n\
5-----> destination d { file(\"/x\"); };\n\
5-----> ^^^^^^^^^^^\n\
6       \n"
    );
}

#[test]
fn renders_unterminated_string_at_its_quote() {
    let (msg, _) = error("@version: 3.38\ndestination d { file(\"/var/log/x); };\nlog { };\n");
    assert_eq!(
        msg,
        "Error parsing within destination, syntax error, unterminated string literal in test.conf:2:22-2:23:\n\
1       @version: 3.38\n\
2-----> destination d { file(\"/var/log/x); };\n\
2----->                      ^\n\
3       log { };\n\
4       \n"
    );
}

#[test]
fn renders_unknown_block_argument_with_suggestion() {
    let text = "block destination my_file(path() perm(0640)) {\n  file(`path` perm(`perm`));\n};\ndestination d { my_file(path(\"/x\") prem(0600)); };\n";
    let (msg, _) = error(text);
    assert_eq!(
        msg,
        "Error parsing within destination, unknown argument `prem` in reference to block `my_file` in test.conf:4:36-4:40:\n\
2         file(`path` perm(`perm`));\n\
3       };\n\
4-----> destination d { my_file(path(\"/x\") prem(0600)); };\n\
4----->                                    ^^^^\n\
5       \n\
\x20 did you mean `perm`?\n"
    );
}

#[test]
fn errors_inside_expansions_point_into_the_block_body() {
    let text = "block destination my_file(path()) {\n  file(`path`\n    perm(0640)\n  ) junk;\n};\ndestination d { my_file(path(\"/x\")); };\n";
    let (msg, failure) = error(text);
    assert_eq!(
        msg,
        "Error parsing within destination, syntax error, unexpected identifier `junk`, expecting ';' in test.conf:4:5-4:9:\n\
2         file(`path`\n\
3           perm(0640)\n\
4----->   ) junk;\n\
4----->     ^^^^\n\
5       };\n\
6       destination d { my_file(path(\"/x\")); };\n\
\x20 in the expansion of block `my_file` used at test.conf:6:17\n"
    );
    let span = failure.diagnostics[0].span.unwrap_or_default();
    assert_ne!(span.expansion.0, 0);
}

#[test]
fn unbalanced_brackets_point_at_the_opener() {
    let (_, f) = error("source s {\n  file(\"/x\";\n};");
    assert_eq!(
        f.diagnostics[0].message,
        "syntax error, unexpected ';', expecting ')'"
    );
    let (_, f) = error("source s { file(\"/x\"\n");
    let d = &f.diagnostics[0];
    assert_eq!(
        d.message,
        "syntax error, unexpected end of file: this '(' is never closed"
    );
    assert_eq!(d.span.map(|s| s.start), Some(15));
    let (_, f) = error("log {\n  source(s);\n");
    assert_eq!(f.diagnostics[0].span.map(|s| s.start), Some(4));
    let (_, f) = error("source s { };\n};");
    assert_eq!(f.diagnostics[0].message, "syntax error, unexpected '}'");
    let (_, f) = error("source s { internal(); }");
    assert_eq!(
        f.diagnostics[0].message,
        "syntax error, unexpected end of file, expecting ';'"
    );
}

#[test]
fn pragma_errors() {
    let (_, f) = error("@version: 3.38\n@incldue \"scl.conf\"\n");
    assert_eq!(f.diagnostics[0].message, "unknown pragma `@incldue`");
    assert_eq!(
        f.diagnostics[0].notes,
        vec!["did you mean `@include`?".to_string()]
    );
    let (_, f) = error("@define x \"y\";\n");
    assert_eq!(
        f.diagnostics[0].message,
        "syntax error, unexpected ';', expecting end of line"
    );
    let (_, f) = error("@version: 3.38.1\n");
    assert!(
        f.diagnostics[0]
            .message
            .starts_with("invalid version `3.38.1`")
    );
    let (_, f) = error("  @define x \"y\"\n");
    assert!(
        f.diagnostics[0]
            .message
            .contains("unexpected invalid token '@'")
    );
    let (_, f) = error("# it`s a comment\n");
    assert_eq!(
        f.diagnostics[0].message,
        "missing closing backtick (`) character"
    );
    let (_, f) = error("destination d { file(\"a\\`b`\"); };\n");
    assert!(
        f.diagnostics[0]
            .message
            .starts_with("cannot substitute backticked values")
    );
    // A pragma may even sit in the middle of a statement; `@ define` is fine.
    let ast = load("source s {\n@ define x \"internal\"\n`x`();\n};\n");
    assert_eq!(show(&ast), "source s {internal();};");
    assert_eq!(
        load("@version: current\n").version.map(|v| v.value),
        Some("current".into())
    );
}

#[test]
fn block_errors_and_limits() {
    let (_, f) = error("block destination b(p()) {\n file(`p`);\n};\ndestination d { b(); };");
    assert_eq!(
        f.diagnostics[0].message,
        "missing mandatory argument `p` in reference to block `b`"
    );
    assert_eq!(
        f.diagnostics[0].span.map(|s| (s.start, s.end)),
        Some((58, 61))
    );
    let (_, f) = error("block destination b(p) {\n file(`p`);\n};");
    assert_eq!(
        f.diagnostics[0].message,
        "syntax error, unexpected ')', expecting '('"
    );
    let (_, f) = error("block template t() {\n x;\n};");
    assert_eq!(f.diagnostics[0].message, "unknown context \"template\"");
    let (_, f) = error("block destination b() {\n file(\"/x\");\n}\nsource s { internal(); };");
    assert_eq!(
        f.diagnostics[0].message,
        "syntax error, unexpected identifier `source`, expecting ';'"
    );
    let (_, f) = error("block destination b(p()) {\n file(`p`);\n};\ndestination d { b(\"x\"); };");
    assert_eq!(
        f.diagnostics[0].message,
        "syntax error, unexpected string, expecting ')'"
    );
    let (_, f) = error("block root r() {\n r()\n};\nr();");
    assert!(
        f.diagnostics[0]
            .message
            .starts_with("block expansions nested too deeply")
    );
    // A block is only a block in its own context.
    let ast = load("block source b() {\n internal();\n};\ndestination d { b(); };");
    assert_eq!(show(&ast), "destination d {b();};");
}

#[test]
fn varargs_nested_blocks_and_defaults() {
    let ast = load(
        "block destination inner(path() ...) {\n  file(`path` `__VARARGS__`);\n};\n\
         block destination outer(name() dir(\"/var/log\") ...) {\n  inner(path(\"`dir`/`name`\") `__VARARGS__`);\n  inner(path('/b'));\n};\n\
         destination d { outer(name(x.log) create-dirs(yes) perm(0600)); };",
    );
    assert_eq!(
        show(&ast),
        "destination d {file(\"/var/log/x.log\" create_dirs(yes) perm(384)); file('/b');};"
    );
    // Arguments are pasted verbatim, quotes and inner spacing included.
    let ast = load("block root r(v( \"a\" )) {\ntemplate t { template(`v`); };\n};\nr();");
    assert_eq!(show(&ast), "template t {template(\"a\");};");
}

#[test]
fn includes_relative_glob_directory_and_stub() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir_all(d.join("conf.d")).unwrap();
    std::fs::create_dir_all(d.join("lib")).unwrap();
    std::fs::write(d.join("conf.d/b.conf"), "source b { internal(); };\n").unwrap();
    std::fs::write(d.join("conf.d/a.conf"), "source a { internal(); };\n").unwrap();
    std::fs::write(d.join("conf.d/a.conf~"), "garbage\n").unwrap();
    std::fs::write(d.join("lib/part.conf"), "@include \"nested.inc\"\n").unwrap();
    std::fs::write(d.join("lib/nested.inc"), "file(\"/n\");\n").unwrap();
    let main = d.join("main.conf");
    std::fs::write(
        &main,
        "@version: 3.38\n@include \"scl.conf\"\n@include \"conf.d/*.conf\"\n@include \"conf.d\"\n@include \"none/*.conf\"\n\
         destination n {\n@include \"part.conf\"\n};\n",
    )
    .unwrap();
    let opts = LoadOptions {
        include_path: vec![d.join("lib")],
    };
    let loaded = load_file(&main, &opts).unwrap_or_else(|f| panic!("{}", f.render()));
    assert_eq!(
        show(&loaded.ast),
        "source a {internal();}; source b {internal();}; source a {internal();}; source b {internal();}; destination n {file(\"/n\");};"
    );
    // An error in an included file says where it was included from.
    std::fs::write(d.join("lib/bad.conf"), "source x {\n  internal()\n};\n").unwrap();
    std::fs::write(&main, "@version: 3.38\n@include \"bad.conf\"\n").unwrap();
    let f = load_file(&main, &opts).unwrap_err();
    let notes = &f.diagnostics[0].notes;
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with("included from ") && notes[0].ends_with("main.conf:2:10"),
        "{notes:?}"
    );
    // Missing file: an error at the path string.
    std::fs::write(&main, "@include \"missing.conf\"\n").unwrap();
    let f = load_file(&main, &opts).unwrap_err();
    assert_eq!(
        f.diagnostics[0].message,
        "include file `missing.conf` not found"
    );
    assert_eq!(
        f.diagnostics[0].span.map(|s| (s.start, s.end)),
        Some((9, 23))
    );
    // Cycles are caught.
    std::fs::write(&main, "@include \"main.conf\"\n").unwrap();
    let f = load_file(&main, &opts).unwrap_err();
    assert!(
        f.diagnostics[0].message.starts_with("include cycle"),
        "{}",
        f.render()
    );
}

#[test]
fn pathological_inputs_are_errors_not_crashes() {
    let deep = format!("source s {{ f({}); }};", "(".repeat(5000));
    let (_, f) = error(&deep);
    assert!(
        f.diagnostics[0]
            .message
            .starts_with("brackets nested too deeply")
    );
    let braces = "log {".repeat(5000);
    let (_, f) = error(&braces);
    assert!(
        f.diagnostics[0]
            .message
            .starts_with("brackets nested too deeply")
    );
    let arrows = format!("source s {{ f({} x); }};", "a => ".repeat(5000));
    let (_, f) = error(&arrows);
    assert!(
        f.diagnostics[0]
            .message
            .starts_with("brackets nested too deeply")
    );
    // Definitions that double at every level.
    let mut doubling = String::from("@define d0 \"xxxxxxxxxxxxxxxx\"\n");
    for i in 1..40 {
        doubling.push_str(&format!("@define d{i} \"`d{}``d{}`\"\n", i - 1, i - 1));
    }
    let (_, f) = error(&doubling);
    assert!(
        f.diagnostics[0].message.contains("more than"),
        "{}",
        f.diagnostics[0].message
    );
    // Blocks that double at every level.
    let mut blocks = String::from("block root b0() {\nsource s { internal(); };\n};\n");
    for i in 1..40 {
        blocks.push_str(&format!(
            "block root b{i}() {{\nb{0}() b{0}()\n}};\n",
            i - 1
        ));
    }
    blocks.push_str("b39();\n");
    let (_, f) = error(&blocks);
    assert!(
        f.diagnostics[0]
            .message
            .starts_with("too many block expansions")
    );
}

#[test]
fn scl_style_channels_conditionless_if_and_applications() {
    let ast = load(
        "block parser ts(template()) {\n  channel {\n    rewrite { set(\"`template`\" value('1')); };\n    if {\n      filter { match('^x' value('1')); };\n    } else {\n      parser { date-parser(template(\"$1\")); };\n    };\n  };\n};\n\
         block parser p2() {\n  channel {\n    if { parser { ts(template(\"$2\")); }; };\n  };\n};\n\
         application cisco[syslog-raw] {\n  parser { p2(); };\n};\n",
    );
    assert_eq!(
        show(&ast),
        "application cisco [ syslog-raw ] {parser {channel {if {parser {channel {rewrite {set(\"$2\" value('1'));}; \
         if {filter {match('^x' value('1'));};} else {parser {date-parser(template(\"$1\"));};};};};};};};};"
    );
    roundtrip(&ast);
}
