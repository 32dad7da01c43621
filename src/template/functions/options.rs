//! A small emulation of GLib's `g_option_context_parse`, which syslog-ng's template functions
//! use for their `--options`: long options with `--name value` or `--name=value`, short ones
//! with `-x value` or `-xvalue`, options anywhere among the arguments, `--` ends them, and
//! an unknown option is an error with GLib's wording.

/// One option a function accepts.
#[derive(Clone, Copy, Debug)]
pub struct OptSpec {
    /// Long name, without `--`.
    pub long: &'static str,
    /// Short letter.
    pub short: Option<char>,
    /// Whether it takes a value.
    pub value: bool,
}

/// What was found, in order: options (long name and value) and positional arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// An option, by its long name.
    Opt(&'static str, Option<String>),
    /// Anything else.
    Arg(String),
}

/// Parses `args` against `specs`.
pub fn parse(args: &[String], specs: &[OptSpec]) -> Result<Vec<Parsed>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut rest_positional = false;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if rest_positional || a.len() < 2 || !a.starts_with('-') {
            out.push(Parsed::Arg(a.clone()));
            continue;
        }
        if a == "--" {
            rest_positional = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let spec = specs
                .iter()
                .find(|s| s.long == name)
                .ok_or_else(|| format!("Unknown option {a}"))?;
            if spec.value {
                let v = match inline {
                    Some(v) => v,
                    None => {
                        let v = args
                            .get(i)
                            .ok_or_else(|| format!("Missing argument for --{name}"))?;
                        i += 1;
                        v.clone()
                    }
                };
                out.push(Parsed::Opt(spec.long, Some(v)));
            } else {
                out.push(Parsed::Opt(spec.long, None));
            }
            continue;
        }
        // Short options, possibly grouped (`-abc`), the last may take the rest as value.
        let chars: Vec<char> = a[1..].chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            j += 1;
            let spec = specs
                .iter()
                .find(|s| s.short == Some(c))
                .ok_or_else(|| format!("Unknown option -{c}"))?;
            if spec.value {
                let v: String = if j < chars.len() {
                    chars[j..].iter().collect()
                } else {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("Missing argument for -{c}"))?;
                    i += 1;
                    v.clone()
                };
                out.push(Parsed::Opt(spec.long, Some(v)));
                break;
            }
            out.push(Parsed::Opt(spec.long, None));
        }
    }
    Ok(out)
}

/// Parses an integer option value as GLib's `G_OPTION_ARG_INT` does.
pub fn int_value(name: &str, v: &str) -> Result<i64, String> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| format!("Cannot parse integer value \u{201c}{v}\u{201d} for --{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[OptSpec] = &[
        OptSpec {
            long: "max-count",
            short: Some('m'),
            value: true,
        },
        OptSpec {
            long: "flag",
            short: Some('f'),
            value: false,
        },
    ];

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn forms() {
        let p = parse(
            &s(&[
                "a",
                "--max-count",
                "3",
                "-f",
                "-m4",
                "--max-count=5",
                "-",
                "--",
                "-f",
            ]),
            SPECS,
        )
        .unwrap();
        assert_eq!(
            p,
            vec![
                Parsed::Arg("a".into()),
                Parsed::Opt("max-count", Some("3".into())),
                Parsed::Opt("flag", None),
                Parsed::Opt("max-count", Some("4".into())),
                Parsed::Opt("max-count", Some("5".into())),
                Parsed::Arg("-".into()),
                Parsed::Arg("-f".into()),
            ]
        );
        assert_eq!(
            parse(&s(&["--nosuch"]), SPECS),
            Err("Unknown option --nosuch".into())
        );
        assert!(parse(&s(&["--max-count"]), SPECS).is_err());
    }
}
