//! `$(format-json)` and `$(format-flat-json)`: value-pairs as a JSON object, nested at the
//! dots of the keys (`.json.user` becomes `{"_json":{"user":...}}`), keys in syslog-ng's
//! order (descending byte order, from its walker), type hints honoured with `on-error()`.

use std::sync::Arc;

use crate::template::TypeHint;
use crate::template::escape;
use crate::template::options::OnError;

use super::list;
use super::options::{OptSpec, Parsed};
use super::value_pairs::{PooledCollected, ValuePairs};
use super::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
};

pub(crate) fn register(r: &mut FunctionRegistry) {
    r.register("format-json", Arc::new(FormatJson { flat: false }));
    r.register("format-flat-json", Arc::new(FormatJson { flat: true }));
}

const JSON_OPTS: &[OptSpec] = &[
    OptSpec {
        long: "leave-initial-dot",
        short: None,
        value: false,
    },
    OptSpec {
        long: "key-delimiter",
        short: None,
        value: true,
    },
];

struct FormatJson {
    flat: bool,
}

#[derive(Debug)]
struct FormatJsonPrepared {
    vp: ValuePairs,
    flat: bool,
    delim: u8,
}

impl TemplateFunction for FormatJson {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let (mut vp, extra) = ValuePairs::parse(call, JSON_OPTS)?;
        let mut initial_dot = true;
        let mut delim = b'.';
        for p in extra {
            match p {
                Parsed::Opt("leave-initial-dot", _) => initial_dot = false,
                Parsed::Opt("key-delimiter", Some(v)) => {
                    if v.len() != 1 {
                        return Err(format!(
                            "$(format-json) --key-delimiter only accepts a single character, found: '{v}'"
                        )
                        .into());
                    }
                    delim = v.as_bytes()[0];
                }
                _ => {}
            }
        }
        if initial_dot && delim == b'.' {
            vp.push_transform(".*", b".".to_vec(), b"_".to_vec());
        }
        Ok(Box::new(FormatJsonPrepared {
            vp,
            flat: self.flat,
            delim,
        }))
    }
}

/// JSON writer state, mirroring syslog-ng's callbacks.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    need_comma: bool,
    on_error: OnError,
}

impl Writer<'_> {
    fn key(&mut self, name: &[u8]) {
        if self.need_comma {
            self.out.push(b',');
        }
        self.out.push(b'"');
        escape::append_json(self.out, name, b"\"");
        self.out.push(b'"');
    }

    fn quoted(&mut self, name: &[u8], value: &[u8]) {
        self.key(name);
        self.out.extend_from_slice(b":\"");
        escape::append_json(self.out, value, b"\"");
        self.out.push(b'"');
    }

    fn bare(&mut self, name: &[u8], value: &[u8]) {
        self.key(name);
        self.out.push(b':');
        escape::append_json(self.out, value, b"\"");
    }

    /// Writes one value; `false` means the whole document is to be dropped.
    fn value(&mut self, name: &[u8], hint: TypeHint, v: &[u8]) -> bool {
        let ok = match hint {
            TypeHint::String | TypeHint::DateTime => {
                self.quoted(name, v);
                true
            }
            TypeHint::Literal => {
                self.key(name);
                self.out.push(b':');
                self.out.extend_from_slice(v);
                true
            }
            TypeHint::List => {
                self.key(name);
                self.out.extend_from_slice(b":[");
                for (i, item) in list::scan(super::str::cstr(v)).iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.out.push(b'"');
                    escape::append_json(self.out, super::str::cstr(item), b"\"");
                    self.out.push(b'"');
                }
                self.out.push(b']');
                true
            }
            TypeHint::Int32 | TypeHint::Int64 => self.checked(name, v, is_c_integer(v)),
            TypeHint::Double => self.checked(name, v, is_c_double(v)),
            TypeHint::Boolean => match v.first() {
                Some(b'T' | b't' | b'1') => {
                    self.bare(name, b"true");
                    true
                }
                Some(b'F' | b'f' | b'0') => {
                    self.bare(name, b"false");
                    true
                }
                _ => self.failed(name, v),
            },
        };
        self.need_comma = true;
        ok
    }

    fn checked(&mut self, name: &[u8], v: &[u8], valid: bool) -> bool {
        if valid {
            self.bare(name, v);
            true
        } else {
            self.failed(name, v)
        }
    }

    fn failed(&mut self, name: &[u8], v: &[u8]) -> bool {
        match self.on_error {
            OnError::FallbackToString => {
                self.quoted(name, v);
                true
            }
            OnError::DropProperty => true,
            OnError::DropMessage => false,
        }
    }

    fn obj_start(&mut self, name: Option<&[u8]>) {
        if self.need_comma {
            self.out.push(b',');
        }
        match name {
            Some(n) => {
                self.out.push(b'"');
                escape::append_json(self.out, n, b"\"");
                self.out.extend_from_slice(b"\":{");
            }
            None => self.out.push(b'{'),
        }
        self.need_comma = false;
    }

    fn obj_end(&mut self) {
        self.out.push(b'}');
        self.need_comma = true;
    }
}

/// `strtol(v, &end, 10)` accepting the whole (non-empty) C string.
fn is_c_integer(v: &[u8]) -> bool {
    let v = super::str::cstr(v);
    if v.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < v.len() && matches!(v[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    if i < v.len() && (v[i] == b'+' || v[i] == b'-') {
        i += 1;
    }
    let digits = v[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    // With no digits strtol consumes nothing, so the end is the start: only "" passes, and
    // that is refused above.
    digits > 0 && i + digits == v.len()
}

/// `strtod` accepting the whole C string.
fn is_c_double(v: &[u8]) -> bool {
    let v = super::str::cstr(v);
    let Ok(s) = std::str::from_utf8(v) else {
        return false;
    };
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if t.is_empty() {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return true;
    }
    if unsigned.starts_with("0x") {
        return false;
    }
    match t.parse::<f64>() {
        Ok(f) => f.is_finite(),
        Err(_) => false,
    }
}

/// Splits a key into its path tokens at `delim`; empty tokens are skipped, and an SD-ID's
/// enterprise number (`@32473.1.2`) stays in its token, as syslog-ng's walker does.
fn tokens(name: &[u8], delim: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < name.len() {
        let c = name[i];
        if c == b'@' {
            loop {
                i += 1;
                while i < name.len() && name[i].is_ascii_digit() {
                    i += 1;
                }
                if !(i < name.len()
                    && name[i] == b'.'
                    && name.get(i + 1).is_some_and(u8::is_ascii_digit))
                {
                    break;
                }
            }
        } else if c == delim && start != i {
            out.push(&name[start..i]);
            i += 1;
            start = i;
        } else {
            i += 1;
            while i < name.len() && name[i] != b'@' && name[i] != delim {
                i += 1;
            }
        }
    }
    if start != i {
        out.push(&name[start..i]);
    }
    out
}

impl FormatJsonPrepared {
    /// One document; `false` when a cast failed under `on-error(drop-message)`.
    fn document(&self, inv: &Invocation<'_>, c: &PooledCollected, out: &mut Vec<u8>) -> bool {
        let mut w = Writer {
            out,
            need_comma: false,
            on_error: inv.ctx.options.on_error,
        };
        if self.flat {
            w.out.push(b'{');
        }
        // The open containers: (token, prefix length in bytes of the key).
        let mut stack: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if !self.flat {
            w.obj_start(None);
        }
        let mut ok = true;
        for (name, hint, value) in c.iter().rev() {
            let toks = tokens(name, self.delim);
            if toks.is_empty() {
                continue;
            }
            // Close containers whose prefix the name does not start with.
            while let Some((_, prefix)) = stack.last() {
                if name.starts_with(prefix) {
                    break;
                }
                stack.pop();
                if self.flat {
                    w.need_comma = true;
                } else {
                    w.obj_end();
                }
            }
            for i in stack.len()..toks.len() - 1 {
                let mut prefix = Vec::new();
                for (j, t) in toks[..=i].iter().enumerate() {
                    if j > 0 {
                        prefix.push(self.delim);
                    }
                    prefix.extend_from_slice(t);
                }
                if self.flat {
                    if w.need_comma {
                        w.out.push(b',');
                    }
                    w.need_comma = false;
                } else {
                    w.obj_start(Some(toks[i]));
                }
                stack.push((toks[i].to_vec(), prefix));
            }
            let key = toks[toks.len() - 1];
            let good = if self.flat {
                let mut full = Vec::new();
                if let Some((_, prefix)) = stack.last() {
                    full.extend_from_slice(prefix);
                    full.push(b'.');
                }
                full.extend_from_slice(key);
                w.value(&full, hint, value)
            } else {
                w.value(key, hint, value)
            };
            if !good {
                ok = false;
                break;
            }
        }
        while stack.pop().is_some() {
            if self.flat {
                w.need_comma = true;
            } else {
                w.obj_end();
            }
        }
        if self.flat {
            w.out.push(b'}');
        } else {
            w.obj_end();
        }
        ok
    }
}

impl PreparedFunction for FormatJsonPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let orig = out.len();
        let mut c = PooledCollected::take();
        for m in inv.msgs {
            self.vp.collect(inv, m, &mut c);
            if !self.document(inv, &c, out) {
                out.truncate(orig);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_split() {
        let t = tokens(b"_SDATA.exampleSDID@32473.iut", b'.');
        assert_eq!(t, vec![&b"_SDATA"[..], b"exampleSDID@32473", b"iut"]);
        let t = tokens(b"a..b.", b'.');
        assert_eq!(t, vec![&b"a"[..], b".b"]);
        let t = tokens(b"a@1.2.3.x", b'.');
        assert_eq!(t, vec![&b"a@1.2.3"[..], b"x"]);
    }

    #[test]
    fn numbers() {
        assert!(is_c_integer(b" 5"));
        assert!(!is_c_integer(b"5 "));
        assert!(!is_c_integer(b""));
        assert!(!is_c_integer(b"0x10"));
        assert!(is_c_double(b"1e3"));
        assert!(!is_c_double(b"abc"));
    }
}
