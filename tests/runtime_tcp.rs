//! The runtime end to end over real sockets and files: tcp/network/syslog sources into
//! file(), the default file format byte for byte, internal(), refusals, reload, shutdown.

mod common;

use std::time::Duration;

use common::{Daemon, count_lines, free_port, send, stat, wait_for};

fn config(port: u16, body: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); }};\n{}",
        body.replace("PORT", &port.to_string())
    )
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn tcp_to_file_writes_syslog_ngs_default_format() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { network(ip(\"127.0.0.1\") port(PORT)); };\n\
             destination d { file(\"out.log\"); };\n\
             log { source(s); destination(d); };\n",
        ),
        None,
    );
    d.wait_ready();
    send(
        port,
        b"<13>Jan  1 10:00:00 myhost prog[12]: hello world\n\
          <13>Jan  1 10:00:01 myhost prog: second\r\n\n<13>Jan  1 10:00:02 myhost tail",
    );
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) >= 3),
        "{}",
        d.stderr()
    );
    assert_eq!(
        read(&out),
        "Jan  1 10:00:00 127.0.0.1 prog[12]: hello world\n\
         Jan  1 10:00:01 127.0.0.1 prog: second\n\
         Jan  1 10:00:02 127.0.0.1 tail\n"
    );
}

#[test]
fn syslog_source_reads_octet_counted_rfc5424_and_templates_apply() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { syslog(ip(\"127.0.0.1\") port(PORT)); };\n\
             destination d { file(\"out.log\" template(\"$PROGRAM|$MSGID|${.SDATA.a@1.k}|$MSG\\n\")); };\n\
             log { source(s); destination(d); };\n",
        ),
        None,
    );
    d.wait_ready();
    let m1 = "<14>1 2024-01-01T10:00:00Z h app 1 ID1 [a@1 k=\"v\"] first";
    let m2 = "<14>1 2024-01-01T10:00:01Z h app 1 ID2 - second\nline";
    let data = format!("{} {m1}{} {m2}", m1.len(), m2.len());
    send(port, data.as_bytes());
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) >= 3),
        "{}",
        d.stderr()
    );
    assert_eq!(read(&out), "app|ID1|v|first\napp|ID2||second\nline\n");
}

/// An empty octet-counted frame (`0 `) writes nothing, as in syslog-ng 3.38 (recorded:
/// `0 5 hello0 3 abc` over `transport(framed)` gave exactly two lines).
#[test]
fn an_empty_frame_writes_nothing() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { network(ip(\"127.0.0.1\") port(PORT) transport(framed)); };\n\
             destination d { file(\"out.log\" template(\"[$PROGRAM]\\n\")); };\n\
             log { source(s); destination(d); };\n",
        ),
        None,
    );
    d.wait_ready();
    send(port, b"0 5 hello0 3 abc0 ");
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) >= 2),
        "{}",
        d.stderr()
    );
    assert!(wait_for(Duration::from_secs(20), || stat(
        &d.control,
        "source;s;processed"
    ) == Some(2)));
    assert_eq!(read(&out), "[hello]\n[abc]\n");
}

#[test]
fn internal_carries_the_daemons_own_messages() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { tcp(ip(127.0.0.1) port(PORT)); };\nsource i { internal(); };\n\
             destination d { file(\"internal.log\"); };\n\
             log { source(i); destination(d); };\nlog { source(s); };\n",
        ),
        None,
    );
    d.wait_ready();
    send(port, b"x\n");
    let out = d.dir.path().join("internal.log");
    assert!(
        wait_for(Duration::from_secs(20), || read(&out)
            .contains("Syslog connection closed")),
        "{}\n{}",
        read(&out),
        d.stderr()
    );
    let text = read(&out);
    let pid = d.child.id();
    assert!(
        text.contains(&format!("syslog-ng[{pid}]: sluice starting up; version='")),
        "{text}"
    );
    assert!(
        text.contains("Syslog connection accepted; client='AF_INET(127.0.0.1:"),
        "{text}"
    );
}

#[test]
fn filters_route_messages() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "source s { network(ip(127.0.0.1) port(PORT)); };\n\
             destination a { file(\"a.log\" template(\"$MSG\\n\")); };\n\
             destination b { file(\"b.log\" template(\"$MSG\\n\")); };\n\
             log { source(s); filter { program(\"alpha\"); }; destination(a); flags(final); };\n\
             log { source(s); destination(b); };\n",
        ),
        None,
    );
    d.wait_ready();
    send(
        port,
        b"<13>Jan  1 10:00:00 h alpha: 1\n<13>Jan  1 10:00:00 h beta: 2\n",
    );
    let (a, b) = (d.dir.path().join("a.log"), d.dir.path().join("b.log"));
    assert!(wait_for(Duration::from_secs(20), || count_lines(&a) == 1
        && count_lines(&b) == 1));
    assert_eq!((read(&a), read(&b)), ("1\n".to_string(), "2\n".to_string()));
}

#[test]
fn unsupported_drivers_are_refused_at_start_with_their_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("s.conf");
    std::fs::write(
        &cfg,
        "@version: 3.38\nsource s { wildcard-file(base-dir(\"/tmp\") filename-pattern(\"*.log\")); };\n\
         destination d { file(\"/dev/null\"); };\nlog { source(s); destination(d); };\n",
    )
    .expect("write");
    let out = common::sluice(&[
        "-F",
        "-f",
        cfg.to_str().unwrap_or_default(),
        "-c",
        dir.path().join("c").to_str().unwrap_or_default(),
        "-p",
        dir.path().join("p").to_str().unwrap_or_default(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("driver `wildcard-file` is not supported by the runtime yet"),
        "{err}"
    );
    assert!(err.contains("s.conf:2:12"), "{err}");
}

#[test]
fn reload_keeps_the_listening_socket_and_shutdown_drains() {
    let port = free_port();
    let body = "source s { network(ip(127.0.0.1) port(PORT)); };\n\
                destination d { file(\"out.log\" template(\"$MSG\\n\")); };\n\
                log { source(s); destination(d); flags(flow-control); };\n";
    let mut d = Daemon::start(&config(port, body), None);
    d.wait_ready();
    send(port, b"one\n");
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 1));
    let r = common::ctl(&d.control, "reload");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
    send(port, b"two\n");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 2));
    // Many messages, then SIGTERM as soon as they are accepted: all must be in the file.
    let n = 50_000;
    let mut data = Vec::new();
    for i in 0..n {
        data.extend_from_slice(format!("m{i}\n").as_bytes());
    }
    send(port, &data);
    // Counters go on across the reload: "one", "two" and the n.
    assert!(wait_for(Duration::from_secs(60), || stat(
        &d.control,
        "source;s;received"
    ) == Some(n + 2)));
    d.signal(libc::SIGTERM);
    assert_eq!(
        d.wait_exit(Duration::from_secs(40)),
        Some(0),
        "{}",
        d.stderr()
    );
    assert_eq!(count_lines(&out), 2 + n as usize);
}

#[test]
fn open_connections_survive_a_reload_with_keep_alive() {
    use std::io::{Read, Write};
    let port = free_port();
    let (ka, plain) = (port, free_port());
    let body = format!(
        "source s {{ network(ip(127.0.0.1) port({ka})); }};\n\
         source n {{ network(ip(127.0.0.1) port({plain}) keep-alive(no)); }};\n\
         destination d {{ file(\"out.log\" template(\"$MSG\\n\")); }};\n\
         log {{ source(s); source(n); destination(d); flags(flow-control); }};\n"
    );
    let mut d = Daemon::start(&config(port, &body), None);
    d.wait_ready();
    let mut kept = common::connect(ka);
    let mut closed = common::connect(plain);
    // Half a message before the reload, the rest after it: the bytes read by the old
    // configuration's reader go on with the connection.
    kept.write_all(b"p: one\np: tw").expect("write");
    closed.write_all(b"p: x\n").expect("write");
    let out = d.dir.path().join("out.log");
    assert!(wait_for(Duration::from_secs(20), || count_lines(&out) == 2));
    let r = common::ctl(&d.control, "reload");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
    kept.write_all(b"o\np: three\n")
        .expect("write after reload");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) == 4),
        "{}",
        d.stderr()
    );
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, vec!["one", "three", "two", "x"], "{text:?}");
    // keep-alive(no): the reload closed it (the read sees EOF).
    closed
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = [0u8; 1];
    assert_eq!(closed.read(&mut buf).ok(), Some(0));
}
