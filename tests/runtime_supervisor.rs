//! The ConfigSupervisor end to end, with the real daemon: a reload that removes a backlogged
//! destination does not hold input back (the removed destination drains in the background);
//! a reload that cannot bind leaves the old graph running; `reload --check` prints the plan
//! and applies nothing; destinations are matched by persist name, not by position. Stops are
//! in tests/runtime_stop.rs.

mod common;
mod supervise_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Daemon, count_lines, ctl, free_port, stat, wait_for};
use supervise_support::*;

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
    // The backlog came on one connection, in order; each probe on a connection of its own,
    // so only their set is defined.
    let got = read(&out);
    let (backlog, rest) = got.split_at(expected(0, total).len().min(got.len()));
    assert!(
        backlog == expected(0, total),
        "out.log lost or reordered lines"
    );
    let mut probes_got: Vec<&str> = rest.lines().collect();
    probes_got.sort_unstable();
    let mut probes_want: Vec<String> = (0..24).map(|i| format!("probe{i}")).collect();
    probes_want.sort_unstable();
    assert_eq!(probes_got, probes_want, "probes lost");
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
        String::from_utf8_lossy(&graph.stdout).starts_with("phase=running generation=0\n"),
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
            "source s#0 afsocket_sd.(stream,AF_INET(127.0.0.1:{port})): kept\n\
             source t#0 afsocket_sd.(stream,AF_INET(127.0.0.1:{added})): added\n\
             destination d#0 affile_dd_writers({dirs}/B): replaced (was affile_dd_writers({dirs}/A))\n\
             destination d#1 affile_dd_writers({dirs}/E): kept\n\
             kept=2 handed-over=0 replaced=1 added=1 removed=0\n"
        )
    );
    // The daemon's own configuration, compared with itself: everything goes on running.
    let same = ctl_args(&d.control, &["reload", "--check"]);
    assert!(same.status.success(), "{}", text(&same));
    assert!(
        String::from_utf8_lossy(&same.stdout)
            .ends_with("\nkept=3 handed-over=0 replaced=0 added=0 removed=0\n"),
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
    assert!(graph.starts_with("phase=running generation=0\n"), "{graph}");
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
