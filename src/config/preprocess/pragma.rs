//! Pragmas: a line starting with `@`. syslog-ng 3.38 knows `@version: X`,
//! `@include "file"`, `@define name value`, `@module name [key(value) ...]` and
//! `@requires name ["message"]`; each ends at the end of its line (anything more is an error, even a
//! `;`). Module pragmas are recorded: sluice has its drivers built in. `@requires` asks
//! whether sluice has the module (see [`HAS_MODULES`]) and, when it has not, acts as
//! syslog-ng 3.38 does (lib/pragma-grammar.ym): in the main file, or with a message, it is
//! an error; without a message inside an included file or a block's expansion, the rest
//! of that text is skipped (the SCL's `@requires mod-java` leaves kafka-java() and hdfs()
//! undefined, as on a syslog-ng without the java module).

use crate::config::ast::ModulePragma;
use crate::config::diagnostic::{Diagnostic, did_you_mean};
use crate::config::lexer::TokKind;
use crate::config::span::{Span, Spanned};

use super::{Preprocessor, Token};

const PRAGMAS: [&str; 5] = ["version", "include", "define", "module", "requires"];

/// The syslog-ng 3.38 modules (their library names, as `@requires` spells them) sluice
/// has: those of which it runs a driver, parser, rewrite, template function or format.
/// A module sluice only knows the names of (http, mod-java, afsnmp, dbparser, sdjournal,
/// pacctformat, cef, tfgetent, rate-limit-filter, ...) is missing, so that what depends on
/// it fails where syslog-ng without it fails, with the SCL's "install ..." message.
pub(crate) const HAS_MODULES: [&str; 23] = [
    "affile",
    "afprog",
    "afsocket",
    "afuser",
    "appmodel",
    "basicfuncs",
    "confgen",
    "cryptofuncs",
    "csvparser",
    "disk-buffer",
    "graphite",
    "hook-commands",
    "json-plugin",
    "kvformat",
    "linux-kmsg-format",
    "map-value-pairs",
    "mod-python",
    "pseudofile",
    "regexp-parser",
    "syslogformat",
    "system-source",
    "tags-parser",
    "timestamp",
];

/// syslog-ng's module names are file names: `-` and `_` differ.
fn has_module(name: &str) -> bool {
    HAS_MODULES.contains(&name)
}

fn unexpected(tok: &Token, expecting: &str) -> Diagnostic {
    Diagnostic::new(
        format!(
            "syntax error, unexpected {}, expecting {expecting}",
            tok.kind.describe()
        ),
        tok.span,
    )
}

/// `@version:` takes `MAJOR.MINOR` (3.0 or later) or `current`, as in syslog-ng 3.38;
/// what the version then means is up to the model.
fn check_version(value: &Spanned<String>) -> Result<(), Diagnostic> {
    let v = value.value.as_str();
    if v == "current" {
        return Ok(());
    }
    let parsed = v
        .split_once('.')
        .filter(|(a, b)| {
            [a, b]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        })
        .and_then(|(a, _)| a.parse::<u32>().ok());
    match parsed {
        None => Err(Diagnostic::new(
            format!("invalid version `{v}`: expected MAJOR.MINOR (like 3.38) or `current`"),
            value.span,
        )),
        Some(major) if major < 3 => Err(Diagnostic::new(
            format!("configurations for syslog-ng {v} (below 3.0) are not supported"),
            value.span,
        )),
        Some(_) => Ok(()),
    }
}

impl Preprocessor<'_> {
    /// A token of the pragma line, or an error at the line's end.
    fn expect_in_line(&mut self, after: Span, expecting: &str) -> Result<Token, Diagnostic> {
        self.next_in_line()?.ok_or_else(|| {
            let at = Span {
                start: after.end,
                ..after
            };
            Diagnostic::new(
                format!("syntax error, unexpected end of line, expecting {expecting}"),
                at,
            )
        })
    }

    fn end_of_line(&mut self) -> Result<(), Diagnostic> {
        match self.next_in_line()? {
            None => Ok(()),
            Some(tok) => Err(unexpected(&tok, "end of line")),
        }
    }

    /// A string, bare word or number, as the value of `@version`/`@define`/module options.
    /// Numbers keep their spelling (`@define mode 0644` defines the text `0644`).
    fn pragma_value(&mut self, after: Span) -> Result<Spanned<String>, Diagnostic> {
        let tok = self.expect_in_line(after, "a string or a number")?;
        let value = match &tok.kind {
            TokKind::Str(s, _) => s.clone(),
            TokKind::Word(w) => w.clone(),
            TokKind::Int(_) | TokKind::Float(_) => self.token_text(&tok),
            _ => return Err(unexpected(&tok, "a string or a number")),
        };
        Ok(Spanned::new(value, tok.span))
    }

    /// Handles the pragma whose `@` is `at`.
    pub(super) fn pragma(&mut self, at: &Token) -> Result<(), Diagnostic> {
        let name_tok = self.expect_in_line(at.span, "a pragma name")?;
        let TokKind::Word(name) = &name_tok.kind else {
            return Err(unexpected(&name_tok, "a pragma name"));
        };
        match name.as_str() {
            "version" => {
                let colon = self.expect_in_line(name_tok.span, "':'")?;
                if colon.kind != TokKind::Op(":".into()) {
                    return Err(unexpected(&colon, "':'"));
                }
                let value = self.pragma_value(colon.span)?;
                self.end_of_line()?;
                check_version(&value)?;
                // Only the first @version counts (syslog-ng warns about the others).
                if self.version.is_none() {
                    self.version = Some(value);
                }
            }
            "include" => {
                let tok = self.expect_in_line(name_tok.span, "a file name")?;
                let file = match &tok.kind {
                    TokKind::Str(s, _) | TokKind::Word(s) => s.clone(),
                    _ => return Err(unexpected(&tok, "a file name")),
                };
                self.end_of_line()?;
                self.include(&file, tok.span)?;
            }
            "define" => {
                let tok = self.expect_in_line(name_tok.span, "a name")?;
                let TokKind::Word(var) = &tok.kind else {
                    return Err(unexpected(&tok, "a name"));
                };
                let var = var.clone();
                let value = self.pragma_value(tok.span)?;
                self.end_of_line()?;
                self.define(&var, value.value);
            }
            "module" | "requires" => {
                let required = name == "requires";
                let tok = self.expect_in_line(name_tok.span, "a module name")?;
                let module = match &tok.kind {
                    TokKind::Str(s, _) | TokKind::Word(s) => s.clone(),
                    _ => return Err(unexpected(&tok, "a module name")),
                };
                let (options, message) = if required {
                    let message = match self.next_in_line()? {
                        None => None,
                        Some(Token {
                            kind: TokKind::Str(s, _),
                            ..
                        }) => {
                            self.end_of_line()?;
                            Some(s)
                        }
                        Some(other) => return Err(unexpected(&other, "end of line")),
                    };
                    (Vec::new(), message)
                } else {
                    (self.module_options()?, None)
                };
                let pragma = ModulePragma {
                    name: Spanned::new(module, tok.span),
                    required,
                    options,
                    message,
                };
                if pragma.name.value == "confgen" {
                    crate::config::generators::confgen::check_pragma(&pragma)?;
                }
                if required && !has_module(&pragma.name.value) {
                    return self.missing_module(at.span.to(tok.span), &pragma);
                }
                self.modules.push(pragma);
            }
            other => {
                let mut d = Diagnostic::new(format!("unknown pragma `@{other}`"), name_tok.span);
                if let Some(s) = did_you_mean(other, PRAGMAS) {
                    d = d.with_note(format!("did you mean `@{s}`?"));
                }
                return Err(d);
            }
        }
        Ok(())
    }

    /// `@requires` of a module sluice does not have, its line read (3.38's requires_stmt):
    /// an error in the main file or when the pragma gives a message (the error names the
    /// module, so a missing module reads the same as in syslog-ng); elsewhere the rest of
    /// the current text — the included file, or the block expansion — is skipped.
    fn missing_module(&mut self, at: Span, pragma: &ModulePragma) -> Result<(), Diagnostic> {
        let module = &pragma.name.value;
        if self.frames.len() <= 1 || pragma.message.is_some() {
            return Err(Diagnostic::new(
                format!(
                    "Cannot load required module; module='{module}', details='{}'",
                    pragma.message.as_deref().unwrap_or("none")
                ),
                at,
            ));
        }
        tracing::debug!(module = %module, "included text skipped because of a missing module");
        self.finish_frame()
    }

    /// `key(value) ...` after `@module name`, up to the end of the line.
    fn module_options(&mut self) -> Result<Vec<(String, String)>, Diagnostic> {
        let mut options = Vec::new();
        while let Some(key) = self.next_in_line()? {
            let TokKind::Word(name) = &key.kind else {
                return Err(unexpected(&key, "an option like `name(value)`"));
            };
            let name = name.clone();
            let open = self.expect_in_line(key.span, "'('")?;
            if open.kind != TokKind::LParen {
                return Err(unexpected(&open, "'('"));
            }
            let value = self.pragma_value(open.span)?;
            let close = self.expect_in_line(value.span, "')'")?;
            if close.kind != TokKind::RParen {
                return Err(unexpected(&close, "')'"));
            }
            options.push((name, value.value));
        }
        Ok(options)
    }
}

#[cfg(test)]
#[path = "requires_tests.rs"]
mod tests;
