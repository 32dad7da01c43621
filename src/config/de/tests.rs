//! Tests of the option deserializer: scalars, lists, structs, maps, enums, merging of
//! repeated options, and where each error points.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::testing;
use super::*;
use crate::config::span::SourceMap;

/// Reads `T` from the call in `text`.
fn read<T: DeserializeOwned>(text: &str) -> T {
    let (map, call) = testing::node(text);
    match from_call(&call) {
        Ok(v) => v,
        Err(d) => panic!("unexpected error:\n{}", d.render(&map)),
    }
}

/// The error for reading `T` from the call in `text`: (message, text under the span, notes).
fn fail<T: DeserializeOwned + std::fmt::Debug>(text: &str) -> (String, String, Vec<String>) {
    let (map, call) = testing::node(text);
    let d = from_call::<T>(&call).expect_err("expected an error");
    (d.message.clone(), snippet(&map, &d), d.notes.clone())
}

fn snippet(map: &SourceMap, d: &Diagnostic) -> String {
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
struct FileSource {
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
    assert_eq!(msg, "expected an integer, found `\"many\"`");
    assert_eq!(at, r#""many""#);
    let (msg, at, _) = fail::<FileSource>(r#"file("/x" log-iw-size(1.5))"#);
    assert_eq!(msg, "expected an integer, found `1.5`");
    assert_eq!(at, "1.5");
    let (msg, _, _) = fail::<FileSource>(r#"file("/x" log-iw-size(-1))"#);
    assert_eq!(msg, "expected a non-negative integer, found `-1`");
    let (msg, _, _) = fail::<FileSource>(r#"file("/x" log-iw-size(4294967296))"#);
    assert_eq!(
        msg,
        "expected an integer of at most 4294967295, found `4294967296`"
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
    let s: S = read(r#"x(a(word) b("quoted") c(0640) d(","))"#);
    assert_eq!(
        (s.a.as_str(), s.b.as_str(), s.c.as_str(), s.d),
        ("word", "quoted", "640", ',')
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
    assert_eq!(msg, "expected an integer of at most 127, found `200`");
    let (msg, _, _) = fail::<N>(r#"x(a(1) b(1) c(-200) d(1))"#);
    assert_eq!(msg, "expected an integer of at least -128, found `-200`");
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum MarkMode {
    Internal,
    DstIdle,
    HostIdle,
    Periodical,
    None,
    Global,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum TsFormat {
    Rfc3164,
    Rfc3339,
    Bsd,
    Iso,
    Unix,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Dest {
    #[serde(rename = "0")]
    path: String,
    mark_mode: Option<MarkMode>,
    ts_format: Option<TsFormat>,
}

#[test]
fn keyword_choices_accept_dashes_and_underscores() {
    let d: Dest = read(r#"file("/x" ts-format(rfc3339) mark-mode(dst_idle))"#);
    assert_eq!(d.ts_format, Some(TsFormat::Rfc3339));
    assert_eq!(d.mark_mode, Some(MarkMode::DstIdle));
    let d: Dest = read(r#"file("/x" mark_mode("host-idle"))"#);
    assert_eq!(d.mark_mode, Some(MarkMode::HostIdle));
}

#[test]
fn unknown_keyword_choice() {
    let (msg, at, notes) = fail::<Dest>(r#"file("/x" mark-mode(dst-idel))"#);
    assert_eq!(msg, "unknown value `dst-idel`");
    assert_eq!(at, "dst-idel");
    assert_eq!(notes, vec!["did you mean `dst-idle`?".to_string()]);
    // Case matters, as in syslog-ng, but the suggestion shows the right spelling.
    let (msg, _, notes) = fail::<Dest>(r#"file("/x" ts-format(RFC3339))"#);
    assert_eq!(msg, "unknown value `RFC3339`");
    assert_eq!(notes, vec!["did you mean `rfc3339`?".to_string()]);
    let (_, _, notes) = fail::<Dest>(r#"file("/x" ts-format(xml))"#);
    assert_eq!(
        notes,
        vec!["valid values: rfc3164, rfc3339, bsd, iso, unix".to_string()]
    );
}

#[test]
fn variants_with_contents() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct Every {
        #[serde(default)]
        freq: u32,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    enum Mode {
        Off,
        Periodical(Every),
        Pair(String, u32),
        Named { name: String },
    }
    // In an argument list a call is an option, so a choice with contents is the value of an
    // option: `mode(periodical(freq(5)))`.
    #[derive(Debug, Deserialize, PartialEq)]
    struct M {
        mode: Mode,
    }
    assert_eq!(read::<M>("x(mode(off))").mode, Mode::Off);
    assert_eq!(read::<M>("x(mode(off()))").mode, Mode::Off);
    assert_eq!(
        read::<M>("x(mode(periodical(freq(5))))").mode,
        Mode::Periodical(Every { freq: 5 })
    );
    assert_eq!(
        read::<M>("x(mode(periodical))").mode,
        Mode::Periodical(Every { freq: 0 })
    );
    assert_eq!(
        read::<M>(r#"x(mode(pair("a" 2)))"#).mode,
        Mode::Pair("a".into(), 2)
    );
    assert_eq!(
        read::<M>(r#"x(mode(named(name("n"))))"#).mode,
        Mode::Named { name: "n".into() }
    );
    let (msg, at, _) = fail::<M>("x(mode(off(1)))");
    assert_eq!(msg, "`off` takes no arguments");
    assert_eq!(at, "1");
    let (msg, at, _) = fail::<M>("x(mode(periodical(frq(5))))");
    assert_eq!(msg, "unknown option `frq`");
    assert_eq!(at, "frq");
    let (msg, at, _) = fail::<M>(r#"x(mode(pair("a" 2 3)))"#);
    assert_eq!(msg, "unexpected extra value `3`");
    assert_eq!(at, "3");
    let (msg, at, _) = fail::<M>(r#"x(mode(pair("a")))"#);
    assert_eq!(msg, "expected 2 values, found 1");
    assert_eq!(at, "pair");
}

#[test]
fn hook_commands_style_nesting() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct Hooks {
        startup: Option<String>,
        setup: Option<String>,
        teardown: Option<String>,
        shutdown: Option<String>,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct D {
        hook_commands: Option<Hooks>,
    }
    let d: D = read(r#"network(hook-commands(startup("a") shutdown("b")))"#);
    let h = d.hook_commands.expect("hooks");
    assert_eq!(h.startup.as_deref(), Some("a"));
    assert_eq!(h.shutdown.as_deref(), Some("b"));
    assert_eq!(h.setup, None);
}

#[test]
fn maps_from_calls_arrows_and_pairs() {
    #[derive(Debug, Deserialize)]
    struct Py {
        class: String,
        #[serde(default)]
        options: BTreeMap<String, String>,
    }
    let p: Py = read(r#"python(class("m.C") options("key" "value" "k2" "v2"))"#);
    assert_eq!(p.class, "m.C");
    assert_eq!(p.options.get("key").map(String::as_str), Some("value"));
    assert_eq!(p.options.get("k2").map(String::as_str), Some("v2"));
    let p: Py = read(r#"python(class("m.C") options(my_key => "v" other => 5) options(c("x")))"#);
    assert_eq!(
        p.options.get("my_key").map(String::as_str),
        Some("v"),
        "keys as written"
    );
    assert_eq!(p.options.get("other").map(String::as_str), Some("5"));
    assert_eq!(p.options.get("c").map(String::as_str), Some("x"));
    let (map, call) = testing::node(r#"python(class("m.C") options("key" "value" "dangling"))"#);
    let d = from_call::<Py>(&call).expect_err("dangling key");
    assert_eq!(d.message, "missing the value for key `\"dangling\"`");
    assert_eq!(snippet(&map, &d), r#""dangling""#);

    let m: HashMap<String, Vec<String>> = read(r#"x(a(1 2) b(x) a(3))"#);
    assert_eq!(m["a"], vec!["1", "2", "3"]);
    assert_eq!(m["b"], vec!["x"]);
}

#[test]
fn repeated_keeps_occurrences_apart() {
    #[derive(Debug, Deserialize)]
    struct VP {
        #[serde(default)]
        pair: Repeated<(String, String)>,
    }
    let v: VP = read(r#"value-pairs(pair("a" "$b") pair("c" "$d"))"#);
    assert_eq!(
        v.pair.0,
        vec![("a".into(), "$b".into()), ("c".into(), "$d".into())]
    );
}

#[test]
fn lists_of_calls_as_structs_or_enums() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Column {
        name: String,
        #[serde(rename = "type", default)]
        ty: Option<String>,
    }
    #[derive(Debug, Deserialize)]
    struct C {
        columns: Vec<Column>,
    }
    let c: C = read(r#"x(columns(column(name("a") type(int)) column(name("b"))))"#);
    assert_eq!(c.columns.len(), 2);
    assert_eq!(c.columns[0].ty.as_deref(), Some("int"));

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "kebab-case")]
    enum Driver {
        File(FileSource),
        Internal,
    }
    let (map, stmt) = testing::nodes(r#"file("/a") internal() file("/b" follow-freq(3))"#);
    let drivers: Vec<Driver> = from_nodes(&stmt, crate::config::span::Span::default())
        .unwrap_or_else(|d| panic!("{}", d.render(&map)));
    assert_eq!(drivers.len(), 3);
    assert_eq!(drivers[1], Driver::Internal);
    let (_, stmt) = testing::nodes(r#"fiel("/a")"#);
    let d = from_nodes::<Vec<Driver>>(&stmt, Default::default()).expect_err("unknown");
    assert_eq!(d.message, "unknown value `fiel`");
    assert_eq!(d.notes, vec!["did you mean `file`?".to_string()]);
}

#[test]
fn options_statement_contents() {
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct Global {
        #[serde(default)]
        chain_hostnames: bool,
        flush_lines: Option<u32>,
        owner: Option<String>,
        #[allow(dead_code)]
        perm: Option<u32>,
        bad_hostname: Option<String>,
    }
    let (map, nodes) = testing::nodes(
        r#"chain_hostnames(off) flush_lines(0) owner("root") perm(0640) bad_hostname("^gconfd$") flush-lines(5)"#,
    );
    let g: Global =
        from_nodes(&nodes, Default::default()).unwrap_or_else(|d| panic!("{}", d.render(&map)));
    assert!(!g.chain_hostnames);
    assert_eq!(g.flush_lines, Some(5));
    assert_eq!(g.owner.as_deref(), Some("root"));
    assert_eq!(g.bad_hostname.as_deref(), Some("^gconfd$"));
}

#[test]
fn deserialize_any_follows_the_nodes() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Any {
        Int(i64),
        Float(f64),
        Text(String),
        List(Vec<Any>),
        Map(BTreeMap<String, Any>),
        Nothing(()),
    }
    #[derive(Debug, Deserialize, PartialEq)]
    struct A {
        a: Any,
        b: Any,
        c: Any,
        d: Any,
        e: Any,
        f: Any,
        g: Any,
    }
    let a: A = read(r#"x(a(1) b("s") c(w) d(1 "two") e(k(v) "p") f(2.5) g())"#);
    assert_eq!(a.a, Any::Int(1));
    assert_eq!(a.b, Any::Text("s".into()));
    assert_eq!(a.c, Any::Text("w".into()));
    assert_eq!(a.d, Any::List(vec![Any::Int(1), Any::Text("two".into())]));
    let mut m = BTreeMap::new();
    m.insert("k".to_string(), Any::Text("v".into()));
    m.insert("0".to_string(), Any::Text("p".into()));
    assert_eq!(a.e, Any::Map(m));
    assert_eq!(a.f, Any::Float(2.5));
    assert_eq!(a.g, Any::Nothing(()));
}

#[test]
fn ignored_options_are_skipped() {
    #[derive(Debug, Deserialize)]
    struct Lenient {
        a: u32,
    }
    // Without deny_unknown_fields anything else, however odd, is ignored.
    let l: Lenient = read(r#"x(a(1) b(c(d(e)) "x" { y; }) "pos" z => (1 2))"#);
    assert_eq!(l.a, 1);
}

#[test]
fn serde_attributes_work() {
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "kebab-case", deny_unknown_fields)]
    struct Attrs {
        #[serde(rename = "persist-name", alias = "persist_id")]
        name: Option<String>,
        #[serde(default)]
        flags: Vec<String>,
        #[serde(default, deserialize_with = "parse_size")]
        size: u64,
    }
    fn parse_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        s.strip_suffix('K')
            .and_then(|n| n.parse::<u64>().ok())
            .map(|n| n * 1024)
            .ok_or_else(|| serde::de::Error::custom(format!("bad size `{s}`")))
    }
    let a: Attrs = read(r#"x(persist-name("p") size("4K"))"#);
    assert_eq!(a.name.as_deref(), Some("p"));
    assert_eq!(a.size, 4096);
    assert!(a.flags.is_empty());
    // A custom error from a deserialize_with function still points at the value.
    let (msg, at, _) = fail::<Attrs>(r#"x(size("4X"))"#);
    assert_eq!(msg, "bad size `4X`");
    assert_eq!(at, "size");
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

#[test]
fn renders_an_unknown_option_like_syslog_ng() {
    let text = "file(\"/tmp/x\"\n     follow-freq(1)\n     folow_freq(2))";
    let (map, call) = testing::node(text);
    let d = from_call::<FileSource>(&call)
        .expect_err("unknown option")
        .with_context("source");
    let expected = "Error parsing within source, unknown option `folow-freq` in test.conf:3:6-3:16:\n\
1       file(\"/tmp/x\"\n\
2            follow-freq(1)\n\
3----->      folow_freq(2))\n\
3----->      ^^^^^^^^^^\n\
\x20 did you mean `follow-freq`?\n";
    assert_eq!(d.render(&map), expected);
}

#[test]
fn renders_a_type_error() {
    let text = "file(\"/tmp/x\" log-iw-size(lots))";
    let (map, call) = testing::node(text);
    let d = from_call::<FileSource>(&call).expect_err("type error");
    let expected = "Error parsing configuration, expected an integer, found `lots` in test.conf:1:27-1:31:\n\
1-----> file(\"/tmp/x\" log-iw-size(lots))\n\
1----->                           ^^^^\n";
    assert_eq!(d.render(&map), expected);
}
