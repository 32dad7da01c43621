//! The application model end to end: `application` definitions, `app-parser()` and the
//! channel shape `system()` expands to, against what syslog-ng 3.38 wrote for the same
//! datagrams (tests/golden/appmodel, re-recorded by its record.sh).

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

use common::{Daemon, wait_for};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/appmodel");

/// Runs case `name`: its config with SOCK and OUT in a temp dir, each line of its input as
/// one datagram; the output must be the recorded one.
fn run_case(name: &str) {
    let golden = Path::new(GOLDEN);
    let read = |ext: &str| {
        std::fs::read_to_string(golden.join(format!("{name}.{ext}"))).expect("golden file")
    };
    let (conf, input, expected) = (read("conf"), read("in"), read("out"));
    let mut d = Daemon::start_in(
        |dir| {
            conf.replace("SOCK", &dir.join("log.sock").display().to_string())
                .replace("OUT", &dir.join("out").display().to_string())
        },
        &[],
        None,
    );
    d.wait_ready();
    let sock = d.dir.path().join("log.sock");
    let out = d.dir.path().join("out");
    let s = UnixDatagram::unbound().expect("socket");
    for line in input.lines().filter(|l| !l.is_empty()) {
        s.send_to(line.as_bytes(), &sock).expect("send");
    }
    let text = || std::fs::read_to_string(&out).unwrap_or_default();
    assert!(
        wait_for(Duration::from_secs(20), || text().contains("end of input")),
        "{name}: the last message did not arrive; got:\n{}\nstderr:\n{}",
        text(),
        d.stderr()
    );
    assert_eq!(text(), expected, "{name}: output differs from syslog-ng's");
}

#[test]
fn applications_of_our_own_are_picked_as_syslog_ng_picks_them() {
    run_case("own-apps");
}

#[test]
fn the_scl_applications_parse_as_in_syslog_ng() {
    // Debian's layout: scl.conf in /etc/syslog-ng, the library beside the include path.
    for p in [
        "/etc/syslog-ng/scl.conf",
        "/usr/share/syslog-ng/include/scl/sudo",
    ] {
        if !Path::new(p).exists() {
            eprintln!("skipped: {p} is not installed (Debian: syslog-ng-scl)");
            return;
        }
    }
    run_case("scl-apps");
}
