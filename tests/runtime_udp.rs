//! UDP sources end to end over real sockets: `network(transport(udp))`, `udp()`, `udp6()` and
//! `syslog(transport(udp))` write what syslog-ng 3.38 writes for the same datagrams
//! (tests/golden/net_sources: trailing newlines and NULs, empty datagrams, a malformed one,
//! log-msg-size() truncation, counters); flow control stops reading; a reload keeps the socket.

mod common;
mod net_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use common::{Daemon, count_lines, free_port, stat, wait_for};

#[test]
fn network_transport_udp_matches_syslog_ng() {
    net_support::run_case("udp");
}

#[test]
fn udp_driver_matches_syslog_ng() {
    net_support::run_case("udp_driver");
}

#[test]
fn udp6_driver_matches_syslog_ng() {
    net_support::run_case("udp6");
}

#[test]
fn syslog_transport_udp_parses_rfc5424_without_octet_counting() {
    net_support::run_case("syslog_udp");
}

fn config(port: u16, body: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); }};\n{}",
        body.replace("PORT", &port.to_string())
    )
}

fn sender() -> std::net::UdpSocket {
    std::net::UdpSocket::bind("127.0.0.1:0").expect("udp socket")
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().expect("path")).expect("cstring");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn flow_control_stops_reading_the_socket_while_the_window_is_empty() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let body = format!(
        "source s {{ udp(ip(127.0.0.1) port(PORT) log-iw-size(100)); }};\n\
         destination d {{ file(\"{}\" template(\"$MSG\\n\") log-fifo-size(10)); }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n",
        fifo.display()
    );
    let mut d = Daemon::start(&config(port, &body), None);
    d.wait_ready();
    // 150 small datagrams fit in the kernel's buffer; the window lets 100 in.
    let s = sender();
    let n = 150;
    for i in 0..n {
        s.send_to(
            format!("<13>Jan  1 00:00:00 h p: m{i}").as_bytes(),
            ("127.0.0.1", port),
        )
        .expect("send");
    }
    let control = d.control.clone();
    assert!(
        wait_for(Duration::from_secs(20), || stat(
            &control,
            "source;s;received"
        ) == Some(100)),
        "{:?}",
        stat(&control, "source;s;received")
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stat(&control, "source;s;received"), Some(100));
    // Unblock the destination: the rest is read from the kernel buffer, nothing dropped.
    let f = std::fs::File::open(&fifo).expect("open fifo");
    let mut lines = Vec::new();
    for line in BufReader::new(f).lines() {
        lines.push(line.expect("line"));
        if lines.len() == n {
            break;
        }
    }
    let want: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    assert_eq!(lines, want);
    assert_eq!(stat(&control, "source;s;received"), Some(n as u64));
    assert_eq!(stat(&control, "destination;d;dropped"), Some(0));
}

#[test]
fn reload_keeps_the_socket_and_loses_no_datagram() {
    let port = free_port();
    // A larger buffer where the system allows it (a user gets at most net.core.rmem_max).
    let body = "source s { network(ip(127.0.0.1) port(PORT) transport(udp) so-rcvbuf(1048576)); };\n\
                destination d { file(\"out.log\" template(\"$MSG\\n\")); };\n\
                log { source(s); destination(d); };\n";
    let mut d = Daemon::start(&config(port, body), None);
    d.wait_ready();
    // A sender paced well below what the kernel buffer holds during a swap.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let pacer = std::thread::spawn(move || {
        let s = sender();
        let mut i = 0u64;
        while !stop2.load(std::sync::atomic::Ordering::Acquire) {
            s.send_to(
                format!("<13>Jan  1 00:00:00 h p: during {i}").as_bytes(),
                ("127.0.0.1", port),
            )
            .expect("send");
            i += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
        i
    });
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) > 20));
    for _ in 0..2 {
        let r = common::ctl(&d.control, "reload");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
    }
    // Right after the reload returned: nothing may be lost.
    let s = sender();
    for i in 0..100 {
        s.send_to(
            format!("<13>Jan  1 00:00:00 h p: after {i}").as_bytes(),
            ("127.0.0.1", port),
        )
        .expect("send");
    }
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, std::sync::atomic::Ordering::Release);
    let during = pacer.join().expect("sender");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out)
            == during as usize + 100),
        "{} lines, {} sent; {}",
        count_lines(&out),
        during + 100,
        d.stderr()
    );
    let text = std::fs::read_to_string(&out).expect("read");
    let after: Vec<&str> = text.lines().filter(|l| l.starts_with("after ")).collect();
    let want: Vec<String> = (0..100).map(|i| format!("after {i}")).collect();
    assert_eq!(after, want);
}

#[test]
fn a_port_in_use_fails_the_start_with_syslog_ngs_message() {
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { udp(ip(127.0.0.1) port(PORT)); };\nlog { source(s); };\n",
        ),
        None,
    );
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(2));
    let err = d.stderr();
    assert!(
        err.contains(&format!(
            "Error binding socket; addr='AF_INET(127.0.0.1:{port})', source='s', error='Address already in use (98)'"
        )),
        "{err}"
    );
}

#[test]
fn the_sender_address_fills_sourceip_and_host_from() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { udp(ip(127.0.0.1) port(PORT)); };\n\
             destination d { file(\"out.log\" template(\"$SOURCEIP|$HOST_FROM|$HOST|$MSG\\n\")); };\n\
             log { source(s); destination(d); };\n",
        ),
        None,
    );
    d.wait_ready();
    sender()
        .send_to(b"<13>Jan  1 00:00:00 myhost p: hi", ("127.0.0.1", port))
        .expect("send");
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 1));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default(),
        "127.0.0.1|127.0.0.1|127.0.0.1|hi\n"
    );
}
