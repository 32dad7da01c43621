//! Helpers shared by the integration tests: run the real binaries, wait for conditions
//! (never sleep for a fixed time), and clean up daemons that a failing test leaves behind.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");
pub const SLUICE_CTL: &str = env!("CARGO_BIN_EXE_sluice-ctl");

/// A Python destination class `Gated` that holds every message until the file `gate`
/// exists, then appends its `MESSAGE` to `out.log`.
pub const GATED_DESTINATION: &str = r#"
import os, time
class Gated(object):
    def send(self, msg):
        while not os.path.exists("gate"):
            time.sleep(0.01)
        with open("out.log", "a") as f:
            f.write(msg["MESSAGE"].decode() + "\n")
        return True
"#;

/// The repository root (where Cargo.toml is).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `sluice` with the given arguments to completion.
pub fn sluice(args: &[&str]) -> Output {
    Command::new(SLUICE)
        .args(args)
        .output()
        .expect("sluice binary runs")
}

/// Runs `sluice -s -f FILE` with the include path pointing at nothing system-wide, so a test
/// never depends on what syslog-ng installed on the machine.
pub fn syntax_check(file: &Path) -> Output {
    let none = repo().join("tests/corpus/no-include-path");
    Command::new(SLUICE)
        .arg("-s")
        .arg("-f")
        .arg(file)
        .arg("--include-path")
        .arg(none)
        .output()
        .expect("sluice binary runs")
}

/// Polls `cond` until it holds or `timeout` passes.
pub fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// A daemon started in the foreground in a temp dir, killed on drop if still running.
pub struct Daemon {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub control: PathBuf,
    pub pidfile: PathBuf,
    pub config: PathBuf,
    pub stderr_path: PathBuf,
}

impl Daemon {
    /// Writes `config` into a fresh temp dir and starts `sluice -F` on it with every state
    /// file inside that dir. `env` replaces the environment when given.
    pub fn start(config: &str, env: Option<&[(&str, &str)]>) -> Daemon {
        Daemon::start_in(|_| config.to_string(), &[], env)
    }

    /// Like [`Daemon::start`], with the configuration made from the temp dir's path and
    /// `args` added to sluice's command line.
    pub fn start_in(
        config: impl FnOnce(&Path) -> String,
        args: &[String],
        env: Option<&[(&str, &str)]>,
    ) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("sluice.conf");
        std::fs::write(&cfg, config(dir.path())).expect("write config");
        let control = dir.path().join("sluice.ctl");
        let pidfile = dir.path().join("sluice.pid");
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut cmd = Command::new(SLUICE);
        cmd.arg("-F")
            .arg("-f")
            .arg(&cfg)
            .arg("-c")
            .arg(&control)
            .arg("-p")
            .arg(&pidfile)
            .arg("-R")
            .arg(dir.path().join("sluice.persist"))
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        if let Some(vars) = env {
            cmd.env_clear();
            for (k, v) in vars {
                cmd.env(k, v);
            }
        }
        let child = cmd.spawn().expect("sluice starts");
        Daemon {
            child,
            dir,
            control,
            pidfile,
            config: cfg,
            stderr_path,
        }
    }

    /// Starts `sluice -F` again with the same configuration and state files (after it was
    /// stopped or killed); its standard error goes on in the same file.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.stderr_path)
            .expect("stderr file");
        self.child = Command::new(SLUICE)
            .arg("-F")
            .arg("-f")
            .arg(&self.config)
            .arg("-c")
            .arg(&self.control)
            .arg("-p")
            .arg(&self.pidfile)
            .arg("-R")
            .arg(self.dir.path().join("sluice.persist"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("sluice starts again");
    }

    /// Waits until the control socket answers a health check.
    pub fn wait_ready(&mut self) {
        let control = self.control.clone();
        let ready = wait_for(Duration::from_secs(20), || {
            ctl(&control, "healthcheck").status.success()
        });
        assert!(
            ready,
            "daemon did not become ready; stderr:\n{}",
            self.stderr()
        );
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits for the daemon to exit and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `sluice-ctl -c SOCKET COMMAND`.
pub fn ctl(control: &Path, command: &str) -> Output {
    Command::new(SLUICE_CTL)
        .arg("-c")
        .arg(control)
        .arg("--reply-timeout")
        .arg("10")
        .args(command.split_whitespace())
        .output()
        .expect("sluice-ctl runs")
}

/// A TCP port nobody listens on right now (bound to port 0 and released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local addr").port()
}

/// Connects to 127.0.0.1:`port`, retrying until the daemon listens.
pub fn connect(port: u16) -> std::net::TcpStream {
    let mut last = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return s,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("cannot connect to port {port}: {last:?}");
}

/// Sends `data` on a new connection and closes it.
pub fn send(port: u16, data: &[u8]) {
    use std::io::Write;
    let mut s = connect(port);
    s.write_all(data).expect("send");
}

/// One counter of the live graph (`sluice-ctl graph --json`), `kind;object;counter`
/// (`destination;d;written`), summed over the object's drivers; `None` when the daemon
/// does not answer or no such component runs.
pub fn stat(control: &Path, key: &str) -> Option<u64> {
    let mut parts = key.splitn(3, ';');
    let (kind, object, counter) = (parts.next()?, parts.next()?, parts.next()?);
    let out = ctl(control, "graph --json");
    if !out.status.success() {
        return None;
    }
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let list = match kind {
        "source" => graph["sources"].as_array()?,
        _ => graph["destinations"].as_array()?,
    };
    let mut found = None;
    for c in list.iter().filter(|c| c["object"] == object) {
        let v = c["counters"][counter].as_u64()?;
        found = Some(found.unwrap_or(0) + v);
    }
    found
}

/// Lines in a file (0 when it does not exist yet).
pub fn count_lines(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}
