//! `map-value-pairs(scope() key() exclude() pair() rekey() cast())`, after syslog-ng 3.38's
//! `map-value-pairs.c`: the name-value pairs a `value-pairs()` selection picks from the
//! message are set back into it under their (rekeyed) names. It never fails, and it has no
//! `template()`.
//!
//! The selection is the template layer's value-pairs (the one `$(format-json)` uses), fed the
//! options as the equivalent command line, in the order written — syslog-ng applies `key()`
//! and `exclude()` patterns in order (the last match decides) and a `rekey()`'s
//! transformations in order. Quirks of 3.38's grammar kept: the scopes of one `scope()` are
//! applied last to first (it is right-recursive: `scope(nv-pairs none)` keeps nv-pairs,
//! `scope(none nv-pairs)` selects nothing), `key("glob" rekey(...))` renames what that key
//! selects, `replace()` is the obsolete name of `replace-prefix()`. Everything is collected
//! before anything is set (a snapshot), as `value_pairs_foreach` does. A typed `pair()`
//! (`pair("n" int32("$PID"))`) sets a value of that type; without `cast(no)` (the default
//! before `@version: 4.0`) everything else is a string. `cast(no)` is accepted, but values
//! copied from the message are strings here (the selection does not carry their types).
//! 3.38 accepts an unknown scope name and ignores it; sluice refuses it.

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::{Node, keyword_eq};
use crate::config::de::{self, Repeated};
use crate::config::diagnostic::Diagnostic;
use crate::message::{LogMessage, ValueType};
use crate::template::TypeHint;
use crate::template::functions::value_pairs::{PooledCollected, ValuePairs};
use crate::template::functions::{FunctionCall, Invocation, PrepareError};

use super::super::{BuildEnv, Cx};

/// The option names, for the catalog.
pub const OPTION_NAMES: &[&str] = &["scope", "key", "exclude", "pair", "rekey", "cast"];

/// `map-value-pairs()` options (each read on its own, in order; see the module doc).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MapValuePairsOptions {
    /// Predefined sets of pairs: nv-pairs, dot-nv-pairs, all-nv-pairs, rfc3164 (core, base),
    /// rfc5424 (syslog-proto), selected-macros, all-macros, sdata, everything, none.
    #[serde(default)]
    pub scope: Option<Vec<String>>,
    /// Glob patterns of names to include, or one pattern with `rekey(...)` for what it
    /// selects.
    #[serde(default)]
    pub key: Repeated<Key>,
    /// Glob patterns of names to leave out.
    #[serde(default)]
    pub exclude: Option<Vec<String>>,
    /// Extra pairs: `pair("name" "template")`, `pair("name": "template")` or typed,
    /// `pair("n" int32("$PID"))`.
    #[serde(default)]
    pub pair: Repeated<Vec<PairPart>>,
    /// Renamings of the names matching a glob.
    #[serde(default)]
    pub rekey: Repeated<Rekey>,
    /// Values as strings (default before `@version: 4.0`) or with their types.
    #[serde(default)]
    pub cast: Option<bool>,
}

/// `key("a*" "b*")`, or `key("a*" rekey(...))`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Key {
    /// The patterns.
    #[serde(default, rename = "0:pattern")]
    pub patterns: Vec<String>,
    /// Transformations of the names the (single) pattern selects.
    #[serde(default)]
    pub rekey: Option<RekeyOps>,
}

/// `rekey("glob" shift(N) shift-levels(N) add-prefix("p") replace-prefix("old" "new"))`; the
/// transformations are read in order by [`rekey_ops`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Rekey {
    /// The names to transform (a glob pattern).
    #[serde(rename = "0:pattern")]
    pub pattern: String,
    #[serde(default)]
    pub shift: Option<u32>,
    #[serde(default)]
    pub shift_levels: Option<u32>,
    #[serde(default)]
    pub add_prefix: Option<String>,
    #[serde(default)]
    pub replace_prefix: Option<(String, String)>,
    #[serde(default)]
    pub replace: Option<(String, String)>,
}

/// The transformations of a `rekey()`, applied in the order written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RekeyOps {
    /// Remove this many characters from the start of the name.
    #[serde(default)]
    pub shift: Option<u32>,
    /// Remove this many dot-separated levels from the start of the name.
    #[serde(default)]
    pub shift_levels: Option<u32>,
    /// Prepend this.
    #[serde(default)]
    pub add_prefix: Option<String>,
    /// Replace a prefix: `replace-prefix("old" "new")`.
    #[serde(default)]
    pub replace_prefix: Option<(String, String)>,
    /// The obsolete name of `replace-prefix()`.
    #[serde(default)]
    pub replace: Option<(String, String)>,
}

/// One part of `pair()`: the name, the template (a string, or a type hint around one:
/// `int32("$PID")`), or the `:` between them.
#[derive(Debug)]
pub enum PairPart {
    Text(String),
    Typed(String, String),
}

impl<'de> Deserialize<'de> for PairPart {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PairPart;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a name, a template, or a type hint around one (int32(\"$PID\"))")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PairPart, E> {
                Ok(PairPart::Text(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PairPart, E> {
                Ok(PairPart::Text(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<PairPart, E> {
                Ok(PairPart::Text(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PairPart, A::Error> {
                let Some((hint, value)) = map.next_entry::<String, String>()? else {
                    return Err(serde::de::Error::custom("expected a template"));
                };
                if map.next_key::<String>()?.is_some() {
                    return Err(serde::de::Error::custom("expected one type hint"));
                }
                Ok(PairPart::Typed(hint, value))
            }
        }
        d.deserialize_any(V)
    }
}

/// A compiled `map-value-pairs()`.
#[derive(Debug)]
pub struct MapValuePairs {
    vp: ValuePairs,
}

impl MapValuePairs {
    pub fn new(call: &Node, env: &BuildEnv<'_>) -> Result<MapValuePairs, Diagnostic> {
        let args = command_line(call)?;
        let fc = FunctionCall {
            name: "map-value-pairs",
            args: &args,
            env: &env.templates,
        };
        let (vp, _) = ValuePairs::parse(&fc, &[]).map_err(|e| {
            let why = match e {
                PrepareError::Message(m) => m,
                PrepareError::Compile(c) => format!("Error compiling template, error={c}"),
            };
            Diagnostic::new(why, call.span())
        })?;
        Ok(MapValuePairs { vp })
    }

    pub fn process(&self, msg: &mut Arc<LogMessage>, cx: &Cx<'_>) -> bool {
        let mut pairs = PooledCollected::take();
        {
            let one = [&**msg];
            let inv = Invocation {
                msgs: &one,
                ctx: &cx.render,
            };
            self.vp.collect(&inv, msg, &mut pairs);
        }
        if pairs.iter().next().is_none() {
            return true;
        }
        let m = Arc::make_mut(msg);
        for (key, hint, value) in pairs.iter() {
            let name = String::from_utf8_lossy(key);
            match value_type(hint) {
                ValueType::String => m.set(&name, value),
                ty => m.set_typed(&name, value, ty),
            }
        }
        true
    }
}

/// The message's value type for a template's type hint.
fn value_type(hint: TypeHint) -> ValueType {
    match hint {
        TypeHint::String => ValueType::String,
        TypeHint::Literal => ValueType::Json,
        TypeHint::Int32 | TypeHint::Int64 => ValueType::Integer,
        TypeHint::Double => ValueType::Double,
        TypeHint::DateTime => ValueType::DateTime,
        TypeHint::List => ValueType::List,
        TypeHint::Boolean => ValueType::Boolean,
    }
}

const SCOPES: &[&str] = &[
    "nv-pairs",
    "dot-nv-pairs",
    "all-nv-pairs",
    "rfc3164",
    "core",
    "base",
    "rfc5424",
    "syslog-proto",
    "selected-macros",
    "all-macros",
    "sdata",
    "everything",
    "none",
];

/// The options of `call` as the template layer's value-pairs command line, in order.
fn command_line(call: &Node) -> Result<Vec<String>, Diagnostic> {
    let Node::Call { args, .. } = call else {
        return Ok(Vec::new());
    };
    let opts = super::in_order::<MapValuePairsOptions>(call)?;
    let mut out = Vec::new();
    let opt = |out: &mut Vec<String>, name: &str, value: String| {
        out.push(format!("--{name}"));
        out.push(value);
    };
    for (node, o) in args.iter().zip(opts) {
        if let Some(scopes) = o.scope {
            // Right-recursive in 3.38's grammar: the last scope is applied first.
            for s in scopes.iter().rev() {
                let s = s.replace('_', "-");
                if !SCOPES.contains(&s.as_str()) {
                    return Err(Diagnostic::new(
                        format!("unknown value-pairs scope `{s}`"),
                        node.span(),
                    ));
                }
                opt(&mut out, "scope", s);
            }
        }
        for k in o.key.0 {
            if k.rekey.is_some() && k.patterns.len() != 1 {
                return Err(Diagnostic::new(
                    "key() with rekey() takes exactly one pattern",
                    node.span(),
                ));
            }
            for p in &k.patterns {
                opt(&mut out, "key", p.clone());
            }
            if k.rekey.is_some() {
                let inner = call_arg(node, "rekey");
                rekey_ops(inner, &mut out)?;
            }
        }
        for e in o.exclude.unwrap_or_default() {
            opt(&mut out, "exclude", e);
        }
        for parts in o.pair.0 {
            let (name, value) = pair(parts).ok_or_else(|| {
                Diagnostic::new("pair() takes a name and a template", node.span())
            })?;
            opt(&mut out, "pair", format!("{name}={value}"));
        }
        for r in o.rekey.0 {
            opt(&mut out, "rekey", r.pattern);
            rekey_ops(Some(node), &mut out)?;
        }
    }
    Ok(out)
}

/// `name "template"`, `name : "template"` or `name hint("template")`, as `NAME=hint(T)`:
/// a value without a hint gets `string()` around it, so that a template that looks like a
/// hint (`"lower(x)"`) stays a template.
fn pair(parts: Vec<PairPart>) -> Option<(String, String)> {
    let mut it = parts
        .into_iter()
        .filter(|p| !matches!(p, PairPart::Text(t) if t == ":"));
    let Some(PairPart::Text(name)) = it.next() else {
        return None;
    };
    let value = match it.next()? {
        PairPart::Text(t) => format!("string({t})"),
        PairPart::Typed(h, t) => format!("{h}({t})"),
    };
    it.next().is_none().then_some((name, value))
}

/// The first argument of `node` that is a call named `name`.
fn call_arg<'n>(node: &'n Node, name: &str) -> Option<&'n Node> {
    let Node::Call { args, .. } = node else {
        return None;
    };
    args.iter()
        .find(|a| matches!(a, Node::Call { name: n, .. } if keyword_eq(&n.value, name)))
}

/// The transformations inside `node` (a `rekey(...)` call), in the order written.
fn rekey_ops(node: Option<&Node>, out: &mut Vec<String>) -> Result<(), Diagnostic> {
    let Some(Node::Call { args, .. }) = node else {
        return Ok(());
    };
    for a in args.iter().filter(|a| matches!(a, Node::Call { .. })) {
        let ops: RekeyOps = de::from_nodes(std::slice::from_ref(a), a.span())?;
        let mut push = |name: &str, v: String| {
            out.push(format!("--{name}"));
            out.push(v);
        };
        if let Some(n) = ops.shift {
            push("shift", n.to_string());
        }
        if let Some(n) = ops.shift_levels {
            push("shift-levels", n.to_string());
        }
        if let Some(p) = ops.add_prefix {
            push("add-prefix", p);
        }
        if let Some((old, new)) = ops.replace_prefix.or(ops.replace) {
            push("replace-prefix", format!("{old}={new}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::de::testing::node;
    use crate::message::UnixTime;
    use crate::template::options::default_daemon_info;
    use crate::template::{RenderContext, TemplateOptions};

    fn line(call: &str) -> String {
        let (_, n) = node(call);
        command_line(&n).expect("options").join(" ")
    }

    #[test]
    fn options_become_a_command_line_in_order() {
        assert_eq!(
            line(
                r#"map-value-pairs(key("a*") exclude("ab") key("x" rekey(shift(1) add-prefix("p."))))"#
            ),
            "--key a* --exclude ab --key x --shift 1 --add-prefix p."
        );
        assert_eq!(
            line(
                r#"map-value-pairs(scope(nv-pairs none) rekey("*" add-prefix("o.") replace("o" "p")))"#
            ),
            "--scope none --scope nv-pairs --rekey * --add-prefix o. --replace-prefix o=p"
        );
        assert_eq!(
            line(r#"map-value-pairs(pair("n" int32("$PID")) pair("m": "lower(x)"))"#),
            "--pair n=int32($PID) --pair m=string(lower(x))"
        );
    }

    #[test]
    fn refusals() {
        let e = |c: &str| {
            let (_, n) = node(c);
            MapValuePairs::new(&n, &BuildEnv::standalone())
                .expect_err("refused")
                .message
        };
        assert!(e("map-value-pairs(scope(bogus))").contains("unknown value-pairs scope"));
        assert!(e(r#"map-value-pairs(key("a" "b" rekey(shift(1))))"#).contains("one pattern"));
        assert!(e(r#"map-value-pairs(rekey("a" shift(0)))"#).contains("positive"));
        assert!(e(r#"map-value-pairs(pair("a"))"#).contains("name and a template"));
        assert!(e(r#"map-value-pairs(template("$MSG"))"#).contains("template"));
    }

    #[test]
    fn selected_pairs_are_set_back_typed() {
        let (_, n) = node(
            r#"map-value-pairs(key("a*") rekey("a*" add-prefix("c.")) pair("n" int32("${a}")))"#,
        );
        let p = MapValuePairs::new(&n, &BuildEnv::standalone()).expect("compiles");
        let mut m = LogMessage::new(UnixTime::default());
        m.set("a", b"5");
        m.set("ab", b"x");
        m.set("b", b"y");
        let mut m = Arc::new(m);
        let opts = TemplateOptions::default();
        let daemon = default_daemon_info();
        let cx = Cx::new(RenderContext::new(&opts, &daemon));
        assert!(p.process(&mut m, &cx));
        assert_eq!(m.get("c.a"), Some(&b"5"[..]));
        assert_eq!(m.get("c.ab"), Some(&b"x"[..]));
        assert_eq!(m.get("c.b"), None);
        assert_eq!(m.get("n"), Some(&b"5"[..]));
        assert_eq!(
            m.nv.get_typed(b"n").map(|(_, t)| t),
            Some(ValueType::Integer)
        );
    }
}
