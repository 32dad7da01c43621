//! The template compiler: text to elements, following syslog-ng 3.38's `compiler.c` quirk for
//! quirk (what `$!` means, where a `${...}` ends, how function arguments split and quote,
//! `@N` context references), because users' templates rely on them.

use crate::message::Builtin;

use super::error::CompileError;
use super::functions::FunctionCall;
use super::macros::Macro;
use super::template::{CompileEnv, Elem, ValueName};

/// Characters of an unbraced `$NAME`.
fn is_macro_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// GLib's `g_ascii_isspace`.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

struct Compiler<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    lit: Vec<u8>,
    elems: Vec<Elem>,
    env: &'a CompileEnv,
}

/// Compiles `text` into elements.
pub(crate) fn compile(text: &str, env: &CompileEnv) -> Result<Vec<Elem>, CompileError> {
    let mut c = Compiler {
        src: text.as_bytes(),
        text,
        pos: 0,
        lit: Vec::new(),
        elems: Vec::new(),
        env,
    };
    while c.pos < c.src.len() {
        if c.src[c.pos] == b'$' {
            c.dollar()?;
        } else {
            let start = c.pos;
            let end = memchr::memchr(b'$', &c.src[start..]).map_or(c.src.len(), |p| start + p);
            c.lit.extend_from_slice(&c.src[start..end]);
            c.pos = end;
        }
    }
    c.flush();
    Ok(c.elems)
}

impl Compiler<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn flush(&mut self) {
        if !self.lit.is_empty() {
            let lit = std::mem::take(&mut self.lit);
            match self.elems.last_mut() {
                Some(Elem::Text(prev)) => {
                    let mut v = prev.to_vec();
                    v.extend_from_slice(&lit);
                    *prev = v.into_boxed_slice();
                }
                _ => self.elems.push(Elem::Text(lit.into_boxed_slice())),
            }
        }
    }

    fn push(&mut self, e: Elem) {
        self.flush();
        self.elems.push(e);
    }

    fn dollar(&mut self) -> Result<(), CompileError> {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some(b'{') => self.braced(),
            Some(b'(') => self.function(start),
            Some(c) if is_macro_char(c) => {
                let s = self.pos;
                while self.peek().is_some_and(is_macro_char) {
                    self.pos += 1;
                }
                let name = &self.text[s..self.pos];
                let e = name_elem(name, None, 0);
                self.push(e);
                Ok(())
            }
            Some(b'*') => {
                // `$*` (all match groups as a list) exists in 3.38 and is empty unless a
                // regexp match stored groups; sluice has none here.
                self.pos += 1;
                self.flush();
                Ok(())
            }
            Some(c) => {
                if c != b'$' {
                    self.lit.push(b'$');
                }
                self.lit.push(c);
                self.pos += 1;
                Ok(())
            }
            None => {
                self.lit.push(b'$');
                Ok(())
            }
        }
    }

    /// `@N` after a reference: the Nth message of a correlation context. syslog-ng's
    /// accumulation is `ref += ref * 10 + digit` (so `@12` is 13 + 1), kept as it is.
    fn msg_ref(&mut self) -> u32 {
        if self.peek() != Some(b'@') {
            return 0;
        }
        self.pos += 1;
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                let mut r: u32 = 0;
                while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
                    r = r
                        .saturating_add(r.saturating_mul(10))
                        .saturating_add(u32::from(c - b'0'));
                    self.pos += 1;
                }
                r.saturating_add(1)
            }
            // `@@` is one literal `@`; `@x` keeps its `@` as text.
            Some(b'@') => 0,
            _ => {
                self.pos -= 1;
                0
            }
        }
    }

    fn braced(&mut self) -> Result<(), CompileError> {
        self.pos += 1; // past '{'
        let start = self.pos;
        let Some(close) = memchr::memchr(b'}', &self.src[start..]).map(|p| start + p) else {
            return Err(CompileError::MissingBrace {
                pos: self.src.len(),
            });
        };
        self.pos = close + 1;
        let inner = &self.src[start..close];
        let (name_end, default) = match memchr::memchr(b':', inner) {
            Some(colon) => {
                let token = start + colon + 1;
                if self.src.get(token) != Some(&b'-') {
                    return Err(CompileError::UnknownSubstitution { pos: token });
                }
                let d = self.src.get(token + 1..close).unwrap_or(&[]);
                (start + colon, Some(d.to_vec().into_boxed_slice()))
            }
            None => (close, None),
        };
        let name = &self.text[start..name_end];
        let r = self.msg_ref();
        let e = name_elem(name, default, r);
        self.push(e);
        Ok(())
    }

    fn function(&mut self, dollar: usize) -> Result<(), CompileError> {
        let args = self.arg_list()?;
        self.pos += 1; // past ')'
        let r = self.msg_ref();
        let Some((name, rest)) = args.split_first() else {
            // `$()` is nothing at all, and (as in syslog-ng, whose elements carry the text
            // before them) the literal text since the previous element goes with it.
            self.lit.clear();
            return Ok(());
        };
        let f = self
            .env
            .functions
            .get(name)
            .ok_or_else(|| CompileError::UnknownFunction {
                name: name.clone(),
                pos: dollar,
            })?;
        let call = FunctionCall {
            name,
            args: rest,
            env: self.env,
        };
        let prepared = f.prepare(&call).map_err(|e| match e {
            super::functions::PrepareError::Message(message) => CompileError::Function {
                name: name.clone(),
                message,
                pos: dollar,
            },
            super::functions::PrepareError::Compile(e) => e.shifted(dollar),
        })?;
        self.push(Elem::Func {
            f: prepared,
            msg_ref: r,
        });
        Ok(())
    }

    /// Splits `(name arg "quoted arg" (nested parens) ...)` as syslog-ng does: whitespace
    /// separates arguments at the top level only, quotes are removed at the top level and
    /// kept inside nested parentheses, a backslash takes the next character literally.
    fn arg_list(&mut self) -> Result<Vec<String>, CompileError> {
        let src = self.src;
        let mut args = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut has_value = false;
        let mut parens = 1;
        self.pos += 1; // past '('
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        while let Some(c) = self.peek() {
            match c {
                b'\\' => {
                    self.pos += 1;
                    let Some(n) = self.peek() else { break };
                    buf.push(n);
                    self.pos += 1;
                    has_value = true;
                    continue;
                }
                b'(' => parens += 1,
                b')' => {
                    parens -= 1;
                    if parens == 0 {
                        break;
                    }
                }
                b'"' | b'\'' => {
                    let Some(end) =
                        memchr::memchr(c, &src[self.pos + 1..]).map(|p| self.pos + 1 + p)
                    else {
                        return Err(CompileError::UnbalancedFunction { pos: self.pos });
                    };
                    if parens == 1 {
                        buf.extend_from_slice(&src[self.pos + 1..end]);
                    } else {
                        buf.extend_from_slice(&src[self.pos..=end]);
                    }
                    self.pos = end + 1;
                    has_value = true;
                    continue;
                }
                c if parens == 1 && is_space(c) => {
                    args.push(String::from_utf8_lossy(&buf).into_owned());
                    buf.clear();
                    has_value = false;
                    while self.peek().is_some_and(is_space) {
                        self.pos += 1;
                    }
                    continue;
                }
                _ => {}
            }
            buf.push(c);
            self.pos += 1;
            has_value = true;
        }
        if has_value {
            args.push(String::from_utf8_lossy(&buf).into_owned());
        }
        if self.peek() != Some(b')') {
            return Err(CompileError::UnbalancedFunction { pos: self.pos });
        }
        Ok(args)
    }
}

/// A `$NAME`/`${NAME}` reference: a macro, or a name-value pair.
fn name_elem(name: &str, default: Option<Box<[u8]>>, msg_ref: u32) -> Elem {
    match Macro::lookup(name) {
        Some(m) => Elem::Macro {
            m,
            default,
            msg_ref,
        },
        None => Elem::Value {
            name: match Builtin::from_name(name.as_bytes()) {
                Some(b) => ValueName::Builtin(b),
                None => ValueName::Other(name.into()),
            },
            default,
            msg_ref,
        },
    }
}
