//! `app-parser(topic(T) auto-parse() auto-parse-include() auto-parse-exclude())`: a junction
//! with one final channel per `application NAME[T]` defined so far, which filters, parses and
//! tags (`.app.NAME`, `${.app.name}`) — syslog-ng 3.38's modules/appmodel, text for text.
//!
//! An application's filter and parser are kept as the text of their bodies; one written for
//! topic `*` gives the default filter or parser of the applications of that name.

use super::arg;
use crate::config::ast::{Node, Stmt, keyword_eq};
use crate::config::blocks::Arg;
use crate::config::diagnostic::Diagnostic;
use crate::config::span::Span;

/// One `application NAME[TOPIC] { filter {...}; parser {...}; };`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AppDef {
    pub name: String,
    pub topic: String,
    /// The text inside `filter { }` (the last one written), if any.
    pub filter: Option<String>,
    /// The text inside `parser { }` (the last one written), if any.
    pub parser: Option<String>,
}

/// The applications defined so far, in order; a redefinition (same name and topic) replaces
/// the earlier one and moves to the end, as in syslog-ng.
#[derive(Debug, Default)]
pub(crate) struct Applications {
    apps: Vec<AppDef>,
}

impl Applications {
    /// Records a top-level statement if it is an `application` (a malformed one is left to
    /// the model, which reports it).
    pub(crate) fn record(&mut self, stmt: &Stmt) {
        if let Some(app) = read(stmt) {
            self.apps
                .retain(|a| !(a.name == app.name && a.topic == app.topic));
            self.apps.push(app);
        }
    }

    fn base(&self, name: &str) -> Option<&AppDef> {
        self.apps.iter().find(|a| a.name == name && a.topic == "*")
    }
}

fn read(stmt: &Stmt) -> Option<AppDef> {
    let [
        Node::Word(kw),
        Node::Word(name),
        Node::Op(open),
        Node::Word(topic),
        Node::Op(close),
        Node::Block { stmts, .. },
    ] = stmt.nodes.as_slice()
    else {
        return None;
    };
    if !keyword_eq(&kw.value, "application") || open.value != "[" || close.value != "]" {
        return None;
    }
    let mut app = AppDef {
        name: name.value.clone(),
        topic: topic.value.clone(),
        filter: None,
        parser: None,
    };
    for s in stmts {
        if let [Node::Word(w), Node::Block { stmts: body, .. }] = s.nodes.as_slice() {
            let text = Some(body_text(body));
            if keyword_eq(&w.value, "filter") {
                app.filter = text;
            } else if keyword_eq(&w.value, "parser") {
                app.parser = text;
            }
        }
    }
    Some(app)
}

/// Statements as configuration text, for reading again inside a generated block (which is
/// not backtick-substituted: the printer's doubled backticks are undone).
fn body_text(stmts: &[Stmt]) -> String {
    crate::config::printer::print_stmts(stmts).replace("``", "`")
}

/// The text of one `app-parser(...)` reference.
pub(crate) fn generate(
    apps: &Applications,
    args: &[Arg],
    call_site: Span,
) -> Result<String, Diagnostic> {
    let Some(topic) = arg(args, "topic") else {
        return Err(Diagnostic::new(
            "app-parser() requires a topic() argument",
            call_site,
        ));
    };
    let topic = unquoted(topic);
    let enabled = arg(args, "auto-parse").is_none_or(yes_no);
    // syslog-ng tests these lists as substrings of the text given.
    let include = arg(args, "auto-parse-include").map(unquoted);
    let exclude = arg(args, "auto-parse-exclude").map(unquoted);
    const EMPTY_FRAME: &str = "\nchannel { filter { tags('.app.doesnotexist'); }; flags(final); };";
    if !enabled {
        return Ok(EMPTY_FRAME.to_string());
    }
    let mut text = String::from("\nchannel {\n    junction {\n");
    for app in apps.apps.iter().filter(|a| a.topic != "*") {
        if app.topic != topic
            || include.is_some_and(|i| !i.contains(app.name.as_str()))
            || exclude.is_some_and(|e| e.contains(app.name.as_str()))
        {
            continue;
        }
        let base = apps.base(&app.name);
        let filter = app.filter.as_ref().or(base.and_then(|b| b.filter.as_ref()));
        let parser = app.parser.as_ref().or(base.and_then(|b| b.parser.as_ref()));
        text.push_str(&format!("\n#Start Application {}\nchannel {{\n", app.name));
        if let Some(f) = filter {
            text.push_str(&format!("    filter {{ {f} }};\n"));
        }
        if let Some(p) = parser {
            text.push_str(&format!("    parser {{ {p} }};\n"));
        }
        text.push_str(&format!(
            "    rewrite {{\n       set-tag('.app.{0}');\n       set('{0}' value('.app.name'));\n    }};\n    \
             flags(final);\n}};\n\n#End Application {0}\n",
            app.name
        ));
    }
    text.push_str(EMPTY_FRAME);
    text.push_str("    };\n}");
    Ok(text)
}

/// An argument's text without the quotes of a single string.
fn unquoted(v: &str) -> &str {
    let t = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// syslog-ng's `cfg_process_yesno`: `yes` (any case) or a positive number; anything else
/// is no.
fn yes_no(v: &str) -> bool {
    let v = unquoted(v);
    let leading: String = v
        .trim_start()
        .chars()
        .enumerate()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
        .map(|(_, c)| c)
        .collect();
    v.eq_ignore_ascii_case("yes") || leading.parse::<i64>().is_ok_and(|n| n > 0)
}
