//! Reverse DNS end to end: many short TCP connections with `use-dns(yes)` must not make the
//! daemon grow a thread per connection (lookups run on a fixed pool and are cached), and
//! `dns-cache-hosts()` names a peer without asking DNS.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{Daemon, connect, count_lines, free_port, wait_for};

/// The `Threads:` line of `/proc/<pid>/status`.
fn threads(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Most threads the daemon may have: its fixed threads (main, signal and control handling,
/// up to 4 network arbiters, one arbiter per destination, the DNS pool) with ample room, and
/// far below one thread per connection (the old per-connection `spawn_blocking` went from
/// 4 to 175 threads in this test).
const MAX_THREADS: usize = 32;

#[test]
fn a_thousand_short_connections_keep_the_thread_count_bounded() {
    let port = free_port();
    let config = format!(
        "@version: 3.38\n\
         source s {{ network(ip(127.0.0.1) port({port}) use-dns(yes) keep-hostname(no)\n\
                     max-connections(2000)); }};\n\
         destination d {{ file(\"out.log\" template(\"$HOST $MSG\\n\")); }};\n\
         log {{ source(s); destination(d); }};\n"
    );
    let mut d = Daemon::start(&config, None);
    d.wait_ready();
    let pid = d.child.id();
    let before = threads(pid).unwrap_or(0);
    let n = 1000;
    let mut most = before;
    for i in 0..n {
        let mut c = connect(port);
        c.write_all(format!("<13>Jan  1 10:00:00 h p: m{i}\n").as_bytes())
            .expect("send");
        drop(c);
        if i % 50 == 0 {
            most = most.max(threads(pid).unwrap_or(0));
        }
    }
    let out = d.dir.path().join("out.log");
    let all = wait_for(Duration::from_secs(60), || {
        most = most.max(threads(pid).unwrap_or(0));
        count_lines(&out) >= n
    });
    assert!(all, "{} lines\n{}", count_lines(&out), d.stderr());
    most = most.max(threads(pid).unwrap_or(0));
    eprintln!("threads: {before} at start, at most {most} during {n} connections");
    assert!(most <= MAX_THREADS, "{most} threads (bound {MAX_THREADS})");
    // Every connection came from 127.0.0.1: one answer, cached, names them all alike.
    let text = read(&out);
    let hosts: std::collections::BTreeSet<&str> =
        text.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(hosts.len(), 1, "{hosts:?}");
}

#[test]
fn dns_cache_hosts_names_the_peer() {
    let (port, persist) = (free_port(), free_port());
    let config = format!(
        "@version: 3.38\n\
         options {{ dns-cache-hosts(\"hosts\"); use-fqdn(yes); }};\n\
         source s {{ network(ip(127.0.0.1) port({port}) keep-hostname(no)); }};\n\
         source p {{ network(ip(127.0.0.1) port({persist}) use-dns(persist-only)\n\
                     keep-hostname(no)); }};\n\
         destination d {{ file(\"out.log\" template(\"$HOST $MSG\\n\")); }};\n\
         log {{ source(s); source(p); destination(d); }};\n",
    );
    let mut d = Daemon::start(&config, None);
    std::fs::write(
        d.dir.path().join("hosts"),
        "# comment\n127.0.0.1   peer.from.hosts alias\n",
    )
    .expect("hosts file");
    d.wait_ready();
    let out = d.dir.path().join("out.log");
    for (p, text) in [(port, "yes"), (persist, "persist-only")] {
        let mut c = connect(p);
        c.write_all(format!("<13>Jan  1 10:00:00 h p: {text}\n").as_bytes())
            .expect("send");
    }
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) >= 2),
        "{}",
        d.stderr()
    );
    let mut lines: Vec<String> = read(&out).lines().map(String::from).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        vec!["peer.from.hosts persist-only", "peer.from.hosts yes"]
    );
}
