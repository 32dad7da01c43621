//! usertty() against syslog-ng 3.38: every scenario of tests/golden/usertty/scenarios.txt
//! is run by the real sluice with a made-up utmp file (`SLUICE_UTMP`), input.txt sent over
//! TCP, and what each terminal and file received compared byte for byte with what
//! syslog-ng wrote (expected/, made by record.sh). The terminal is a real pseudo-terminal
//! when the machine can open one; otherwise (no /dev/ptmx) a plain file stands in for it,
//! compared with the recording less the `\r` the terminal added before each `\n`.

mod common;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Daemon, free_port, send, stat, wait_for};

const WAIT: Duration = Duration::from_secs(20);

fn dir() -> PathBuf {
    common::repo().join("tests/golden/usertty")
}

/// A pseudo-terminal: the master (read by the test) and the slave kept open, as a login
/// session keeps its terminal open.
struct Pty {
    master: OwnedFd,
    _slave: OwnedFd,
    /// `pts/N`, as utmp names it.
    line: String,
}

fn open_pty() -> Option<Pty> {
    // SAFETY: plain libc calls on a descriptor we own; ptsname_r writes into our buffer.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK);
        if m < 0 {
            return None;
        }
        let master = OwnedFd::from_raw_fd(m);
        if libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            return None;
        }
        let mut buf = [0 as libc::c_char; 128];
        if libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()) != 0 {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(buf.as_ptr());
        let s = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        if s < 0 {
            return None;
        }
        let line = name.to_str().ok()?.strip_prefix("/dev/")?.to_string();
        Some(Pty {
            master,
            _slave: OwnedFd::from_raw_fd(s),
            line,
        })
    }
}

fn read_master(pty: &Pty, got: &mut Vec<u8>) {
    let mut buf = [0u8; 65536];
    loop {
        // SAFETY: reading into our buffer from a descriptor we own (non-blocking).
        let n = unsafe { libc::read(pty.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return;
        }
        got.extend_from_slice(&buf[..n as usize]);
    }
}

/// One utmp record as glibc lays it out (see src/actors/destinations/usertty/utmp.rs).
fn record(ut_type: i16, user: &str, line: &str) -> Vec<u8> {
    let mut r = vec![0u8; 384];
    r[0..2].copy_from_slice(&ut_type.to_ne_bytes());
    r[4..8].copy_from_slice(&1000i32.to_ne_bytes());
    r[8..8 + line.len()].copy_from_slice(line.as_bytes());
    r[44..44 + user.len()].copy_from_slice(user.as_bytes());
    r
}

struct Scenario {
    name: String,
    args: String,
    entries: Vec<(i16, String, String)>,
}

fn scenarios() -> Vec<Scenario> {
    std::fs::read_to_string(dir().join("scenarios.txt"))
        .expect("scenarios.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let c: Vec<&str> = l.splitn(3, '|').map(str::trim).collect();
            let entries = c[2]
                .split(',')
                .map(|e| {
                    let f: Vec<&str> = e.splitn(3, ':').collect();
                    (f[0].parse().expect("type"), f[1].into(), f[2].into())
                })
                .collect();
            Scenario {
                name: c[0].into(),
                args: c[1].into(),
                entries,
            }
        })
        .collect()
}

/// What a terminal or file should hold: the recording, or nothing when there is none.
fn expected(scenario: &str, tty: &str) -> Vec<u8> {
    std::fs::read(
        dir()
            .join("expected")
            .join(scenario)
            .join(format!("{tty}.bin")),
    )
    .unwrap_or_default()
}

fn run(s: &Scenario) {
    // ut_line holds 32 bytes: the work directory's path must be short.
    let work = tempfile::Builder::new()
        .prefix("ut")
        .tempdir_in("/tmp")
        .expect("tempdir");
    let mut pty = None;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut utmp = Vec::new();
    for (ut_type, user, line) in &s.entries {
        let line = if line == "PTY" {
            match open_pty() {
                Some(p) => {
                    let l = p.line.clone();
                    pty = Some(p);
                    l
                }
                None => {
                    eprintln!("no pseudo-terminal here: a plain file stands in for it");
                    let path = work.path().join("pty");
                    std::fs::write(&path, "").expect("pty stand-in");
                    files.push(("pty".into(), path.clone()));
                    path.to_string_lossy().into_owned()
                }
            }
        } else if let Some(name) = line.strip_prefix('@') {
            let path = work.path().join(name);
            std::fs::write(&path, "").expect("tty file");
            files.push((name.into(), path.clone()));
            path.to_string_lossy().into_owned()
        } else {
            line.clone()
        };
        assert!(line.len() <= 32, "{line}");
        utmp.extend(record(*ut_type, user, &line));
    }
    let utmp_path = work.path().join("utmp");
    std::fs::write(&utmp_path, &utmp).expect("utmp");

    let port = free_port();
    let args = s.args.clone();
    let config = move |_: &Path| {
        format!(
            "@version: 3.38\n\
             options {{ stats-freq(0); use-dns(no); keep-hostname(yes); }};\n\
             source s {{ network(ip(127.0.0.1) port({port}) transport(tcp) \
             flags(syslog-protocol)); }};\n\
             destination d_tty {{ usertty({args}); }};\n\
             log {{ source(s); destination(d_tty); }};\n"
        )
    };
    let utmp_env = utmp_path.to_string_lossy().into_owned();
    let env = [("SLUICE_UTMP", utmp_env.as_str()), ("TZ", "UTC")];
    let mut d = Daemon::start_in(config, &[], Some(&env));
    d.wait_ready();
    let input = std::fs::read(dir().join("input.txt")).expect("input");
    let n = input.iter().filter(|&&c| c == b'\n').count() as u64;
    send(port, &input);
    let ok = wait_for(WAIT, || {
        stat(&d.control, "destination;d_tty;written").is_some_and(|w| w >= n)
    });
    assert!(ok, "{}: not every message written\n{}", s.name, d.stderr());

    if let Some(p) = &pty {
        let want = expected(&s.name, "pty");
        let mut got = Vec::new();
        let ok = wait_for(WAIT, || {
            read_master(p, &mut got);
            got.len() >= want.len()
        });
        assert!(
            ok,
            "{}: the terminal got {} of {} bytes",
            s.name,
            got.len(),
            want.len()
        );
        assert!(
            got == want,
            "{}: pty differs:\n{:?}",
            s.name,
            String::from_utf8_lossy(&got)
        );
    }
    for (name, path) in &files {
        let mut want = expected(&s.name, name);
        if name == "pty" {
            want = String::from_utf8_lossy(&want)
                .replace("\r\n", "\n")
                .into_bytes();
        }
        let got = std::fs::read(path).expect("tty file");
        assert!(
            got == want,
            "{}/{name} differs:\n{:?}",
            s.name,
            String::from_utf8_lossy(&got)
        );
    }
    let errors = std::fs::read_to_string(dir().join("expected").join(&s.name).join("errors.txt"))
        .expect("errors.txt");
    let stderr = d.stderr();
    for line in errors.lines() {
        // syslog-ng's tags after the text, `; user='...', line='...'`: sluice writes the
        // same text and tags on its stderr as `user=...` (its internal() messages quote
        // them as syslog-ng does).
        let (text, tags) = line.split_once("; ").expect("tags");
        assert!(
            stderr.contains(text),
            "{}: no `{text}` in\n{stderr}",
            s.name
        );
        for tag in tags.split(", ") {
            let (k, v) = tag.split_once('=').expect("key=value");
            let tag = format!("{k}={}", v.trim_matches('\''));
            assert!(stderr.contains(&tag), "{}: no `{tag}` in\n{stderr}", s.name);
        }
    }
    if errors.is_empty() {
        assert!(!stderr.contains("tty device failed"), "{stderr}");
    }
}

#[test]
fn usertty_writes_what_syslog_ng_writes() {
    for s in scenarios() {
        run(&s);
    }
}
