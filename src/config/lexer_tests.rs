//! Tests of the token recognisers against what syslog-ng 3.38's scanner does.
use super::*;

fn tokens(input: &str) -> Vec<TokKind> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut bol = true;
    while !rest.is_empty() {
        match lex(rest, bol, false) {
            Lexed::Skip(n) => {
                bol = rest[..n].ends_with('\n');
                rest = &rest[n..];
            }
            Lexed::Token(t, n) => {
                out.push(t);
                bol = false;
                rest = &rest[n..];
            }
            other => panic!("{other:?} at {rest:?}"),
        }
    }
    out
}

fn w(s: &str) -> TokKind {
    TokKind::Word(s.into())
}

#[test]
fn words_numbers_and_ranges_follow_flex_longest_match() {
    use TokKind::*;
    assert_eq!(
        tokens("info..emerg"),
        vec![w("info"), Op("..".into()), w("emerg")]
    );
    assert_eq!(tokens("0.0.0.0"), vec![w("0.0.0.0")]);
    assert_eq!(
        tokens("a==b == <= ="),
        vec![w("a==b"), Op("==".into()), Op("<=".into()), Op("=".into())]
    );
    assert_eq!(
        tokens("-5 - 5 -x 5x"),
        vec![Int(-5), w("-"), Int(5), w("-x"), w("5x")]
    );
    assert_eq!(
        tokens("0644 0x1a4 08 -010 +8"),
        vec![Int(420), Int(420), Int(8), Int(-10), Int(8)]
    );
    assert_eq!(
        tokens("5k 5KiB 2M 1b 1.5 -1.5"),
        vec![
            Int(5000),
            Int(5120),
            Int(2_000_000),
            Int(1),
            Float(1.5),
            Float(-1.5)
        ]
    );
    assert_eq!(tokens("0x +0x10 1e3"), vec![w("0x"), w("+0x10"), w("1e3")]);
    assert_eq!(tokens("a=>b => ..."), vec![w("a=>b"), Arrow, Ellipsis]);
    assert_eq!(
        tokens("a:b|c"),
        vec![w("a"), Op(":".into()), w("b"), Op("|".into()), w("c")]
    );
    assert_eq!(
        tokens("/var/log/$HOST.log é"),
        vec![w("/var/log/$HOST.log"), w("é")]
    );
    assert_eq!(
        tokens("a,b\t, c # comment\nd"),
        vec![w("a"), w("b"), w("c"), w("d")]
    );
    assert_eq!(tokens("a#b"), vec![w("a")]);
}

#[test]
fn invalid_tokens_and_bad_numbers() {
    assert!(matches!(lex(".5", false, false), Lexed::Error(_, 1)));
    assert!(matches!(lex("\\x", false, false), Lexed::Error(_, 1)));
    assert_eq!(
        lex("[x", false, false),
        Lexed::Token(TokKind::Op("[".into()), 1)
    );
    assert!(matches!(lex("@x", false, false), Lexed::Error(_, 1)));
    assert_eq!(lex("@x", true, false), Lexed::Token(TokKind::Pragma, 1));
    assert!(matches!(lex("5i", false, false), Lexed::Error(_, 2)));
    assert!(matches!(
        lex("99999999999999999999", false, false),
        Lexed::Error(_, 20)
    ));
    assert!(matches!(
        lex("9999999999999G", false, false),
        Lexed::Error(_, _)
    ));
}

#[test]
fn double_quoted_escapes_match_syslog_ng() {
    let input = r#""A\tq\x41\101\q\"\\\o101\a\v|\x4|\xZ|\o9|\x414|\o1012|\'" rest"#;
    let Lexed::Token(TokKind::Str(v, Quote::Double), n) = lex(input, false, false) else {
        panic!()
    };
    assert_eq!(v, "A\tqA101q\"\\A\x07\x0b|\x04|xZ|o9|A4|A2|'");
    assert_eq!(&input[n..], " rest");
    // Continuation lines vanish, raw line breaks stay.
    let Lexed::Token(TokKind::Str(v, _), _) = lex("\"a\\\nb\nc\"", false, false) else {
        panic!()
    };
    assert_eq!(v, "ab\nc");
    // UTF-8 written as escaped bytes comes out as the character.
    let Lexed::Token(TokKind::Str(v, _), _) = lex(r#""\xc3\xa9""#, false, false) else {
        panic!()
    };
    assert_eq!(v, "é");
}

#[test]
fn single_quoted_strings_are_raw() {
    let Lexed::Token(TokKind::Str(v, Quote::Single), _) = lex("'a\\tb\\\nc|'", false, false) else {
        panic!()
    };
    assert_eq!(v, "a\\tb\\\nc|");
    let Lexed::Token(TokKind::Str(v, _), _) = lex("'\\\nx'", false, false) else {
        panic!()
    };
    assert_eq!(v, "x");
}

#[test]
fn unterminated_strings_ask_for_more() {
    assert_eq!(lex("\"abc", false, false), Lexed::NeedMore);
    assert_eq!(lex("\"abc\\", false, false), Lexed::NeedMore);
    assert_eq!(lex("'abc\n", false, false), Lexed::NeedMore);
}

#[test]
fn pragma_lines_tokenize_line_ends() {
    assert_eq!(lex("\n", false, true), Lexed::Token(TokKind::Newline, 1));
    assert_eq!(lex("\r\n", false, false), Lexed::Skip(2));
    assert_eq!(lex("\\\nx", false, true), Lexed::Skip(2));
}

#[test]
fn string_literal_extraction() {
    assert_eq!(single_string_literal(" \"quoted\" "), Some("quoted".into()));
    assert_eq!(single_string_literal("'x'"), Some("x".into()));
    assert_eq!(single_string_literal("\"a\" \"b\""), None);
    assert_eq!(single_string_literal("word"), None);
    assert!(is_plain_word("follow-freq"));
    assert!(!is_plain_word("5"));
    assert!(!is_plain_word("a b"));
    assert!(!is_plain_word("=="));
}
