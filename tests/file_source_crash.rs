//! A file source killed with SIGKILL while it follows a growing file: after the restart it
//! goes on from the last acknowledged position (kept in the persist file's journal), so
//! nothing is lost and at most what was in flight (the window) comes twice — also after
//! three kills in quick succession.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use common::{Daemon, count_lines, wait_for};

const WINDOW: u32 = 1000;

fn counts(path: &Path) -> BTreeMap<u64, u32> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut m = BTreeMap::new();
    for l in text.lines() {
        if let Some(n) = l.strip_prefix("n ").and_then(|n| n.parse().ok()) {
            *m.entry(n).or_insert(0) += 1;
        }
    }
    m
}

fn append(path: &Path, range: std::ops::Range<u64>) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("input");
    let mut buf = String::new();
    for n in range {
        buf.push_str(&format!("n {n}\n"));
    }
    f.write_all(buf.as_bytes()).expect("append");
}

#[test]
fn a_followed_file_resumes_from_its_acknowledged_position_after_sigkill() {
    const N: u64 = 200_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.log");
    append(&input, 0..20_000);
    let config = format!(
        "source s {{ file(\"{}\" follow-freq(0.1) flags(no-parse) log-iw-size({WINDOW})); }};\n\
         destination d {{ file(\"out.log\" template(\"$MSG\\n\")); }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n",
        input.display()
    );
    let mut d = Daemon::start(&config, None);
    d.wait_ready();
    let out = d.dir.path().join("out.log");
    let mut written = 20_000;
    let mut kills = 0;
    // One kill after some progress, then three in quick succession, the file growing.
    for (at, quick) in [(10_000, false), (40_000, false), (0, true), (0, true)] {
        append(&input, written..written + 30_000);
        written += 30_000;
        if !quick {
            assert!(
                wait_for(Duration::from_secs(60), || count_lines(&out) >= at),
                "{}",
                d.stderr()
            );
        } else {
            d.wait_ready();
        }
        d.signal(libc::SIGKILL);
        let _ = d.child.wait();
        kills += 1;
        d.restart();
    }
    append(&input, written..N);
    let ok = wait_for(Duration::from_secs(120), || counts(&out).len() as u64 == N);
    assert!(ok, "{} of {N}\n{}", counts(&out).len(), d.stderr());
    let c = counts(&out);
    assert!(c.keys().all(|k| *k < N));
    let repeated: u32 = c.values().map(|n| n - 1).sum();
    assert!(
        repeated <= kills * WINDOW,
        "{repeated} repeated after {kills} kills (window {WINDOW})"
    );
}

/// A persist file sluice cannot read (here: syslog-ng's own) does not stop the start: it is
/// moved aside with a warning naming both paths, and a new one is started.
#[test]
fn an_unreadable_persist_file_is_moved_aside_and_the_daemon_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let persist = dir.path().join("sluice.persist");
    std::fs::write(&persist, b"SLP4 not ours").expect("foreign persist file");
    let input = dir.path().join("in.log");
    append(&input, 0..3);
    let config = dir.path().join("sluice.conf");
    std::fs::write(
        &config,
        format!(
            "source s {{ file(\"{}\" flags(no-parse)); }};\n\
             destination d {{ file(\"{}\" template(\"$MSG\\n\")); }};\n\
             log {{ source(s); destination(d); }};\n",
            input.display(),
            dir.path().join("out.log").display()
        ),
    )
    .expect("config");
    let stderr = std::fs::File::create(dir.path().join("err.log")).expect("stderr");
    let mut child = std::process::Command::new(common::SLUICE)
        .arg("-F")
        .arg("-f")
        .arg(&config)
        .arg("-R")
        .arg(&persist)
        .arg("-c")
        .arg(dir.path().join("ctl"))
        .arg("-p")
        .arg(dir.path().join("pid"))
        .stderr(stderr)
        .spawn()
        .expect("sluice starts");
    let out = dir.path().join("out.log");
    let ok = wait_for(Duration::from_secs(30), || count_lines(&out) == 3);
    let err = std::fs::read_to_string(dir.path().join("err.log")).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "{err}");
    assert!(err.contains("The persist file cannot be read"), "{err}");
    let moved = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.starts_with("sluice.persist.unreadable-"))
        .expect("moved aside");
    assert_eq!(
        std::fs::read(dir.path().join(moved)).expect("kept"),
        b"SLP4 not ours"
    );
}
