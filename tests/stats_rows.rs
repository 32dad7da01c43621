//! The stats rows of syslog-ng 3.38 (tests/golden/ctl, recorded by record.sh) for the same
//! configurations and traffic, at each `stats-level()`, compared with sluice's.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{Daemon, ctl, free_port, send, wait_for};

fn golden(name: &str) -> String {
    std::fs::read_to_string(common::repo().join("tests/golden/ctl").join(name))
        .expect("golden file")
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Where a recording ran (its directory and ports) and this run's equivalents: each
/// recorded port gets a free one, all different (held together while picked: a destination
/// port that equals a source port would loop messages back into the daemon).
struct Recorded {
    dir: &'static str,
    ports: Vec<(String, u16)>,
}

impl Recorded {
    fn new(dir: &'static str, recorded: &[&str]) -> Recorded {
        let held: Vec<_> = recorded
            .iter()
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let ports = recorded
            .iter()
            .zip(&held)
            .map(|(p, l)| (p.to_string(), l.local_addr().expect("addr").port()))
            .collect();
        Recorded { dir, ports }
    }

    /// `text` (a recorded config or CSV) with this run's directory and ports.
    fn map(&self, text: &str, dir: &Path) -> String {
        let mut t = text.replace(self.dir, &dir.display().to_string());
        for (from, to) in &self.ports {
            t = t.replace(from, &to.to_string());
        }
        t
    }
}

/// `ours` (sluice's CSV) has the rows (`component;id;instance;state;type`) of `theirs`
/// (syslog-ng's), but the kinds sluice does not fill yet (listed in the README), and adds
/// only its documented extras.
fn same_rows(ours: &str, theirs: &str, not_yet_here: impl Fn(&str) -> bool) {
    assert!(
        ours.starts_with("SourceName;SourceId;SourceInstance;State;Type;Number\n"),
        "{ours}"
    );
    let key = |l: &str| l.rsplit_once(';').map(|(k, _)| k.to_string());
    let rows = |t: &str| -> BTreeSet<String> {
        t.lines()
            .filter(|l| !l.starts_with("SourceName;") && !l.is_empty())
            .filter_map(key)
            .collect()
    };
    let ours = rows(ours);
    let theirs: BTreeSet<String> = rows(theirs)
        .into_iter()
        .filter(|l| !l.starts_with("global;") || l.starts_with("global;internal_"))
        .collect();
    let missing: Vec<_> = theirs
        .difference(&ours)
        .filter(|k| !not_yet_here(k))
        .collect();
    assert!(missing.is_empty(), "rows syslog-ng has: {missing:#?}");
    let extras = [";rejected_connections", ";framing_errors"];
    let added: Vec<_> = ours
        .difference(&theirs)
        .filter(|k| !extras.iter().any(|e| k.ends_with(e)) && !not_yet_here(k))
        .collect();
    assert!(added.is_empty(), "rows syslog-ng does not have: {added:#?}");
}

/// The same for Python drivers, a pipe, `tcp6()` and a UDP `network()` (python.conf).
#[test]
fn python_and_other_driver_rows_match_syslog_ng() {
    let rec = Recorded::new("/tmp/sng/c", &["15601", "15609", "15611"]);
    let map = |text: &str, dir: &Path| rec.map(text, dir);
    let config = golden("python.conf");
    let mut d = Daemon::start_in(|dir| map(&config, dir), &[], None);
    d.wait_ready();
    let stats = out(&ctl(&d.control, "stats"));
    same_rows(
        &stats,
        &map(&golden("python-level0.csv"), d.dir.path()),
        |_| false,
    );
}

/// Runs drivers.conf at `level` with the traffic record.sh sent to syslog-ng (its ports and
/// directory mapped to this run's) and returns the daemon, sluice's stats and syslog-ng's.
fn drivers_at(level: u32) -> (Daemon, String, String) {
    let recorded: Vec<String> = (1..=12).map(|i| format!("156{i:02}")).collect();
    let recorded: Vec<&str> = recorded.iter().map(String::as_str).collect();
    let rec = Recorded::new("/tmp/sng/b", &recorded);
    let map = |text: &str, dir: &Path| rec.map(text, dir);
    let config = golden("drivers.conf").replace("LEVEL", &level.to_string());
    let mut d = Daemon::start_in(
        |dir| {
            std::fs::write(dir.join("in.log"), "hello\n").expect("in.log");
            std::fs::write(dir.join("pseudo"), "").expect("pseudo");
            map(&config, dir)
        },
        &[],
        None,
    );
    d.wait_ready();
    let port = |i: usize| rec.ports[i - 1].1;
    send(port(1), &b"<13>Dec  4 01:00:00 h p: tcp\n".repeat(10));
    send(port(3), &b"<13>Dec  4 01:00:00 h p: net\n".repeat(7));
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    udp.send_to(b"<13>Dec  4 01:00:00 h p: udp", ("127.0.0.1", port(2)))
        .expect("udp send");
    let processed = |name: &str| {
        let o = ctl(&d.control, &format!("query get source.{name}.processed"));
        out(&o)
            .trim()
            .rsplit('=')
            .next()
            .and_then(|v| v.parse::<u64>().ok())
    };
    assert!(
        wait_for(Duration::from_secs(20), || processed("s_tcp") == Some(10)
            && processed("s_net") == Some(7)
            && processed("s_udp") == Some(1)
            && processed("s_file") == Some(1)),
        "{}",
        out(&ctl(&d.control, "stats"))
    );
    let stats = out(&ctl(&d.control, "stats"));
    let theirs = map(&golden(&format!("drivers-level{level}.csv")), d.dir.path());
    (d, stats, theirs)
}

/// The rows syslog-ng 3.38 gives for drivers.conf at stats-level(0): sluice has every one
/// of them, except the kinds it does not fill yet (listed in the README), and adds only its
/// documented extras.
#[test]
fn stats_rows_match_syslog_ng_for_the_same_config() {
    let (_d, stats, theirs) = drivers_at(0);
    same_rows(&stats, &theirs, |_| false);
    // Values syslog-ng recorded for the same traffic (the internal() counts differ).
    for row in theirs.lines().filter(|l| {
        (l.starts_with("source;s_t")
            || l.starts_with("source;s_n")
            || l.starts_with("destination;d_t")
            || l.starts_with("destination;d_u"))
            && !l.contains("s_int")
    }) {
        assert!(stats.lines().any(|l| l == row), "{row} not in\n{stats}");
    }
}

/// The same at stats-level(1), with the clusters of each TCP peer
/// (`src.tcp;s_tcp#0;tcp,127.0.0.1`), of the named filters and of each file of a templated
/// file name (the names differ with the traffic: this test's program is `p`).
#[test]
fn level_one_rows_match_syslog_ng() {
    let (d, _, theirs) = drivers_at(1);
    // The peers' connections are closed: their size rows turn orphaned, as in syslog-ng.
    let closed = |s: &str| {
        s.lines()
            .filter(|l| l.contains(";tcp,127.0.0.1;") && l.contains(";msg_size_"))
            .all(|l| l.contains(";o;"))
    };
    assert!(wait_for(Duration::from_secs(20), || closed(&out(&ctl(
        &d.control, "stats"
    )))));
    let stats = out(&ctl(&d.control, "stats"));
    // syslog-ng had loggen's program prg00000 too; here tcp, network and udp all send `p`.
    let tfile = |k: &str| k.contains(";d_tfile#0;");
    same_rows(&stats, &theirs, tfile);
    let dir = d.dir.path().display();
    for kind in [
        "processed;18",
        "written;18",
        "msg_size_avg;33",
        "memory_usage;0",
    ] {
        let row = format!("dst.file;d_tfile#0;{dir}/out-p.log;a;{kind}\n");
        assert!(stats.contains(&row), "{row} missing in\n{stats}");
    }
    let kinds = |s: &str, file: &str| -> BTreeSet<String> {
        s.lines()
            .filter(|l| l.contains(&format!(";d_tfile#0;{dir}/{file};")))
            .filter_map(|l| l.split(';').nth(4).map(str::to_string))
            .collect()
    };
    assert_eq!(kinds(&stats, "out-p.log"), kinds(&theirs, "out-p.log"));
    assert!(
        stats.contains("filter;f_none;;a;not_matched;10\n"),
        "{stats}"
    );
    assert!(stats.contains("filter;f_none;;a;matched;0\n"), "{stats}");
}

/// stats-level(2) and (3): the dynamic rows by host, sender and program, and the facility,
/// severity and tag rows, keyed as syslog-ng 3.38 keys them (the names differ with the
/// traffic: this test's messages come from program `p` over loopback).
#[test]
fn levels_two_and_three_add_syslog_ngs_dynamic_rows() {
    for level in [2, 3] {
        let (d, _, theirs) = drivers_at(level);
        let stats = out(&ctl(&d.control, "stats"));
        let fixed = |t: &str| {
            t.lines()
                .filter(|l| !l.contains(";d;"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        same_rows(&fixed(&stats), &fixed(&theirs), |k| {
            k.contains(";d_tfile#0;") || k.contains(";tcp,127.0.0.1;")
        });
        assert!(
            stats.contains("src.host;;localhost;d;processed;"),
            "{stats}"
        );
        if level == 3 {
            for row in [
                "src.host;s_tcp#0;localhost;d;processed;10\n",
                "src.sender;s_net#0;localhost;d;processed;7\n",
                "src.program;;p;d;processed;",
                "src.severity;;5;a;processed;",
                "src.facility;;other;a;processed;",
                "tag;.source.s_tcp;;a;processed;10\n",
            ] {
                assert!(stats.contains(row), "{row} missing in\n{stats}");
            }
        } else {
            assert!(!stats.contains("src.sender"), "{stats}");
        }
    }
}

/// A templated file's cluster is orphaned once the file is reaped for being idle, and
/// `stats --remove-orphans` forgets it.
#[test]
fn reaped_files_leave_orphaned_rows_until_removed() {
    let port = free_port();
    let config = format!(
        "@version: 3.38\noptions {{ stats-level(1); }};\n\
         source s_tcp {{ tcp(ip(127.0.0.1) port({port})); }};\n\
         destination d {{ file(\"out-${{PROGRAM}}.log\" time-reap(1)); }};\n\
         log {{ source(s_tcp); destination(d); }};\n"
    );
    let mut d = Daemon::start(&config, None);
    d.wait_ready();
    send(port, b"<13>Dec  4 01:00:00 h p: m\n");
    let row = "dst.file;d#0;out-p.log;o;written;1\n";
    assert!(
        wait_for(Duration::from_secs(20), || out(&ctl(&d.control, "stats"))
            .contains(row)),
        "{}",
        out(&ctl(&d.control, "stats"))
    );
    assert!(ctl(&d.control, "stats --remove-orphans").status.success());
    assert!(!out(&ctl(&d.control, "stats")).contains("out-p.log"));
}

/// A named filter's counters go on across a reload, as syslog-ng keeps them by name.
#[test]
fn filter_counts_survive_a_reload() {
    let port = free_port();
    let config = format!(
        "@version: 3.38\noptions {{ stats-level(1); }};\n\
         source s_tcp {{ tcp(ip(127.0.0.1) port({port})); }};\n\
         filter f_x {{ program(\"x\"); }};\n\
         destination d {{ file(\"out.log\"); }};\n\
         log {{ source(s_tcp); filter(f_x); destination(d); }};\n"
    );
    let mut d = Daemon::start(&config, None);
    d.wait_ready();
    send(
        port,
        b"<13>Dec  4 01:00:00 h p: m\n<13>Dec  4 01:00:00 h x: m\n",
    );
    let stats = || out(&ctl(&d.control, "stats"));
    let counted = |s: &str| {
        s.contains("filter;f_x;;a;matched;1\n") && s.contains("filter;f_x;;a;not_matched;1\n")
    };
    assert!(
        wait_for(Duration::from_secs(20), || counted(&stats())),
        "{}",
        stats()
    );
    std::fs::write(&d.config, config.replace("out.log", "other.log")).expect("config");
    assert!(ctl(&d.control, "reload").status.success(), "{}", d.stderr());
    assert!(counted(&stats()), "{}", stats());
}

/// A unix-stream connection's cluster is `unix-stream,anonymous` (unix-stream.conf, at
/// stats-level(1)), its size rows orphaned once it closed.
#[test]
fn unix_stream_rows_match_syslog_ng() {
    let config = golden("unix-stream.conf");
    let mut d = Daemon::start_in(
        |dir| config.replace("/tmp/sng", &dir.display().to_string()),
        &[],
        None,
    );
    d.wait_ready();
    let sock = d.dir.path().join("us1.sock");
    {
        use std::io::Write;
        let mut s = std::os::unix::net::UnixStream::connect(&sock).expect("connect");
        s.write_all(b"<13>Dec  4 01:00:00 h p: m\n").expect("send");
    }
    let closed =
        |s: &str| s.contains("src.unix-stream;s_us#0;unix-stream,anonymous;o;msg_size_max;26\n");
    assert!(
        wait_for(Duration::from_secs(20), || closed(&out(&ctl(
            &d.control, "stats"
        )))),
        "{}",
        out(&ctl(&d.control, "stats"))
    );
    let theirs =
        golden("unix-stream-level1.csv").replace("/tmp/sng", &d.dir.path().display().to_string());
    same_rows(&out(&ctl(&d.control, "stats")), &theirs, |_| false);
}
