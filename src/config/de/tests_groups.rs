//! Tests of option groups read together with `from_call_groups`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::groups::fields_of;
use super::testing;
use super::*;

#[derive(Debug, Deserialize, PartialEq, Default)]
#[serde(rename_all = "kebab-case")]
struct Hooks {
    startup: Option<String>,
    shutdown: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq, Default)]
#[serde(rename_all = "kebab-case")]
struct HookOptions {
    hook_commands: Option<Hooks>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
struct ReaderOptions {
    #[serde(default)]
    log_iw_size: Option<u32>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default, alias = "keep_timestamp_alias")]
    keep_timestamp: Option<bool>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
struct FileOwn {
    #[serde(rename = "0:path")]
    path: String,
    #[serde(default)]
    follow_freq: Option<f64>,
}

type FileAll = (FileOwn, ReaderOptions, HookOptions);

fn read_groups(text: &str) -> Result<FileAll, (String, String, Vec<String>)> {
    let (map, call) = testing::node(text);
    from_call_groups::<FileAll>(&call).map_err(|d| {
        let at = d
            .span
            .and_then(|s| map.snippet(s))
            .unwrap_or("")
            .to_string();
        (d.message, at, d.notes)
    })
}

#[test]
fn every_group_reads_its_own_options() {
    let (own, reader, hooks) = read_groups(
        r#"file("/x" follow-freq(1) log-iw-size(10) flags(a) hook-commands(startup("s")))"#,
    )
    .expect("valid");
    assert_eq!(own.path, "/x");
    assert_eq!(own.follow_freq, Some(1.0));
    assert_eq!(reader.log_iw_size, Some(10));
    assert_eq!(reader.flags, vec!["a"]);
    assert_eq!(
        hooks.hook_commands.and_then(|h| h.startup).as_deref(),
        Some("s")
    );
}

#[test]
fn unknown_option_is_checked_against_all_groups() {
    let (msg, at, notes) =
        read_groups(r#"file("/x" log-iw-sise(10))"#).expect_err("unknown option");
    assert_eq!(msg, "unknown option `log-iw-sise`");
    assert_eq!(at, "log-iw-sise");
    assert_eq!(notes, vec!["did you mean `log-iw-size`?".to_string()]);
    let (_, _, notes) = read_groups(r#"file("/x" zzzzzzzz(10))"#).expect_err("unknown option");
    assert_eq!(
        notes,
        vec![
            "valid options: follow-freq, log-iw-size, flags, keep-timestamp, \
             keep_timestamp_alias, hook-commands"
                .to_string()
        ]
    );
}

#[test]
fn unknown_option_comes_before_missing_ones() {
    // A misspelt required option is reported as misspelt, not as missing.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Req {
        port: u16,
    }
    let (map, call) = testing::node("x(prot(5))");
    let d = from_call_groups::<(Req, HookOptions)>(&call).expect_err("typo");
    assert_eq!(d.message, "unknown option `prot`");
    assert_eq!(d.notes, vec!["did you mean `port`?".to_string()]);
    let _ = map;
}

#[test]
fn groups_report_type_errors_and_missing_arguments() {
    let (msg, at, _) = read_groups(r#"file("/x" log-iw-size(big))"#).expect_err("type");
    assert_eq!(msg, "expected a whole number, found `big`");
    assert_eq!(at, "big");
    let (msg, at, _) = read_groups(r#"file(log-iw-size(1))"#).expect_err("missing");
    assert_eq!(msg, "missing the path argument");
    assert_eq!(at, "file");
    let (msg, at, _) = read_groups(r#"file("/x" "/y")"#).expect_err("extra");
    assert_eq!(msg, "too many values, expected a string");
    assert_eq!(at, r#""/y""#);
}

#[test]
fn positional_values_need_a_positional_field() {
    let (map, call) = testing::node(r#"x("surprise")"#);
    let d = from_call_groups::<(HookOptions, ReaderOptions)>(&call).expect_err("positional");
    assert_eq!(d.message, "unexpected value `\"surprise\"`");
    assert_eq!(d.span.and_then(|s| map.snippet(s)), Some(r#""surprise""#));
}

#[test]
fn a_map_group_accepts_everything() {
    let (_, call) = testing::node(r#"python(class("x") anything(1))"#);
    let (own, rest): (HookOptions, BTreeMap<String, String>) =
        from_call_groups(&call).expect("a map takes any key");
    assert_eq!(own, HookOptions::default());
    assert_eq!(rest.get("anything").map(String::as_str), Some("1"));
}

#[test]
fn field_probe_sees_struct_fields_and_aliases() {
    assert_eq!(fields_of::<FileOwn>(), Some(&["0:path", "follow-freq"][..]));
    let reader = fields_of::<ReaderOptions>().expect("struct");
    assert!(reader.contains(&"keep_timestamp_alias"));
    assert_eq!(fields_of::<BTreeMap<String, String>>(), None);
    assert_eq!(fields_of::<String>(), None);
}

#[test]
fn groups_over_node_lists() {
    let (_, nodes) = testing::nodes(r#"log-iw-size(3) hook-commands(shutdown("z"))"#);
    let (reader, hooks): (ReaderOptions, HookOptions) =
        from_nodes_groups(&nodes, Default::default()).expect("valid");
    assert_eq!(reader.log_iw_size, Some(3));
    assert_eq!(
        hooks.hook_commands.and_then(|h| h.shutdown).as_deref(),
        Some("z")
    );
}
