//! Tests of the semantic checks, with a small fake driver catalog.

use serde::Deserialize;

use super::*;
use crate::config::de::{self, testing};
use crate::config::model::build;
use crate::config::span::SourceMap;

/// Knows `internal()`, `file(path follow-freq())` in sources and destinations, `level()` and
/// `program()` filters, and the `stats-freq` global option.
struct FakeCatalog;

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[allow(dead_code)]
struct FileOptions {
    #[serde(rename = "0:path")]
    path: String,
    follow_freq: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[allow(dead_code)]
struct GlobalOptions {
    stats_freq: Option<u32>,
}

impl DriverCatalog for FakeCatalog {
    fn check_driver(&self, kind: ObjectKind, call: &Node) -> Result<(), Diagnostic> {
        let Node::Call { name, .. } = call else {
            return Err(Diagnostic::new("not a call", call.span()));
        };
        let known: &[&str] = match kind {
            ObjectKind::Source => &["internal", "file"],
            ObjectKind::Destination => &["file"],
            ObjectKind::Filter => &["level", "program"],
            ObjectKind::Parser | ObjectKind::Rewrite => &["kv-parser", "set"],
        };
        if !known.iter().any(|k| *k == name.value) {
            let mut d = Diagnostic::new(
                format!("unknown {} driver `{}`", kind.keyword(), name.value),
                name.span,
            );
            if let Some(best) = did_you_mean(&name.value, known.iter().copied()) {
                d = d.with_note(format!("did you mean `{best}`?"));
            }
            return Err(d);
        }
        if name.value == "file" {
            de::from_call::<FileOptions>(call)?;
        }
        Ok(())
    }

    fn check_global_options(&self, options: &[Node]) -> Vec<Diagnostic> {
        let span = options.first().map(Node::span).unwrap_or_default();
        de::from_nodes::<GlobalOptions>(options, span)
            .err()
            .into_iter()
            .collect()
    }
}

fn run(text: &str) -> (SourceMap, Vec<Diagnostic>) {
    let (map, ast) = testing::ast(text);
    let model = match build(&ast) {
        Ok(m) => m,
        Err(d) => panic!("{}", crate::config::diagnostic::render_all(&d, &map)),
    };
    let diags = check(&model, &FakeCatalog);
    (map, diags)
}

/// (message, text under the span, context, notes) of each problem.
fn problems(text: &str) -> Vec<(String, String, Option<String>, Vec<String>)> {
    let (map, diags) = run(text);
    diags
        .iter()
        .map(|d| {
            let at = d
                .span
                .and_then(|s| map.snippet(s))
                .unwrap_or("")
                .to_string();
            (d.message.clone(), at, d.context.clone(), d.notes.clone())
        })
        .collect()
}

#[test]
fn a_correct_configuration_passes() {
    let (_, d) = run(r#"options { stats-freq(10); };
source s { internal(); file("/x" follow-freq(1)); };
destination d { file("/y"); };
filter f { level(info) and not filter(g); };
filter g { program("x"); };
log { source(s); filter(f); destination(d); };
log { source { internal(); }; if (filter(g)) { destination(d); }; };"#);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn duplicates_are_per_kind() {
    let p = problems(
        "source s { internal(); };\ndestination s { file(\"/x\"); };\nfilter s { level(info); };\n\
         source s { internal(); };\ntemplate t \"a\";\ntemplate t \"b\";\n\
         template-function tf \"a\";\ntemplate-function tf \"b\";",
    );
    let messages: Vec<&str> = p.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        messages,
        vec!["duplicate source definition `s`", "duplicate template `t`"]
    );
    assert_eq!(
        p[0].1, "source s { internal(); };",
        "the whole second definition"
    );
}

#[test]
fn allow_config_dups_accepts_redefinitions() {
    let (_, ast) =
        testing::ast("destination d { file(\"/a\"); };\ndestination d { file(\"/b\"); };");
    let mut model = build(&ast).expect("builds");
    model.allow_config_dups = true;
    assert!(check(&model, &FakeCatalog).is_empty());
    // The later definition wins.
    let d = model.object(ObjectKind::Destination, "d").expect("d");
    assert_eq!(d.span.start, 31);
}

#[test]
fn undefined_references_in_log_paths() {
    let p = problems(
        "source s_local { internal(); };\ndestination d_file { file(\"/x\"); };\n\
         log { source(s_locla); filter(nope); parser(p); rewrite(r); destination(d_fil); };",
    );
    let messages: Vec<&str> = p.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "undefined source `s_locla`",
            "undefined filter `nope`",
            "undefined parser `p`",
            "undefined rewrite `r`",
            "undefined destination `d_fil`",
        ]
    );
    assert_eq!(p[0].1, "source(s_locla)");
    assert_eq!(p[0].2.as_deref(), Some("log"));
    assert_eq!(p[0].3, vec!["did you mean `s_local`?".to_string()]);
    assert!(p[1].3.is_empty());
    assert_eq!(p[4].3, vec!["did you mean `d_file`?".to_string()]);
}

#[test]
fn references_nested_anywhere_are_checked() {
    let p = problems(
        "source s { channel { parser(p_missing); }; };\n\
         log { source(s); junction { channel { destination(d1); }; }; \
         if (filter(f_missing)) { log { rewrite(r1); }; } else { destination(d2); }; };",
    );
    let messages: Vec<&str> = p.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "undefined parser `p_missing`",
            "undefined destination `d1`",
            "undefined filter `f_missing`",
            "undefined rewrite `r1`",
            "undefined destination `d2`",
        ]
    );
}

#[test]
fn undefined_filter_inside_a_filter_like_syslog_ng_reports_it() {
    // The corpus case: reported at the filter() call, 5:46.
    let text = "@version: 3.38\n# Error: f_combined refers to a filter named f_missing, which is never defined.\n\
source s_local { internal(); };\nfilter f_errors { level(err..emerg); };\n\
filter f_combined { filter(f_errors) and not filter(f_missing); };\n";
    let (map, diags) = run(text);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].location(&map).as_deref(), Some("test.conf:5:46"));
    assert_eq!(
        diags[0].render(&map),
        "Error parsing within filter, undefined filter `f_missing` in test.conf:5:46-5:63:\n\
3       source s_local { internal(); };\n\
4       filter f_errors { level(err..emerg); };\n\
5-----> filter f_combined { filter(f_errors) and not filter(f_missing); };\n\
5----->                                              ^^^^^^^^^^^^^^^^^\n\
6       \n"
    );
}

#[test]
fn filter_cycles() {
    let p = problems(
        "filter f1 { filter(f2); };\nfilter f2 { level(info) or filter(f1); };\nfilter f3 { filter(f3); };\nfilter f4 { filter(f1); };",
    );
    let messages: Vec<(&str, &str)> = p.iter().map(|x| (x.0.as_str(), x.1.as_str())).collect();
    assert_eq!(
        messages,
        vec![
            ("filter `f1` refers to itself", "filter(f1)"),
            ("filter `f3` refers to itself", "filter(f3)"),
        ]
    );
    assert_eq!(p[0].3, vec!["reference loop: f1 -> f2 -> f1".to_string()]);
    assert_eq!(p[1].3, vec!["reference loop: f3 -> f3".to_string()]);
}

#[test]
fn drivers_go_through_the_catalog() {
    let p = problems(
        "source s { internal(); fiel(\"/x\"); };\n\
         destination d { file(\"/y\" folow-freq(1)); };\n\
         filter f { levle(info); };\n\
         log { source(s); destination { internal(); }; if (prgram(\"x\")) { destination(d); }; };",
    );
    let got: Vec<(&str, &str, Option<&str>)> = p
        .iter()
        .map(|x| (x.0.as_str(), x.1.as_str(), x.2.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("unknown source driver `fiel`", "fiel", Some("source")),
            (
                "unknown option `folow-freq`",
                "folow-freq",
                Some("destination")
            ),
            ("unknown filter driver `levle`", "levle", Some("filter")),
            (
                "unknown destination driver `internal`",
                "internal",
                Some("destination")
            ),
            ("unknown filter driver `prgram`", "prgram", Some("log")),
        ]
    );
}

#[test]
fn global_options_go_through_the_catalog() {
    let p = problems("options { stats-freq(1); };\noptions { stats_frq(2); };");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, "unknown option `stats-frq`");
    assert_eq!(p[0].1, "stats_frq");
    assert_eq!(p[0].2.as_deref(), Some("options"));
    assert_eq!(p[0].3, vec!["did you mean `stats-freq`?".to_string()]);
}
