//! The typed configuration: what the generic syntax tree means.
//!
//! [`build`] reads every top-level statement of an [`Ast`] into a [`Model`]: the global
//! options (still as nodes, typed by `config::global_options`), the named objects in
//! declaration order, templates, filters as [`FilterExpr`] trees, and log paths as trees of
//! [`LogItem`]s. Driver options are *not* typed here: each object keeps its driver calls,
//! which the runtime reads with [`crate::config::de`] through the driver catalog, so the model
//! stays independent of which drivers exist.
//!
//! Inline objects (`log { source { file("x"); }; };`) get syslog-ng's generated names,
//! `#anon-source0`, `#anon-destination1`... (one counter per kind, in order of appearance),
//! and are stored with the named ones, marked [`Object::inline`]; a log path refers to every
//! object by name. Building never stops at the first error: every statement is read and all
//! problems are returned.

mod build;
mod filter;
mod logpath;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_corpus;
#[cfg(test)]
mod tests_filter;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_logpath;

pub use filter::{
    Compare, CompareOp, End, FilterExpr, FilterRef, Operand, TYPE_HINTS, filter_ref, parse_filter,
};
pub use logpath::{IfBranch, IfChain, Junction, LogFlags, LogItem, LogPath, ObjectRef};

use super::ast::{Ast, Node, PythonBlock};
use super::catalog::ObjectKind;
use super::diagnostic::Diagnostic;
use super::span::{Span, Spanned};

/// A whole configuration, typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// The `@version:` the configuration declared.
    pub version: Option<Spanned<String>>,
    /// The option calls of every top-level `options {}` statement, merged in order (read
    /// them with `de::from_nodes`; repeated options: the later one wins).
    pub global_options: Vec<Node>,
    pub sources: Vec<Object>,
    pub destinations: Vec<Object>,
    pub parsers: Vec<Object>,
    pub rewrites: Vec<Object>,
    pub filters: Vec<Filter>,
    pub templates: Vec<Template>,
    /// `template-function name "template";` definitions.
    pub template_functions: Vec<Template>,
    pub python_blocks: Vec<PythonBlock>,
    pub log_paths: Vec<LogPath>,
    /// `application NAME[TOPIC] { filter {...}; parser {...}; };` definitions, for
    /// `app-parser()` (which the runtime does not run yet).
    pub applications: Vec<Application>,
    /// syslog-ng's `@define allow-config-dups 1`: redefinitions are accepted and the later one
    /// wins. `build` cannot see defines; the loader sets this before `check` runs.
    pub allow_config_dups: bool,
}

/// An `application` of the application model (the SCL's `cee`, `checkpoint`...): syslog-ng
/// 3.38 keeps its filter and parser as written and reads them only when an `app-parser()`
/// of its topic instantiates them, so they are kept as statements here too.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub name: Spanned<String>,
    /// The topic in brackets (`syslog`): the `app-parser(topic())` that uses it.
    pub topic: Spanned<String>,
    /// The statements of each `filter {}`, in order.
    pub filters: Vec<Vec<crate::config::ast::Stmt>>,
    /// The statements of each `parser {}`, in order.
    pub parsers: Vec<Vec<crate::config::ast::Stmt>>,
}

/// A source, destination, parser or rewrite: a name and what it is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub kind: ObjectKind,
    /// The name as written, or the generated `#anon-...` name of an inline object (then
    /// spanning the kind keyword).
    pub name: Spanned<String>,
    /// In order: driver calls, and `channel {}` / `log {}` sequences (which syslog-ng allows
    /// inside objects to chain drivers with parsers and rewrites).
    pub items: Vec<ObjectItem>,
    /// The whole statement (or the inline block).
    pub span: Span,
    /// Declared inline in a log path.
    pub inline: bool,
}

/// One element of an object's body.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectItem {
    /// A driver call, `file("/var/log/x" follow-freq(1))`: always a [`Node::Call`].
    Driver(Node),
    /// `channel { ... }` or `log { ... }` inside the object.
    Channel(LogPath),
}

impl Object {
    /// The driver calls directly in this object (not those inside its channels).
    pub fn drivers(&self) -> impl Iterator<Item = &Node> {
        self.items.iter().filter_map(|item| match item {
            ObjectItem::Driver(call) => Some(call),
            ObjectItem::Channel(_) => None,
        })
    }
}

/// A named (or inline) filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub name: Spanned<String>,
    /// The statements of the body joined by `and`.
    pub expr: FilterExpr,
    pub span: Span,
    pub inline: bool,
}

/// `template t { template("..."); template-escape(yes); };`, `template t "...";`, or
/// `template-function f "...";`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: Spanned<String>,
    /// The template text; `None` for a block without `template()` (which syslog-ng accepts).
    pub content: Option<Spanned<String>>,
    /// `template-escape()`, when given.
    pub escape: Option<bool>,
    pub span: Span,
}

impl Model {
    /// The objects of a kind (empty for [`ObjectKind::Filter`]: see [`Model::filters`]).
    pub fn objects(&self, kind: ObjectKind) -> &[Object] {
        match kind {
            ObjectKind::Source => &self.sources,
            ObjectKind::Destination => &self.destinations,
            ObjectKind::Parser => &self.parsers,
            ObjectKind::Rewrite => &self.rewrites,
            ObjectKind::Filter => &[],
        }
    }

    /// The object of a kind with a name; the last definition if it was redefined.
    pub fn object(&self, kind: ObjectKind, name: &str) -> Option<&Object> {
        self.objects(kind)
            .iter()
            .rev()
            .find(|o| o.name.value == name)
    }

    /// The filter with a name; the last definition if it was redefined.
    pub fn filter(&self, name: &str) -> Option<&Filter> {
        self.filters.iter().rev().find(|f| f.name.value == name)
    }

    /// The template with a name; the last definition if it was redefined.
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().rev().find(|t| t.name.value == name)
    }

    /// Whether a name is defined for a kind of reference.
    pub fn defines(&self, kind: ObjectKind, name: &str) -> bool {
        match kind {
            ObjectKind::Filter => self.filter(name).is_some(),
            _ => self.object(kind, name).is_some(),
        }
    }

    /// The names defined for a kind, in declaration order (inline objects excluded), for
    /// "did you mean" suggestions.
    pub fn names(&self, kind: ObjectKind) -> Vec<&str> {
        match kind {
            ObjectKind::Filter => self
                .filters
                .iter()
                .filter(|f| !f.inline)
                .map(|f| f.name.value.as_str())
                .collect(),
            _ => self
                .objects(kind)
                .iter()
                .filter(|o| !o.inline)
                .map(|o| o.name.value.as_str())
                .collect(),
        }
    }
}

/// Reads an [`Ast`] into a [`Model`], returning every problem found.
pub fn build(ast: &Ast) -> Result<Model, Vec<Diagnostic>> {
    build::Builder::new(ast).run(ast)
}
