//! `json-parser(prefix() marker() extract-prefix() key-delimiter() template())`.
//!
//! As syslog-ng's `json-parser.c` (json-c underneath): the input, after an optional
//! `marker()` (which must be there, and is followed by optional white space), must be a JSON
//! object, or `extract-prefix()` must lead to one. Keys are flattened with `.`
//! (`{"a":{"b":1}}` sets `a.b`), strings are set as they are, integers in decimal, doubles with C's `%f` (`1.5` is `1.500000`), booleans
//! `true`/`false` (integers beyond int64 saturate, as json-c reads them); `null` sets nothing.
//! An array of scalars becomes a list value (`1,two`, a `null` item is `""`),
//! any other array its compact JSON text; a top-level array is accepted and sets nothing.
//! Every name gets `prefix()` in front.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::message::LogMessage;

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
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub marker: Option<String>,
    #[serde(default)]
    pub extract_prefix: Option<String>,
    #[serde(default)]
    pub key_delimiter: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
}

/// A compiled `json-parser()`.
#[derive(Debug)]
pub struct JsonParser {
    prefix: String,
    marker: Option<Vec<u8>>,
    extract: Vec<String>,
    delim: String,
}

impl JsonParser {
    pub fn new(o: &JsonParserOptions) -> JsonParser {
        let delim = o.key_delimiter.clone().unwrap_or_else(|| ".".into());
        JsonParser {
            prefix: o.prefix.clone().unwrap_or_default(),
            marker: o.marker.as_ref().map(|m| m.as_bytes().to_vec()),
            extract: o
                .extract_prefix
                .as_deref()
                .map(|p| p.split('.').map(str::to_string).collect())
                .unwrap_or_default(),
            delim,
        }
    }

    pub fn parse(&self, input: &[u8], msg: &mut Arc<LogMessage>) -> bool {
        let mut input = input;
        if let Some(m) = &self.marker {
            let Some(rest) = input.strip_prefix(m.as_slice()) else {
                return false;
            };
            input = rest;
            while let [c, rest @ ..] = input {
                if c.is_ascii_whitespace() {
                    input = rest;
                } else {
                    break;
                }
            }
        }
        let Ok(root) = serde_json::from_slice::<Value>(input) else {
            return false;
        };
        let mut node = &root;
        for step in &self.extract {
            let (key, index) = match step.find('[') {
                Some(i) => (
                    &step[..i],
                    step[i + 1..].trim_end_matches(']').parse::<usize>().ok(),
                ),
                None => (step.as_str(), None),
            };
            let Some(next) = node.get(key) else {
                return false;
            };
            node = match index {
                Some(i) => match next.get(i) {
                    Some(n) => n,
                    None => return false,
                },
                None => next,
            };
        }
        let map = match node {
            Value::Object(map) => map,
            // A top-level array is accepted and sets nothing (recorded from 3.38).
            Value::Array(_) => return true,
            _ => return false,
        };
        let m = Arc::make_mut(msg);
        let mut key = self.prefix.clone();
        for (k, v) in map {
            let base = key.len();
            key.push_str(k);
            self.single(v, &mut key, m);
            key.truncate(base);
        }
        true
    }

    fn single(&self, v: &Value, key: &mut String, m: &mut LogMessage) {
        match v {
            Value::Null => {}
            Value::Bool(b) => m.set(key, if *b { b"true" } else { b"false" }),
            Value::Number(_) => m.set(key, scalar_text(v).as_bytes()),
            Value::String(s) => m.set(key, s.as_bytes()),
            Value::Object(map) => {
                let base = key.len();
                for (k, v) in map {
                    key.truncate(base);
                    key.push_str(&self.delim);
                    key.push_str(k);
                    self.single(v, key, m);
                }
                key.truncate(base);
            }
            Value::Array(items) => {
                // Scalars only: a list value (`1,two`); anything else: the array as JSON.
                let scalars = items.iter().all(|v| {
                    matches!(
                        v,
                        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
                    )
                });
                if scalars {
                    let mut out = Vec::new();
                    for v in items {
                        let text = scalar_text(v);
                        super::push_list_item(&mut out, text.as_bytes());
                    }
                    m.set(key, &out);
                } else {
                    m.set(key, serde_json::to_string(v).unwrap_or_default().as_bytes());
                }
            }
        }
    }
}

/// A scalar as json-parser writes it: integers in decimal, doubles with `%f`.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else if n.as_u64().is_some() {
                // json-c reads integers as int64 and saturates (recorded).
                i64::MAX.to_string()
            } else {
                format!("{:.6}", n.as_f64().unwrap_or(0.0))
            }
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
