//! Property tests of the configuration syntax layer: no input makes it panic, and whatever
//! loads prints back to text that loads to the same tree.

use proptest::prelude::*;
use sluice::config::printer::{print, same_syntax};
use sluice::config::{LoadOptions, load_str};

/// No include path: a mutated `@include` must not wander the file system.
fn opts() -> LoadOptions {
    LoadOptions {
        include_path: Vec::new(),
    }
}

const SEEDS: &[&str] = &[
    r#"@version: 3.38
@define logdir "/var/log"
options { chain_hostnames(off); flush_lines(0); perm(0640); stats-freq(0); };
source s_src { system(); internal(); network(ip(0.0.0.0) port(514) transport("tcp")); };
destination d_auth { file("`logdir`/auth.log" template("$ISODATE $MSG\n") perm(0x1a4)); };
filter f_auth { facility(auth, authpriv) and not filter(f_dbg) or level(err..emerg); };
log { source(s_src); filter(f_auth); destination(d_auth); flags(final); };
"#,
    r#"@version: 3.38
block destination my_file(path() perm(0640) ...) {
  file("`path`" perm(`perm`) `__VARARGS__`);
};
block filter my_f(prog("sshd")) {
  program(`prog`) and level(info..emerg)
};
block root my_root(name()) {
  source `name` { internal(); };
};
my_root(name(s_in))
destination d { my_file(path("/tmp/x") create-dirs(yes)); my-file(path('/tmp/y')); };
log { source(s_in); filter { my_f(); }; destination(d); };
"#,
    r#"@version: 3.38
python {
import re
# don't { worry
@staticmethod
def f(x):
    return {"a": '}', 'b': """it's { " """}
};
destination d_py { python(class(mod.Dest) options(key => value, "k2" => "v2") options("a" "b")); };
log {
  source { internal(); };
  junction { channel { filter { level(err) }; destination(d_py); }; channel { flags(final); }; };
  if (program("x") or message('y')) { destination(d_py); } elif (level(debug)) { } else { flags(final); };
  log { destination(d_py); };
};
"#,
    "@version: 3.38\ntemplate t \"quote=\\\" bs=\\\\ nl=\\n tab=\\t hex=\\x41 o=\\o101 q=\\q\";\ntemplate t2 'raw \\n ``';\ntemplate t3 \"multi\nline\";\n;;\n",
];

fn fuzz_cases() -> u32 {
    std::env::var("SLUICE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

/// An edit applied to a valid configuration.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    Swap { a: usize, b: usize },
    Insert { at: usize, c: char },
}

fn edit() -> impl Strategy<Value = Edit> {
    let special = prop::sample::select(vec![
        '{', '}', '(', ')', ';', '"', '\'', '`', '\\', '#', '@', '\n', '.', '=', '>', ',', ' ',
        'x', '0', 'é',
    ]);
    prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Swap { a, b }),
        (any::<usize>(), special).prop_map(|(at, c)| Edit::Insert { at, c }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1);
    match *edit {
        Edit::Delete { at, len } => {
            let at = at % n;
            let end = (at + len).min(chars.len());
            chars.drain(at.min(chars.len())..end);
        }
        Edit::Duplicate { at, len } => {
            let at = at % n;
            let end = (at + len).min(chars.len());
            let piece: Vec<char> = chars.get(at..end).unwrap_or(&[]).to_vec();
            let pos = end.min(chars.len());
            chars.splice(pos..pos, piece);
        }
        Edit::Swap { a, b } => {
            if !chars.is_empty() {
                let len = chars.len();
                chars.swap(a % len, b % len);
            }
        }
        Edit::Insert { at, c } => chars.insert(at % (chars.len() + 1), c),
    }
    chars.into_iter().collect()
}

/// Loads `text`; if it loads, checks the print/load round trip.
fn check(text: &str) -> Result<(), TestCaseError> {
    if let Ok(loaded) = load_str("fuzz.conf", text, &opts()) {
        let printed = print(&loaded.ast);
        match load_str("printed.conf", &printed, &opts()) {
            Ok(again) => prop_assert!(
                same_syntax(&loaded.ast, &again.ast),
                "round trip differs for {text:?}\nprinted:\n{printed}"
            ),
            Err(f) => prop_assert!(
                false,
                "printed text of {text:?} does not load:\n{printed}\n{}",
                f.render()
            ),
        }
    } else if let Err(f) = load_str("fuzz.conf", text, &opts()) {
        // Rendering must not panic either.
        let _ = f.render();
    }
    Ok(())
}

#[test]
fn seeds_load_and_round_trip() {
    for seed in SEEDS {
        let loaded =
            load_str("seed.conf", seed, &opts()).unwrap_or_else(|f| panic!("{}", f.render()));
        assert!(!loaded.ast.stmts.is_empty());
        check(seed).unwrap();
    }
}

proptest! {
    // 400 cases keep the file to about a second; SLUICE_FUZZ_CASES=100000 digs deeper.
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "[ -~\\n\\té`{}();@#\"'\\\\]{0,120}") {
        check(&text)?;
    }

    #[test]
    fn arbitrary_unicode_never_panics(text in "\\PC{0,80}|.{0,40}") {
        check(&text)?;
    }

    #[test]
    fn random_lines_of_config_tokens_never_panic(
        parts in prop::collection::vec(prop::sample::select(vec![
            "source", "s", "{", "}", "(", ")", ";", "file(\"x\")", "\"str", "'q'", "`", "`x`",
            "@define x \"y\"\n", "@version: 3.38\n", "\n@", "block", "root", "filter", "b()", "python",
            "...", "=>", "..", "if", "elif", "else", "log", "0x", "0644", "-1.5", "#c\n", "\\\n", "\n",
        ]), 0..40)
    ) {
        check(&parts.join(" "))?;
    }

    #[test]
    fn mutated_configs_never_panic(seed in 0..SEEDS.len(), edits in prop::collection::vec(edit(), 1..4)) {
        let mut text = SEEDS[seed].to_string();
        for e in &edits {
            text = apply(&text, e);
        }
        check(&text)?;
    }
}
