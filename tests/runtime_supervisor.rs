//! The ConfigSupervisor end to end, with the real daemon: a reload that removes a backlogged
//! destination does not hold input back (the removed destination drains in the background);
//! a reload that cannot bind leaves the old graph running; `reload --check` prints the plan
//! and applies nothing; destinations are matched by persist name, not by position; and a stop
//! refuses new clients, keeps the control socket answering while queues drain, ends the
//! drain on a second SIGTERM and counts exactly what was not delivered.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{Daemon, SLUICE_CTL, connect, count_lines, ctl, free_port, stat, wait_for};

/// A generous "must finish" bound for conditions that normally hold within milliseconds.
const WAIT: Duration = Duration::from_secs(20);

/// `@version`, no DNS, and `body` with `PORT` and `DIR` filled in.
fn config(port: u16, dir: &Path, body: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); }};\n{}",
        body.replace("PORT", &port.to_string())
            .replace("DIR", &dir.display().to_string())
    )
}

/// Message `tag` in the BSD format; its `$MSG` is `tag`.
fn line(tag: &str) -> String {
    format!("<13>Jan  1 00:00:00 host prog: {tag}\n")
}

/// `m<from>` .. `m<to-1>` as syslog lines, ready to send on one connection.
fn batch(from: usize, to: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity((to - from) * 40);
    for i in from..to {
        v.extend_from_slice(line(&format!("m{i}")).as_bytes());
    }
    v
}

/// `m<from>` .. `m<to-1>`, one `$MSG` per line, as the destinations write them.
fn expected(from: usize, to: usize) -> String {
    (from..to).map(|i| format!("m{i}\n")).collect()
}

/// Sends `data` on a new connection (retrying the connect until the daemon listens).
fn send(port: u16, data: &[u8]) {
    let mut s = connect(port);
    s.write_all(data).expect("send");
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `sluice-ctl -c CTL --timeout 60 ARGS...`: the timeout is long so that a slow reply is
/// measured by the test, not cut off by the client.
fn ctl_args(control: &Path, args: &[&str]) -> Output {
    Command::new(SLUICE_CTL)
        .arg("-c")
        .arg(control)
        .arg("--timeout")
        .arg("60")
        .args(args)
        .output()
        .expect("sluice-ctl runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn started(config: &str) -> Daemon {
    let mut d = Daemon::start(config, None);
    d.wait_ready();
    d
}

/// The `N` of the daemon's last `sluice stopped undelivered=N` line.
fn undelivered(stderr: &str) -> Option<usize> {
    stderr
        .lines()
        .rev()
        .find_map(|l| l.split("sluice stopped undelivered=").nth(1))
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Whether process `pid` is still running (a zombie does not count).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) STATE ...`; comm may hold spaces, the state follows the last `)`.
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The programs a test's `program()` destinations started (each writes `$$` to `pids`
/// first): killed, with their process group, when the test ends, so a slow reader the daemon
/// left behind does not outlive the test. A pid is only signalled while its command line
/// still names the test's directory (the pid was not reused).
struct Programs {
    pids: PathBuf,
    marker: String,
}

impl Programs {
    fn new(dir: &Path) -> Programs {
        Programs {
            pids: dir.join("pids"),
            marker: dir.display().to_string(),
        }
    }

    fn list(&self) -> Vec<i32> {
        read(&self.pids)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    fn ours(&self, pid: i32) -> bool {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(&self.marker))
            .unwrap_or(false)
    }

    /// Sends `sig` to the process group of each of our programs still running.
    fn signal(&self, sig: i32) {
        for pid in self.list() {
            if alive(pid) && self.ours(pid) {
                // SAFETY: signalling the process group of a program this test's daemon
                // started (the daemon gives each program a group of its own).
                unsafe {
                    libc::killpg(pid, sig);
                }
            }
        }
    }
}

impl Drop for Programs {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

#[test]
fn reload_that_removes_a_backlogged_destination_does_not_stop_input() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let programs = Programs::new(dir.path());
    // No flow control: the slow program must not hold the source back; its queue is big
    // enough for the whole backlog.
    let source = "options { log-fifo-size(100000); };\n\
                  source s { network(ip(127.0.0.1) port(PORT) max-connections(100)); };\n\
                  destination f { file(\"DIR/out.log\" template(\"$MSG\\n\")); };\n";
    let slow = "destination p { program(\"echo $$ >> DIR/pids; \
                while read l; do sleep 0.01; done\" template(\"$MSG\\n\")); };\n\
                log { source(s); destination(f); destination(p); };\n";
    let mut d = started(&config(port, dir.path(), &format!("{source}{slow}")));
    let out = dir.path().join("out.log");
    let total = 30_000;
    send(port, &batch(0, total));
    assert!(
        wait_for(WAIT, || stat(&d.control, "source;s;received")
            == Some(total as u64)),
        "{:?}\n{}",
        stat(&d.control, "source;s;received"),
        d.stderr()
    );
    // The program reads ~100 lines a second: most of the 30,000 wait in its queue, far
    // more than it could write in the 30 s a removed destination may drain.
    assert!(
        wait_for(WAIT, || stat(&d.control, "destination;p;queued")
            .is_some_and(|q| q >= 10_000)),
        "queued {:?}\n{}",
        stat(&d.control, "destination;p;queued"),
        d.stderr()
    );
    std::fs::write(
        &d.config,
        config(
            port,
            dir.path(),
            &format!("{source}log {{ source(s); destination(f); }};\n"),
        ),
    )
    .expect("config");
    let t = Instant::now();
    let reload = ctl_args(&d.control, &["reload"]);
    let took = t.elapsed();
    assert!(reload.status.success(), "{}\n{}", text(&reload), d.stderr());
    // Waiting for the removed destination's drain would take its full 30 s bound.
    assert!(
        took < Duration::from_secs(15),
        "the reload took {took:?}: it waited for the removed destination"
    );
    // The new graph accepts at once: every connection is accepted (none refused) and every
    // message arrives, while the removed destination still drains in the background.
    for i in 0..24 {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("probe {i} refused after the reload: {e}"));
        s.write_all(line(&format!("probe{i}")).as_bytes())
            .expect("probe send");
        drop(s);
        let h = ctl(&d.control, "healthcheck");
        assert!(h.status.success(), "healthcheck {i}: {}", text(&h));
    }
    let probes: String = (0..24).map(|i| format!("probe{i}\n")).collect();
    let want = format!("{}{probes}", expected(0, total));
    assert!(
        wait_for(WAIT, || read(&out).len() >= want.len()),
        "{} lines of {}\n{}",
        count_lines(&out),
        total + 24,
        d.stderr()
    );
    assert!(read(&out) == want, "out.log lost or reordered lines");
    // The kept file destination's counters went on across the reload; the program's are gone.
    assert_eq!(
        stat(&d.control, "destination;f;written"),
        Some(total as u64 + 24)
    );
    assert_eq!(stat(&d.control, "destination;p;queued"), None);
    let stop = ctl(&d.control, "stop");
    assert!(stop.status.success(), "{}", text(&stop));
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    drop(programs);
}

#[test]
fn a_failed_reload_leaves_the_old_graph_running() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = held.local_addr().expect("addr").port();
    let out = dir.path().join("out.log");
    let mut d = started(&config(
        port,
        dir.path(),
        "source s { network(ip(127.0.0.1) port(PORT)); };\n\
         destination d { file(\"DIR/out.log\" template(\"$MSG\\n\")); };\n\
         log { source(s); destination(d); };\n",
    ));
    send(port, &batch(1, 3));
    assert!(wait_for(WAIT, || count_lines(&out) == 2), "{}", d.stderr());
    assert_eq!(stat(&d.control, "destination;d;written"), Some(2));
    // The new configuration adds a source on a port the test holds, and changes the
    // destination's template: were anything of it applied, the next line would show it.
    std::fs::write(
        &d.config,
        config(
            port,
            dir.path(),
            &format!(
                "source s {{ network(ip(127.0.0.1) port(PORT)); }};\n\
                 source t {{ network(ip(127.0.0.1) port({busy})); }};\n\
                 destination d {{ file(\"DIR/out.log\" template(\"NEW $MSG\\n\")); }};\n\
                 log {{ source(s); source(t); destination(d); }};\n"
            ),
        ),
    )
    .expect("config");
    let reload = ctl_args(&d.control, &["reload"]);
    assert!(!reload.status.success(), "{}", text(&reload));
    assert!(
        text(&reload).contains("Error binding socket"),
        "{}",
        text(&reload)
    );
    assert!(
        text(&reload).contains(&format!("127.0.0.1:{busy}")),
        "{}",
        text(&reload)
    );
    // The original source still takes messages, written by the original destination.
    send(port, &batch(3, 5));
    assert!(
        wait_for(WAIT, || count_lines(&out) == 4),
        "{:?}\n{}",
        read(&out),
        d.stderr()
    );
    assert_eq!(read(&out), expected(1, 5));
    // Its counters went on (the same queue), and no generation was added.
    assert_eq!(stat(&d.control, "destination;d;written"), Some(4));
    assert_eq!(stat(&d.control, "source;s;received"), Some(4));
    let graph = ctl(&d.control, "graph");
    assert!(
        String::from_utf8_lossy(&graph.stdout).starts_with("phase=Running generation=0\n"),
        "{}",
        text(&graph)
    );
    drop(held);
    let stop = ctl(&d.control, "stop");
    assert!(stop.status.success(), "{}", text(&stop));
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
}

#[test]
fn reload_check_prints_the_plan_and_changes_nothing() {
    let (port, added) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| dir.path().join(n);
    let mut d = started(&config(
        port,
        dir.path(),
        "source s { network(ip(127.0.0.1) port(PORT)); };\n\
         destination d { file(\"DIR/A\" template(\"$MSG\\n\")); \
         file(\"DIR/E\" template(\"$MSG\\n\")); };\n\
         log { source(s); destination(d); };\n",
    ));
    let other = p("other.conf");
    std::fs::write(
        &other,
        config(
            port,
            dir.path(),
            &format!(
                "source s {{ network(ip(127.0.0.1) port(PORT)); }};\n\
                 source t {{ network(ip(127.0.0.1) port({added})); }};\n\
                 destination d {{ file(\"DIR/B\" template(\"$MSG\\n\")); \
                 file(\"DIR/E\" template(\"$MSG\\n\")); }};\n\
                 log {{ source(s); source(t); destination(d); }};\n"
            ),
        ),
    )
    .expect("config");
    let check = ctl_args(
        &d.control,
        &["reload", "--check", other.to_str().expect("utf8")],
    );
    assert!(check.status.success(), "{}", text(&check));
    let dirs = dir.path().display();
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        format!(
            "source s#0 afsocket_sd.(stream,AF_INET(127.0.0.1:{port})): handed over\n\
             source t#0 afsocket_sd.(stream,AF_INET(127.0.0.1:{added})): added\n\
             destination d#0 affile_dd_writers({dirs}/B): replaced (was affile_dd_writers({dirs}/A))\n\
             destination d#1 affile_dd_writers({dirs}/E): kept\n\
             kept=1 handed-over=1 replaced=1 added=1 removed=0\n"
        )
    );
    // The daemon's own configuration, compared with itself: only the source restarts.
    let same = ctl_args(&d.control, &["reload", "--check"]);
    assert!(same.status.success(), "{}", text(&same));
    assert!(
        String::from_utf8_lossy(&same.stdout)
            .ends_with("\nkept=2 handed-over=1 replaced=0 added=0 removed=0\n"),
        "{}",
        text(&same)
    );
    // Nothing was applied: the added port is not listened on, the messages go to A (and E),
    // B is never created, and the generation is still the first.
    assert!(
        TcpStream::connect(("127.0.0.1", added)).is_err(),
        "--check bound the added source's port"
    );
    send(port, &batch(1, 2));
    assert!(
        wait_for(WAIT, || count_lines(&p("A")) == 1
            && count_lines(&p("E")) == 1),
        "{}",
        d.stderr()
    );
    assert_eq!(read(&p("A")), "m1\n");
    assert!(!p("B").exists(), "--check created B");
    let graph = ctl(&d.control, "graph");
    let graph = String::from_utf8_lossy(&graph.stdout).to_string();
    assert!(graph.starts_with("phase=Running generation=0\n"), "{graph}");
    assert!(
        graph.contains(&format!("affile_dd_writers({dirs}/A)")),
        "{graph}"
    );
    let stop = ctl(&d.control, "stop");
    assert!(stop.status.success(), "{}", text(&stop));
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
}

#[test]
fn a_moved_destination_keeps_its_queue_by_persist_name() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("sub/a.log"), dir.path().join("sub/b.log"));
    // The directory does not exist yet: neither file can be opened, so both keep their
    // messages queued (retrying every second) across the reloads.
    let fa = "file(\"DIR/sub/a.log\" template(\"$MSG\\n\") time-reopen(1))";
    let fb = "file(\"DIR/sub/b.log\" template(\"$MSG\\n\") time-reopen(1))";
    let with = |object: &str, files: &str| {
        config(
            port,
            dir.path(),
            &format!(
                "source s {{ network(ip(127.0.0.1) port(PORT)); }};\n\
                 destination {object} {{ {files} }};\n\
                 log {{ source(s); destination({object}); }};\n"
            ),
        )
    };
    let mut d = started(&with("d", &format!("{fa};")));
    let processed =
        |d: &Daemon, object: &str| stat(&d.control, &format!("destination;{object};processed"));
    // m1..m3 reach a only.
    send(port, &batch(1, 4));
    assert!(
        wait_for(WAIT, || processed(&d, "d") == Some(3)),
        "{:?}\n{}",
        processed(&d, "d"),
        d.stderr()
    );
    // b is added after a: m4..m6 reach both. Now a holds m1..m6 and b m4..m6.
    std::fs::write(&d.config, with("d", &format!("{fa}; {fb};"))).expect("config");
    let r = ctl_args(&d.control, &["reload"]);
    assert!(r.status.success(), "{}\n{}", text(&r), d.stderr());
    send(port, &batch(4, 7));
    assert!(
        wait_for(WAIT, || processed(&d, "d") == Some(9)),
        "{:?}\n{}",
        processed(&d, "d"),
        d.stderr()
    );
    // The same two files in the other order, in a renamed destination: d#0 is now b and
    // d#1 a. Matched by persist name each keeps its own queue; matched by position they
    // would swap.
    let swapped = with("e", &format!("{fb}; {fa};"));
    std::fs::write(&d.config, swapped).expect("config");
    let r = ctl_args(&d.control, &["reload"]);
    assert!(r.status.success(), "{}\n{}", text(&r), d.stderr());
    assert!(a.parent().is_some_and(|p| !p.exists()));
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    assert!(
        wait_for(WAIT, || count_lines(&a) == 6 && count_lines(&b) == 3),
        "a: {:?} b: {:?}\n{}",
        read(&a),
        read(&b),
        d.stderr()
    );
    assert_eq!(read(&a), expected(1, 7));
    assert_eq!(read(&b), expected(4, 7));
    // The counters moved with the queues, under the new object's name.
    assert_eq!(stat(&d.control, "destination;e;written"), Some(9));
    let stop = ctl(&d.control, "stop");
    assert!(stop.status.success(), "{}", text(&stop));
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    // Nothing was written twice by a drain at exit.
    assert_eq!(read(&a), expected(1, 7));
    assert_eq!(read(&b), expected(4, 7));
}

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
        String::from_utf8_lossy(&stats.stdout).contains("destination;p;queued;"),
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
    let (received, undelivered) = stop_with_a_backlog(&b);
    assert_eq!(
        received + undelivered,
        b.sent,
        "received by the program {received} + undelivered {undelivered} != sent {}",
        b.sent
    );
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
    let (received, undelivered) = stop_with_a_backlog(&b);
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
