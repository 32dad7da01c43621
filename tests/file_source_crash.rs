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
