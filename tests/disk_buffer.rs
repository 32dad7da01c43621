//! `disk-buffer()` end to end: a destination that is down while messages arrive gets them
//! all, in order, once it is up; a reliable buffer keeps what it took across `kill -9`; a
//! clean stop with `reliable(no)` keeps the rest for the next start.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Daemon, connect, free_port, stat, wait_for};

const WAIT: Duration = Duration::from_secs(60);

/// A TCP receiver collecting the `n N` lines it gets, on every connection.
struct Receiver {
    lines: Arc<Mutex<Vec<u64>>>,
}

impl Receiver {
    fn start(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("receiver binds");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let got = lines.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let got = got.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(conn).lines() {
                        let Ok(line) = line else { break };
                        if let Some(n) = line.strip_prefix("n ").and_then(|n| n.parse().ok()) {
                            got.lock().unwrap_or_else(|p| p.into_inner()).push(n);
                        }
                    }
                });
            }
        });
        Receiver { lines }
    }

    fn got(&self) -> Vec<u64> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn config(src: u16, dst: u16, reliable: bool) -> String {
    format!(
        "options {{ time-reopen(1); }};\n\
         source s {{ network(ip(127.0.0.1) port({src}) log-iw-size(1000)); }};\n\
         destination d {{ network(\"127.0.0.1\" port({dst}) template(\"$MSG\\n\")\n\
             disk-buffer(disk-buf-size(200000000) reliable({})) ); }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n",
        if reliable { "yes" } else { "no" }
    )
}

fn send_range(port: u16, range: std::ops::Range<u64>) {
    let mut s = connect(port);
    let mut buf = Vec::new();
    for n in range {
        buf.extend_from_slice(format!("<13>Dec  2 10:00:00 h prog: n {n}\n").as_bytes());
        if buf.len() > 64 * 1024 {
            s.write_all(&buf).expect("send");
            buf.clear();
        }
    }
    s.write_all(&buf).expect("send");
}

fn started(config: &str) -> Daemon {
    let mut d = Daemon::start(config, None);
    d.wait_ready();
    d
}

#[test]
fn a_destination_that_is_down_gets_every_message_in_order_once_up() {
    const N: u64 = 100_000;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, true));
    send_range(src, 0..N);
    // Flow control does not stop the sender: the buffer takes everything.
    assert!(
        wait_for(WAIT, || stat(&d.control, "source;s;received") == Some(N)),
        "received {:?}\n{}",
        stat(&d.control, "source;s;received"),
        d.stderr()
    );
    let r = Receiver::start(dst);
    assert!(
        wait_for(WAIT, || r.got().len() as u64 >= N),
        "{} of {N}\n{}",
        r.got().len(),
        d.stderr()
    );
    let got = r.got();
    assert_eq!(got, (0..N).collect::<Vec<_>>(), "in order, each once");
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
}

/// Counts of each number received.
fn counts(v: &[u64]) -> BTreeMap<u64, u32> {
    let mut m = BTreeMap::new();
    for n in v {
        *m.entry(*n).or_insert(0) += 1;
    }
    m
}

#[test]
fn a_reliable_buffer_keeps_what_it_took_across_sigkill() {
    const N: u64 = 50_000;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, true));
    send_range(src, 0..N);
    // `processed` counts a message once the queue took it: with a reliable buffer, once its
    // record is on disk.
    assert!(
        wait_for(WAIT, || stat(&d.control, "destination;d;processed")
            == Some(N)),
        "{}",
        d.stderr()
    );
    d.signal(libc::SIGKILL);
    let _ = d.child.wait();
    let r = Receiver::start(dst);
    d.restart();
    assert!(
        wait_for(WAIT, || counts(&r.got()).len() as u64 == N),
        "{} of {N}\n{}",
        counts(&r.got()).len(),
        d.stderr()
    );
    assert!(
        r.got().windows(2).all(|w| w[0] < w[1]),
        "in order, each once"
    );
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
}

#[test]
fn a_clean_stop_keeps_the_undelivered_rest_for_the_next_start() {
    const N: u64 = 20_000;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, false));
    send_range(src, 0..N);
    assert!(wait_for(WAIT, || stat(
        &d.control,
        "destination;d;processed"
    ) == Some(N)));
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    assert!(
        d.stderr()
            .contains("stay in the disk-buffer for the next start"),
        "{}",
        d.stderr()
    );
    let r = Receiver::start(dst);
    d.restart();
    assert!(
        wait_for(WAIT, || r.got().len() as u64 >= N),
        "{} of {N}\n{}",
        r.got().len(),
        d.stderr()
    );
    assert_eq!(r.got(), (0..N).collect::<Vec<_>>());
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
}
