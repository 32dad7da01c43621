//! Numeric functions: `+ - * / %` (integers, or floats printed with `%.20f`), `round`,
//! `ceil`, `floor`, and the context aggregates `sum`, `min`, `max`, `average`.

use std::sync::Arc;

use super::str::cstr;
use super::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
    parse_dec, parse_float, register_simple, scratch,
};
use crate::template::Template;

pub(crate) fn register(r: &mut FunctionRegistry) {
    register_simple(r, &["+"], |a, o| arith(a, o, Op::Add));
    register_simple(r, &["-"], |a, o| arith(a, o, Op::Sub));
    register_simple(r, &["*"], |a, o| arith(a, o, Op::Mul));
    register_simple(r, &["/"], |a, o| arith(a, o, Op::Div));
    register_simple(r, &["%"], |a, o| arith(a, o, Op::Mod));
    register_simple(r, &["round"], round);
    register_simple(r, &["ceil"], |a, o| unary(a, o, f64::ceil));
    register_simple(r, &["floor"], |a, o| unary(a, o, f64::floor));
    for (name, agg) in [
        ("sum", Agg::Sum),
        ("min", Agg::Min),
        ("max", Agg::Max),
        ("average", Agg::Average),
    ] {
        r.register(name, Arc::new(Aggregate(agg)));
    }
}

/// A parsed number: syslog-ng tries an integer first, then a float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub(crate) fn parse(s: &[u8]) -> Option<Number> {
        let s = cstr(s);
        if let Some(i) = parse_dec(s) {
            return Some(Number::Int(i));
        }
        parse_float(s).map(Number::Float)
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    fn is_zero(self) -> bool {
        match self {
            Number::Int(i) => i == 0,
            Number::Float(f) => f.abs() < f64::EPSILON,
        }
    }

    fn push(self, out: &mut Vec<u8>) {
        match self {
            Number::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Number::Float(f) => push_fixed(out, f, 20),
        }
    }
}

/// `printf("%.*f")`, with C's spelling of the special values.
pub(crate) fn push_fixed(out: &mut Vec<u8>, f: f64, prec: usize) {
    if f.is_nan() {
        out.extend_from_slice(if f.is_sign_negative() {
            b"-nan"
        } else {
            b"nan"
        });
    } else if f.is_infinite() {
        out.extend_from_slice(if f < 0.0 { b"-inf" } else { b"inf" });
    } else {
        out.extend_from_slice(format!("{f:.prec$}").as_bytes());
    }
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

fn arith(args: &[Vec<u8>], out: &mut Vec<u8>, op: Op) {
    let parsed = if args.len() == 2 {
        Number::parse(&args[0]).zip(Number::parse(&args[1]))
    } else {
        None
    };
    let Some((n, m)) = parsed else {
        out.extend_from_slice(b"NaN");
        return;
    };
    if matches!(op, Op::Div | Op::Mod) && m.is_zero() {
        out.extend_from_slice(b"NaN");
        return;
    }
    let res = match (n, m) {
        (Number::Int(a), Number::Int(b)) => Number::Int(match op {
            Op::Add => a.wrapping_add(b),
            Op::Sub => a.wrapping_sub(b),
            Op::Mul => a.wrapping_mul(b),
            Op::Div => a.wrapping_div(b),
            Op::Mod => a.wrapping_rem(b),
        }),
        _ => {
            let (a, b) = (n.as_f64(), m.as_f64());
            Number::Float(match op {
                Op::Add => a + b,
                Op::Sub => a - b,
                Op::Mul => a * b,
                Op::Div => a / b,
                Op::Mod => a % b,
            })
        }
    };
    res.push(out);
}

/// `(gint64)` of a double, saturating as Rust's cast does (C leaves it undefined).
fn push_as_int(out: &mut Vec<u8>, f: f64) {
    out.extend_from_slice((f as i64).to_string().as_bytes());
}

fn unary(args: &[Vec<u8>], out: &mut Vec<u8>, f: fn(f64) -> f64) {
    match (args.len(), args.first().and_then(|a| Number::parse(a))) {
        (1, Some(n)) => push_as_int(out, f(n.as_f64())),
        _ => out.extend_from_slice(b"NaN"),
    }
}

/// `$(round N [DIGITS])`: half away from zero; with DIGITS, printed with that many decimals.
fn round(args: &[Vec<u8>], out: &mut Vec<u8>) {
    let Some(n) = args.first().and_then(|a| Number::parse(a)) else {
        out.extend_from_slice(b"NaN");
        return;
    };
    match args.len() {
        1 => push_as_int(out, n.as_f64().round()),
        2 => {
            let Some(d) = parse_dec(cstr(&args[1])).filter(|d| (0..=20).contains(d)) else {
                out.extend_from_slice(b"NaN");
                return;
            };
            let scale = 10f64.powi(d as i32);
            let v = (n.as_f64() * scale).round() / scale;
            if d == 0 {
                push_as_int(out, v);
            } else {
                push_fixed(out, v, d as usize);
            }
        }
        _ => out.extend_from_slice(b"NaN"),
    }
}

#[derive(Clone, Copy, Debug)]
enum Agg {
    Sum,
    Min,
    Max,
    Average,
}

/// `$(sum TEMPLATE)` and friends: the template is rendered for every message of the context
/// and the integers aggregated; values that are not integers are skipped.
struct Aggregate(Agg);

#[derive(Debug)]
struct AggregatePrepared {
    agg: Agg,
    arg: Template,
}

impl TemplateFunction for Aggregate {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        if call.args.len() != 1 {
            return Err(format!("$({}) requires only one argument", call.name).into());
        }
        Ok(Box::new(AggregatePrepared {
            agg: self.0,
            arg: call.compile_arg(&call.args[0])?,
        }))
    }
}

impl PreparedFunction for AggregatePrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let mut acc: Option<i64> = None;
        let mut count: i64 = 0;
        let mut buf = scratch();
        for m in inv.msgs {
            buf.clear();
            self.arg.render(m, inv.ctx, &mut buf);
            let Some(n) = parse_dec(cstr(&buf)) else {
                continue;
            };
            count += 1;
            acc = Some(match (acc, self.agg) {
                (None, _) => n,
                (Some(a), Agg::Sum | Agg::Average) => a.wrapping_add(n),
                (Some(a), Agg::Min) => a.min(n),
                (Some(a), Agg::Max) => a.max(n),
            });
        }
        if let Some(a) = acc {
            let v = if matches!(self.agg, Agg::Average) {
                a / count.max(1)
            } else {
                a
            };
            out.extend_from_slice(v.to_string().as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: fn(&[Vec<u8>], &mut Vec<u8>), a: &[&str]) -> String {
        let v: Vec<Vec<u8>> = a.iter().map(|s| s.as_bytes().to_vec()).collect();
        let mut out = Vec::new();
        f(&v, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn arithmetic() {
        assert_eq!(run(|a, o| arith(a, o, Op::Add), &["42", "8"]), "50");
        assert_eq!(
            run(|a, o| arith(a, o, Op::Add), &["3.5", "1"]),
            "4.50000000000000000000"
        );
        assert_eq!(run(|a, o| arith(a, o, Op::Div), &["42", "0"]), "NaN");
        assert_eq!(
            run(|a, o| arith(a, o, Op::Div), &["7", "2.0"]),
            "3.50000000000000000000"
        );
        assert_eq!(run(|a, o| arith(a, o, Op::Add), &["x", "1"]), "NaN");
        assert_eq!(
            run(|a, o| arith(a, o, Op::Div), &["-9223372036854775808", "-1"]),
            "-9223372036854775808"
        );
        assert_eq!(run(round, &["3.14159", "2"]), "3.14");
        assert_eq!(run(round, &["-2.5"]), "-3");
        assert_eq!(run(|a, o| unary(a, o, f64::floor), &["-2.1"]), "-3");
    }
}
