//! syslog-ng-ctl compatibility: the control exchanges recorded against syslog-ng 3.38
//! (tests/golden/ctl) replayed against the real daemon, query and the Prometheus text over
//! the socket and over `--metrics-listen`, counters across a reload, `reopen` after a
//! rotation, the live graph and the config graph, and clients that misbehave. The stats
//! rows themselves are compared with syslog-ng's in stats_rows.rs.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use common::{Daemon, ctl, free_port, send, wait_for};

fn golden(name: &str) -> String {
    std::fs::read_to_string(common::repo().join("tests/golden/ctl").join(name))
        .expect("golden file")
}

/// Sends one raw line on a connection and reads one reply, up to its `.` line.
fn exchange(s: &mut UnixStream, line: &str) -> String {
    s.write_all(format!("{line}\n").as_bytes()).expect("send");
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    let mut reply = String::new();
    loop {
        let mut l = String::new();
        if reader.read_line(&mut l).expect("read") == 0 || l == ".\n" {
            break;
        }
        reply.push_str(&l);
    }
    reply.trim_end_matches('\n').to_string()
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

const SIMPLE: &str = "@version: 3.38\n\
    source s_tcp { tcp(ip(127.0.0.1) port(PORT)); };\n\
    destination d_file { file(\"out.log\"); };\n\
    log { source(s_tcp); destination(d_file); };\n";

fn simple(port: u16, args: &[String]) -> Daemon {
    let mut d = Daemon::start_in(|_| SIMPLE.replace("PORT", &port.to_string()), args, None);
    d.wait_ready();
    d
}

/// Every exchange of exchanges.txt, on one connection, as syslog-ng answered it.
#[test]
fn recorded_exchanges_replay_against_sluice() {
    let d = simple(free_port(), &[]);
    let mut s = UnixStream::connect(&d.control).expect("connect");
    let text = golden("exchanges.txt");
    let mut lines = text.lines().filter(|l| !l.starts_with('#')).peekable();
    while let Some(request) = lines.next() {
        let request = request.strip_prefix("> ").expect("a request line");
        let mut expected = Vec::new();
        while let Some(reply) = lines.peek().and_then(|l| l.strip_prefix("< ")) {
            expected.push(reply.to_string());
            lines.next();
        }
        assert_eq!(exchange(&mut s, request), expected.join("\n"), "{request}");
    }
}

#[test]
fn query_reset_and_prometheus_over_the_socket_and_http() {
    let (port, http) = (free_port(), free_port());
    let d = simple(
        port,
        &["--metrics-listen".into(), format!("127.0.0.1:{http}")],
    );
    send(port, &b"<13>Dec  4 01:00:00 h p: m\n".repeat(5));
    let sum = || out(&ctl(&d.control, "query get --sum source.*"));
    assert!(
        wait_for(Duration::from_secs(20), || sum().trim() == "5"),
        "{}",
        sum()
    );
    let list = out(&ctl(&d.control, "query list src*"));
    assert_eq!(
        list.trim(),
        format!(
            "src.tcp.s_tcp.afsocket_sd.(stream,AF_INET(127.0.0.1:{port})).connections\n\
             src.tcp.s_tcp.afsocket_sd.(stream,AF_INET(127.0.0.1:{port})).framing_errors\n\
             src.tcp.s_tcp.afsocket_sd.(stream,AF_INET(127.0.0.1:{port})).rejected_connections"
        )
    );
    let reset = ctl(&d.control, "query get --reset source.s_tcp.processed");
    assert_eq!(
        out(&reset),
        "source.s_tcp.processed=5\n\nThe selected counters of syslog-ng have been reset to 0.\n"
    );
    assert_eq!(
        out(&ctl(&d.control, "query get source.*")).trim(),
        "source.s_tcp.processed=0"
    );

    let kv = out(&ctl(&d.control, "stats --format kv"));
    assert!(kv.contains("source.s_tcp.processed=0\n"), "{kv}");
    let prom = out(&ctl(&d.control, "stats prometheus"));
    assert!(
        prom.contains("syslogng_source_processed{id=\"s_tcp\"} 0\n"),
        "{prom}"
    );
    assert!(prom.contains("sluice_config_generation 0\n"), "{prom}");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", http)).expect("metrics");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("get");
    let mut page = String::new();
    s.read_to_string(&mut page).expect("page");
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("\r\n\r\nsyslogng_"), "{page}");
    assert!(
        page.contains("syslogng_dst_file_written") || page.contains("syslogng_center_processed")
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", http)).expect("metrics");
    s.write_all(b"POST /metrics HTTP/1.1\r\n\r\n")
        .expect("post");
    let mut page = String::new();
    s.read_to_string(&mut page).expect("page");
    assert!(page.starts_with("HTTP/1.1 405"), "{page}");
}

/// Counters go on across a reload; a source the reload removed stays as an orphan (`o`)
/// until `stats --remove-orphans`; `reopen` makes the file destination reopen its file
/// after a rotation.
#[test]
fn counters_survive_reloads_and_reopen_follows_a_rotation() {
    let (p1, p2) = (free_port(), free_port());
    let two = format!(
        "@version: 3.38\n\
         source s_a {{ tcp(ip(127.0.0.1) port({p1})); }};\n\
         source s_b {{ tcp(ip(127.0.0.1) port({p2})); }};\n\
         destination d_file {{ file(\"out.log\"); }};\n\
         log {{ source(s_a); source(s_b); destination(d_file); }};\n"
    );
    let mut d = Daemon::start(&two, None);
    d.wait_ready();
    send(p1, b"<13>Dec  4 01:00:00 h p: one\n");
    send(p2, b"<13>Dec  4 01:00:00 h p: two\n");
    let log = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || common::count_lines(
        &log
    ) == 2));
    let one = two
        .replace(
            &format!("source s_b {{ tcp(ip(127.0.0.1) port({p2})); }};\n"),
            "",
        )
        .replace("source(s_b); ", "");
    std::fs::write(&d.config, one).expect("config");
    assert!(ctl(&d.control, "reload").status.success(), "{}", d.stderr());
    let stats = out(&ctl(&d.control, "stats"));
    assert!(stats.contains("source;s_a;;a;processed;1\n"), "{stats}");
    assert!(stats.contains("source;s_b;;o;processed;1\n"), "{stats}");
    assert!(
        stats.contains("destination;d_file;;a;processed;2\n"),
        "{stats}"
    );
    // The reload's record, in the Prometheus text.
    let prom = out(&ctl(&d.control, "stats --format prometheus"));
    for line in [
        "sluice_config_generation 1\n",
        "sluice_reloads_total 1\n",
        "sluice_last_reload_components{fate=\"removed\"} 1\n",
        "sluice_last_reload_delivery_pause_seconds ",
    ] {
        assert!(prom.contains(line), "{line} missing in\n{prom}");
    }
    let without = out(&ctl(&d.control, "stats --without-orphaned-metrics"));
    assert!(!without.contains(";o;"), "{without}");
    assert!(ctl(&d.control, "stats --remove-orphans").status.success());
    assert!(!out(&ctl(&d.control, "stats")).contains("s_b"));

    std::fs::rename(&log, d.dir.path().join("out.log.1")).expect("rotate");
    let reopen = ctl(&d.control, "reopen");
    assert_eq!(
        out(&reopen).trim(),
        "Re-open of log destination files initiated"
    );
    send(p1, b"<13>Dec  4 01:00:00 h p: three\n");
    assert!(
        wait_for(Duration::from_secs(20), || common::count_lines(&log) == 1),
        "{}",
        d.stderr()
    );
}

#[test]
fn the_graph_shows_components_and_paths_in_three_forms() {
    let port = free_port();
    let d = simple(port, &[]);
    send(port, b"<13>Dec  4 01:00:00 h p: m\n");
    assert!(wait_for(Duration::from_secs(20), || common::stat(
        &d.control,
        "destination;d_file;written"
    ) == Some(1)));
    let text = out(&ctl(&d.control, "graph"));
    assert!(
        text.starts_with("phase=running generation=0\nsource s_tcp\n"),
        "{text}"
    );
    assert!(text.contains("  -> destination d_file\n"), "{text}");
    assert!(text.contains("d_file#0 file affile_dd_writers("), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&out(&ctl(&d.control, "graph --json"))).expect("json");
    assert_eq!(json["log_paths"][0]["source"], "s_tcp");
    assert_eq!(json["log_paths"][0]["destinations"][0], "d_file");
    assert_eq!(json["destinations"][0]["counters"]["written"], 1);
    assert_eq!(json["sources"][0]["driver"], "tcp");
    let dot = out(&ctl(&d.control, "graph --dot"));
    assert!(dot.starts_with("digraph sluice {"), "{dot}");
    assert!(
        dot.contains("\"source:s_tcp#0\" -> \"destination:d_file#0\";"),
        "{dot}"
    );
}

/// A failed reload's reply names syslog-ng's reason and carries the diagnostic; the
/// configuration commands answer with the running configuration.
#[test]
fn reload_failures_and_config_reach_the_client() {
    let port = free_port();
    let d = simple(port, &[]);
    let original = std::fs::read_to_string(&d.config).expect("config");
    assert_eq!(out(&ctl(&d.control, "config")), original);
    let pre = out(&ctl(&d.control, "config --preprocessed"));
    assert!(pre.contains("destination d_file"), "{pre}");
    std::fs::write(
        &d.config,
        format!("{original}source s_bad {{ tcp(port(1) }}; }};\n"),
    )
    .expect("config");
    let r = ctl(&d.control, "reload");
    assert_eq!(r.status.code(), Some(1));
    let reply = out(&r);
    assert!(
        reply.starts_with(
            "Syntax error parsing configuration file, previous config remained intact\n"
        ),
        "{reply}"
    );
    assert!(reply.contains("sluice.conf:5:"), "{reply}");
    assert_eq!(
        out(&ctl(&d.control, "config")),
        original,
        "still the old one"
    );
}

/// Clients that misbehave harm nothing: 200 at once, one that disconnects mid-command,
/// one that never sends anything.
#[test]
fn misbehaving_clients_hold_nothing_up() {
    let d = simple(free_port(), &[]);
    let _silent = UnixStream::connect(&d.control).expect("silent");
    {
        let mut half = UnixStream::connect(&d.control).expect("half");
        half.write_all(b"STA").expect("half a command");
    }
    let many: Vec<_> = (0..200)
        .map(|_| UnixStream::connect(&d.control).expect("connect"))
        .collect();
    let mut answered = 0;
    for mut s in many {
        if exchange(&mut s, "LOG TRACE").starts_with("OK TRACE=") {
            answered += 1;
        }
    }
    assert_eq!(answered, 200);
    assert!(ctl(&d.control, "healthcheck").status.success());
    let health = out(&ctl(&d.control, "healthcheck"));
    assert!(
        health.starts_with("syslogng_io_worker_latency_seconds "),
        "{health}"
    );
}

/// The real syslog-ng-ctl against sluice, when it is installed.
#[test]
fn syslog_ng_ctl_drives_sluice() {
    let Ok(which) = std::process::Command::new("syslog-ng-ctl")
        .arg("--version")
        .output()
    else {
        eprintln!("skipped: syslog-ng-ctl is not installed");
        return;
    };
    let _ = which;
    let port = free_port();
    let d = simple(port, &[]);
    send(port, &b"<13>Dec  4 01:00:00 h p: m\n".repeat(3));
    let run = |args: &[&str]| {
        let o = std::process::Command::new("syslog-ng-ctl")
            .args(args)
            .arg("-c")
            .arg(&d.control)
            .output()
            .expect("syslog-ng-ctl runs");
        (o.status.code(), out(&o))
    };
    assert!(wait_for(Duration::from_secs(20), || run(&[
        "query", "get", "--sum", "source.*"
    ])
    .1
    .trim()
        == "3"));
    let (rc, stats) = run(&["stats"]);
    assert_eq!(rc, Some(0));
    assert!(
        stats.starts_with("SourceName;SourceId;SourceInstance;State;Type;Number\n"),
        "{stats}"
    );
    assert!(stats.contains("source;s_tcp;;a;processed;3\n"), "{stats}");
    assert_eq!(
        run(&["verbose", "--set=on"]),
        (Some(0), "VERBOSE=1\n".into())
    );
    assert_eq!(
        run(&["stats", "--reset"]),
        (
            Some(0),
            "The statistics of syslog-ng have been reset to 0.\n".into()
        )
    );
    assert_eq!(
        run(&["reload"]),
        (Some(0), "Config reload successful\n".into())
    );
    assert_eq!(run(&["stop"]), (Some(0), "Shutdown initiated\n".into()));
}

/// sluice-ctl against a real syslog-ng 3.38, when it is installed: the same commands work.
#[test]
fn sluice_ctl_drives_syslog_ng() {
    if std::process::Command::new("syslog-ng")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: syslog-ng is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let conf = dir.path().join("syslog-ng.conf");
    std::fs::write(&conf, SIMPLE.replace("PORT", &port.to_string())).expect("config");
    let control = dir.path().join("ctl");
    let mut child = std::process::Command::new("syslog-ng")
        .arg("-F")
        .arg("-f")
        .arg(&conf)
        .arg("-R")
        .arg(dir.path().join("persist"))
        .arg("-c")
        .arg(&control)
        .arg("-p")
        .arg(dir.path().join("pid"))
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("syslog-ng starts");
    assert!(wait_for(Duration::from_secs(20), || ctl(&control, "stats")
        .status
        .success()));
    send(port, &b"<13>Dec  4 01:00:00 h p: m\n".repeat(4));
    assert!(wait_for(Duration::from_secs(20), || out(&ctl(
        &control,
        "query get --sum source.*"
    ))
    .trim()
        == "4"));
    let stats = out(&ctl(&control, "stats"));
    assert!(stats.contains("source;s_tcp;;a;processed;4\n"), "{stats}");
    assert_eq!(out(&ctl(&control, "debug --set=on")), "DEBUG=1\n");
    let stop = ctl(&control, "stop");
    assert_eq!(out(&stop), "Shutdown initiated\n");
    let _ = child.wait();
}

/// `stats-freq()`: the stats go to `internal()` as syslog-ng's "Log statistics" message.
#[test]
fn stats_freq_logs_the_counters_into_internal() {
    let port = free_port();
    let config = format!(
        "@version: 3.38\noptions {{ stats-freq(1); }};\n\
         source s_tcp {{ tcp(ip(127.0.0.1) port({port})); }};\n\
         source s_int {{ internal(); }};\n\
         destination d_file {{ file(\"out.log\"); }};\n\
         destination d_int {{ file(\"int.log\"); }};\n\
         log {{ source(s_tcp); destination(d_file); }};\n\
         log {{ source(s_int); destination(d_int); }};\n"
    );
    let mut d = Daemon::start(&config, None);
    d.wait_ready();
    send(port, &b"<13>Dec  4 01:00:00 h p: m\n".repeat(5));
    let int = d.dir.path().join("int.log");
    let logged = |want: &str| {
        std::fs::read_to_string(&int)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("syslog-ng[") && l.contains("Log statistics; ") && l.contains(want))
    };
    assert!(
        wait_for(Duration::from_secs(20), || logged(
            "processed='source(s_tcp)=5'"
        )),
        "{}",
        std::fs::read_to_string(&int).unwrap_or_default()
    );
    assert!(logged(&format!(
        "connections='src.tcp(s_tcp,afsocket_sd.(stream,AF_INET(127.0.0.1:{port})))=0'"
    )));
}

/// A destination that is down shows as reconnecting with its last error, and what its
/// full queue drops is counted by reason.
#[test]
fn the_graph_says_why_messages_were_dropped_and_what_failed() {
    let (port, down) = (free_port(), free_port());
    let config = format!(
        "@version: 3.38\n\
         source s_tcp {{ tcp(ip(127.0.0.1) port({port})); }};\n\
         destination d_down {{ tcp(\"127.0.0.1\" port({down}) log-fifo-size(5) time-reopen(60)); }};\n\
         log {{ source(s_tcp); destination(d_down); }};\n"
    );
    let mut d = Daemon::start(&config, None);
    d.wait_ready();
    send(port, &b"<13>Dec  4 01:00:00 h p: m\n".repeat(20));
    let graph = || -> serde_json::Value {
        serde_json::from_str(&out(&ctl(&d.control, "graph --json"))).unwrap_or_default()
    };
    assert!(
        wait_for(
            Duration::from_secs(20),
            || graph()["destinations"][0]["counters"]["processed"] == 20
        ),
        "{}",
        graph()
    );
    let g = graph();
    let dest = &g["destinations"][0];
    let dropped = dest["counters"]["dropped"].as_u64().unwrap_or(0);
    assert!(dropped >= 15, "{dest}");
    assert_eq!(dest["counters"]["dropped_queue_full"], dropped, "{dest}");
    // Its queue holds the 5 messages log-fifo-size() keeps: their bytes are its memory.
    let memory = dest["counters"]["memory_usage"].as_u64().unwrap_or(0);
    assert!(memory >= 5 * 200, "{dest}");
    assert!(
        wait_for(
            Duration::from_secs(20),
            || graph()["destinations"][0]["state"] == "reconnecting"
        ),
        "{}",
        graph()
    );
    let g = graph();
    let error = g["destinations"][0]["last_error"]["error"]
        .as_str()
        .unwrap_or("");
    assert!(!error.is_empty(), "{g}");
}

/// A source or destination no log path uses is not started, as in syslog-ng 3.38: its port
/// is not bound, its file not created, and it has no stats rows.
#[test]
fn objects_no_log_path_uses_are_not_started() {
    let (used, unused) = (free_port(), free_port());
    let config = format!(
        "@version: 3.38\n\
         source s_used {{ tcp(ip(127.0.0.1) port({used})); }};\n\
         source s_unused {{ tcp(ip(127.0.0.1) port({unused})); }};\n\
         destination d {{ file(\"out.log\"); }};\n\
         destination d_unused {{ file(\"unused.log\"); }};\n\
         log {{ source(s_used); destination(d); }};\n"
    );
    let mut d = Daemon::start(&config, None);
    d.wait_ready();
    send(used, b"<13>Dec  4 01:00:00 h p: m\n");
    let log = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || common::count_lines(
        &log
    ) == 1));
    assert!(std::net::TcpStream::connect(("127.0.0.1", unused)).is_err());
    assert!(!d.dir.path().join("unused.log").exists());
    let stats = out(&ctl(&d.control, "stats"));
    assert!(!stats.contains("unused"), "{stats}");
}

/// `export-config-graph` answers in syslog-ng's JSON: drivers with name, location and
/// persist name, the log path's nodes, and arcs from the source through to the destination.
#[test]
fn export_config_graph_answers_in_syslog_ngs_json() {
    let port = free_port();
    let d = simple(port, &[]);
    let text = out(&ctl(&d.control, "export-config-graph"));
    assert!(text.starts_with("{\"nodes\" : [{\"node\" : \"0x"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let nodes = v["nodes"].as_array().expect("nodes");
    let find = |name: &str| {
        nodes
            .iter()
            .find(|n| n["info"][0] == name)
            .map(|n| {
                (
                    n["node"].as_str().unwrap_or("").to_string(),
                    n["info"].clone(),
                )
            })
            .expect(name)
    };
    let (src, info) = find("tcp");
    assert_eq!(info[1], format!("{}:2:16", d.config.display()));
    assert_eq!(
        info[2],
        format!("afsocket_sd.(stream,AF_INET(127.0.0.1:{port}))")
    );
    let (dst, _) = find("file");
    // Follow the arcs from the source: the destination driver is reached.
    let arcs = v["arcs"].as_array().expect("arcs");
    let mut seen = vec![src];
    let mut i = 0;
    while i < seen.len() {
        let from = seen[i].clone();
        for a in arcs.iter().filter(|a| a["from"] == from.as_str()) {
            let to = a["to"].as_str().unwrap_or("").to_string();
            if !seen.contains(&to) {
                seen.push(to);
            }
        }
        i += 1;
    }
    assert!(seen.contains(&dst), "{text}");
}
