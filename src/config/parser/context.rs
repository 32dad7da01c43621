//! Contexts: what the nodes being read are, as far as block references and statement
//! rules are concerned. syslog-ng's lexer looks a name up among the blocks of the context
//! its grammar is in; these rules reproduce where each context applies.

use crate::config::ast::keyword_eq;
use crate::config::blocks::BlockContext;

/// What the nodes being read are, as far as block references are concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Ctx {
    /// Top-level statements.
    Root,
    /// The body of an object or inline object of this kind, or of a log path.
    Object(BlockContext),
    /// The arguments of a rewrite driver, where `condition(...)` holds a filter.
    RewriteArgs,
    /// Anywhere else: no block can be referenced.
    Plain,
}

impl Ctx {
    /// The kind of block a `name(...)` directly in this context refers to.
    pub(super) fn block_context(self) -> Option<BlockContext> {
        match self {
            Ctx::Root => Some(BlockContext::Root),
            Ctx::Object(kind) => Some(kind),
            Ctx::RewriteArgs | Ctx::Plain => None,
        }
    }

    /// The context of the arguments of a call `name(...)` read in this context.
    pub(super) fn call_args(self, name: &str) -> Ctx {
        match self {
            Ctx::Object(BlockContext::Filter) => self,
            Ctx::Object(BlockContext::Rewrite) => Ctx::RewriteArgs,
            Ctx::RewriteArgs if keyword_eq(name, "condition") => Ctx::Object(BlockContext::Filter),
            _ => Ctx::Plain,
        }
    }

    /// The context of a `{ ... }` in a statement that starts with `first`.
    pub(super) fn body(self, first: Option<&str>) -> Ctx {
        let Some(first) = first else {
            return Ctx::Plain;
        };
        let is = |k: &str| keyword_eq(k, first);
        let log = Ctx::Object(BlockContext::Log);
        match (self, BlockContext::from_word(first)) {
            (Ctx::Root, Some(BlockContext::Root)) => Ctx::Plain,
            (Ctx::Root, Some(kind)) => Ctx::Object(kind),
            // appmodel's `application name[topic] { filter {...}; parser {...}; };`
            (Ctx::Root, None) if is("application") => log,
            (Ctx::Object(BlockContext::Log), Some(BlockContext::Root | BlockContext::Options)) => {
                Ctx::Plain
            }
            (Ctx::Object(BlockContext::Log), Some(kind)) => Ctx::Object(kind),
            (Ctx::Object(BlockContext::Log), None)
                if ["junction", "channel", "if"].iter().any(|k| is(k)) =>
            {
                log
            }
            // `parser p { channel { parser {...}; rewrite {...}; }; };` and the like: a
            // channel inside an object is a little log path.
            (
                Ctx::Object(
                    BlockContext::Source
                    | BlockContext::Destination
                    | BlockContext::Parser
                    | BlockContext::Rewrite,
                ),
                None,
            ) if is("channel") => log,
            _ => Ctx::Plain,
        }
    }

    /// The context of a `( ... )` group in a statement that starts with `first`.
    pub(super) fn group(self, first: Option<&str>) -> Ctx {
        match self {
            Ctx::Object(BlockContext::Filter) => self,
            Ctx::Object(BlockContext::Log) if first.is_some_and(|f| keyword_eq(f, "if")) => {
                Ctx::Object(BlockContext::Filter)
            }
            _ => Ctx::Plain,
        }
    }
}

/// Words that take a parenthesised group, not arguments: `if (...)`, `not (...)`.
pub(super) fn takes_group(word: &str) -> bool {
    ["if", "elif", "not", "and", "or"]
        .iter()
        .any(|k| keyword_eq(k, word))
}

/// The top-level keywords syslog-ng names in "Error parsing within ..." messages.
pub(super) fn diagnostic_context(first: &str) -> Option<&'static str> {
    [
        "source",
        "destination",
        "filter",
        "parser",
        "rewrite",
        "log",
        "options",
        "template",
    ]
    .into_iter()
    .find(|k| keyword_eq(k, first))
}
