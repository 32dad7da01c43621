//! The object behind a Python driver (a destination or a parser): looking its class up,
//! creating it, `init(options)`, calling its methods with exceptions logged, and
//! `deinit()` exactly once — when the driver stops, or when the object is dropped unused
//! (a reload that failed after it was initialised).

use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::binding::{BindCx, log_exception};
use crate::config::diagnostic::Diagnostic;
use crate::config::span::Span;

/// Which kind of driver an object serves, for messages (`python-dest`, `python-parser`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    Destination,
    Parser,
    Source,
    Fetcher,
}

impl Role {
    fn prefix(self) -> &'static str {
        match self {
            Role::Destination => "python-dest",
            Role::Parser => "python-parser",
            Role::Source => "python-source",
            Role::Fetcher => "python-fetcher",
        }
    }
}

/// `MODULE.` + what the class's static `generate_persist_name(options)` returns; `None`
/// when it has none, or it raised (logged) — the caller's default applies. A class that
/// cannot be found gets the default here; creating the object reports it.
pub(crate) fn generated_persist_name(
    py: Python<'_>,
    cx: &BindCx<'_>,
    class: &str,
    options: &crate::actors::python_options::PyOptions,
    module: &str,
    driver: &str,
) -> Option<String> {
    let class_object = cx.code.resolve(py, class).ok()?;
    let generate = class_object.getattr("generate_persist_name").ok()?;
    let name = crate::actors::python_options::options_dict(py, options, cx.compat_3x)
        .and_then(|options| generate.call1((options,)))
        .and_then(|n| n.str().map(|s| s.to_string()));
    match name {
        Ok(n) => Some(format!("{module}.{n}")),
        Err(e) => {
            log_exception(
                py,
                &e,
                "Exception while calling generate_persist_name()",
                driver,
                class,
            );
            None
        }
    }
}

/// An initialised driver object.
pub(crate) struct DriverObject {
    pub(crate) instance: Py<PyAny>,
    /// The class name as the configuration gave it.
    pub(crate) class: String,
    /// The driver's id (`d_python#0`), for log messages.
    pub(crate) driver: String,
    deinited: AtomicBool,
}

impl std::fmt::Debug for DriverObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.driver, self.class)
    }
}

/// What [`DriverObject::create`] needs.
pub(crate) struct Spec<'a> {
    pub(crate) role: Role,
    pub(crate) class: &'a str,
    pub(crate) loaders: &'a [String],
    pub(crate) options: &'a crate::actors::python_options::PyOptions,
    pub(crate) driver: &'a str,
    /// Where the driver is, for errors.
    pub(crate) span: Span,
    /// Attributes set on the class before it is instantiated (syslog-ng injects the result
    /// constants, `persist_name`...).
    pub(crate) class_attrs: &'a [(&'a str, Py<PyAny>)],
}

impl DriverObject {
    /// Looks the class up, creates the object and calls `init(options)`; any failure is a
    /// configuration error at the driver.
    pub(crate) fn create(
        py: Python<'_>,
        cx: &BindCx<'_>,
        spec: &Spec<'_>,
        check: impl FnOnce(&Bound<'_, PyAny>) -> Result<(), String>,
    ) -> Result<DriverObject, Diagnostic> {
        let prefix = spec.role.prefix();
        let fail = |message: String, err: Option<&PyErr>| {
            let d = Diagnostic::new(message, spec.span);
            match err {
                Some(e) => {
                    let e = super::PythonException::from_err(py, e);
                    d.with_note(e.traceback.trim_end().to_string())
                }
                None => d,
            }
        };
        if let Err(e) = cx.code.import_all(py, spec.loaders) {
            return Err(fail(
                format!("{prefix}: Error importing the modules of loaders()"),
                Some(&e),
            ));
        }
        let class = cx.code.resolve(py, spec.class).map_err(|e| {
            fail(
                format!(
                    "{prefix}: Error looking up Python driver class `{}`",
                    spec.class
                ),
                Some(&e),
            )
        })?;
        for (name, value) in spec.class_attrs {
            // A class that refuses attributes (a built-in type) fails at the call below.
            let _ = class.setattr(*name, value.bind(py));
        }
        let instance = class.call0().map_err(|e| {
            fail(
                format!(
                    "{prefix}: Error instantiating Python driver class `{}`",
                    spec.class
                ),
                Some(&e),
            )
        })?;
        check(&instance).map_err(|m| fail(format!("{prefix}: {m}"), None))?;
        let object = DriverObject {
            instance: instance.unbind(),
            class: spec.class.to_string(),
            driver: spec.driver.to_string(),
            // Nothing to deinit until init() succeeded.
            deinited: AtomicBool::new(true),
        };
        let options =
            crate::actors::python_options::options_dict(py, spec.options, cx.compat_3x)
                .map_err(|e| fail(format!("{prefix}: Error converting options()"), Some(&e)))?;
        match object.call_init(py, &options) {
            Some(true) => {}
            Some(false) => {
                return Err(fail(
                    format!(
                        "{prefix}: Error initializing Python driver object, init() returned \
                         FALSE (class `{}`)",
                        spec.class
                    ),
                    None,
                ));
            }
            None => {
                return Err(fail(
                    format!(
                        "{prefix}: Error initializing Python driver object, init() raised \
                         an exception (class `{}`; the traceback is logged above)",
                        spec.class
                    ),
                    None,
                ));
            }
        }
        object.deinited.store(false, Ordering::Release);
        Ok(object)
    }

    /// `init(options)` — or `init()` when the method takes no argument. None: it raised
    /// (logged).
    fn call_init(&self, py: Python<'_>, options: &Bound<'_, PyDict>) -> Option<bool> {
        let Some(init) = self.method(py, "init") else {
            return Some(true);
        };
        let takes_options = init
            .getattr("__code__")
            .and_then(|c| c.getattr("co_argcount"))
            .and_then(|n| n.extract::<usize>())
            .map_or(true, |n| n > 1);
        let ret = if takes_options {
            init.call1((options,))
        } else {
            init.call0()
        };
        match ret {
            Ok(v) => Some(v.is_truthy().unwrap_or(false)),
            Err(e) => {
                self.log(py, &e);
                None
            }
        }
    }

    /// The bound method `name`, when the object has one.
    pub(crate) fn method<'py>(&self, py: Python<'py>, name: &str) -> Option<Bound<'py, PyAny>> {
        self.instance
            .bind(py)
            .getattr(name)
            .ok()
            .filter(|m| m.is_callable())
    }

    /// Logs an exception a method raised ("Exception while calling a Python function").
    pub(crate) fn log(&self, py: Python<'_>, err: &PyErr) {
        log_exception(
            py,
            err,
            "Exception while calling a Python function",
            &self.driver,
            &self.class,
        );
    }

    /// Calls `name()` when it exists, logging an exception; returns what it returned.
    pub(crate) fn call_optional<'py>(
        &self,
        py: Python<'py>,
        name: &str,
    ) -> Option<Bound<'py, PyAny>> {
        let m = self.method(py, name)?;
        match m.call0() {
            Ok(v) => Some(v),
            Err(e) => {
                self.log(py, &e);
                None
            }
        }
    }

    /// `deinit()`, once.
    pub(crate) fn deinit(&self, py: Python<'_>) {
        if !self.deinited.swap(true, Ordering::AcqRel) {
            self.call_optional(py, "deinit");
        }
    }
}

impl Drop for DriverObject {
    fn drop(&mut self) {
        if !self.deinited.load(Ordering::Acquire) && super::interpreter::is_running() {
            Python::attach(|py| self.deinit(py));
        }
    }
}
