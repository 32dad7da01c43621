//! json-c compatibility cases (each checked against json-parser() in syslog-ng 3.38, see
//! tests/golden/pipeline/cases/parser_json_c.conf).
use super::*;

fn plain(input: &str) -> Option<String> {
    parse(input.as_bytes()).map(|v| {
        let mut out = Vec::new();
        write_plain(&v, &mut out);
        String::from_utf8(out).expect("utf-8")
    })
}

#[test]
fn lenient_syntax() {
    assert_eq!(
        plain("{'a':'single'}").as_deref(),
        Some(r#"{"a":"single"}"#)
    );
    assert_eq!(plain(r#"{"a":1,}"#).as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(plain("[1,2,]").as_deref(), Some("[1,2]"));
    assert_eq!(
        plain("[NaN, -Infinity, iNfInItY ]").as_deref(),
        Some("[NaN,-Infinity,Infinity]")
    );
    assert_eq!(
        plain("[TRUE, False, Null ]").as_deref(),
        Some("[true,false,null]")
    );
    assert_eq!(
        plain(
            r#"/* c */ {"a" /* x */ : 1} // done
"#
        )
        .as_deref(),
        Some(r#"{"a":1}"#)
    );
    assert_eq!(
        plain("[01, 1., 1e3, 5e+, -0]").as_deref(),
        Some("[1,1.,1e3,5,0]")
    );
    assert_eq!(
        plain("{\"a\":\"raw\ttab\"}").as_deref(),
        Some(r#"{"a":"raw\ttab"}"#)
    );
}

#[test]
fn what_json_c_refuses() {
    for bad in [
        r#"{"a":"\x41"}"#,
        r#"{"a":'\''}"#,
        "{a:1}",
        r#"{"a":"x""#,
        r#"{"a":tru}"#,
        r#"{"a":"x"} // open comment"#,
        r#"{"a":1} /x"#,
        "/* a **/ {}",
        "null",
        "[1 2]",
        "[-]",
    ] {
        assert_eq!(plain(bad), None, "{bad}");
    }
    let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
    assert_eq!(plain(&deep), None);
    let deep = format!("{}{}", "[".repeat(32), "]".repeat(32));
    assert!(plain(&deep).is_some());
}

#[test]
fn first_value_wins() {
    assert_eq!(
        plain(r#"{"a":"t"} trailing"#).as_deref(),
        Some(r#"{"a":"t"}"#)
    );
    assert_eq!(plain(r#"{"a":1}{"b":2}"#).as_deref(), Some(r#"{"a":1}"#));
    assert_eq!(plain("{\"a\":1}\0junk").as_deref(), Some(r#"{"a":1}"#));
}

#[test]
fn numbers() {
    let v = |s: &str| parse(format!("[{s}]").as_bytes());
    assert_eq!(
        v("-9223372036854775809"),
        Some(Json::Array(vec![Json::Int(i64::MIN)]))
    );
    assert_eq!(
        v("12345678901234567890"),
        Some(Json::Array(vec![Json::Uint(12345678901234567890)]))
    );
    assert_eq!(
        v("99999999999999999999"),
        Some(Json::Array(vec![Json::Uint(u64::MAX)]))
    );
    assert!(
        matches!(v("1e400"), Some(Json::Array(a)) if matches!(a[0], Json::Double(d, _) if d.is_infinite()))
    );
}

#[test]
fn strings_and_escapes() {
    assert_eq!(
        plain(r#"["\/x\"é\u00e9\u0001"]"#).as_deref(),
        Some("[\"\\/x\\\"éé\\u0001\"]")
    );
    assert_eq!(plain(r#"["\ud83d\ude00"]"#).as_deref(), Some("[\"😀\"]"));
    assert_eq!(plain(r#"["\ud83d"]"#).as_deref(), Some("[\"\u{fffd}\"]"));
    assert_eq!(plain(r#"["\ud83dx"]"#).as_deref(), Some("[\"\u{fffd}x\"]"));
    assert_eq!(
        plain(r#"["\ud83d\n"]"#).as_deref(),
        Some("[\"\u{fffd}\\n\"]")
    );
    assert_eq!(plain(r#"["\udc00"]"#).as_deref(), Some("[\"\u{fffd}\"]"));
    assert_eq!(
        parse(br#"["a\u0000b"]"#),
        Some(Json::Array(vec![Json::Str(b"a\0b".to_vec())]))
    );
    // Keys are cut at a NUL; a repeated key keeps its place.
    assert_eq!(
        plain(r#"{"k\u0000x":1,"b":2,"k":3}"#).as_deref(),
        Some(r#"{"k":3,"b":2}"#)
    );
}
