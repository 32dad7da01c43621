//! The built-in `syslogng` Python module: what plugin code imports
//! (`from syslogng import LogMessage, LogDestination, LogParser, Logger`, and the source
//! base classes `LogSource`, `LogFetcher`).
//!
//! Registration: [`install`] adds the module to CPython's table of built-in modules
//! (`PyImport_AppendInittab`, via pyo3's `append_to_inittab!`). That must happen before the
//! interpreter starts, so `interpreter::initialize` calls it right before
//! `Py_InitializeFromConfig`; `import syslogng` then works in any code the interpreter
//! runs, without a file on `sys.path` and without touching `sys.modules` by hand.
//!
//! Module state is process-wide (one interpreter per process): [`set_compat_3x`] says
//! whether the running configuration's `@version` is below 4.0, which decides how
//! [`LogMessage`](super::logmsg::PyLogMessage) values are typed, and [`set_macro_env`] gives
//! the template options and daemon facts macros (`msg["DATE"]`, `msg["LOGHOST"]`) are
//! rendered with.
//! Binding a configuration's Python parts sets both (see `binding::PythonPlan`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

use pyo3::exceptions::PyNotImplementedError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::template::{DaemonInfo, TemplateOptions};

pub(crate) use super::logmsg::PyLogMessage;

/// The module itself. The classes are exported under their syslog-ng names.
#[pymodule(name = "syslogng")]
pub(crate) mod module {
    #[pymodule_export]
    use super::{PyLogDestination, PyLogMessage, PyLogParser, PyLogger};
    #[pymodule_export]
    use crate::python::persist::PyPersist;
    #[pymodule_export]
    use crate::python::source_classes::{
        PyAckTracker, PyBatchedAckTracker, PyConsecutiveAckTracker, PyInstantAckTracker,
        PyLogFetcher, PyLogSource,
    };
}

/// Adds `syslogng` to the built-in modules. Call once, before the interpreter is
/// initialised (a second call would add a duplicate, harmless, table entry).
///
/// # Panics
/// When the interpreter is already running (pyo3's check; `interpreter::initialize` calls
/// this only on the path that is about to start it).
pub(crate) fn install() {
    pyo3::append_to_inittab!(module);
}

/// `@version` < 4.0: every value reads as `bytes`, a missing name as `b''`, and only
/// `str`/`bytes` can be assigned (syslog-ng's `cast_to_bytes`). Default: true.
static COMPAT_3X: AtomicBool = AtomicBool::new(true);

/// Sets the typing mode for `LogMessage` objects created from now on (objects keep the mode
/// they were created with, as in syslog-ng, where it is taken from the config at creation).
pub(crate) fn set_compat_3x(compat: bool) {
    COMPAT_3X.store(compat, Ordering::Relaxed);
}

/// The current typing mode (see [`set_compat_3x`]).
pub(crate) fn compat_3x() -> bool {
    COMPAT_3X.load(Ordering::Relaxed)
}

/// What macros are rendered with when Python reads them (`msg["ISODATE"]`).
pub(crate) struct MacroEnv {
    pub(crate) options: TemplateOptions,
    pub(crate) daemon: Arc<DaemonInfo>,
}

static MACRO_ENV: LazyLock<RwLock<Arc<MacroEnv>>> = LazyLock::new(|| {
    RwLock::new(Arc::new(MacroEnv {
        options: TemplateOptions::default(),
        daemon: crate::template::options::default_daemon_info(),
    }))
});

/// Replaces the macro environment (the runtime calls this per configuration generation with
/// the global template options and its `DaemonInfo`).
pub(crate) fn set_macro_env(options: TemplateOptions, daemon: Arc<DaemonInfo>) {
    let env = Arc::new(MacroEnv { options, daemon });
    match MACRO_ENV.write() {
        Ok(mut w) => *w = env,
        Err(p) => *p.into_inner() = env,
    }
}

/// The macro environment in force.
pub(crate) fn macro_env() -> Arc<MacroEnv> {
    match MACRO_ENV.read() {
        Ok(r) => r.clone(),
        Err(p) => p.into_inner().clone(),
    }
}

/// `syslogng.LogDestination`: the base class of Python destinations. The result constants
/// are syslog-ng 3.38's `LogThreadedResult` values (what its python() destination injects
/// into the class; 4.x exposes the same numbers as the `LogDestinationResult` enum), so a
/// plugin's `return self.QUEUED` means the same here. The default methods are those of
/// syslog-ng's `syslogng/dest.py`; there is deliberately no default `flush`, since the
/// driver decides on batch mode by whether the class has one.
#[pyclass(name = "LogDestination", module = "syslogng", subclass)]
pub(crate) struct PyLogDestination {}

#[pymethods]
impl PyLogDestination {
    #[classattr]
    const DROP: i32 = 0;
    #[classattr]
    const ERROR: i32 = 1;
    #[classattr]
    const SUCCESS: i32 = 3;
    #[classattr]
    const QUEUED: i32 = 4;
    #[classattr]
    const NOT_CONNECTED: i32 = 5;
    #[classattr]
    const RETRY: i32 = 6;

    /// Accepts and ignores any arguments, so subclasses may define their own `__init__`.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        PyLogDestination {}
    }

    /// Called at configuration init with the `options()` dictionary; False stops the start.
    #[pyo3(signature = (_options=None))]
    fn init(&self, _options: Option<&Bound<'_, PyAny>>) -> bool {
        true
    }

    fn deinit(&self) {}

    fn open(&self) -> bool {
        true
    }

    fn close(&self) {}

    fn is_opened(&self) -> bool {
        true
    }

    /// The one method a destination must implement.
    fn send(&self, _msg: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyNotImplementedError::new_err(()))
    }
}

/// `syslogng.LogParser`: the base class of Python parsers (syslog-ng's `syslogng/parser.py`:
/// `init` returns True, `deinit` does nothing, `parse` must be implemented and returns
/// True to keep the message, False to drop it). syslog-ng gives parsers no result constants.
#[pyclass(name = "LogParser", module = "syslogng", subclass)]
pub(crate) struct PyLogParser {}

#[pymethods]
impl PyLogParser {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        PyLogParser {}
    }

    #[pyo3(signature = (_options=None))]
    fn init(&self, _options: Option<&Bound<'_, PyAny>>) -> bool {
        true
    }

    fn deinit(&self) {}

    fn parse(&self, _msg: &Bound<'_, PyAny>) -> PyResult<bool> {
        Err(PyNotImplementedError::new_err(()))
    }
}

/// The tracing target Python log lines are emitted under.
pub(crate) const LOG_TARGET: &str = "sluice::python";

/// `syslogng.Logger`: messages go to the daemon's own log (`internal()`), at the level of the
/// method called (`trace` like `debug`, as syslog-ng's trace messages). syslog-ng's
/// `Logger()` takes no name and logs the text as it is; here `Logger(name)` prefixes
/// `python-<name>: ` (the form syslog-ng's Python logging handler writes), and `Logger()`
/// logs the text unchanged.
#[pyclass(name = "Logger", module = "syslogng", subclass, frozen)]
pub(crate) struct PyLogger {
    prefix: String,
}

impl PyLogger {
    fn line(&self, message: &str) -> String {
        format!("{}{message}", self.prefix)
    }
}

#[pymethods]
impl PyLogger {
    #[new]
    #[pyo3(signature = (name=None, *_args, **_kwargs))]
    fn new(
        name: Option<&str>,
        _args: &Bound<'_, PyTuple>,
        _kwargs: Option<&Bound<'_, PyDict>>,
    ) -> Self {
        PyLogger {
            prefix: name.map(|n| format!("python-{n}: ")).unwrap_or_default(),
        }
    }

    fn error(&self, message: &str) {
        tracing::error!(target: LOG_TARGET, "{}", self.line(message));
    }

    fn warning(&self, message: &str) {
        tracing::warn!(target: LOG_TARGET, "{}", self.line(message));
    }

    fn info(&self, message: &str) {
        tracing::info!(target: LOG_TARGET, "{}", self.line(message));
    }

    fn debug(&self, message: &str) {
        tracing::debug!(target: LOG_TARGET, "{}", self.line(message));
    }

    fn trace(&self, message: &str) {
        tracing::trace!(target: LOG_TARGET, "{}", self.line(message));
    }
}
