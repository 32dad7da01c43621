//! Plan-time checks of the file-like sources and the line reader.

use super::*;
use crate::actors::sources::multiline::Rule;
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
            r#"source s { file("/dev/kmsg" multi-line-mode(indented)); };"#,
            "multi-line-mode() on /dev/kmsg is not supported by the runtime yet",
        ),
        (
            r#"source s { file("/x" format(linux-kmsg) multi-line-mode(indented)); };"#,
            "multi-line-mode() with format(linux-kmsg) is not supported by the runtime yet",
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

/// The multi-line options plan on file(), pipe() and stdin(), and are checked as syslog-ng
/// 3.38 checks them when the source starts.
#[test]
fn multi_line_options_are_checked_as_3_38_checks_them() {
    for body in [
        r#"source s { file("/x" multi-line-mode(indented)); };"#,
        r#"source s { file("/x" multi-line-mode(regexp) multi-line-prefix("^[0-9]")); };"#,
        r#"source s { file("/x" multi-line-mode(prefix-garbage) multi-line-garbage("x")); };"#,
        r#"source s { file("/x" multi-line-mode(prefix-suffix) multi-line-prefix("^F")
            multi-line-suffix("END")); };"#,
        r#"source s { file("/x" multi-line-mode(none)); };"#,
        r#"source s { file("/x" multi-line-mode(indented) follow-freq(0.5)
            multi-line-timeout(1)); };"#,
        // Look-around runs on fancy-regex.
        r#"source s { file("/x" multi-line-mode(regexp) multi-line-prefix("^(?=a)")); };"#,
        r#"source s { pipe("/x" multi-line-mode(indented)); };"#,
        r#"source s { stdin(multi-line-mode(prefix-suffix) multi-line-prefix("^F")); };"#,
        r#"source s { file("/proc/kmsg" multi-line-mode(indented)); };"#,
    ] {
        assert_eq!(plan_err(body), Vec::<String>::new(), "{body}");
    }
    for (body, msg) in [
        (
            r#"source s { file("/x" multi-line-mode(indented) multi-line-prefix("^a")); };"#,
            "multi-line-prefix() and/or multi-line-garbage() specified but multi-line-mode() \
             is not regexp based (prefix-garbage or prefix-suffix), please set \
             multi-line-mode() properly",
        ),
        (
            r#"source s { pipe("/x" multi-line-garbage("^a")); };"#,
            "multi-line-prefix() and/or multi-line-garbage() specified but multi-line-mode() \
             is not regexp based (prefix-garbage or prefix-suffix), please set \
             multi-line-mode() properly",
        ),
        (
            r#"source s { file("/x" multi-line-mode(regexp)); };"#,
            "To follow files in multi-line-mode() 'regexp', 'prefix-garbage', 'prefix-suffix', \
             please also specify regexps using the multi-line-prefix/garbage options",
        ),
        (
            r#"source s { file("/x" multi-line-mode(indented) multi-line-timeout(1)); };"#,
            "multi-line-timeout() should be set to a higher value than follow-freq(), it is \
             recommended to set multi-line-timeout() to a multiple of follow-freq()",
        ),
    ] {
        let errors = plan_err(body);
        assert!(errors.iter().any(|e| e == msg), "{body}: {errors:?}");
    }
    let e = plan_err(r#"source s { file("/x" multi-line-mode(regexp) multi-line-prefix("(")); };"#);
    assert!(
        e.iter().any(|m| m.starts_with(
            "error compiling multi-line regexp, error=Error while compiling multi-line regexp \
             as a PCRE expression, error="
        )),
        "{e:?}"
    );
}

/// The reader keeps a pending multi-line message in its buffer: its offset stays at the
/// message's start (what a file saves), and a reset forgets it.
#[test]
fn a_pending_multi_line_message_holds_the_offset_at_its_start() {
    let framing = LineFraming {
        newline: Newline::new(100, false),
        multi: Some(Rule::Indented),
    };
    let mut r = LineReader::new(framing);
    r.reset(10);
    r.spare().extend_from_slice(b"a\n b\nc\n d\n");
    let mut s = super::super::multiline::Splitter::new(Rule::Indented, 100, false, true);
    // What parse_batch does, without an Ingest: the splitter over the pending bytes.
    match s.next(r.pending(), false) {
        Frame::Message(m, n) => {
            assert_eq!(m, b"a\n b");
            r.pos += n;
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.offset(), 15, "after the first message");
    assert_eq!(s.next(r.pending(), false), Frame::Incomplete);
    assert_eq!(r.offset(), 15, "the pending message is not passed");
    assert_eq!(r.pending(), b"c\n d\n");
    r.cue_flush();
    r.reset(0);
    assert!(r.pending().is_empty());
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
    let mut r = LineReader::new(Newline::new(8, false).into());
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
