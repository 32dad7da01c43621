//! Comparisons of templates: `"$PROGRAM" eq "sshd"`, `"$PID" < 100`, `int("$X") == 5`,
//! `"$A" === "$B"`.
//!
//! Recorded from syslog-ng 3.38 (tests/golden/pipeline/cases/compare*.conf), which already
//! carries 4.0's type-aware comparison code with a compatibility rule:
//!
//! * `eq ne lt le gt ge` compare the bytes of the two rendered templates;
//! * `== != < <= > >=` are type-aware, *but* when neither operand has an explicit type, a
//!   `@version: 3.x` configuration compares them as C's `atoi()` would: `"abc" == "b"` is
//!   true (both are 0) and `"9x" == 9` is... not, because
//! * a number literal (`10`, unquoted) counts as an explicitly typed operand, so `"$PID" < 10`
//!   is type-aware: a value that is not a number is NaN and NaN compares false (only `!=`
//!   is true), so an empty `$PID` is not `< 10` while `"$PID" < "10"` (atoi: 0 < 10) is;
//! * type-aware, as JavaScript does it: equal types compare as strings (string, json,
//!   list), otherwise both sides are converted to numbers (strings must be whole numbers,
//!   `null` is 0, booleans 0/1, anything else NaN);
//! * `===`/`!==` first compare the types (a plain template is a string, `int(...)` an
//!   integer), then the values type-aware.
//!
//! Every value of a message is a string in 3.38, so an operand's type is its hint.
//!
//! Whether an operand was a number token or a quoted string comes from the model
//! (`Operand::number_literal`).

use crate::config::diagnostic::Diagnostic;
use crate::config::model::{Compare, CompareOp, Operand};
use crate::message::LogMessage;
use crate::template::Template;

use super::super::{BuildEnv, Cx};

/// A value type as syslog-ng's `LogMessageValueType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Int,
    Double,
    Boolean,
    DateTime,
    List,
    Json,
    Null,
}

impl ValueType {
    fn from_hint(name: &str) -> Option<ValueType> {
        Some(match name {
            "string" | "literal" => ValueType::String,
            "int" | "int32" | "int64" => ValueType::Int,
            "float" | "double" => ValueType::Double,
            "boolean" => ValueType::Boolean,
            "datetime" => ValueType::DateTime,
            "list" => ValueType::List,
            "json" => ValueType::Json,
            "null" => ValueType::Null,
            _ => return None,
        })
    }
}

#[derive(Debug)]
struct Side {
    template: Template,
    ty: ValueType,
    explicit: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `atoi()` both sides.
    Atoi,
    /// Bytes.
    Bytes,
    TypeAware,
    TypeAndValue,
}

const EQ: u8 = 1;
const LT: u8 = 2;
const GT: u8 = 4;

/// A compiled comparison.
#[derive(Debug)]
pub struct Comparison {
    left: Side,
    right: Side,
    mode: Mode,
    ops: u8,
}

fn side(o: &Operand, env: &BuildEnv<'_>) -> Result<Side, Diagnostic> {
    let template = env.template(&o.template.value, o.template.span)?;
    if let Some(h) = &o.type_hint {
        let ty = ValueType::from_hint(&h.value)
            .ok_or_else(|| Diagnostic::new(format!("unknown type hint `{}`", h.value), h.span))?;
        return Ok(Side {
            template,
            ty,
            explicit: true,
        });
    }
    let text = &o.template.value;
    if o.number_literal && parse_number(text.as_bytes()).is_some() {
        let ty = if text
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'-' || c == b'+')
        {
            ValueType::Int
        } else {
            ValueType::Double
        };
        return Ok(Side {
            template,
            ty,
            explicit: true,
        });
    }
    Ok(Side {
        template,
        ty: ValueType::String,
        explicit: false,
    })
}

impl Comparison {
    pub fn compile(c: &Compare, env: &BuildEnv<'_>) -> Result<Comparison, Diagnostic> {
        let left = side(&c.left, env)?;
        let right = side(&c.right, env)?;
        use CompareOp::*;
        let (mode, ops) = match c.op.value {
            NumEq => (Mode::TypeAware, EQ),
            NumNe => (Mode::TypeAware, LT | GT),
            NumLt => (Mode::TypeAware, LT),
            NumLe => (Mode::TypeAware, LT | EQ),
            NumGt => (Mode::TypeAware, GT),
            NumGe => (Mode::TypeAware, GT | EQ),
            StrEq => (Mode::Bytes, EQ),
            StrNe => (Mode::Bytes, LT | GT),
            StrLt => (Mode::Bytes, LT),
            StrLe => (Mode::Bytes, LT | EQ),
            StrGt => (Mode::Bytes, GT),
            StrGe => (Mode::Bytes, GT | EQ),
            TypeEq => (Mode::TypeAndValue, EQ),
            TypeNe => (Mode::TypeAndValue, LT | GT),
        };
        let mode = if mode == Mode::TypeAware && !left.explicit && !right.explicit {
            Mode::Atoi
        } else {
            mode
        };
        Ok(Comparison {
            left,
            right,
            mode,
            ops,
        })
    }

    fn result(&self, ord: std::cmp::Ordering) -> bool {
        let bit = match ord {
            std::cmp::Ordering::Less => LT,
            std::cmp::Ordering::Equal => EQ,
            std::cmp::Ordering::Greater => GT,
        };
        self.ops & bit != 0
    }

    pub fn eval(&self, msg: &LogMessage, cx: &mut Cx<'_>) -> bool {
        let mut l = cx.take_buf();
        let mut r = cx.take_buf();
        self.left.template.render(msg, &cx.render, &mut l);
        self.right.template.render(msg, &cx.render, &mut r);
        let res = match self.mode {
            Mode::Atoi => self.result(atoi(&l).cmp(&atoi(&r))),
            Mode::Bytes => self.result(l.as_slice().cmp(r.as_slice())),
            Mode::TypeAware => self.typed(&l, self.left.ty, &r, self.right.ty),
            Mode::TypeAndValue => {
                if self.left.ty != self.right.ty {
                    self.ops == LT | GT
                } else {
                    self.typed(&l, self.left.ty, &r, self.right.ty)
                }
            }
        };
        cx.put_buf(l);
        cx.put_buf(r);
        res
    }

    fn typed(&self, l: &[u8], lt: ValueType, r: &[u8], rt: ValueType) -> bool {
        use ValueType::*;
        if lt == rt && matches!(lt, String | Json | List) {
            return self.result(l.cmp(r));
        }
        if lt == Null || rt == Null {
            if self.ops == LT | GT {
                return lt != rt;
            }
            if self.ops == EQ {
                return lt == rt;
            }
        }
        match (to_number(l, lt), to_number(r, rt)) {
            (Some(a), Some(b)) => match a.partial_cmp(&b) {
                Some(o) => self.result(o),
                None => self.ops == LT | GT,
            },
            _ => self.ops == LT | GT,
        }
    }
}

/// A number as syslog-ng's `GenericNumber`: an integer if the text is one, else a double.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i64),
    Double(f64),
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Double(d) => d,
        }
    }
}

/// `parse_generic_number()`: the whole text must be an integer or a floating point number.
fn parse_number(s: &[u8]) -> Option<Num> {
    let s = std::str::from_utf8(s).ok()?;
    if s.is_empty() || s.starts_with(char::is_whitespace) {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Num::Int(i));
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    s.parse::<f64>().ok().map(Num::Double)
}

/// JavaScript-like conversion of a typed value; `None` is NaN.
fn to_number(v: &[u8], ty: ValueType) -> Option<Num> {
    match ty {
        ValueType::String | ValueType::Int | ValueType::Double => parse_number(v),
        ValueType::Json | ValueType::List => None,
        ValueType::Null => Some(Num::Int(0)),
        ValueType::Boolean => Some(Num::Int(i64::from(matches!(
            v.to_ascii_lowercase().as_slice(),
            b"true" | b"yes" | b"1" | b"on"
        )))),
        ValueType::DateTime => Some(Num::Int(
            parse_number(v).map_or(0, |n| (n.as_f64() * 1000.0) as i64),
        )),
    }
}

/// C's `atoi()`: optional white space and sign, then digits up to the first non-digit.
pub fn atoi(s: &[u8]) -> i32 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut n: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add(i64::from(s[i] - b'0'));
        i += 1;
    }
    let n = if neg { -n } else { n };
    // strtol saturates at the long range; the cast to int keeps the low 32 bits.
    n as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"  42abc"), 42);
        assert_eq!(atoi(b"-7"), -7);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b""), 0);
    }

    #[test]
    fn generic_numbers() {
        assert_eq!(parse_number(b"007"), Some(Num::Int(7)));
        assert_eq!(parse_number(b"1.5"), Some(Num::Double(1.5)));
        assert_eq!(parse_number(b"9x"), None);
        assert_eq!(parse_number(b""), None);
        assert_eq!(parse_number(b"nan"), None);
    }
}
