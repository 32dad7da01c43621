//! Template functions: the `$(name args...)` calls.
//!
//! A function is registered by name in a [`FunctionRegistry`]. When a template is compiled the
//! function's [`TemplateFunction::prepare`] receives the arguments as the compiler split them
//! (see `compiler.rs`) and returns a [`PreparedFunction`]: whatever it can decide at
//! compile time (parsed options, compiled argument templates, a filter expression) is done
//! there, once. Rendering calls [`PreparedFunction::call`] with the message(s) and the render
//! context, and the function appends bytes to the output.
//!
//! Other layers add functions at start-up with [`FunctionRegistry::register`] (the Python
//! layer registers `python`, the configuration its `template-function`s as
//! [`user::UserFunction`]s; a function object may hold whatever state it likes).
//!
//! Argument buffers come from a per-thread pool ([`scratch`]), so calling a function does not
//! allocate once the pool is warm.

pub mod cond;
pub mod crypto;
pub mod graphite;
pub mod json;
pub mod list;
pub mod misc;
pub mod numeric;
pub mod options;
pub mod str;
pub mod user;
pub mod value_pairs;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::message::LogMessage;

use super::error::CompileError;
use super::options::RenderContext;
use super::template::{CompileEnv, Template};

pub use cond::{Condition, ConditionCompiler};

/// Why a function refused its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrepareError {
    /// The function's own message (syslog-ng's wording where it has one).
    Message(String),
    /// An argument template did not compile.
    Compile(CompileError),
}

impl From<String> for PrepareError {
    fn from(s: String) -> Self {
        PrepareError::Message(s)
    }
}

impl From<&str> for PrepareError {
    fn from(s: &str) -> Self {
        PrepareError::Message(s.to_owned())
    }
}

impl From<CompileError> for PrepareError {
    fn from(e: CompileError) -> Self {
        PrepareError::Compile(e)
    }
}

/// A call site being compiled: the function name, its arguments (the name excluded) and the
/// environment to compile argument templates in.
pub struct FunctionCall<'a> {
    /// The name as written.
    pub name: &'a str,
    /// The arguments, split and unquoted.
    pub args: &'a [String],
    /// The compile environment of the enclosing template.
    pub env: &'a CompileEnv,
}

impl FunctionCall<'_> {
    /// Compiles an argument as a template (without `template-escape`, as syslog-ng).
    pub fn compile_arg(&self, text: &str) -> Result<Template, PrepareError> {
        Ok(Template::compile(text, &self.env.unescaped())?)
    }

    /// Compiles every argument.
    pub fn compile_args(&self, args: &[String]) -> Result<Vec<Template>, PrepareError> {
        args.iter().map(|a| self.compile_arg(a)).collect()
    }
}

/// A template function, registered by name.
pub trait TemplateFunction: Send + Sync {
    /// Checks and pre-processes the arguments of one call site.
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError>;
}

/// One prepared call site.
pub trait PreparedFunction: Send + Sync + fmt::Debug {
    /// Appends the result for the invocation to `out`. Must not panic on any input.
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>);
}

/// What a call sees at render time.
#[derive(Clone, Copy)]
pub struct Invocation<'a> {
    /// The messages (one, or a correlation context whose last element is the current one).
    pub msgs: &'a [&'a LogMessage],
    /// The render context.
    pub ctx: &'a RenderContext<'a>,
}

impl<'a> Invocation<'a> {
    /// The current message.
    pub fn msg(&self) -> &'a LogMessage {
        self.msgs[self.msgs.len() - 1]
    }

    /// Renders an argument template in this invocation's context.
    pub fn render(&self, t: &Template, out: &mut Vec<u8>) {
        t.render_context(self.msgs, self.ctx, out);
    }
}

/// The functions known by name. `_` and `-` are the same character in names, as in
/// syslog-ng's plugin lookup.
#[derive(Clone, Default)]
pub struct FunctionRegistry {
    map: HashMap<String, Arc<dyn TemplateFunction>>,
}

impl fmt::Debug for FunctionRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.map.keys().collect();
        names.sort();
        f.debug_struct("FunctionRegistry")
            .field("names", &names)
            .finish()
    }
}

fn normalize(name: &str) -> String {
    name.replace('_', "-")
}

impl FunctionRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with every built-in function.
    pub fn with_builtins() -> Self {
        let mut r = Self::new();
        str::register(&mut r);
        cond::register(&mut r);
        numeric::register(&mut r);
        misc::register(&mut r);
        list::register(&mut r);
        crypto::register(&mut r);
        json::register(&mut r);
        value_pairs::register(&mut r);
        graphite::register(&mut r);
        // Last: they are compiled with the functions above.
        user::register_scl(&mut r);
        r
    }

    /// Registers (or replaces) a function.
    pub fn register(&mut self, name: &str, f: Arc<dyn TemplateFunction>) {
        self.map.insert(normalize(name), f);
    }

    /// Looks a function up.
    pub fn get(&self, name: &str) -> Option<Arc<dyn TemplateFunction>> {
        self.map.get(&normalize(name)).cloned()
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.map.keys().cloned().collect();
        v.sort();
        v
    }
}

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    static LISTS: RefCell<Vec<Vec<Vec<u8>>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer from the per-thread pool; it goes back (emptied, capacity kept) when dropped.
pub struct Scratch(Vec<u8>);

impl std::ops::Deref for Scratch {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl std::ops::DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut v = std::mem::take(&mut self.0);
        if v.capacity() > 1 << 20 {
            return; // do not keep huge buffers around
        }
        v.clear();
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if p.len() < 64 {
                    p.push(v);
                }
            }
        });
    }
}

/// Takes an empty buffer from the pool.
pub fn scratch() -> Scratch {
    let v = POOL
        .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .ok()
        .flatten()
        .unwrap_or_default();
    Scratch(v)
}

/// Rendered arguments: one pooled buffer per argument template.
pub struct Args(Vec<Vec<u8>>);

impl Args {
    /// Renders `templates` for `inv`.
    pub fn render(templates: &[Template], inv: &Invocation<'_>) -> Args {
        let mut list = LISTS
            .try_with(|l| l.try_borrow_mut().ok().and_then(|mut l| l.pop()))
            .ok()
            .flatten()
            .unwrap_or_default();
        while list.len() < templates.len() {
            list.push(Vec::new());
        }
        list.truncate(templates.len());
        for (t, buf) in templates.iter().zip(list.iter_mut()) {
            buf.clear();
            inv.render(t, buf);
        }
        Args(list)
    }

    /// The rendered values.
    pub fn get(&self) -> &[Vec<u8>] {
        &self.0
    }
}

impl Drop for Args {
    fn drop(&mut self) {
        let list = std::mem::take(&mut self.0);
        if list.iter().any(|b| b.capacity() > 1 << 20) {
            return;
        }
        let _ = LISTS.try_with(|l| {
            if let Ok(mut l) = l.try_borrow_mut() {
                if l.len() < 16 {
                    l.push(list);
                }
            }
        });
    }
}

/// The body of a simple function: rendered arguments in, bytes out.
pub type SimpleFn = fn(&[Vec<u8>], &mut Vec<u8>);

/// A function whose arguments are all templates, rendered before the body runs (syslog-ng's
/// `TEMPLATE_FUNCTION_SIMPLE`).
pub struct Simple(pub SimpleFn);

#[derive(Debug)]
struct SimplePrepared {
    args: Vec<Template>,
    f: SimpleFn,
}

impl TemplateFunction for Simple {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        Ok(Box::new(SimplePrepared {
            args: call.compile_args(call.args)?,
            f: self.0,
        }))
    }
}

impl PreparedFunction for SimplePrepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let args = Args::render(&self.args, inv);
        (self.f)(args.get(), out);
    }
}

/// Registers a simple function under each of `names`.
pub(crate) fn register_simple(r: &mut FunctionRegistry, names: &[&str], f: SimpleFn) {
    let f: Arc<dyn TemplateFunction> = Arc::new(Simple(f));
    for n in names {
        r.register(n, f.clone());
    }
}

/// Parses a decimal number as syslog-ng's `parse_dec_number` (strtoll, the whole string).
pub(crate) fn parse_dec(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?;
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        return None;
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    t.parse::<i64>().ok()
}

/// Parses a float as `strtod` over the whole string (leading whitespace allowed).
pub(crate) fn parse_float(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s).ok()?;
    let t = s.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("0x") || lower.starts_with("-0x") || lower.starts_with("+0x") {
        return None;
    }
    t.parse::<f64>().ok()
}
