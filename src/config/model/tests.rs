//! Tests of the top level: statements, objects, templates, options, errors.

use super::*;
use crate::config::de::testing;
use crate::config::span::SourceMap;

pub(super) fn model(text: &str) -> Model {
    let (map, ast) = testing::ast(text);
    match build(&ast) {
        Ok(m) => m,
        Err(diags) => panic!(
            "unexpected errors:\n{}",
            crate::config::diagnostic::render_all(&diags, &map)
        ),
    }
}

/// The errors of building `text`: (message, text under the span, context) each.
pub(super) fn errors(text: &str) -> Vec<(String, String, Option<String>)> {
    let (map, ast) = testing::ast(text);
    let diags = build(&ast).expect_err("expected errors");
    diags
        .iter()
        .map(|d| (d.message.clone(), snippet(&map, d), d.context.clone()))
        .collect()
}

/// For malformed statements that the syntax layer may reject first (it knows more of the
/// grammar than it strictly needs to, and learns more over time): passes if loading fails,
/// otherwise the model's first error must be `expected`.
pub(super) fn shape_error(text: &str, expected: &str) {
    let Ok(loaded) = crate::config::load::load_str("test.conf", text, &Default::default()) else {
        return;
    };
    let diags = build(&loaded.ast).expect_err("expected errors");
    assert_eq!(diags[0].message, expected, "for {text}");
}

pub(super) fn snippet(map: &SourceMap, d: &Diagnostic) -> String {
    d.span
        .and_then(|s| map.snippet(s))
        .unwrap_or("<none>")
        .to_string()
}

#[test]
fn objects_in_declaration_order() {
    let m = model(
        r#"@version: 3.38
source s_b { internal(); file("/x" follow-freq(1)); };
source "s a" { unix-dgram("/dev/log"); };
destination d { file("/y"); };
parser p { kv-parser(); };
rewrite r { set("a" value("b")); subst("x" "y" value("MSG")); };
"#,
    );
    assert_eq!(m.version.as_ref().map(|v| v.value.as_str()), Some("3.38"));
    let names: Vec<&str> = m.sources.iter().map(|s| s.name.value.as_str()).collect();
    assert_eq!(names, vec!["s_b", "s a"]);
    assert_eq!(m.sources[0].drivers().count(), 2);
    assert_eq!(m.sources[0].kind, ObjectKind::Source);
    assert!(!m.sources[0].inline);
    assert_eq!(m.destinations.len(), 1);
    assert_eq!(m.parsers[0].name.value, "p");
    assert_eq!(m.rewrites[0].drivers().count(), 2);
    assert!(m.object(ObjectKind::Destination, "d").is_some());
    assert!(m.object(ObjectKind::Source, "d").is_none());
}

#[test]
fn objects_may_contain_channels() {
    let m = model(
        r#"source s { channel { source { internal(); }; parser { kv-parser(); }; }; };
parser p { log { rewrite { set("a" value("b")); }; }; json-parser(); };"#,
    );
    let s = m.object(ObjectKind::Source, "s").expect("s");
    assert_eq!(s.drivers().count(), 0);
    let ObjectItem::Channel(path) = &s.items[0] else {
        panic!("expected a channel");
    };
    assert_eq!(path.items.len(), 2);
    // The inline objects inside the channel are registered with generated names (before
    // the object that contains them, which is complete only after its body).
    let sources: Vec<&str> = m.sources.iter().map(|o| o.name.value.as_str()).collect();
    assert_eq!(sources, vec!["#anon-source0", "s"]);
    let parsers: Vec<&str> = m.parsers.iter().map(|o| o.name.value.as_str()).collect();
    assert_eq!(parsers, vec!["#anon-parser0", "p"]);
    assert_eq!(m.rewrites[0].name.value, "#anon-rewrite0");
    assert_eq!(
        m.object(ObjectKind::Parser, "p").map(|p| p.items.len()),
        Some(2)
    );
}

#[test]
fn global_options_merge_every_options_statement() {
    let m = model("options { chain_hostnames(off); flush_lines(0); };\noptions { use-dns(no); };");
    let names: Vec<&str> = m
        .global_options
        .iter()
        .filter_map(|n| match n {
            Node::Call { name, .. } => Some(name.value.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names, vec!["chain_hostnames", "flush_lines", "use-dns"]);
}

#[test]
fn templates_in_both_forms() {
    let m = model(
        r#"template t1 "${MSG}\n";
template t2 { template("${HOST} ${MSG}\n"); template-escape(yes); };
template t3 { template("a"); template("b"); };
template t4 { template_escape(no); };
template t5 word;
template-function tf "x${MSG}";"#,
    );
    let t = |n: &str| m.template(n).expect(n);
    assert_eq!(
        t("t1").content.as_ref().map(|c| c.value.as_str()),
        Some("${MSG}\n")
    );
    assert_eq!(t("t1").escape, None);
    assert_eq!(
        t("t2").content.as_ref().map(|c| c.value.as_str()),
        Some("${HOST} ${MSG}\n")
    );
    assert_eq!(t("t2").escape, Some(true));
    assert_eq!(
        t("t3").content.as_ref().map(|c| c.value.as_str()),
        Some("b"),
        "later wins"
    );
    assert_eq!(t("t4").content, None);
    assert_eq!(t("t4").escape, Some(false));
    assert_eq!(
        t("t5").content.as_ref().map(|c| c.value.as_str()),
        Some("word")
    );
    assert_eq!(m.template_functions.len(), 1);
    assert_eq!(m.template_functions[0].name.value, "tf");
}

#[test]
fn template_errors() {
    let e = errors("template t { foo(\"a\"); };");
    assert_eq!(e[0].0, "unknown option `foo`");
    assert_eq!(e[0].1, "foo");
    assert_eq!(e[0].2.as_deref(), Some("template"));
    let e = errors("template t { template-escape(maybe); };");
    assert_eq!(e[0].0, "expected yes or no, found `maybe`");
    shape_error(
        "template-function f { template(\"x\"); };",
        "expected a template string, found `{...}`",
    );
    shape_error(
        "template t;",
        "expected a template string or '{', found nothing",
    );
    shape_error(
        "template t \"a\" \"b\";",
        "unexpected `\"b\"`, expecting ';'",
    );
}

#[test]
fn unknown_top_level_statement() {
    let e = errors("sorce s { internal(); };");
    assert_eq!(e[0].0, "unknown top-level statement `sorce`");
    assert_eq!(e[0].1, "sorce");
    assert_eq!(e[0].2, None);
    let (map, ast) = testing::ast("sorce s { internal(); };");
    let d = &build(&ast).expect_err("error")[0];
    assert_eq!(d.notes, vec!["did you mean `source`?".to_string()]);
    let rendered = d.render(&map);
    assert_eq!(
        rendered,
        "Error parsing configuration, unknown top-level statement `sorce` in test.conf:1:1-1:6:\n\
1-----> sorce s { internal(); };\n\
1-----> ^^^^^\n\
\x20 did you mean `source`?\n"
    );
    let (_, ast) = testing::ast("junction foo { };");
    let d = &build(&ast).expect_err("error")[0];
    assert!(d.notes[0].starts_with("valid statements: application, options, source"));
}

/// `application NAME[TOPIC] {...}` as syslog-ng 3.38 reads it: any `filter {}` and
/// `parser {}` blocks, their contents unchecked (3.38 accepts `mesage()` there at `-s`),
/// the brackets and the block shape checked.
#[test]
fn application_statements() {
    let (_, ast) = testing::ast(
        "application cee[syslog] {\n\
             filter { mesage(\"@cee:\"); };\n\
             parser { json-parser(prefix(\".cee.\")); };\n\
             parser { no-such-parser(); };\n\
         };\n\
         application empty[syslog] { };",
    );
    let m = build(&ast).expect("builds");
    assert_eq!(m.applications.len(), 2);
    let cee = &m.applications[0];
    assert_eq!(
        (cee.name.value.as_str(), cee.topic.value.as_str()),
        ("cee", "syslog")
    );
    assert_eq!((cee.filters.len(), cee.parsers.len()), (1, 2));
    shape_error("application cee { };", "unexpected `{...}`, expecting '['");
    shape_error(
        "application cee[syslog] { foo { x(); }; };",
        "unexpected `foo`, expecting '}'",
    );
}

#[test]
fn malformed_object_statements() {
    shape_error(
        "source { internal(); };",
        "expected the name of the source, found `{...}`",
    );
    shape_error(
        "source 5 { internal(); };",
        "expected the name of the source, found `5`",
    );
    shape_error(
        "destination d file(\"x\");",
        "unexpected `file(...)`, expecting '{'",
    );
    shape_error("source s;", "expected '{' after `source`");
    // (Two drivers in one statement are a syntax error the parser reports.)
    shape_error(
        "source s { \"oops\"; };",
        "expected a source driver, found `\"oops\"`",
    );
    shape_error("log my { source(s); };", "unexpected `my`, expecting '{'");
}

#[test]
fn every_error_is_collected() {
    let e = errors(
        "sorce a { };\nfilter f { level(info) and; };\nlog { source(s); flags(finall); };\ntemplate t { x(1); };",
    );
    let messages: Vec<&str> = e.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "unknown top-level statement `sorce`",
            "unexpected ';', expecting a filter expression after `and`",
            "unknown log path flag `finall`",
            "unknown option `x`",
        ]
    );
}

#[test]
fn python_blocks_are_copied() {
    let m = model("python { };\nsource s { internal(); };");
    assert_eq!(m.python_blocks.len(), 1);
}

#[test]
fn empty_configuration() {
    let m = model("");
    assert_eq!(m, Model::default());
}
