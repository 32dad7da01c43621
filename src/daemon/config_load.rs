//! Reading a configuration from disk all the way to a checked model, with every error
//! rendered for humans. Used at start-up, by `-s`, by `--preprocess-into` and on reload.

use std::path::{Path, PathBuf};

use crate::actors::registry::Registry;
use crate::config::ast::{Ast, Node, Stmt, keyword_eq};
use crate::config::catalog::ObjectKind;
use crate::config::diagnostic::Diagnostic;
use crate::config::load::{LoadOptions, Loaded, load_file};
use crate::config::model::{self, Model};
use crate::config::{check, diagnostic, printer};
use crate::pipeline::BuildEnv;
use crate::template::functions::{
    FunctionCall, FunctionRegistry, Invocation, PrepareError, PreparedFunction, TemplateFunction,
};
use std::sync::Arc;

/// A configuration that parsed and passed every check.
#[derive(Debug)]
pub struct CheckedConfig {
    pub loaded: Loaded,
    pub model: Model,
}

impl CheckedConfig {
    /// Whether the configuration needs the embedded interpreter: `python {}` blocks, Python
    /// drivers, or the `$(python ...)` template function.
    pub fn uses_python(&self) -> bool {
        ast_uses_python(&self.loaded.ast)
    }

    /// The main configuration file's text as it was read (`syslog-ng-ctl config`).
    pub fn original(&self) -> String {
        self.loaded
            .map
            .files()
            .first()
            .map(|f| f.text.clone())
            .unwrap_or_default()
    }

    /// The configuration with includes, definitions and blocks expanded.
    pub fn preprocessed(&self) -> String {
        printer::print(&self.loaded.ast)
    }
}

/// A configuration error, already rendered the way syslog-ng renders it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{rendered}")]
pub struct ConfigError {
    pub rendered: String,
}

/// Where includes are searched: the user's `--include-path` entries, else syslog-ng's
/// defaults.
pub fn load_options(include_path: &[PathBuf]) -> LoadOptions {
    let mut opts = LoadOptions::default();
    if !include_path.is_empty() {
        opts.include_path = include_path.to_vec();
    }
    opts
}

/// Parses, builds and checks the configuration at `path`.
pub fn load_and_check(path: &Path, opts: &LoadOptions) -> Result<CheckedConfig, ConfigError> {
    let loaded = load_file(path, opts).map_err(|failure| ConfigError {
        rendered: diagnostic::render_all(&failure.diagnostics, &failure.map),
    })?;
    let render = |diags: &[diagnostic::Diagnostic]| ConfigError {
        rendered: diagnostic::render_all(diags, &loaded.map),
    };
    let mut model = model::build(&loaded.ast).map_err(|d| render(&d))?;
    model.allow_config_dups = loaded.allow_config_dups();
    let mut problems = check::check(&model, &Registry);
    if problems.is_empty() {
        problems = check_templates(&model);
    }
    if !problems.is_empty() {
        return Err(render(&problems));
    }
    Ok(CheckedConfig { loaded, model })
}

/// Compiles every named template and every destination's `template()` option, as
/// syslog-ng does at `-s`, so a broken template is a configuration error at its own span
/// whether or not the runtime can run the destination yet.
fn check_templates(model: &Model) -> Vec<Diagnostic> {
    let mut functions = FunctionRegistry::with_builtins();
    functions.register("python", Arc::new(PythonFunctionPending));
    if let Err(d) = crate::actors::runtime::plan::register_template_functions(model, &mut functions)
    {
        return vec![d];
    }
    let env = BuildEnv::with_functions(model, Arc::new(functions));
    let mut problems = Vec::new();
    for t in &model.templates {
        if let Some(content) = &t.content
            && let Err(d) = env.template(&content.value, content.span)
        {
            problems.push(d.with_context("template"));
        }
    }
    for object in model.objects(ObjectKind::Destination) {
        for call in object.drivers() {
            let Node::Call { args, .. } = call else {
                continue;
            };
            for arg in args {
                if let Node::Call { name, args, .. } = arg
                    && keyword_eq(&name.value, "template")
                    && let [Node::Str(text, _) | Node::Word(text)] = args.as_slice()
                    && let Err(d) = env.template_or_name(&text.value, text.span)
                {
                    problems.push(d.with_context("destination"));
                }
            }
        }
    }
    problems
}

/// `$(python ...)` for the configuration check only: the Python runtime that will render it
/// does not exist yet, so the check accepts any call (as syslog-ng's `-s` does not import
/// Python code either) and the runtime refuses the template when it is asked to start.
struct PythonFunctionPending;

impl TemplateFunction for PythonFunctionPending {
    fn prepare(&self, _call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        Ok(Box::new(NeverRendered))
    }
}

/// Prepared by [`PythonFunctionPending`]; only ever compiled by the check, never rendered.
#[derive(Debug)]
struct NeverRendered;

impl PreparedFunction for NeverRendered {
    fn call(&self, _inv: &Invocation<'_>, _out: &mut Vec<u8>) {}
}

fn ast_uses_python(ast: &Ast) -> bool {
    !ast.python_blocks.is_empty() || ast.stmts.iter().any(stmt_uses_python)
}

fn stmt_uses_python(stmt: &Stmt) -> bool {
    stmt.nodes.iter().any(node_uses_python)
}

fn node_uses_python(node: &Node) -> bool {
    match node {
        Node::Call { name, args, .. } => {
            let n = name.value.replace('_', "-");
            n == "python" || n.starts_with("python-") || args.iter().any(node_uses_python)
        }
        Node::Str(s, _) => s.value.contains("$(python "),
        Node::Group { items, .. } => items.iter().any(node_uses_python),
        Node::Block { stmts, .. } => stmts.iter().any(stmt_uses_python),
        Node::Arrow { value, .. } => node_uses_python(value),
        Node::Word(_) | Node::Number(_) | Node::Op(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::load_str;

    fn uses(text: &str) -> bool {
        let loaded = load_str("t.conf", text, &LoadOptions::default()).expect("valid config");
        ast_uses_python(&loaded.ast)
    }

    #[test]
    fn allow_config_dups_comes_from_the_define() {
        let dir = tempfile::tempdir().expect("tempdir");
        let body = "source s { internal(); };\nsource s { internal(); };\nlog { source(s); };\n";
        let path = dir.path().join("dups.conf");
        std::fs::write(&path, format!("@version: 3.38\n{body}")).expect("write");
        let err = load_and_check(&path, &LoadOptions::default()).expect_err("duplicate");
        assert!(err.rendered.contains("duplicate"), "{}", err.rendered);
        std::fs::write(
            &path,
            format!("@version: 3.38\n@define allow-config-dups 1\n{body}"),
        )
        .expect("write");
        load_and_check(&path, &LoadOptions::default()).expect("dups allowed");
    }

    #[test]
    fn broken_templates_are_configuration_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.conf");
        let cases = [
            ("template t_bad \"${MSG\";\n", "template"),
            (
                "destination d { file(\"/tmp/x\" template(\"$(no-such-function x)\")); };\n",
                "destination",
            ),
        ];
        for (body, context) in cases {
            std::fs::write(&path, format!("@version: 3.38\n{body}")).expect("write");
            let err = load_and_check(&path, &LoadOptions::default()).expect_err(body);
            assert!(
                err.rendered
                    .contains(&format!("Error parsing within {context}"))
                    && err.rendered.contains("t.conf:2:"),
                "{}",
                err.rendered
            );
        }
        // A template option naming a template statement is not compiled as text.
        std::fs::write(
            &path,
            "@version: 3.38\ntemplate t \"$MSG\\n\";\ndestination d { file(\"/tmp/x\" template(t)); };\n",
        )
        .expect("write");
        load_and_check(&path, &LoadOptions::default()).expect("named template");
    }

    #[test]
    fn python_is_detected_only_when_used() {
        assert!(!uses("@version: 3.38\nsource s { internal(); };\n"));
        assert!(uses("@version: 3.38\npython {\nx = 1\n};\n"));
        assert!(uses(
            "@version: 3.38\ndestination d { python(class(\"m.D\")); };\n"
        ));
        assert!(uses(
            "@version: 3.38\nlog { source { python-fetcher(class(\"m.F\")); }; };\n"
        ));
        assert!(uses(
            "@version: 3.38\ndestination d { file(\"/x\" template(\"$(python f $MSG)\")); };\n"
        ));
    }
}
