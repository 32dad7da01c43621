//! Every block of the installed SCL (syslog-ng 3.38's /usr/share/syslog-ng/include/scl),
//! used once in a minimal configuration: `sluice -s` (which plans, so what the runtime
//! would refuse it refuses) must accept what syslog-ng 3.38 accepts and refuse what it
//! refuses, naming the same missing module. tests/golden/scl_walk/record.sh wrote the
//! configurations (configs/) and syslog-ng's outcomes (outcomes.tsv); known_gaps.tsv
//! lists what sluice refuses and syslog-ng does not, each with its reason, and the test
//! fails on a difference it does not list and on a listed one that no longer happens.
//!
//! The configurations include the SCL itself, so the walk needs it installed (exactly the
//! recorded one, scl.sha256); without it the tests say why they skip and pass.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

fn golden() -> PathBuf {
    common::repo().join("tests/golden/scl_walk")
}

/// One recorded case: a configuration and what `syslog-ng -s` said of it.
#[derive(Debug)]
struct Case {
    dir: String,
    kind: String,
    block: String,
    config: String,
    rc: i32,
    message: String,
}

impl Case {
    fn key(&self) -> (String, String, String) {
        (self.dir.clone(), self.kind.clone(), self.block.clone())
    }

    fn name(&self) -> String {
        format!("{}/{} {}", self.dir, self.kind, self.block)
    }

    fn path(&self) -> PathBuf {
        golden().join("configs").join(&self.config)
    }

    /// The module syslog-ng said is missing (`module='http'`), if it said so.
    fn missing_module(&self) -> Option<&str> {
        let rest = self.message.split_once("module='")?.1;
        rest.split_once('\'').map(|(m, _)| m)
    }
}

/// A difference sluice is known to have: (dir, kind, block) and the start of sluice's
/// first line (`(accepts)` when sluice accepts what syslog-ng refuses).
#[derive(Debug)]
struct Gap {
    message_start: String,
    reason: String,
}

/// The non-comment lines of a golden TSV, split at tabs.
fn tsv(name: &str) -> Vec<Vec<String>> {
    let path = golden().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn cases() -> Vec<Case> {
    tsv("outcomes.tsv")
        .into_iter()
        .map(|f| {
            assert_eq!(f.len(), 6, "outcomes.tsv line {f:?}");
            Case {
                dir: f[0].clone(),
                kind: f[1].clone(),
                block: f[2].clone(),
                config: f[3].clone(),
                rc: f[4].parse().expect("rc is a number"),
                message: f[5].clone(),
            }
        })
        .collect()
}

fn gaps() -> BTreeMap<(String, String, String), Gap> {
    tsv("known_gaps.tsv")
        .into_iter()
        .map(|f| {
            assert_eq!(f.len(), 5, "known_gaps.tsv line {f:?}");
            let gap = Gap {
                message_start: f[3].clone(),
                reason: f[4].clone(),
            };
            assert!(!gap.reason.is_empty(), "known gap {f:?} without a reason");
            ((f[0].clone(), f[1].clone(), f[2].clone()), gap)
        })
        .collect()
}

/// Why the walk cannot run here, if it cannot: the SCL absent, or not the recorded one.
fn skip_reason() -> Option<String> {
    let sums = std::fs::read_to_string(golden().join("scl.sha256")).expect("scl.sha256");
    let mut recorded = BTreeSet::new();
    for line in sums.lines() {
        let Some((sum, path)) = line.split_once("  ") else {
            panic!("scl.sha256 line {line:?}");
        };
        recorded.insert(path.to_string());
        let Ok(bytes) = std::fs::read(path) else {
            return Some(format!("{path} is not installed (syslog-ng 3.38's SCL)"));
        };
        if format!("{:x}", Sha256::digest(&bytes)) != sum {
            return Some(format!(
                "{path} is not the one the outcomes were recorded with"
            ));
        }
    }
    let scl = Path::new("/usr/share/syslog-ng/include/scl");
    for dir in std::fs::read_dir(scl).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = file.path().display().to_string();
            if !recorded.contains(&path) {
                return Some(format!("{path} is new since the outcomes were recorded"));
            }
        }
    }
    None
}

/// What `sluice -s` says of a case: its exit code and what it printed.
fn sluice_check(case: &Case) -> (i32, String) {
    let out = Command::new(common::SLUICE)
        .arg("-s")
        .arg("-f")
        .arg(case.path())
        .stdin(Stdio::null())
        .output()
        .expect("sluice runs");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    (out.status.code().unwrap_or(-1), text)
}

fn first_line(text: &str) -> &str {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

/// How sluice's outcome compares with syslog-ng's: `None` a match, else the difference as
/// sluice's first line (`(accepts)` when it accepted what syslog-ng refused). Both refusing
/// is a match unless syslog-ng named a missing module and sluice did not name it too.
fn compare(case: &Case, rc: i32, text: &str) -> Option<String> {
    let line = first_line(text);
    match (case.rc == 0, rc == 0) {
        (true, true) => None,
        (false, true) => Some("(accepts)".to_string()),
        (true, false) => Some(line.to_string()),
        (false, false) => match case.missing_module() {
            Some(m) if !text.contains(&format!("module='{m}'")) => Some(line.to_string()),
            _ => None,
        },
    }
}

#[test]
fn goldens_are_consistent() {
    let cases = cases();
    let mut keys = BTreeSet::new();
    for case in &cases {
        assert!(
            case.path().is_file(),
            "{} has no {}",
            case.name(),
            case.config
        );
        assert!(keys.insert(case.key()), "{} recorded twice", case.name());
    }
    for key in gaps().keys() {
        assert!(keys.contains(key), "known gap {key:?} is no recorded case");
    }
}

#[test]
fn every_scl_block_checks_as_in_syslog_ng() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let gaps = gaps();
    let mut used = BTreeSet::new();
    let (mut both_accept, mut both_refuse, mut known) = (0, 0, Vec::new());
    let mut failures = Vec::new();
    for case in cases() {
        let (rc, text) = sluice_check(&case);
        match (compare(&case, rc, &text), gaps.get(&case.key())) {
            (None, None) if case.rc == 0 => both_accept += 1,
            (None, None) => both_refuse += 1,
            (None, Some(_)) => failures.push(format!(
                "{}: listed in known_gaps.tsv, but sluice now {} as syslog-ng does: drop the line",
                case.name(),
                if rc == 0 { "accepts" } else { "refuses" },
            )),
            (Some(line), Some(gap)) if line.starts_with(&gap.message_start) => {
                used.insert(case.key());
                known.push(format!(
                    "  {}: {} ({})",
                    case.name(),
                    gap.message_start,
                    gap.reason
                ));
            }
            (Some(line), listed) => failures.push(format!(
                "{}: syslog-ng rc {} ({}), sluice rc {rc}: {line}{}\n{text}",
                case.name(),
                case.rc,
                case.message,
                if listed.is_some() {
                    " (listed in known_gaps.tsv with another message)"
                } else {
                    ""
                },
            )),
        }
    }
    println!(
        "scl_walk: {} match ({both_accept} both accept, {both_refuse} both refuse), {} known gaps:\n{}",
        both_accept + both_refuse,
        known.len(),
        known.join("\n")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(used.len(), gaps.len());
}

/// The kinds of case whose configuration has nothing but the SCL's part between an
/// internal() source and a file("/dev/null") destination: no network, no port, no file
/// of the machine's, so starting it is cheap and says only whether sluice runs it.
const STARTABLE: [&str; 4] = ["root", "parser", "rewrite", "template-function"];

/// `-s` plans, so it predicts a start; for the cases both accept that need nothing of the
/// machine, start `sluice -F` and stop it, to hold that prediction to account.
#[test]
fn scl_blocks_both_accept_start() {
    if let Some(why) = skip_reason() {
        eprintln!("skipped: {why}");
        return;
    }
    let gaps = gaps();
    let mut started = 0;
    let mut failures = Vec::new();
    for case in cases() {
        if case.rc != 0 || !STARTABLE.contains(&case.kind.as_str()) {
            continue;
        }
        if gaps.contains_key(&case.key()) {
            continue;
        }
        let config = std::fs::read_to_string(case.path()).expect("config");
        let mut daemon = common::Daemon::start(&config, None);
        let control = daemon.control.clone();
        let up = common::wait_for(Duration::from_secs(20), || {
            matches!(daemon.child.try_wait(), Ok(Some(_)))
                || common::ctl(&control, "healthcheck").status.success()
        });
        if !up || matches!(daemon.child.try_wait(), Ok(Some(_))) {
            failures.push(format!(
                "{} did not start:\n{}",
                case.name(),
                daemon.stderr()
            ));
            continue;
        }
        daemon.signal(libc::SIGTERM);
        match daemon.wait_exit(Duration::from_secs(20)) {
            Some(0) => started += 1,
            rc => failures.push(format!(
                "{} stopped with {rc:?}:\n{}",
                case.name(),
                daemon.stderr()
            )),
        }
    }
    println!("scl_walk: {started} cases started and stopped");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(started > 0);
}
