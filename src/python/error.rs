//! A Python exception as a Rust error: what the drivers log through `internal()` (the
//! exception's type, its text and the traceback as Python prints it) and then handle by
//! their error rules. Formatting happens once, while the GIL is held, so the error can
//! cross threads and outlive the interpreter state it came from.

use pyo3::prelude::*;
use pyo3::types::PyTraceback;

/// A Python exception raised by plugin code, rendered while the GIL was held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}\n{traceback}")]
pub struct PythonException {
    /// The exception's class name (`ValueError`, `KeyError`...).
    pub kind: String,
    /// `str(exception)`.
    pub message: String,
    /// The whole of `traceback.format_exception(...)`, ending with the `Kind: message`
    /// line, as Python would print it.
    pub traceback: String,
}

impl PythonException {
    /// Renders `err` (its traceback included). Never fails: what cannot be rendered is
    /// replaced by a note saying so, since this runs on error paths.
    pub(crate) fn from_err(py: Python<'_>, err: &PyErr) -> PythonException {
        let ty = err.get_type(py);
        let kind = ty
            .qualname()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "<unknown exception>".to_string());
        let value = err.value(py);
        let message = value
            .str()
            .map(|s| s.to_string())
            .unwrap_or_else(|_| "<exception text unavailable>".to_string());
        let traceback = format_traceback(py, err, err.traceback(py))
            .unwrap_or_else(|_| format!("{kind}: {message}\n"));
        PythonException {
            kind,
            message,
            traceback,
        }
    }
}

fn format_traceback<'py>(
    py: Python<'py>,
    err: &PyErr,
    tb: Option<Bound<'py, PyTraceback>>,
) -> PyResult<String> {
    super::code::sources_into_linecache(py)?;
    let module = py.import("traceback")?;
    let lines = module.call_method1("format_exception", (err.get_type(py), err.value(py), tb))?;
    let mut out = String::new();
    for line in lines.try_iter()? {
        out.push_str(&line?.extract::<String>()?);
    }
    Ok(out)
}
