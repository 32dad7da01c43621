//! Tests of filter expressions.

use super::tests::{errors, model, shape_error};
use super::*;

/// A compact rendering of an expression, to compare trees.
fn show(e: &FilterExpr) -> String {
    match e {
        FilterExpr::And(list) => format!(
            "({})",
            list.iter().map(show).collect::<Vec<_>>().join(" and ")
        ),
        FilterExpr::Or(list) => format!(
            "({})",
            list.iter().map(show).collect::<Vec<_>>().join(" or ")
        ),
        FilterExpr::Not { expr, .. } => format!("not {}", show(expr)),
        FilterExpr::Call(Node::Call { name, raw, .. }) => format!("{}({raw})", name.value),
        FilterExpr::Call(_) => "?".into(),
        FilterExpr::Compare(c) => {
            let side = |o: &Operand| match &o.type_hint {
                Some(h) => format!("{}[{}]", h.value, o.template.value),
                None => format!("[{}]", o.template.value),
            };
            format!(
                "{} {} {}",
                side(&c.left),
                c.op.value.as_str(),
                side(&c.right)
            )
        }
    }
}

fn expr(body: &str) -> String {
    let m = model(&format!("filter f {{ {body} }};"));
    show(&m.filters[0].expr)
}

#[test]
fn precedence_not_and_or() {
    assert_eq!(
        expr("level(err) and not facility(auth) or program(\"kernel\");"),
        "((level(err) and not facility(auth)) or program(\"kernel\"))"
    );
    assert_eq!(expr("a(1) or b(2) and c(3);"), "(a(1) or (b(2) and c(3)))");
    assert_eq!(expr("a(1) or b(2) or c(3);"), "(a(1) or b(2) or c(3))");
    assert_eq!(expr("not a(1) and b(2);"), "(not a(1) and b(2))");
    assert_eq!(expr("not not a(1);"), "not not a(1)");
}

#[test]
fn parentheses() {
    assert_eq!(
        expr("(level(err) or level(crit)) and (facility(daemon) or not facility(mail));"),
        "((level(err) or level(crit)) and (facility(daemon) or not facility(mail)))"
    );
    assert_eq!(expr("((((program(\"a\")))));"), "program(\"a\")");
    assert_eq!(expr("not (not level(debug));"), "not not level(debug)");
}

#[test]
fn statements_are_joined_by_and() {
    assert_eq!(
        expr("level(err..emerg); facility(kern)"),
        "(level(err..emerg) and facility(kern))"
    );
    assert_eq!(expr("a(1); b(2); c(3);"), "(a(1) and b(2) and c(3))");
}

#[test]
fn comparisons() {
    assert_eq!(expr("\"$PROGRAM\" eq \"sshd\";"), "[$PROGRAM] eq [sshd]");
    assert_eq!(expr("\"${n}\" == 5;"), "[${n}] == [5]");
    assert_eq!(
        expr("\"${PID}\" >= 100 and \"${PID}\" < 65536 or \"$SEVERITY\" != \"3\";"),
        "(([${PID}] >= [100] and [${PID}] < [65536]) or [$SEVERITY] != [3])"
    );
    assert_eq!(expr("foo == 5;"), "[foo] == [5]");
    assert_eq!(expr("int(\"$PID\") > int(5);"), "int[$PID] > int[5]");
    assert_eq!(
        expr("\"$MSG\" === \"5\" and \"a\" !== \"b\";"),
        "([$MSG] === [5] and [a] !== [b])"
    );
    assert_eq!(expr("not \"a\" lt \"b\";"), "not [a] lt [b]");
    let m = model("filter f { \"a\" le \"b\"; };");
    let FilterExpr::Compare(c) = &m.filters[0].expr else {
        panic!("compare");
    };
    assert_eq!(c.op.value, CompareOp::StrLe);
    assert!(!c.op.value.is_numeric());
    assert!(CompareOp::NumGe.is_numeric());
}

#[test]
fn filter_references_and_calls() {
    let m = model("filter f { filter(a) and not filter(\"b\") or level(info); };");
    let refs: Vec<String> = m.filters[0]
        .expr
        .filter_refs()
        .into_iter()
        .map(|r| r.name.value)
        .collect();
    assert_eq!(refs, vec!["a", "b"]);
    assert_eq!(m.filters[0].expr.calls().len(), 3);
}

#[test]
fn dangling_operators_point_at_the_next_token() {
    let e = errors("filter f { level(err..emerg) and ; };");
    assert_eq!(
        e[0].0,
        "unexpected ';', expecting a filter expression after `and`"
    );
    assert_eq!(e[0].1, ";");
    assert_eq!(e[0].2.as_deref(), Some("filter"));
    let e = errors("filter f { and level(info); };");
    assert_eq!(e[0].0, "unexpected `and`, expecting a filter expression");
    assert_eq!(e[0].1, "and");
    let e = errors("filter f { level(info) and or level(debug); };");
    assert_eq!(
        e[0].0,
        "unexpected `or`, expecting a filter expression after `and`"
    );
    let e = errors("filter f { not; };");
    assert_eq!(
        e[0].0,
        "unexpected ';', expecting a filter expression after `not`"
    );
    let e = errors("filter f { (level(info) and); };");
    assert_eq!(
        e[0].0,
        "unexpected ')', expecting a filter expression after `and`"
    );
    assert_eq!(e[0].1, ")");
    let e = errors("filter f { (); };");
    assert_eq!(e[0].0, "unexpected ')', expecting a filter expression");
}

#[test]
fn malformed_comparisons() {
    let e = errors("filter f { \"a\"; };");
    assert_eq!(
        e[0].0,
        "unexpected ';', expecting a comparison operator after `\"a\"`"
    );
    let e = errors("filter f { true; };");
    assert_eq!(
        e[0].0,
        "unexpected ';', expecting a comparison operator after `true`"
    );
    shape_error(
        "filter f { \"a\" \"b\"; };",
        "unexpected `\"b\"`, expecting a comparison operator after `\"a\"`",
    );
    let e = errors("filter f { \"a\" ==; };");
    assert_eq!(
        e[0].0,
        "unexpected ';', expecting a value to compare after '=='"
    );
    let e = errors("filter f { \"a\" == \"b\" == \"c\"; };");
    assert_eq!(
        e[0].0,
        "comparisons cannot be chained; use `and` to combine them"
    );
    let e = errors("filter f { Int(\"$PID\") > 5; };");
    assert_eq!(e[0].0, "unknown type hint `Int`");
    let e = errors("filter f { level(info) level(debug); };");
    assert_eq!(
        e[0].0,
        "unexpected `level(...)`, expecting `and`, `or` or the end of the expression"
    );
    assert_eq!(e[0].1, "level(debug)");
}

#[test]
fn empty_and_bad_filters() {
    let e = errors("filter f { };");
    assert_eq!(e[0].0, "unexpected '}', expecting a filter expression");
    assert_eq!(e[0].1, "}");
    let e = errors("filter f { filter(); };");
    assert_eq!(e[0].0, "filter() takes the name of one filter");
    let e = errors("filter f { filter(a b); };");
    assert_eq!(e[0].0, "filter() takes the name of one filter");
    shape_error(
        "filter f { { level(info); }; };",
        "unexpected `{...}`, expecting a filter expression",
    );
}

#[test]
fn long_chains_stay_flat_and_nots_are_bounded() {
    let chain = vec!["host(\"h\")"; 5000].join(" or ");
    let m = model(&format!("filter f {{ {chain}; }};"));
    let FilterExpr::Or(list) = &m.filters[0].expr else {
        panic!("or");
    };
    assert_eq!(list.len(), 5000);
    assert_eq!(
        expr("(a(1) or b(2)) or c(3) and d(4);"),
        "(a(1) or b(2) or (c(3) and d(4)))"
    );
    let nots = vec!["not"; 64].join(" ");
    let m = model(&format!("filter f {{ {nots} level(info); }};"));
    assert!(matches!(m.filters[0].expr, FilterExpr::Not { .. }));
    let nots = vec!["not"; 65].join(" ");
    let e = errors(&format!("filter f {{ {nots} level(info); }};"));
    assert_eq!(e[0].0, "more than 64 `not`s in a row");
}
