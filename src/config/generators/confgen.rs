//! `@module confgen context(C) name(N) exec("program")`: a reference `N(...)` in context `C`
//! runs the program (through `/bin/sh -c`, as syslog-ng's `popen()`) with each argument in
//! the environment as `confgen_NAME=value`, and reads what it prints as configuration.
//! Debian's SCL declares `getvirtconsole()` this way (scl/getvirtconsole/plugin.conf).

use std::process::{Command, Stdio};

use crate::config::ast::{ModulePragma, keyword_eq};
use crate::config::blocks::{Arg, BlockContext};
use crate::config::diagnostic::Diagnostic;
use crate::config::span::Span;

/// The program of the last `@module confgen` that declares `name` in `context`.
pub(crate) fn declared(
    context: BlockContext,
    name: &str,
    modules: &[ModulePragma],
) -> Option<String> {
    modules
        .iter()
        .rev()
        .filter(|m| m.name.value == "confgen")
        .find(|m| {
            let opt = |k: &str| m.options.iter().rev().find(|(key, _)| key == k);
            opt("name").is_some_and(|(_, v)| keyword_eq(v, name))
                && opt("context").is_some_and(|(_, v)| BlockContext::from_word(v) == Some(context))
        })
        .and_then(|m| {
            m.options
                .iter()
                .rev()
                .find(|(k, _)| k == "exec")
                .map(|(_, v)| v.clone())
        })
}

/// Checks a `@module confgen` pragma's options, with syslog-ng's messages.
pub(crate) fn check_pragma(module: &ModulePragma) -> Result<(), Diagnostic> {
    let has = |k: &str| module.options.iter().any(|(key, _)| key == k);
    let missing = ["name", "context", "exec"].into_iter().find(|k| !has(k));
    if let Some(k) = missing {
        return Err(Diagnostic::new(
            format!("confgen: {k} argument expected"),
            module.name.span,
        ));
    }
    let context = module
        .options
        .iter()
        .rev()
        .find(|(k, _)| k == "context")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if BlockContext::from_word(context).is_none() {
        return Err(Diagnostic::new(
            format!("confgen: context value is unknown; context='{context}'"),
            module.name.span,
        ));
    }
    Ok(())
}

/// Runs the generator of reference `name` and returns its output.
pub(crate) fn run(
    name: &str,
    exec: &str,
    args: &[Arg],
    call_site: Span,
) -> Result<String, Diagnostic> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(exec)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for a in args {
        if let Some(v) = &a.value {
            cmd.env(format!("confgen_{}", a.name.value), v);
        }
    }
    let failed = |what: String| {
        Diagnostic::new(
            format!("confgen: {what}; block='{name}', exec='{exec}'"),
            call_site,
        )
    };
    let out = cmd
        .output()
        .map_err(|e| failed(format!("Error executing generator program; error='{e}'")))?;
    if !out.status.success() {
        let rc = out
            .status
            .code()
            .map_or_else(|| "killed by a signal".to_string(), |c| c.to_string());
        return Err(failed(format!(
            "Generator program returned with non-zero exit code; rc='{rc}'"
        )));
    }
    String::from_utf8(out.stdout).map_err(|_| failed("its output is not UTF-8".to_string()))
}
