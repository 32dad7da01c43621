//! What the Python integration tests (tests/python_drivers.rs, tests/python_config.rs)
//! share: a config around a TCP source, syslog lines to send, waiting for output files.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use crate::common::{Daemon, wait_for};

pub const WAIT: Duration = Duration::from_secs(20);

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `n` syslog lines `m0`..`m{n-1}` from host `h1`.
pub fn lines(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("<13>Dec  2 10:00:00 h1 prog: m{i}\n").into_bytes())
        .collect()
}

/// A config: `@version`, a TCP source on `port`, then `rest` (which defines and uses `d`).
pub fn config(version: &str, port: u16, rest: &str) -> String {
    format!("@version: {version}\nsource s {{ network(ip(127.0.0.1) port({port})); }};\n{rest}\n")
}

/// Waits until `path` holds `want` lines and returns its text.
pub fn wait_lines(d: &Daemon, path: &Path, want: usize) -> String {
    let ok = wait_for(WAIT, || read(path).lines().count() >= want);
    assert!(
        ok,
        "{} has {:?}; stderr:\n{}",
        path.display(),
        read(path),
        d.stderr()
    );
    read(path)
}
