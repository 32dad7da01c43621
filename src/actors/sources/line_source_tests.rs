//! Plan-time checks of the file-like sources and the line reader.

use super::*;
use crate::config::load::{LoadOptions, load_str};

fn plan_err(body: &str) -> Vec<String> {
    let text = format!(
        "@version: 3.38\n{body}\ndestination d {{ file(\"/dev/null\"); }};\n\
         log {{ source(s); destination(d); }};\n"
    );
    let loaded = load_str("t.conf", &text, &LoadOptions::default()).expect("config");
    let model = crate::config::model::build(&loaded.ast).expect("model");
    match crate::actors::runtime::plan::plan(&model) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|d| d.message).collect(),
    }
}

#[test]
fn options_the_runtime_cannot_honour_are_refused_by_name() {
    for (body, msg) in [
        (
            r#"source s { file("/x" multi-line-mode(indented)); };"#,
            "multi-line-mode(indented) is not supported by the runtime yet",
        ),
        (
            r#"source s { file("/x" multi-line-prefix("^a")); };"#,
            "multi-line-prefix() is not supported by the runtime yet",
        ),
        (
            r#"source s { pipe("/x" pad-size(10)); };"#,
            "pad-size() is not supported by the runtime yet",
        ),
        (
            r#"source s { stdin(encoding("latin1")); };"#,
            "encoding(\"latin1\") is not supported by the runtime yet",
        ),
        (
            r#"source s { file("/x" format("json")); };"#,
            "format(\"json\") is not supported by the runtime yet",
        ),
        (
            r#"source s { file("/x" log-prefix("p: ")); };"#,
            "log-prefix() is not supported by the runtime yet",
        ),
        (
            r#"source s { wildcard-file(base-dir("/x") filename-pattern("*")); };"#,
            "driver `wildcard-file` is not supported by the runtime yet",
        ),
        (
            r#"source s { file("/x" follow-freq(0)); };"#,
            "follow-freq(0) is not supported by the runtime yet",
        ),
        (
            r#"source s { file("/proc/kmsg" follow-freq(1)); };"#,
            "follow-freq(1) on /proc/kmsg is not supported by the runtime yet",
        ),
    ] {
        let errors = plan_err(body);
        assert!(errors.iter().any(|e| e == msg), "{body}: {errors:?}");
    }
    assert!(plan_err(r#"source s { file("/x" encoding("UTF-8") flags(no-parse)); };"#).is_empty());
}

/// system()'s two driver calls plan (and so does follow-freq(0), their default).
#[test]
fn the_kernel_log_plans() {
    for body in [
        r#"source s { file("/dev/kmsg" program-override("kernel") flags(kernel)
            format(linux-kmsg) keep-timestamp(no)); };"#,
        r#"source s { file("/proc/kmsg" program-override("kernel") flags(kernel)
            keep-timestamp(no)); };"#,
        r#"source s { file("/proc/kmsg" follow-freq(0)); };"#,
        r#"source s { file("/x" format(linux_kmsg)); };"#,
    ] {
        assert_eq!(plan_err(body), Vec::<String>::new(), "{body}");
    }
    let e = plan_err(r#"source s { file("/proc/kmsg"); file("/proc/kmsg"); };"#);
    assert!(
        e.iter()
            .any(|m| m.contains("`affile_sd_curpos(/proc/kmsg)` is used by two sources")),
        "{e:?}"
    );
}

#[test]
fn two_files_under_one_persist_name_are_refused() {
    let e = plan_err(r#"source s { file("/x"); file("/x"); };"#);
    assert!(
        e.iter()
            .any(|m| m.contains("`affile_sd_curpos(/x)` is used by two sources")),
        "{e:?}"
    );
    assert!(plan_err(r#"source s { file("/x"); file("/x" persist-name("b")); };"#).is_empty());
}

#[test]
fn the_reader_knows_its_offset() {
    let mut r = LineReader::new(Newline::new(8, false));
    r.reset(100);
    r.spare().extend_from_slice(b"ab\n\ncd");
    assert_eq!(r.read_offset(), 106);
    assert_eq!(r.offset(), 100);
    r.pos = 4;
    assert_eq!(r.offset(), 104);
    r.spare();
    assert_eq!(r.offset(), 104);
    assert_eq!(r.pending(), b"cd");
}
