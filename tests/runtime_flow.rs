//! Flow control and no loss, over real sockets: a million messages on several connections all
//! arrive in order; a blocked destination stops the source's reading and it resumes; without
//! flow control the overflow is dropped and counted, and nothing else is lost.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Daemon, connect, count_lines, free_port, stat, wait_for};

fn config(port: u16, body: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); }};\n{}",
        body.replace("PORT", &port.to_string())
    )
}

/// `count` messages of connection `conn`: `c<conn> <seq>` as MESSAGE.
fn payload(conn: usize, count: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(count * 40);
    for i in 0..count {
        v.extend_from_slice(format!("<13>Jan  1 00:00:00 h p: c{conn} {i}\n").as_bytes());
    }
    v
}

/// Checks that `text` holds `per` messages of each of `conns` connections, in order.
fn check_in_order(text: &[u8], conns: usize, per: usize) {
    let mut next = vec![0usize; conns];
    for line in text.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let line = std::str::from_utf8(line).expect("utf8");
        let mut it = line.split(' ');
        let c: usize = it
            .next()
            .and_then(|c| c.strip_prefix('c'))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let i: usize = it
            .next()
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        assert_eq!(i, next[c], "connection {c} out of order");
        next[c] += 1;
    }
    assert_eq!(next, vec![per; conns]);
}

#[test]
fn a_million_messages_with_flow_control_all_arrive_in_order() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { network(ip(127.0.0.1) port(PORT)); };\n\
             destination d { file(\"out.log\" template(\"$MSG\\n\")); };\n\
             log { source(s); destination(d); flags(flow-control); };\n",
        ),
        None,
    );
    d.wait_ready();
    let (conns, per) = (4usize, 250_000usize);
    let started = Instant::now();
    let senders: Vec<_> = (0..conns)
        .map(|c| {
            let data = payload(c, per);
            std::thread::spawn(move || {
                let mut s = connect(port);
                s.write_all(&data).expect("send");
            })
        })
        .collect();
    for s in senders {
        s.join().expect("sender");
    }
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(120), || count_lines(&out)
            >= conns * per),
        "{} of {} lines; {}",
        count_lines(&out),
        conns * per,
        d.stderr()
    );
    eprintln!("1M messages in {:?}", started.elapsed());
    check_in_order(&std::fs::read(&out).expect("read"), conns, per);
    assert_eq!(stat(&d.control, "destination;d;dropped"), Some(0));
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().expect("path")).expect("cstring");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Reads lines from the FIFO until `n` arrived (the test's reader of a blocked destination).
fn read_fifo(path: &Path, n: usize) -> Vec<u8> {
    let f = std::fs::File::open(path).expect("open fifo");
    let mut r = BufReader::new(f);
    let mut out = Vec::new();
    let mut lines = 0;
    while lines < n {
        let before = out.len();
        if r.read_until(b'\n', &mut out).expect("read fifo") == 0 {
            break;
        }
        if out.len() > before {
            lines += 1;
        }
    }
    out
}

#[test]
fn flow_control_stops_reading_while_the_destination_is_blocked_and_resumes() {
    let port = free_port();
    let body = "source s { network(ip(127.0.0.1) port(PORT) max-connections(10) log-iw-size(1000)); };\n\
                destination d { file(\"fifo\" template(\"$MSG\\n\") log-fifo-size(100)); };\n\
                log { source(s); destination(d); flags(flow-control); };\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let mut d = Daemon::start(
        &config(
            port,
            &body.replace("\"fifo\"", &format!("\"{}\"", fifo.display())),
        ),
        None,
    );
    d.wait_ready();
    let n = 200_000;
    let data = payload(0, n);
    let sender = std::thread::spawn(move || {
        let mut s = connect(port);
        s.write_all(&data).expect("send");
    });
    // The window is 100 messages per connection: the source reads those and stops.
    let control = d.control.clone();
    assert!(wait_for(Duration::from_secs(20), || stat(
        &control,
        "source;s;received"
    ) == Some(100)));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(stat(&control, "source;s;received"), Some(100));
    assert!(!sender.is_finished(), "the sender should be blocked by TCP");
    // Unblock the destination: everything arrives, in order, nothing dropped.
    let text = read_fifo(&fifo, n);
    sender.join().expect("sender");
    check_in_order(&text, 1, n);
    assert_eq!(stat(&control, "destination;d;dropped"), Some(0));
}

#[test]
fn without_flow_control_overflow_is_dropped_and_counted() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let body = format!(
        "source s {{ network(ip(127.0.0.1) port(PORT)); }};\n\
         destination d {{ file(\"{}\" template(\"$MSG\\n\") log-fifo-size(1000)); }};\n\
         log {{ source(s); destination(d); }};\n",
        fifo.display()
    );
    let mut d = Daemon::start(&config(port, &body), None);
    d.wait_ready();
    let n = 20_000u64;
    common::send(port, &payload(0, n as usize));
    let control = d.control.clone();
    // The source keeps reading although the destination is blocked.
    assert!(wait_for(Duration::from_secs(20), || stat(
        &control,
        "source;s;received"
    ) == Some(n)));
    let dropped = stat(&control, "destination;d;dropped").unwrap_or(0);
    assert!(dropped > 0 && dropped < n, "dropped {dropped}");
    let kept = (n - dropped) as usize;
    let text = read_fifo(&fifo, kept);
    assert_eq!(text.iter().filter(|&&c| c == b'\n').count(), kept);
    assert!(wait_for(Duration::from_secs(20), || stat(
        &control,
        "destination;d;written"
    ) == Some(kept as u64)));
}
