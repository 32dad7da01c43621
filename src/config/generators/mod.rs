//! Block generators: references whose text is produced when the configuration is read, not
//! pasted from a `block` definition — syslog-ng's `CfgBlockGenerator`s.
//!
//! - `system()` (source): the platform's local log sources ([`system`]);
//! - `app-parser(topic(...))` (parser): the `application` definitions read so far
//!   ([`app_parser`]);
//! - every `@module confgen context(C) name(N) exec("...")`: a program whose output is the
//!   text (Debian's `getvirtconsole()`, [`confgen`]).
//!
//! As in syslog-ng, a generator runs where it is referenced, so `app-parser()` sees the
//! applications defined above it, and the generated text is read as if it had been written
//! there (not substituted again: backticks in it are literal).

pub(crate) mod app_parser;
pub(crate) mod confgen;
pub(crate) mod system;

#[cfg(test)]
mod tests;

use super::ast::{ModulePragma, keyword_eq};
use super::blocks::{Arg, BlockContext};
use super::diagnostic::Diagnostic;
use super::span::Span;

pub(crate) use app_parser::Applications;

/// A generator a reference resolved to.
#[derive(Debug, Clone)]
pub(crate) enum Generator {
    System,
    AppParser,
    /// A `@module confgen` program, run with `/bin/sh -c`.
    Confgen {
        exec: String,
    },
}

impl Generator {
    /// The generator called `name` in `context`, if there is one: a confgen module declared
    /// so far (the last one of that name and context wins), or a built-in one.
    pub(crate) fn lookup(
        context: BlockContext,
        name: &str,
        modules: &[ModulePragma],
    ) -> Option<Generator> {
        if let Some(exec) = confgen::declared(context, name, modules) {
            return Some(Generator::Confgen { exec });
        }
        match context {
            BlockContext::Source if keyword_eq(name, "system") => Some(Generator::System),
            BlockContext::Parser if keyword_eq(name, "app-parser") => Some(Generator::AppParser),
            _ => None,
        }
    }

    /// The text of one reference (`name`, its arguments, where it is written).
    pub(crate) fn generate(
        &self,
        name: &str,
        args: &[Arg],
        apps: &Applications,
        call_site: Span,
    ) -> Result<String, Diagnostic> {
        match self {
            Generator::System => Ok(system::generate(&system::Host::detect(), args)),
            Generator::AppParser => app_parser::generate(apps, args, call_site),
            Generator::Confgen { exec } => confgen::run(name, exec, args, call_site),
        }
    }
}

/// The value of argument `name` (`-`/`_` alike), as written.
pub(crate) fn arg<'a>(args: &'a [Arg], name: &str) -> Option<&'a str> {
    args.iter()
        .rev()
        .find(|a| keyword_eq(&a.name.value, name))
        .and_then(|a| a.value.as_deref())
}

/// Every argument as the text of a `...` block's varargs (`name(value) ` each).
pub(crate) fn format_varargs<'a>(args: impl IntoIterator<Item = &'a Arg>) -> String {
    let mut out = String::new();
    for a in args {
        super::blocks::push_vararg(&mut out, a);
    }
    out
}
