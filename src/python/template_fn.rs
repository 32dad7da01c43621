//! `$(python FUNCTION ARG...)`: a template function implemented in Python.
//!
//! The function is called with the message (a read-only `LogMessage`: setting a value
//! raises) and the rendered arguments as `bytes`, as in syslog-ng. It returns `str` or
//! `bytes`; from `@version: 4.0` also `int`, `float`, `bool`, `None`, a list or a
//! `datetime`, rendered as syslog-ng renders typed values. An exception, a wrong type or a
//! name that does not resolve renders `<error>` and is logged with its traceback.
//!
//! Unlike syslog-ng, which looks the name up at every call, a literal name is looked up
//! when the configuration starts: a function that does not exist is a configuration error
//! at the template's `file:line:col`. A name built from macros (`$(python $FUNC)`) is
//! looked up per call, as syslog-ng does.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use super::binding::{BindCx, Bindable, Bindings};
use super::code::ConfigCode;
use super::logmsg::{PyLogMessage, str_or_bytes, typed_value};
use crate::config::diagnostic::Diagnostic;
use crate::template::Template;
use crate::template::functions::{
    FunctionCall, Invocation, PrepareError, PreparedFunction, TemplateFunction,
};

/// `$(python)` as registered in a plan's function registry: every call site it prepares is
/// bound with the plan (see [`super::binding`]).
pub(crate) struct PythonFunction {
    bindings: Bindings,
}

impl PythonFunction {
    pub(crate) fn new(bindings: Bindings) -> PythonFunction {
        PythonFunction { bindings }
    }
}

impl TemplateFunction for PythonFunction {
    fn prepare(&self, call: &FunctionCall<'_>) -> Result<Box<dyn PreparedFunction>, PrepareError> {
        let Some((name, args)) = call.args.split_first() else {
            return Err("$(python) needs the name of a Python function".into());
        };
        let site = Arc::new(CallSite {
            name: call.compile_arg(name)?,
            literal: (!name.contains('$')).then(|| name.clone()),
            args: call.compile_args(args)?,
            origin: call.env.origin,
            bound: OnceLock::new(),
        });
        self.bindings.add(site.clone());
        Ok(Box::new(Prepared(site)))
    }
}

/// One `$(python ...)` in the configuration.
struct CallSite {
    name: Template,
    /// The name when it has no macros (looked up at start).
    literal: Option<String>,
    args: Vec<Template>,
    origin: Option<crate::config::span::Span>,
    bound: OnceLock<Bound_>,
}

/// What binding gave a call site.
struct Bound_ {
    code: Arc<ConfigCode>,
    /// The function, for a literal name.
    function: Option<Py<PyAny>>,
    compat_3x: bool,
}

impl std::fmt::Debug for CallSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "$(python {:?})", self.literal)
    }
}

impl Bindable for CallSite {
    fn bind(&self, py: Python<'_>, cx: &BindCx<'_>) -> Result<(), Diagnostic> {
        let function = match &self.literal {
            None => None,
            Some(name) => {
                let f = cx.code.resolve(py, name).map_err(|e| {
                    let e = super::PythonException::from_err(py, &e);
                    Diagnostic::new(
                        format!("$(python): Error looking up Python function `{name}`"),
                        self.origin.unwrap_or_default(),
                    )
                    .with_note(e.traceback.trim_end().to_string())
                })?;
                if !f.is_callable() {
                    return Err(Diagnostic::new(
                        format!("$(python): `{name}` is not a callable Python object"),
                        self.origin.unwrap_or_default(),
                    ));
                }
                Some(f.unbind())
            }
        };
        let _ = self.bound.set(Bound_ {
            code: cx.code.clone(),
            function,
            compat_3x: cx.compat_3x,
        });
        Ok(())
    }
}

#[derive(Debug)]
struct Prepared(Arc<CallSite>);

impl PreparedFunction for Prepared {
    fn call(&self, inv: &Invocation<'_>, out: &mut Vec<u8>) {
        let site = &self.0;
        let Some(bound) = site.bound.get() else {
            // Compiled but never bound (a configuration check): nothing to call.
            out.extend_from_slice(b"<error>");
            return;
        };
        let mut name = Vec::new();
        inv.render(&site.name, &mut name);
        let name = String::from_utf8_lossy(&name).into_owned();
        let mut rendered = Vec::with_capacity(site.args.len());
        for a in &site.args {
            let mut v = Vec::new();
            inv.render(a, &mut v);
            rendered.push(v);
        }
        let msg = Arc::new(inv.msg().clone());
        super::interpreter::keep_thread_state();
        Python::attach(|py| match invoke(py, bound, &name, msg, &rendered) {
            Ok(v) => out.extend_from_slice(&v),
            Err(what) => {
                if let Some((what, err)) = what {
                    log_tf_error(py, &err, what, &name);
                }
                out.extend_from_slice(b"<error>");
            }
        });
    }
}

/// Calls the function; `Err(None)` is a refused result already logged.
fn invoke(
    py: Python<'_>,
    bound: &Bound_,
    name: &str,
    msg: Arc<crate::message::LogMessage>,
    args: &[Vec<u8>],
) -> Result<Vec<u8>, Option<(&'static str, PyErr)>> {
    let function = match &bound.function {
        Some(f) => f.bind(py).clone(),
        None => bound
            .code
            .resolve(py, name)
            .map_err(|e| Some(("$(python): Error looking up Python function", e)))?,
    };
    let view = PyLogMessage::new_read_only(msg).with_compat_3x(bound.compat_3x);
    let mut items: Vec<Bound<'_, PyAny>> = Vec::with_capacity(args.len() + 1);
    items.push(
        Bound::new(py, view)
            .map_err(|e| Some(("$(python): Error invoking Python function", e)))?
            .into_any(),
    );
    for a in args {
        items.push(PyBytes::new(py, a).into_any());
    }
    let tuple = PyTuple::new(py, items)
        .map_err(|e| Some(("$(python): Error invoking Python function", e)))?;
    let ret = function
        .call1(tuple)
        .map_err(|e| Some(("$(python): Error invoking Python function", e)))?;
    if bound.compat_3x {
        return match str_or_bytes(&ret) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => {
                // syslog-ng 3.38's wording (recorded: returning an int or None).
                tracing::error!(
                    function = name,
                    r#type = %ret.get_type().name().map(|n| n.to_string()).unwrap_or_default(),
                    "$(python): The return value is not str or unicode"
                );
                Err(None)
            }
            Err(e) => Err(Some(("$(python): Error invoking Python function", e))),
        };
    }
    // The result is text in a template: its type does not travel.
    typed_value(py, &ret).map(|(text, _)| text).map_err(|e| {
        Some((
            "$(python): error converting the return value of a Python template function to \
             a typed name-value pair",
            e,
        ))
    })
}

fn log_tf_error(py: Python<'_>, err: &PyErr, what: &str, function: &str) {
    let e = super::PythonException::from_err(py, err);
    tracing::error!(
        function = function,
        exception = %format!("{}: {}", e.kind, e.message),
        "{what}\n{}",
        e.traceback.trim_end()
    );
}
