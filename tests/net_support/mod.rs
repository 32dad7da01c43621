//! What tests/runtime_udp.rs and tests/runtime_unix.rs share: the cases recorded from
//! syslog-ng 3.38 in tests/golden/net_sources (see its record.py), run against the real
//! daemon and compared byte for byte.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::{Daemon, free_port, stat, wait_for};

/// One recorded case of cases.txt.
pub struct Case {
    pub name: String,
    /// The source driver, with `PORT` and `SOCK` to fill in.
    pub driver: String,
    pub inputs: Vec<Vec<u8>>,
    /// `udp`, `udp6`, `unix-dgram` or `unix-stream`.
    pub mode: String,
}

fn dir() -> PathBuf {
    crate::common::repo().join("tests/golden/net_sources")
}

/// An input line with its escapes (`\n`, `\r`, `\0`, `\\`, `\xHH`) decoded.
pub fn unescape(line: &str) -> Vec<u8> {
    let b = line.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let (byte, skip) = match b[i + 1] {
                b'n' => (b'\n', 2),
                b'r' => (b'\r', 2),
                b'0' => (0, 2),
                b'\\' => (b'\\', 2),
                b'x' => {
                    let hex = line.get(i + 2..i + 4).expect("\\x needs two hex digits");
                    (u8::from_str_radix(hex, 16).expect("hex"), 4)
                }
                c => panic!("unknown escape \\{}", c as char),
            };
            out.push(byte);
            i += skip;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The recorded case `name`.
pub fn case(name: &str) -> Case {
    let text = std::fs::read_to_string(dir().join("cases.txt")).expect("cases.txt");
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols[0] != name {
            continue;
        }
        let inputs = std::fs::read_to_string(dir().join(cols[2]))
            .expect("inputs")
            .lines()
            .map(unescape)
            .collect();
        return Case {
            name: name.to_string(),
            driver: cols[1].to_string(),
            inputs,
            mode: cols[3].to_string(),
        };
    }
    panic!("no case {name}");
}

/// This machine's short host name (what syslog-ng puts in HOST for local messages).
pub fn short_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates or fails.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    assert_eq!(rc, 0);
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    name.split('.').next().unwrap_or("").to_string()
}

/// Whether `s` starts with a BSD stamp (`Nov 24 10:30:42`).
fn bsd_stamp(s: &[u8]) -> bool {
    s.len() >= 15
        && s[..3].iter().all(u8::is_ascii_alphabetic)
        && s[3] == b' '
        && (s[4] == b' ' || s[4].is_ascii_digit())
        && s[5].is_ascii_digit()
        && s[6] == b' '
        && s[7..15].iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Compares what the daemon wrote with the recorded output: `{HOST}` and `{PID}` are
/// replaced, and a line starting with `{NOW}` matches any BSD stamp there.
pub fn assert_matches(actual: &[u8], expected: &[u8], pid: u32) {
    let expected = String::from_utf8_lossy(expected)
        .replace("{HOST}", &short_hostname())
        .replace("{PID}", &pid.to_string());
    let exp_lines: Vec<&[u8]> = expected.as_bytes().split(|&c| c == b'\n').collect();
    let act_lines: Vec<&[u8]> = actual.split(|&c| c == b'\n').collect();
    assert_eq!(
        act_lines.len(),
        exp_lines.len(),
        "line count\nactual:\n{}\nexpected:\n{}",
        String::from_utf8_lossy(actual),
        expected
    );
    for (a, e) in act_lines.iter().zip(&exp_lines) {
        let (a, e) = match e.strip_prefix(b"{NOW}") {
            Some(rest) => {
                assert!(
                    bsd_stamp(a),
                    "{:?} has no stamp",
                    String::from_utf8_lossy(a)
                );
                (&a[15..], rest)
            }
            None => (*a, *e),
        };
        assert_eq!(
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(e),
            "\nactual file:\n{}",
            String::from_utf8_lossy(actual)
        );
    }
}

/// The daemon's config for a case: the source into `out.log` in the default file format.
pub fn config(driver: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); stats-freq(0); }};\n\
         source s {{ {driver}; }};\n\
         destination d {{ file(\"out.log\"); }};\n\
         log {{ source(s); destination(d); }};\n"
    )
}

fn send_case(c: &Case, port: u16, sock: &Path) {
    match c.mode.as_str() {
        "udp" | "udp6" => {
            let (bind, to) = if c.mode == "udp6" {
                ("[::1]:0", format!("[::1]:{port}"))
            } else {
                ("127.0.0.1:0", format!("127.0.0.1:{port}"))
            };
            let s = std::net::UdpSocket::bind(bind).expect("udp socket");
            for d in &c.inputs {
                s.send_to(d, &to).expect("send");
            }
        }
        "unix-dgram" => {
            let s = std::os::unix::net::UnixDatagram::unbound().expect("socket");
            for d in &c.inputs {
                s.send_to(d, sock).expect("send");
            }
        }
        "unix-stream" => {
            use std::io::Write;
            let mut s = std::os::unix::net::UnixStream::connect(sock).expect("connect");
            for d in &c.inputs {
                s.write_all(d).expect("send");
                if !d.ends_with(b"\n") {
                    s.write_all(b"\n").expect("send");
                }
            }
        }
        other => panic!("mode {other}"),
    }
}

/// Runs recorded case `name` against the daemon: the file must be what syslog-ng wrote, and
/// `source;s;received` what it counted.
pub fn run_case(name: &str) {
    let c = case(name);
    let port = if c.mode == "udp6" {
        let s = std::net::UdpSocket::bind("[::1]:0");
        match s {
            Ok(s) => s.local_addr().expect("addr").port(),
            Err(_) => {
                eprintln!("no IPv6 loopback here; skipping {name}");
                return;
            }
        }
    } else {
        free_port()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("s.sock");
    let driver = c
        .driver
        .replace("PORT", &port.to_string())
        .replace("SOCK", &sock.display().to_string());
    let mut d = Daemon::start(&config(&driver), None);
    d.wait_ready();
    send_case(&c, port, &sock);
    let out = d.dir.path().join("out.log");
    let done = wait_for(Duration::from_secs(20), || {
        std::fs::read(&out).is_ok_and(|t| t.windows(8).any(|w| w == b"sentinel"))
    });
    assert!(done, "{name}: sentinel not written; {}", d.stderr());
    let expected = std::fs::read(dir_expected(name, "out")).expect("expected output");
    let actual = std::fs::read(&out).expect("output");
    assert_matches(&actual, &expected, d.child.id());
    let received: u64 = std::fs::read_to_string(dir_expected(name, "stats"))
        .expect("expected stats")
        .trim()
        .strip_prefix("received=")
        .and_then(|n| n.parse().ok())
        .expect("received=N");
    assert_eq!(
        stat(&d.control, "source;s;received"),
        Some(received),
        "{name}"
    );
    assert_eq!(stat(&d.control, "source;s;parse_errors"), Some(1), "{name}");
}

fn dir_expected(name: &str, ext: &str) -> PathBuf {
    dir().join("expected").join(format!("{name}.{ext}"))
}
