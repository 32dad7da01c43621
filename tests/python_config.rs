//! Python parts of a configuration that stop the start, as syslog-ng 3.38 does
//! (tests/golden/python-3.38): a missing class, a failing `python {}` block (exit 1, found
//! by `-s` too), `init()` returning False or raising, conflicting persist names.

mod common;
mod python_support;

use common::{Daemon, free_port, syntax_check};
use python_support::{WAIT, config, read};

#[test]
fn a_missing_class_or_a_broken_block_stops_the_start_naming_where() {
    let port = free_port();
    let cfg = config(
        "3.38",
        port,
        "destination d { python(class(NoSuchClass)); };\nlog { source(s); destination(d); };\n",
    );
    let mut d = Daemon::start(&cfg, None);
    assert_eq!(d.wait_exit(WAIT), Some(2));
    let err = d.stderr();
    assert!(
        err.contains("Error looking up Python driver class `NoSuchClass`"),
        "{err}"
    );
    assert!(err.contains("sluice.conf:3:17"), "{err}");
    assert_eq!(syntax_check(&d.config).status.code(), Some(0));

    for (block, error) in [
        ("x = 1\ndef f(:\n    pass\n", "SyntaxError"),
        ("x = 1\ny = x / 0\n", "ZeroDivisionError: division by zero"),
    ] {
        let cfg = config("3.38", port, &format!("python {{\n{block}}};\n"));
        let mut d = Daemon::start(&cfg, None);
        assert_eq!(d.wait_exit(WAIT), Some(1));
        let err = d.stderr();
        assert!(
            err.contains(&format!("Error evaluating global Python block: {error}")),
            "{err}"
        );
        assert!(err.contains("line 5"), "{err}");
        let check = syntax_check(&d.config);
        assert_eq!(check.status.code(), Some(1));
        let err = String::from_utf8_lossy(&check.stderr);
        assert!(err.contains(error) && err.contains("line 5"), "{err}");
    }
}

#[test]
fn init_returning_false_or_raising_stops_the_start() {
    let port = free_port();
    for (body, want) in [
        ("return False", "init() returned FALSE (class `D`)"),
        (
            "raise KeyError('missing-option')",
            "init() raised an exception",
        ),
    ] {
        let cfg = config(
            "3.38",
            port,
            &format!(
                "python {{\nclass D(object):\n    def init(self, options):\n        {body}\n    \
                 def send(self, msg):\n        return True\n}};\n\
                 destination d {{ python(class(D)); }};\nlog {{ source(s); destination(d); }};\n"
            ),
        );
        let mut d = Daemon::start(&cfg, None);
        assert_eq!(d.wait_exit(WAIT), Some(2));
        let err = d.stderr();
        assert!(err.contains(want), "{err}");
        assert!(err.contains("sluice.conf:10:17"), "{err}");
        if body.starts_with("raise") {
            assert!(
                err.contains("line 6, in init") && err.contains("KeyError: 'missing-option'"),
                "{err}"
            );
        }
    }
}

#[test]
fn persist_names_come_from_the_option_or_the_class_and_must_differ() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("names.txt");
    let conf = |generate: &str, d1: &str, d2: &str| {
        config(
            "3.38",
            port,
            &format!(
                "python {{\nclass D(object):\n{generate}    def init(self, options):\n        \
                 with open(\"{}\", \"a\") as f:\n            f.write(self.persist_name + \"\\n\")\n        \
                 return True\n    def send(self, msg):\n        return True\n}};\n\
                 destination d1 {{ {d1}; }};\ndestination d2 {{ {d2}; }};\n\
                 log {{ source(s); destination(d1); destination(d2); }};\n",
                out.display()
            ),
        )
    };
    let by_port = "    @staticmethod\n    def generate_persist_name(options):\n        return options['port']\n";
    let same =
        "    @staticmethod\n    def generate_persist_name(options):\n        return 'same'\n";
    let d = |opts: &str| format!("python(class(D) {opts})");

    // Distinct names start; init() sees its own.
    for (generate, d1, d2, want) in [
        (
            by_port,
            d("options(port 1)"),
            d("options(port 2)"),
            "python.1\npython.2\n",
        ),
        (
            "",
            d("persist-name(a)"),
            d("persist-name(b)"),
            "python.a\npython.b\n",
        ),
    ] {
        let _ = std::fs::remove_file(&out);
        let mut daemon = Daemon::start(&conf(generate, &d1, &d2), None);
        daemon.wait_ready();
        let mut names: Vec<String> = read(&out).lines().map(str::to_string).collect();
        names.sort();
        assert_eq!(names.join("\n") + "\n", want);
    }

    // Alike names stop the start, at the second driver, naming the first.
    for (generate, d1, d2, name) in [
        ("", d(""), d("options(port 2)"), "python(D)"),
        (
            same,
            d("options(port 1)"),
            d("options(port 2)"),
            "python.same",
        ),
        ("", d("persist-name(a)"), d("persist-name(a)"), "python.a"),
    ] {
        let mut daemon = Daemon::start(&conf(generate, &d1, &d2), None);
        assert_eq!(daemon.wait_exit(WAIT), Some(2), "{name}");
        let err = daemon.stderr();
        assert!(
            err.contains(&format!("conflicting persist names: `{name}`")),
            "{err}"
        );
        assert!(err.contains("sluice.conf:"), "{err}");
    }
}
