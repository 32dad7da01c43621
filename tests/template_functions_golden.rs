//! Template functions against syslog-ng 3.38: the SCL's `$(format-gelf)`, `$(format-ewmm)`
//! and `$(format-cim)`, `template-function` definitions and `$(graphite-output)`. The real
//! sluice runs the configuration tests/golden/template_functions/record.py gave syslog-ng
//! (the same text, built here from defs.conf, values.txt and cases.txt) with no SCL on its
//! include path — the SCL's functions are built in — input.txt is sent over TCP, and every
//! case's file is compared byte for byte with syslog-ng's (expected/, made by record.sh),
//! after the same replacement of the received second and the host name.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Daemon, free_port, send, wait_for};

const WAIT: Duration = Duration::from_secs(20);

fn dir() -> PathBuf {
    common::repo().join("tests/golden/template_functions")
}

fn rows(name: &str, cols: usize) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir().join(name))
        .expect("golden table")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| l.splitn(cols, '|').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// The configuration record.py wrote, for the work directory `work`.
fn config(work: &Path, port: u16) -> String {
    let defs: String = std::fs::read_to_string(dir().join("defs.conf"))
        .expect("defs.conf")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let sets: Vec<String> = rows("values.txt", 1)
        .iter()
        .map(|r| {
            let (n, v) = r[0].split_once('=').expect("NAME=VALUE");
            format!("set(\"{v}\" value(\"{n}\"));")
        })
        .collect();
    let mut cases = rows("cases.txt", 3);
    cases.push(vec![
        "_meta".into(),
        String::new(),
        r"$R_UNIXTIME $R_ISODATE $LOGHOST\n".into(),
    ]);
    let mut dests = Vec::new();
    let mut logs = Vec::new();
    for c in &cases {
        dests.push(format!(
            "destination d_{} {{ file(\"{}/{}.out\" {} template(\"{}\")); }};",
            c[0],
            work.display(),
            c[0],
            c[1],
            c[2]
        ));
        logs.push(format!("destination(d_{});", c[0]));
    }
    [
        "@version: 3.38".to_string(),
        "@include \"scl.conf\"".into(),
        "options { stats-freq(0); use-dns(no); keep-hostname(yes); };".into(),
        defs,
        format!(
            "source s_in {{ network(ip(127.0.0.1) port({port}) transport(tcp) \
             flags(syslog-protocol) tags(\"t1\", \"t2\")); }};"
        ),
        format!("rewrite r_values {{ {} }};", sets.join(" ")),
        dests.join("\n"),
        format!(
            "log {{ source(s_in); rewrite(r_values); {} }};",
            logs.join(" ")
        ),
        String::new(),
    ]
    .join("\n")
}

/// What record.py does to the output: the run's received seconds, received stamp and host
/// name replaced.
fn normalize(data: &[u8], meta: &str) -> Vec<u8> {
    let mut s = String::from_utf8_lossy(data).into_owned();
    for line in meta.lines() {
        let mut f = line.splitn(3, ' ');
        let (Some(stamp), Some(iso), Some(host)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        s = s.replace(stamp, "@R_UNIXTIME@");
        s = s.replace(iso, "@R_ISODATE@");
        s = s.replace(&format!(" {host} @syslog-ng "), " @LOGHOST@ @syslog-ng ");
    }
    s.into_bytes()
}

#[test]
fn template_functions_write_what_syslog_ng_writes() {
    let port = free_port();
    let none = common::repo().join("tests/corpus/no-include-path");
    let args = ["--include-path".to_string(), none.display().to_string()];
    let mut d = Daemon::start_in(|work| config(work, port), &args, None);
    d.wait_ready();
    let input = std::fs::read(dir().join("input.txt")).expect("input");
    let n = input.iter().filter(|&&c| c == b'\n').count();
    send(port, &input);
    let work = d.dir.path().to_path_buf();
    let cases = rows("cases.txt", 3);
    let read = |name: &str| std::fs::read(work.join(format!("{name}.out"))).unwrap_or_default();
    let expected = |name: &str| {
        std::fs::read(dir().join("expected").join(format!("{name}.out"))).expect("recording")
    };
    let all_there = || {
        let meta = String::from_utf8_lossy(&read("_meta")).into_owned();
        meta.lines().count() >= n
            && cases
                .iter()
                .all(|c| normalize(&read(&c[0]), &meta) == expected(&c[0]))
    };
    let done = wait_for(WAIT, all_there);
    let meta = String::from_utf8_lossy(&read("_meta")).into_owned();
    for c in &cases {
        let got = normalize(&read(&c[0]), &meta);
        let want = expected(&c[0]);
        assert!(
            got == want,
            "{}: sluice wrote\n{}\nsyslog-ng 3.38 wrote\n{}",
            c[0],
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
    }
    assert!(done, "{}", d.stderr());
}

/// `sluice -s` compiles the definitions and reports what syslog-ng 3.38 reports, at the
/// same place (syslog-ng: `Error compiling template, error=... in c.conf:2:22-2:34`).
#[test]
fn bad_definitions_and_calls_are_configuration_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let check = |body: &str| {
        let cfg = dir.path().join("c.conf");
        std::fs::write(&cfg, format!("@version: 3.38\n{body}")).expect("config");
        let out = common::syntax_check(&cfg);
        assert_eq!(out.status.code(), Some(1), "{body}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = check("template-function tf \"x$(nosuch)\";\nlog { };\n");
    assert!(
        err.contains(
            "Error parsing within template-function, Error compiling template: Unknown \
             template function \"nosuch\" in "
        ) && err.contains("c.conf:2:22-2:34"),
        "{err}"
    );
    let err = check(
        "template-function tf \"x\";\n\
         destination d { file(\"/dev/null\" template(\"$(tf a)\")); };\n\
         log { destination(d); };\n",
    );
    assert!(
        err.contains("User defined template function $(tf) cannot have arguments")
            && err.contains("c.conf:3:43-3:52"),
        "{err}"
    );
    let err = check("template-function tf \"x$(tf)\";\nlog { };\n");
    assert!(err.contains("Unknown template function \"tf\""), "{err}");
}
