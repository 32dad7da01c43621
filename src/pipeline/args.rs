//! Helpers for driver calls whose arguments serde cannot read on its own: `condition()`
//! holds a filter expression, and a template argument may carry a type hint
//! (`set(int("5") value("x"))`; in 3.38 every value is a string, so the hint is checked and
//! dropped).

use crate::config::ast::{Node, keyword_eq};
use crate::config::diagnostic::Diagnostic;
use crate::config::model::{End, FilterExpr, TYPE_HINTS, parse_filter};
use crate::config::span::Span;

/// A call with some options taken out.
pub struct Split {
    /// The call without the removed options (to deserialize the rest).
    pub call: Node,
    /// `condition(...)`, parsed.
    pub condition: Option<FilterExpr>,
}

/// Takes `condition()` out of `call`, and unwraps a type-hinted first positional argument.
pub fn split(call: &Node) -> Result<Split, Diagnostic> {
    let Node::Call {
        name,
        args,
        raw,
        span,
    } = call
    else {
        return Err(Diagnostic::new("expected a driver call", call.span()));
    };
    let mut kept = Vec::with_capacity(args.len());
    let mut condition = None;
    let mut first_positional = true;
    for a in args {
        match a {
            Node::Call {
                name: n,
                args: cargs,
                span: cspan,
                ..
            } if keyword_eq(&n.value, "condition") => {
                let end = End {
                    span: Span {
                        start: cspan.end.saturating_sub(1),
                        ..*cspan
                    },
                    token: Some(")"),
                };
                condition = Some(parse_filter(cargs, end)?);
            }
            Node::Call {
                name: n,
                args: cargs,
                ..
            } if first_positional && TYPE_HINTS.contains(&n.value.as_str()) => {
                first_positional = false;
                match cargs.as_slice() {
                    [one @ (Node::Str(..) | Node::Word(_) | Node::Number(_))] => {
                        kept.push(one.clone());
                    }
                    _ => {
                        return Err(Diagnostic::new(
                            format!("`{}()` takes exactly one template", n.value),
                            a.span(),
                        ));
                    }
                }
            }
            Node::Str(..) | Node::Word(_) | Node::Number(_) => {
                first_positional = false;
                kept.push(a.clone());
            }
            other => kept.push(other.clone()),
        }
    }
    Ok(Split {
        call: Node::Call {
            name: name.clone(),
            args: kept,
            raw: raw.clone(),
            span: *span,
        },
        condition,
    })
}

/// The span of a named option inside a call, else the call's.
pub fn option_span(call: &Node, option: &str) -> Span {
    match call {
        Node::Call { args, span, .. } => args
            .iter()
            .find_map(|a| match a {
                Node::Call { name, span, .. } if keyword_eq(&name.value, option) => Some(*span),
                _ => None,
            })
            .unwrap_or(*span),
        other => other.span(),
    }
}

/// The span of the `i`th positional argument, else the call's.
pub fn positional_span(call: &Node, i: usize) -> Span {
    match call {
        Node::Call { args, span, .. } => args
            .iter()
            .filter(|a| matches!(a, Node::Str(..) | Node::Word(_) | Node::Number(_)))
            .nth(i)
            .map_or(*span, Node::span),
        other => other.span(),
    }
}
