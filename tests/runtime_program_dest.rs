//! The `program()` destination, end to end: the real daemon starts real programs (through
//! `/bin/sh -c`) and the tests look at what they wrote. Expected values were recorded with
//! syslog-ng 3.38 where it behaves the same (the default format, the empty environment);
//! where sluice deliberately differs (end-of-file on stop) the test says so.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Daemon, connect, count_lines, ctl, free_port, wait_for};

const WAIT: Duration = Duration::from_secs(15);

/// A config with a TCP source on `port` routed to destination `d` (defined in `dests`).
fn config(port: u16, dests: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ time-reopen(1); }};\n\
         source s {{ network(ip(127.0.0.1) port({port}) keep-hostname(yes)); }};\n\
         {dests}\nlog {{ source(s); destination(d); flags(flow-control); }};\n"
    )
}

fn line(i: usize) -> String {
    format!("<13>Jan  1 00:00:00 host prog: m{i}\n")
}

/// Sends message `i` on a connection of its own.
fn send_one(port: u16, i: usize) {
    let mut s = connect(port);
    s.write_all(line(i).as_bytes()).expect("send");
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn expected(range: std::ops::RangeInclusive<usize>) -> String {
    range.map(|i| format!("m{i}\n")).collect()
}

fn pids(p: &Path) -> Vec<i32> {
    read(p)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Whether process `pid` exists (a zombie counts).
fn exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn started(config: &str) -> Daemon {
    let mut d = Daemon::start(config, None);
    d.wait_ready();
    d
}

#[test]
fn the_program_gets_every_message_in_order_in_the_file_format() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, plain) = (dir.path().join("out"), dir.path().join("plain"));
    let mut d = started(&config(
        port,
        &format!(
            "destination d {{ program(\"cat >> {}\" template(\"$MSG\\n\")); \
             program(\"cat >> {}\"); }};",
            out.display(),
            plain.display()
        ),
    ));
    let mut s = connect(port);
    let all: String = (1..=500).map(line).collect();
    s.write_all(all.as_bytes()).expect("send");
    assert!(
        wait_for(WAIT, || count_lines(&out) == 500
            && count_lines(&plain) == 500),
        "{} / {} lines; stderr:\n{}",
        count_lines(&out),
        count_lines(&plain),
        d.stderr()
    );
    assert_eq!(read(&out), expected(1..=500));
    // The default format is the file format (syslog-ng 3.38 wrote this line).
    assert!(
        read(&plain).starts_with("Jan  1 00:00:00 host prog: m1\n"),
        "{}",
        read(&plain)
    );
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0));
}

#[test]
fn a_program_that_exits_is_restarted_and_no_message_is_lost() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, pid_file, exits) = (
        dir.path().join("out"),
        dir.path().join("pids"),
        dir.path().join("exits"),
    );
    // Reads two lines one byte at a time (so nothing more is taken from the pipe), closes its
    // stdin (a write now fails with EPIPE) and only then says it is leaving.
    let program = format!(
        "echo $$ >> {pids}; n=0; while [ $n -lt 2 ] && IFS= read -r l; do \
         echo \\\"$l\\\" >> {out}; n=$((n+1)); done; exec 0<&-; echo x >> {exits}",
        pids = pid_file.display(),
        out = out.display(),
        exits = exits.display()
    );
    let mut d = started(&config(
        port,
        &format!("destination d {{ program(\"{program}\" template(\"$MSG\\n\")); }};"),
    ));
    for i in 1..=5 {
        send_one(port, i);
        assert!(
            wait_for(WAIT, || count_lines(&out) == i),
            "message {i} not written: {:?}; stderr:\n{}",
            read(&out),
            d.stderr()
        );
        if i % 2 == 0 {
            // The instance is gone (or going) before the next message is sent.
            assert!(wait_for(WAIT, || count_lines(&exits) == i / 2));
        }
    }
    assert_eq!(read(&out), expected(1..=5));
    let seen = pids(&pid_file);
    assert_eq!(seen.len(), 3, "{seen:?}");
    for old in &seen[..2] {
        assert!(wait_for(WAIT, || !exists(*old)), "{old} left as a zombie");
    }
    assert!(
        d.stderr().contains("Child program exited, restarting"),
        "{}",
        d.stderr()
    );
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0));
}

#[test]
fn on_stop_the_program_sees_end_of_file_and_one_that_ignores_it_is_terminated() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, stubborn) = (dir.path().join("out"), dir.path().join("stubborn"));
    // syslog-ng 3.38 sends SIGTERM to the process group at once, so its program never writes
    // the marker; sluice closes stdin first.
    let mut d = started(&config(
        port,
        &format!(
            "destination d {{ program(\"cat >> {out}; echo EOF >> {out}\" template(\"$MSG\\n\")); \
             program(\"echo $$ > {stubborn}; exec 0<&-; exec sleep 60\"); }};",
            out = out.display(),
            stubborn = stubborn.display()
        ),
    ));
    let mut s = connect(port);
    let all: String = (1..=3).map(line).collect();
    s.write_all(all.as_bytes()).expect("send");
    assert!(wait_for(WAIT, || count_lines(&out) == 3));
    assert!(wait_for(WAIT, || pids(&stubborn).len() == 1));
    let sleeper = pids(&stubborn)[0];
    drop(s);
    let t = Instant::now();
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(read(&out), format!("{}EOF\n", expected(1..=3)));
    assert!(wait_for(WAIT, || !exists(sleeper)), "{sleeper} still runs");
}

#[test]
fn inherit_environment_no_starts_the_program_with_an_empty_environment() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (yes, no) = (dir.path().join("env-yes"), dir.path().join("env-no"));
    let cfg = config(
        port,
        &format!(
            "destination d {{ program(\"env > {yes}.tmp; mv {yes}.tmp {yes}; exec cat >/dev/null\"); \
             program(\"env > {no}.tmp; /bin/mv {no}.tmp {no}; exec cat >/dev/null\" \
             inherit-environment(no)); }};",
            yes = yes.display(),
            no = no.display()
        ),
    );
    let mut d = Daemon::start(
        &cfg,
        Some(&[("PATH", "/usr/bin:/bin"), ("SLUICE_PROBE", "42")]),
    );
    d.wait_ready();
    assert!(
        wait_for(WAIT, || yes.exists() && no.exists()),
        "{}",
        d.stderr()
    );
    assert!(
        read(&yes).lines().any(|l| l == "SLUICE_PROBE=42"),
        "{}",
        read(&yes)
    );
    // syslog-ng 3.38 gives the same: only what the shell sets itself.
    let env = read(&no);
    let lines: Vec<&str> = env.lines().collect();
    assert_eq!(lines.len(), 1, "{env}");
    assert!(lines[0].starts_with("PWD="), "{env}");
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0));
}

#[test]
fn keep_alive_yes_survives_a_reload_and_keep_alive_no_restarts() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| dir.path().join(n);
    let program = |name: &str, keep: &str| {
        format!(
            "program(\"echo $$ >> {pids}; cat >> {out}; echo EOF >> {out}\" template(\"$MSG\\n\") \
             keep-alive({keep}))",
            pids = p(&format!("{name}.pids")).display(),
            out = p(&format!("{name}.out")).display()
        )
    };
    let both = config(
        port,
        &format!(
            "destination d {{ {}; {}; }};",
            program("kept", "yes"),
            program("restarted", "no")
        ),
    );
    let mut d = started(&both);
    send_one(port, 1);
    assert!(wait_for(WAIT, || {
        count_lines(&p("kept.out")) == 1 && count_lines(&p("restarted.out")) == 1
    }));
    let reload = ctl(&d.control, "reload");
    assert!(reload.status.success(), "{}", d.stderr());
    send_one(port, 2);
    assert!(
        wait_for(WAIT, || {
            count_lines(&p("kept.out")) == 2 && count_lines(&p("restarted.out")) == 3
        }),
        "{:?} {:?}\n{}",
        read(&p("kept.out")),
        read(&p("restarted.out")),
        d.stderr()
    );
    assert_eq!(pids(&p("kept.pids")).len(), 1, "the same program runs on");
    assert_eq!(read(&p("kept.out")), "m1\nm2\n");
    assert_eq!(pids(&p("restarted.pids")).len(), 2);
    assert_eq!(read(&p("restarted.out")), "m1\nEOF\nm2\n");

    // A kept program the new configuration does not have is stopped (end-of-file first).
    let only = config(
        port,
        &format!("destination d {{ {}; }};", program("restarted", "no")),
    );
    std::fs::write(&d.config, only).expect("config");
    assert!(ctl(&d.control, "reload").status.success());
    assert!(
        wait_for(WAIT, || read(&p("kept.out")) == "m1\nm2\nEOF\n"),
        "{:?}",
        read(&p("kept.out"))
    );
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(WAIT), Some(0));
}
