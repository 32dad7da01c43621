//! Rewrite rules: `set()`, `subst()`, `unset()`, `groupset()`, `groupunset()`, `set-tag()`,
//! `clear-tag()`, `rename()`, `set-severity()`, `set-facility()`, `set-pri()`, each with an
//! optional `condition()` (a filter expression: when it does not match the rule is skipped
//! and the message goes on unchanged, it is never dropped).
//!
//! As in syslog-ng 3.38: `set()` and `subst()` write MESSAGE unless `value()` says otherwise
//! (a repeated `value()` keeps the last one); `subst()` refuses `type(glob)`; `groupset()`
//! and `groupunset()` take `values()` globs matched against the names of every value the
//! message has, and in `groupset()`'s template `$_` is the current value; `set-tag()` takes
//! a template; `set-severity()`/`set-facility()` take a name or a number, `set-pri()` a
//! number, and ignore what they cannot read.

use std::sync::Arc;

use serde::Deserialize;

use crate::config::ast::{Node, keyword_eq};
use crate::config::de;
use crate::config::diagnostic::Diagnostic;
use crate::message::{Builtin, LogMessage, TagId};
use crate::template::Template;

use super::args::{self, positional_span};
use super::filter::{self, Filter, pri};
use super::matcher::{Matcher, MatcherFlag, MatcherOptions, MatcherType};
use super::{BuildEnv, Cx};

/// `set("template" value("NAME") condition(...))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SetOptions {
    #[serde(rename = "0:template")]
    pub template: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub on_error: Option<String>,
}

/// `subst("pattern" "replacement" value("NAME") type(pcre) flags(global))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SubstOptions {
    #[serde(rename = "0:pattern")]
    pub pattern: String,
    #[serde(rename = "1:replacement")]
    pub replacement: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<MatcherType>,
    #[serde(default)]
    pub flags: Vec<MatcherFlag>,
}

/// `unset(value("NAME"))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct UnsetOptions {
    pub value: String,
}

/// `groupset("template" values("glob" ...))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GroupsetOptions {
    #[serde(rename = "0:template")]
    pub template: String,
    pub values: Vec<String>,
}

/// `groupunset(values("glob" ...))`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GroupunsetOptions {
    pub values: Vec<String>,
}

/// `set-tag("name")`, `clear-tag("name")`, `set-severity("info")`, `set-facility(...)`,
/// `set-pri(...)`: one template.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OneTemplateOptions {
    #[serde(rename = "0:template")]
    pub template: String,
}

/// `rename("old" "new")`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RenameOptions {
    #[serde(rename = "0:old")]
    pub old: String,
    #[serde(rename = "1:new")]
    pub new: String,
}

/// The rewrite drivers this module builds, for the driver catalog.
pub const DRIVERS: &[&str] = &[
    "set",
    "subst",
    "unset",
    "groupset",
    "groupunset",
    "set-tag",
    "clear-tag",
    "rename",
    "set-severity",
    "set-facility",
    "set-pri",
];

/// The option names of a rewrite driver (for "did you mean").
pub fn option_names(name: &str) -> Vec<&'static str> {
    let mut v = match name {
        "set" => vec!["value", "on-error"],
        "subst" => vec!["value", "type", "flags"],
        "unset" => vec!["value"],
        "groupset" | "groupunset" => vec!["values"],
        _ => Vec::new(),
    };
    v.push("condition");
    v
}

/// A value name resolved to its slot.
#[derive(Debug, Clone)]
enum Target {
    Builtin(Builtin),
    Name(String),
}

impl Target {
    fn new(name: &str) -> Target {
        let name = name.strip_prefix('$').unwrap_or(name);
        match Builtin::from_name(name.as_bytes()) {
            Some(b) => Target::Builtin(b),
            None => Target::Name(name.to_string()),
        }
    }

    fn get<'m>(&self, msg: &'m LogMessage) -> Option<&'m [u8]> {
        match self {
            Target::Builtin(b) => msg.get_builtin(*b),
            Target::Name(n) => msg.get(n),
        }
    }

    fn set(&self, msg: &mut LogMessage, v: &[u8]) {
        match self {
            Target::Builtin(b) => msg.set_builtin(*b, v),
            Target::Name(n) => msg.set(n, v),
        }
    }

    fn unset(&self, msg: &mut LogMessage) {
        match self {
            Target::Builtin(b) => msg.unset(b.name()),
            Target::Name(n) => msg.unset(n),
        }
    }
}

#[derive(Debug)]
enum Op {
    Set {
        template: Template,
        target: Target,
    },
    Subst {
        matcher: Matcher,
        replacement: Template,
        target: Target,
    },
    Unset(Target),
    Groupset {
        template: Template,
        globs: Vec<Vec<char>>,
    },
    Groupunset {
        globs: Vec<Vec<char>>,
    },
    SetTag(TagSpec),
    ClearTag(TagSpec),
    Rename {
        old: Target,
        new: Target,
    },
    SetSeverity(Template),
    SetFacility(Template),
    SetPri(Template),
}

/// A tag given literally (interned once) or as a template (interned when rendered).
#[derive(Debug)]
enum TagSpec {
    Fixed(TagId),
    Template(Template),
}

/// One compiled rewrite rule.
#[derive(Debug)]
pub struct Rewrite {
    op: Op,
    condition: Option<Filter>,
}

/// Compiles a rewrite driver call.
pub fn compile(call: &Node, env: &BuildEnv<'_>) -> Result<Rewrite, Diagnostic> {
    let split = args::split(call)?;
    let c = &split.call;
    let Node::Call { name, span, .. } = c else {
        return Err(Diagnostic::new("expected a rewrite rule", call.span()));
    };
    let is = |k: &str| keyword_eq(&name.value, k);
    let tmpl = |text: &str, i: usize| env.template(text, positional_span(c, i));
    let op = if is("set") {
        let o: SetOptions = de::from_call(c)?;
        let target = Target::new(o.value.as_deref().unwrap_or("MESSAGE"));
        Op::Set {
            template: tmpl(&o.template, 0)?,
            target,
        }
    } else if is("subst") {
        let o: SubstOptions = de::from_call(c)?;
        if o.kind == Some(MatcherType::Glob) {
            return Err(Diagnostic::new(
                "error compiling search pattern, error=subst() only supports matchers that allow replacement, glob is not one of these",
                positional_span(c, 0),
            ));
        }
        let matcher = Matcher::new(
            &o.pattern,
            &MatcherOptions {
                kind: o.kind,
                flags: o.flags,
            },
        )
        .map_err(|e| {
            Diagnostic::new(
                format!("error compiling search pattern, error={e}"),
                positional_span(c, 0),
            )
        })?;
        Op::Subst {
            matcher,
            replacement: tmpl(&o.replacement, 1)?,
            target: Target::new(o.value.as_deref().unwrap_or("MESSAGE")),
        }
    } else if is("unset") {
        let o: UnsetOptions = de::from_call(c)?;
        Op::Unset(Target::new(&o.value))
    } else if is("groupset") {
        let o: GroupsetOptions = de::from_call(c)?;
        Op::Groupset {
            template: tmpl(&o.template, 0)?,
            globs: o.values.iter().map(|g| g.chars().collect()).collect(),
        }
    } else if is("groupunset") {
        let o: GroupunsetOptions = de::from_call(c)?;
        Op::Groupunset {
            globs: o.values.iter().map(|g| g.chars().collect()).collect(),
        }
    } else if is("set-tag") || is("clear-tag") {
        let o: OneTemplateOptions = de::from_call(c)?;
        let t = tmpl(&o.template, 0)?;
        let spec = match t.literal() {
            Some(lit) => TagSpec::Fixed(TagId::intern(&String::from_utf8_lossy(lit))),
            None => TagSpec::Template(t),
        };
        if is("set-tag") {
            Op::SetTag(spec)
        } else {
            Op::ClearTag(spec)
        }
    } else if is("rename") {
        let o: RenameOptions = de::from_call(c)?;
        Op::Rename {
            old: Target::new(&o.old),
            new: Target::new(&o.new),
        }
    } else if is("set-severity") || is("set-facility") || is("set-pri") {
        let o: OneTemplateOptions = de::from_call(c)?;
        let t = tmpl(&o.template, 0)?;
        if is("set-severity") {
            Op::SetSeverity(t)
        } else if is("set-facility") {
            Op::SetFacility(t)
        } else {
            Op::SetPri(t)
        }
    } else {
        return Err(Diagnostic::new(
            format!("rewrite `{}` is not supported yet", name.value),
            *span,
        ));
    };
    let condition = match &split.condition {
        Some(e) => Some(filter::compile(e, env)?),
        None => None,
    };
    Ok(Rewrite { op, condition })
}

/// A whole `rewrite {}` object's rules, compiled (a reference from a log path runs them in
/// order).
pub fn compile_all(calls: &[&Node], env: &BuildEnv<'_>) -> Result<Vec<Rewrite>, Diagnostic> {
    calls.iter().map(|c| compile(c, env)).collect()
}

fn glob_any(globs: &[Vec<char>], name: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(name) else {
        return false;
    };
    let chars: Vec<char> = s.chars().collect();
    globs
        .iter()
        .any(|g| super::matcher::glob_match_chars(g, &chars))
}

fn parse_small_number(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?.trim();
    s.parse::<i64>().ok()
}

impl Rewrite {
    /// Applies the rule; copies the message (`make_mut`) only when it changes it.
    pub fn apply(&self, msg: &mut Arc<LogMessage>, cx: &mut Cx<'_>) {
        if let Some(c) = &self.condition {
            if !c.eval(msg, cx) {
                return;
            }
        }
        let mut buf = cx.take_buf();
        match &self.op {
            Op::Set { template, target } => {
                template.render(msg, &cx.render, &mut buf);
                target.set(Arc::make_mut(msg), &buf);
            }
            Op::Subst {
                matcher,
                replacement,
                target,
            } => {
                buf.extend_from_slice(target.get(msg).unwrap_or(&[]));
                let render = cx.render;
                let m = Arc::make_mut(msg);
                let new = matcher.replace(&buf, m, &mut |msg, out| {
                    replacement.render(msg, &render, out)
                });
                if let Some(new) = new {
                    target.set(m, &new);
                }
            }
            Op::Unset(t) => {
                if t.get(msg).is_some() {
                    t.unset(Arc::make_mut(msg));
                }
            }
            Op::Groupset { template, globs } => {
                let hits: Vec<(Vec<u8>, Vec<u8>)> = msg
                    .nv
                    .iter()
                    .filter(|(n, _)| glob_any(globs, n))
                    .map(|(n, v)| (n.to_vec(), v.to_vec()))
                    .collect();
                if !hits.is_empty() {
                    let m = Arc::make_mut(msg);
                    for (name, value) in hits {
                        buf.clear();
                        let mut render = cx.render;
                        render.context_id = Some(&value);
                        template.render(m, &render, &mut buf);
                        m.set(&String::from_utf8_lossy(&name), &buf);
                    }
                }
            }
            Op::Groupunset { globs } => {
                let hits: Vec<Vec<u8>> = msg
                    .nv
                    .iter()
                    .filter(|(n, _)| glob_any(globs, n))
                    .map(|(n, _)| n.to_vec())
                    .collect();
                if !hits.is_empty() {
                    let m = Arc::make_mut(msg);
                    for name in hits {
                        m.unset(&String::from_utf8_lossy(&name));
                    }
                }
            }
            Op::SetTag(spec) | Op::ClearTag(spec) => {
                let tag = match spec {
                    TagSpec::Fixed(t) => *t,
                    TagSpec::Template(t) => {
                        t.render(msg, &cx.render, &mut buf);
                        TagId::intern(&String::from_utf8_lossy(&buf))
                    }
                };
                let set = matches!(self.op, Op::SetTag(_));
                if set != msg.has_tag(tag) {
                    let m = Arc::make_mut(msg);
                    if set {
                        m.set_tag(tag);
                    } else {
                        m.clear_tag(tag);
                    }
                }
            }
            Op::Rename { old, new } => {
                if let Some(v) = old.get(msg) {
                    let v = v.to_vec();
                    let m = Arc::make_mut(msg);
                    new.set(m, &v);
                    old.unset(m);
                }
            }
            Op::SetSeverity(t) => {
                t.render(msg, &cx.render, &mut buf);
                let sev = match parse_small_number(&buf) {
                    Some(n) => (0..=7).contains(&n).then_some(n as u16),
                    None => std::str::from_utf8(&buf)
                        .ok()
                        .and_then(|s| pri::level_code(s.trim()))
                        .map(|n| n as u16),
                };
                if let Some(sev) = sev {
                    let m = Arc::make_mut(msg);
                    m.pri = (m.pri & !7) | sev;
                }
            }
            Op::SetFacility(t) => {
                t.render(msg, &cx.render, &mut buf);
                let fac = match parse_small_number(&buf) {
                    Some(n) => (0..=127).contains(&n).then_some(n as u16),
                    None => std::str::from_utf8(&buf)
                        .ok()
                        .and_then(|s| pri::facility_code(s.trim()))
                        .map(|n| n as u16),
                };
                if let Some(fac) = fac {
                    let m = Arc::make_mut(msg);
                    m.pri = (m.pri & 7) | (fac << 3);
                }
            }
            Op::SetPri(t) => {
                t.render(msg, &cx.render, &mut buf);
                if let Some(n) = parse_small_number(&buf).filter(|n| (0..=1023).contains(n)) {
                    Arc::make_mut(msg).pri = n as u16;
                }
            }
        }
        cx.put_buf(buf);
    }
}
