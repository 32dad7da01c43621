//! The `file()` destination end to end: templated names from a tcp source, permissions,
//! overwrite-if-older(), symlink-as() — each compared with what syslog-ng 3.38 left on disk
//! for the same configuration and input (tests/golden/file_dest, recorded by its record.py)
//! — and time-reap(), rotation with and without a reload, and a file that cannot be opened.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use common::{Daemon, ctl, free_port, send, stat, wait_for};

const WAIT: Duration = Duration::from_secs(20);

fn golden() -> PathBuf {
    common::repo().join("tests/golden/file_dest")
}

/// A message whose MSG is `text`.
fn line(text: &str) -> Vec<u8> {
    format!("<13>2024-03-01T23:30:00+00:00 h p: {text}\n").into_bytes()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A daemon with its output directory (kept as long as the run).
struct Run {
    d: Daemon,
    port: u16,
    out: PathBuf,
    _base: tempfile::TempDir,
}

/// Starts sluice on `config` (`@OUT@` and `@PORT@` filled in) with TZ=UTC, as the goldens
/// were recorded, after `setup` prepared the output directory.
fn start(config: &str, setup: impl FnOnce(&Path)) -> Run {
    let port = free_port();
    let base = tempfile::tempdir().expect("tempdir");
    let out = base.path().join("out");
    std::fs::create_dir(&out).expect("mkdir out");
    setup(&out);
    let text = config
        .replace("@OUT@", &out.display().to_string())
        .replace("@PORT@", &port.to_string());
    let mut d = Daemon::start(&text, Some(&[("TZ", "UTC")]));
    d.wait_ready();
    Run {
        d,
        port,
        out,
        _base: base,
    }
}

/// A directory as record.py dumps it (see there).
fn dump(out: &Path) -> Vec<u8> {
    fn walk(dir: &Path, out: &Path, entries: &mut Vec<(String, PathBuf)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(out)
                .map(|r| r.display().to_string())
                .unwrap_or_default();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&p, out, entries);
            }
            entries.push((rel, p));
        }
    }
    let mut entries = Vec::new();
    walk(out, out, &mut entries);
    entries.sort();
    let mut text = Vec::new();
    for (rel, p) in entries {
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let mode = m.permissions().mode() & 0o7777;
        if m.file_type().is_symlink() {
            let target = std::fs::read_link(&p)
                .unwrap_or_default()
                .display()
                .to_string();
            let target = target.replace(&out.display().to_string(), "OUT");
            text.extend(format!("l {rel} -> {target}\n").bytes());
        } else if m.is_dir() {
            text.extend(format!("d {rel} {mode:o}\n").bytes());
        } else {
            let data = std::fs::read(&p).unwrap_or_default();
            text.extend(format!("f {rel} {mode:o} {}\n", data.len()).bytes());
            text.extend(&data);
            text.push(b'\n');
        }
    }
    text
}

/// Runs a golden case: the same config and input as syslog-ng got; waits until the output
/// directory is what syslog-ng left.
fn golden_case(name: &str, setup: impl FnOnce(&Path)) -> Run {
    let dir = golden();
    let config = read(&dir.join(format!("cases/{name}.conf")));
    let input = std::fs::read(dir.join(format!("cases/{name}.input"))).expect("input");
    let expected = std::fs::read(dir.join(format!("expected/{name}.txt"))).expect("expected");
    let run = start(&config, setup);
    send(run.port, &input);
    let same = wait_for(WAIT, || dump(&run.out) == expected);
    assert!(
        same,
        "{name}: sluice wrote\n{}\nsyslog-ng wrote\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&dump(&run.out)),
        String::from_utf8_lossy(&expected),
        run.d.stderr()
    );
    run
}

#[test]
fn templated_names_by_host_program_and_date_match_syslog_ng() {
    let run = golden_case("templated", |_| {});
    // `..` in a value makes a spurious path: logged as syslog-ng does, nothing created.
    let err = run.d.stderr();
    assert!(
        err.contains("Spurious path, logfile not created")
            && err.contains("/by-host/...log")
            && err.contains("/by-prog/../messages"),
        "{err}"
    );
}

#[test]
fn permissions_of_created_files_and_dirs_match_syslog_ng() {
    golden_case("perms", |out| {
        for (name, text) in [("existing.log", "old\n"), ("keep.log", "kept\n")] {
            let p = out.join(name);
            std::fs::write(&p, text).expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
    });
}

#[test]
fn owner_and_group_are_set_when_running_as_root() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let config = "@version: 3.38\noptions { use-dns(no); keep-hostname(yes); };\n\
        source s { network(ip(\"127.0.0.1\") port(@PORT@)); };\n\
        destination d { file(\"@OUT@/$HOST/f.log\" create-dirs(yes) owner(4242) group(4343)\n\
            dir-owner(4444) dir-group(4545) template(\"$MSG\\n\")); };\n\
        log { source(s); destination(d); };\n";
    let Run {
        d,
        port,
        out,
        _base,
    } = start(config, |_| {});
    send(port, b"<13>2024-03-01T23:30:00+00:00 h p: m\n");
    let f = out.join("h/f.log");
    assert!(wait_for(WAIT, || read(&f) == "m\n"), "{}", d.stderr());
    if root {
        let m = std::fs::metadata(&f).expect("stat");
        assert_eq!((m.uid(), m.gid()), (4242, 4343));
        let m = std::fs::metadata(out.join("h")).expect("stat");
        assert_eq!((m.uid(), m.gid()), (4444, 4545));
    }
    // As a user the owner cannot change: written all the same, as syslog-ng does.
}

#[test]
fn overwrite_if_older_matches_syslog_ng() {
    golden_case("overwrite", |out| {
        let old = out.join("old.log");
        std::fs::write(&old, "stale\n").expect("write");
        let f = std::fs::File::options()
            .write(true)
            .open(&old)
            .expect("open");
        f.set_modified(SystemTime::now() - Duration::from_secs(7200))
            .expect("mtime");
        std::fs::write(out.join("recent.log"), "kept\n").expect("write");
    });
}

#[test]
fn symlink_as_matches_syslog_ng() {
    golden_case("symlink", |_| {});
}

/// Files under `dir` the process has open.
fn open_files(pid: u32, dir: &Path) -> usize {
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.starts_with(&real)))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn time_reap_closes_idle_files_of_templated_names_only() {
    let config = "@version: 3.38\noptions { use-dns(no); keep-hostname(yes); time-reap(1); };\n\
        source s { network(ip(\"127.0.0.1\") port(@PORT@)); };\n\
        destination d { file(\"@OUT@/t/$HOST.log\" create-dirs(yes)); };\n\
        destination f { file(\"@OUT@/fixed.log\"); };\n\
        log { source(s); destination(d); destination(f); };\n";
    let Run {
        d,
        port,
        out,
        _base,
    } = start(config, |_| {});
    let pid = d.child.id();
    let started = Instant::now();
    send(
        port,
        b"<13>2024-03-01T23:30:00+00:00 a p: m\n<13>2024-03-01T23:30:00+00:00 b p: m\n\
          <13>2024-03-01T23:30:00+00:00 c p: m\n",
    );
    assert!(
        wait_for(WAIT, || open_files(pid, &out.join("t")) == 3),
        "{}",
        d.stderr()
    );
    assert!(wait_for(WAIT, || open_files(pid, &out.join("t")) == 0));
    assert!(started.elapsed() >= Duration::from_secs(1));
    // The fixed name stays open.
    assert_eq!(open_files(pid, &out), 1);
    // A message reopens its file, appending.
    send(port, b"<13>2024-03-01T23:30:01+00:00 a p: again\n");
    assert!(wait_for(WAIT, || read(&out.join("t/a.log"))
        .lines()
        .count()
        == 2));
}

#[test]
fn rotation_by_rename_then_reload_writes_a_new_file() {
    let config = "@version: 3.38\noptions { use-dns(no); };\n\
        source s { network(ip(\"127.0.0.1\") port(@PORT@)); };\n\
        destination d { file(\"@OUT@/f.log\" template(\"$MSG\\n\")); };\n\
        log { source(s); destination(d); flags(flow-control); };\n";
    let Run {
        d,
        port,
        out,
        _base,
    } = start(config, |_| {});
    let f = out.join("f.log");
    send(port, &line("one"));
    assert!(wait_for(WAIT, || read(&f) == "one\n"), "{}", d.stderr());
    std::fs::rename(&f, out.join("f.log.1")).expect("rotate");
    let r = ctl(&d.control, "reload");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
    send(port, &line("two"));
    assert!(wait_for(WAIT, || read(&f) == "two\n"), "{}", d.stderr());
    assert_eq!(read(&out.join("f.log.1")), "one\n");
}

/// Sends numbered messages one at a time until `f` exists again; returns how many were sent
/// and how long that took.
fn send_until_reopened(port: u16, f: &Path, from: usize) -> (usize, Duration) {
    let started = Instant::now();
    let mut n = from;
    while !f.exists() && started.elapsed() < WAIT {
        send(port, &line(&format!("m{n}")));
        n += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    (n, started.elapsed())
}

#[test]
fn rotation_without_reload_is_noticed_within_a_second_or_so_and_deletion_at_once() {
    let config = "@version: 3.38\noptions { use-dns(no); };\n\
        source s { network(ip(\"127.0.0.1\") port(@PORT@)); };\n\
        destination d { file(\"@OUT@/f.log\" template(\"$MSG\\n\")); };\n\
        log { source(s); destination(d); flags(flow-control); };\n";
    let Run {
        d,
        port,
        out,
        _base,
    } = start(config, |_| {});
    let f = out.join("f.log");
    send(port, &line("m0"));
    assert!(wait_for(WAIT, || read(&f) == "m0\n"), "{}", d.stderr());

    // Renamed away (logrotate without copytruncate): a new f.log within about a second, and
    // every message in one of the two, in order.
    std::fs::rename(&f, out.join("f.log.1")).expect("rotate");
    let (n, took) = send_until_reopened(port, &f, 1);
    assert!(f.exists() && took < Duration::from_secs(3), "{took:?}");
    let expected: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    assert!(wait_for(WAIT, || {
        let mut all: Vec<String> = read(&out.join("f.log.1"))
            .lines()
            .map(String::from)
            .collect();
        all.extend(read(&f).lines().map(String::from));
        all == expected
    }));

    // Deleted: noticed at the next write, which goes to a new file; nothing is lost.
    std::fs::remove_file(&f).expect("delete");
    send(port, &line("after"));
    assert!(wait_for(WAIT, || read(&f) == "after\n"), "{}", d.stderr());
}

#[test]
fn a_file_that_cannot_be_opened_is_logged_retried_and_nothing_is_lost() {
    let config = "@version: 3.38\noptions { use-dns(no); time-reopen(1); };\n\
        source s { network(ip(\"127.0.0.1\") port(@PORT@)); };\n\
        source i { internal(); };\n\
        destination d { file(\"@OUT@/f.log\" template(\"$MSG\\n\")); };\n\
        destination g { file(\"@OUT@/good.log\" template(\"$MSG\\n\")); };\n\
        destination l { file(\"@OUT@/internal.log\" template(\"$MSG\\n\")); };\n\
        log { source(s); destination(d); destination(g); flags(flow-control); };\n\
        log { source(i); destination(l); };\n";
    // A directory where the file should be.
    let Run {
        d,
        port,
        out,
        _base,
    } = start(config, |out| {
        std::fs::create_dir(out.join("f.log")).expect("mkdir");
    });
    let f = out.join("f.log");
    let mut data = Vec::new();
    for i in 0..100 {
        data.extend(line(&format!("m{i}")));
    }
    send(port, &data);
    // syslog-ng 3.38's message, recorded.
    let logged = format!(
        "Error opening file for writing; filename='{}', error='Is a directory (21)'",
        f.display()
    );
    let internal = out.join("internal.log");
    assert!(
        wait_for(WAIT, || read(&internal).contains(&logged)),
        "{}\n{}",
        read(&internal),
        d.stderr()
    );
    // The other destination is not held up; the error repeats every time-reopen().
    assert!(wait_for(WAIT, || read(&out.join("good.log"))
        .lines()
        .count()
        == 100));
    assert!(wait_for(WAIT, || read(&internal).matches(&logged).count() >= 2));
    std::fs::remove_dir(&f).expect("rmdir");
    let expected: String = (0..100).map(|i| format!("m{i}\n")).collect();
    assert!(wait_for(WAIT, || read(&f) == expected), "{}", read(&f));
    assert_eq!(stat(&d.control, "destination;d;dropped"), Some(0));
    assert!(wait_for(WAIT, || stat(&d.control, "destination;d;written")
        == Some(100)));
}
