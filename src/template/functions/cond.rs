//! Conditional functions: `$(if COND A B)`, `$(grep [--max-count N] COND ARGS...)` and
//! `$(or ARGS...)`, and the [`Condition`] interface their filter expressions compile to.
//!
//! Filter expressions belong to the filter layer, which sits above this module; it installs a
//! [`ConditionCompiler`] in the [`CompileEnv`](crate::template::CompileEnv). Until then (and
//! for tools) a built-in evaluator handles what templates use most: comparisons of templates
//! (`"$X" == "5"` numeric, `"$X" eq "a"` string) combined with `and`, `or`, `not` and
//! parentheses, as syslog-ng 3.38's `filter-cmp.c` evaluates them.

use std::fmt;
use std::sync::Arc;

use crate::message::LogMessage;
use crate::template::{CompileEnv, RenderContext, Template};

use super::options::{self, OptSpec, Parsed};
use super::str::cstr;
use super::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
    register_simple, scratch,
};

/// A compiled filter expression as `$(if)` and `$(grep)` evaluate it.
pub trait Condition: Send + Sync + fmt::Debug {
    /// Whether the (context of) messages matches; `msgs` is never empty.
    fn eval(&self, msgs: &[&LogMessage], ctx: &RenderContext<'_>) -> bool;
}

/// Compiles filter expression text (`("$PROGRAM" == "sshd") and message("x")`).
pub trait ConditionCompiler: Send + Sync {
    /// Compiles `expr`; the error text is reported with the function's name.
    fn compile(&self, expr: &str, env: &CompileEnv) -> Result<Arc<dyn Condition>, String>;
}

pub(crate) fn register(r: &mut FunctionRegistry) {
    r.register("if", Arc::new(If));
    r.register("grep", Arc::new(Grep));
    register_simple(r, &["or"], or);
}

fn or(args: &[Vec<u8>], out: &mut Vec<u8>) {
    if let Some(a) = args.iter().find(|a| !a.is_empty()) {
        out.extend_from_slice(a);
    }
}

fn compile_condition(
    fname: &str,
    expr: &str,
    env: &CompileEnv,
) -> Result<Arc<dyn Condition>, PrepareError> {
    let res = match &env.conditions {
        Some(c) => c.compile(expr, env),
        None => builtin::compile(expr, env),
    };
    res.map_err(|_| {
        PrepareError::Message(format!(
            "$({fname}) Error parsing conditional filter expression"
        ))
    })
}

struct If;

#[derive(Debug)]
struct IfPrepared {
    cond: Arc<dyn Condition>,
    then: Template,
    otherwise: Template,
}

impl TemplateFunction for If {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        if call.args.len() != 3 {
            return Err("$(if) requires three arguments".into());
        }
        Ok(Box::new(IfPrepared {
            cond: compile_condition("if", &call.args[0], call.env)?,
            then: call.compile_arg(&call.args[1])?,
            otherwise: call.compile_arg(&call.args[2])?,
        }))
    }
}

impl PreparedFunction for IfPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        if self.cond.eval(inv.msgs, inv.ctx) {
            inv.render(&self.then, out);
        } else {
            inv.render(&self.otherwise, out);
        }
    }
}

struct Grep;

#[derive(Debug)]
struct GrepPrepared {
    cond: Arc<dyn Condition>,
    args: Vec<Template>,
    max_count: i64,
}

const GREP_OPTS: &[OptSpec] = &[OptSpec {
    long: "max-count",
    short: Some('m'),
    value: true,
}];

impl TemplateFunction for Grep {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let mut max_count = 0;
        let mut rest = Vec::new();
        for p in options::parse(call.args, GREP_OPTS)? {
            match p {
                Parsed::Opt(_, Some(v)) => max_count = options::int_value("max-count", &v)?,
                Parsed::Opt(_, None) => {}
                Parsed::Arg(a) => rest.push(a),
            }
        }
        if rest.len() < 2 {
            return Err("$(grep) requires at least two arguments".into());
        }
        Ok(Box::new(GrepPrepared {
            cond: compile_condition("grep", &rest[0], call.env)?,
            args: call.compile_args(&rest[1..])?,
            max_count,
        }))
    }
}

impl PreparedFunction for GrepPrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let mut first = true;
        let mut count = 0;
        for m in inv.msgs {
            let one = [*m];
            if !self.cond.eval(&one, inv.ctx) {
                continue;
            }
            count += 1;
            for t in &self.args {
                if !first {
                    out.push(b',');
                }
                t.render(m, inv.ctx, out);
                first = false;
            }
            if self.max_count > 0 && count >= self.max_count {
                break;
            }
        }
    }
}

/// The built-in evaluator for comparison expressions.
pub mod builtin {
    use super::*;

    /// A parsed expression.
    #[derive(Debug)]
    pub enum Expr {
        /// `left OP right`; `accept` lists the orderings that make it true.
        Cmp {
            /// Left operand.
            left: Template,
            /// Right operand.
            right: Template,
            /// Numeric or string.
            numeric: bool,
            /// Orderings for which the comparison holds.
            accept: [bool; 3],
        },
        /// `a and b`.
        And(Box<Expr>, Box<Expr>),
        /// `a or b`.
        Or(Box<Expr>, Box<Expr>),
        /// `not a`.
        Not(Box<Expr>),
    }

    /// `atoi`.
    pub fn atoi(s: &[u8]) -> i32 {
        let s = cstr(s);
        let mut i = 0;
        while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            i += 1;
        }
        let mut neg = false;
        if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
            neg = s[i] == b'-';
            i += 1;
        }
        let mut v: i64 = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            v = v.saturating_mul(10).saturating_add(i64::from(s[i] - b'0'));
            i += 1;
        }
        let v = if neg { -v } else { v };
        v as i32
    }

    impl Condition for Expr {
        fn eval(&self, msgs: &[&LogMessage], ctx: &RenderContext<'_>) -> bool {
            match self {
                Expr::Cmp {
                    left,
                    right,
                    numeric,
                    accept,
                } => {
                    let mut l = scratch();
                    let mut r = scratch();
                    left.render_context(msgs, ctx, &mut l);
                    right.render_context(msgs, ctx, &mut r);
                    let ord = if *numeric {
                        atoi(&l).cmp(&atoi(&r))
                    } else {
                        cstr(&l).cmp(cstr(&r))
                    };
                    accept[(ord as i8 + 1) as usize]
                }
                Expr::And(a, b) => a.eval(msgs, ctx) && b.eval(msgs, ctx),
                Expr::Or(a, b) => a.eval(msgs, ctx) || b.eval(msgs, ctx),
                Expr::Not(a) => !a.eval(msgs, ctx),
            }
        }
    }

    #[derive(Debug, PartialEq)]
    enum Tok {
        Str(String),
        Word(String),
        Op(&'static str),
        Open,
        Close,
    }

    fn lex(s: &str) -> Result<Vec<Tok>, String> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut out = Vec::new();
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            match c {
                b'(' => {
                    out.push(Tok::Open);
                    i += 1;
                }
                b')' => {
                    out.push(Tok::Close);
                    i += 1;
                }
                b'"' | b'\'' => {
                    let mut v = Vec::new();
                    i += 1;
                    loop {
                        let Some(&d) = b.get(i) else {
                            return Err("unterminated string".into());
                        };
                        i += 1;
                        if d == c {
                            break;
                        }
                        if d == b'\\' && c == b'"' {
                            let Some(&e) = b.get(i) else {
                                return Err("unterminated string".into());
                            };
                            i += 1;
                            v.push(match e {
                                b'n' => b'\n',
                                b't' => b'\t',
                                b'r' => b'\r',
                                b'a' => 7,
                                b'v' => 11,
                                e => e,
                            });
                        } else {
                            v.push(d);
                        }
                    }
                    out.push(Tok::Str(String::from_utf8_lossy(&v).into_owned()));
                }
                b'=' | b'!' | b'<' | b'>' => {
                    let two = b.get(i + 1) == Some(&b'=');
                    let op = match (c, two) {
                        (b'=', true) => "==",
                        (b'!', true) => "!=",
                        (b'<', true) => "<=",
                        (b'>', true) => ">=",
                        (b'<', false) => "<",
                        (b'>', false) => ">",
                        _ => return Err(format!("unexpected {}", c as char)),
                    };
                    out.push(Tok::Op(op));
                    i += if two { 2 } else { 1 };
                }
                _ => {
                    let st = i;
                    while i < b.len()
                        && !b[i].is_ascii_whitespace()
                        && !matches!(b[i], b'(' | b')' | b'"' | b'\'')
                    {
                        i += 1;
                    }
                    out.push(Tok::Word(s[st..i].to_owned()));
                }
            }
        }
        Ok(out)
    }

    struct P<'a> {
        toks: Vec<Tok>,
        pos: usize,
        env: &'a CompileEnv,
    }

    impl P<'_> {
        fn word(&self, w: &str) -> bool {
            matches!(self.toks.get(self.pos), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
        }
        fn or(&mut self) -> Result<Expr, String> {
            let mut e = self.and()?;
            while self.word("or") {
                self.pos += 1;
                e = Expr::Or(Box::new(e), Box::new(self.and()?));
            }
            Ok(e)
        }
        fn and(&mut self) -> Result<Expr, String> {
            let mut e = self.not()?;
            while self.word("and") {
                self.pos += 1;
                e = Expr::And(Box::new(e), Box::new(self.not()?));
            }
            Ok(e)
        }
        fn not(&mut self) -> Result<Expr, String> {
            if self.word("not") {
                self.pos += 1;
                return Ok(Expr::Not(Box::new(self.not()?)));
            }
            self.primary()
        }
        fn operand(&mut self) -> Result<Template, String> {
            match self.toks.get(self.pos) {
                Some(Tok::Str(s)) => {
                    let s = s.clone();
                    self.pos += 1;
                    Template::compile(&s, &self.env.unescaped()).map_err(|e| e.to_string())
                }
                _ => Err("expected a string".into()),
            }
        }
        fn primary(&mut self) -> Result<Expr, String> {
            if self.toks.get(self.pos) == Some(&Tok::Open) {
                self.pos += 1;
                let e = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err("expected )".into());
                }
                self.pos += 1;
                return Ok(e);
            }
            let left = self.operand()?;
            let (numeric, op) = match self.toks.get(self.pos) {
                Some(Tok::Op(o)) => (true, *o),
                Some(Tok::Word(w)) => (
                    false,
                    match w.to_ascii_lowercase().as_str() {
                        "eq" => "==",
                        "ne" => "!=",
                        "lt" => "<",
                        "le" => "<=",
                        "gt" => ">",
                        "ge" => ">=",
                        _ => return Err(format!("unknown operator {w}")),
                    },
                ),
                _ => return Err("expected an operator".into()),
            };
            self.pos += 1;
            let right = self.operand()?;
            // [Less, Equal, Greater]
            let accept = match op {
                "==" => [false, true, false],
                "!=" => [true, false, true],
                "<" => [true, false, false],
                "<=" => [true, true, false],
                ">" => [false, false, true],
                _ => [false, true, true],
            };
            Ok(Expr::Cmp {
                left,
                right,
                numeric,
                accept,
            })
        }
    }

    /// Compiles a comparison expression.
    pub fn compile(expr: &str, env: &CompileEnv) -> Result<Arc<dyn Condition>, String> {
        let toks = lex(expr)?;
        if toks.is_empty() {
            return Err("empty expression".into());
        }
        let mut p = P { toks, pos: 0, env };
        let e = p.or()?;
        if p.pos != p.toks.len() {
            return Err("trailing tokens".into());
        }
        Ok(Arc::new(e))
    }
}
