//! The splitter's rules, and the golden inputs of tests/golden/multiline run through it alone
//! (the integration test runs them through the daemon).

use std::time::{Duration, Instant};

use super::*;

fn re(p: &str) -> Option<Arc<Pattern>> {
    Some(Arc::new(Pattern::compile(p).expect("pattern")))
}

fn indented(max: usize) -> Splitter {
    Splitter::new(Rule::Indented, max, false, true)
}

fn regexp(prefix: Option<&str>, end: Option<&str>, keep_end: bool) -> Splitter {
    let rule = Rule::Regexp {
        prefix: prefix.and_then(re),
        end: end.and_then(re),
        keep_end,
    };
    Splitter::new(rule, 65536, false, true)
}

/// Runs `input` through `s` as a reader would: what is complete, then (`end`) the end of the
/// input or a flush. Each message as `[MSG]\n` with the parser's trailing `\n`/NUL removed.
fn split(s: &mut Splitter, input: &[u8], chunk: usize, end: End) -> String {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut take = |s: &mut Splitter, buf: &[u8], pos: &mut usize, eof: bool| loop {
        match s.next(&buf[*pos..], eof) {
            Frame::Message(m, n) => {
                let mut l = m.len();
                while l > 0 && matches!(m[l - 1], b'\n' | 0) {
                    l -= 1;
                }
                out.extend_from_slice(b"[");
                out.extend_from_slice(&m[..l]);
                out.extend_from_slice(b"]\n");
                *pos += n;
            }
            Frame::Skip(n) => *pos += n,
            Frame::Incomplete | Frame::Error(_) => return,
        }
    };
    for c in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(c);
        take(s, &buf, &mut pos, false);
    }
    match end {
        End::Wait => {}
        End::Eof => take(s, &buf, &mut pos, true),
        End::Flush => {
            s.cue_flush();
            take(s, &buf, &mut pos, false);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Clone, Copy)]
enum End {
    Wait,
    Eof,
    Flush,
}

#[test]
fn indented_lines_continue_and_the_next_line_decides() {
    let mut s = indented(100);
    assert_eq!(s.next(b"a\n", false), Frame::Incomplete);
    assert_eq!(s.next(b"a\n b\n\tc\n", false), Frame::Incomplete);
    assert_eq!(
        s.next(b"a\n b\n\tc\nd", false),
        Frame::Incomplete,
        "d is not complete"
    );
    assert_eq!(
        s.next(b"a\n b\n\tc\nd\n", false),
        Frame::Message(b"a\n b\n\tc", 8)
    );
    // The line after a message is its first line, whatever it looks like.
    assert_eq!(s.next(b" d\ne\n", false), Frame::Message(b" d", 3));
    // Empty lines continue; CRLF stays inside, the end loses it.
    let mut s = indented(100);
    assert_eq!(
        s.next(b"a\r\n b\r\n\nc\n", false),
        Frame::Message(b"a\r\n b", 8)
    );
    // A leading empty line is an empty message: skipped, unless empty-lines.
    let mut s = indented(100);
    assert_eq!(s.next(b"\nx\n", false), Frame::Skip(1));
    let mut s = Splitter::new(Rule::Indented, 100, true, true);
    assert_eq!(s.next(b"\nx\n", false), Frame::Message(b"", 1));
    // NUL ends a line.
    let mut s = indented(100);
    assert_eq!(s.next(b"a\0 b\0c\n", false), Frame::Message(b"a\0 b", 5));
}

#[test]
fn the_end_of_the_input_makes_the_rest_one_message() {
    let mut s = indented(100);
    assert_eq!(s.next(b"a\n b\n", true), Frame::Message(b"a\n b", 5));
    // A last line without its newline is not judged: it joins the message before it.
    let mut s = indented(100);
    assert_eq!(s.next(b"a\nb", true), Frame::Message(b"a\nb", 3));
    assert_eq!(s.next(b"", true), Frame::Incomplete);
}

#[test]
fn a_flush_yields_everything_as_it_is() {
    let mut s = indented(100);
    assert_eq!(s.next(b"a\n b\r\n\npart", false), Frame::Incomplete);
    s.cue_flush();
    assert_eq!(
        s.next(b"a\n b\r\n\npart", false),
        Frame::Message(b"a\n b\r\n\npart", 11)
    );
    s.cue_flush();
    assert_eq!(s.next(b"", false), Frame::Incomplete);
}

#[test]
fn log_msg_size_bounds_the_message_and_the_line_after_it() {
    let mut s = indented(10);
    // "a\n" waits for the next line, whose end is past 10 bytes: the 10 bytes go.
    assert_eq!(
        s.next(b"a\nbcdefghijk\n", false),
        Frame::Message(b"a\nbcdefghi", 10)
    );
    assert_eq!(s.next(b"jk\n", false), Frame::Incomplete);
    let mut s = indented(10);
    assert_eq!(
        s.next(b"abcdefghijklm\n", false),
        Frame::Message(b"abcdefghij", 10)
    );
    // Less than log-msg-size buffered: wait.
    let mut s = indented(10);
    assert_eq!(s.next(b"abc", false), Frame::Incomplete);
}

#[test]
fn prefix_garbage_and_suffix() {
    let mut s = regexp(Some("^P"), None, false);
    assert_eq!(
        s.next(b"x\ny\nP1\nz\nP2\n", false),
        Frame::Message(b"x\ny", 4)
    );
    assert_eq!(s.next(b"P1\nz\nP2\n", false), Frame::Message(b"P1\nz", 5));
    assert_eq!(s.next(b"P2\n", false), Frame::Incomplete);
    // Garbage: the message ends before it, the rest of the line is dropped; the next line
    // starts a message even without the prefix.
    let mut s = regexp(Some("^P"), Some("--"), false);
    assert_eq!(
        s.next(b"P1\nab--cd\ne\n", false),
        Frame::Message(b"P1\nab", 10)
    );
    assert_eq!(s.next(b"e\n", false), Frame::Incomplete);
    // ...also on a first line, and before the prefix is looked at.
    let mut s = regexp(Some("^P"), Some("--"), false);
    assert_eq!(s.next(b"P1 -- x\n", false), Frame::Message(b"P1 ", 8));
    assert_eq!(s.next(b"P1\nP2--\n", false), Frame::Message(b"P1\nP2", 8));
    // Suffix: kept.
    let mut s = regexp(Some("^P"), Some("END"), true);
    assert_eq!(
        s.next(b"P1\naEND b\n", false),
        Frame::Message(b"P1\naEND", 10)
    );
    // A garbage match at the very start is an empty message: skipped.
    let mut s = regexp(None, Some("^--"), false);
    assert_eq!(s.next(b"-- x\n", false), Frame::Skip(5));
}

#[test]
fn an_empty_line_is_checked_with_the_whole_message() {
    // 3.38 runs the garbage pattern over the message so far when the line is empty.
    let mut s = regexp(Some("^P"), Some("b"), false);
    assert_eq!(s.next(b"P1\n\nc\n", false), Frame::Incomplete);
    let mut s = regexp(Some("^P"), Some("1\n"), false);
    assert_eq!(s.next(b"P1\n\nc\n", false), Frame::Message(b"P", 4));
}

#[test]
fn the_multi_line_clock_flushes_once_per_quiet_spell() {
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    let timeout = Duration::from_millis(1000);
    let mut q = QuietSpell::default();
    assert!(
        !q.at_end(timeout, at(0)),
        "the first poll at the end starts the clock"
    );
    assert!(
        !q.at_end(timeout, at(1000)),
        "not longer than the timeout yet"
    );
    assert!(q.at_end(timeout, at(1001)));
    assert!(
        !q.at_end(timeout, at(5000)),
        "once, until something is read"
    );
    let mut q = QuietSpell::default();
    assert!(!q.at_end(timeout, at(0)));
    q = QuietSpell::default(); // a read
    assert!(!q.at_end(timeout, at(1500)));
    assert!(q.at_end(timeout, at(2600)));
}

fn golden(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn golden_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/multiline")
}

fn expected(name: &str) -> String {
    String::from_utf8_lossy(&golden(&format!("expected/{name}.txt"))).into_owned()
}

/// A golden case: its name, a new splitter, the input and how it ends.
type Case<'a> = (&'a str, Box<dyn Fn() -> Splitter>, &'a [u8], End);

const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2} ";

#[test]
fn the_golden_inputs_split_as_syslog_ng_3_38_split_them() {
    let ind = golden("indented.txt");
    let rexp = golden("regexp.txt");
    let suffix = golden("suffix.txt");
    let flush = golden("flush.txt");
    let pg = || regexp(Some(DATE), Some(" -- end --"), false);
    let ps = || regexp(Some("^From "), Some("END OF MAIL"), true);
    let cases: Vec<Case> = vec![
        ("ind", Box::new(|| indented(65536)), &ind, End::Flush),
        ("ind_small", Box::new(|| indented(40)), &ind, End::Flush),
        ("ind_wait", Box::new(|| indented(65536)), &ind, End::Wait),
        ("pipe", Box::new(|| indented(65536)), &ind, End::Wait),
        ("stdin_ind", Box::new(|| indented(65536)), &ind, End::Eof),
        ("flush", Box::new(|| indented(65536)), &flush, End::Flush),
        (
            "stdin_flush",
            Box::new(|| indented(65536)),
            &flush,
            End::Eof,
        ),
        (
            "re",
            Box::new(|| regexp(Some(DATE), None, false)),
            &rexp,
            End::Flush,
        ),
        (
            "stdin_re",
            Box::new(|| regexp(Some(DATE), None, false)),
            &rexp,
            End::Eof,
        ),
        ("pg", Box::new(pg), &rexp, End::Flush),
        ("stdin_pg", Box::new(pg), &rexp, End::Eof),
        (
            "garbage_only",
            Box::new(|| regexp(None, Some(" -- end --"), false)),
            &rexp,
            End::Flush,
        ),
        ("ps", Box::new(ps), &suffix, End::Flush),
        ("stdin_ps", Box::new(ps), &suffix, End::Eof),
        (
            "mbox",
            Box::new(|| regexp(Some("^From "), None, true)),
            &suffix,
            End::Flush,
        ),
    ];
    for (name, make, input, end) in cases {
        let want = expected(name);
        // However the input arrives, the messages are the same.
        for chunk in [input.len(), 1, 7] {
            let got = split(&mut make(), input, chunk, end);
            assert_eq!(got, want, "{name} in chunks of {chunk}");
        }
    }
}
