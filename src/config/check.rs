//! Semantic checks over a built [`Model`]: what syslog-ng finds when it resolves the
//! configuration rather than when it parses it.
//!
//! * duplicate names, per kind (a source and a destination may share a name; two sources may
//!   not), unless `allow-config-dups` is set; `template-function`s may be redefined;
//! * references from log paths to undefined sources, filters, parsers, rewrites and
//!   destinations, and `filter(name)` inside filter expressions, with "did you mean";
//! * `filter()` references that form a cycle;
//! * every driver call of every object (named and inline), every filter function, and the
//!   global options, checked by the [`DriverCatalog`].
//!
//! syslog-ng checks references only when it builds the pipeline, so a broken `filter()`
//! inside a filter no log path uses passes `syslog-ng -s`; sluice reports it anyway, since
//! such a filter is a mistake waiting for its first use.

use crate::config::ast::{Node, keyword_eq};
use crate::config::catalog::{DriverCatalog, ObjectKind};
use crate::config::diagnostic::{Diagnostic, did_you_mean};
use crate::config::model::{FilterExpr, LogPath, Model, ObjectItem};
use crate::config::span::{Span, Spanned};

/// Runs every check and returns the problems found, in the order they appear in the files.
pub fn check(model: &Model, catalog: &dyn DriverCatalog) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if !model.allow_config_dups {
        duplicates(model, &mut out);
    }
    for path in all_log_paths(model) {
        log_path_references(model, path, &mut out);
    }
    for (expr, context) in all_filter_exprs(model) {
        filter_references(model, expr, context, &mut out);
    }
    filter_cycles(model, &mut out);
    drivers(model, catalog, &mut out);
    out.extend(
        catalog
            .check_global_options(&model.global_options)
            .into_iter()
            .map(|d| with_default_context(d, "options")),
    );
    out.sort_by_key(|d| d.span.map(|s| (s.file.0, s.start)));
    out
}

fn with_default_context(d: Diagnostic, context: &str) -> Diagnostic {
    if d.context.is_some() {
        d
    } else {
        d.with_context(context)
    }
}

/// Every later definition of a name already defined for the same kind.
fn duplicates(model: &Model, out: &mut Vec<Diagnostic>) {
    let kinds = [
        ObjectKind::Source,
        ObjectKind::Destination,
        ObjectKind::Parser,
        ObjectKind::Rewrite,
    ];
    for kind in kinds {
        let named = model
            .objects(kind)
            .iter()
            .filter(|o| !o.inline)
            .map(|o| (&o.name, o.span));
        report_duplicates(
            named,
            &format!("duplicate {} definition", kind.keyword()),
            out,
        );
    }
    let filters = model
        .filters
        .iter()
        .filter(|f| !f.inline)
        .map(|f| (&f.name, f.span));
    report_duplicates(filters, "duplicate filter definition", out);
    let templates = model.templates.iter().map(|t| (&t.name, t.span));
    report_duplicates(templates, "duplicate template", out);
}

fn report_duplicates<'a>(
    defs: impl Iterator<Item = (&'a Spanned<String>, Span)>,
    message: &str,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: Vec<&str> = Vec::new();
    for (name, span) in defs {
        if seen.contains(&name.value.as_str()) {
            out.push(
                Diagnostic::new(format!("{message} `{}`", name.value), span).with_note(
                    "names must be unique per kind; `@define allow-config-dups 1` lets a later \
                     definition replace an earlier one",
                ),
            );
        } else {
            seen.push(&name.value);
        }
    }
}

/// The top-level log paths and the channels inside objects.
fn all_log_paths(model: &Model) -> Vec<&LogPath> {
    let mut paths: Vec<&LogPath> = model.log_paths.iter().collect();
    for kind in [
        ObjectKind::Source,
        ObjectKind::Destination,
        ObjectKind::Parser,
        ObjectKind::Rewrite,
    ] {
        for object in model.objects(kind) {
            for item in &object.items {
                if let ObjectItem::Channel(path) = item {
                    paths.push(path);
                }
            }
        }
    }
    paths
}

/// Every filter expression: filter bodies (named and inline) and `if` conditions, with the
/// context to report problems in.
fn all_filter_exprs(model: &Model) -> Vec<(&FilterExpr, &'static str)> {
    let mut exprs: Vec<(&FilterExpr, &'static str)> =
        model.filters.iter().map(|f| (&f.expr, "filter")).collect();
    for path in all_log_paths(model) {
        exprs.extend(path.conditions().into_iter().map(|c| (c, "log")));
    }
    exprs
}

fn undefined(model: &Model, kind: ObjectKind, name: &Spanned<String>, span: Span) -> Diagnostic {
    let mut d = Diagnostic::new(
        format!("undefined {} `{}`", kind.keyword(), name.value),
        span,
    );
    if let Some(best) = did_you_mean(&name.value, model.names(kind)) {
        d = d.with_note(format!("did you mean `{best}`?"));
    }
    d
}

fn log_path_references(model: &Model, path: &LogPath, out: &mut Vec<Diagnostic>) {
    for (kind, r) in path.references() {
        if !r.inline && !model.defines(kind, &r.name.value) {
            out.push(undefined(model, kind, &r.name, r.span).with_context("log"));
        }
    }
}

fn filter_references(model: &Model, expr: &FilterExpr, context: &str, out: &mut Vec<Diagnostic>) {
    for r in expr.filter_refs() {
        if model.filter(&r.name.value).is_none() {
            out.push(undefined(model, ObjectKind::Filter, &r.name, r.span).with_context(context));
        }
    }
}

/// Reports each cycle of `filter()` references once, at the reference that closes it.
fn filter_cycles(model: &Model, out: &mut Vec<Diagnostic>) {
    // Depth-first search over named filters; 0 = unvisited, 1 = on the stack, 2 = done.
    let names: Vec<&str> = model
        .filters
        .iter()
        .map(|f| f.name.value.as_str())
        .collect();
    let mut state = vec![0u8; names.len()];
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..names.len() {
        visit(model, &names, start, &mut state, &mut stack, out);
    }
}

fn visit(
    model: &Model,
    names: &[&str],
    index: usize,
    state: &mut [u8],
    stack: &mut Vec<usize>,
    out: &mut Vec<Diagnostic>,
) {
    if state[index] != 0 {
        return;
    }
    state[index] = 1;
    stack.push(index);
    let Some(filter) = model.filters.get(index) else {
        return;
    };
    for r in filter.expr.filter_refs() {
        // The definition that wins (the last one) is the one followed.
        let Some(target) = names.iter().rposition(|n| *n == r.name.value) else {
            continue;
        };
        match state[target] {
            0 => visit(model, names, target, state, stack, out),
            1 => {
                let start = stack.iter().position(|i| *i == target).unwrap_or(0);
                let mut chain: Vec<&str> = stack[start..].iter().map(|i| names[*i]).collect();
                chain.push(names[target]);
                let d = Diagnostic::new(
                    format!("filter `{}` refers to itself", names[target]),
                    r.span,
                )
                .with_context("filter")
                .with_note(format!("reference loop: {}", chain.join(" -> ")));
                out.push(d);
            }
            _ => {}
        }
    }
    stack.pop();
    state[index] = 2;
}

/// Every driver call and filter function, through the catalog.
fn drivers(model: &Model, catalog: &dyn DriverCatalog, out: &mut Vec<Diagnostic>) {
    for kind in [
        ObjectKind::Source,
        ObjectKind::Destination,
        ObjectKind::Parser,
        ObjectKind::Rewrite,
    ] {
        for object in model.objects(kind) {
            for call in object.drivers() {
                if let Err(d) = catalog.check_driver(kind, call) {
                    out.push(with_default_context(d, kind.keyword()));
                }
            }
        }
    }
    for (expr, context) in all_filter_exprs(model) {
        for call in expr.calls() {
            if is_filter_reference(call) {
                continue;
            }
            if let Err(d) = catalog.check_driver(ObjectKind::Filter, call) {
                out.push(with_default_context(d, context));
            }
        }
    }
}

/// `filter(name)` is resolved here, not by the catalog.
fn is_filter_reference(call: &Node) -> bool {
    matches!(call, Node::Call { name, .. } if keyword_eq(&name.value, "filter"))
}

#[cfg(test)]
mod tests;
