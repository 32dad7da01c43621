//! The kernel's log end to end, with the real daemon: system()'s two driver calls —
//! `file("/dev/kmsg" program-override("kernel") flags(kernel) format(linux-kmsg)
//! keep-timestamp(no))` and `file("/proc/kmsg" program-override("kernel") flags(kernel)
//! keep-timestamp(no))` — read records this test writes into /dev/kmsg, and what reaches the
//! file destinations is what syslog-ng 3.38 wrote for the same records
//! (tests/golden/kmsg/expected/devkmsg.txt, prockmsg.txt, made by record.sh), once what
//! varies from run to run is replaced by placeholders (`normalize`, the same as record.py's).
//!
//! How /proc/kmsg's lines parse — also with the kernel time padded, which a machine up for
//! more than 10000 s no longer writes — is checked without the device, from a regular file
//! (expected/procfile.txt).
//!
//! Writing /dev/kmsg needs root: as anyone else (or where /dev/kmsg is not writable) the tests
//! print why and pass without running. Every record carries this run's marker and only lines
//! with it are compared, so whatever else the kernel logs meanwhile does not matter.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Daemon, ctl, wait_for};

const WAIT: Duration = Duration::from_secs(20);
const SYSTEM_OPTS: &str = r#"program-override("kernel") flags(kernel) keep-timestamp(no)"#;
/// record.py's RT_TEMPLATE.
const TEMPLATE: &str = "$PRI|$FACILITY|$LEVEL|$PROGRAM|$PID|$HOST|$MSGHDR$MSG|$FILE_NAME|\
    $SOURCE|$MSGID|${.linux.timestamp}|$S_UNIXTIME.$S_USEC|$R_UNIXTIME.$R_USEC|\
    $S_TZOFFSET|$R_TZOFFSET\\n";
/// record.py's INJECT: written after the daemon reads, one write each.
const INJECT: &[&[u8]] = &[
    b"<5>@MARK@ plain notice\n",
    b"<4>@MARK@ esc \x01 tab\t backslash\\ byte\xff end\n",
    b"<27>@MARK@ daemon.err\n",
    b"@MARK@ no priority\n",
    b"<13>@MARK@-a first line\n@MARK@-b second line\n",
    b"<190>@MARK@ local7.info\n",
    b"<0>@MARK@ facility 0 from user space\n",
];

/// Why this machine cannot run the tests, if it cannot.
fn unsupported() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    if let Err(e) = std::fs::OpenOptions::new().write(true).open("/dev/kmsg") {
        return Some(format!("/dev/kmsg is not writable: {e}"));
    }
    None
}

fn skip_unless_supported(test: &str) -> bool {
    match unsupported() {
        Some(why) => {
            eprintln!("{test}: skipped, {why}");
            false
        }
        None => true,
    }
}

/// One write of `data` to /dev/kmsg (each open has its own rate limit, so this is never
/// limited).
fn kmsg_write(data: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/kmsg")
        .expect("open /dev/kmsg");
    f.write_all(data).expect("write /dev/kmsg");
}

fn host() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    h.trim().split('.').next().unwrap_or_default().to_string()
}

fn marker(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("kmsg-{test}-{}-{nanos}", std::process::id())
}

fn lines(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(&data)
        .lines()
        .map(str::to_string)
        .collect()
}

/// record.py's normalize_rt.
fn normalize(line: &str, marker: &str, host: &str) -> String {
    let line = line.replace(marker, "@MARK@");
    let ktime = regex::Regex::new(r"\[ *\d+\.\d{6}\]").expect("regex");
    let mut f: Vec<String> = line.split('|').map(str::to_string).collect();
    if f.len() == 15 {
        if f[5] == host {
            f[5] = "@HOST@".into();
        }
        // A kernel time padded to 5 digits (uptime under 10000 s) parses as PROGRAM `[` and
        // the rest as MESSAGE (procfile.txt shows it): made the same as an unpadded one.
        let padded = regex::Regex::new(r"^kernel: +\d+\.\d{6}\] (.*)$").expect("regex");
        if let Some(rest) = padded.captures(&f[6]).map(|c| c[1].to_string())
            && f[4].is_empty()
        {
            f[4] = "@KTIME@".into();
            f[6] = format!("kernel[@KTIME@]: {rest}");
        }
        let pid = regex::Regex::new(r"^ *\d+\.\d{6}$").expect("regex");
        f[4] = pid.replace(&f[4], "@KTIME@").into_owned();
        f[6] = ktime.replace_all(&f[6], "[@KTIME@]").into_owned();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        if digits(&f[9]) {
            f[9] = "@SEQ@".into();
        }
        if digits(&f[10]) {
            f[10] = "@TS@".into();
        }
        if f[11] == f[12] {
            f[11] = "@RECVD@".into();
            f[12] = "@RECVD@".into();
        }
        if f[13] == f[14] {
            f[13] = "@TZ@".into();
            f[14] = "@TZ@".into();
        }
        return f.join("|");
    }
    let date = regex::Regex::new(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ").expect("regex");
    let line = date.replace(&line, "@DATE@ ").into_owned();
    let line = line.replacen(&format!("@DATE@ {host} "), "@DATE@ @HOST@ ", 1);
    let padded = regex::Regex::new(r"^@DATE@ @HOST@ kernel: +\d+\.\d{6}\] ").expect("regex");
    let line = padded.replace(&line, "@DATE@ @HOST@ kernel[@KTIME@]: ");
    ktime.replace_all(&line, "[@KTIME@]").into_owned()
}

fn config(dir: &Path, path: &str, opts: &str) -> String {
    let d = dir.display();
    format!(
        "@version: 3.38\n\
         options {{ stats-freq(0); }};\n\
         source s_kmsg {{ file(\"{path}\" {opts}); }};\n\
         destination d {{ file(\"{d}/out\" template(\"{TEMPLATE}\")); file(\"{d}/plain\"); }};\n\
         log {{ source(s_kmsg); destination(d); }};\n"
    )
}

/// Writes probes until one comes through: the device is open and read from then on.
fn wait_reading(d: &Daemon, marker: &str) {
    let out = d.dir.path().join("out");
    let probe = format!("{marker} probe");
    let deadline = Instant::now() + WAIT;
    let mut n = 0;
    while Instant::now() < deadline {
        n += 1;
        kmsg_write(format!("<5>{probe} {n}\n").as_bytes());
        if wait_for(Duration::from_millis(500), || {
            lines(&out).iter().any(|l| l.contains(&probe))
        }) {
            return;
        }
    }
    panic!("no probe arrived:\n{}", d.stderr());
}

/// Injects the records (and a sentinel), waits for the sentinel in both files, and returns
/// the marked lines of both, normalised.
fn inject_and_collect(d: &mut Daemon, marker: &str) -> Vec<String> {
    for rec in INJECT {
        kmsg_write(&replace_marker(rec, marker));
    }
    kmsg_write(format!("<5>{marker} sentinel\n").as_bytes());
    let (out, plain) = (d.dir.path().join("out"), d.dir.path().join("plain"));
    let sentinel = format!("{marker} sentinel");
    let ok = wait_for(WAIT, || {
        [&out, &plain]
            .iter()
            .all(|p| lines(p).iter().any(|l| l.contains(&sentinel)))
    });
    assert!(ok, "the sentinel did not arrive:\n{}", d.stderr());
    assert!(ctl(&d.control, "stop").status.success(), "stop");
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    let probe = format!("{marker} probe");
    let host = host();
    [out, plain]
        .iter()
        .flat_map(|p| lines(p))
        .filter(|l| l.contains(marker) && !l.contains(&probe))
        .map(|l| normalize(&l, marker, &host))
        .collect()
}

/// `@MARK@` in a record replaced by the run's marker (the records are bytes, not all UTF-8).
fn replace_marker(rec: &[u8], marker: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = rec;
    while let Some(i) = rest.windows(6).position(|w| w == b"@MARK@") {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(marker.as_bytes());
        rest = &rest[i + 6..];
    }
    out.extend_from_slice(rest);
    out
}

fn golden(name: &str) -> Vec<String> {
    let path = common::repo().join(format!("tests/golden/kmsg/expected/{name}.txt"));
    let data = std::fs::read(&path).expect("golden file");
    String::from_utf8_lossy(&data)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The MSGIDs of the template lines (raw, before normalising) go up by one per record.
fn sequence_numbers(d: &Daemon, marker: &str) -> Vec<u64> {
    lines(&d.dir.path().join("out"))
        .iter()
        .filter(|l| l.contains(marker) && !l.contains("probe"))
        .filter_map(|l| l.split('|').nth(9).and_then(|s| s.parse().ok()))
        .collect()
}

#[test]
fn dev_kmsg_reads_new_records_as_syslog_ng_does() {
    if !skip_unless_supported("dev_kmsg_reads_new_records_as_syslog_ng_does") {
        return;
    }
    let marker = marker("dev");
    // Logged before the daemon starts: /dev/kmsg is read from its end, so this never arrives.
    kmsg_write(format!("<5>{marker} before start\n").as_bytes());
    let opts = format!("{SYSTEM_OPTS} format(linux-kmsg)");
    let mut d = Daemon::start_in(|dir| config(dir, "/dev/kmsg", &opts), &[], None);
    d.wait_ready();
    wait_reading(&d, &marker);
    let got = inject_and_collect(&mut d, &marker);
    assert_eq!(got, golden("devkmsg"), "{}", d.stderr());
    let seq = sequence_numbers(&d, &marker);
    assert_eq!(seq.len(), INJECT.len() + 1, "{seq:?}");
    assert!(seq.windows(2).all(|w| w[0] < w[1]), "{seq:?}");
}

/// The tests reading /proc/kmsg run one at a time: two readers share its lines.
static PROC_KMSG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether nobody else reads /proc/kmsg (printing why not).
fn no_other_proc_kmsg_reader(test: &str) -> bool {
    match other_proc_kmsg_reader() {
        Some(pid) => {
            eprintln!("{test}: skipped, process {pid} reads /proc/kmsg");
            false
        }
        None => true,
    }
}

/// Another process reading /proc/kmsg would take some of the lines.
fn other_proc_kmsg_reader() -> Option<String> {
    let me = std::process::id().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if pid == me || !pid.bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|t| t == Path::new("/proc/kmsg")) {
                return Some(pid);
            }
        }
    }
    None
}

#[test]
fn proc_kmsg_reads_lines_as_syslog_ng_does() {
    let _one = PROC_KMSG.lock().unwrap_or_else(|p| p.into_inner());
    if !skip_unless_supported("proc_kmsg_reads_lines_as_syslog_ng_does")
        || !no_other_proc_kmsg_reader("proc_kmsg_reads_lines_as_syslog_ng_does")
    {
        return;
    }
    let time = std::fs::read_to_string("/sys/module/printk/parameters/time").unwrap_or_default();
    if time.trim() != "Y" {
        eprintln!(
            "proc_kmsg_reads_lines_as_syslog_ng_does: skipped, printk.time is not Y (the \
             golden lines carry the kernel's time)"
        );
        return;
    }
    let marker = marker("proc");
    // /proc/kmsg gives what nobody read yet: this arrives.
    kmsg_write(format!("<5>{marker} before start\n").as_bytes());
    let mut d = Daemon::start_in(|dir| config(dir, "/proc/kmsg", SYSTEM_OPTS), &[], None);
    d.wait_ready();
    wait_reading(&d, &marker);
    let got = inject_and_collect(&mut d, &marker);
    assert_eq!(got, golden("prockmsg"), "{}", d.stderr());
}

/// A reload that changes the source takes the running graph's descriptor: reading goes on,
/// and nothing read before is read again.
fn goes_on_across_a_reload(path: &str, opts: &str) {
    let marker = marker("reload");
    let mut d = Daemon::start_in(|dir| config(dir, path, opts), &[], None);
    d.wait_ready();
    wait_reading(&d, &marker);
    kmsg_write(format!("<5>{marker} one\n").as_bytes());
    let out = d.dir.path().join("out");
    let count = |what: &str| {
        let w = format!("{marker} {what}");
        lines(&out).iter().filter(|l| l.contains(&w)).count()
    };
    assert!(wait_for(WAIT, || count("one") == 1), "{}", d.stderr());
    // A changed plan (another program-override): the source is replaced, not kept.
    let changed = config(d.dir.path(), path, &opts.replace("\"kernel\"", "\"kern2\""));
    std::fs::write(&d.config, changed).expect("new config");
    let reload = ctl(&d.control, "reload");
    assert!(reload.status.success(), "{reload:?}\n{}", d.stderr());
    kmsg_write(format!("<5>{marker} two\n").as_bytes());
    assert!(wait_for(WAIT, || count("two") == 1), "{}", d.stderr());
    assert!(ctl(&d.control, "stop").status.success(), "stop");
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    assert_eq!(count("one"), 1, "read once:\n{}", lines(&out).join("\n"));
    let two: Vec<String> = lines(&out)
        .into_iter()
        .filter(|l| l.contains(&format!("{marker} two")))
        .collect();
    assert!(two[0].starts_with("13|user|notice|kern2|"), "{two:?}");
}

#[test]
fn dev_kmsg_goes_on_across_a_reload() {
    if !skip_unless_supported("dev_kmsg_goes_on_across_a_reload") {
        return;
    }
    goes_on_across_a_reload("/dev/kmsg", &format!("{SYSTEM_OPTS} format(linux-kmsg)"));
}

#[test]
fn proc_kmsg_goes_on_across_a_reload() {
    let _one = PROC_KMSG.lock().unwrap_or_else(|p| p.into_inner());
    if !skip_unless_supported("proc_kmsg_goes_on_across_a_reload")
        || !no_other_proc_kmsg_reader("proc_kmsg_goes_on_across_a_reload")
    {
        return;
    }
    goes_on_across_a_reload("/proc/kmsg", SYSTEM_OPTS);
}

/// The escapes of proc_lines.txt (as in records.txt): `\n \t \r \0 \\`.
fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut it = s.bytes();
    while let Some(c) = it.next() {
        if c != b'\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'r') => out.push(b'\r'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(o) => out.extend_from_slice(&[b'\\', o]),
            None => out.push(b'\\'),
        }
    }
    out
}

/// /proc/kmsg's lines, from a regular file with system()'s options, as syslog-ng 3.38 parses
/// them (no device, no root needed).
#[test]
fn proc_kmsg_lines_parse_as_syslog_ng_parses_them() {
    let src = common::repo().join("tests/golden/kmsg/proc_lines.txt");
    let text = std::fs::read_to_string(src).expect("proc_lines.txt");
    let mut input = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (_, l) = line.split_once('|').expect("NAME|LINE");
        input.extend_from_slice(&unescape(l));
        input.push(b'\n');
    }
    input.extend_from_slice(b"<5>[    1.000000] SENTINEL\n");
    let mut d = Daemon::start_in(
        |dir| {
            let file = format!("{}/in.log", dir.display());
            config(dir, &file, &format!("follow-freq(0.05) {SYSTEM_OPTS}"))
        },
        &[],
        None,
    );
    let path = d.dir.path().join("in.log");
    std::fs::write(&path, &input).expect("input");
    d.wait_ready();
    let (out, plain) = (d.dir.path().join("out"), d.dir.path().join("plain"));
    let ok = wait_for(WAIT, || {
        [&out, &plain]
            .iter()
            .all(|p| lines(p).iter().any(|l| l.contains("SENTINEL")))
    });
    assert!(ok, "the sentinel did not arrive:\n{}", d.stderr());
    assert!(ctl(&d.control, "stop").status.success(), "stop");
    assert_eq!(d.wait_exit(WAIT), Some(0), "{}", d.stderr());
    let host = host();
    let file = path.display().to_string();
    let date = regex::Regex::new(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ").expect("regex");
    let got: Vec<String> = [out, plain]
        .iter()
        .flat_map(|p| lines(p))
        .filter(|l| !l.contains("SENTINEL"))
        .map(|l| {
            let t = date
                .replace(&l.replace(&file, "@FILE@"), "@DATE@ ")
                .into_owned();
            let mut f: Vec<String> = t.split('|').map(str::to_string).collect();
            if f.len() == 15 {
                if f[5] == host {
                    f[5] = "@HOST@".into();
                }
                if f[11] == f[12] {
                    f[11] = "@RECVD@".into();
                    f[12] = "@RECVD@".into();
                }
                if f[13] == f[14] {
                    f[13] = "@TZ@".into();
                    f[14] = "@TZ@".into();
                }
                return f.join("|");
            }
            t.replacen(&format!("@DATE@ {host} "), "@DATE@ @HOST@ ", 1)
        })
        .collect();
    assert_eq!(got, golden("procfile"), "{}", d.stderr());
}

/// On a machine up for less than 10000 s the kernel time is padded and parses differently
/// (procfile.txt): the placeholders make both forms the golden's.
#[test]
fn padded_kernel_times_normalise_like_unpadded_ones() {
    let t = |pid: &str, msg: &str| {
        format!("13|user|notice|kernel|{pid}|h|{msg}|/proc/kmsg|s|||1.0|1.0|+01:00|+01:00")
    };
    let padded = normalize(&t("", "kernel:    5.123456] M x"), "M", "h");
    let unpadded = normalize(&t("12345.654321", "kernel[12345.654321]: M x"), "M", "h");
    assert_eq!(padded, unpadded);
    assert_eq!(
        normalize("Dec  4 04:25:59 h kernel:  123.000001] M x", "M", "h"),
        normalize("Dec  4 04:25:59 h kernel[12345.654321]: M x", "M", "h")
    );
}
