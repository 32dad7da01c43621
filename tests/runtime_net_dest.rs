//! The network destinations end to end: sluice relays what a tcp source receives to test
//! listeners over TCP, UDP and UNIX sockets, byte for byte as syslog-ng 3.38 sends it
//! (tests/golden/net_dest, recorded with its record.sh); a receiver that goes down and comes
//! back loses nothing with flow-control, and is reconnected every time-reopen(); without
//! flow-control the queue overflows by log-fifo-size() and the drops are counted; a reload
//! keeps the connection (keep-alive); MARKs; names that do not resolve; datagram truncation.

mod common;
mod netpeer;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{Daemon, ctl, free_port, send, stat, wait_for};
use netpeer::{DgramPeer, PRIVATE_LOOPBACK, StreamPeer, frames, private_free_port, wait};

const LONG: Duration = Duration::from_secs(20);

fn config(body: &str) -> String {
    format!("@version: 3.38\noptions {{ use-dns(no); keep-hostname(yes); }};\n{body}")
}

fn golden_dir() -> PathBuf {
    common::repo().join("tests/golden/net_dest")
}

/// `count` RFC 3164 lines whose MESSAGE is `tag <i>`.
fn lines(tag: &str, range: std::ops::Range<usize>) -> Vec<u8> {
    let mut v = Vec::new();
    for i in range {
        v.extend_from_slice(format!("<13>Jan  1 00:00:00 h p: {tag} {i}\n").as_bytes());
    }
    v
}

/// The MESSAGE parts (`tag i`) of the lines a network destination sent.
fn messages(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| l.split_once(" p: ").map(|(_, m)| m.to_string()))
        .collect()
}

fn expect_messages(tag: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{tag} {i}")).collect()
}

/// The `@name@` placeholders of the golden config (names of `[a-z0-9_]`), each once.
fn placeholders(conf: &str) -> Vec<String> {
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    let mut names: Vec<String> = Vec::new();
    let mut rest = conf;
    while let Some(at) = rest.find('@') {
        rest = &rest[at + 1..];
        let end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
        if end > 0 && rest[end..].starts_with('@') {
            let name = rest[..end].to_string();
            if !names.contains(&name) {
                names.push(name);
            }
            rest = &rest[end + 1..];
        }
    }
    names
}

enum Peer {
    Stream(StreamPeer),
    Dgram(DgramPeer),
}

#[test]
fn every_socket_destination_sends_what_syslog_ng_sends() {
    let dir = golden_dir();
    let conf = std::fs::read_to_string(dir.join("dest.conf")).expect("dest.conf");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut peers: Vec<(String, Peer)> = Vec::new();
    let mut text = conf.clone();
    let names = placeholders(&conf);
    let mut inputs = std::collections::HashMap::new();
    for n in &names {
        let value = if n.starts_with("in_") {
            let p = free_port();
            inputs.insert(n.clone(), p);
            p.to_string()
        } else if n.starts_with("t_") {
            let p = StreamPeer::tcp();
            let port = p.port();
            peers.push((n.clone(), Peer::Stream(p)));
            port.to_string()
        } else if n.starts_with("u_") {
            let p = DgramPeer::udp();
            let port = p.port();
            peers.push((n.clone(), Peer::Dgram(p)));
            port.to_string()
        } else {
            let path = tmp.path().join(format!("{n}.sock"));
            let p = if n.starts_with("ux_") {
                Peer::Dgram(DgramPeer::unix(&path))
            } else {
                Peer::Stream(StreamPeer::unix(&path))
            };
            peers.push((n.clone(), p));
            path.display().to_string()
        };
        text = text.replace(&format!("@{n}@"), &value);
    }
    let mut d = Daemon::start(&text, None);
    d.wait_ready();
    let in3164 = std::fs::read(dir.join("input3164.txt")).expect("input");
    send(inputs["in_3164"], &in3164);
    let mut framed = Vec::new();
    for line in std::fs::read(dir.join("input5424.txt"))
        .expect("input")
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
    {
        framed.extend_from_slice(format!("{} ", line.len()).as_bytes());
        framed.extend_from_slice(line);
    }
    send(inputs["in_5424"], &framed);
    for (name, peer) in &peers {
        let want = std::fs::read(dir.join("expected").join(format!("{name}.bin")))
            .unwrap_or_else(|e| panic!("expected/{name}.bin: {e}"));
        let got = || match peer {
            Peer::Stream(p) => p.data(),
            Peer::Dgram(p) => p.framed(),
        };
        wait(LONG, || got().len() >= want.len());
        assert_eq!(
            String::from_utf8_lossy(&got()),
            String::from_utf8_lossy(&want),
            "destination {name}; stderr:\n{}",
            d.stderr()
        );
    }
}

#[test]
fn a_receiver_that_goes_away_loses_nothing_with_flow_control() {
    let mut peer = StreamPeer::tcp_at(PRIVATE_LOOPBACK);
    let port = free_port();
    let mut d = Daemon::start(
        &config(&format!(
            "source s {{ network(ip(127.0.0.1) port({port})); }};\n\
             destination d {{ network(\"127.0.0.2\" port({}) time-reopen(1)); }};\n\
             log {{ source(s); destination(d); flags(flow-control); }};\n",
            peer.port()
        )),
        None,
    );
    d.wait_ready();
    assert!(peer.wait_accepts(1, LONG), "{}", d.stderr());
    send(port, &lines("a", 0..100));
    assert!(peer.wait_lines(100, LONG), "{}", d.stderr());

    // The peer closes the connection: sluice notices while idle and reconnects after
    // time-reopen(1), not at once (syslog-ng: "EOF occurred while idle").
    peer.close_connection();
    assert!(peer.wait_accepts(2, LONG), "{}", d.stderr());
    let accepts = peer.accepts();
    let closed = peer.ends()[0];
    let gap = accepts[1].duration_since(closed);
    assert!(
        gap >= Duration::from_millis(900) && gap < Duration::from_secs(5),
        "reconnected after {gap:?}"
    );

    // Now the receiver is down altogether. With flow-control the source reads one window
    // (log-iw-size(1000) / max-connections(10)) and stops; the messages wait in the queue.
    peer.stop();
    let control = d.control.clone();
    let sender = std::thread::spawn(move || send(port, &lines("b", 0..500)));
    assert!(wait_for(LONG, || stat(&control, "source;s;received") == Some(200)));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stat(&control, "source;s;received"), Some(200));
    assert_eq!(stat(&control, "destination;d;written"), Some(100));

    // The receiver comes back: reconnected within time-reopen(1), everything arrives once,
    // in order.
    let back = Instant::now();
    peer.restart();
    assert!(peer.wait_accepts(3, LONG), "{}", d.stderr());
    assert!(peer.accepts()[2].duration_since(back) < Duration::from_secs(3));
    assert!(peer.wait_lines(600, LONG), "{}", d.stderr());
    sender.join().expect("sender");
    let mut want = expect_messages("a", 0..100);
    want.extend(expect_messages("b", 0..500));
    assert_eq!(messages(&peer.data()), want);
    assert_eq!(stat(&control, "destination;d;dropped"), Some(0));
    assert_eq!(stat(&control, "destination;d;written"), Some(600));
}

#[test]
fn without_flow_control_a_down_receiver_overflows_the_queue_and_drops_are_counted() {
    // Nobody listens yet: the connection fails and is retried every time-reopen(1).
    let dport = private_free_port();
    let port = free_port();
    let mut d = Daemon::start(
        &config(&format!(
            "source s {{ network(ip(127.0.0.1) port({port})); }};\n\
             destination d {{ tcp(\"127.0.0.2\" port({dport}) time-reopen(1) log-fifo-size(100)); }};\n\
             log {{ source(s); destination(d); }};\n"
        )),
        None,
    );
    d.wait_ready();
    send(port, &lines("m", 0..500));
    let control = d.control.clone();
    assert!(wait_for(LONG, || stat(&control, "source;s;received") == Some(500)));
    assert!(wait_for(LONG, || stat(&control, "destination;d;processed")
        == Some(500)));
    // log-fifo-size(100) entries wait in the queue; a batch the writer had taken out for a
    // connection attempt waits beside them (syslog-ng's backlog is not counted either).
    let dropped = stat(&control, "destination;d;dropped").unwrap_or(0) as usize;
    assert!((300..=400).contains(&dropped), "dropped {dropped}");
    let kept = 500 - dropped;
    let mut peer = StreamPeer::tcp_on(PRIVATE_LOOPBACK, dport);
    assert!(peer.wait_lines(kept, LONG), "{}", d.stderr());
    // Which ones were dropped depends on when the writer's failed attempts put its batch
    // back (the newest are dropped while the queue is full): what arrives is `kept` of the
    // sent messages, each once, in the order sent, starting with the first batch.
    let got = messages(&peer.data());
    assert_eq!(got.len(), kept);
    let numbers: Vec<usize> = got
        .iter()
        .filter_map(|m| m.strip_prefix("m ").and_then(|n| n.parse().ok()))
        .collect();
    assert_eq!(numbers.len(), kept, "{got:?}");
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    assert_eq!(got[..100], expect_messages("m", 0..100)[..]);
    assert!(wait_for(LONG, || stat(&control, "destination;d;written")
        == Some(kept as u64)));
    assert!(
        d.stderr().contains("Syslog connection failed"),
        "{}",
        d.stderr()
    );
    peer.stop();
}

#[test]
fn a_reload_keeps_the_connection_with_keep_alive() {
    for keep in [true, false] {
        let peer = StreamPeer::tcp();
        let port = free_port();
        let opt = if keep { "" } else { " keep-alive(no)" };
        let body = |n: u32| {
            config(&format!(
                "# generation {n}\nsource s {{ network(ip(127.0.0.1) port({port})); }};\n\
                 destination d {{ network(\"127.0.0.1\" port({}){opt}); }};\n\
                 log {{ source(s); destination(d); }};\n",
                peer.port()
            ))
        };
        let mut d = Daemon::start(&body(1), None);
        d.wait_ready();
        send(port, &lines("before", 0..1));
        assert!(peer.wait_lines(1, LONG), "{}", d.stderr());
        std::fs::write(&d.config, body(2)).expect("write config");
        let out = ctl(&d.control, "reload");
        assert!(out.status.success(), "{:?}", out);
        send(port, &lines("after", 0..1));
        assert!(peer.wait_lines(2, LONG), "{}", d.stderr());
        assert_eq!(
            messages(&peer.data()),
            vec!["before 0".to_string(), "after 0".to_string()]
        );
        if keep {
            assert_eq!(
                peer.accepts().len(),
                1,
                "keep-alive(yes) keeps the connection"
            );
            assert!(peer.ends().is_empty());
        } else {
            assert_eq!(
                peer.accepts().len(),
                2,
                "keep-alive(no) reconnects; ends {:?}; stderr:\n{}",
                peer.ends().len(),
                d.stderr()
            );
        }
    }
}

#[test]
fn marks_go_out_periodically_and_host_idle_waits_for_relayed_traffic() {
    let periodical = StreamPeer::tcp();
    let host_idle = StreamPeer::tcp();
    let port = free_port();
    let mut d = Daemon::start(
        &format!(
            "@version: 3.38\noptions {{ use-dns(no); keep-hostname(yes); mark-freq(1); }};\n\
             source s {{ network(ip(127.0.0.1) port({port})); }};\n\
             destination p {{ network(\"127.0.0.1\" port({}) mark-mode(periodical)); }};\n\
             destination h {{ network(\"127.0.0.1\" port({})); }};\n\
             log {{ source(s); destination(h); }};\nlog {{ destination(p); }};\n",
            periodical.port(),
            host_idle.port()
        ),
        None,
    );
    d.wait_ready();
    // periodical: a MARK every second from the start, nothing else sent.
    assert!(periodical.wait_lines(2, LONG), "{}", d.stderr());
    for line in periodical.text().lines().take(2) {
        // <46>MMM DD HH:MM:SS HOST -- MARK --
        let rest = line
            .strip_prefix("<46>")
            .unwrap_or_else(|| panic!("{line:?}"));
        assert!(rest.ends_with(" -- MARK --"), "{line:?}");
        assert_eq!(rest.as_bytes().get(15), Some(&b' '), "{line:?}");
    }
    // The global mark-mode (host-idle) sends nothing before the destination relayed a
    // message; one mark-freq() after that, a MARK (syslog-ng 3.38 does the same).
    assert_eq!(host_idle.lines(), 0);
    send(port, &lines("x", 0..1));
    assert!(host_idle.wait_lines(2, LONG), "{}", d.stderr());
    let text = host_idle.text();
    let mut it = text.lines();
    assert_eq!(it.next(), Some("<13>Jan  1 00:00:00 h p: x 0"));
    assert!(
        it.next()
            .is_some_and(|l| l.starts_with("<46>") && l.ends_with(" -- MARK --"))
    );
}

#[test]
fn a_host_name_that_does_not_resolve_is_retried_not_a_config_error() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(&format!(
            "source s {{ network(ip(127.0.0.1) port({port})); }};\n\
             destination d {{ network(\"no-such-host.invalid\" time-reopen(1)); }};\n\
             log {{ source(s); destination(d); }};\n"
        )),
        None,
    );
    d.wait_ready();
    assert!(
        wait_for(LONG, || d
            .stderr()
            .matches("Error resolving hostname; host='no-such-host.invalid'")
            .count()
            >= 2),
        "{}",
        d.stderr()
    );
}

#[test]
fn udp_datagrams_are_cut_to_65507_bytes() {
    let peer = DgramPeer::udp();
    let port = free_port();
    let mut d = Daemon::start(
        &config(&format!(
            "source s {{ network(ip(127.0.0.1) port({port}) log-msg-size(200000)); }};\n\
             destination d {{ udp(\"127.0.0.1\" port({})); }};\n\
             log {{ source(s); destination(d); }};\n",
            peer.port()
        )),
        None,
    );
    d.wait_ready();
    let body = "x".repeat(70000);
    let line = format!("<13>Jan  1 10:00:00 myhost prog: {body}\n");
    let mut input = line.clone().into_bytes();
    input.extend_from_slice(b"<13>Jan  1 10:00:00 myhost prog: small\n");
    send(port, &input);
    assert!(peer.wait_datagrams(2, LONG), "{}", d.stderr());
    let got = peer.datagrams();
    // syslog-ng 3.38: the first 65507 bytes of the line (the newline is lost), over IPv4
    // and IPv6 alike.
    assert_eq!(got[0].len(), 65507);
    assert_eq!(&got[0][..], &line.as_bytes()[..65507]);
    assert_eq!(got[1], b"<13>Jan  1 10:00:00 myhost prog: small\n");
}

#[test]
fn syslog_octet_counting_goes_on_after_a_reconnect() {
    let mut peer = StreamPeer::tcp_at(PRIVATE_LOOPBACK);
    let port = free_port();
    let mut d = Daemon::start(
        &config(&format!(
            "source s {{ network(ip(127.0.0.1) port({port})); }};\n\
             destination d {{ syslog(\"127.0.0.2\" port({}) time-reopen(1) template(\"$MSG\")); }};\n\
             log {{ source(s); destination(d); flags(flow-control); }};\n",
            peer.port()
        )),
        None,
    );
    d.wait_ready();
    send(port, &lines("f", 0..50));
    assert!(
        wait(LONG, || frames(&peer.data()).is_some_and(|f| f.len() >= 50)),
        "{}",
        d.stderr()
    );
    peer.restart();
    send(port, &lines("g", 0..50));
    assert!(
        wait(LONG, || frames(&peer.data())
            .is_some_and(|f| f.len() >= 100)),
        "{}",
        d.stderr()
    );
    let data = peer.data();
    let got: Vec<String> = frames(&data)
        .unwrap_or_default()
        .iter()
        .map(|f| {
            // <13>1 STAMP h p - - - f 0\n
            let s = String::from_utf8_lossy(f);
            let mut parts = s.trim_end().rsplitn(3, ' ');
            let n = parts.next().unwrap_or_default();
            let tag = parts.next().unwrap_or_default();
            format!("{tag} {n}")
        })
        .collect();
    let mut want = expect_messages("f", 0..50);
    want.extend(expect_messages("g", 0..50));
    assert_eq!(got, want);
}
