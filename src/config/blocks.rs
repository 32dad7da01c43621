//! User-defined blocks: `block <context> <name>(params) { body };` and their expansion.
//!
//! A block is a named piece of configuration text with parameters. Using it (`name(arg(value)
//! ...)` where a block of that context is allowed) pastes its body, with every
//! `` `param` `` replaced by the argument's verbatim text, in place of the reference, and
//! the result is read as if it had been written there. The parser decides *where* a
//! reference is possible (the context); this module holds the definitions and produces
//! the substituted text.
//!
//! Argument semantics verified against syslog-ng 3.38:
//! - `name(default)` gives a default; `name()` declares a mandatory parameter (a bare
//!   `name` is a syntax error in 3.38); `...` accepts extra arguments;
//! - a value is pasted as written, quotes included (`path("/x")` pastes `"/x"`; inside a
//!   string literal a quoted value is pasted without its quotes); `("")` is the empty text;
//! - names compare with `-` and `_` equal; backticks in the body look up arguments, then
//!   defaults, then `@define`s, then the environment;
//! - extra arguments of a `...` block become `` `__VARARGS__` ``: `name(value) ` each,
//!   with `-` in the name turned into `_`.

use std::path::PathBuf;

use super::ast::keyword_eq;
use super::diagnostic::{Diagnostic, did_you_mean};
use super::preprocess::subst::{SegMap, substitute};
use super::span::{FileId, Span, Spanned};

/// Where a block may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockContext {
    Root,
    Source,
    Destination,
    Parser,
    Rewrite,
    Filter,
    Log,
    Options,
}

impl BlockContext {
    pub fn from_word(word: &str) -> Option<BlockContext> {
        let all = [
            ("root", BlockContext::Root),
            ("source", BlockContext::Source),
            ("destination", BlockContext::Destination),
            ("parser", BlockContext::Parser),
            ("rewrite", BlockContext::Rewrite),
            ("filter", BlockContext::Filter),
            ("log", BlockContext::Log),
            ("options", BlockContext::Options),
        ];
        all.into_iter()
            .find(|(w, _)| keyword_eq(w, word))
            .map(|(_, c)| c)
    }

    pub fn name(self) -> &'static str {
        match self {
            BlockContext::Root => "root",
            BlockContext::Source => "source",
            BlockContext::Destination => "destination",
            BlockContext::Parser => "parser",
            BlockContext::Rewrite => "rewrite",
            BlockContext::Filter => "filter",
            BlockContext::Log => "log",
            BlockContext::Options => "options",
        }
    }
}

/// One declared parameter. `default: None` means mandatory.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Spanned<String>,
    pub default: Option<String>,
}

/// A block definition, its body kept verbatim (with a map to its place in `file`).
#[derive(Debug, Clone)]
pub struct BlockDef {
    pub context: BlockContext,
    pub name: Spanned<String>,
    pub params: Vec<Param>,
    pub varargs: bool,
    pub body: String,
    pub body_map: SegMap,
    pub file: FileId,
    /// The directory `@include`s inside the body are relative to.
    pub dir: PathBuf,
}

/// One argument of a block reference: `name(value)`; `value: None` for `name()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Spanned<String>,
    pub value: Option<String>,
    pub span: Span,
}

/// The blocks defined so far. A later definition of the same context and name replaces
/// the earlier one, silently, as in syslog-ng.
#[derive(Debug, Default)]
pub struct BlockRegistry {
    defs: Vec<BlockDef>,
}

impl BlockRegistry {
    pub fn define(&mut self, def: BlockDef) {
        self.defs
            .retain(|d| !(d.context == def.context && keyword_eq(&d.name.value, &def.name.value)));
        self.defs.push(def);
    }

    pub fn get(&self, context: BlockContext, name: &str) -> Option<&BlockDef> {
        self.defs
            .iter()
            .rev()
            .find(|d| d.context == context && keyword_eq(&d.name.value, name))
    }
}

/// The value of a parameter written `name(...)` in a definition or a reference, from the
/// verbatim text between its parentheses: only blanks means "no value" (mandatory in a
/// definition), `""` or `''` alone means the empty text, anything else is kept as is.
pub fn arg_value(raw: &str) -> Option<String> {
    let trimmed = raw.trim_matches([' ', '\t']);
    if trimmed.is_empty() {
        None
    } else if trimmed == "\"\"" || trimmed == "''" {
        Some(String::new())
    } else {
        Some(raw.to_string())
    }
}

/// An argument as syslog-ng's `cfg_args_format_varargs` writes it: `name(value) `, with `-`
/// in the name turned into `_`.
pub fn push_vararg(out: &mut String, arg: &Arg) {
    out.push_str(&arg.name.value.replace('-', "_"));
    out.push('(');
    out.push_str(arg.value.as_deref().unwrap_or(""));
    out.push_str(") ");
}

fn arg_key(name: &str) -> String {
    name.replace('_', "-")
}

/// Binds a reference's arguments to `def` and returns the body with every backtick
/// reference substituted, plus the map from that text to offsets in `def.file`.
/// `globals` resolves names that are neither arguments nor defaults.
pub fn instantiate(
    def: &BlockDef,
    args: &[Arg],
    call_site: Span,
    globals: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, SegMap), Diagnostic> {
    let block = &def.name.value;
    let mut given: Vec<(String, Option<String>)> = Vec::new();
    let mut varargs = String::new();
    for arg in args {
        let known = def
            .params
            .iter()
            .any(|p| keyword_eq(&p.name.value, &arg.name.value));
        if known {
            given.push((arg_key(&arg.name.value), arg.value.clone()));
        } else if def.varargs {
            push_vararg(&mut varargs, arg);
        } else {
            let mut d = Diagnostic::new(
                format!(
                    "unknown argument `{}` in reference to block `{block}`",
                    arg.name.value
                ),
                arg.name.span,
            );
            let names = def.params.iter().map(|p| p.name.value.as_str());
            if let Some(s) = did_you_mean(&arg.name.value, names) {
                d = d.with_note(format!("did you mean `{s}`?"));
            } else if !def.params.is_empty() {
                let list: Vec<&str> = def.params.iter().map(|p| p.name.value.as_str()).collect();
                d = d.with_note(format!("block `{block}` takes: {}", list.join(", ")));
            }
            return Err(d);
        }
    }
    for param in &def.params {
        let key = arg_key(&param.name.value);
        let provided = given.iter().any(|(k, v)| *k == key && v.is_some());
        if param.default.is_none() && !provided {
            return Err(Diagnostic::new(
                format!(
                    "missing mandatory argument `{}` in reference to block `{block}`",
                    param.name.value
                ),
                call_site,
            )
            .with_note(format!(
                "`{0}()` is declared without a default: add `{0}(...)` to this reference",
                param.name.value
            )));
        }
    }
    let lookup = |name: &str| -> Option<String> {
        let key = arg_key(name);
        if let Some((_, Some(v))) = given.iter().rev().find(|(k, _)| *k == key) {
            return Some(v.clone());
        }
        if let Some(Some(v)) = def
            .params
            .iter()
            .find(|p| arg_key(&p.name.value) == key)
            .map(|p| p.default.clone())
        {
            return Some(v);
        }
        if def.varargs && key == arg_key("__VARARGS__") {
            return Some(varargs.clone());
        }
        globals(name)
    };
    let (text, map) = substitute(&def.body, &lookup).map_err(|e| {
        let s = def.body_map.start(e.start);
        let span = Span {
            file: def.file,
            start: s as u32,
            end: def.body_map.end(e.end).max(s) as u32,
            expansion: call_site.expansion,
        };
        Diagnostic::new(format!("in block `{block}`: {}", e.message), span)
    })?;
    Ok((text, map.compose(&def.body_map)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(params: &[(&str, Option<&str>)], varargs: bool, body: &str) -> BlockDef {
        BlockDef {
            context: BlockContext::Destination,
            name: Spanned::new("my_file".into(), Span::default()),
            params: params
                .iter()
                .map(|(n, d)| Param {
                    name: Spanned::new(n.to_string(), Span::default()),
                    default: d.map(String::from),
                })
                .collect(),
            varargs,
            body: body.into(),
            body_map: SegMap::identity(1000, body.len()),
            file: FileId(0),
            dir: PathBuf::from("."),
        }
    }

    fn arg(name: &str, value: &str) -> Arg {
        Arg {
            name: Spanned::new(name.into(), Span::new(FileId(0), 5, 5 + name.len())),
            value: arg_value(value),
            span: Span::default(),
        }
    }

    fn globals(name: &str) -> Option<String> {
        (name == "dir").then(|| "/var/log".into())
    }

    #[test]
    fn arguments_defaults_globals_and_varargs() {
        let d = def(
            &[
                ("path", None),
                ("perm", Some("0640")),
                ("my-x", Some("\"\"")),
            ],
            true,
            "file(\"`dir`/`path`\" perm(`perm`) `__VARARGS__`)`my_x`",
        );
        let args = [
            arg("path", "\"a.log\""),
            arg("create-dirs", "yes"),
            arg("owner", " root "),
        ];
        let (text, map) = instantiate(&d, &args, Span::default(), &globals).unwrap();
        assert_eq!(
            text,
            "file(\"/var/log/a.log\" perm(0640) create_dirs(yes) owner( root ) )\"\""
        );
        // The pasted `perm` value maps onto the `` `perm` `` reference in the body.
        let at = text.find("0640").unwrap();
        let ref_at = d.body.find("`perm`").unwrap();
        assert_eq!(map.start(at), 1000 + ref_at);
        assert_eq!(map.end(at + 4), 1000 + ref_at + 6);
    }

    #[test]
    fn missing_and_unknown_arguments() {
        let d = def(&[("path", None), ("perm", Some("0640"))], false, "x");
        let e = instantiate(&d, &[arg("perm", "1")], Span::default(), &globals).unwrap_err();
        assert_eq!(
            e.message,
            "missing mandatory argument `path` in reference to block `my_file`"
        );
        let e = instantiate(
            &d,
            &[arg("path", "1"), arg("prem", "1")],
            Span::default(),
            &globals,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "unknown argument `prem` in reference to block `my_file`"
        );
        assert_eq!(e.notes, vec!["did you mean `perm`?".to_string()]);
        assert_eq!(e.span.map(|s| s.start), Some(5));
        // `path()` at the call site gives no value: still missing.
        let e = instantiate(&d, &[arg("path", " ")], Span::default(), &globals).unwrap_err();
        assert!(e.message.contains("mandatory argument `path`"));
    }

    #[test]
    fn values_and_registry() {
        assert_eq!(arg_value(" \t"), None);
        assert_eq!(arg_value(" \"\" "), Some(String::new()));
        assert_eq!(arg_value("\"a\" "), Some("\"a\" ".into()));
        let mut reg = BlockRegistry::default();
        reg.define(def(&[], false, "a"));
        reg.define(def(&[], false, "b"));
        assert_eq!(
            reg.get(BlockContext::Destination, "my-file")
                .map(|d| d.body.as_str()),
            Some("b")
        );
        assert!(reg.get(BlockContext::Source, "my_file").is_none());
        assert_eq!(
            BlockContext::from_word("destination"),
            Some(BlockContext::Destination)
        );
        assert_eq!(BlockContext::from_word("template"), None);
    }
}
