//! Test-only helpers: configuration text through the real loader, so that unit tests of
//! `de`, `model` and `check` see exactly the nodes and spans the parser produces, and can
//! render diagnostics against a real source map.

use crate::config::ast::{Ast, Node};
use crate::config::load::{LoadOptions, load_str};
use crate::config::span::SourceMap;

/// Loads `text` as a whole configuration named `test.conf`; panics on syntax errors.
pub(crate) fn ast(text: &str) -> (SourceMap, Ast) {
    match load_str("test.conf", text, &LoadOptions::default()) {
        Ok(loaded) => (loaded.map, loaded.ast),
        Err(failure) => panic!("test config does not parse:\n{}", failure.render()),
    }
}

/// Parses `text` as one node (typically a driver call), written on line 2 of
/// `source s {\n<text>;\n};` (column numbers in the user's text are kept).
pub(crate) fn node(text: &str) -> (SourceMap, Node) {
    let (map, ast) = ast(&format!("source s {{\n{text};\n}};\n"));
    let node = ast
        .stmts
        .first()
        .and_then(|s| s.nodes.get(2))
        .and_then(|b| match b {
            Node::Block { stmts, .. } => stmts.first(),
            _ => None,
        })
        .and_then(|s| s.nodes.first())
        .cloned();
    match node {
        Some(n) => (map, n),
        None => panic!("no node in {text:?}"),
    }
}

/// Parses `text` as the contents of an argument list (what is inside a call's parentheses).
pub(crate) fn nodes(text: &str) -> (SourceMap, Vec<Node>) {
    let (map, call) = node(&format!("x({text})"));
    match call {
        Node::Call { args, .. } => (map, args),
        other => panic!("not a call: {other:?}"),
    }
}
