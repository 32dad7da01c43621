//! The message pipeline: filters, rewrites, built-in parsers and log-path routing, compiled
//! once from the configuration [`Model`] and run inline by the sources for every message.
//!
//! * [`matcher`]: syslog-ng's pattern types and flags (pcre, string, glob);
//! * [`filter`]: filter expressions and functions, comparisons of templates;
//! * [`rewrite`]: `set()`, `subst()`, `unset()`, `groupset()`, `groupunset()`, tags,
//!   `rename()`, `set-severity()`/`set-facility()`/`set-pri()`, all with `condition()`;
//! * [`parser`]: `kv-parser()`, `json-parser()`, `csv-parser()`, `syslog-parser()`,
//!   `date-parser()`;
//! * [`conditions`]: the filter language for `$(if)`/`$(grep)` (installed into every template
//!   this layer compiles; the runtime installs [`conditions::compiler`] for the others);
//! * [`router`]: the log paths as a graph of precompiled nodes: [`Router::route`] takes a
//!   message from a source and hands every delivery to a callback, as syslog-ng's pipes do
//!   (`flags(final)`, `flags(fallback)`, `flags(catchall)`, junctions, `if`/`elif`/`else`).
//!
//! Nothing here looks a name up per message: names become [`crate::message::Builtin`] slots,
//! tag ids, compiled templates and node indices when the configuration is loaded. Messages are
//! `Arc<LogMessage>`; only a node that changes a message calls `Arc::make_mut`, which copies it
//! only when another branch still holds it (syslog-ng's write-protect + make-writable).
//!
//! This layer depends on `message`, `template` and the configuration model only.

mod args;
pub mod conditions;
pub mod filter;
pub mod matcher;
pub mod parser;
pub mod rewrite;
pub mod router;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::config::diagnostic::Diagnostic;
use crate::config::model::Model;
use crate::config::span::Span;
use crate::template::{CompileEnv, FunctionRegistry, RenderContext, Template, TemplateLookup};

pub use filter::Filter;
pub use router::{Delivery, DestId, ExportNode, FilterTally, Router, SourceId};

/// Named templates (`template t { ... };`), for `$(template t)` and for options that take a
/// template or the name of one.
struct NamedTemplates(HashMap<String, Arc<Template>>);

impl TemplateLookup for NamedTemplates {
    fn lookup(&self, name: &str) -> Option<Arc<Template>> {
        self.0.get(name).cloned()
    }
}

/// What compiling the pipeline needs: the model (for `filter()` references and named
/// templates) and the template environment. Compiled filters are memoised by name so that a
/// filter referenced from many places is compiled once and shared.
pub struct BuildEnv<'m> {
    model: Option<&'m Model>,
    /// The environment templates are compiled in.
    pub templates: CompileEnv,
    named: Arc<NamedTemplates>,
    filters: RefCell<HashMap<String, Arc<Filter>>>,
    building: RefCell<Vec<String>>,
    /// Where the Python parts of a plan register to be bound at start (`python()` parsers;
    /// `None` when only checking).
    pub(crate) python: Option<crate::python::Bindings>,
}

impl<'m> BuildEnv<'m> {
    /// An environment for a whole configuration.
    pub fn new(model: &'m Model) -> BuildEnv<'m> {
        BuildEnv::with_functions(model, Arc::new(FunctionRegistry::with_builtins()))
    }

    /// An environment for a whole configuration whose templates may call the functions of
    /// `functions` (the built-ins plus, e.g., `$(python)`).
    pub fn with_functions(model: &'m Model, functions: Arc<FunctionRegistry>) -> BuildEnv<'m> {
        let mut env = BuildEnv::standalone();
        env.templates.functions = functions;
        env.model = Some(model);
        let mut named = HashMap::new();
        for t in &model.templates {
            let Some(content) = &t.content else { continue };
            let cenv = CompileEnv {
                escape: t.escape.unwrap_or(false),
                ..env.templates.clone()
            };
            if let Ok(c) = Template::compile(&content.value, &cenv) {
                named.insert(t.name.value.clone(), Arc::new(c));
            }
        }
        env.named = Arc::new(NamedTemplates(named));
        env.templates.templates = Some(env.named.clone());
        env.templates.conditions = Some(conditions::compiler());
        env
    }

    /// An environment without a configuration (checking one driver call, tests).
    pub fn standalone() -> BuildEnv<'static> {
        BuildEnv {
            model: None,
            templates: CompileEnv {
                conditions: Some(conditions::compiler()),
                ..CompileEnv::default()
            },
            named: Arc::new(NamedTemplates(HashMap::new())),
            filters: RefCell::new(HashMap::new()),
            building: RefCell::new(Vec::new()),
            python: None,
        }
    }

    /// The model, when there is one.
    pub fn model(&self) -> Option<&'m Model> {
        self.model
    }

    /// Compiles a template; an error is reported at `span`.
    pub fn template(&self, text: &str, span: Span) -> Result<Template, Diagnostic> {
        let env = CompileEnv {
            origin: Some(span),
            ..self.templates.clone()
        };
        Template::compile(text, &env)
            .map_err(|e| Diagnostic::new(format!("Error compiling template: {e}"), span))
    }

    /// A template option that may also name a `template {}` statement (syslog-ng's
    /// `cfg_tree_check_inline_template`).
    pub fn template_or_name(&self, text: &str, span: Span) -> Result<Arc<Template>, Diagnostic> {
        if let Some(t) = self.named.lookup(text) {
            return Ok(t);
        }
        self.template(text, span).map(Arc::new)
    }

    /// The compiled filter called `name` (the last definition wins, as in syslog-ng).
    /// `None` without a model or when there is no such filter; cycles were rejected by the
    /// configuration checks, and are refused here too rather than recursing.
    pub fn filter_by_name(&self, name: &str) -> Option<Arc<Filter>> {
        if let Some(f) = self.filters.borrow().get(name) {
            return Some(f.clone());
        }
        let def = self.model?.filter(name)?;
        if self.building.borrow().iter().any(|n| n == name) {
            return None;
        }
        self.building.borrow_mut().push(name.to_string());
        let compiled = filter::compile(&def.expr, self);
        self.building.borrow_mut().pop();
        let f = Arc::new(compiled.ok()?);
        self.filters
            .borrow_mut()
            .insert(name.to_string(), f.clone());
        Some(f)
    }

    /// Compiles the named filter, reporting its own errors.
    pub fn compile_filter(&self, name: &str) -> Result<Option<Arc<Filter>>, Diagnostic> {
        if let Some(f) = self.filters.borrow().get(name) {
            return Ok(Some(f.clone()));
        }
        let Some(def) = self.model.and_then(|m| m.filter(name)) else {
            return Ok(None);
        };
        self.building.borrow_mut().push(name.to_string());
        let compiled = filter::compile(&def.expr, self);
        self.building.borrow_mut().pop();
        let f = Arc::new(compiled?);
        self.filters
            .borrow_mut()
            .insert(name.to_string(), f.clone());
        Ok(Some(f))
    }
}

/// Per-evaluation state: the render context for templates and reusable scratch buffers, so
/// that evaluating filters and rewrites allocates nothing once warm.
pub struct Cx<'a> {
    pub render: RenderContext<'a>,
    bufs: Vec<Vec<u8>>,
}

impl<'a> Cx<'a> {
    pub fn new(render: RenderContext<'a>) -> Cx<'a> {
        Cx {
            render,
            bufs: Vec::new(),
        }
    }

    /// Reuses the buffers of an earlier context.
    pub fn with_buffers(render: RenderContext<'a>, bufs: Vec<Vec<u8>>) -> Cx<'a> {
        Cx { render, bufs }
    }

    /// The buffers, for the next [`Cx::with_buffers`].
    pub fn into_buffers(self) -> Vec<Vec<u8>> {
        self.bufs
    }

    /// An empty scratch buffer (give it back with [`Cx::put_buf`]).
    pub fn take_buf(&mut self) -> Vec<u8> {
        let mut b = self.bufs.pop().unwrap_or_default();
        b.clear();
        b
    }

    pub fn put_buf(&mut self, b: Vec<u8>) {
        if self.bufs.len() < 16 {
            self.bufs.push(b);
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;

/// Checks one parser driver call as `sluice -s` does (for the driver catalog): its options
/// are read and everything is compiled (patterns, templates, formats).
pub fn check_parser(call: &crate::config::Node) -> Result<(), Diagnostic> {
    parser::compile(call, &BuildEnv::standalone()).map(|_| ())
}

/// Checks one rewrite rule call (see [`check_parser`]); a `filter()` reference inside its
/// `condition()` is resolved by the configuration checks, not here.
pub fn check_rewrite(call: &crate::config::Node) -> Result<(), Diagnostic> {
    rewrite::compile(call, &BuildEnv::standalone()).map(|_| ())
}

/// Checks one filter function call (see [`check_parser`]).
pub fn check_filter_function(call: &crate::config::Node) -> Result<(), Diagnostic> {
    filter::compile_call(call, &BuildEnv::standalone()).map(|_| ())
}

#[cfg(test)]
mod tests;
