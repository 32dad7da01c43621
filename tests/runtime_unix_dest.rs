//! The UNIX socket destinations end to end: `unix-dgram()` sends one datagram per message to
//! a test socket (and waits for a socket that is not there yet), `unix-stream()` sends lines
//! and, with `close-on-input(yes)` (the default), drops a connection whose peer talks back and
//! reconnects after `time-reopen()`, as syslog-ng 3.38 does; `close-on-input(no)` ignores it.
//! The bytes themselves are in the golden test (tests/runtime_net_dest.rs).

mod common;
mod netpeer;

use std::time::Duration;

use common::{Daemon, free_port, send, stat, wait_for};
use netpeer::{DgramPeer, StreamPeer, wait};

const LONG: Duration = Duration::from_secs(20);

fn config(port: u16, dest: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); keep-hostname(yes); }};\n\
         source s {{ network(ip(127.0.0.1) port({port})); }};\n\
         destination d {{ {dest}; }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n"
    )
}

#[test]
fn unix_dgram_sends_one_datagram_per_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.sock");
    let peer = DgramPeer::unix(&path);
    let port = free_port();
    let mut d = Daemon::start(
        &config(port, &format!("unix-dgram(\"{}\")", path.display())),
        None,
    );
    d.wait_ready();
    send(
        port,
        b"<13>Jan  1 10:00:00 myhost prog[12]: hello world\n<14>Feb  2 02:02:02 h x: second\n",
    );
    assert!(peer.wait_datagrams(2, LONG), "{}", d.stderr());
    assert_eq!(
        peer.datagrams(),
        vec![
            b"<13>Jan  1 10:00:00 myhost prog[12]: hello world\n".to_vec(),
            b"<14>Feb  2 02:02:02 h x: second\n".to_vec(),
        ]
    );
}

#[test]
fn unix_dgram_waits_for_a_socket_that_is_not_there_yet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("later.sock");
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            &format!("unix-dgram(\"{}\" time-reopen(1))", path.display()),
        ),
        None,
    );
    d.wait_ready();
    send(port, b"<13>Jan  1 10:00:00 h p: queued\n");
    let control = d.control.clone();
    assert!(wait_for(LONG, || d
        .stderr()
        .contains("Syslog connection failed")));
    assert_eq!(stat(&control, "destination;d;written"), Some(0));
    let peer = DgramPeer::unix(&path);
    assert!(peer.wait_datagrams(1, LONG), "{}", d.stderr());
    assert_eq!(
        peer.datagrams(),
        vec![b"<13>Jan  1 10:00:00 h p: queued\n".to_vec()]
    );
}

#[test]
fn unix_stream_closes_on_input_and_reconnects_after_time_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stream.sock");
    let peer = StreamPeer::unix(&path);
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            &format!("unix-stream(\"{}\" time-reopen(1))", path.display()),
        ),
        None,
    );
    d.wait_ready();
    assert!(peer.wait_accepts(1, LONG), "{}", d.stderr());
    send(port, b"<13>Jan  1 10:00:00 h p: one\n");
    assert!(peer.wait_lines(1, LONG), "{}", d.stderr());
    // The peer talks back: syslog-ng takes that as a broken connection ("EOF occurred while
    // idle"), closes it and reconnects after time-reopen().
    peer.say(b"hello from the other side\n");
    assert!(peer.wait_accepts(2, LONG), "{}", d.stderr());
    let gap = peer.accepts()[1].duration_since(peer.ends()[0]);
    assert!(
        gap >= Duration::from_millis(900) && gap < Duration::from_secs(5),
        "{gap:?}"
    );
    send(port, b"<13>Jan  1 10:00:00 h p: two\n");
    assert!(peer.wait_lines(2, LONG), "{}", d.stderr());
    assert_eq!(
        peer.text(),
        "<13>Jan  1 10:00:00 h p: one\n<13>Jan  1 10:00:00 h p: two\n"
    );
}

#[test]
fn unix_stream_with_close_on_input_no_ignores_what_the_peer_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stream.sock");
    let peer = StreamPeer::unix(&path);
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            &format!(
                "unix-stream(\"{}\" close-on-input(no) time-reopen(1))",
                path.display()
            ),
        ),
        None,
    );
    d.wait_ready();
    assert!(peer.wait_accepts(1, LONG), "{}", d.stderr());
    peer.say(b"chatter\n");
    send(port, b"<13>Jan  1 10:00:00 h p: one\n");
    assert!(peer.wait_lines(1, LONG), "{}", d.stderr());
    peer.say(b"more chatter\n");
    send(port, b"<13>Jan  1 10:00:00 h p: two\n");
    assert!(peer.wait_lines(2, LONG), "{}", d.stderr());
    // Still the first connection, a time-reopen() later.
    assert!(!wait(Duration::from_millis(1500), || peer.accepts().len() > 1));
    assert!(peer.ends().is_empty());
}
