//! `value-pairs()` on a `python()` destination: `send()` then gets a dict of the selected
//! name-value pairs instead of a `LogMessage` (syslog-ng 3.38, recorded: an empty
//! `value-pairs()` selects nothing, keys are `str`, values `bytes`).
//!
//! The selection is the template layer's value-pairs (the one `$(format-json)` uses),
//! built from the configuration's options as the equivalent command line. Typed pairs
//! (`pair("n" int32(5))`) arrive typed: integers as `int` (as in 3.38), `double()`,
//! `boolean()` and `list()` as `float`, `bool` and a `list` of `bytes` as AxoSyslog
//! documents (3.38 cannot cast those and retries the message). A value its type cannot
//! hold is a casting error: the message is not sent and counts as `ERROR`, as in 3.38.
//! `cast(yes)` is accepted and, as in 3.38 (recorded), changes nothing here.

use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::actors::destinations::common::ValuePairs as VpOptions;
use crate::config::Span;
use crate::config::diagnostic::Diagnostic;
use crate::message::LogMessage;
use crate::pipeline::BuildEnv;
use crate::python::logmsg::{list_to_py, parse_bool};
use crate::template::functions::value_pairs::{PooledCollected, ValuePairs};
use crate::template::functions::{FunctionCall, Invocation, PrepareError};
use crate::template::{DaemonInfo, RenderContext, TemplateOptions, TypeHint};

/// A compiled `value-pairs()` selection.
#[derive(Debug)]
pub(crate) struct Selection(ValuePairs);

/// `value-pairs()` as the template layer's command line (`--scope`, `--key`, ...).
fn command_line(o: &VpOptions) -> Vec<String> {
    let mut args = Vec::new();
    let mut opt = |name: &str, value: String| {
        args.push(format!("--{name}"));
        args.push(value);
    };
    for s in &o.scope {
        opt("scope", s.name().to_string());
    }
    for k in &o.key {
        opt("key", k.clone());
    }
    for e in &o.exclude {
        opt("exclude", e.clone());
    }
    for (name, value) in &o.pair.0 {
        opt("pair", format!("{name}={}", value.0));
    }
    for r in &o.rekey.0 {
        opt("rekey", r.pattern.clone());
        if let Some(n) = r.shift {
            opt("shift", n.to_string());
        }
        if let Some(n) = r.shift_levels {
            opt("shift-levels", n.to_string());
        }
        if let Some(p) = &r.add_prefix {
            opt("add-prefix", p.clone());
        }
        if let Some((old, new)) = &r.replace_prefix {
            opt("replace-prefix", format!("{old}={new}"));
        }
    }
    args
}

impl Selection {
    /// Compiles the option's templates in `env`; errors are reported at `span`.
    pub(crate) fn compile(
        o: &VpOptions,
        env: &BuildEnv<'_>,
        span: Span,
    ) -> Result<Selection, Diagnostic> {
        let args = command_line(o);
        let call = FunctionCall {
            name: "value-pairs",
            args: &args,
            env: &env.templates,
        };
        ValuePairs::parse(&call, &[])
            .map(|(vp, _)| Selection(vp))
            .map_err(|e| {
                let why = match e {
                    PrepareError::Message(m) => m,
                    PrepareError::Compile(c) => format!("Error compiling template: {c}"),
                };
                Diagnostic::new(why, span)
            })
    }
}

/// What builds the dicts: the selection and what its templates are rendered with.
#[derive(Debug)]
pub(crate) struct DictBuilder {
    selection: Arc<Selection>,
    options: TemplateOptions,
    daemon: Arc<DaemonInfo>,
}

impl DictBuilder {
    pub(crate) fn new(
        selection: Arc<Selection>,
        options: TemplateOptions,
        daemon: Arc<DaemonInfo>,
    ) -> DictBuilder {
        DictBuilder {
            selection,
            options,
            daemon,
        }
    }

    /// The dict `send()` gets for `msg`; `Err` names a value its type hint cannot hold
    /// (syslog-ng's "Casting error").
    pub(crate) fn dict<'py>(
        &self,
        py: Python<'py>,
        msg: &LogMessage,
    ) -> Result<Bound<'py, PyDict>, CastError> {
        let ctx = RenderContext::new(&self.options, &self.daemon);
        let one = [msg];
        let inv = Invocation {
            msgs: &one,
            ctx: &ctx,
        };
        let mut pairs = PooledCollected::take();
        self.selection.0.collect(&inv, msg, &mut pairs);
        let dict = PyDict::new(py);
        for (key, hint, value) in pairs.iter() {
            let cast_error = || CastError {
                value: String::from_utf8_lossy(value).into_owned(),
                hint,
            };
            let v = typed(py, hint, value).ok_or_else(cast_error)?;
            // Setting a str key in a new dict fails only when memory does.
            dict.set_item(String::from_utf8_lossy(key).as_ref(), v)
                .map_err(|_| cast_error())?;
        }
        Ok(dict)
    }
}

/// A value its type hint cannot hold.
#[derive(Debug)]
pub(crate) struct CastError {
    pub(crate) value: String,
    pub(crate) hint: TypeHint,
}

/// The Python object for a value of type `hint`; `None` when the text is not one.
fn typed<'py>(py: Python<'py>, hint: TypeHint, value: &[u8]) -> Option<Bound<'py, PyAny>> {
    let text = std::str::from_utf8(value).ok().map(str::trim);
    match hint {
        TypeHint::Int32 => text?.parse::<i32>().ok()?.into_bound_py_any(py).ok(),
        TypeHint::Int64 => text?.parse::<i64>().ok()?.into_bound_py_any(py).ok(),
        TypeHint::Double => text?.parse::<f64>().ok()?.into_bound_py_any(py).ok(),
        TypeHint::Boolean => text
            .and_then(parse_bool)
            .and_then(|b| b.into_bound_py_any(py).ok()),
        TypeHint::List => list_to_py(py, value).ok().map(Bound::into_any),
        TypeHint::String | TypeHint::Literal | TypeHint::DateTime => {
            Some(PyBytes::new(py, value).into_any())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::check_de;

    #[test]
    fn the_options_become_the_template_layers_command_line() {
        let o: VpOptions = check_de(
            r#"value-pairs(scope(rfc5424 nv-pairs) key("app.*") exclude("R_*")
                pair("n" "1") rekey(".app.*" shift(1) add-prefix("x")))"#,
        );
        assert_eq!(
            command_line(&o).join(" "),
            "--scope rfc5424 --scope nv-pairs --key app.* --exclude R_* --pair n=1 \
             --rekey .app.* --shift 1 --add-prefix x"
        );
    }

    #[test]
    fn typed_pairs_become_python_values_and_bad_ones_do_not() {
        crate::python::ensure_initialized().expect("interpreter");
        Python::attach(|py| {
            let repr =
                |hint, v: &[u8]| typed(py, hint, v).map(|o| o.repr().expect("repr").to_string());
            assert_eq!(repr(TypeHint::Int32, b"5").as_deref(), Some("5"));
            assert_eq!(
                repr(TypeHint::Int64, b"-9000000000").as_deref(),
                Some("-9000000000")
            );
            assert_eq!(repr(TypeHint::Double, b"2.5").as_deref(), Some("2.5"));
            assert_eq!(repr(TypeHint::Boolean, b"yes").as_deref(), Some("True"));
            assert_eq!(
                repr(TypeHint::List, b"a,b").as_deref(),
                Some("[b'a', b'b']")
            );
            assert_eq!(repr(TypeHint::String, b"x").as_deref(), Some("b'x'"));
            assert_eq!(repr(TypeHint::Int32, b"x"), None);
            assert_eq!(repr(TypeHint::Int32, b"9000000000"), None);
            assert_eq!(repr(TypeHint::Boolean, b"maybe"), None);
        });
    }
}
