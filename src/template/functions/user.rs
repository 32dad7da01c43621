//! User-defined template functions: `template-function tf "x${MSG}";` makes `$(tf)` render
//! that template, as syslog-ng 3.38's `lib/template/user-function.c` does.
//!
//! * The template is compiled once, where it is defined, with the functions known at that
//!   point (the built-ins and the `template-function`s before it: a definition that uses
//!   itself, or one defined after it, is an unknown function, as in syslog-ng). A name
//!   defined again replaces the earlier function for the definitions and templates after it.
//! * A call takes no arguments (`User defined template function $(tf) cannot have
//!   arguments`) and renders the template with the caller's messages and template options
//!   (`ts-format()`, `frac-digits()`, `time-zone()` of the destination), appending its output
//!   as it is: the caller's `template-escape(yes)` does not escape it.
//!
//! The SCL defines `format-gelf` (scl/graylog2), `format-ewmm` (scl/ewmm) and `format-cim`
//! (scl/cim) this way. sluice has them built in, compiled from the SCL's text, so they work
//! whether or not syslog-ng's SCL is installed ([`register_scl`]); a configuration that
//! includes the real SCL defines them again, identically.

use std::sync::Arc;

use crate::template::error::CompileError;
use crate::template::{CompileEnv, Template};

use super::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
};

/// A `template-function NAME "TEMPLATE";` definition.
pub struct UserFunction {
    /// The name as defined (syslog-ng names it so in its error).
    name: String,
    template: Arc<Template>,
}

impl UserFunction {
    /// The function `name` rendering `template`.
    pub fn new(name: &str, template: Arc<Template>) -> UserFunction {
        UserFunction {
            name: name.to_string(),
            template,
        }
    }

    /// Compiles `text` in `env` (which decides which functions it may call) into the
    /// function `name`.
    pub fn compile(name: &str, text: &str, env: &CompileEnv) -> Result<UserFunction, CompileError> {
        Ok(UserFunction::new(
            name,
            Arc::new(Template::compile(text, &env.unescaped())?),
        ))
    }
}

/// One call site: the definition's template (its `Debug` shows the template, so a
/// destination whose function changed on reload is seen as changed).
#[derive(Debug)]
struct UserCall {
    template: Arc<Template>,
}

impl TemplateFunction for UserFunction {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        if !call.args.is_empty() {
            return Err(format!(
                "User defined template function $({}) cannot have arguments",
                self.name
            )
            .into());
        }
        Ok(Box::new(UserCall {
            template: self.template.clone(),
        }))
    }
}

impl PreparedFunction for UserCall {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        inv.render(&self.template, out);
    }
}

/// The `template-function`s of syslog-ng 3.38's SCL, as its files define them (the text
/// between the quotes, with the config string's `\n` read as a newline).
const SCL: &[(&str, &str)] = &[
    (
        "format-gelf",
        "$(format-json --auto-cast --omit-empty-values version='1.1' host='${HOST:--}' \
         short_message='${MSG:--}' level=int(${LEVEL_NUM}) timestamp=int64(${R_UNIXTIME}) \
         _program='${PROGRAM}' _pid=int(${PID}) _facility='${FACILITY}' \
         _class='${.classifier.class}' --key .* --key _*)$(binary 0x00)",
    ),
    (
        "format-ewmm",
        "<$PRI>1 $ISODATE $LOGHOST @syslog-ng - - ${SDATA:--} $(format-json --auto-cast \
         --leave-initial-dot --scope all-nv-pairs --exclude 0* --exclude 1* --exclude 2* \
         --exclude 3* --exclude 4* --exclude 5* --exclude 6* --exclude 7* --exclude 8* \
         --exclude 9* --exclude SOURCE --exclude .SDATA.* ._TAGS=${TAGS})\n",
    ),
    (
        "format-cim",
        "$(format-json --auto-cast --pair @timestamp='${R_ISODATE}' --pair @message='${MSG}' \
         --key .cim.* --shift 5 --key _* --key .* --replace-prefix .=_ --key *.*)\n",
    ),
];

/// Registers the SCL's template functions, compiled with the functions `r` has (the
/// built-ins: they are registered last).
pub(crate) fn register_scl(r: &mut FunctionRegistry) {
    for (name, text) in SCL {
        let env = CompileEnv {
            escape: false,
            functions: Arc::new(r.clone()),
            templates: None,
            conditions: None,
            origin: None,
        };
        match UserFunction::compile(name, text, &env) {
            Ok(f) => r.register(name, Arc::new(f)),
            // The texts are fixed and tested: this cannot happen in a release.
            Err(e) => tracing::error!(function = name, error = %e, "SCL template function"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Builtin, LogMessage, UnixTime};
    use crate::template::{CompileEnv, DaemonInfo, RenderContext, TemplateOptions};

    fn env_with(defs: &[(&str, &str)]) -> Result<CompileEnv, CompileError> {
        let mut r = FunctionRegistry::with_builtins();
        for (name, text) in defs {
            let env = CompileEnv {
                functions: Arc::new(r.clone()),
                ..CompileEnv::default()
            };
            let f = UserFunction::compile(name, text, &env)?;
            r.register(name, Arc::new(f));
        }
        Ok(CompileEnv {
            functions: Arc::new(r),
            ..CompileEnv::default()
        })
    }

    fn render(env: &CompileEnv, text: &str) -> Result<String, CompileError> {
        let t = Template::compile(text, env)?;
        let mut m = LogMessage::new(UnixTime::default());
        m.set_builtin(Builtin::Message, b"say \"hi\"");
        let opts = TemplateOptions::default();
        let daemon = DaemonInfo::default();
        let out = t.render_to_vec(&m, &RenderContext::new(&opts, &daemon));
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn a_definition_renders_in_the_callers_place() {
        let env = env_with(&[("tf", "x${MSG}"), ("tf-2", "[$(tf)]"), ("tf", "again")])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            render(&env, "$(tf)|$(tf_2)|$(echo $(tf-2))").ok(),
            Some("again|[xsay \"hi\"]|[xsay \"hi\"]".into())
        );
        let escaped = CompileEnv {
            escape: true,
            ..env.clone()
        };
        assert_eq!(
            render(&escaped, "$(tf-2)|${MSG}").ok(),
            Some("[xsay \"hi\"]|say \\\"hi\\\"".into())
        );
        let e = render(&env, "a $(tf x)").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("User defined template function $(tf) cannot have arguments".into())
        );
    }

    #[test]
    fn a_definition_sees_only_the_functions_before_it() {
        let e = env_with(&[("tf", "x$(tf)")]).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("Unknown template function \"tf\"".into())
        );
        assert!(env_with(&[("a", "$(b)"), ("b", "x")]).is_err());
    }

    #[test]
    fn the_scl_functions_are_built_in() {
        let r = FunctionRegistry::with_builtins();
        for (name, _) in SCL {
            assert!(r.get(name).is_some(), "{name}");
        }
        let env = CompileEnv::default();
        let gelf = render(&env, "$(format-gelf)").unwrap_or_default();
        assert!(gelf.starts_with("{\"version\":\"1.1\","), "{gelf}");
        assert!(gelf.ends_with("}\0"), "{gelf}");
    }
}
