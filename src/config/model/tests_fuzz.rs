//! Property tests: building, checking and deserializing arbitrary trees never panics.
//!
//! The trees are generated directly (not through the parser), from a vocabulary of the
//! keywords the model reacts to, so that they reach the unusual paths: statements of the
//! wrong shape, keywords in odd places, compound nodes where scalars are expected.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Deserialize;

use super::build;
use crate::config::ast::{Ast, Node, Number, Quote, Stmt};
use crate::config::catalog::{DriverCatalog, ObjectKind};
use crate::config::check::check;
use crate::config::de;
use crate::config::diagnostic::Diagnostic;
use crate::config::span::{FileId, Span, Spanned};

const WORDS: &[&str] = &[
    "source",
    "destination",
    "filter",
    "parser",
    "rewrite",
    "log",
    "options",
    "template",
    "template-function",
    "junction",
    "channel",
    "if",
    "elif",
    "else",
    "flags",
    "and",
    "or",
    "not",
    "final",
    "catch_all",
    "yes",
    "no",
    "eq",
    "===",
    "s",
    "f",
    "d",
    "int",
    "x",
    "0",
];
const OPS: &[&str] = &["==", "!=", "<", "<=", "..", ">="];

fn span() -> impl Strategy<Value = Span> {
    (0u32..200, 0u32..20).prop_map(|(start, len)| Span {
        file: FileId(0),
        start,
        end: start + len,
        expansion: Default::default(),
    })
}

fn word() -> impl Strategy<Value = String> {
    proptest::sample::select(WORDS).prop_map(str::to_string)
}

fn leaf() -> impl Strategy<Value = Node> {
    prop_oneof![
        (word(), span()).prop_map(|(w, s)| Node::Word(Spanned::new(w, s))),
        (word(), span()).prop_map(|(w, s)| Node::Str(Spanned::new(w, s), Quote::Double)),
        (any::<i64>(), span()).prop_map(|(n, s)| Node::Number(Spanned::new(Number::Int(n), s))),
        (any::<f64>(), span()).prop_map(|(n, s)| Node::Number(Spanned::new(Number::Float(n), s))),
        (proptest::sample::select(OPS), span())
            .prop_map(|(o, s)| Node::Op(Spanned::new(o.to_string(), s))),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            (
                word(),
                proptest::collection::vec(inner.clone(), 0..5),
                span()
            )
                .prop_map(|(name, args, s)| Node::Call {
                    name: Spanned::new(name, s),
                    args,
                    raw: String::new(),
                    span: s,
                }),
            (proptest::collection::vec(inner.clone(), 0..4), span())
                .prop_map(|(items, span)| Node::Group { items, span }),
            (
                proptest::collection::vec(
                    (proptest::collection::vec(inner.clone(), 0..4), span())
                        .prop_map(|(nodes, span)| Stmt { nodes, span }),
                    0..4
                ),
                span()
            )
                .prop_map(|(stmts, span)| Node::Block { stmts, span }),
            (word(), inner, span()).prop_map(|(k, v, s)| Node::Arrow {
                key: Spanned::new(k, s),
                value: Box::new(v),
                span: s,
            }),
        ]
    })
}

fn ast() -> impl Strategy<Value = Ast> {
    proptest::collection::vec(
        (proptest::collection::vec(node(), 0..5), span())
            .prop_map(|(nodes, span)| Stmt { nodes, span }),
        0..6,
    )
    .prop_map(|stmts| Ast {
        stmts,
        ..Ast::default()
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
#[allow(dead_code)]
struct Typed {
    #[serde(rename = "0:path")]
    path: Option<String>,
    flags: Option<Vec<Flag>>,
    freq: Option<f64>,
    size: Option<u16>,
    on: Option<bool>,
    nested: Option<Box<Typed>>,
    map: Option<BTreeMap<String, String>>,
    pairs: Option<de::Repeated<(String, i32)>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
enum Flag {
    Final,
    Yes,
    Int(u8),
    Template { x: Option<String> },
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Anything {
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<Anything>),
    Map(BTreeMap<String, Anything>),
    Nothing(()),
}

/// Deserializes every call it is shown into several types, ignoring the results.
struct Exercising;

impl DriverCatalog for Exercising {
    fn check_driver(&self, _kind: ObjectKind, call: &Node) -> Result<(), Diagnostic> {
        let _ = de::from_call::<Typed>(call);
        let _ = de::from_call::<Anything>(call);
        let _ = de::from_call::<BTreeMap<String, Vec<String>>>(call);
        let _ = de::from_call_groups::<(Typed, Flags)>(call);
        de::from_call::<Typed>(call).map(|_| ())
    }

    fn check_global_options(&self, options: &[Node]) -> Vec<Diagnostic> {
        let _ = de::from_nodes::<Vec<Flag>>(options, Span::default());
        de::from_nodes::<Typed>(options, Span::default())
            .err()
            .into_iter()
            .collect()
    }
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Flags {
    flags: Option<Vec<String>>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn build_and_check_never_panic(ast in ast()) {
        match build(&ast) {
            Ok(model) => {
                let _ = check(&model, &Exercising);
            }
            Err(diags) => prop_assert!(!diags.is_empty()),
        }
    }

    #[test]
    fn deserializing_any_node_never_panics(n in node()) {
        let _ = de::from_call::<Typed>(&n);
        let _ = de::from_call::<Anything>(&n);
        let _ = de::from_nodes::<Vec<Anything>>(std::slice::from_ref(&n), Span::default());
        let _ = de::from_nodes::<(String, u8, bool)>(std::slice::from_ref(&n), Span::default());
    }
}
