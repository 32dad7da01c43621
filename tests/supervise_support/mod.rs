//! What tests/runtime_supervisor.rs (reloads) and tests/runtime_stop.rs (stops) share:
//! configs with a port and a directory filled in, numbered message batches, `sluice-ctl`
//! with arguments, the exit log's undelivered count, and slow `program()` peers.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::{Daemon, SLUICE_CTL, connect};

/// A generous "must finish" bound for conditions that normally hold within milliseconds.
pub const WAIT: Duration = Duration::from_secs(20);

/// `@version`, no DNS, and `body` with `PORT` and `DIR` filled in.
pub fn config(port: u16, dir: &Path, body: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); }};\n{}",
        body.replace("PORT", &port.to_string())
            .replace("DIR", &dir.display().to_string())
    )
}

/// Message `tag` in the BSD format; its `$MSG` is `tag`.
pub fn line(tag: &str) -> String {
    format!("<13>Jan  1 00:00:00 host prog: {tag}\n")
}

/// `m<from>` .. `m<to-1>` as syslog lines, ready to send on one connection.
pub fn batch(from: usize, to: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity((to - from) * 40);
    for i in from..to {
        v.extend_from_slice(line(&format!("m{i}")).as_bytes());
    }
    v
}

/// `m<from>` .. `m<to-1>`, one `$MSG` per line, as the destinations write them.
pub fn expected(from: usize, to: usize) -> String {
    (from..to).map(|i| format!("m{i}\n")).collect()
}

/// Sends `data` on a new connection (retrying the connect until the daemon listens).
pub fn send(port: u16, data: &[u8]) {
    let mut s = connect(port);
    s.write_all(data).expect("send");
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `sluice-ctl -c CTL --reply-timeout 60 ARGS...`: the timeout is long so that a slow reply is
/// measured by the test, not cut off by the client.
pub fn ctl_args(control: &Path, args: &[&str]) -> Output {
    Command::new(SLUICE_CTL)
        .arg("-c")
        .arg(control)
        .arg("--reply-timeout")
        .arg("60")
        .args(args)
        .output()
        .expect("sluice-ctl runs")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn started(config: &str) -> Daemon {
    let mut d = Daemon::start(config, None);
    d.wait_ready();
    d
}

/// The `N` of the daemon's last `sluice stopped undelivered=N` line.
pub fn undelivered(stderr: &str) -> Option<usize> {
    stderr
        .lines()
        .rev()
        .find_map(|l| l.split("sluice stopped undelivered=").nth(1))
        .and_then(|n| n.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Whether process `pid` is still running (a zombie does not count).
pub fn alive(pid: i32) -> bool {
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
pub struct Programs {
    pids: PathBuf,
    marker: String,
}

impl Programs {
    pub fn new(dir: &Path) -> Programs {
        Programs {
            pids: dir.join("pids"),
            marker: dir.display().to_string(),
        }
    }

    pub fn list(&self) -> Vec<i32> {
        read(&self.pids)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    pub fn ours(&self, pid: i32) -> bool {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(&self.marker))
            .unwrap_or(false)
    }

    /// Sends `sig` to the process group of each of our programs still running.
    pub fn signal(&self, sig: i32) {
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
