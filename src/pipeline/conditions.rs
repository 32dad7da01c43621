//! The full filter language for the template functions `$(if)` and `$(grep)`: the template
//! layer (below this one) asks a [`ConditionCompiler`] to compile their filter expressions;
//! [`FilterConditions`] compiles them with the filter compiler of this module, so
//! `$(if (program("sshd") and level(err)) ...)` works as in syslog-ng.
//!
//! The expression text is read by the configuration parser (as the body of a `filter {}`
//! statement), so its syntax and errors are the configuration's. A condition evaluates against
//! a borrowed message and cannot write to it: `flags(store-matches)` matches without storing.

use std::sync::Arc;

use crate::config::load::{LoadOptions, load_str};
use crate::config::model::build;
use crate::message::LogMessage;
use crate::template::functions::{Condition, ConditionCompiler};
use crate::template::{CompileEnv, RenderContext};

use super::filter::Filter;
use super::{BuildEnv, Cx};

/// Compiles `$(if)`/`$(grep)` conditions with the filter compiler.
#[derive(Debug, Default, Clone, Copy)]
pub struct FilterConditions;

#[derive(Debug)]
struct FilterCondition(Filter);

impl Condition for FilterCondition {
    fn eval(&self, msgs: &[&LogMessage], ctx: &RenderContext<'_>) -> bool {
        let Some(msg) = msgs.last() else {
            return false;
        };
        let mut cx = Cx::new(*ctx);
        self.0.matches(msg, &mut cx)
    }
}

impl ConditionCompiler for FilterConditions {
    fn compile(&self, expr: &str, env: &CompileEnv) -> Result<Arc<dyn Condition>, String> {
        let text = format!("filter f {{ {expr}\n; }};");
        let loaded = load_str("$(if)", &text, &LoadOptions::default()).map_err(|e| {
            e.diagnostics
                .first()
                .map_or_else(|| "syntax error".to_string(), |d| d.message.clone())
        })?;
        let model = build(&loaded.ast).map_err(|d| {
            d.first()
                .map_or_else(|| "syntax error".to_string(), |d| d.message.clone())
        })?;
        let Some(f) = model.filters.first() else {
            return Err("empty filter expression".into());
        };
        let mut benv = BuildEnv::standalone();
        benv.templates = CompileEnv {
            escape: false,
            ..env.clone()
        };
        let compiled = super::filter::compile(&f.expr, &benv).map_err(|d| d.message)?;
        Ok(Arc::new(FilterCondition(compiled)))
    }
}

/// The compiler to install as [`CompileEnv::conditions`].
pub fn compiler() -> Arc<dyn ConditionCompiler> {
    Arc::new(FilterConditions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Template, TemplateOptions};

    #[test]
    fn if_with_filter_functions() {
        let env = CompileEnv {
            conditions: Some(compiler()),
            ..CompileEnv::default()
        };
        let t = Template::compile(
            "$(if (program(\"ssh\") and level(info..emerg)) yes no)",
            &env,
        )
        .unwrap();
        let mut m = LogMessage::new(Default::default());
        m.set("PROGRAM", b"sshd");
        m.pri = 6;
        let opts = TemplateOptions::default();
        let daemon = crate::template::options::default_daemon_info();
        let ctx = RenderContext::new(&opts, &daemon);
        assert_eq!(t.render_to_vec(&m, &ctx), b"yes");
        m.pri = 7;
        assert_eq!(t.render_to_vec(&m, &ctx), b"no");
        assert!(Template::compile("$(if (level(bogus)) a b)", &env).is_err());
    }
}
