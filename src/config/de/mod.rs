//! A serde Deserializer over a driver's argument list: how every driver reads its options.
//!
//! ```ignore
//! #[derive(Deserialize)]
//! #[serde(rename_all = "kebab-case", deny_unknown_fields)]
//! struct FileSourceOptions {
//!     #[serde(rename = "0:path")]          // the first positional argument, named "path"
//!     path: String,
//!     #[serde(default = "default_follow_freq")]
//!     follow_freq: f64,
//!     #[serde(default)]
//!     flags: Vec<SourceFlag>,              // flags(no-parse, kernel) flags(empty-lines)
//!     disk_buffer: Option<DiskBuffer>,     // disk-buffer(reliable(yes) dir("/x"))
//! }
//! let opts: FileSourceOptions = de::from_call(&call)?;   // Err is a located Diagnostic
//! ```
//!
//! # How the argument list is read
//!
//! * **Options.** `name(args)` and `name => value` are keyed by name, `_` read as `-`
//!   (`follow_freq(1)` is `follow-freq`). Positional values (`"/var/log/x"`) are keyed by
//!   position: declare them as fields renamed `"0"`, `"1"`, ... or, better, `"0:path"`,
//!   `"1:port"`: the part after the colon names the argument in "missing the path argument".
//!   Extra positional values go to the last positional field, so it can be a `Vec`; for a
//!   scalar they are a "too many values" error.
//! * **Repeated options** are presented once with their occurrences merged: a `Vec` gets all
//!   the values concatenated (`flags(a) flags(b)` = `[a, b]`), a scalar the last one (in
//!   syslog-ng a later option overrides an earlier one), a nested struct the options of all
//!   occurrences. Use [`Repeated<T>`] to get one element per occurrence instead.
//! * **Scalars.** Strings from strings, words and numbers; integers and floats from numbers or
//!   numeric strings (`"5"`); `bool` from `yes`/`no`/`on`/`off`/`true`/`false` (words or
//!   strings) and integers (non-zero is yes, as in syslog-ng).
//! * **Keyword choices** are unit enum variants: `#[serde(rename_all = "kebab-case")]`, and the
//!   user may write `-` or `_` (`mark-mode(dst_idle)`); case matters, as in syslog-ng.
//!   A variant with contents is written as a call (`periodical(freq(5))`), or as a bare word if
//!   all its contents have defaults.
//! * `Option<T>`: `None` when the option is absent. Nested structs read the call's arguments.
//!   `HashMap`/`BTreeMap<String, _>` read `k(v)`, `k => v` and positional pairs
//!   (`options("k" "v" "k2" "v2")`), keys kept exactly as written.
//! * `deserialize_any` follows the nodes: words and strings are strings, numbers numbers, a
//!   list of scalars a sequence, anything with options a map. Ignored values are skipped
//!   without being looked at.
//!
//! # Errors
//!
//! Every error is a [`Diagnostic`] at its own place: an unknown option at its name (with "did
//! you mean" or the list of valid options), a wrong value at the value ("expected a whole number,
//! found `abc`"), a missing option at the call's name, an extra value at the value. The caller
//! adds the context (`Diagnostic::with_context("source")`).
//!
//! # Shared option groups: use [`from_call_groups`], not `flatten`
//!
//! `#[serde(flatten)]` does not work with `deny_unknown_fields`, and it buffers values, which
//! loses their locations. For options shared by many drivers (source reader options,
//! destination writer options, `hook-commands`, template options...) write each group as its
//! own struct **without** `deny_unknown_fields`, and the driver's own options likewise, then
//! read them together:
//!
//! ```ignore
//! #[derive(Deserialize)]
//! #[serde(rename_all = "kebab-case")]            // no deny_unknown_fields on any part
//! pub struct SourceReaderOptions { #[serde(default)] pub log_iw_size: Option<u32>, ... }
//!
//! let (own, reader, hooks): (FileSourceOptions, SourceReaderOptions, HookOptions) =
//!     de::from_call_groups(&call)?;
//! ```
//!
//! Every part reads the same call and ignores options it does not have; an option that no part
//! declares is reported once, with suggestions from all of them. Only one part should declare
//! positional fields. Groups are plain structs, so they nest and are reused freely.

mod error;
mod groups;
mod node;
mod value;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_groups;
#[cfg(test)]
mod tests_values;

use serde::de::DeserializeOwned;

pub use error::Error;
pub use groups::{OptionGroups, Repeated};
pub use value::ValueDe;

use super::ast::Node;
use super::diagnostic::Diagnostic;
use super::span::Span;
use node::describe;

/// A short rendering of a node for messages, in backticks: "found `abc`", "`file(...)`".
pub fn describe_node(node: &Node) -> String {
    describe(node)
}

/// A number as syslog-ng would print it back (`5`, `0.5`).
pub fn number_text(n: super::ast::Number) -> String {
    node::number_text(n)
}

/// Reads `T` from the arguments of a [`Node::Call`]. Errors that concern the call as a whole
/// (a missing option) point at the call's name.
pub fn from_call<T: DeserializeOwned>(call: &Node) -> Result<T, Diagnostic> {
    let (value, anchor) = call_value(call)?;
    T::deserialize(value).map_err(|e| e.into_diagnostic(anchor))
}

/// Reads `T` from a list of nodes, as if they were the arguments of one call; `span` is where
/// problems with the list as a whole are reported. Used for the merged contents of every
/// `options {}` statement (each statement one option call).
pub fn from_nodes<T: DeserializeOwned>(nodes: &[Node], span: Span) -> Result<T, Diagnostic> {
    T::deserialize(ValueDe::from_slice(nodes, span)).map_err(|e| e.into_diagnostic(span))
}

/// Reads a tuple of option groups from a call's arguments; see "Shared option groups" above.
pub fn from_call_groups<G: OptionGroups>(call: &Node) -> Result<G, Diagnostic> {
    let (value, anchor) = call_value(call)?;
    G::read(value).map_err(|e| e.into_diagnostic(anchor))
}

/// [`from_call_groups`] over a list of nodes, like [`from_nodes`].
pub fn from_nodes_groups<G: OptionGroups>(nodes: &[Node], span: Span) -> Result<G, Diagnostic> {
    G::read(ValueDe::from_slice(nodes, span)).map_err(|e| e.into_diagnostic(span))
}

fn call_value(call: &Node) -> Result<(ValueDe<'_>, Span), Diagnostic> {
    match call {
        Node::Call {
            name, args, span, ..
        } => Ok((ValueDe::from_call_parts(args, name.span, *span), name.span)),
        other => Err(Diagnostic::new(
            format!(
                "expected a driver like `name(...)`, found {}",
                describe(other)
            ),
            other.span(),
        )),
    }
}
