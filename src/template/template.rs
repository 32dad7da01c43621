//! [`Template`]: a compiled template and its rendering.

use std::fmt;
use std::sync::{Arc, LazyLock};

use crate::message::{Builtin, LogMessage};

use super::compiler;
use super::error::CompileError;
use super::escape;
use super::functions::{ConditionCompiler, FunctionRegistry, Invocation, PreparedFunction};
use super::macros::{self, Macro};
use super::options::RenderContext;

/// The name of a value reference, resolved at compile time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ValueName {
    /// A built-in slot (`PROGRAM`, `HOST_FROM`...).
    Builtin(Builtin),
    /// Any other name (`.json.user`, `custom.field`, `1`).
    Other(Box<str>),
}

/// One compiled piece of a template.
pub(crate) enum Elem {
    /// Literal text.
    Text(Box<[u8]>),
    /// A built-in macro; `default` is appended when it expands to nothing.
    Macro {
        m: Macro,
        default: Option<Box<[u8]>>,
        msg_ref: u32,
    },
    /// A name-value pair; `default` is used when it is unset or empty.
    Value {
        name: ValueName,
        default: Option<Box<[u8]>>,
        msg_ref: u32,
    },
    /// A template function call.
    Func {
        f: Box<dyn PreparedFunction>,
        msg_ref: u32,
    },
}

impl fmt::Debug for Elem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Elem::Text(t) => write!(f, "Text({:?})", String::from_utf8_lossy(t)),
            Elem::Macro {
                m,
                default,
                msg_ref,
            } => f
                .debug_struct("Macro")
                .field("m", m)
                .field("default", &default.as_deref().map(String::from_utf8_lossy))
                .field("msg_ref", msg_ref)
                .finish(),
            Elem::Value {
                name,
                default,
                msg_ref,
            } => f
                .debug_struct("Value")
                .field("name", name)
                .field("default", &default.as_deref().map(String::from_utf8_lossy))
                .field("msg_ref", msg_ref)
                .finish(),
            Elem::Func { f: func, msg_ref } => f
                .debug_struct("Func")
                .field("f", func)
                .field("msg_ref", msg_ref)
                .finish(),
        }
    }
}

/// The type a template's output is meant to have (`int($X)` in `$(format-json --pair)` or a
/// `value-pairs()` pair). Plain templates are strings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TypeHint {
    /// `string()` and no hint at all.
    #[default]
    String,
    /// `literal()`: written as it is (JSON: unquoted).
    Literal,
    /// `int()`/`int32()`.
    Int32,
    /// `int64()`.
    Int64,
    /// `double()`/`float()`.
    Double,
    /// `datetime()`.
    DateTime,
    /// `list()`: a comma-separated list.
    List,
    /// `boolean()`.
    Boolean,
}

impl TypeHint {
    /// Parses a hint name as syslog-ng 3.38 accepts them.
    pub fn parse(name: &str) -> Option<TypeHint> {
        Some(match name {
            "string" => TypeHint::String,
            "literal" => TypeHint::Literal,
            "int" | "int32" => TypeHint::Int32,
            "int64" => TypeHint::Int64,
            "double" | "float" => TypeHint::Double,
            "datetime" => TypeHint::DateTime,
            "list" => TypeHint::List,
            "boolean" => TypeHint::Boolean,
            _ => return None,
        })
    }

    /// The name syslog-ng's messages give the hint (`type-hint='int'`).
    pub fn name(self) -> &'static str {
        match self {
            TypeHint::String => "string",
            TypeHint::Literal => "literal",
            TypeHint::Int32 => "int",
            TypeHint::Int64 => "int64",
            TypeHint::Double => "double",
            TypeHint::DateTime => "datetime",
            TypeHint::List => "list",
            TypeHint::Boolean => "boolean",
        }
    }
}

/// Looks up `template name { ... };` statements for `$(template name)`. The config layer
/// provides it; without one, `$(template)` only finds nothing.
pub trait TemplateLookup: Send + Sync {
    /// The compiled template called `name`.
    fn lookup(&self, name: &str) -> Option<Arc<Template>>;
}

/// What compiling a template depends on besides its text.
#[derive(Clone)]
pub struct CompileEnv {
    /// `template-escape(yes)`: values and macros in this template are escaped. As in syslog-ng
    /// the arguments of template functions are compiled without it.
    pub escape: bool,
    /// The template functions known by name.
    pub functions: Arc<FunctionRegistry>,
    /// Named templates for `$(template name)`.
    pub templates: Option<Arc<dyn TemplateLookup>>,
    /// Compiles the filter expressions of `$(if)` and `$(grep)`. Without one the built-in
    /// comparison evaluator (`"$X" == "y"`, `<`, `eq`, `and`, `or`, `not`) is used; the
    /// filter layer installs the full filter language.
    pub conditions: Option<Arc<dyn ConditionCompiler>>,
    /// Where the template text is in the configuration, for problems found after compiling
    /// (a `$(python f)` whose `f` the Python code does not define is reported at start).
    pub origin: Option<crate::config::span::Span>,
}

impl fmt::Debug for CompileEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompileEnv")
            .field("escape", &self.escape)
            .field("functions", &self.functions)
            .field("templates", &self.templates.is_some())
            .field("conditions", &self.conditions.is_some())
            .finish()
    }
}

static DEFAULT_REGISTRY: LazyLock<Arc<FunctionRegistry>> =
    LazyLock::new(|| Arc::new(FunctionRegistry::with_builtins()));

impl Default for CompileEnv {
    fn default() -> Self {
        CompileEnv {
            escape: false,
            functions: DEFAULT_REGISTRY.clone(),
            templates: None,
            conditions: None,
            origin: None,
        }
    }
}

impl CompileEnv {
    /// The same environment without `template-escape` (for function arguments).
    pub fn unescaped(&self) -> CompileEnv {
        CompileEnv {
            escape: false,
            ..self.clone()
        }
    }
}

/// A compiled template. Compile once (config load), render for every message into a reused
/// buffer; shared between threads as `Arc<Template>`.
pub struct Template {
    source: String,
    elems: Vec<Elem>,
    escape: bool,
    type_hint: TypeHint,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("source", &self.source)
            .field("escape", &self.escape)
            .field("type_hint", &self.type_hint)
            .field("elems", &self.elems)
            .finish()
    }
}

impl Template {
    /// Compiles `text` with the default environment (built-in functions, no escaping).
    pub fn new(text: &str) -> Result<Template, CompileError> {
        Template::compile(text, &CompileEnv::default())
    }

    /// Compiles `text`.
    pub fn compile(text: &str, env: &CompileEnv) -> Result<Template, CompileError> {
        let elems = compiler::compile(text, env)?;
        Ok(Template {
            source: text.to_owned(),
            elems,
            escape: env.escape,
            type_hint: TypeHint::String,
        })
    }

    /// The text the template was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The type hint (`int(...)` and friends), [`TypeHint::String`] unless set.
    pub fn type_hint(&self) -> TypeHint {
        self.type_hint
    }

    /// Sets the type hint.
    pub fn set_type_hint(&mut self, hint: TypeHint) {
        self.type_hint = hint;
    }

    /// Whether `template-escape` is on.
    pub fn escape(&self) -> bool {
        self.escape
    }

    /// The text when the template has no macros, values or functions.
    pub fn literal(&self) -> Option<&[u8]> {
        match self.elems.as_slice() {
            [] => Some(&[]),
            [Elem::Text(t)] => Some(t),
            _ => None,
        }
    }

    /// Appends the template's output for `msg` to `out`.
    #[inline]
    pub fn render(&self, msg: &LogMessage, ctx: &RenderContext<'_>, out: &mut Vec<u8>) {
        self.render_context(&[msg], ctx, out);
    }

    /// Renders into a fresh string (convenience for tests and config-time uses, not the hot
    /// path).
    pub fn render_to_vec(&self, msg: &LogMessage, ctx: &RenderContext<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        self.render(msg, ctx, &mut out);
        out
    }

    /// Appends the output for a correlation context (`msgs`, the last one is the current
    /// message; `${X}@N` refers to the Nth from the end). Nothing for an empty context.
    pub fn render_context(&self, msgs: &[&LogMessage], ctx: &RenderContext<'_>, out: &mut Vec<u8>) {
        let n = msgs.len();
        if n == 0 {
            return;
        }
        let pick = |msg_ref: u32| -> Option<usize> {
            let r = msg_ref as usize;
            if r > n {
                None
            } else if r == 0 {
                Some(n - 1)
            } else {
                Some(n - r)
            }
        };
        for e in &self.elems {
            match e {
                Elem::Text(t) => out.extend_from_slice(t),
                Elem::Macro {
                    m,
                    default,
                    msg_ref,
                } => {
                    let Some(i) = pick(*msg_ref) else { continue };
                    let before = out.len();
                    macros::expand(*m, msgs[i], ctx, self.escape, out);
                    if out.len() == before {
                        if let Some(d) = default {
                            out.extend_from_slice(d);
                        }
                    }
                }
                Elem::Value {
                    name,
                    default,
                    msg_ref,
                } => {
                    let Some(i) = pick(*msg_ref) else { continue };
                    let v = match name {
                        ValueName::Builtin(b) => msgs[i].get_builtin(*b),
                        ValueName::Other(n) => msgs[i].get(n),
                    };
                    match v {
                        Some(v) if v.first().is_some_and(|&c| c != 0) => {
                            escape::append(out, v, self.escape);
                        }
                        _ => {
                            if let Some(d) = default {
                                escape::append(out, d, self.escape);
                            }
                        }
                    }
                }
                Elem::Func { f, msg_ref } => {
                    let Some(i) = pick(*msg_ref) else { continue };
                    let sub = if *msg_ref > 0 { &msgs[i..=i] } else { msgs };
                    f.call(&Invocation { msgs: sub, ctx }, out);
                }
            }
        }
    }
}
