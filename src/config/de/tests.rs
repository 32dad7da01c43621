//! Tests of the option deserializer: scalars, lists, structs, maps, enums, merging of
//! repeated options, and where each error points.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::testing;
use super::*;
use crate::config::span::SourceMap;

/// Reads `T` from the call in `text`.
pub(super) fn read<T: DeserializeOwned>(text: &str) -> T {
    let (map, call) = testing::node(text);
    match from_call(&call) {
        Ok(v) => v,
        Err(d) => panic!("unexpected error:\n{}", d.render(&map)),
    }
}

/// The error for reading `T` from the call in `text`: (message, text under the span, notes).
pub(super) fn fail<T: DeserializeOwned + std::fmt::Debug>(
    text: &str,
) -> (String, String, Vec<String>) {
    let (map, call) = testing::node(text);
    let d = from_call::<T>(&call).expect_err("expected an error");
    (d.message.clone(), snippet(&map, &d), d.notes.clone())
}

pub(super) fn snippet(map: &SourceMap, d: &Diagnostic) -> String {
    d.span
        .and_then(|s| map.snippet(s))
        .unwrap_or("<no span>")
        .to_string()
}

fn default_follow_freq() -> f64 {
    1.0
}

#[derive(Debug, Deserialize, PartialEq, Default)]
#[serde(rename_all = "kebab-case")]
enum SourceFlag {
    #[default]
    NoParse,
    Kernel,
    EmptyLines,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct DiskBuffer {
    #[serde(default)]
    reliable: bool,
    dir: Option<String>,
    disk_buf_size: u64,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(super) struct FileSource {
    #[serde(rename = "0:path")]
    path: String,
    #[serde(default = "default_follow_freq")]
    follow_freq: f64,
    #[serde(default)]
    flags: Vec<SourceFlag>,
    #[serde(default)]
    log_iw_size: Option<u32>,
    disk_buffer: Option<DiskBuffer>,
}

#[test]
fn reads_positional_options_and_defaults() {
    let f: FileSource = read(r#"file("/var/log/x" follow_freq(0.5) flags(no-parse, kernel))"#);
    assert_eq!(f.path, "/var/log/x");
    assert_eq!(f.follow_freq, 0.5);
    assert_eq!(f.flags, vec![SourceFlag::NoParse, SourceFlag::Kernel]);
    assert_eq!(f.log_iw_size, None);
    let f: FileSource = read(r#"file("/x")"#);
    assert_eq!(f.follow_freq, 1.0);
    assert!(f.flags.is_empty());
}

#[test]
fn repeated_options_merge() {
    let f: FileSource = read(
        r#"file("/x" flags(no-parse) follow-freq(1) flags(empty_lines) follow-freq(2) log-iw-size(5))"#,
    );
    assert_eq!(f.flags, vec![SourceFlag::NoParse, SourceFlag::EmptyLines]);
    assert_eq!(f.follow_freq, 2.0, "later wins");
    assert_eq!(f.log_iw_size, Some(5));
}

#[test]
fn nested_structs_and_their_repetitions() {
    let f: FileSource =
        read(r#"file("/x" disk-buffer(reliable(yes) dir("/d") disk-buf-size(1048576)))"#);
    assert_eq!(
        f.disk_buffer,
        Some(DiskBuffer {
            reliable: true,
            dir: Some("/d".into()),
            disk_buf_size: 1048576
        })
    );
    // Two occurrences of a nested option: their options merge, later ones win.
    let f: FileSource = read(
        r#"file("/x" disk-buffer(reliable(yes) disk-buf-size(1)) disk_buffer(disk-buf-size(2)))"#,
    );
    let db = f.disk_buffer.expect("disk buffer");
    assert!(db.reliable);
    assert_eq!(db.disk_buf_size, 2);
}

#[test]
fn unknown_option_suggests_the_closest() {
    let (msg, at, notes) = fail::<FileSource>(r#"file("/x" folow-freq(2))"#);
    assert_eq!(msg, "unknown option `folow-freq`");
    assert_eq!(at, "folow-freq");
    assert_eq!(notes, vec!["did you mean `follow-freq`?".to_string()]);
    // Written with underscores, reported with dashes but located at the user's text.
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" log_iw_sise(2))"#);
    assert_eq!(msg, "unknown option `log-iw-sise`");
    assert_eq!(at, "log_iw_sise");
}

#[test]
fn unknown_option_without_close_match_lists_options() {
    let (msg, _, notes) = fail::<FileSource>(r#"file("/x" completely-different(2))"#);
    assert_eq!(msg, "unknown option `completely-different`");
    assert_eq!(
        notes,
        vec!["valid options: follow-freq, flags, log-iw-size, disk-buffer".to_string()]
    );
}

#[test]
fn unknown_option_in_nested_struct() {
    let (msg, at, notes) =
        fail::<FileSource>(r#"file("/x" disk-buffer(reliabel(yes) disk-buf-size(1)))"#);
    assert_eq!(msg, "unknown option `reliabel`");
    assert_eq!(at, "reliabel");
    assert_eq!(notes, vec!["did you mean `reliable`?".to_string()]);
}

#[test]
fn wrong_types_point_at_the_value() {
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" follow-freq(abc))"#);
    assert_eq!(msg, "expected a number, found `abc`");
    assert_eq!(at, "abc");
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" log-iw-size("many"))"#);
    assert_eq!(msg, "expected a whole number, found `\"many\"`");
    assert_eq!(at, r#""many""#);
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" log-iw-size(1.5))"#);
    assert_eq!(msg, "expected a whole number, found `1.5`");
    assert_eq!(at, "1.5");
    let (msg, _, _) = fail::<FileSource>(r#"file("/x" log-iw-size(-1))"#);
    assert_eq!(msg, "expected a non-negative whole number, found `-1`");
    let (msg, _, _) = fail::<FileSource>(r#"file("/x" log-iw-size(4294967296))"#);
    assert_eq!(
        msg,
        "expected a whole number of at most 4294967295, found `4294967296`"
    );
    let (msg, at, _) =
        fail::<FileSource>(r#"file("/x" disk-buffer(reliable(maybe) disk-buf-size(1)))"#);
    assert_eq!(msg, "expected yes or no, found `maybe`");
    assert_eq!(at, "maybe");
    let (msg, at, _) = fail::<FileSource>(r#"file(path("/x"))"#);
    assert_eq!(msg, "unknown option `path`");
    assert_eq!(at, "path");
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" follow-freq(x(1)))"#);
    assert_eq!(msg, "expected a number, found `x(...)`");
    assert_eq!(at, "x(1)");
}

#[test]
fn missing_options_point_at_the_call() {
    let (msg, at, _) = fail::<FileSource>(r#"file(follow-freq(1))"#);
    assert_eq!(msg, "missing the path argument");
    assert_eq!(at, "file");
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" disk-buffer(reliable(yes)))"#);
    assert_eq!(msg, "missing required option `disk-buf-size`");
    assert_eq!(at, "disk-buffer");

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Plain {
        #[serde(rename = "0")]
        a: String,
        #[serde(rename = "1")]
        b: String,
    }
    let (msg, _, _) = fail::<Plain>(r#"x("a")"#);
    assert_eq!(msg, "missing the second argument");
}

#[test]
fn too_many_values_for_a_scalar() {
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" follow-freq(1 2))"#);
    assert_eq!(msg, "too many values, expected a number");
    assert_eq!(at, "2");
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" "/y")"#);
    assert_eq!(msg, "too many values, expected a string");
    assert_eq!(at, r#""/y""#);
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" follow-freq())"#);
    assert_eq!(msg, "expected a number, found nothing");
    assert_eq!(at, "follow-freq");
}

#[test]
fn unexpected_positional_value() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct NoArgs {
        x: Option<u32>,
    }
    let (msg, at, _) = fail::<NoArgs>(r#"internal("oops" x(1))"#);
    assert_eq!(msg, "unexpected value `\"oops\"`");
    assert_eq!(at, r#""oops""#);
}

#[test]
fn last_positional_field_takes_the_rest() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Facilities {
        #[serde(rename = "0")]
        list: Vec<String>,
    }
    let f: Facilities = read("facility(kern, mail user)");
    assert_eq!(f.list, vec!["kern", "mail", "user"]);

    #[derive(Debug, Deserialize, PartialEq)]
    struct TwoThenRest {
        #[serde(rename = "0")]
        first: String,
        #[serde(rename = "1:rest")]
        rest: Vec<i64>,
    }
    let t: TwoThenRest = read(r#"x("a" 1 2 3)"#);
    assert_eq!(t.first, "a");
    assert_eq!(t.rest, vec![1, 2, 3]);
}

#[test]
fn booleans() {
    #[derive(Debug, Deserialize)]
    struct B {
        #[serde(rename = "0")]
        b: bool,
    }
    for (text, want) in [
        ("yes", true),
        ("no", false),
        ("on", true),
        ("off", false),
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("2", true),
        ("\"yes\"", true),
        ("'no'", false),
    ] {
        let b: B = read(&format!("x({text})"));
        assert_eq!(b.b, want, "{text}");
    }
    let (msg, _, _) = fail::<B>("x(YES)");
    assert_eq!(msg, "expected yes or no, found `YES`");
}

#[test]
fn strings_from_words_and_numbers() {
    #[derive(Debug, Deserialize)]
    struct S {
        a: String,
        b: String,
        c: String,
        d: char,
    }
    // 0640 is octal to syslog-ng's lexer, so its text is the decimal value.
    let s: S = read(r#"x(a(word) b("quoted") c(0640) d(","))"#);
    assert_eq!(
        (s.a.as_str(), s.b.as_str(), s.c.as_str(), s.d),
        ("word", "quoted", "416", ',')
    );
}

#[test]
fn numbers_from_numeric_strings() {
    #[derive(Debug, Deserialize)]
    struct N {
        a: u16,
        b: f64,
        c: i8,
        d: f32,
    }
    let n: N = read(r#"x(a("514") b("0.25") c(-5) d(3))"#);
    assert_eq!((n.a, n.b, n.c, n.d), (514, 0.25, -5, 3.0));
    let (msg, _, _) = fail::<N>(r#"x(a(1) b("inf") c(1) d(1))"#);
    assert_eq!(msg, "expected a number, found `\"inf\"`");
    let (msg, _, _) = fail::<N>(r#"x(a(1) b(1) c(200) d(1))"#);
    assert_eq!(msg, "expected a whole number of at most 127, found `200`");
    let (msg, _, _) = fail::<N>(r#"x(a(1) b(1) c(-200) d(1))"#);
    assert_eq!(
        msg,
        "expected a whole number of at least -128, found `-200`"
    );
}

#[test]
fn not_a_call() {
    let (_, node) = testing::node(r#""just a string""#);
    let d = from_call::<FileSource>(&node).expect_err("not a call");
    assert_eq!(
        d.message,
        "expected a driver like `name(...)`, found `\"just a string\"`"
    );
}

/// The driver call inside `source s_a { ... };` of a whole configuration.
fn call_in(text: &str) -> (SourceMap, crate::config::ast::Node) {
    let (map, ast) = testing::ast(text);
    let call = ast.stmts[0].nodes.get(2).and_then(|b| match b {
        crate::config::ast::Node::Block { stmts, .. } => stmts[0].nodes.first().cloned(),
        _ => None,
    });
    (map, call.expect("a driver call"))
}

#[test]
fn renders_an_unknown_option_like_syslog_ng() {
    let text = "@version: 3.38\nsource s_a {\n  file(\"/tmp/x\" follow-freq(1) folow_freq(2));\n};\nlog { source(s_a); };\n";
    let (map, call) = call_in(text);
    let d = from_call::<FileSource>(&call)
        .expect_err("unknown option")
        .with_context("source");
    let expected = "Error parsing within source, unknown option `folow-freq` in test.conf:3:32-3:42:\n\
1       @version: 3.38\n\
2       source s_a {\n\
3----->   file(\"/tmp/x\" follow-freq(1) folow_freq(2));\n\
3----->                                ^^^^^^^^^^\n\
4       };\n\
5       log { source(s_a); };\n\
\x20 did you mean `follow-freq`?\n";
    assert_eq!(d.render(&map), expected);
}

#[test]
fn renders_a_type_error() {
    let text = "source s_a {\n  file(\"/tmp/x\"\n       log-iw-size(lots));\n};";
    let (map, call) = call_in(text);
    let d = from_call::<FileSource>(&call).expect_err("type error");
    let expected = "Error parsing configuration, expected a whole number, found `lots` in test.conf:3:20-3:24:\n\
1       source s_a {\n\
2         file(\"/tmp/x\"\n\
3----->        log-iw-size(lots));\n\
3----->                    ^^^^\n\
4       };\n";
    assert_eq!(d.render(&map), expected);
}
