//! The daemon's life cycle as an operator sees it: start in the foreground, pid file, control
//! socket, reload (good and bad configs), stop by command and by signal, and the embedded
//! Python interpreter under a minimal systemd-style environment.

mod common;

use std::time::Duration;

use common::{Daemon, ctl};

const SIMPLE: &str = "@version: 3.38\nsource s_int { internal(); };\ndestination d_f { file(\"out.log\"); };\nlog { source(s_int); destination(d_f); };\n";

#[test]
fn starts_writes_pidfile_and_stops_on_command() {
    let mut d = Daemon::start(SIMPLE, None);
    d.wait_ready();
    let pid = std::fs::read_to_string(&d.pidfile).expect("pid file written");
    assert_eq!(pid.trim(), d.child.id().to_string());
    let out = ctl(&d.control, "stop");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        d.wait_exit(Duration::from_secs(20)),
        Some(0),
        "{}",
        d.stderr()
    );
    assert!(!d.pidfile.exists(), "pid file removed on exit");
}

#[test]
fn sigterm_and_sigint_exit_cleanly() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut d = Daemon::start(SIMPLE, None);
        d.wait_ready();
        d.signal(sig);
        assert_eq!(
            d.wait_exit(Duration::from_secs(20)),
            Some(0),
            "{}",
            d.stderr()
        );
    }
}

#[test]
fn bad_reload_keeps_the_running_config() {
    let mut d = Daemon::start(SIMPLE, None);
    d.wait_ready();
    std::fs::write(&d.config, "@version: 3.38\nsource s_int { internal() };\n").expect("write");
    let out = ctl(&d.control, "reload");
    assert!(
        !out.status.success(),
        "a broken config must not be accepted"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("sluice.conf:2:"),
        "reload reply names the location: {text}"
    );
    // Still running and answering.
    assert!(ctl(&d.control, "healthcheck").status.success());
    // SIGHUP with the broken file: logged, still running.
    d.signal(libc::SIGHUP);
    assert!(common::wait_for(Duration::from_secs(10), || d
        .stderr()
        .contains("keeping the running one")));
    assert!(ctl(&d.control, "healthcheck").status.success());
    // A fixed config reloads.
    std::fs::write(&d.config, SIMPLE).expect("write");
    let out = ctl(&d.control, "reload");
    assert!(out.status.success(), "{out:?}");
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(0));
}

#[test]
fn python_starts_under_a_minimal_environment() {
    // As under systemd: no PYTHONHOME, a PATH whose python3 (if any) is not the one the
    // binary was linked against. The interpreter must still find its own standard library.
    let config = "@version: 3.38\npython {\nimport json, os\nX = json.dumps({'a': 1})\n};\nsource s_int { internal(); };\nlog { source(s_int); destination { file(\"out.log\"); }; };\n";
    let mut d = Daemon::start(config, Some(&[("PATH", "/usr/bin:/bin")]));
    d.wait_ready();
    assert!(
        common::wait_for(Duration::from_secs(10), || d
            .stderr()
            .contains("Python interpreter started")),
        "{}",
        d.stderr()
    );
    let home = env!("SLUICE_PYTHON_HOME");
    assert!(
        d.stderr().contains(&format!("prefix={home}")),
        "interpreter prefix must be the build-time home {home}: {}",
        d.stderr()
    );
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(0));
}

#[test]
fn no_python_without_python_in_the_config() {
    let mut d = Daemon::start(SIMPLE, None);
    d.wait_ready();
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(0));
    assert!(!d.stderr().contains("Python interpreter started"));
}

#[test]
fn linked_libpython_is_the_build_interpreter() {
    let out = std::process::Command::new("ldd")
        .arg(common::SLUICE)
        .output()
        .expect("ldd runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("libpython"))
        .unwrap_or_else(|| panic!("sluice links libpython: {text}"));
    assert!(
        line.contains(env!("SLUICE_PYTHON_HOME")),
        "libpython must resolve inside the build interpreter's prefix: {line}"
    );
}

/// Without `-F` the parent waits for the daemon's start: a port already in use after the
/// fork is reported on the terminal with exit code 2 (syslog-ng's), and a good start exits
/// 0 with the daemon running in the background.
#[test]
fn a_background_start_reports_its_failure_and_its_success() {
    let dir = tempfile::tempdir().expect("tempdir");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").port();
    let cfg = dir.path().join("bg.conf");
    let body = |port: u16| {
        format!(
            "@version: 3.38\nsource s {{ network(ip(127.0.0.1) port({port})); }};\n\
             destination d {{ file(\"{}\"); }};\nlog {{ source(s); destination(d); }};\n",
            dir.path().join("out.log").display()
        )
    };
    std::fs::write(&cfg, body(port)).expect("config");
    let path = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let args = |cfg: &std::path::Path| {
        vec![
            "-f".to_string(),
            cfg.to_string_lossy().into_owned(),
            "-c".to_string(),
            path("ctl"),
            "-p".to_string(),
            path("pid"),
            "-R".to_string(),
            path("persist"),
        ]
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        common::sluice(&a)
    };
    let out = run(args(&cfg));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    // syslog-ng 3.38's two lines (recorded): the bind error, then the driver and where it is.
    assert!(
        err.contains(&format!(
            "Error binding socket; addr='AF_INET(127.0.0.1:{port})', source='s', error='Address already in use (98)'\n\
             Error initializing message pipeline; plugin_name='network', location='{}:2:12'",
            cfg.display()
        )),
        "{err}"
    );
    drop(busy);
    let free = common::free_port();
    std::fs::write(&cfg, body(free)).expect("config");
    let out = run(args(&cfg));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let control = dir.path().join("ctl");
    assert!(ctl(&control, "healthcheck").status.success());
    assert!(ctl(&control, "stop").status.success());
    assert!(common::wait_for(Duration::from_secs(20), || !dir
        .path()
        .join("pid")
        .exists()));
}

/// The control socket: owner-only whatever the umask; a client that sends nothing, a line
/// that is not UTF-8, or an overlong line gets an answer and holds nothing up.
#[test]
fn the_control_socket_is_private_and_bad_clients_are_answered() {
    use std::io::{Read, Write};
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask only changes this process's file creation mask; the daemon inherits it.
    let old = unsafe { libc::umask(0) };
    let mut d = Daemon::start(SIMPLE, None);
    // SAFETY: as above, restoring the previous mask.
    unsafe { libc::umask(old) };
    d.wait_ready();
    let mode = std::fs::metadata(&d.control)
        .expect("socket")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let ask = |bytes: &[u8]| {
        let mut s = std::os::unix::net::UnixStream::connect(&d.control).expect("connect");
        // The daemon answers after at most 4 KiB and closes: a longer write may see EPIPE.
        let _ = s.write_all(bytes);
        // One reply (the connection stays open for the next command): up to its `.` line.
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        while !out.ends_with(b"\n.\n") && matches!(s.read(&mut byte), Ok(1)) {
            out.push(byte[0]);
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    assert_eq!(ask(b"\xff\xfe\n"), "FAIL Command is not valid UTF-8\n.\n");
    assert_eq!(
        ask(b"BOGUS\n"),
        "FAIL Unknown command: BOGUS\n.\n",
        "an unknown command"
    );
    let long = vec![b'x'; 1 << 20];
    assert!(ask(&long).starts_with("FAIL"), "a 1 MB line");
    // A silent client meanwhile does not hold up the others.
    let _silent = std::os::unix::net::UnixStream::connect(&d.control).expect("connect");
    assert!(ctl(&d.control, "healthcheck").status.success());
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(
        d.wait_exit(Duration::from_secs(20)),
        Some(0),
        "{}",
        d.stderr()
    );
}
