//! The child process of a `program()` destination: started through `/bin/sh -c`, restarted
//! when it exits, and stopped so that it sees end-of-file first.
//!
//! As syslog-ng 3.38 starts it (`afprogram_popen`, checked by running it): `/bin/sh -c
//! COMMAND` in a process group of its own, stdin the write end's pipe, stdout and stderr
//! `/dev/null`; with `inherit-environment(no)` an empty environment (the shell then sets only
//! `PWD`). It starts when the destination starts, not at the first message.
//!
//! A thread per program ([`supervise`]) waits for the child, so an exited child is reaped at
//! once and never lingers as a zombie, whatever the writer is doing; it logs the exit with
//! syslog-ng's message and starts the program again. Where sluice differs from syslog-ng,
//! on purpose:
//! - syslog-ng restarts at once, even a program that exits at once (measured: 1200 restarts
//!   in 5 s); sluice starts a program at most once per `time-reopen()`.
//! - syslog-ng stops a program by sending SIGTERM to its process group straight away, so it
//!   never sees end-of-file; sluice closes its stdin first (after the queue was drained),
//!   waits [`EOF_GRACE`], and only then sends SIGTERM to the group, and SIGKILL after
//!   [`TERM_GRACE`].
//!
//! The handle is independent of any runtime or graph (a thread, a mutex, plain fds), so a
//! `keep-alive(yes)` program moves from one graph to the next on reload as it is.

use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long a stopped program may take to exit after end-of-file before SIGTERM.
pub const EOF_GRACE: Duration = Duration::from_secs(2);
/// How long after SIGTERM before SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(1);

/// What to run.
#[derive(Debug, Clone)]
pub struct ProgramSpec {
    pub command: String,
    pub inherit_environment: bool,
    /// The least time between two starts.
    pub time_reopen: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// The running instance's pid.
    pid: Option<i32>,
    /// The write end of its stdin (the writer uses a duplicate of it).
    stdin: Option<OwnedFd>,
    /// Changes whenever an instance starts or ends.
    generation: u64,
    /// No restart any more: the handle is being shut down.
    stopping: bool,
}

#[derive(Debug)]
struct Shared {
    spec: ProgramSpec,
    state: Mutex<State>,
    /// Wakes the supervisor out of its wait before a restart.
    wake: Condvar,
    /// Bumped on every state change (async waiters).
    changes: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Waits until `deadline`; true when the program is being stopped.
    fn wait_until(&self, deadline: Instant) -> bool {
        let mut st = self.lock();
        loop {
            if st.stopping {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = match self.wake.wait_timeout(st, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    fn spawn(&self) -> std::io::Result<(std::process::Child, OwnedFd)> {
        let mut c = Command::new("/bin/sh");
        c.arg("-c")
            .arg(&self.spec.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if !self.spec.inherit_environment {
            c.env_clear();
        }
        let mut child = c.spawn()?;
        match child.stdin.take() {
            Some(stdin) => Ok((child, OwnedFd::from(stdin))),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::io::Error::other("no stdin pipe"))
            }
        }
    }
}

/// syslog-ng's test for "the shell did not find the command": exit code 127, no signal.
fn command_not_found(status: i32) -> bool {
    (status >> 8) == 127 && (status & 0xff) == 0
}

/// SIGTERM (or `sig`) to the process group of `pid`, as syslog-ng does: only when the group
/// is not sluice's own.
fn signal_group(pid: i32, sig: i32) {
    // SAFETY: plain syscalls on a pid this process started and has not reaped yet.
    unsafe {
        let pgid = libc::getpgid(pid);
        if pgid != -1 && pgid != libc::getpgrp() {
            libc::killpg(pgid, sig);
        }
    }
}

/// Starts the program, waits for it, restarts it; returns when the handle stops it (or the
/// shell reports the command was not found, as syslog-ng then gives up too).
fn supervise(shared: Arc<Shared>) {
    let cmd = shared.spec.command.clone();
    let mut last_start: Option<Instant> = None;
    loop {
        if let Some(s) = last_start
            && shared.wait_until(s + shared.spec.time_reopen)
        {
            return;
        }
        if shared.lock().stopping {
            return;
        }
        tracing::debug!(cmdline = %cmd, "Starting destination program");
        last_start = Some(Instant::now());
        let (mut child, stdin) = match shared.spawn() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(cmdline = %cmd, error = %super::super::pipe::os_error(&e),
                    "Error starting destination program");
                continue;
            }
        };
        let pid = child.id() as i32;
        {
            let mut st = shared.lock();
            if st.stopping {
                drop(st);
                drop(stdin);
                signal_group(pid, libc::SIGTERM);
                let _ = child.wait();
                return;
            }
            st.pid = Some(pid);
            st.stdin = Some(stdin);
            st.generation += 1;
        }
        shared.changed();
        tracing::debug!(cmdline = %cmd, pid, "Program destination started");
        let status = child.wait().map(|s| s.into_raw()).unwrap_or(-1);
        let stopping = {
            let mut st = shared.lock();
            st.pid = None;
            st.stdin = None;
            st.generation += 1;
            st.stopping
        };
        shared.changed();
        if stopping {
            return;
        }
        if command_not_found(status) {
            tracing::error!(cmdline = %cmd, status,
                "Child program exited with command not found, stopping the destination.");
            return;
        }
        tracing::info!(cmdline = %cmd, status, "Child program exited, restarting");
    }
}

/// A supervised program. Dropping it without [`ProgramHandle::shutdown`] stops it the way
/// syslog-ng does (end-of-file and SIGTERM at once).
pub struct ProgramHandle {
    shared: Arc<Shared>,
    shut_down: bool,
}

impl std::fmt::Debug for ProgramHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgramHandle")
            .field("command", &self.shared.spec.command)
            .field("pid", &self.pid())
            .finish()
    }
}

impl ProgramHandle {
    /// Starts the program (in the background: the supervisor thread spawns it).
    pub fn start(spec: ProgramSpec) -> ProgramHandle {
        let (changes, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            spec,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            changes,
        });
        let s = shared.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("program".into())
            .spawn(move || supervise(s))
        {
            tracing::error!(cmdline = %shared.spec.command, error = %e,
                "Error starting the thread that runs a destination program");
        }
        ProgramHandle {
            shared,
            shut_down: false,
        }
    }

    /// The command line.
    pub fn command(&self) -> &str {
        &self.shared.spec.command
    }

    /// The pid of the running instance.
    pub fn pid(&self) -> Option<i32> {
        self.shared.lock().pid
    }

    /// Whether an instance is running.
    pub fn is_running(&self) -> bool {
        self.pid().is_some()
    }

    /// The current generation (changes when an instance starts or ends).
    pub fn generation(&self) -> u64 {
        self.shared.lock().generation
    }

    /// A duplicate of the running instance's stdin, with its generation.
    pub fn stdin(&self) -> Option<(u64, std::io::Result<OwnedFd>)> {
        let st = self.shared.lock();
        let fd = st.stdin.as_ref()?;
        Some((st.generation, fd.try_clone()))
    }

    /// Stops the instance of `generation` (its stdin failed while it runs): SIGTERM to its
    /// process group, as syslog-ng does; the supervisor restarts it.
    pub fn kill_instance(&self, generation: u64) {
        let st = self.shared.lock();
        if st.generation == generation
            && let Some(pid) = st.pid
        {
            tracing::debug!(cmdline = %self.shared.spec.command, child_pid = pid,
                "Sending destination program a TERM signal");
            signal_group(pid, libc::SIGTERM);
        }
    }

    /// Waits until the instance `pid` is gone, at most `limit`; true when it is.
    async fn wait_gone(&self, pid: i32, limit: Duration) -> bool {
        let mut rx = self.shared.changes.subscribe();
        let gone = async {
            loop {
                if self.pid() != Some(pid) {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(limit, gone).await.is_ok()
    }

    /// Stops the program for good: closes its stdin (the caller dropped its duplicates
    /// first), waits [`EOF_GRACE`] for it to exit, then SIGTERM to its process group, then
    /// SIGKILL. The supervisor thread reaps it.
    pub async fn shutdown(mut self) {
        self.shut_down = true;
        let pid = {
            let mut st = self.shared.lock();
            st.stopping = true;
            st.stdin = None;
            st.pid
        };
        self.shared.wake.notify_all();
        let Some(pid) = pid else { return };
        if self.wait_gone(pid, EOF_GRACE).await {
            return;
        }
        let cmd = &self.shared.spec.command;
        tracing::debug!(cmdline = %cmd, child_pid = pid, "Sending destination program a TERM signal");
        self.signal_if_running(pid, libc::SIGTERM);
        if self.wait_gone(pid, TERM_GRACE).await {
            return;
        }
        tracing::warn!(cmdline = %cmd, child_pid = pid,
            "Destination program did not exit on SIGTERM, sending SIGKILL");
        self.signal_if_running(pid, libc::SIGKILL);
        let _ = self.wait_gone(pid, TERM_GRACE).await;
    }

    fn signal_if_running(&self, pid: i32, sig: i32) {
        let st = self.shared.lock();
        if st.pid == Some(pid) {
            signal_group(pid, sig);
        }
    }
}

impl Drop for ProgramHandle {
    fn drop(&mut self) {
        if self.shut_down {
            return;
        }
        let pid = {
            let mut st = self.shared.lock();
            st.stopping = true;
            st.stdin = None;
            st.pid
        };
        self.shared.wake.notify_all();
        if let Some(pid) = pid {
            tracing::debug!(cmdline = %self.shared.spec.command, child_pid = pid,
                "Sending destination program a TERM signal");
            signal_group(pid, libc::SIGTERM);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cmd: &str) -> ProgramSpec {
        ProgramSpec {
            command: cmd.into(),
            inherit_environment: true,
            time_reopen: Duration::from_millis(100),
        }
    }

    fn wait(mut cond: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        cond()
    }

    /// Whether `pid` still exists (a zombie counts).
    fn exists(pid: i32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    #[test]
    fn command_not_found_is_syslog_ngs_test() {
        assert!(command_not_found(127 << 8));
        assert!(!command_not_found(3 << 8));
        assert!(!command_not_found((127 << 8) | 9));
    }

    #[tokio::test]
    async fn restarts_an_exited_program_and_reaps_it() {
        let h = ProgramHandle::start(spec("exit 0"));
        let mut seen = Vec::new();
        assert!(wait(|| {
            if let Some(p) = h.pid()
                && !seen.contains(&p)
            {
                seen.push(p);
            }
            seen.len() >= 2
        }));
        let first = seen[0];
        assert!(wait(|| !exists(first)), "pid {first} left behind");
        h.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_gives_eof_then_terminates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("eof");
        let h = ProgramHandle::start(spec(&format!(
            "cat >/dev/null; echo eof > {}",
            out.display()
        )));
        assert!(wait(|| h.is_running()));
        h.shutdown().await;
        assert_eq!(std::fs::read_to_string(&out).ok().as_deref(), Some("eof\n"));

        // A program that ignores end-of-file gets SIGTERM (its whole process group).
        let h = ProgramHandle::start(spec("exec 0<&-; sleep 30"));
        assert!(wait(|| h.is_running()));
        let pid = h.pid().unwrap_or(0);
        let started = Instant::now();
        h.shutdown().await;
        assert!(started.elapsed() < EOF_GRACE + TERM_GRACE);
        assert!(wait(|| !exists(pid)));
    }

    #[tokio::test]
    async fn an_empty_environment_when_not_inherited() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("env");
        let h = ProgramHandle::start(ProgramSpec {
            inherit_environment: false,
            ..spec(&format!("env > {}; exec cat >/dev/null", out.display()))
        });
        assert!(wait(|| h.is_running() && out.exists()));
        h.shutdown().await;
        let env = std::fs::read_to_string(&out).unwrap_or_default();
        assert!(env.lines().all(|l| l.starts_with("PWD=")), "{env}");
    }
}
