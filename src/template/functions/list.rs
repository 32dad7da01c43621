//! List functions (syslog-ng lists are comma-separated values, quoted when needed):
//! list-concat, list-head, list-nth, list-tail, list-count, list-slice, list-append,
//! explode, implode.

use super::str::cstr;
use super::{FunctionRegistry, parse_dec, register_simple};
use crate::template::list_repr;

pub(crate) fn register(r: &mut FunctionRegistry) {
    register_simple(r, &["list-concat"], |a, o| {
        let items = scan_all(a);
        push_list(o, items.iter().map(Vec::as_slice));
    });
    register_simple(r, &["list-head"], |a, o| {
        if let Some(first) = scan_all(a).first() {
            o.extend_from_slice(first);
        }
    });
    register_simple(r, &["list-tail"], |a, o| {
        let items = scan_all(a);
        push_list(o, items.iter().skip(1).map(Vec::as_slice));
    });
    register_simple(r, &["list-count"], |a, o| {
        o.extend_from_slice(scan_all(a).len().to_string().as_bytes());
    });
    register_simple(r, &["list-nth"], list_nth);
    register_simple(r, &["list-slice"], list_slice);
    register_simple(r, &["list-append"], |a, o| {
        let Some((list, rest)) = a.split_first() else {
            return;
        };
        let mut items = scan(cstr(list));
        items.extend(rest.iter().map(|v| cstr(v).to_vec()));
        push_list(o, items.iter().map(Vec::as_slice));
    });
    register_simple(r, &["explode"], |a, o| {
        let Some((sep, rest)) = a.split_first() else {
            return;
        };
        let sep = cstr(sep);
        let mut items: Vec<&[u8]> = Vec::new();
        for v in rest {
            let v = cstr(v);
            if sep.is_empty() {
                items.push(v);
                continue;
            }
            let mut start = 0;
            while let Some(p) = memchr::memmem::find(&v[start..], sep) {
                items.push(&v[start..start + p]);
                start += p + sep.len();
            }
            items.push(&v[start..]);
        }
        push_list(o, items.into_iter());
    });
    register_simple(r, &["implode"], |a, o| {
        let Some((sep, rest)) = a.split_first() else {
            return;
        };
        for (i, item) in scan_all(rest).iter().enumerate() {
            if i > 0 {
                o.extend_from_slice(cstr(sep));
            }
            o.extend_from_slice(item);
        }
    });
}

/// Appends one list item as syslog-ng's list functions write it (`str_repr_encode` with
/// `,` forbidden: quoted when it has to be).
pub(crate) fn push_item(out: &mut Vec<u8>, v: &[u8]) {
    list_repr::str_repr_encode(out, v, b",");
}

/// Appends items as a list.
pub(crate) fn push_list<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]>) {
    for (i, v) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_item(out, v);
    }
}

/// Splits a list into its items with syslog-ng's list scanner.
pub(crate) fn scan(s: &[u8]) -> Vec<Vec<u8>> {
    list_repr::scan(s)
}

/// Every item of every argument.
fn scan_all(args: &[Vec<u8>]) -> Vec<Vec<u8>> {
    args.iter().flat_map(|a| scan(cstr(a))).collect()
}

/// Python-style index: negative counts from the end.
fn index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

fn list_nth(args: &[Vec<u8>], out: &mut Vec<u8>) {
    let Some((n, rest)) = args.split_first() else {
        return;
    };
    let Some(n) = parse_dec(cstr(n)) else {
        return;
    };
    let items = scan_all(rest);
    if let Some(i) = index(n, items.len()) {
        out.extend_from_slice(&items[i]);
    }
}

/// `$(list-slice FIRST[:LAST] LIST...)`, Python slice semantics.
fn list_slice(args: &[Vec<u8>], out: &mut Vec<u8>) {
    let Some((range, rest)) = args.split_first() else {
        return;
    };
    let range = cstr(range);
    let (a, b) = match memchr::memchr(b':', range) {
        Some(p) => (&range[..p], Some(&range[p + 1..])),
        None => (range, None),
    };
    let items = scan_all(rest);
    let len = items.len() as i64;
    let norm = |v: i64| -> i64 { if v < 0 { (len + v).max(0) } else { v.min(len) } };
    let first = if a.is_empty() {
        0
    } else {
        match parse_dec(a) {
            Some(v) => norm(v),
            None => return,
        }
    };
    let last = match b {
        None | Some([]) => len,
        Some(b) => match parse_dec(b) {
            Some(v) => norm(v),
            None => return,
        },
    };
    if first >= last {
        return;
    }
    push_list(
        out,
        items[first as usize..last as usize]
            .iter()
            .map(Vec::as_slice),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut out = Vec::new();
        push_list(&mut out, [&b"a"[..], b"d e", b"", b"x\"y"].into_iter());
        assert_eq!(out, br#"a,"d e","",'x"y'"#);
        assert_eq!(
            scan(&out),
            vec![b"a".to_vec(), b"d e".to_vec(), vec![], b"x\"y".to_vec()]
        );
    }
}
