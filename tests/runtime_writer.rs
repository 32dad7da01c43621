//! What every destination's writer does, end to end through file(): suppress(), throttle(),
//! mark-mode()/mark-freq() (and internal()'s MARKs), truncate-size()/pad-size(), and
//! hook-commands() at start, reload and stop — each checked against what syslog-ng 3.38
//! wrote for the same configuration.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, count_lines, ctl, free_port, send, stat, wait_for};

fn config(port: u16, body: &str) -> String {
    format!(
        "@version: 3.38\noptions {{ use-dns(no); }};\n\
         source s {{ network(ip(\"127.0.0.1\") port({port})); }};\n{body}"
    )
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn lines(path: &std::path::Path) -> Vec<String> {
    read(path).lines().map(str::to_string).collect()
}

#[test]
fn suppress_folds_repetitions_into_a_summary() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "destination d { file(\"out.log\" suppress(1) template(\"$HOST $PROGRAM $PID $MSG\\n\")); };\n\
             log { source(s); destination(d); };\n",
        ),
        None,
    );
    d.wait_ready();
    // As syslog-ng 3.38: MESSAGE, HOST, PROGRAM and PID make a repetition (the priority does
    // not); a different message ends the run and writes the summary first; the summary has
    // the run's HOST and PROGRAM and the daemon's PID.
    let same = "<13>Jan  1 10:00:00 h app[1]: a very long message text that goes on";
    let other = "<14>Jan  1 10:00:00 h app[2]: a very long message text that goes on";
    send(
        port,
        format!("{same}\n{same}\n<14>{}\n{other}\n", &same[4..]).as_bytes(),
    );
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) >= 3),
        "{}",
        d.stderr()
    );
    let pid = d.child.id().to_string();
    let l = lines(&out);
    assert_eq!(
        l[0],
        "127.0.0.1 app 1 a very long message text that goes on"
    );
    let summary = format!(
        "127.0.0.1 app {pid} Last message 'a very long message ' repeated 2 times, \
         suppressed by syslog-ng on "
    );
    assert!(l[1].starts_with(&summary), "{:?}", l[1]);
    assert_eq!(
        l[2],
        "127.0.0.1 app 2 a very long message text that goes on"
    );
    // A run ended by the timer, suppress() seconds after its first repetition.
    send(port, format!("{other}\n").as_bytes());
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) >= 4),
        "{}",
        d.stderr()
    );
    assert!(
        lines(&out)[3].contains("repeated 1 times"),
        "{:?}",
        lines(&out)
    );
    assert_eq!(stat(&d.control, "destination;d;suppressed"), Some(3));
}

#[test]
fn throttle_limits_messages_per_second_without_losing_any() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "destination d { file(\"out.log\" throttle(10)); };\n\
             log { source(s); destination(d); flags(flow-control); };\n",
        ),
        None,
    );
    d.wait_ready();
    let started = Instant::now();
    let msgs: String = (0..25)
        .map(|i| format!("<13>Jan  1 10:00:00 h app: m{i}\n"))
        .collect();
    send(port, msgs.as_bytes());
    let out = d.dir.path().join("out.log");
    assert!(
        wait_for(Duration::from_secs(30), || count_lines(&out) >= 25),
        "{}",
        d.stderr()
    );
    // A second's worth (10) at once, then 10 per second: the last of 25 cannot be written
    // before 1.5 s. (A lower bound only: a slow machine makes it later, never earlier.)
    assert!(started.elapsed() >= Duration::from_millis(1400));
    let l = lines(&out);
    assert_eq!(l.len(), 25);
    assert!(l[24].ends_with("app: m24"), "{:?}", l[24]);
}

#[test]
fn writer_marks_periodical_and_dst_idle() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "destination p { file(\"periodical.log\" mark-mode(periodical) mark-freq(1)); };\n\
             destination i { file(\"idle.log\" mark-mode(dst-idle) mark-freq(1)\n\
                 template(\"[$PROGRAM] [$PID] $MSG pri=$PRI tags=$TAGS src=$SOURCE\\n\")); };\n\
             destination n { file(\"none.log\"); };\n\
             log { source(s); destination(p); destination(i); destination(n); };\n",
        ),
        None,
    );
    d.wait_ready();
    // MARKs are only written to an open destination: the first message opens them.
    send(port, b"<13>Jan  1 10:00:00 h app: first\n");
    let (p, i, n) = (
        d.dir.path().join("periodical.log"),
        d.dir.path().join("idle.log"),
        d.dir.path().join("none.log"),
    );
    assert!(
        wait_for(Duration::from_secs(20), || {
            count_lines(&p) >= 3 && count_lines(&i) >= 3
        }),
        "{}",
        d.stderr()
    );
    let l = lines(&p);
    assert!(l[1].ends_with(" -- MARK --"), "{l:?}");
    // Nov 24 10:39:36 HOST -- MARK --: a date, the local host name, no program.
    assert_eq!(
        l[1].split(' ').filter(|w| !w.is_empty()).count(),
        7,
        "{l:?}"
    );
    let l = lines(&i);
    assert_eq!(l[1], "[] [] -- MARK -- pri=46 tags= src=");
    assert_eq!(lines(&n), vec!["Jan  1 10:00:00 127.0.0.1 app: first"]);
}

#[test]
fn internal_marks_reach_only_internal_mark_mode() {
    let mut d = Daemon::start(
        "@version: 3.38\noptions { mark-freq(1); };\nsource s { internal(); };\n\
         destination i { file(\"internal.log\" mark-mode(internal)\n\
             template(\"[$PROGRAM] $MSG pri=$PRI tags=$TAGS src=$SOURCE\\n\")); };\n\
         destination n { file(\"none.log\" template(\"$MSG\\n\")); };\n\
         log { source(s); destination(i); destination(n); };\n",
        None,
    );
    d.wait_ready();
    let (i, n) = (
        d.dir.path().join("internal.log"),
        d.dir.path().join("none.log"),
    );
    assert!(
        wait_for(Duration::from_secs(20), || {
            lines(&i)
                .iter()
                .filter(|l| l.contains("-- MARK --"))
                .count()
                >= 2
        }),
        "{}",
        d.stderr()
    );
    assert!(
        lines(&i).contains(&"[] -- MARK -- pri=46 tags=.source.s src=s".to_string()),
        "{:?}",
        lines(&i)
    );
    assert!(!read(&n).contains("MARK"), "{}", read(&n));
}

#[test]
fn truncate_and_pad_size_cut_the_formatted_message() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "destination t { file(\"t.log\" truncate-size(30)); };\n\
             destination p { file(\"p.log\" pad-size(60)); };\n\
             log { source(s); destination(t); destination(p); };\n",
        ),
        None,
    );
    d.wait_ready();
    send(
        port,
        b"<13>Jan  1 10:00:00 h app[1]: short\n\
          <13>Jan  1 10:00:00 h app[1]: a longer message that goes beyond sixty characters\n",
    );
    let (t, p) = (d.dir.path().join("t.log"), d.dir.path().join("p.log"));
    assert!(
        wait_for(Duration::from_secs(20), || {
            std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0) >= 120
                && std::fs::metadata(&t).map(|m| m.len()).unwrap_or(0) >= 60
        }),
        "{}",
        d.stderr()
    );
    // syslog-ng 3.38: both cut the formatted message, newline included.
    assert_eq!(
        read(&t),
        "Jan  1 10:00:00 127.0.0.1 app[Jan  1 10:00:00 127.0.0.1 app["
    );
    let bytes = std::fs::read(&p).unwrap_or_default();
    let mut want = b"Jan  1 10:00:00 127.0.0.1 app[1]: short".to_vec();
    want.resize(60, 0);
    want.extend_from_slice(
        &b"Jan  1 10:00:00 127.0.0.1 app[1]: a longer message that goes beyond sixty characters"
            [..60],
    );
    assert_eq!(bytes, want);
}

fn hook_config(port: u16, log: &std::path::Path, dst_shutdown_extra: &str) -> String {
    let h = |who: &str, extra: &str| {
        let l = log.display();
        format!(
            "hook-commands(startup(\"echo {who}-startup >> {l}\") \
             shutdown(\"echo {who}-shutdown >> {l}{extra}\") \
             setup(\"echo {who}-setup >> {l}\") teardown(\"echo {who}-teardown >> {l}\"))"
        )
    };
    format!(
        "@version: 3.38\n\
         source s {{ network(ip(\"127.0.0.1\") port({port}) {}); }};\n\
         destination d {{ file(\"out.log\" {}); }};\n\
         log {{ source(s); destination(d); }};\n",
        h("src", ""),
        h("dst", dst_shutdown_extra)
    )
}

#[test]
fn hook_commands_run_at_startup_reload_and_shutdown_in_syslog_ngs_order() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("hooks.log");
    let mut d = Daemon::start(&hook_config(port, &log, "; exit 3"), None);
    d.wait_ready();
    std::fs::write(&log, format!("{}RELOAD\n", read(&log))).expect("mark reload");
    assert!(ctl(&d.control, "reload").status.success(), "{}", d.stderr());
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(0));
    // Recorded from syslog-ng 3.38.1 with the same configuration.
    assert_eq!(
        read(&log),
        "src-startup\nsrc-setup\ndst-startup\ndst-setup\nRELOAD\n\
         src-teardown\ndst-teardown\nsrc-setup\ndst-setup\n\
         src-teardown\nsrc-shutdown\ndst-teardown\ndst-shutdown\n"
    );
    assert!(
        d.stderr()
            .contains("Hook command returned with failure, aborting initialization; driver='d#0'"),
        "{}",
        d.stderr()
    );
}

#[test]
fn a_failing_setup_hook_refuses_the_start() {
    let port = free_port();
    let mut d = Daemon::start(
        &format!(
            "@version: 3.38\n\
             source s {{ network(ip(\"127.0.0.1\") port({port}) hook-commands(setup(\"exit 1\"))); }};\n\
             destination d {{ file(\"out.log\"); }};\nlog {{ source(s); destination(d); }};\n"
        ),
        None,
    );
    let code = d.wait_exit(Duration::from_secs(20));
    assert!(matches!(code, Some(c) if c != 0), "{code:?}");
    assert!(
        d.stderr()
            .contains("hook='setup', command='exit 1', rc='256'"),
        "{}",
        d.stderr()
    );
}

/// setup() runs before the drivers open anything (syslog-ng's order): a socket in a
/// directory only the hook creates can be listened on.
#[test]
fn a_setup_hook_runs_before_the_source_binds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("made-by-setup");
    let sock = sub.join("log.sock");
    let mut d = Daemon::start(
        &format!(
            "@version: 3.38
             source s {{ unix-stream(\"{}\" create-dirs(no)              hook-commands(setup(\"mkdir -p {}\"))); }};
             destination d {{ file(\"out.log\"); }};
log {{ source(s); destination(d); }};
",
            sock.display(),
            sub.display()
        ),
        None,
    );
    d.wait_ready();
    assert!(
        std::os::unix::net::UnixStream::connect(&sock).is_ok(),
        "{}",
        d.stderr()
    );
    assert!(ctl(&d.control, "stop").status.success());
    assert_eq!(d.wait_exit(Duration::from_secs(20)), Some(0));
}

#[test]
fn template_options_and_flags_render_as_syslog_ng_does() {
    let port = free_port();
    let mut d = Daemon::start(
        &format!(
            "@version: 3.38\noptions {{ use-dns(no); }};\n\
             source s {{ network(ip(\"127.0.0.1\") port({port}) flags(syslog-protocol)); }};\n\
             destination a {{ file(\"a.log\" ts-format(iso) frac-digits(3) time-zone(\"+02:00\")); }};\n\
             destination b {{ file(\"b.log\" template(\"'$MSG' \\\"$PROGRAM\\\"\\n\") template-escape(yes)); }};\n\
             destination c {{ file(\"c.log\" flags(no-multi-line)); }};\n\
             destination e {{ file(\"e.log\" flags(syslog-protocol)); }};\n\
             destination f {{ file(\"f.log\" template(\"$DATE $S_ISODATE\\n\") frac-digits(2)); }};\n\
             log {{ source(s); destination(a); destination(b); destination(c); destination(e);\n\
                   destination(f); }};\n"
        ),
        Some(&[("TZ", "UTC"), ("PATH", "/usr/bin:/bin")]),
    );
    d.wait_ready();
    send(
        port,
        b"<13>1 2024-03-01T10:00:00.123456+00:00 h app 7 ID - it's \"quoted\" \\ back\n\
          <13>1 2024-03-01T23:30:00+00:00 h app 7 - [x@1 a=\"b\"] first\rsecond\n",
    );
    let path = |n: &str| d.dir.path().join(n);
    assert!(
        wait_for(Duration::from_secs(20), || {
            ["a.log", "b.log", "c.log", "e.log", "f.log"]
                .iter()
                .all(|n| count_lines(&path(n)) >= 2)
        }),
        "{}",
        d.stderr()
    );
    // Recorded from syslog-ng 3.38.1 with the same configuration and input.
    assert_eq!(
        read(&path("a.log")),
        "2024-03-01T12:00:00.123+02:00 127.0.0.1 app[7]: it's \"quoted\" \\ back\n\
         2024-03-02T01:30:00.000+02:00 127.0.0.1 app[7]: first\rsecond\n"
    );
    assert_eq!(
        read(&path("b.log")),
        "'it\\'s \\\"quoted\\\" \\\\ back' \"app\"\n'first\\015second' \"app\"\n"
    );
    assert_eq!(
        read(&path("c.log")),
        "Mar  1 10:00:00 127.0.0.1 app[7]: it's \"quoted\" \\ back\n\
         Mar  1 23:30:00 127.0.0.1 app[7]: first second\n"
    );
    assert_eq!(
        read(&path("e.log")),
        "<13>1 2024-03-01T10:00:00+00:00 127.0.0.1 app 7 ID - it's \"quoted\" \\ back\n\
         <13>1 2024-03-01T23:30:00+00:00 127.0.0.1 app 7 - [x@1 a=\"b\"] first\rsecond\n"
    );
    assert_eq!(
        read(&path("f.log")),
        "Mar  1 10:00:00.12 2024-03-01T10:00:00.12+00:00\n\
         Mar  1 23:30:00.00 2024-03-01T23:30:00.00+00:00\n"
    );
}

#[test]
fn a_reload_moves_what_a_down_destination_had_queued_to_the_new_configuration() {
    let port = free_port();
    let mut d = Daemon::start(
        &config(
            port,
            "destination d { file(\"blocked/out.log\" time-reopen(1)); };\n\
             log { source(s); destination(d); flags(flow-control); };\n",
        ),
        None,
    );
    // `blocked` is a regular file: the destination cannot open blocked/out.log.
    let blocked = d.dir.path().join("blocked");
    std::fs::write(&blocked, b"").expect("blocker");
    d.wait_ready();
    send(
        port,
        b"<13>Jan  1 10:00:00 h app: one\n<13>Jan  1 10:00:00 h app: two\n",
    );
    assert!(
        wait_for(Duration::from_secs(20), || {
            stat(&d.control, "destination;d;queued") == Some(2)
        }),
        "{}",
        d.stderr()
    );
    let started = Instant::now();
    assert!(ctl(&d.control, "reload").status.success(), "{}", d.stderr());
    // The reload does not wait out the drain timeout for a destination that is down.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(stat(&d.control, "destination;d;queued"), Some(2));
    std::fs::remove_file(&blocked).expect("unblock");
    std::fs::create_dir(&blocked).expect("dir");
    let out = blocked.join("out.log");
    assert!(
        wait_for(Duration::from_secs(20), || count_lines(&out) >= 2),
        "{}",
        d.stderr()
    );
    assert_eq!(
        read(&out),
        "Jan  1 10:00:00 127.0.0.1 app: one\nJan  1 10:00:00 127.0.0.1 app: two\n"
    );
}
