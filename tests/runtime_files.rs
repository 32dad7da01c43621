//! The file-like sources end to end, with the real daemon: `file()` follows appends, resumes
//! after a restart from the persist file (every line exactly once), survives rotation and
//! truncation and waits for a missing file; `stdin()` reads to the end and exits; `pipe()`
//! takes successive writers; flow control stops a file reader; and the output is byte for
//! byte what syslog-ng 3.38 writes for the same input (tests/golden/line_sources).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{SLUICE, count_lines, ctl, stat, wait_for};

const WAIT: Duration = Duration::from_secs(20);

/// A daemon whose state lives in a directory the test owns, so a second run can find the
/// first one's persist file.
struct Sluice {
    child: Child,
    control: PathBuf,
    stderr: PathBuf,
}

impl Sluice {
    fn start(dir: &Path, config: &str) -> Sluice {
        Self::start_with(dir, config, Stdio::null())
    }

    fn start_with(dir: &Path, config: &str, stdin: Stdio) -> Sluice {
        let cfg = dir.join("sluice.conf");
        std::fs::write(&cfg, config.replace("@DIR@", &dir.display().to_string()))
            .expect("write config");
        let stderr = dir.join("stderr.log");
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)
            .expect("stderr file");
        let control = dir.join("sluice.ctl");
        let child = Command::new(SLUICE)
            .arg("-F")
            .arg("-f")
            .arg(&cfg)
            .arg("-R")
            .arg(dir.join("sluice.persist"))
            .arg("-c")
            .arg(&control)
            .arg("-p")
            .arg(dir.join("sluice.pid"))
            .current_dir(dir)
            .stdin(stdin)
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("sluice starts");
        Sluice {
            child,
            control,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn wait_ready(&self) {
        let ok = wait_for(WAIT, || ctl(&self.control, "healthcheck").status.success());
        assert!(ok, "daemon not ready:\n{}", self.stderr());
    }

    fn wait_exit(&mut self) -> Option<i32> {
        let mut code = None;
        wait_for(WAIT, || match self.child.try_wait() {
            Ok(Some(s)) => {
                code = s.code();
                true
            }
            _ => false,
        });
        code
    }

    /// Stops the daemon the orderly way and waits for it.
    fn stop(mut self) {
        assert!(ctl(&self.control, "stop").status.success(), "stop");
        assert_eq!(self.wait_exit(), Some(0), "{}", self.stderr());
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `line <from>` .. `line <to-1>`, one per line.
fn lines(from: usize, to: usize) -> String {
    (from..to).map(|i| format!("line {i}\n")).collect()
}

/// A file() source reading in.log into out.log as bare MESSAGEs (`line 7` parses as
/// PROGRAM `line`, MESSAGE `7`, so `$MSGHDR$MSG` gives the line back).
fn file_config(options: &str) -> String {
    format!(
        "@version: 3.38\n\
         source s {{ file(\"@DIR@/in.log\" follow-freq(0.05) {options}); }};\n\
         destination d {{ file(\"@DIR@/out.log\" template(\"$MSGHDR$MSG\\n\")); }};\n\
         log {{ source(s); destination(d); }};\n"
    )
}

fn wait_lines(d: &Sluice, out: &Path, n: usize) {
    let ok = wait_for(WAIT, || count_lines(out) >= n);
    assert!(
        ok,
        "{} of {n} lines:\n{}\n{}",
        count_lines(out),
        read(out),
        d.stderr()
    );
}

#[test]
fn appended_lines_arrive_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inp, out) = (dir.path().join("in.log"), dir.path().join("out.log"));
    append(&inp, &lines(0, 10));
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    wait_lines(&d, &out, 10);
    for chunk in 1..20 {
        append(&inp, &lines(chunk * 500, (chunk + 1) * 500));
    }
    // A partial line waits for its end.
    append(&inp, "line partial");
    wait_lines(&d, &out, 10 + 19 * 500);
    append(&inp, " done\n");
    wait_lines(&d, &out, 10 + 19 * 500 + 1);
    let expected = lines(0, 10) + &lines(500, 10_000) + "line partial done\n";
    assert_eq!(read(&out), expected);
    d.stop();
}

#[test]
fn a_restart_resumes_from_the_persist_file_every_line_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inp, out) = (dir.path().join("in.log"), dir.path().join("out.log"));
    append(&inp, &lines(0, 100));
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    wait_lines(&d, &out, 100);
    append(&inp, "line half");
    d.stop();
    // Meanwhile the file grows, the half line among it.
    append(&inp, " written\n");
    append(&inp, &lines(100, 200));
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    wait_lines(&d, &out, 201);
    d.stop();
    assert_eq!(
        read(&out),
        lines(0, 100) + "line half written\n" + &lines(100, 200)
    );
    // A reload keeps the position too (the persist file is handed over).
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    append(&inp, &lines(200, 210));
    wait_lines(&d, &out, 211);
    assert!(ctl(&d.control, "reload").status.success(), "{}", d.stderr());
    append(&inp, &lines(210, 220));
    wait_lines(&d, &out, 221);
    d.stop();
    assert_eq!(
        read(&out),
        lines(0, 100) + "line half written\n" + &lines(100, 220)
    );
}

#[test]
fn a_reload_in_the_middle_of_a_file_neither_repeats_nor_loses_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inp, out) = (dir.path().join("in.log"), dir.path().join("out.log"));
    let n = 300_000;
    append(&inp, &lines(0, n));
    // With flow control the saved position trails what is queued: the next reader must
    // start where the old one stopped reading, not at the saved position.
    let config = "@version: 3.38\n\
        source s { file(\"@DIR@/in.log\" follow-freq(0.05) log-iw-size(10000)); };\n\
        destination d { file(\"@DIR@/out.log\" template(\"$MSGHDR$MSG\\n\")); };\n\
        log { source(s); destination(d); flags(flow-control); };\n";
    let d = Sluice::start(dir.path(), config);
    d.wait_ready();
    assert!(wait_for(WAIT, || count_lines(&out) > 1000));
    assert!(ctl(&d.control, "reload").status.success(), "{}", d.stderr());
    wait_lines(&d, &out, n);
    d.stop();
    assert!(count_lines(&out) == n, "{} lines", count_lines(&out));
    assert!(read(&out) == lines(0, n), "lines repeated or out of order");
}

#[test]
fn a_reload_with_lines_still_queued_does_not_read_them_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inp = dir.path().join("in.log");
    let out = dir.path().join("sub/out.log");
    append(&inp, &lines(0, 200));
    // The destination's directory is missing: it cannot write, the 50 lines of the window
    // stay queued (unacknowledged, so the saved position stays at 0) and move on to the next
    // graph with the reload.
    let config = "@version: 3.38\n\
        source s { file(\"@DIR@/in.log\" follow-freq(0.05) log-iw-size(50)); };\n\
        destination d { file(\"@DIR@/sub/out.log\" template(\"$MSGHDR$MSG\\n\") time-reopen(1)); };\n\
        log { source(s); destination(d); flags(flow-control); };\n";
    let d = Sluice::start(dir.path(), config);
    d.wait_ready();
    let control = d.control.clone();
    assert!(wait_for(WAIT, || stat(&control, "source;s;received") == Some(50)));
    assert!(ctl(&control, "reload").status.success(), "{}", d.stderr());
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    wait_lines(&d, &out, 200);
    d.stop();
    assert!(read(&out) == lines(0, 200), "{}", read(&out));
}

#[test]
fn a_reload_keeps_the_fifo_and_its_partial_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    let out = dir.path().join("out.log");
    let config = "@version: 3.38\n\
        source s { pipe(\"@DIR@/fifo\"); };\n\
        destination d { file(\"@DIR@/out.log\" template(\"$MSGHDR$MSG\\n\")); };\n\
        log { source(s); destination(d); };\n";
    let d = Sluice::start(dir.path(), config);
    d.wait_ready();
    let mut w = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open FIFO for writing");
    w.write_all(format!("{}line par", lines(0, 10)).as_bytes())
        .expect("write");
    wait_lines(&d, &out, 10);
    assert!(ctl(&d.control, "reload").status.success(), "{}", d.stderr());
    w.write_all(format!("tial\n{}", lines(10, 20)).as_bytes())
        .expect("write");
    wait_lines(&d, &out, 21);
    d.stop();
    assert_eq!(read(&out), lines(0, 10) + "line partial\n" + &lines(10, 20));
}

#[test]
fn persist_name_keeps_the_position_under_its_own_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inp, out) = (dir.path().join("in.log"), dir.path().join("out.log"));
    append(&inp, &lines(0, 5));
    let d = Sluice::start(dir.path(), &file_config("persist-name(\"app\")"));
    d.wait_ready();
    wait_lines(&d, &out, 5);
    d.stop();
    append(&inp, &lines(5, 8));
    let d = Sluice::start(dir.path(), &file_config("persist-name(\"app\")"));
    d.wait_ready();
    wait_lines(&d, &out, 8);
    d.stop();
    assert_eq!(read(&out), lines(0, 8));
}

#[test]
fn rotation_by_rename_and_a_new_file_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inp, out) = (dir.path().join("in.log"), dir.path().join("out.log"));
    append(&inp, &lines(0, 50));
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    wait_lines(&d, &out, 50);
    let old = dir.path().join("in.log.1");
    std::fs::rename(&inp, &old).expect("rename");
    // The writer still has the old file open for a while, then starts the new one.
    append(&old, &lines(50, 60));
    append(&old, "line last of the old file without newline");
    append(&inp, &lines(60, 80));
    wait_lines(&d, &out, 81);
    append(&inp, &lines(80, 90));
    wait_lines(&d, &out, 91);
    assert_eq!(
        read(&out),
        lines(0, 60) + "line last of the old file without newline\n" + &lines(60, 90)
    );
    d.stop();
}

#[test]
fn a_truncated_file_is_read_again_from_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inp, out) = (dir.path().join("in.log"), dir.path().join("out.log"));
    append(&inp, &lines(0, 100));
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    wait_lines(&d, &out, 100);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&inp)
        .expect("open");
    f.set_len(0).expect("truncate");
    drop(f);
    append(&inp, "line after truncation\n");
    wait_lines(&d, &out, 101);
    assert_eq!(read(&out), lines(0, 100) + "line after truncation\n");
    d.stop();
}

#[test]
fn a_missing_file_is_waited_for_without_repeating_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inp, out) = (dir.path().join("in.log"), dir.path().join("out.log"));
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    let msg = "Follow-mode file source not found, deferring open";
    assert!(
        wait_for(WAIT, || d.stderr().contains(msg)),
        "{}",
        d.stderr()
    );
    // Several follow-freq() periods pass (50 ms each): the message is not repeated.
    std::thread::sleep(Duration::from_millis(300));
    append(&inp, &lines(0, 3));
    wait_lines(&d, &out, 3);
    assert_eq!(read(&out), lines(0, 3));
    assert_eq!(d.stderr().matches(msg).count(), 1, "{}", d.stderr());
    d.stop();
}

#[test]
fn flow_control_stops_the_file_reader_while_the_destination_is_blocked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("out.fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("path")).expect("cstring");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let n = 5000;
    append(&dir.path().join("in.log"), &lines(0, n));
    let config = "@version: 3.38\n\
        source s { file(\"@DIR@/in.log\" follow-freq(0.05) log-iw-size(50)); };\n\
        destination d { file(\"@DIR@/out.fifo\" template(\"$MSGHDR$MSG\\n\")); };\n\
        log { source(s); destination(d); flags(flow-control); };\n";
    let d = Sluice::start(dir.path(), config);
    d.wait_ready();
    let control = d.control.clone();
    assert!(wait_for(WAIT, || stat(&control, "source;s;received") == Some(50)));
    // Nobody reads the destination: the window stays empty, the reader stops at 50.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stat(&control, "source;s;received"), Some(50));
    // Reading the destination unblocks it: everything arrives, in order.
    let mut r = BufReader::new(std::fs::File::open(&fifo).expect("open FIFO"));
    let mut text = String::new();
    while text.len() < lines(0, n).len() {
        if r.read_line(&mut text).expect("read FIFO") == 0 {
            break;
        }
    }
    assert_eq!(text, lines(0, n));
    assert_eq!(stat(&control, "source;s;received"), Some(n as u64));
    d.stop();
}

#[test]
fn a_crash_before_the_destination_wrote_reads_the_lines_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("out.fifo");
    let c = std::ffi::CString::new(fifo.to_str().expect("path")).expect("cstring");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    append(&dir.path().join("in.log"), &lines(0, 200));
    let blocked = "@version: 3.38\n\
        source s { file(\"@DIR@/in.log\" follow-freq(0.05) log-iw-size(50)); };\n\
        destination d { file(\"@DIR@/out.fifo\" template(\"$MSGHDR$MSG\\n\")); };\n\
        log { source(s); destination(d); flags(flow-control); };\n";
    let mut d = Sluice::start(dir.path(), blocked);
    d.wait_ready();
    let control = d.control.clone();
    assert!(wait_for(WAIT, || stat(&control, "source;s;received") == Some(50)));
    // Longer than sled's flush interval (500 ms): a position saved too early would be on disk.
    std::thread::sleep(Duration::from_millis(700));
    // Killed with 50 lines read and none written: no position may have been saved.
    let _ = d.child.kill();
    let _ = d.child.wait();
    drop(d);
    let d = Sluice::start(dir.path(), &file_config("log-iw-size(50)"));
    d.wait_ready();
    let out = dir.path().join("out.log");
    wait_lines(&d, &out, 200);
    d.stop();
    assert_eq!(read(&out), lines(0, 200));
}

#[test]
fn stdin_is_read_to_its_end_and_the_daemon_exits_after_delivering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let golden = golden_dir();
    // Flow control, which the recorded config leaves out: 20,000 lines at once would
    // otherwise overflow log-fifo-size() whenever the writer falls behind (a loaded machine).
    let config = read(&golden.join("stdin.conf")).replace(
        "log { source(s); destination(d); };",
        "log { source(s); destination(d); flags(flow-control); };",
    );
    assert!(config.contains("flow-control"));
    let mut d = Sluice::start_with(dir.path(), &config, Stdio::piped());
    d.wait_ready();
    let input = std::fs::read(golden.join("input.txt")).expect("input");
    let mut many = Vec::new();
    for i in 0..20_000 {
        many.extend_from_slice(format!("bulk {i}\n").as_bytes());
    }
    {
        let mut stdin = d.child.stdin.take().expect("stdin");
        stdin.write_all(&many).expect("write");
        stdin.write_all(&input).expect("write");
    }
    assert_eq!(d.wait_exit(), Some(0), "{}", d.stderr());
    let out = read(&dir.path().join("out_stdin.txt"));
    let expected_bulk: String = (0..20_000)
        .map(|i| format!("@HOST@|bulk|||user.notice|.source.s|bulk |{i}\n"))
        .collect();
    let expected = expected_bulk + &read(&golden.join("expected/stdin.txt"));
    assert_eq!(out, expected.replace("@HOST@", &local_host()));
}

#[test]
fn a_fifo_is_created_and_read_across_successive_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("sub/fifo");
    let out = dir.path().join("out.log");
    let config = "@version: 3.38\n\
        source s { pipe(\"@DIR@/sub/fifo\" create-dirs(yes)); };\n\
        destination d { file(\"@DIR@/out.log\" template(\"$MSGHDR$MSG\\n\")); };\n\
        log { source(s); destination(d); };\n";
    let d = Sluice::start(dir.path(), config);
    d.wait_ready();
    let meta = std::fs::metadata(&fifo).expect("the FIFO exists");
    assert!(meta.file_type().is_fifo());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    for writer in 0..2 {
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(&fifo)
            .expect("open FIFO for writing");
        w.write_all(lines(writer * 10, writer * 10 + 10).as_bytes())
            .expect("write");
        drop(w);
        wait_lines(&d, &out, writer * 10 + 10);
    }
    assert_eq!(read(&out), lines(0, 20));
    d.stop();
}

#[test]
fn a_pipe_that_cannot_be_created_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = "@version: 3.38\n\
        source s { pipe(\"@DIR@/missing/fifo\"); };\n\
        destination d { file(\"@DIR@/out.log\"); };\n\
        log { source(s); destination(d); };\n";
    let mut d = Sluice::start(dir.path(), config);
    assert_eq!(d.wait_exit(), Some(2), "{}", d.stderr());
    assert!(
        d.stderr().contains(&format!(
            "Error opening file for reading; filename='{}/missing/fifo'",
            dir.path().display()
        )),
        "{}",
        d.stderr()
    );
}

#[test]
fn a_second_daemon_on_the_same_persist_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Sluice::start(dir.path(), &file_config(""));
    d.wait_ready();
    let other = tempfile::tempdir().expect("tempdir");
    let out = Command::new(SLUICE)
        .arg("-F")
        .arg("-f")
        .arg(dir.path().join("sluice.conf"))
        .arg("-R")
        .arg(dir.path().join("sluice.persist"))
        .arg("-c")
        .arg(other.path().join("c"))
        .arg("-p")
        .arg(other.path().join("p"))
        .output()
        .expect("sluice runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Error opening persist file; filename="),
        "{err}"
    );
    assert!(err.contains("locked by another process"), "{err}");
    // The first daemon's pid file is left alone.
    assert!(dir.path().join("sluice.pid").exists());
    d.stop();
}

fn golden_dir() -> PathBuf {
    common::repo().join("tests/golden/line_sources")
}

fn local_host() -> String {
    sluice::message::LocalHost::detect().short.to_string()
}

/// `Mmm dd hh:mm:ss` (a BSD stamp) at the start of `line`.
fn bsd_stamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 15
        && b[..3].iter().all(u8::is_ascii_alphabetic)
        && b[3] == b' '
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
}

#[test]
fn output_is_byte_for_byte_syslog_ngs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let golden = golden_dir();
    let input = read(&golden.join("input.txt"));
    for n in ["def", "keep", "np", "opts"] {
        std::fs::write(dir.path().join(format!("in_{n}.log")), &input).expect("write");
    }
    std::fs::copy(golden.join("small.txt"), dir.path().join("in_small.log")).expect("copy");
    let d = Sluice::start(dir.path(), &read(&golden.join("sources.conf")));
    d.wait_ready();
    let mut w = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("fifo"))
        .expect("open FIFO");
    w.write_all(input.as_bytes()).expect("write FIFO");
    let host = local_host();
    for name in ["def", "keep", "np", "opts", "small", "pipe", "def_std"] {
        let expected = read(&golden.join(format!("expected/{name}.txt"))).replace("@HOST@", &host);
        let out = dir.path().join(format!("out_{name}.txt"));
        wait_lines(&d, &out, expected.lines().count());
        let got = read(&out);
        if name != "def_std" {
            assert_eq!(got, expected, "{name}");
            continue;
        }
        let (got, expected): (Vec<_>, Vec<_>) = (got.lines().collect(), expected.lines().collect());
        assert_eq!(got.len(), expected.len());
        for (g, e) in got.iter().zip(&expected) {
            match e.strip_prefix("@NOW@") {
                Some(rest) => {
                    assert!(bsd_stamp(g), "{g:?}");
                    assert_eq!(&g[15..], rest, "{name}");
                }
                None => assert_eq!(g, e, "{name}"),
            }
        }
    }
    d.stop();
}
