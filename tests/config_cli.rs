//! `sluice -s` and `sluice --preprocess-into` on the bundled examples and on the recorded
//! corpus (tests/corpus/README.md says how the corpus was recorded from syslog-ng 3.38).

mod common;

use std::path::{Path, PathBuf};

use common::{repo, sluice, syntax_check};

fn conf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_passes_the_syntax_check() {
    let files = conf_files(&repo().join("examples"));
    assert!(!files.is_empty());
    assert_all_accepted(&files);
}

#[test]
fn every_valid_corpus_config_passes_the_syntax_check() {
    // syslog-ng 3.38 accepts all of them. `-s` predicts a start, so a driver or option the
    // runtime cannot run yet is refused — by name, and for nothing else.
    let files = conf_files(&repo().join("tests/corpus/valid"));
    assert!(files.len() >= 5, "the corpus is there");
    for file in &files {
        let out = syntax_check(file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("Error parsing"))
            .collect();
        assert!(
            out.status.success()
                || (!errors.is_empty()
                    && errors
                        .iter()
                        .all(|l| l.contains("is not supported by the runtime yet"))),
            "{} rejected:\n{stderr}",
            file.display()
        );
    }
}

fn assert_all_accepted(files: &[PathBuf]) {
    for file in files {
        let out = syntax_check(file);
        assert!(
            out.status.success(),
            "{} rejected:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Each tests/corpus/errors/X.conf comes with X.expect: `location=FILE:LINE:COL` (where the
/// error must point) and `contains=PHRASE`, matched as tests/corpus/README.md describes:
/// the location may be the headline's or an "used at" line's; the phrase is looked for
/// case-insensitively outside the echoed snippet, with quote characters removed.
#[test]
fn every_error_corpus_config_is_rejected_at_the_right_place() {
    let dir = repo().join("tests/corpus/errors");
    let files = conf_files(&dir);
    assert!(files.len() >= 10, "the error corpus is there");
    let mut failures = Vec::new();
    for file in files {
        let Ok(expect) = std::fs::read_to_string(file.with_extension("expect")) else {
            continue; // an included helper file, not a test case
        };
        let out = syntax_check(&file);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if out.status.code() != Some(1) {
            failures.push(format!(
                "{}: exit {:?}\n{stderr}",
                file.display(),
                out.status.code()
            ));
            continue;
        }
        if !stderr.contains('^') {
            failures.push(format!(
                "{}: no caret under the token\n{stderr}",
                file.display()
            ));
        }
        for line in expect.lines() {
            if let Some(loc) = line.strip_prefix("location=") {
                if !mentions_location(&stderr, loc.trim()) {
                    failures.push(format!(
                        "{}: expected location {loc}\n{stderr}",
                        file.display()
                    ));
                }
            } else if let Some(phrase) = line.strip_prefix("contains=") {
                if !message_text(&stderr).contains(&unquote(&phrase.trim().to_lowercase())) {
                    failures.push(format!("{}: expected {phrase:?}\n{stderr}", file.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Whether `PATH:L:C` (PATH possibly with leading directories) appears in the output.
fn mentions_location(stderr: &str, loc: &str) -> bool {
    stderr.match_indices(loc).any(|(i, _)| {
        let before = stderr[..i].chars().last();
        let after = stderr[i + loc.len()..].chars().next();
        matches!(before, None | Some('/' | ' '))
            && matches!(after, None | Some('-' | ':' | '\n' | ' ' | ','))
    })
}

/// The diagnostic's text without the echoed source lines, lower-cased, quotes removed.
fn message_text(stderr: &str) -> String {
    let text: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            let rest = l.trim_start_matches(|c: char| c.is_ascii_digit());
            rest.len() == l.len() || !(rest.starts_with(' ') || rest.starts_with('-'))
        })
        .collect();
    unquote(&text.join("\n").to_lowercase())
}

fn unquote(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\'' | '"' | '`'))
        .collect()
}

#[test]
fn missing_config_file_is_a_config_error() {
    let out = sluice(&["-s", "-f", "/nonexistent/sluice.conf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/sluice.conf"));
}

#[test]
fn bad_command_line_exits_1_and_help_exits_0() {
    assert_eq!(sluice(&["--no-such-flag"]).status.code(), Some(1));
    assert_eq!(sluice(&["--help"]).status.code(), Some(0));
    let out = sluice(&["-V"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn preprocess_into_expands_includes_defines_and_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("inc.conf"),
        "destination d_inc { file(\"`logdir`/inc.log\"); };\n",
    )
    .expect("write");
    let main = dir.path().join("main.conf");
    std::fs::write(
        &main,
        "@version: 3.38\n@define logdir \"/var/log/x\"\n@include \"inc.conf\"\n\
         block source my_src(port(5514) ...) {\n  tcp(port(`port`) `__VARARGS__`);\n};\n\
         source s { my_src(port(6000) ip(\"127.0.0.1\")); };\n\
         log { source(s); destination(d_inc); };\n",
    )
    .expect("write");
    let out_file = dir.path().join("out.conf");
    let out = sluice(&[
        "-f",
        main.to_str().expect("utf-8 path"),
        "--preprocess-into",
        out_file.to_str().expect("utf-8 path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&out_file).expect("output written");
    assert!(text.starts_with("@version: 3.38"), "{text}");
    assert!(
        text.contains("/var/log/x/inc.log"),
        "define substituted: {text}"
    );
    assert!(
        text.contains("6000") && text.contains("127.0.0.1"),
        "block expanded: {text}"
    );
    for gone in ["@include", "@define", "block ", "`", "my_src"] {
        assert!(!text.contains(gone), "{gone:?} left in: {text}");
    }
    // The output is itself a valid configuration.
    let again = syntax_check(&out_file);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn the_syntax_check_refuses_what_the_start_would_refuse() {
    // syslog-ng 3.38 passes both at -s and fails when it starts; sluice's -s plans the
    // configuration, so its verdict is the start's.
    let dir = tempfile::tempdir().expect("tempdir");
    for (body, message) in [
        ("source s { tcp(port(\"abc\")); };", "unknown service `abc`"),
        (
            "source s { wildcard-file(base-dir(\"/tmp\") filename-pattern(\"*.log\")); };",
            "driver `wildcard-file` is not supported by the runtime yet",
        ),
    ] {
        let file = dir.path().join("s.conf");
        std::fs::write(
            &file,
            format!(
                "@version: 3.38\n{body}\ndestination d {{ file(\"/dev/null\"); }};\n\
                 log {{ source(s); destination(d); }};\n"
            ),
        )
        .expect("write");
        let out = syntax_check(&file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{body}: {stderr}");
        assert!(stderr.contains(message), "{body}: {stderr}");
    }
}
