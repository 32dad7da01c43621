//! value-pairs: the selection of name-value pairs that `$(format-json)`, `$(names)` and
//! `$(values)` print, with syslog-ng's command-line syntax: `--scope`, `--key`, `--exclude`,
//! `--pair`, `--rekey` with `--add-prefix`/`--replace-prefix`/`--shift`/`--shift-levels`,
//! `--subkeys`, `--omit-empty-values`, `--cast`/`--no-cast`/`--auto-cast`, and bare
//! `name=value`/`pattern` arguments.
//!
//! Selection follows syslog-ng 3.38's `value-pairs.c`: the message's name-value pairs are
//! taken by scope (or by pattern), macros by scope sets and patterns, explicit pairs always;
//! patterns are applied in order and the last match decides; keys are renamed by the
//! transformations whose glob matches; the result is sorted by the final key (a later entry
//! with the same key replaces an earlier one).

use std::cell::RefCell;
use std::sync::Arc;

use crate::message::{Builtin, LogMessage};
use crate::template::macros::{self, Macro};
use crate::template::{RenderContext, Template, TypeHint};

use super::list;
use super::options::{self, OptSpec, Parsed};
use super::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
};

const NV_PAIRS: u8 = 0x01;
const DOT_NV_PAIRS: u8 = 0x02;
const RFC3164: u8 = 0x04;
const RFC5424: u8 = 0x08;
const ALL_MACROS: u8 = 0x10;
const SELECTED_MACROS: u8 = 0x20;
const SDATA: u8 = 0x40;
const EVERYTHING: u8 = 0x7f;

fn scope_bits(name: &str) -> Option<u8> {
    Some(match name {
        "nv-pairs" => NV_PAIRS,
        "dot-nv-pairs" => DOT_NV_PAIRS,
        "all-nv-pairs" => NV_PAIRS | DOT_NV_PAIRS,
        "rfc3164" | "core" | "base" => RFC3164,
        "rfc5424" | "syslog-proto" => RFC5424,
        "all-macros" => ALL_MACROS,
        "selected-macros" => SELECTED_MACROS,
        "sdata" => SDATA,
        "everything" => EVERYTHING,
        _ => return None,
    })
}

/// A glob (`*` and `?`), as GLib's `GPatternSpec`.
#[derive(Clone, Debug)]
pub struct Glob(Vec<u8>);

impl Glob {
    /// A pattern.
    pub fn new(p: &str) -> Glob {
        Glob(p.as_bytes().to_vec())
    }

    /// Whether `s` matches.
    pub fn matches(&self, s: &[u8]) -> bool {
        let p = &self.0;
        let (mut pi, mut si) = (0, 0);
        let (mut star, mut mark) = (None, 0);
        while si < s.len() {
            if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) && p[pi] != b'*' {
                pi += 1;
                si += 1;
            } else if pi < p.len() && p[pi] == b'*' {
                star = Some(pi);
                mark = si;
                pi += 1;
            } else if let Some(st) = star {
                pi = st + 1;
                mark += 1;
                si = mark;
            } else {
                return false;
            }
        }
        while pi < p.len() && p[pi] == b'*' {
            pi += 1;
        }
        pi == p.len()
    }
}

#[derive(Clone, Debug)]
enum Transform {
    AddPrefix(Vec<u8>),
    Shift(usize),
    ShiftLevels(usize),
    ReplacePrefix(Vec<u8>, Vec<u8>),
}

impl Transform {
    fn apply(&self, key: &mut Vec<u8>) {
        match self {
            Transform::AddPrefix(p) => {
                key.splice(0..0, p.iter().copied());
            }
            Transform::Shift(n) => {
                key.drain(..(*n).min(key.len()));
            }
            Transform::ShiftLevels(n) => {
                let mut cut = 0;
                for _ in 0..*n {
                    match memchr::memchr(b'.', &key[cut..]) {
                        Some(p) => cut += p + 1,
                        None => {
                            cut = key.len();
                            break;
                        }
                    }
                }
                key.drain(..cut);
            }
            Transform::ReplacePrefix(old, new) => {
                if key.starts_with(old) {
                    key.splice(..old.len(), new.iter().copied());
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
struct TransformSet {
    glob: Glob,
    transforms: Vec<Transform>,
}

/// One built-in value a scope brings in: a macro or a name-value pair, under a name.
#[derive(Clone, Debug)]
enum BuiltinSpec {
    Macro(&'static str, Macro),
    Value(&'static str, Builtin),
}

impl BuiltinSpec {
    fn name(&self) -> &'static str {
        match self {
            BuiltinSpec::Macro(n, _) | BuiltinSpec::Value(n, _) => n,
        }
    }

    fn of(name: &'static str) -> BuiltinSpec {
        match Macro::lookup(name) {
            Some(m) => BuiltinSpec::Macro(name, m),
            None => BuiltinSpec::Value(
                name,
                Builtin::from_name(name.as_bytes()).unwrap_or(Builtin::Program),
            ),
        }
    }
}

const RFC3164_SET: &[&str] = &[
    "FACILITY", "PRIORITY", "HOST", "PROGRAM", "PID", "MESSAGE", "DATE",
];
const RFC5424_SET: &[&str] = &["MSGID"];
const SELECTED_SET: &[&str] = &["TAGS", "SOURCEIP", "SEQNUM"];

/// A compiled value-pairs selection.
#[derive(Debug, Default)]
pub struct ValuePairs {
    scopes: u8,
    patterns: Vec<(Glob, bool)>,
    builtins: Vec<BuiltinSpec>,
    pairs: Vec<(Vec<u8>, Template)>,
    transforms: Vec<TransformSet>,
    /// `--omit-empty-values`.
    pub omit_empty: bool,
}

const VP_OPTS: &[OptSpec] = &[
    OptSpec {
        long: "scope",
        short: Some('s'),
        value: true,
    },
    OptSpec {
        long: "exclude",
        short: Some('x'),
        value: true,
    },
    OptSpec {
        long: "key",
        short: Some('k'),
        value: true,
    },
    OptSpec {
        long: "rekey",
        short: Some('r'),
        value: true,
    },
    OptSpec {
        long: "pair",
        short: Some('p'),
        value: true,
    },
    OptSpec {
        long: "shift",
        short: Some('S'),
        value: true,
    },
    OptSpec {
        long: "shift-levels",
        short: None,
        value: true,
    },
    OptSpec {
        long: "add-prefix",
        short: Some('A'),
        value: true,
    },
    OptSpec {
        long: "replace-prefix",
        short: Some('R'),
        value: true,
    },
    OptSpec {
        long: "replace",
        short: None,
        value: true,
    },
    OptSpec {
        long: "subkeys",
        short: None,
        value: true,
    },
    OptSpec {
        long: "omit-empty-values",
        short: None,
        value: false,
    },
    OptSpec {
        long: "cast",
        short: None,
        value: false,
    },
    OptSpec {
        long: "no-cast",
        short: None,
        value: false,
    },
    OptSpec {
        long: "auto-cast",
        short: None,
        value: false,
    },
];

/// Splits `name(value)` into the type hint and the value, as `value_pairs_parse_type`.
fn parse_type(spec: &str) -> (Option<&str>, &str) {
    let b = spec.as_bytes();
    let mut sp = 0;
    while sp < b.len() && (b[sp].is_ascii_alphanumeric() || b[sp] == b'_') {
        sp += 1;
    }
    let name_end = sp;
    while sp < b.len() && (b[sp] == b' ' || b[sp] == b'\t') {
        sp += 1;
    }
    let first_ok = b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
    if b.get(sp) != Some(&b'(') || !first_ok {
        return (None, spec);
    }
    match spec.rfind(')') {
        Some(ep) if ep == spec.len() - 1 && ep > sp => (Some(&spec[..name_end]), &spec[sp + 1..ep]),
        _ => (None, spec),
    }
}

struct CmdlineState {
    vp: ValuePairs,
    key: Option<String>,
    current: Option<TransformSet>,
}

impl CmdlineState {
    fn finish_rekey(&mut self) {
        if let Some(t) = self.current.take() {
            self.vp.transforms.push(t);
        }
        self.key = None;
    }

    fn start_key(&mut self, key: &str) {
        self.finish_rekey();
        self.key = Some(key.to_owned());
    }

    fn set_for(&mut self, opt: &str) -> Result<&mut TransformSet, PrepareError> {
        if self.current.is_none() {
            let Some(key) = self.key.take() else {
                return Err(format!(
                    "Error parsing value-pairs: --{opt} used without --key or --rekey"
                )
                .into());
            };
            self.current = Some(TransformSet {
                glob: Glob::new(&key),
                transforms: Vec::new(),
            });
        }
        self.current
            .as_mut()
            .ok_or_else(|| PrepareError::from("Error parsing value-pairs"))
    }

    fn add_pair(&mut self, call: &FunctionCall<'_>, v: &str) -> Result<(), PrepareError> {
        self.finish_rekey();
        let Some((k, val)) = v.split_once('=') else {
            return Err(
                "Error parsing value-pairs: expected an equal sign in key=value pair".into(),
            );
        };
        let (hint, val) = parse_type(val);
        let mut t = call.compile_arg(val)?;
        if let Some(h) = hint {
            let th = TypeHint::parse(h).ok_or_else(|| {
                PrepareError::Message(format!("Unknown type specified in type hinting: {h}"))
            })?;
            t.set_type_hint(th);
        }
        self.vp.pairs.push((k.as_bytes().to_vec(), t));
        Ok(())
    }

    fn add_keys(&mut self, v: &str) {
        self.start_key(v);
        for k in v.split(',') {
            self.vp.patterns.push((Glob::new(k), true));
        }
    }
}

fn positive(opt: &str, v: &str) -> Result<usize, PrepareError> {
    let n = super::str::parse_c_number(v).unwrap_or(0);
    if n <= 0 {
        return Err(format!(
            "Error parsing value-pairs, argument to --{opt} is not numeric or not a positive number"
        )
        .into());
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

impl ValuePairs {
    /// Parses a value-pairs command line; options in `extra` (the calling function's own) are
    /// returned for the caller, in order.
    pub fn parse(
        call: &FunctionCall<'_>,
        extra: &[OptSpec],
    ) -> Result<(ValuePairs, Vec<Parsed>), PrepareError> {
        let mut specs: Vec<OptSpec> = VP_OPTS.to_vec();
        specs.extend_from_slice(extra);
        let parsed = options::parse(call.args, &specs)?;
        let mut st = CmdlineState {
            vp: ValuePairs::default(),
            key: None,
            current: None,
        };
        let mut rest = Vec::new();
        for p in parsed {
            match p {
                Parsed::Opt("scope", Some(v)) => {
                    st.finish_rekey();
                    for s in v.split(',') {
                        if s == "none" {
                            st.vp.scopes = 0;
                        } else {
                            let bits = scope_bits(s).ok_or_else(|| {
                                PrepareError::Message(format!(
                                    "Error parsing value-pairs: unknown scope {s}"
                                ))
                            })?;
                            st.vp.scopes |= bits;
                        }
                    }
                }
                Parsed::Opt("exclude", Some(v)) => {
                    st.finish_rekey();
                    for k in v.split(',') {
                        st.vp.patterns.push((Glob::new(k), false));
                    }
                }
                Parsed::Opt("key", Some(v)) => st.add_keys(&v),
                Parsed::Opt("rekey", Some(v)) => st.start_key(&v),
                Parsed::Opt("pair", Some(v)) => st.add_pair(call, &v)?,
                Parsed::Opt("shift", Some(v)) => {
                    let n = positive("shift", &v)?;
                    st.set_for("shift")?.transforms.push(Transform::Shift(n));
                }
                Parsed::Opt("shift-levels", Some(v)) => {
                    let n = positive("shift-levels", &v)?;
                    st.set_for("shift-levels")?
                        .transforms
                        .push(Transform::ShiftLevels(n));
                }
                Parsed::Opt("add-prefix", Some(v)) => {
                    st.set_for("add-prefix")?
                        .transforms
                        .push(Transform::AddPrefix(v.into_bytes()));
                }
                Parsed::Opt(o @ ("replace-prefix" | "replace"), Some(v)) => {
                    let set = st.set_for(if o == "replace" { "replace-prefix" } else { o })?;
                    let Some((old, new)) = v.split_once('=') else {
                        return Err("Error parsing value-pairs: rekey replace-prefix construct should be in the format string=replacement".into());
                    };
                    set.transforms.push(Transform::ReplacePrefix(
                        old.as_bytes().to_vec(),
                        new.as_bytes().to_vec(),
                    ));
                }
                Parsed::Opt("subkeys", Some(v)) => {
                    if v.is_empty() {
                        return Err(
                            "Error parsing value-pairs: --subkeys requires a non-empty argument"
                                .into(),
                        );
                    }
                    let pat = format!("{v}*");
                    st.vp.patterns.push((Glob::new(&pat), true));
                    st.start_key(&pat);
                    st.set_for("subkeys")?
                        .transforms
                        .push(Transform::ReplacePrefix(v.into_bytes(), Vec::new()));
                }
                Parsed::Opt("omit-empty-values", None) => st.vp.omit_empty = true,
                // How the types of name-value pairs carry over. sluice's value-pairs writes
                // every pair without a type hint as a string: syslog-ng 3.x's default, what
                // `--cast` asks for, and what `--auto-cast` means in 3.x mode (it only
                // silences 3.38's warning, which sluice does not give). `--no-cast` (keep
                // the types Python gave values) is not done yet: refused.
                Parsed::Opt("cast" | "auto-cast", None) => {}
                Parsed::Opt("no-cast", None) => {
                    return Err("--no-cast is not supported by the runtime yet".into());
                }
                Parsed::Arg(a) => {
                    if a.contains('=') {
                        st.add_pair(call, &a)?;
                    } else {
                        st.add_keys(&a);
                    }
                }
                other => rest.push(other),
            }
        }
        st.finish_rekey();
        let mut vp = st.vp;
        vp.update_builtins();
        Ok((vp, rest))
    }

    /// Appends a transformation applied to every key, after the user's ones.
    pub(crate) fn push_transform(&mut self, glob: &str, t: Vec<u8>, new: Vec<u8>) {
        self.transforms.push(TransformSet {
            glob: Glob::new(glob),
            transforms: vec![Transform::ReplacePrefix(t, new)],
        });
    }

    fn find_in_set(&self, name: &str, default: bool) -> bool {
        let mut inc = default;
        for (g, include) in &self.patterns {
            if g.matches(name.as_bytes()) {
                inc = *include;
            }
        }
        inc
    }

    fn merge(&mut self, names: &[&'static str], default: bool) {
        for &n in names {
            if self.find_in_set(n, default) {
                self.builtins.push(BuiltinSpec::of(n));
            }
        }
    }

    fn update_builtins(&mut self) {
        self.builtins.clear();
        let all = Macro::all_names();
        if !self.patterns.is_empty() {
            self.merge(all, false);
        }
        if self.scopes & (RFC3164 | RFC5424 | SELECTED_MACROS) != 0 {
            self.merge(RFC3164_SET, true);
        }
        if self.scopes & RFC5424 != 0 {
            self.merge(RFC5424_SET, true);
        }
        if self.scopes & SELECTED_MACROS != 0 {
            self.merge(SELECTED_SET, true);
        }
        if self.scopes & ALL_MACROS != 0 {
            self.merge(all, true);
        }
    }

    fn transform_key(&self, key: &mut Vec<u8>) {
        for set in &self.transforms {
            if set.glob.matches(key) {
                for t in &set.transforms {
                    t.apply(key);
                }
            }
        }
    }

    /// Collects the selected pairs of `msg` into `out`, sorted by key (ascending).
    pub fn collect(&self, inv: &Invocation<'_>, msg: &LogMessage, out: &mut Collected) {
        out.clear();
        let ctx: &RenderContext<'_> = inv.ctx;
        if self.scopes & (NV_PAIRS | DOT_NV_PAIRS | SDATA | RFC5424) != 0
            || !self.patterns.is_empty()
        {
            let builtins = Builtin::ALL
                .iter()
                .filter(|b| **b != Builtin::SourceIp)
                .filter_map(|b| Some((b.name().as_bytes(), msg.get_builtin(*b)?)));
            for (name, value) in builtins.chain(msg.nv.extras()) {
                if self.omit_empty && value.is_empty() {
                    continue;
                }
                let dot = name.first() == Some(&b'.');
                let mut inc = (dot && self.scopes & DOT_NV_PAIRS != 0)
                    || (!dot && self.scopes & NV_PAIRS != 0)
                    || (name.starts_with(b".SDATA.") && self.scopes & (SDATA | RFC5424) != 0);
                for (g, include) in &self.patterns {
                    if g.matches(name) {
                        inc = *include;
                    }
                }
                if inc {
                    out.push(self, name, TypeHint::String, false, |v| {
                        v.extend_from_slice(value)
                    });
                }
            }
        }
        let one = [msg];
        for spec in &self.builtins {
            let name = spec.name().as_bytes();
            out.push(self, name, TypeHint::String, true, |v| match spec {
                BuiltinSpec::Macro(_, m) => macros::expand(*m, msg, ctx, false, v),
                BuiltinSpec::Value(_, b) => v.extend_from_slice(msg.get_builtin(*b).unwrap_or(&[])),
            });
        }
        for (name, t) in &self.pairs {
            out.push(self, name, t.type_hint(), self.omit_empty, |v| {
                t.render_context(&one, ctx, v)
            });
        }
        out.finish();
    }
}

/// Collected pairs: keys and values in two buffers, entries sorted by key.
#[derive(Debug, Default)]
pub struct Collected {
    keys: Vec<u8>,
    values: Vec<u8>,
    entries: Vec<Entry>,
    tmp: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: (u32, u32),
    value: (u32, u32),
    hint: TypeHint,
    seq: u32,
}

impl Collected {
    fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
        self.entries.clear();
    }

    fn push(
        &mut self,
        vp: &ValuePairs,
        name: &[u8],
        hint: TypeHint,
        skip_empty: bool,
        value: impl FnOnce(&mut Vec<u8>),
    ) {
        let vs = self.values.len() as u32;
        value(&mut self.values);
        if skip_empty && self.values.len() as u32 == vs {
            return;
        }
        self.tmp.clear();
        self.tmp.extend_from_slice(name);
        let mut key = std::mem::take(&mut self.tmp);
        vp.transform_key(&mut key);
        let ks = self.keys.len() as u32;
        self.keys.extend_from_slice(&key);
        self.tmp = key;
        let seq = self.entries.len() as u32;
        self.entries.push(Entry {
            key: (ks, self.keys.len() as u32),
            value: (vs, self.values.len() as u32),
            hint,
            seq,
        });
    }

    fn key(&self, e: &Entry) -> &[u8] {
        &self.keys[e.key.0 as usize..e.key.1 as usize]
    }

    fn finish(&mut self) {
        let keys = &self.keys;
        let k = |e: &Entry| &keys[e.key.0 as usize..e.key.1 as usize];
        self.entries
            .sort_by(|a, b| k(a).cmp(k(b)).then(a.seq.cmp(&b.seq)));
        // The later of equal keys wins.
        let mut w = 0;
        for i in 0..self.entries.len() {
            if i + 1 < self.entries.len() && k(&self.entries[i]) == k(&self.entries[i + 1]) {
                continue;
            }
            self.entries[w] = self.entries[i];
            w += 1;
        }
        self.entries.truncate(w);
    }

    /// The pairs in ascending key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], TypeHint, &[u8])> {
        self.entries.iter().map(|e| {
            (
                self.key(e),
                e.hint,
                &self.values[e.value.0 as usize..e.value.1 as usize],
            )
        })
    }
}

thread_local! {
    static COLLECTED: RefCell<Vec<Collected>> = const { RefCell::new(Vec::new()) };
}

/// A pooled [`Collected`], returned to the per-thread pool on drop.
pub struct PooledCollected(Collected);

impl PooledCollected {
    /// Takes one from the pool.
    pub fn take() -> PooledCollected {
        let c = COLLECTED
            .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
            .ok()
            .flatten()
            .unwrap_or_default();
        PooledCollected(c)
    }
}

impl std::ops::Deref for PooledCollected {
    type Target = Collected;
    fn deref(&self) -> &Collected {
        &self.0
    }
}

impl std::ops::DerefMut for PooledCollected {
    fn deref_mut(&mut self) -> &mut Collected {
        &mut self.0
    }
}

impl Drop for PooledCollected {
    fn drop(&mut self) {
        let c = std::mem::take(&mut self.0);
        if c.values.capacity() > 1 << 20 {
            return;
        }
        let _ = COLLECTED.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if p.len() < 8 {
                    p.push(c);
                }
            }
        });
    }
}

pub(crate) fn register(r: &mut FunctionRegistry) {
    r.register("names", Arc::new(NamesValues(false)));
    r.register("values", Arc::new(NamesValues(true)));
}

/// `$(names ...)` and `$(values ...)`: the selected names, or their values, as a list in
/// name order.
struct NamesValues(bool);

#[derive(Debug)]
struct NamesValuesPrepared {
    vp: ValuePairs,
    values: bool,
}

impl TemplateFunction for NamesValues {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let (vp, _) = ValuePairs::parse(call, &[])?;
        Ok(Box::new(NamesValuesPrepared { vp, values: self.0 }))
    }
}

impl PreparedFunction for NamesValuesPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let mut c = PooledCollected::take();
        for (i, m) in inv.msgs.iter().enumerate() {
            self.vp.collect(inv, m, &mut c);
            if i > 0 && c.iter().next().is_some() {
                out.push(b',');
            }
            for (j, (k, _, v)) in c.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                list::push_item(out, if self.values { v } else { k });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(Glob::new(".json.*").matches(b".json.user"));
        assert!(Glob::new("H*").matches(b"HOST"));
        assert!(!Glob::new("H*").matches(b"PID"));
        assert!(Glob::new("a?c").matches(b"abc"));
        assert!(Glob::new("*").matches(b""));
        assert!(!Glob::new("P*D").matches(b"PIX"));
    }

    #[test]
    fn type_specs() {
        assert_eq!(parse_type("int($num)"), (Some("int"), "$num"));
        assert_eq!(parse_type("$MSG"), (None, "$MSG"));
        assert_eq!(parse_type("int( 5)"), (Some("int"), " 5"));
        assert_eq!(parse_type("foo(1) x"), (None, "foo(1) x"));
    }

    #[test]
    fn transforms() {
        let mut k = b".json.user".to_vec();
        Transform::ShiftLevels(1).apply(&mut k);
        assert_eq!(k, b"json.user");
        Transform::ShiftLevels(5).apply(&mut k);
        assert_eq!(k, b"");
    }
}
