use super::system::{Host, Kmsg};
use super::*;
use crate::config::load::{LoadOptions, load_str};
use crate::config::span::Spanned;

fn args(list: &[(&str, &str)]) -> Vec<Arg> {
    list.iter()
        .map(|(n, v)| Arg {
            name: Spanned::new(n.to_string(), Span::default()),
            value: Some(v.to_string()),
            span: Span::default(),
        })
        .collect()
}

/// The configuration as sluice reads it back, printed (generators expanded).
fn expanded(text: &str) -> Result<String, String> {
    match load_str("t.conf", text, &LoadOptions::default()) {
        Ok(l) => Ok(crate::config::printer::print(&l.ast)),
        Err(e) => Err(format!("{e:?}")),
    }
}

#[test]
fn system_reads_dev_log_and_the_kernel_log_syslog_ng_would_pick() {
    let host = |kmsg| Host {
        systemd: false,
        kmsg,
    };
    let dev = system::generate(&host(Kmsg::Dev), &[]);
    assert!(dev.contains(
        "source { unix-dgram(\"/dev/log\" so_rcvbuf(8192) flags(syslog-protocol));\n };"
    ));
    assert!(
        dev.contains("set(\"${.unix.pid}\" value(\"PID\") condition(\"${.unix.pid}\" ne \"\"))")
    );
    assert!(dev.contains(
        "file(\"/dev/kmsg\" program-override(\"kernel\") flags(kernel) format(linux-kmsg) keep-timestamp(no));"
    ));
    assert!(dev.contains("app-parser(topic(syslog) );"));
    let proc = system::generate(&host(Kmsg::Proc), &[]);
    assert!(proc.contains(
        "file(\"/proc/kmsg\" program-override(\"kernel\") flags(kernel) keep-timestamp(no));"
    ));
    let none = system::generate(&host(Kmsg::None), &[]);
    assert!(!none.contains("kmsg"));
    // Under systemd: journald's forwarding socket instead of the journal.
    let sd = system::generate(
        &Host {
            systemd: true,
            kmsg: Kmsg::Dev,
        },
        &[],
    );
    assert!(sd.contains("unix-dgram(\"/run/systemd/journal/syslog\""));
    assert!(!sd.contains("/dev/log") && !sd.contains("kmsg"));
}

#[test]
fn system_passes_its_arguments_to_app_parser_except_exclude_kmsg() {
    let host = Host {
        systemd: false,
        kmsg: Kmsg::None,
    };
    let text = system::generate(
        &host,
        &args(&[("exclude-kmsg", "yes"), ("auto-parse-exclude", "\"sudo\"")]),
    );
    assert!(text.contains("app-parser(topic(syslog) auto_parse_exclude(\"sudo\") );"));
    assert!(!text.contains("exclude_kmsg"));
}

#[test]
fn app_parser_lists_the_applications_of_its_topic_in_order() {
    let conf = "@version: 3.38\n\
        application a[syslog] { filter { program(\"a\"); }; parser { kv-parser(); }; };\n\
        application b[*] { filter { program(\"b\"); }; };\n\
        application b[syslog] { parser { json-parser(); }; };\n\
        application c[other] { filter { program(\"c\"); }; };\n\
        application a[syslog] { filter { program(\"a2\"); }; };\n\
        parser p { app-parser(topic(syslog)); };\n\
        parser q { app-parser(topic(syslog) auto-parse-include(\"a\")); };\n\
        parser r { app-parser(topic(syslog) auto-parse(no)); };\n";
    let text = expanded(conf).expect("loads");
    let p = &text[text.find("parser p").expect("p")..text.find("parser q").expect("q")];
    // b first (a was redefined, which moves it last), b's filter from b[*], c not: other topic.
    let (b, a) = (p.find("program(\"b\")"), p.find("program(\"a2\")"));
    assert!(b.is_some() && a.is_some() && b < a, "{p}");
    assert!(p.contains("json-parser()") && !p.contains("kv-parser") && !p.contains("\"c\""));
    assert!(p.contains("set-tag('.app.b')") && p.contains("set('a' value('.app.name'))"));
    assert!(p.contains("tags('.app.doesnotexist')"));
    let q = &text[text.find("parser q").expect("q")..text.find("parser r").expect("r")];
    assert!(q.contains("'.app.a'") && !q.contains("'.app.b'"), "{q}");
    let r = &text[text.find("parser r").expect("r")..];
    assert!(
        !r.contains("junction") && r.contains("tags('.app.doesnotexist')"),
        "{r}"
    );
}

#[test]
fn app_parser_without_a_topic_is_an_error() {
    let e = expanded("@version: 3.38\nparser p { app-parser(); };\n").expect_err("refused");
    assert!(
        e.contains("app-parser() requires a topic() argument"),
        "{e}"
    );
}

#[test]
fn confgen_runs_its_program_with_the_arguments_in_the_environment() {
    let conf = "@version: 3.38\n\
        @module confgen context(destination) name(gen) exec(\"echo \\\"file(\\\\\\\"$confgen_path\\\\\\\");\\\"\")\n\
        destination d { gen(path(/tmp/generated)); };\n";
    let text = expanded(conf).expect("loads");
    assert!(text.contains("file(\"/tmp/generated\");"), "{text}");
    // Only in its context: a source of that name is an ordinary (unknown) driver call.
    let src = "@version: 3.38\n\
        @module confgen context(destination) name(gen) exec(\"echo x\")\n\
        source s { gen(); };\n";
    assert!(expanded(src).expect("loads").contains("gen()"));
}

#[test]
fn confgen_failures_name_the_program() {
    let conf = "@version: 3.38\n\
        @module confgen context(destination) name(gen) exec(\"exit 3\")\n\
        destination d { gen(); };\n";
    let e = expanded(conf).expect_err("refused");
    assert!(
        e.contains("Generator program returned with non-zero exit code; rc='3'")
            && e.contains("exec='exit 3'"),
        "{e}"
    );
    let missing = "@version: 3.38\n@module confgen context(destination) exec(\"x\")\n";
    let e = expanded(missing).expect_err("refused");
    assert!(e.contains("confgen: name argument expected"), "{e}");
}

#[test]
fn a_block_of_the_same_name_wins_over_a_generator() {
    let conf = "@version: 3.38\n\
        block source system() { internal(); };\n\
        source s { system(); };\n";
    let text = expanded(conf).expect("loads");
    assert!(
        text.contains("internal()") && !text.contains("/dev/log"),
        "{text}"
    );
}
