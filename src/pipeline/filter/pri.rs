//! `facility()`, `level()`/`priority()`/`severity()`: names, numbers, lists and ranges, as
//! syslog-ng's `filter-pri.c` and `syslog-names.c` have them.
//!
//! Both compile to a bit mask tested per message, so they cost one shift and one AND.
//! syslog-ng reads names case-insensitively (`level(INFO)`, `facility(Kern)`), a range
//! `a..b` may run either way (`info..emerg` is `emerg..info`), and `facility(N)` with a
//! number matches that facility number exactly (any number, not only 0..23).

use crate::config::ast::Node;
use crate::config::de::describe_node;
use crate::config::diagnostic::Diagnostic;
use crate::message::LogMessage;

/// Facility names and codes (syslog-ng 3.38 accepts these and no others).
const FACILITIES: &[(&str, u32)] = &[
    ("kern", 0),
    ("user", 1),
    ("mail", 2),
    ("daemon", 3),
    ("auth", 4),
    ("security", 4),
    ("syslog", 5),
    ("lpr", 6),
    ("news", 7),
    ("uucp", 8),
    ("cron", 9),
    ("authpriv", 10),
    ("ftp", 11),
    ("ntp", 12),
    ("console", 14),
    ("solaris-cron", 15),
    ("local0", 16),
    ("local1", 17),
    ("local2", 18),
    ("local3", 19),
    ("local4", 20),
    ("local5", 21),
    ("local6", 22),
    ("local7", 23),
];

/// Severity names and codes.
const LEVELS: &[(&str, u32)] = &[
    ("emerg", 0),
    ("panic", 0),
    ("alert", 1),
    ("crit", 2),
    ("err", 3),
    ("error", 3),
    ("warning", 4),
    ("warn", 4),
    ("notice", 5),
    ("info", 6),
    ("debug", 7),
];

/// A facility number by name (case-insensitive).
pub fn facility_code(name: &str) -> Option<u32> {
    FACILITIES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
}

/// A severity number by name (case-insensitive).
pub fn level_code(name: &str) -> Option<u32> {
    LEVELS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
}

/// A compiled `facility()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacilityMatch {
    /// Bit `n` set: facility `n` matches.
    Mask(u32),
    /// `facility(N)`: exactly this number.
    Exact(u32),
}

impl FacilityMatch {
    pub fn eval(self, msg: &LogMessage) -> bool {
        let fac = u32::from(msg.facility());
        match self {
            FacilityMatch::Exact(n) => fac == n,
            FacilityMatch::Mask(m) => 1u32.checked_shl(fac).is_some_and(|bit| m & bit != 0),
        }
    }
}

/// A compiled `level()`: bit `n` set means severity `n` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelMatch(pub u8);

impl LevelMatch {
    pub fn eval(self, msg: &LogMessage) -> bool {
        self.0 & (1u8 << msg.severity()) != 0
    }
}

fn word(node: &Node) -> Option<&str> {
    match node {
        Node::Word(w) | Node::Str(w, _) => Some(&w.value),
        _ => None,
    }
}

/// Reads `facility(...)`'s arguments.
pub fn compile_facility(
    args: &[Node],
    call_span: crate::config::Span,
) -> Result<FacilityMatch, Diagnostic> {
    if let [Node::Number(n)] = args {
        return match n.value {
            crate::config::ast::Number::Int(i) if (0..=i64::from(u32::MAX >> 1)).contains(&i) => {
                Ok(FacilityMatch::Exact(i as u32))
            }
            _ => Err(Diagnostic::new("expected a facility number", n.span)),
        };
    }
    if args.is_empty() {
        return Err(Diagnostic::new(
            "facility() needs at least one facility name",
            call_span,
        ));
    }
    let mut mask = 0u32;
    for a in args {
        let Some(name) = word(a) else {
            return Err(Diagnostic::new(
                format!("expected a facility name, found {}", describe_node(a)),
                a.span(),
            ));
        };
        let Some(code) = facility_code(name) else {
            return Err(
                Diagnostic::new(format!("Unknown facility \"{name}\""), a.span()).with_note(
                    format!(
                        "valid facilities: {}",
                        FACILITIES
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            );
        };
        mask |= 1 << code;
    }
    Ok(FacilityMatch::Mask(mask))
}

/// Reads `level(...)`'s arguments: names and `a..b` ranges.
pub fn compile_level(
    args: &[Node],
    call_span: crate::config::Span,
) -> Result<LevelMatch, Diagnostic> {
    let lookup = |n: &Node| -> Result<u32, Diagnostic> {
        let Some(name) = word(n) else {
            return Err(Diagnostic::new(
                format!("expected a level name, found {}", describe_node(n)),
                n.span(),
            ));
        };
        level_code(name).ok_or_else(|| {
            Diagnostic::new(format!("Unknown priority level \"{name}\""), n.span())
                .with_note("valid levels: emerg, alert, crit, err, warning, notice, info, debug")
        })
    };
    if args.is_empty() {
        return Err(Diagnostic::new(
            "level() needs at least one level name",
            call_span,
        ));
    }
    let mut mask = 0u32;
    let mut i = 0;
    while i < args.len() {
        let a = lookup(&args[i])?;
        let is_range = matches!(args.get(i + 1), Some(Node::Op(o)) if o.value == "..");
        if is_range {
            let Some(b_node) = args.get(i + 2) else {
                return Err(Diagnostic::new(
                    "expected a level name after `..`",
                    args[i + 1].span(),
                ));
            };
            let b = lookup(b_node)?;
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            mask |= ((1u32 << (hi + 1)) - 1) & !((1u32 << lo) - 1);
            i += 3;
        } else {
            mask |= 1 << a;
            i += 1;
        }
    }
    Ok(LevelMatch(mask as u8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(facility_code("Kern"), Some(0));
        assert_eq!(facility_code("security"), Some(4));
        assert_eq!(facility_code("clock"), None);
        assert_eq!(level_code("INFO"), Some(6));
        assert_eq!(level_code("panic"), Some(0));
    }

    #[test]
    fn masks() {
        let mut m = LogMessage::new(Default::default());
        m.pri = 8 * 3 + 6;
        assert!(LevelMatch(0x7f).eval(&m));
        assert!(!LevelMatch(0x80).eval(&m));
        assert!(FacilityMatch::Mask(1 << 3).eval(&m));
        assert!(FacilityMatch::Exact(3).eval(&m));
        m.pri = 999;
        assert!(!FacilityMatch::Mask(u32::MAX).eval(&m));
    }
}
