//! The `pipe()` and `pseudofile()` destinations, end to end: the real daemon writes into a
//! FIFO the test reads and into a regular file standing in for a `/proc` file. Expected
//! contents were recorded with syslog-ng 3.38.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use common::{Daemon, connect, ctl, free_port, wait_for};

const WAIT: Duration = Duration::from_secs(15);

fn config(port: u16, dest: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ time-reopen(1); }};\n\
         source s {{ network(ip(127.0.0.1) port({port})); }};\n\
         destination d {{ {dest}; }};\nlog {{ source(s); destination(d); }};\n"
    )
}

fn line(text: &str) -> String {
    format!("<13>Jan  1 00:00:00 host prog: {text}\n")
}

fn send(port: u16, text: &str) {
    let mut s = connect(port);
    s.write_all(line(text).as_bytes()).expect("send");
}

fn started(config: &str) -> Daemon {
    let mut d = Daemon::start(config, None);
    d.wait_ready();
    d
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Reads from a non-blocking FIFO until `want` lines arrived.
fn read_lines(fifo: &mut std::fs::File, want: usize) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    wait_for(WAIT, || {
        loop {
            match fifo.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        got.iter().filter(|&&b| b == b'\n').count() >= want
    });
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn pipe_writes_every_message_into_a_fifo_read_by_the_test() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("reader");
    let mut d = started(&config(
        port,
        &format!(r#"pipe("{}" template("$MSG\n"))"#, fifo.display()),
    ));
    let mut s = connect(port);
    let all: String = (1..=200).map(|i| line(&format!("m{i}"))).collect();
    s.write_all(all.as_bytes()).expect("send");
    let want: String = (1..=200).map(|i| format!("m{i}\n")).collect();
    assert_eq!(read_lines(&mut reader, 200), want, "{}", d.stderr());
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0));
}

#[test]
fn pipe_creates_a_missing_fifo_with_its_mode_and_keeps_messages_for_a_late_reader() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("sub/fifo");
    let mut d = started(&config(
        port,
        &format!(
            r#"pipe("{}" template("$MSG\n") create-dirs(yes) perm(0640))"#,
            fifo.display()
        ),
    ));
    // Opened (and created) at the first message, as syslog-ng does; nobody reads yet.
    assert!(!fifo.exists());
    send(port, "early");
    assert!(wait_for(WAIT, || fifo.exists()), "{}", d.stderr());
    let meta = std::fs::metadata(&fifo).expect("fifo");
    assert!(meta.file_type().is_fifo());
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("reader");
    send(port, "late");
    assert_eq!(read_lines(&mut reader, 2), "early\nlate\n");
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0));
}

#[test]
fn pseudofile_overwrites_the_start_of_the_file_for_every_message() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pseudo");
    std::fs::write(&file, "XXXXXXXXXXXXXXXXXXXX\n").expect("file");
    let mut d = started(&config(
        port,
        &format!(r#"pseudofile("{}" template("$MSG\n"))"#, file.display()),
    ));
    let read = || std::fs::read_to_string(&file).unwrap_or_default();
    send(port, "hello-one");
    assert!(
        wait_for(WAIT, || read().starts_with("hello-one\n")),
        "{}",
        d.stderr()
    );
    send(port, "m2");
    // syslog-ng 3.38 leaves exactly this: no O_TRUNC, no O_APPEND.
    assert!(
        wait_for(WAIT, || read() == "m2\nlo-one\nXXXXXXXXXX\n"),
        "{:?}",
        read()
    );
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0));
}

#[test]
fn pseudofile_refuses_a_missing_file_as_syslog_ng_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing");
    let mut d = Daemon::start(
        &config(
            free_port(),
            &format!(r#"pseudofile("{}" template("$MSG\n"))"#, missing.display()),
        ),
        None,
    );
    assert_eq!(d.wait_exit(WAIT), Some(1));
    let err = d.stderr();
    assert!(
        err.contains(&format!(
            "File \"{}\" not found: No such file or directory",
            missing.display()
        )),
        "{err}"
    );
}
