//! String functions of syslog-ng's basicfuncs: echo, length, substr, strip, sanitize,
//! lowercase, uppercase, replace-delimiter, padding, binary, indent-multi-line.

use std::sync::Arc;

use super::options::{self, OptSpec, Parsed};
use super::{
    Args, FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction,
    TemplateFunction, parse_dec, register_simple,
};
use crate::template::Template;

pub(crate) fn register(r: &mut FunctionRegistry) {
    register_simple(r, &["echo"], echo);
    register_simple(r, &["length"], length);
    register_simple(r, &["substr"], substr);
    register_simple(r, &["strip"], strip);
    register_simple(r, &["lowercase"], lowercase);
    register_simple(r, &["uppercase"], uppercase);
    register_simple(r, &["replace-delimiter"], replace_delimiter);
    register_simple(r, &["indent-multi-line"], indent_multi_line);
    r.register("sanitize", Arc::new(Sanitize));
    r.register("padding", Arc::new(Padding));
    r.register("binary", Arc::new(Binary));
}

/// Appends the arguments separated by `sep`.
pub(crate) fn join(args: &[Vec<u8>], sep: u8, out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend_from_slice(a);
    }
}

/// The part of `s` before its first NUL (what C string functions see).
pub(crate) fn cstr(s: &[u8]) -> &[u8] {
    match memchr::memchr(0, s) {
        Some(p) => &s[..p],
        None => s,
    }
}

fn echo(args: &[Vec<u8>], out: &mut Vec<u8>) {
    join(args, b' ', out);
}

fn length(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(a.len().to_string().as_bytes());
    }
}

/// `$(substr STR START [LEN])`, negative START/LEN counting from the end.
fn substr(args: &[Vec<u8>], out: &mut Vec<u8>) {
    if args.len() < 2 || args.len() > 3 {
        return;
    }
    let s = &args[0];
    let slen = s.len() as i64;
    let Some(mut start) = parse_dec(cstr(&args[1])) else {
        return;
    };
    let mut len = if args.len() > 2 {
        match parse_dec(cstr(&args[2])) {
            Some(l) => l,
            None => return,
        }
    } else {
        slen
    };
    if len < 0 && -len > slen {
        return;
    } else if len > slen {
        len = slen;
    }
    if start >= slen || (start < 0 && -start > slen) {
        return;
    }
    if len < 0 && ((start < 0 && start > len) || (start >= 0 && len + slen - start < 0)) {
        return;
    }
    if start < 0 {
        start = (start + slen).max(0);
    }
    if len < 0 {
        len += slen - start;
        if len < 0 {
            return;
        }
    }
    if start >= slen {
        return;
    }
    if start + len > slen {
        len = slen - start;
    }
    if len == 0 {
        return;
    }
    out.extend_from_slice(&s[start as usize..(start + len) as usize]);
}

/// C `isspace` in the C locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn strip(args: &[Vec<u8>], out: &mut Vec<u8>) {
    let initial = out.len();
    for a in args {
        let end = a.iter().rposition(|&c| !is_c_space(c)).map_or(0, |p| p + 1);
        if end == 0 {
            continue;
        }
        let start = a.iter().position(|&c| !is_c_space(c)).unwrap_or(0);
        if out.len() > initial {
            out.push(b' ');
        }
        out.extend_from_slice(&a[start..end]);
    }
}

/// Applies a per-character case mapping to the valid UTF-8 parts, copying the rest.
fn map_case(s: &[u8], out: &mut Vec<u8>, upper: bool) {
    let s = cstr(s);
    for chunk in s.utf8_chunks() {
        let v = chunk.valid();
        if upper {
            out.extend_from_slice(v.to_uppercase().as_bytes());
        } else {
            out.extend_from_slice(v.to_lowercase().as_bytes());
        }
        out.extend_from_slice(chunk.invalid());
    }
}

fn lowercase(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        map_case(a, out, false);
    }
}

fn uppercase(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        map_case(a, out, true);
    }
}

/// `$(replace-delimiter DELIMITERS NEW STR)`: every character of DELIMITERS in STR becomes
/// the first character of NEW (`g_strdelimit`).
fn replace_delimiter(args: &[Vec<u8>], out: &mut Vec<u8>) {
    if args.len() != 3 {
        return;
    }
    let delims = cstr(&args[0]);
    let new = cstr(&args[1]).first().copied().unwrap_or(0);
    for &c in cstr(&args[2]) {
        if delims.contains(&c) {
            if new == 0 {
                // The C string ends here.
                return;
            }
            out.push(new);
        } else {
            out.push(c);
        }
    }
}

/// Joins the arguments with spaces and puts a tab after every newline that is not already
/// followed by one (also after a final newline).
fn indent_multi_line(args: &[Vec<u8>], out: &mut Vec<u8>) {
    let start = out.len();
    join(args, b' ', out);
    if memchr::memchr(b'\n', &out[start..]).is_none() {
        return;
    }
    let text = out.split_off(start);
    for (i, &c) in text.iter().enumerate() {
        out.push(c);
        if c == b'\n' && text.get(i + 1) != Some(&b'\t') {
            out.push(b'\t');
        }
    }
}

/// `$(sanitize [--ctrl-chars|-c] [--no-ctrl-chars|-C] [--invalid-chars CHARS|-i CHARS]
/// [--replacement C|-r C] ARGS...)`: control characters and the invalid characters (`/` by
/// default) become the replacement (`_`); several arguments are joined with `/`.
struct Sanitize;

#[derive(Debug)]
struct SanitizePrepared {
    args: Vec<Template>,
    ctrl: bool,
    invalid: Vec<u8>,
    replacement: u8,
}

const SANITIZE_OPTS: &[OptSpec] = &[
    OptSpec {
        long: "ctrl-chars",
        short: Some('c'),
        value: false,
    },
    OptSpec {
        long: "no-ctrl-chars",
        short: Some('C'),
        value: false,
    },
    OptSpec {
        long: "invalid-chars",
        short: Some('i'),
        value: true,
    },
    OptSpec {
        long: "replacement",
        short: Some('r'),
        value: true,
    },
];

impl TemplateFunction for Sanitize {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let mut ctrl = true;
        let mut invalid = b"/".to_vec();
        let mut replacement = b'_';
        let mut rest = Vec::new();
        for p in options::parse(call.args, SANITIZE_OPTS)? {
            match p {
                Parsed::Opt("ctrl-chars", _) => ctrl = true,
                Parsed::Opt("no-ctrl-chars", _) => ctrl = false,
                Parsed::Opt("invalid-chars", Some(v)) => invalid = v.into_bytes(),
                Parsed::Opt("replacement", Some(v)) => {
                    replacement = v.as_bytes().first().copied().unwrap_or(0);
                }
                Parsed::Arg(a) => rest.push(a),
                Parsed::Opt(..) => {}
            }
        }
        Ok(Box::new(SanitizePrepared {
            args: call.compile_args(&rest)?,
            ctrl,
            invalid,
            replacement,
        }))
    }
}

impl PreparedFunction for SanitizePrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let args = Args::render(&self.args, inv);
        for (i, a) in args.get().iter().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            for &c in a {
                // strchr() finds the terminating NUL too, so NUL is always replaced.
                if (self.ctrl && c < 32) || c == 0 || self.invalid.contains(&c) {
                    out.push(self.replacement);
                } else {
                    out.push(c);
                }
            }
        }
    }
}

/// `$(padding STR WIDTH [PATTERN])`: left-pads STR to WIDTH with PATTERN repeated (spaces by
/// default). WIDTH and PATTERN are fixed at compile time, as in syslog-ng.
struct Padding;

#[derive(Debug)]
struct PaddingPrepared {
    input: Template,
    width: i64,
    pattern: Vec<u8>,
}

impl TemplateFunction for Padding {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        if call.args.len() < 2 {
            return Err(
                "$(padding) Not enough arguments, usage $(padding <input> <width> [padding string])"
                    .into(),
            );
        }
        let width = parse_dec(call.args[1].as_bytes()).ok_or_else(|| {
            PrepareError::from("Padding template function requires a number as second argument!")
        })?;
        let w = usize::try_from(width.clamp(0, 1 << 20)).unwrap_or(0);
        let pattern = match call.args.get(2).map(String::as_bytes) {
            Some(p) if !p.is_empty() => p.iter().copied().cycle().take(w).collect(),
            _ => vec![b' '; w],
        };
        Ok(Box::new(PaddingPrepared {
            input: call.compile_arg(&call.args[0])?,
            width,
            pattern,
        }))
    }
}

impl PreparedFunction for PaddingPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let start = out.len();
        inv.render(&self.input, out);
        let len = out.len() - start;
        if (len as i64) < self.width {
            let pad = (self.width as usize - len).min(self.pattern.len());
            let input = out.split_off(start);
            out.extend_from_slice(&self.pattern[..pad]);
            out.extend_from_slice(&input);
        }
    }
}

/// `$(binary N...)`: the bytes given as decimal, `0x` hex or `0` octal numbers.
struct Binary;

#[derive(Debug)]
struct BinaryPrepared(Vec<u8>);

/// `strtoll(s, &end, 0)` over the whole string.
pub(crate) fn parse_c_number(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        i64::from_str_radix(&t[1..], 8).ok()?
    } else {
        t.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

impl TemplateFunction for Binary {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        if call.args.is_empty() {
            return Err(
                "$(binary) Incorrect parameters, usage $(binary <number> <number> ...)".into(),
            );
        }
        let mut bytes = Vec::new();
        for a in call.args {
            let Some(n) = parse_c_number(a) else {
                let base = if a.starts_with('0') {
                    if a.as_bytes().get(1) == Some(&b'x') {
                        "hex"
                    } else {
                        "oct"
                    }
                } else {
                    "dec"
                };
                return Err(format!(
                    "$(binary) template function requires list of dec/hex/oct numbers as arguments, unable to parse {a} as a {base} number"
                )
                .into());
            };
            if n > 0xff {
                return Err(format!(
                    "$(binary) template function only supports 8 bit values as characters, {n} is above 255"
                )
                .into());
            }
            bytes.push(n as u8);
        }
        Ok(Box::new(BinaryPrepared(bytes)))
    }
}

impl PreparedFunction for BinaryPrepared {
    fn call(&self, _inv: &Invocation<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<Vec<u8>> {
        a.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn run(f: fn(&[Vec<u8>], &mut Vec<u8>), a: &[&str]) -> String {
        let mut out = Vec::new();
        f(&v(a), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn substr_cases() {
        let m = "'su root' failed for lonvick on /dev/pts/8";
        assert_eq!(run(substr, &[m, "0", "3"]), "'su");
        assert_eq!(run(substr, &[m, "-3"]), "s/8");
        assert_eq!(
            run(substr, &[m, "1", "-1"]),
            "su root' failed for lonvick on /dev/pts/"
        );
        assert_eq!(run(substr, &[m, "100"]), "");
        assert_eq!(run(substr, &[m, "x"]), "");
        assert_eq!(run(substr, &["abc", "-100"]), "");
    }

    #[test]
    fn misc() {
        assert_eq!(run(strip, &["  padded  ", "x", "  ", "b"]), "padded x b");
        assert_eq!(run(replace_delimiter, &[",b", "-", "a,b,c"]), "a---c");
        assert_eq!(run(indent_multi_line, &["a\nb\n\tc\n"]), "a\n\tb\n\tc\n\t");
        assert_eq!(run(lowercase, &["MiXeD ÁrVíZ"]), "mixed árvíz");
        assert_eq!(parse_c_number("0x42"), Some(66));
        assert_eq!(parse_c_number("0103"), Some(67));
    }
}
