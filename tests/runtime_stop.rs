//! Stopping the real daemon with a backlog: listeners close first (new clients are refused),
//! the control socket keeps answering while queues drain, a second SIGTERM ends the drain,
//! and the exit log counts exactly what was not delivered.

mod common;
mod supervise_support;

use std::net::TcpStream;

use common::{count_lines, ctl, free_port, stat, wait_for};
use supervise_support::*;

/// How the program of [`stop_with_a_backlog`] reads, and what it is sent.
struct Backlog {
    /// Messages sent, `m<i>` + `pad` (the `$MSG` the program gets, one per line).
    sent: usize,
    pad: &'static str,
    /// Lines the program reads at full speed first (freeing pipe pages), then ~20 a second.
    fast: usize,
    /// Lines the program must have got before the first SIGTERM.
    before_stop: usize,
}

/// The message `i` of a [`Backlog`] as the program writes it.
fn padded(i: usize, pad: &str) -> String {
    format!("m{i}{pad}\n")
}

/// Sends a [`Backlog`] to a slow `program()` (no flow control, a queue big enough for all),
/// stops the daemon with SIGTERM and checks what a stop must do while the queue drains:
/// (a) the listener is closed (new clients refused), (b) the control socket answers,
/// (c) a second SIGTERM ends the drain and the daemon exits 0. Returns the lines the program
/// got in full and the daemon's `undelivered=N`.
///
/// When the program is terminated it copies what is left in its pipe to `got` first (the
/// trap runs `cat` until end-of-file), so every line the daemon handed to the pipe ends up
/// in `got`: lines in `got` + undelivered must then be exactly what was sent — no pipe
/// slack to allow for.
fn stop_with_a_backlog(b: &Backlog) -> (usize, usize) {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let programs = Programs::new(dir.path());
    let got = dir.path().join("got");
    let mut d = started(&config(
        port,
        dir.path(),
        &format!(
            "options {{ log-fifo-size(100000); }};\n\
             source s {{ network(ip(127.0.0.1) port(PORT)); }};\n\
             destination p {{ program(\"echo $$ >> DIR/pids; exec >> DIR/got; \
             trap 'cat; exit 0' TERM; i=0; \
             while [ $i -lt {fast} ] && read l; do echo $l; i=$((i+1)); done; \
             while read l; do echo $l; sleep 0.05; done\" template(\"$MSG\\n\")); }};\n\
             log {{ source(s); destination(p); }};\n",
            fast = b.fast
        ),
    ));
    let data: String = (0..b.sent)
        .map(|i| line(&format!("m{i}{}", b.pad)))
        .collect();
    send(port, data.as_bytes());
    assert!(
        wait_for(WAIT, || stat(&d.control, "destination;p;processed")
            == Some(b.sent as u64)),
        "{:?}\n{}",
        stat(&d.control, "destination;p;processed"),
        d.stderr()
    );
    assert_eq!(stat(&d.control, "source;s;received"), Some(b.sent as u64));
    assert!(
        wait_for(WAIT, || count_lines(&got) >= b.before_stop),
        "{} lines\n{}",
        count_lines(&got),
        d.stderr()
    );
    d.signal(libc::SIGTERM);
    // (a) The listener closes first: a new client is refused, not accepted by nobody.
    let mut accepted = 0;
    let refused = wait_for(WAIT, || match TcpStream::connect(("127.0.0.1", port)) {
        Ok(_) => {
            accepted += 1;
            false
        }
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
    });
    assert!(
        refused,
        "still accepting after SIGTERM ({accepted} accepted)\n{}",
        d.stderr()
    );
    // (b) The control socket answers while the queue drains (the backlog needs minutes).
    let stats = ctl(&d.control, "stats");
    assert!(stats.status.success(), "{}\n{}", text(&stats), d.stderr());
    assert!(
        String::from_utf8_lossy(&stats.stdout).contains("destination;p;;a;processed;"),
        "{}",
        text(&stats)
    );
    let health = ctl(&d.control, "healthcheck");
    assert!(health.status.success(), "{}", text(&health));
    let graph = ctl(&d.control, "graph");
    assert!(graph.status.success(), "{}", text(&graph));
    assert!(
        String::from_utf8_lossy(&graph.stdout).contains("draining: undelivered="),
        "{}",
        text(&graph)
    );
    assert!(
        matches!(d.child.try_wait(), Ok(None)),
        "the daemon exited before the second signal:\n{}",
        d.stderr()
    );
    // (c) A second SIGTERM ends the drain at once.
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    let stderr = d.stderr();
    assert!(
        stderr.contains("Second stop signal, ending the drain now"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("did not drain their queues in time"),
        "the drain ended by its timeout, not by the signal:\n{stderr}"
    );
    // The program had end-of-file and SIGTERM from the daemon's stop; wait until it has
    // copied its pipe and exited.
    let pids = programs.list();
    assert_eq!(pids.len(), 1, "{pids:?}");
    assert!(
        wait_for(WAIT, || !alive(pids[0])),
        "the program {} still runs after the daemon exited",
        pids[0]
    );
    let undelivered = undelivered(&stderr).unwrap_or_else(|| panic!("no stop line:\n{stderr}"));
    assert!(undelivered > 0, "{stderr}");
    // What the program got in full is the beginning of what was sent, in order, each once
    // (a line the kill cut leaves a tail without a newline: it was not delivered).
    let all = read(&got);
    let whole = &all[..all.rfind('\n').map_or(0, |e| e + 1)];
    let received = whole.lines().count();
    let want: String = (0..received).map(|i| padded(i, b.pad)).collect();
    assert!(whole == want, "the program's lines are not m0..m{received}");
    (received, undelivered)
}

#[test]
fn sigterm_with_a_backlog_refuses_new_clients_answers_ctl_and_counts_exactly() {
    // Short lines: every batch the writer has in hand here fits in PIPE_BUF, so it reaches
    // the pipe whole or not at all (see the next test for a batch cut in the middle).
    let b = Backlog {
        sent: 20_000,
        pad: "",
        fast: 0,
        before_stop: 1,
    };
    assert_counted_exactly(&b);
}

#[test]
fn an_aborted_drain_does_not_count_the_written_part_of_a_batch_as_undelivered() {
    // Long lines and a program that has already freed many pipe pages: the writer's batch
    // in hand (up to 2048 lines, ~350 KiB) is always partly in the pipe when the second
    // SIGTERM comes. The lines already in the pipe were delivered (the program reads them),
    // so they must not be counted as undelivered too.
    let b = Backlog {
        sent: 20_000,
        pad: "-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
              xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        fast: 2000,
        before_stop: 2000,
    };
    assert_counted_exactly(&b);
}

/// Runs [`stop_with_a_backlog`]: what the program received and what the exit log counts as
/// undelivered add up to what was sent.
fn assert_counted_exactly(b: &Backlog) {
    let (received, undelivered) = stop_with_a_backlog(b);
    assert_eq!(
        received + undelivered,
        b.sent,
        "received by the program {received} + undelivered {undelivered} != sent {}",
        b.sent
    );
}

#[test]
fn stop_with_an_empty_queue_exits_zero_and_reports_zero_undelivered() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.log");
    let mut d = started(&config(
        port,
        dir.path(),
        "source s { network(ip(127.0.0.1) port(PORT)); };\n\
         destination d { file(\"DIR/out.log\" template(\"$MSG\\n\")); };\n\
         log { source(s); destination(d); };\n",
    ));
    send(port, &batch(0, 3));
    assert!(wait_for(WAIT, || count_lines(&out) == 3), "{}", d.stderr());
    assert!(wait_for(WAIT, || stat(&d.control, "destination;d;queued") == Some(0)));
    let stop = ctl(&d.control, "stop");
    assert!(stop.status.success(), "{}", text(&stop));
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    let stderr = d.stderr();
    assert_eq!(undelivered(&stderr), Some(0), "{stderr}");
    assert!(!stderr.contains("not delivered"), "{stderr}");
    assert_eq!(read(&out), expected(0, 3));
}
