//! Miscellaneous functions: env, url-encode, url-decode, base64-encode, dirname, basename,
//! ipv4-to-int, context-length, template.

use std::sync::Arc;

use super::str::cstr;
use super::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
    register_simple,
};
use crate::template::Template;

pub(crate) fn register(r: &mut FunctionRegistry) {
    register_simple(r, &["env"], env);
    register_simple(r, &["url-encode"], url_encode);
    register_simple(r, &["url-decode"], url_decode);
    register_simple(r, &["base64-encode"], base64_encode);
    register_simple(r, &["dirname"], dirname);
    register_simple(r, &["basename"], basename);
    register_simple(r, &["ipv4-to-int"], ipv4_to_int);
    r.register("context-length", Arc::new(ContextLength));
    r.register("template", Arc::new(NamedTemplate));
}

/// `$(env NAME...)`: environment variables, space separated.
fn env(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let name = String::from_utf8_lossy(cstr(a));
        if name.is_empty() || name.contains('=') {
            continue;
        }
        if let Some(v) = std::env::var_os(&*name) {
            out.extend_from_slice(v.as_encoded_bytes());
        }
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// `g_uri_escape_string(s, NULL, FALSE)`: everything but `A-Za-z0-9-._~` as `%XX`.
fn url_encode(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for a in args {
        for &c in cstr(a) {
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                out.push(c);
            } else {
                out.push(b'%');
                out.push(HEX_UPPER[usize::from(c >> 4)]);
                out.push(HEX_UPPER[usize::from(c & 15)]);
            }
        }
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `g_uri_unescape_string`: `%XX` decoded; an invalid escape or an escaped NUL makes the
/// whole argument produce nothing.
fn url_decode(args: &[Vec<u8>], out: &mut Vec<u8>) {
    for a in args {
        let s = cstr(a);
        let start = out.len();
        let mut i = 0;
        let mut ok = true;
        while i < s.len() {
            if s[i] == b'%' {
                match (
                    s.get(i + 1).and_then(|&c| hex_val(c)),
                    s.get(i + 2).and_then(|&c| hex_val(c)),
                ) {
                    (Some(h), Some(l)) if (h << 4 | l) != 0 => {
                        out.push(h << 4 | l);
                        i += 3;
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            } else {
                out.push(s[i]);
                i += 1;
            }
        }
        if !ok {
            out.truncate(start);
        }
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn push_base64(out: &mut Vec<u8>, data: &[u8]) {
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63]);
        out.push(B64[(n >> 12) as usize & 63]);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63]
        } else {
            b'='
        });
    }
}

/// `$(base64-encode ARGS...)`: the arguments concatenated, then encoded.
fn base64_encode(args: &[Vec<u8>], out: &mut Vec<u8>) {
    if args.len() == 1 {
        push_base64(out, &args[0]);
        return;
    }
    let mut all = Vec::new();
    for a in args {
        all.extend_from_slice(a);
    }
    push_base64(out, &all);
}

/// `g_path_get_dirname`.
fn path_dirname(p: &[u8]) -> &[u8] {
    let Some(last) = p.iter().rposition(|&c| c == b'/') else {
        return b".";
    };
    let mut end = last;
    while end > 0 && p[end - 1] == b'/' {
        end -= 1;
    }
    if end == 0 {
        return b"/";
    }
    &p[..end]
}

/// `g_path_get_basename`.
fn path_basename(p: &[u8]) -> &[u8] {
    if p.is_empty() {
        return b".";
    }
    let mut end = p.len();
    while end > 0 && p[end - 1] == b'/' {
        end -= 1;
    }
    if end == 0 {
        return b"/";
    }
    let start = p[..end]
        .iter()
        .rposition(|&c| c == b'/')
        .map_or(0, |i| i + 1);
    &p[start..end]
}

fn dirname(args: &[Vec<u8>], out: &mut Vec<u8>) {
    if let Some(a) = args.first() {
        out.extend_from_slice(path_dirname(cstr(a)));
    }
}

fn basename(args: &[Vec<u8>], out: &mut Vec<u8>) {
    if let Some(a) = args.first() {
        out.extend_from_slice(path_basename(cstr(a)));
    }
}

/// `$(ipv4-to-int ADDR...)`: each address as a host-order integer, comma separated. An
/// argument that is not an address repeats the previous value, as syslog-ng's does.
fn ipv4_to_int(args: &[Vec<u8>], out: &mut Vec<u8>) {
    let mut last: u32 = 0;
    for (i, a) in args.iter().enumerate() {
        if let Some(ip) = std::str::from_utf8(cstr(a))
            .ok()
            .and_then(|s| s.parse::<std::net::Ipv4Addr>().ok())
        {
            last = u32::from(ip);
        }
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(last.to_string().as_bytes());
    }
}

/// `$(context-length)`: how many messages the correlation context holds.
struct ContextLength;

#[derive(Debug)]
struct ContextLengthPrepared;

impl TemplateFunction for ContextLength {
    fn prepare(&self, _call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        Ok(Box::new(ContextLengthPrepared))
    }
}

impl PreparedFunction for ContextLengthPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(inv.msgs.len().to_string().as_bytes());
    }
}

/// `$(template NAME)`: the output of a `template NAME { ... };` statement.
struct NamedTemplate;

#[derive(Debug)]
struct NamedTemplatePrepared(Arc<Template>);

impl TemplateFunction for NamedTemplate {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let name = call.args.first().map(String::as_str).unwrap_or("");
        let found = call.env.templates.as_ref().and_then(|t| t.lookup(name));
        match found {
            Some(t) => Ok(Box::new(NamedTemplatePrepared(t))),
            None => {
                Err(format!("$(template) Unknown template function or template \"{name}\"").into())
            }
        }
    }
}

impl PreparedFunction for NamedTemplatePrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        inv.render(&self.0, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(path_dirname(b"/var/log/messages"), b"/var/log");
        assert_eq!(path_dirname(b"x"), b".");
        assert_eq!(path_dirname(b"/x"), b"/");
        assert_eq!(path_dirname(b"a//b"), b"a");
        assert_eq!(path_basename(b"/a/b/"), b"b");
        assert_eq!(path_basename(b"///"), b"/");
    }

    #[test]
    fn url_and_base64() {
        let mut out = Vec::new();
        url_encode(&[b"a b&c=d/e?f~x%y".to_vec()], &mut out);
        assert_eq!(out, b"a%20b%26c%3Dd%2Fe%3Ff~x%25y");
        let mut out = Vec::new();
        url_decode(&[b"a%20b%2fc+d%zz".to_vec()], &mut out);
        assert_eq!(out, b"");
        let mut out = Vec::new();
        base64_encode(&[b"a".to_vec(), b"ab".to_vec(), b"abc".to_vec()], &mut out);
        assert_eq!(out, b"YWFiYWJj");
    }
}
