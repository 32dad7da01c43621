//! `disk-buffer()` end to end: a destination that is down while messages arrive gets them
//! all, in order, once it is up; a reliable buffer keeps what it took across `kill -9`; a
//! clean stop with `reliable(no)` keeps the rest for the next start.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Daemon, GATED_DESTINATION, connect, free_port, stat, wait_for};

const WAIT: Duration = Duration::from_secs(60);

/// A TCP receiver collecting the `n N` lines it gets, on every connection.
struct Receiver {
    lines: Arc<Mutex<Vec<u64>>>,
}

impl Receiver {
    fn start(port: u16) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("receiver binds");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let got = lines.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let got = got.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(conn).lines() {
                        let Ok(line) = line else { break };
                        if let Some(n) = number(&line) {
                            got.lock().unwrap_or_else(|p| p.into_inner()).push(n);
                        }
                    }
                });
            }
        });
        Receiver { lines }
    }

    fn got(&self) -> Vec<u64> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn config(src: u16, dst: u16, reliable: bool) -> String {
    format!(
        "options {{ time-reopen(1); }};\n\
         source s {{ network(ip(127.0.0.1) port({src}) log-iw-size(1000)); }};\n\
         destination d {{ network(\"127.0.0.1\" port({dst}) template(\"$MSG\\n\")\n\
             disk-buffer(disk-buf-size(200000000) reliable({})) ); }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n",
        if reliable { "yes" } else { "no" }
    )
}

fn send_range(port: u16, range: std::ops::Range<u64>) {
    let mut s = connect(port);
    let mut buf = Vec::new();
    for n in range {
        buf.extend_from_slice(format!("<13>Dec  2 10:00:00 h prog: n {n}\n").as_bytes());
        if buf.len() > 64 * 1024 {
            s.write_all(&buf).expect("send");
            buf.clear();
        }
    }
    s.write_all(&buf).expect("send");
}

fn started(config: &str) -> Daemon {
    let mut d = Daemon::start(config, None);
    d.wait_ready();
    d
}

/// Waits until the destination's queue took `n` messages: `processed` counts a message once
/// the queue took it — with a reliable buffer, once its record is on disk.
fn wait_taken(d: &Daemon, n: u64) {
    assert!(
        wait_for(WAIT, || stat(&d.control, "destination;d;processed")
            == Some(n)),
        "processed {:?} of {n}\n{}",
        stat(&d.control, "destination;d;processed"),
        d.stderr()
    );
}

/// Stops the daemon with SIGTERM; it must exit 0.
fn stop(d: &mut Daemon) {
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
}

/// Waits until `r` has at least `n` messages.
fn wait_got(r: &Receiver, n: u64, d: &Daemon) {
    assert!(
        wait_for(WAIT, || r.got().len() as u64 >= n),
        "{} of {n}\n{}",
        r.got().len(),
        d.stderr()
    );
}

/// The buffer's segment file, next to the persist file.
fn segment_file(d: &Daemon) -> PathBuf {
    std::fs::read_dir(d.dir.path())
        .expect("dir")
        .filter_map(|e| Some(e.ok()?.path()))
        .find(|p| p.extension().is_some_and(|x| x == "sqd"))
        .expect("a segment file next to the persist file")
}

/// The number of an `n N` line.
fn number(line: &str) -> Option<u64> {
    line.strip_prefix("n ")?.parse().ok()
}

/// The numbers of the `n N` lines of a file (none while it does not exist).
fn numbers_in(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(number)
        .collect()
}

#[test]
fn a_destination_that_is_down_gets_every_message_in_order_once_up() {
    const N: u64 = 100_000;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, true));
    send_range(src, 0..N);
    // Flow control does not stop the sender: the buffer takes everything.
    assert!(
        wait_for(WAIT, || stat(&d.control, "source;s;received") == Some(N)),
        "received {:?}\n{}",
        stat(&d.control, "source;s;received"),
        d.stderr()
    );
    let r = Receiver::start(dst);
    wait_got(&r, N, &d);
    let got = r.got();
    assert_eq!(got, (0..N).collect::<Vec<_>>(), "in order, each once");
    stop(&mut d);
}

/// Counts of each number received.
fn counts(v: &[u64]) -> BTreeMap<u64, u32> {
    let mut m = BTreeMap::new();
    for n in v {
        *m.entry(*n).or_insert(0) += 1;
    }
    m
}

#[test]
fn a_reliable_buffer_keeps_what_it_took_across_sigkill() {
    const N: u64 = 50_000;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, true));
    send_range(src, 0..N);
    wait_taken(&d, N);
    d.signal(libc::SIGKILL);
    let _ = d.child.wait();
    let r = Receiver::start(dst);
    d.restart();
    assert!(
        wait_for(WAIT, || counts(&r.got()).len() as u64 == N),
        "{} of {N}\n{}",
        counts(&r.got()).len(),
        d.stderr()
    );
    assert!(
        r.got().windows(2).all(|w| w[0] < w[1]),
        "in order, each once"
    );
    stop(&mut d);
}

#[test]
fn a_clean_stop_keeps_the_undelivered_rest_for_the_next_start() {
    const N: u64 = 20_000;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, false));
    send_range(src, 0..N);
    wait_taken(&d, N);
    stop(&mut d);
    assert!(
        d.stderr()
            .contains("stay in the disk-buffer for the next start"),
        "{}",
        d.stderr()
    );
    let r = Receiver::start(dst);
    d.restart();
    wait_got(&r, N, &d);
    assert_eq!(r.got(), (0..N).collect::<Vec<_>>());
    stop(&mut d);
}

/// A reload that keeps a buffered destination keeps its messages; one that changes its
/// options hands the same buffer to the new driver; one that renames it (`persist-name()`)
/// or removes it leaves them in its files (and says so), and the next start that has it
/// again delivers them.
#[test]
fn reloads_keep_hand_over_and_leave_a_buffer_on_disk() {
    const N: u64 = 10_000;
    let (src, dst) = (free_port(), free_port());
    let cfg = config(src, dst, true);
    let mut d = started(&cfg);
    send_range(src, 0..N);
    wait_taken(&d, N);
    let reload = |d: &Daemon, text: &str| {
        std::fs::write(&d.config, text).expect("config");
        let r = common::ctl(&d.control, "reload");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    };
    reload(&d, &cfg);
    reload(
        &d,
        &cfg.replace(
            "options { time-reopen(1); };",
            "options { time-reopen(2); };",
        ),
    );
    // Renamed: the destination gets a buffer of its own; the old one stays in its files.
    let renamed = cfg.replace(
        &format!("port({dst}) template"),
        &format!("port({dst}) persist-name(\"renamed\") template"),
    );
    assert_ne!(renamed, cfg);
    reload(&d, &renamed);
    assert!(
        wait_for(WAIT, || d.stderr().contains(
            "keeps its undelivered messages in its disk-buffer files"
        )),
        "{}",
        d.stderr()
    );
    let without = format!(
        "source s {{ network(ip(127.0.0.1) port({src})); }};\n\
         destination f {{ file(\"other.log\"); }};\n\
         log {{ source(s); destination(f); }};\n"
    );
    reload(&d, &without);
    assert!(
        wait_for(WAIT, || d.stderr().contains(
            "keeps its undelivered messages in its disk-buffer files"
        )),
        "{}",
        d.stderr()
    );
    stop(&mut d);
    std::fs::write(&d.config, &cfg).expect("config");
    let r = Receiver::start(dst);
    d.restart();
    wait_got(&r, N, &d);
    assert_eq!(r.got(), (0..N).collect::<Vec<_>>());
}

/// A damaged buffer file: the records before the damage are delivered, the rest is moved
/// aside with an error naming the file, and the daemon runs on.
#[test]
fn a_damaged_buffer_delivers_what_is_readable_and_runs_on() {
    const N: u64 = 1_000;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, true));
    send_range(src, 0..N);
    wait_taken(&d, N);
    stop(&mut d);
    let segment = segment_file(&d);
    let mut bytes = std::fs::read(&segment).expect("segment");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&segment, &bytes).expect("damage");
    let r = Receiver::start(dst);
    d.restart();
    d.wait_ready();
    assert!(
        wait_for(WAIT, || d.stderr().contains("Disk-buffer segment damaged")),
        "{}",
        d.stderr()
    );
    let got_some = wait_for(WAIT, || r.got().len() as u64 >= N / 3);
    assert!(got_some, "{} delivered\n{}", r.got().len(), d.stderr());
    let got = r.got();
    assert!((got.len() as u64) < N, "the damaged rest is not delivered");
    assert_eq!(
        got,
        (0..got.len() as u64).collect::<Vec<_>>(),
        "the readable prefix, in order"
    );
    assert!(
        d.stderr().contains(&segment.display().to_string()),
        "{}",
        d.stderr()
    );
    assert!(common::ctl(&d.control, "healthcheck").status.success());
}

/// A full buffer (`disk-buf-size()` reached, the destination down): with flow control the
/// source stops taking messages and nothing is dropped; without it the rest is dropped and
/// counted. Either way what the buffer holds is delivered once the destination is up.
#[test]
fn a_full_buffer_stops_flow_controlled_sources_and_drops_otherwise() {
    const N: u64 = 30_000;
    for flow_control in [true, false] {
        let (src, dst) = (free_port(), free_port());
        let cfg = config(src, dst, true)
            .replace("disk-buf-size(200000000)", "disk-buf-size(1048576)")
            .replace(
                " flags(flow-control);",
                if flow_control {
                    " flags(flow-control);"
                } else {
                    ""
                },
            );
        let d = started(&cfg);
        let sender = std::thread::spawn(move || send_range(src, 0..N));
        let dropped = || stat(&d.control, "destination;d;dropped").unwrap_or(0);
        let processed = || stat(&d.control, "destination;d;processed").unwrap_or(0);
        if flow_control {
            // The buffer fills (1 MiB: about 7,000 of these), then the window's messages
            // wait in memory and the source stops: it cannot have taken all N.
            assert!(wait_for(WAIT, || processed() > 5_000), "{}", d.stderr());
            let received = stat(&d.control, "source;s;received").unwrap_or(0);
            assert!(received < N / 2, "the source took {received}");
            assert_eq!(dropped(), 0);
        } else {
            assert!(wait_for(WAIT, || processed() == N), "{}", d.stderr());
            assert!(dropped() > 0, "nothing dropped");
        }
        let r = Receiver::start(dst);
        if flow_control {
            assert!(
                wait_for(WAIT, || r.got().len() as u64 >= N),
                "{} of {N}",
                r.got().len()
            );
            assert_eq!(r.got(), (0..N).collect::<Vec<_>>());
        } else {
            let kept = N - dropped();
            assert!(
                wait_for(WAIT, || r.got().len() as u64 >= kept),
                "{} of {kept}",
                r.got().len()
            );
            assert!(r.got().windows(2).all(|w| w[0] < w[1]));
        }
        let _ = sender.join();
    }
}

/// `sluice-ctl dq info|cat` read a buffer the daemon left, without the daemon.
#[test]
fn sluice_ctl_dq_reads_a_buffer_without_the_daemon() {
    const N: u64 = 100;
    let (src, dst) = (free_port(), free_port());
    let mut d = started(&config(src, dst, true));
    send_range(src, 0..N);
    wait_taken(&d, N);
    stop(&mut d);
    let segment = segment_file(&d);
    let run = |args: &[&str]| {
        std::process::Command::new(common::SLUICE_CTL)
            .args(args)
            .output()
            .expect("sluice-ctl runs")
    };
    let path = segment.to_string_lossy().to_string();
    let info = run(&["dq", "info", &path]);
    let text = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(info.status.success(), "{text}");
    assert!(text.contains(&format!("records: {N} health: ok")), "{text}");
    let cat = run(&["dq", "cat", "--template", "$MSG", &path]);
    let text = String::from_utf8_lossy(&cat.stdout).to_string();
    let want: String = (0..N).map(|n| format!("n {n}\n")).collect();
    assert_eq!(text, want);
    let bad = run(&["dq", "info", "/nonexistent/x.00000000.sqd"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent"));
}

/// A disk-buffer whose `dir()` cannot hold files stops the start: exit 2 and the reason.
#[test]
fn a_buffer_directory_that_cannot_be_used_stops_the_start() {
    let (src, dst) = (free_port(), free_port());
    let blocker = tempfile::NamedTempFile::new().expect("a file in the way");
    let dir = blocker.path().join("buffers");
    let cfg = config(src, dst, true).replace(
        "reliable(yes))",
        &format!("reliable(yes) dir(\"{}\"))", dir.display()),
    );
    let mut d = Daemon::start(&cfg, None);
    assert_eq!(d.wait_exit(WAIT), Some(2), "{}", d.stderr());
    let err = d.stderr();
    assert!(err.contains("Error opening disk-buffer directory"), "{err}");
    assert!(err.contains(&dir.display().to_string()), "{err}");
}

/// A `file()` destination whose file cannot be opened for a while: its disk-buffer holds
/// everything (nothing is dropped past `log-fifo-size()`), and once the directory exists
/// every message is written, in order.
#[test]
fn a_file_that_cannot_be_opened_for_a_while_loses_nothing() {
    const N: u64 = 5_000;
    let src = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("later").join("out.log");
    let cfg = format!(
        "options {{ time-reopen(1); log-fifo-size(100); }};\n\
         source s {{ network(ip(127.0.0.1) port({src}) log-iw-size(1000)); }};\n\
         destination d {{ file(\"{}\" template(\"$MSG\\n\") create-dirs(no)\n\
             disk-buffer(disk-buf-size(100000000) reliable(yes))); }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n",
        target.display()
    );
    let d = started(&cfg);
    send_range(src, 0..N);
    wait_taken(&d, N);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
    let want: String = (0..N).map(|n| format!("n {n}\n")).collect();
    let ok = wait_for(WAIT, || {
        std::fs::read_to_string(&target).is_ok_and(|t| t.len() >= want.len())
    });
    let got = std::fs::read_to_string(&target).unwrap_or_default();
    assert!(ok, "{} of {N} lines\n{}", got.lines().count(), d.stderr());
    let first_difference = got.lines().zip(want.lines()).position(|(a, b)| a != b);
    assert!(
        got == want,
        "{} lines for {N}; first difference at line {first_difference:?}",
        got.lines().count()
    );
    assert_eq!(stat(&d.control, "destination;d;dropped"), Some(0));
}

/// A Python destination with a reliable disk-buffer, stuck while messages arrive, killed
/// with SIGKILL: after the restart every message arrives (the one in hand at most twice).
#[test]
fn a_python_destination_with_a_reliable_buffer_survives_sigkill() {
    const N: u64 = 2_000;
    let src = free_port();
    let cfg = format!(
        r#"@version: 4.0
python {{
{GATED_DESTINATION}
}};
source s {{ network(ip(127.0.0.1) port({src}) log-iw-size(1000)); }};
destination d {{ python(class(Gated) disk-buffer(disk-buf-size(10000000) reliable(yes))); }};
log {{ source(s); destination(d); flags(flow-control); }};
"#
    );
    let mut d = started(&cfg);
    send_range(src, 0..N);
    wait_taken(&d, N);
    d.signal(libc::SIGKILL);
    let _ = d.child.wait();
    std::fs::write(d.dir.path().join("gate"), b"").expect("gate");
    d.restart();
    let out = d.dir.path().join("out.log");
    let numbers = || numbers_in(&out);
    assert!(
        wait_for(WAIT, || counts(&numbers()).len() as u64 == N),
        "{} of {N}\n{}",
        counts(&numbers()).len(),
        d.stderr()
    );
    let repeated: u32 = counts(&numbers()).values().map(|n| n - 1).sum();
    assert!(repeated <= 1, "{repeated} repeated");
}

/// A templated `file()` with a disk-buffer, one of whose files cannot be opened: the
/// messages before the first one for that file are written, the rest wait in the buffer;
/// once the file can be opened every message is in its file, in order, once.
#[test]
fn a_templated_file_with_one_unopenable_name_loses_and_repeats_nothing() {
    const N: u64 = 2_000;
    let src = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("even")).expect("mkdir");
    let cfg = format!(
        "options {{ time-reopen(1); }};\n\
         source s {{ network(ip(127.0.0.1) port({src}) log-iw-size(1000)); }};\n\
         destination d {{ file(\"{}/${{PROGRAM}}/out.log\" template(\"$MSG\\n\") create-dirs(no)\n\
             disk-buffer(disk-buf-size(100000000) reliable(yes))); }};\n\
         log {{ source(s); destination(d); flags(flow-control); }};\n",
        dir.path().display()
    );
    let d = started(&cfg);
    let mut s = connect(src);
    let mut buf = String::new();
    for n in 0..N {
        let program = if n % 2 == 0 { "even" } else { "odd" };
        buf.push_str(&format!("<13>Dec  2 10:00:00 h {program}: n {n}\n"));
    }
    s.write_all(buf.as_bytes()).expect("send");
    drop(s);
    wait_taken(&d, N);
    std::fs::create_dir(dir.path().join("odd")).expect("mkdir");
    let read = |name: &str| numbers_in(&dir.path().join(name).join("out.log"));
    let ok = wait_for(WAIT, || {
        read("even").len() + read("odd").len() >= N as usize
    });
    assert!(
        ok,
        "{} + {} of {N}\n{}",
        read("even").len(),
        read("odd").len(),
        d.stderr()
    );
    assert_eq!(read("even"), (0..N).step_by(2).collect::<Vec<_>>());
    assert_eq!(read("odd"), (1..N).step_by(2).collect::<Vec<_>>());
}
