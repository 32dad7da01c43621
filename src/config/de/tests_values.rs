//! Tests of the option deserializer's values: keyword choices and variants, maps, repeated
//! options, lists of calls, `deserialize_any`, ignored values and serde attributes.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::testing;
use super::tests::{FileSource, fail, read, snippet};
use super::*;

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
