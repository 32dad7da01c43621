//! The syslog-ng configuration language.
//!
//! Stages, each in its own module:
//! 1. [`lexer`] (nom) turns text into tokens with spans, handling comments, the three string
//!    forms and backtick substitution;
//! 2. [`preprocess`] runs the pragmas (`@version`, `@include`, `@define`, `@module`,
//!    `@requires`) and captures `block` definitions and `python {}` code verbatim;
//! 3. [`parser`] builds the generic [`ast`] (statements of words, literals, calls, blocks);
//! 4. [`blocks`] expands block references in their contexts, [`generators`] produces the
//!    text of `system()`, `app-parser()` and `@module confgen` references;
//! 5. [`model`] gives the tree meaning: global options, named objects, log paths, filter
//!    expressions; [`de`] is the serde Deserializer drivers use to read their options;
//! 6. [`check`] runs semantic checks (undefined references, duplicates, unknown drivers).
//!
//! Every error is a [`Diagnostic`] with a [`Span`] that points into the user's own file.

pub mod ast;
pub mod blocks;
pub mod catalog;
pub mod check;
pub mod de;
pub mod diagnostic;
pub(crate) mod generators;
pub mod global_options;
pub mod lexer;
pub mod load;
pub mod model;
pub mod parser;
pub mod preprocess;
pub mod printer;
pub mod span;
#[cfg(test)]
pub(crate) mod test_support;

pub use ast::{Ast, Node, Stmt};
pub use diagnostic::Diagnostic;
pub use load::{LoadFailure, LoadOptions, Loaded, load_file, load_str};
pub use span::{SourceMap, Span, Spanned};
