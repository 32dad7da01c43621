//! `syslogng.LogSource` and `syslogng.LogFetcher`: the base classes of Python sources, as
//! syslog-ng 3.38 exports them (a class derived from `object` with the fetch result
//! constants; `post_message` on `LogSource`). Plugin code imports them at the top of a
//! `python {}` block, so they must exist for a configuration's code to run even where it
//! uses only destinations and parsers. The `python()` and `python-fetcher()` source drivers
//! that would call into these classes are not built yet (the planner refuses them by name),
//! so no object of these classes is ever attached to a running source: `post_message`
//! says so.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// `syslogng.LogSource` (syslog-ng 3.38: `post_message`, `persist_name`).
#[pyclass(name = "LogSource", module = "syslogng", subclass)]
pub(crate) struct PyLogSource {}

#[pymethods]
impl PyLogSource {
    /// Accepts and ignores any arguments, so subclasses may define their own `__init__`.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        PyLogSource {}
    }

    /// Only the `run()` of a running `python()` source may post; no object is one here.
    fn post_message(&self, _msg: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyRuntimeError::new_err(
            "post_message() called on a LogSource that is not running as a python() source",
        ))
    }
}

/// `syslogng.LogFetcher` (syslog-ng 3.38's `FETCH_*` values, which `fetch()` returns).
#[pyclass(name = "LogFetcher", module = "syslogng", subclass)]
pub(crate) struct PyLogFetcher {}

#[pymethods]
impl PyLogFetcher {
    #[classattr]
    const FETCH_ERROR: i32 = 0;
    #[classattr]
    const FETCH_NOT_CONNECTED: i32 = 1;
    #[classattr]
    const FETCH_SUCCESS: i32 = 2;
    #[classattr]
    const FETCH_TRY_AGAIN: i32 = 3;
    #[classattr]
    const FETCH_NO_DATA: i32 = 4;

    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        PyLogFetcher {}
    }
}
