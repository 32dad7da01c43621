//! `json-parser(prefix() marker() extract-prefix() key-delimiter() template())`, after
//! syslog-ng 3.38's `json-parser.c` and `dot-notation.c`, over json-c's reading of JSON
//! ([`super::json_c`]: lenient syntax, the first complete value wins, trailing text ignored).
//!
//! With `marker()` the input must start with it; white space after it is skipped. The value
//! (or what `extract-prefix()` — `a.b[2].c` — leads to) must be an object or an array, else
//! the parser fails. An object's members are set as name-value pairs, nested objects
//! flattened with `key-delimiter()` (one character, `.` by default): strings as they are (up
//! to a NUL), integers in decimal (above `i64::MAX` saturated), doubles with C's `%f`
//! (`1.500000`, `inf`, `nan`), booleans `true`/`false`, `null` as an empty value; an array of
//! scalars becomes a list (`1,two,""`), any other array its compact JSON text as json-c writes
//! it. A top-level array sets the match values instead: `$1`, `$2`... (at most 255), `$0`
//! and the ones past the last unset. Every name gets `prefix()` in front. Values carry their
//! types (integer, double, boolean, null, list, JSON) as in 3.38.

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::Node;
use crate::config::diagnostic::Diagnostic;
use crate::message::{LogMessage, ValueType};

use super::super::args::option_span;
use super::json_c::{self, Json};
use crate::template::list_repr::str_repr_encode;

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = &[
    "prefix",
    "marker",
    "extract-prefix",
    "key-delimiter",
    "template",
];

/// `json-parser()` options.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct JsonParserOptions {
    /// Put in front of every name.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Text the input must start with (`@cee:`), skipped with the white space after it.
    #[serde(default)]
    pub marker: Option<String>,
    /// Where in the document the object to parse is (`a.b[0]`).
    #[serde(default)]
    pub extract_prefix: Option<String>,
    /// Between the names of nested objects; one character. Default: `.`.
    #[serde(default)]
    pub key_delimiter: Option<String>,
    /// What to parse instead of `$MESSAGE`.
    #[serde(default)]
    pub template: Option<String>,
}

/// One step of `extract-prefix()`.
#[derive(Debug)]
enum Step {
    Member(Vec<u8>),
    Index(usize),
}

/// A compiled `json-parser()`.
#[derive(Debug)]
pub struct JsonParser {
    prefix: Vec<u8>,
    marker: Option<Vec<u8>>,
    /// `None`: an `extract-prefix()` that does not compile, which makes every message fail
    /// (3.38 compiles it per message and fails then).
    extract: Option<Vec<Step>>,
    delim: u8,
}

/// The maximum number of match values (`LOGMSG_MAX_MATCHES`).
const MAX_MATCHES: usize = 256;

impl JsonParser {
    pub fn new(o: &JsonParserOptions, call: &Node) -> Result<JsonParser, Diagnostic> {
        let delim = match o.key_delimiter.as_deref().map(str::as_bytes) {
            None => b'.',
            Some([d]) => *d,
            Some(_) => {
                return Err(Diagnostic::new(
                    "key-delimiter() only supports single characters",
                    option_span(call, "key-delimiter"),
                ));
            }
        };
        Ok(JsonParser {
            prefix: o.prefix.clone().unwrap_or_default().into_bytes(),
            marker: o.marker.as_ref().map(|m| m.as_bytes().to_vec()),
            extract: dot_notation(o.extract_prefix.as_deref().unwrap_or("")),
            delim,
        })
    }

    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let mut input = input;
        if let Some(m) = &self.marker {
            let Some(rest) = input.strip_prefix(m.as_slice()) else {
                return false;
            };
            input = rest;
            while input
                .first()
                .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
            {
                input = &input[1..];
            }
        }
        let Some(root) = json_c::parse(input) else {
            return false;
        };
        let Some(steps) = &self.extract else {
            return false;
        };
        let mut node = &root;
        for step in steps {
            node = match (step, node) {
                (Step::Member(k), Json::Object(members)) => {
                    match members.iter().find(|(key, _)| key == k) {
                        Some((_, v)) => v,
                        None => return false,
                    }
                }
                (Step::Index(i), Json::Array(items)) => match items.get(*i) {
                    Some(v) => v,
                    None => return false,
                },
                _ => return false,
            };
        }
        match node {
            Json::Object(members) => {
                let m = Arc::make_mut(msg);
                let mut key = self.prefix.clone();
                self.object(members, &mut key, m);
                true
            }
            Json::Array(items) => {
                matches(items, Arc::make_mut(msg));
                true
            }
            _ => false,
        }
    }

    /// Sets the members of an object, each under `key` + its name.
    fn object(&self, members: &[(Vec<u8>, Json)], key: &mut Vec<u8>, m: &mut LogMessage) {
        let base = key.len();
        for (k, v) in members {
            key.truncate(base);
            key.extend_from_slice(k);
            match v {
                Json::Object(inner) => {
                    key.push(self.delim);
                    self.object(inner, key, m);
                }
                Json::Array(items) => {
                    let (value, ty) = list(v, items);
                    set(m, key, &value, ty);
                }
                scalar => {
                    if let Some((value, ty)) = simple(scalar) {
                        set(m, key, &value, ty);
                    }
                }
            }
        }
        key.truncate(base);
    }
}

fn set(m: &mut LogMessage, key: &[u8], value: &[u8], ty: ValueType) {
    let name = String::from_utf8_lossy(key);
    match ty {
        ValueType::String => m.set(&name, value),
        ty => m.set_typed(&name, value, ty),
    }
}

/// A scalar's text and type (`json_parser_extract_string_from_simple_json_object`).
fn simple(v: &Json) -> Option<(Vec<u8>, ValueType)> {
    Some(match v {
        Json::Null => (Vec::new(), ValueType::Null),
        Json::Bool(b) => (
            if *b {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            },
            ValueType::Boolean,
        ),
        Json::Int(i) => (i.to_string().into_bytes(), ValueType::Integer),
        // json_object_get_int64() of an unsigned beyond i64::MAX.
        Json::Uint(_) => (i64::MAX.to_string().into_bytes(), ValueType::Integer),
        Json::Double(d, _) => (c_percent_f(*d).into_bytes(), ValueType::Double),
        Json::Str(s) => {
            let end = memchr::memchr(0, s).unwrap_or(s.len());
            (s[..end].to_vec(), ValueType::String)
        }
        Json::Array(_) | Json::Object(_) => return None,
    })
}

/// C's `printf("%f")`.
fn c_percent_f(d: f64) -> String {
    if d.is_nan() {
        if d.is_sign_negative() { "-nan" } else { "nan" }.to_string()
    } else if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.to_string()
    } else {
        format!("{d:.6}")
    }
}

/// An array member: a list of its scalars, or, when it holds anything else, its JSON text.
fn list(whole: &Json, items: &[Json]) -> (Vec<u8>, ValueType) {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some((text, _)) = simple(item) else {
            out.clear();
            json_c::write_plain(whole, &mut out);
            return (out, ValueType::Json);
        };
        if i > 0 {
            out.push(b',');
        }
        str_repr_encode(&mut out, &text, b"");
    }
    (out, ValueType::List)
}

/// A top-level array: its items as `$1`, `$2`... (`json_parser_process_array`).
fn matches(items: &[Json], m: &mut LogMessage) {
    m.unset("0");
    let mut n = 0;
    for item in items.iter().take(MAX_MATCHES - 1) {
        n += 1;
        let (text, ty) = simple(item).unwrap_or_else(|| {
            let mut out = Vec::new();
            json_c::write_plain(item, &mut out);
            (out, ValueType::Json)
        });
        set(m, n.to_string().as_bytes(), &text, ty);
    }
    // `log_msg_truncate_matches(msg, n + 1)`.
    for i in n + 1..MAX_MATCHES {
        let name = i.to_string();
        if m.get(&name).is_none() {
            break;
        }
        m.unset(&name);
    }
}

/// Compiles `extract-prefix()` as `dot-notation.c` does: `None` when it does not compile.
fn dot_notation(text: &str) -> Option<Vec<Step>> {
    let b = text.as_bytes();
    if b.is_empty() {
        return Some(Vec::new());
    }
    // Split before every `[` and at every `.`.
    let mut levels = Vec::new();
    let mut last = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'.' {
            levels.push(&b[last..i]);
            last = i + 1;
        } else if c == b'[' {
            levels.push(&b[last..i]);
            last = i;
        }
    }
    levels.push(&b[last..]);
    let mut steps = Vec::new();
    for (i, level) in levels.into_iter().enumerate() {
        if i == 0 && level.is_empty() {
            continue;
        }
        if let Some(rest) = level.strip_prefix(b"[") {
            // strtol: blanks, a sign, digits (none is 0); then `]` and nothing else.
            let mut p = rest
                .iter()
                .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
                .count();
            let negative = rest.get(p) == Some(&b'-');
            if matches!(rest.get(p), Some(b'-' | b'+')) {
                p += 1;
            }
            let digits = rest[p..].iter().take_while(|c| c.is_ascii_digit()).count();
            let n: usize = if digits == 0 {
                // No conversion: strtol leaves the end where it started.
                p = 0;
                0
            } else {
                std::str::from_utf8(&rest[p..p + digits])
                    .ok()?
                    .parse()
                    .ok()?
            };
            if &rest[p + digits..] != b"]" || (negative && n > 0) {
                return None;
            }
            steps.push(Step::Index(n));
        } else {
            let printable = |c: &u8| (0x20..0x7f).contains(c) && !b".[]".contains(c);
            if level.is_empty() || !level.iter().all(printable) {
                return None;
            }
            steps.push(Step::Member(level.to_vec()));
        }
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::de::{self, testing::node};
    use crate::message::UnixTime;

    fn run(call: &str, input: &str) -> Option<Arc<LogMessage>> {
        let (_, n) = node(call);
        let o: JsonParserOptions = de::from_call(&n).expect("options");
        let p = JsonParser::new(&o, &n).expect("compiles");
        let mut m = Arc::new(LogMessage::new(UnixTime::default()));
        p.parse(input.as_bytes(), &mut m).then_some(m)
    }

    fn get(m: &LogMessage, k: &str) -> Option<String> {
        m.get(k).map(|v| String::from_utf8_lossy(v).into_owned())
    }

    #[test]
    fn objects_flatten_and_arrays_become_lists() {
        let m = run(
            "json-parser(prefix(\".j.\"))",
            r#"{"a":{"b":1.5,"c":[1,"x y",null]},"n":null,"big":12345678901234567890,"d":[{"k":"/"}]}"#,
        )
        .expect("parses");
        assert_eq!(get(&m, ".j.a.b").as_deref(), Some("1.500000"));
        assert_eq!(get(&m, ".j.a.c").as_deref(), Some(r#"1,"x y","""#));
        assert_eq!(get(&m, ".j.n").as_deref(), Some(""));
        assert_eq!(get(&m, ".j.big").as_deref(), Some("9223372036854775807"));
        assert_eq!(get(&m, ".j.d").as_deref(), Some(r#"[{"k":"\/"}]"#));
        let m = run("json-parser(key-delimiter(\"/\"))", r#"{"a":{"b":true}}"#).expect("parses");
        assert_eq!(get(&m, "a/b").as_deref(), Some("true"));
    }

    #[test]
    fn top_level_arrays_set_matches() {
        let (_, n) = node("json-parser()");
        let o: JsonParserOptions = de::from_call(&n).expect("options");
        let p = JsonParser::new(&o, &n).expect("compiles");
        let mut m = LogMessage::new(UnixTime::default());
        for (k, v) in [("0", "zero"), ("1", "a"), ("2", "b"), ("3", "c")] {
            m.set(k, v.as_bytes());
        }
        let mut m = Arc::new(m);
        assert!(p.parse(br#"[1, {"x":2}]"#, &mut m));
        assert_eq!(get(&m, "0"), None);
        assert_eq!(get(&m, "1").as_deref(), Some("1"));
        assert_eq!(get(&m, "2").as_deref(), Some(r#"{"x":2}"#));
        assert_eq!(get(&m, "3"), None);
    }

    #[test]
    fn markers_and_extract_prefix() {
        let c = "json-parser(marker(\"@cee:\"))";
        assert!(run(c, "@cee: \t{\"a\":1}").is_some());
        assert!(run(c, " @cee: {\"a\":1}").is_none());
        let c = "json-parser(extract-prefix(\"a[1].b\"))";
        let m = run(c, r#"{"a":[0,{"b":{"x":"y"}}]}"#).expect("parses");
        assert_eq!(get(&m, "x").as_deref(), Some("y"));
        assert!(run(c, r#"{"a":[0]}"#).is_none());
        assert!(run("json-parser(extract-prefix(\"a..b\"))", r#"{"a":{}}"#).is_none());
        assert!(dot_notation("a[]").is_some_and(|s| matches!(s[1], Step::Index(0))));
        assert!(dot_notation("a[-1]").is_none());
        assert!(dot_notation("a[ ]").is_none());
        assert!(dot_notation("a[ 2]").is_some_and(|s| matches!(s[1], Step::Index(2))));
        assert!(dot_notation("[0].x").is_some_and(|s| s.len() == 2));
    }
}
