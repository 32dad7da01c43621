//! unix-dgram() and unix-stream() end to end: what syslog-ng 3.38 writes for the same input
//! (tests/golden/net_sources: local messages, HOST is this machine), the sender's credentials,
//! the socket file (permissions, create-dirs, a stale socket, removal at exit), max-connections,
//! and reload keeping the socket and, with keep-alive(yes), open connections.

mod common;
mod net_support;

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Daemon, count_lines, stat, wait_for};

#[test]
fn unix_dgram_matches_syslog_ng() {
    net_support::run_case("unix_dgram");
}

#[test]
fn unix_stream_matches_syslog_ng() {
    net_support::run_case("unix_stream");
}

fn config(body: &str) -> String {
    format!("@version: 3.38\noptions {{ use-dns(no); }};\n{body}")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Starts a daemon whose config mentions `SOCK` (a path in a fresh temp dir, returned).
fn start(body: &str) -> (Daemon, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("log.sock");
    let mut d = Daemon::start(
        &config(&body.replace("SOCK", &sock.display().to_string())),
        None,
    );
    d.wait_ready();
    (d, dir, sock)
}

fn send_dgram(sock: &Path, msg: &[u8]) {
    let s = UnixDatagram::unbound().expect("socket");
    s.send_to(msg, sock).expect("send");
}

#[test]
fn credentials_of_the_sender_are_added_unless_turned_off() {
    let body = "source s { unix-dgram(\"SOCK\"); unix-stream(\"SOCK2\"); };\n\
                source n { unix-dgram(\"SOCK3\" so-passcred(no)); };\n\
                destination d { file(\"out.log\" template(\"$SOURCE|${.unix.pid}|${.unix.uid}|${.unix.gid}|${.unix.exe}|$PID|$MSG\\n\")); };\n\
                log { source(s); source(n); destination(d); };\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| dir.path().join(n).display().to_string();
    let body = body
        .replace("SOCK3", &p("n.sock"))
        .replace("SOCK2", &p("s.sock"))
        .replace("SOCK", &p("d.sock"));
    let mut d = Daemon::start(&config(&body), None);
    d.wait_ready();
    send_dgram(
        &dir.path().join("d.sock"),
        b"<13>Jan  1 10:00:00 myprog[42]: dgram",
    );
    let mut s = UnixStream::connect(dir.path().join("s.sock")).expect("connect");
    s.write_all(b"<13>Jan  1 10:00:00 myprog: stream\n")
        .expect("send");
    send_dgram(
        &dir.path().join("n.sock"),
        b"<13>Jan  1 10:00:00 myprog: none",
    );
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) == 3),
        "{}",
        d.stderr()
    );
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let exe = std::fs::read_link("/proc/self/exe").expect("exe");
    let me = format!("{}|{uid}|{gid}|{}", std::process::id(), exe.display());
    let text = read(&out);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "n||||||none".to_string(),
            format!("s|{me}|42|dgram"),
            format!("s|{me}||stream"),
        ]
    );
}

#[test]
fn the_socket_file_is_created_as_syslog_ng_does_and_removed_at_exit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain.sock");
    let nested = dir.path().join("a/b/nested.sock");
    // A stale socket left by a daemon that died is replaced.
    drop(UnixDatagram::bind(&plain).expect("stale socket"));
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let body = format!(
        "source s {{ unix-dgram(\"{}\"); unix-stream(\"{}\" create-dirs(yes) perm(0640) \
         dir-perm(0750) owner({uid}) group({gid})); }};\n\
         destination d {{ file(\"out.log\" template(\"$MSG\\n\")); }};\n\
         log {{ source(s); destination(d); }};\n",
        plain.display(),
        nested.display()
    );
    let mut d = Daemon::start(&config(&body), None);
    d.wait_ready();
    let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&plain), 0o666);
    assert_eq!(mode(&nested), 0o640);
    assert_eq!(mode(&dir.path().join("a")), 0o750);
    assert_eq!(mode(&dir.path().join("a/b")), 0o750);
    send_dgram(&plain, b"<13>Jan  1 00:00:00 p: one");
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 1));
    let r = common::ctl(&d.control, "stop");
    assert!(r.status.success());
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(0));
    assert!(
        !plain.exists() && !nested.exists(),
        "socket files left behind"
    );
}

#[test]
fn a_regular_file_in_the_way_fails_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sock");
    std::fs::write(&path, "keep me").expect("write");
    let mut d = Daemon::start(
        &config(&format!(
            "source s {{ unix-dgram(\"{}\"); }};\nlog {{ source(s); }};\n",
            path.display()
        )),
        None,
    );
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(2));
    let err = d.stderr();
    assert!(
        err.contains(&format!(
            "Error binding socket; addr='AF_UNIX({})', source='s', error='Address already in use",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(read(&path), "keep me");
}

#[test]
fn an_optional_socket_that_cannot_be_created_is_skipped() {
    let (d, dir, sock) = start(
        "source s { unix-dgram(\"/nonexistent-dir/x/log.sock\" optional(yes)); unix-dgram(\"SOCK\"); };\n\
         destination d { file(\"out.log\" template(\"$MSG\\n\")); };\n\
         log { source(s); destination(d); };\n",
    );
    send_dgram(&sock, b"<13>Jan  1 00:00:00 p: still running");
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 1));
    assert!(
        d.stderr().contains("the source is optional"),
        "{}",
        d.stderr()
    );
    drop(dir);
}

#[test]
fn max_connections_rejects_the_connection_beyond_it() {
    let (d, _dir, sock) = start(
        "source s { unix-stream(\"SOCK\" max-connections(1)); };\n\
         destination d { file(\"out.log\" template(\"$MSG\\n\")); };\n\
         log { source(s); destination(d); };\n",
    );
    let mut first = UnixStream::connect(&sock).expect("connect");
    first
        .write_all(b"<13>Jan  1 00:00:00 p: first\n")
        .expect("send");
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 1));
    let mut second = UnixStream::connect(&sock).expect("connect");
    second
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = [0u8; 1];
    assert_eq!(second.read(&mut buf).expect("closed by the daemon"), 0);
    assert_eq!(stat(&d.control, "source;s;connections"), Some(1));
}

#[test]
fn reload_keeps_the_sockets_and_kept_alive_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| dir.path().join(n);
    let body = format!(
        "source s {{ unix-stream(\"{}\"); unix-stream(\"{}\" keep-alive(no)); unix-dgram(\"{}\"); }};\n\
         destination d {{ file(\"out.log\" template(\"$MSG\\n\")); }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n",
        p("kept.sock").display(),
        p("closed.sock").display(),
        p("dgram.sock").display()
    );
    let mut d = Daemon::start(&config(&body), None);
    d.wait_ready();
    let inode = |n: &str| std::fs::metadata(p(n)).expect("socket").ino();
    let before = (inode("kept.sock"), inode("dgram.sock"));
    let mut kept = UnixStream::connect(p("kept.sock")).expect("connect");
    let mut closed = UnixStream::connect(p("closed.sock")).expect("connect");
    kept.write_all(b"<13>Jan  1 00:00:00 p: k1\n<13>Jan  1 00:00:00 p: k2 first half")
        .expect("send");
    closed
        .write_all(b"<13>Jan  1 00:00:00 p: c1\n")
        .expect("send");
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 2));
    // Datagrams sent while the reload runs wait in the socket (a unix datagram sender blocks
    // when it is full); none is lost.
    let dgram = p("dgram.sock");
    let sender = std::thread::spawn(move || {
        let s = UnixDatagram::unbound().expect("socket");
        for i in 0..2000 {
            s.send_to(format!("<13>Jan  1 00:00:00 p: d{i}").as_bytes(), &dgram)
                .expect("send");
        }
    });
    let r = common::ctl(&d.control, "reload");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
    sender.join().expect("sender");
    assert_eq!((inode("kept.sock"), inode("dgram.sock")), before);
    // The kept connection goes on where it was, half a message included.
    kept.write_all(b", second half\n<13>Jan  1 00:00:00 p: k3\n")
        .expect("send on the kept connection");
    // keep-alive(no): closed by the reload.
    closed
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = [0u8; 1];
    assert_eq!(closed.read(&mut buf).expect("closed"), 0);
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out)
            == 2 + 2000 + 2),
        "{} lines; {}",
        count_lines(&out),
        d.stderr()
    );
    let text = read(&out);
    let ks: Vec<&str> = text.lines().filter(|l| l.starts_with('k')).collect();
    assert_eq!(ks, vec!["k1", "k2 first half, second half", "k3"]);
    let ds: Vec<&str> = text.lines().filter(|l| l.starts_with('d')).collect();
    let want: Vec<String> = (0..2000).map(|i| format!("d{i}")).collect();
    assert_eq!(ds, want);
}

/// util-linux `logger -u` (when installed): what it writes lands as syslog-ng writes it,
/// `Mmm dd hh:mm:ss HOST TAG: MESSAGE`.
#[test]
fn logger_messages_look_as_in_syslog_ng() {
    let (d, _dir, sock) = start(
        "source s { unix-dgram(\"SOCK\"); };\n\
         destination d { file(\"out.log\"); };\n\
         log { source(s); destination(d); };\n",
    );
    let ran = std::process::Command::new("logger")
        .arg("-u")
        .arg(&sock)
        .args(["-t", "myprog", "hello from logger"])
        .status();
    if !ran.is_ok_and(|s| s.success()) {
        eprintln!("no usable logger here; skipping");
        return;
    }
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 1));
    let line = read(&out);
    let host = net_support::short_hostname();
    assert!(
        line.len() > 16 && line[15..] == format!(" {host} myprog: hello from logger\n"),
        "{line:?}"
    );
}

/// Datagrams with NUL bytes are read as syslog-ng 3.38 reads them (recorded with the same
/// four datagrams on unix-dgram: leading NULs, a lone NUL, an inner NUL, trailing NULs).
#[test]
fn datagrams_with_nul_bytes_read_as_syslog_ng() {
    let mut d = Daemon::start_in(
        |dir| {
            format!(
                "@version: 3.38\n\
                 source s {{ unix-dgram(\"{0}/n.sock\"); }};\n\
                 destination d {{ file(\"{0}/out.log\" template(\"[$MSG]\\n\")); }};\n\
                 log {{ source(s); destination(d); }};\n",
                dir.display()
            )
        },
        &[],
        None,
    );
    d.wait_ready();
    let sock = d.dir.path().join("n.sock");
    let u = UnixDatagram::unbound().expect("socket");
    for dgram in [
        &b"\0\0<13>Dec  4 01:00:00 h p: nul"[..],
        b"\0",
        b"a\0b",
        b"<13>p: x\0\0",
    ] {
        u.send_to(dgram, &sock).expect("send");
    }
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) == 4),
        "{}",
        d.stderr()
    );
    assert_eq!(
        std::fs::read_to_string(&out).expect("out"),
        "[ 4 01:00:00 h p: nul]\n[]\n[]\n[x]\n"
    );
}
