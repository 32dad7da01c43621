//! Debian's stock /etc/syslog-ng/syslog-ng.conf, unchanged: `sluice -s` accepts it, and run as
//! root it reads /dev/log (and the kernel log) through `system()` and writes each message to
//! the files syslog-ng 3.38 writes it to, with Debian's owner, group and mode
//! (tests/golden/debian, recorded by its record.sh). The run happens in a private mount
//! namespace with fresh /var/log and /dev, so the host's logs are not touched.

mod common;

use std::path::Path;
use std::process::Command;

const CONF: &str = "/etc/syslog-ng/syslog-ng.conf";
const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/debian");

fn debian_config_installed() -> bool {
    let present = Path::new(CONF).exists() && Path::new("/etc/syslog-ng/scl.conf").exists();
    if !present {
        eprintln!(
            "skipped: Debian's {CONF} and its SCL are not installed (syslog-ng-core, syslog-ng-scl)"
        );
    }
    present
}

#[test]
fn the_syntax_check_accepts_debians_configuration() {
    if !debian_config_installed() {
        return;
    }
    // With the default include path, where Debian's SCL is.
    let out = common::sluice(&["-s", "-f", CONF]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn debians_configuration_runs_and_routes_as_syslog_ng() {
    if !debian_config_installed() {
        return;
    }
    // SAFETY: getuid has no preconditions.
    if unsafe { libc::getuid() } != 0 {
        eprintln!("skipped: needs root (it mounts a private /dev and /var/log)");
        return;
    }
    let has = |tool: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !["unshare", "logger", "mknod"].iter().all(|t| has(t)) {
        eprintln!("skipped: needs unshare, logger and mknod (util-linux, coreutils)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private"])
        .arg(Path::new(GOLDEN).join("run-in-namespace.sh"))
        .arg(dir.path())
        .arg(env!("CARGO_BIN_EXE_sluice"));
    if Path::new("/dev/kmsg").exists() {
        cmd.env("KMSG", "1");
    }
    let status = cmd.status().expect("unshare runs");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let stderr = read(&dir.path().join("stderr"));
    if !status.success() && stderr.is_empty() && read(&dir.path().join("routing.txt")).is_empty() {
        // A container without CAP_SYS_ADMIN cannot make the namespace: not sluice's failure.
        eprintln!("skipped: could not run in a private mount namespace ({status})");
        return;
    }
    let golden = Path::new(GOLDEN);
    let mut expected = read(&golden.join("routing.txt"));
    if !Path::new("/dev/kmsg").exists() {
        expected = expected
            .lines()
            .filter(|l| !l.ends_with("kernel.ring"))
            .map(|l| format!("{l}\n"))
            .collect();
    }
    assert_eq!(
        read(&dir.path().join("routing.txt")),
        expected,
        "where the messages went differs from syslog-ng's; sluice's stderr:\n{stderr}"
    );
    assert_eq!(
        read(&dir.path().join("modes.txt")),
        read(&golden.join("modes.txt")),
        "owner/group/mode differ"
    );
}
