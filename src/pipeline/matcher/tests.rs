//! Matcher unit tests.
use super::*;
use crate::message::UnixTime;

fn m(p: &str, kind: MatcherType, flags: &[MatcherFlag]) -> Matcher {
    Matcher::new(
        p,
        &MatcherOptions {
            kind: Some(kind),
            flags: flags.to_vec(),
        },
    )
    .unwrap()
}

#[test]
fn string_modes() {
    let s = m("ssh", MatcherType::String, &[]);
    assert!(s.is_match(b"ssh"));
    assert!(!s.is_match(b"sshd"));
    let p = m("ssh", MatcherType::String, &[MatcherFlag::Prefix]);
    assert!(p.is_match(b"sshd"));
    assert!(!p.is_match(b"xssh"));
    let sub = m(
        "SSH",
        MatcherType::String,
        &[MatcherFlag::Substring, MatcherFlag::IgnoreCase],
    );
    assert!(sub.is_match(b"an ssh daemon"));
}

#[test]
fn globs() {
    let g = m("ss?d*", MatcherType::Glob, &[]);
    assert!(g.is_match(b"sshd"));
    assert!(g.is_match("ssédx".as_bytes()));
    assert!(!g.is_match(b"xsshd"));
    assert!(!g.is_match(b"ss\xffd"));
    assert!(m("*", MatcherType::Glob, &[]).is_match(b""));
    assert!(m("a*b*c", MatcherType::Glob, &[]).is_match(b"aXXbYYbc"));
}

#[test]
fn regex_bytes_and_store() {
    let r = m(
        "^(\\w+)\\[(?<pid>\\d+)\\]",
        MatcherType::Pcre,
        &[MatcherFlag::StoreMatches],
    );
    let mut msg = LogMessage::new(UnixTime::default());
    msg.set("3", b"stale");
    assert!(r.match_and_store(b"sshd[42]: x\xff", &mut msg));
    assert_eq!(msg.get("0"), Some(&b"sshd[42]"[..]));
    assert_eq!(msg.get("1"), Some(&b"sshd"[..]));
    assert_eq!(msg.get("2"), Some(&b"42"[..]));
    assert_eq!(msg.get("pid"), Some(&b"42"[..]));
    assert_eq!(msg.get("3"), None);
    // Non-ASCII literals match their UTF-8 bytes in byte mode.
    assert!(m("é", MatcherType::Pcre, &[]).is_match("café".as_bytes()));
    assert!(m("CAF", MatcherType::Pcre, &[MatcherFlag::IgnoreCase]).is_match(b"cafe"));
}

#[test]
fn regex_errors_are_reported() {
    let e = Matcher::new("(", &MatcherOptions::default()).unwrap_err();
    assert!(e.contains(">>>(<<<"), "{e}");
    // Look-around and back-references fall back to fancy-regex.
    let m = Matcher::new("^(?!.*debug)(\\w+) \\1", &MatcherOptions::default()).unwrap();
    assert!(m.is_match(b"ab ab x"));
    assert!(!m.is_match(b"ab ab debug"));
    let mut lm = LogMessage::new(UnixTime::default());
    let out = m.replace(b"xy xy!", &mut lm, &mut |msg, o| {
        o.extend_from_slice(msg.get("1").unwrap_or(b"?"))
    });
    assert_eq!(out.as_deref(), Some(&b"xy!"[..]));
}

fn subst(p: &str, kind: MatcherType, flags: &[MatcherFlag], value: &str, rep: &str) -> String {
    let mut msg = LogMessage::new(UnixTime::default());
    let r = m(p, kind, flags);
    let out = r.replace(value.as_bytes(), &mut msg, &mut |_, o| {
        o.extend_from_slice(rep.as_bytes())
    });
    String::from_utf8(out.unwrap_or_else(|| value.as_bytes().to_vec())).unwrap()
}

#[test]
fn replacing() {
    assert_eq!(subst("a", MatcherType::Pcre, &[], "banana", "o"), "bonana");
    assert_eq!(
        subst(
            "a",
            MatcherType::Pcre,
            &[MatcherFlag::Global],
            "banana",
            "o"
        ),
        "bonono"
    );
    assert_eq!(
        subst(
            "a*",
            MatcherType::Pcre,
            &[MatcherFlag::Global],
            "message",
            "#"
        ),
        "#m#e#s#s##g#e"
    );
    assert_eq!(
        subst(
            "an",
            MatcherType::String,
            &[MatcherFlag::Substring, MatcherFlag::Global],
            "banana",
            "_"
        ),
        "b__a"
    );
    assert_eq!(subst("x", MatcherType::Pcre, &[], "banana", "o"), "banana");
}
