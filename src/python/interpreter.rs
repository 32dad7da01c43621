//! Starting the embedded CPython.
//!
//! Two things must hold for the daemon to work the same under a login shell and under a
//! systemd-style environment (`PATH=/usr/bin:/bin`, no `PYTHONHOME`):
//! - the standard library must be the one of the libpython the binary is linked against, so
//!   the interpreter's home is fixed at build time (`sys.base_prefix` of the interpreter pyo3
//!   was built with, recorded by build.rs), `$PYTHONHOME` overriding it;
//! - Python must not install its own signal handlers: the daemon owns SIGHUP, SIGTERM and
//!   SIGINT.

use std::ffi::{CStr, CString};
use std::path::PathBuf;
use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;

/// The Python home recorded at build time (the prefix of the interpreter pyo3 linked).
pub const BUILD_PYTHON_HOME: &str = env!("SLUICE_PYTHON_HOME");

/// Why the interpreter could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PythonInitError {
    #[error("Python home {0:?} cannot be passed to the interpreter (it contains a NUL byte)")]
    BadHome(PathBuf),
    #[error("the embedded Python interpreter failed to start: {0}")]
    Startup(String),
}

/// What the running interpreter reports about itself, for the daemon's startup log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterpreterInfo {
    pub version: String,
    pub prefix: String,
    pub stdlib: String,
}

static INIT: OnceLock<Result<InterpreterInfo, PythonInitError>> = OnceLock::new();

/// The home the interpreter is started with: `$PYTHONHOME` when set, otherwise the build-time
/// prefix. `None` lets CPython search on its own (only when neither is known).
pub fn python_home() -> Option<PathBuf> {
    match std::env::var_os("PYTHONHOME") {
        Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
        _ if !BUILD_PYTHON_HOME.is_empty() => Some(PathBuf::from(BUILD_PYTHON_HOME)),
        _ => None,
    }
}

/// Starts the interpreter once per process (later calls return the first outcome) and
/// releases the GIL, so that any thread can then use `Python::attach`.
pub fn ensure_initialized() -> Result<InterpreterInfo, PythonInitError> {
    INIT.get_or_init(|| {
        initialize(python_home())?;
        Python::attach(|py| {
            install_logging(py)
                .map_err(|e| PythonInitError::Startup(format!("setting up logging: {e}")))?;
            Ok(describe(py))
        })
    })
    .clone()
}

/// Python's `logging` writes to the daemon's log as syslog-ng's `syslogng/logger.py` sets it
/// up: a handler on the root logger (level DEBUG) formatting `python-<logger name>:
/// <message>` and passing it to `syslogng.Logger` at the record's level.
///
/// The handler is installed when plugin code first imports `logging` (a finder at the head
/// of `sys.meta_path` wraps that one import's loader and then leaves), not at start:
/// `logging` and what it imports cost about 2.5 MB of memory a configuration whose Python
/// code never logs should not pay.
const LOGGING_SETUP: &CStr = c"
import sys as _sys

def _connect(logging):
    import syslogng

    class SyslogNGInternalLogHandler(logging.Handler):
        syslogng_logger = syslogng.Logger()

        def emit(self, record):
            msg = self.format(record)
            if record.levelno >= logging.ERROR:
                self.syslogng_logger.error(msg)
            elif record.levelno >= logging.WARNING:
                self.syslogng_logger.warning(msg)
            elif record.levelno >= logging.INFO:
                self.syslogng_logger.info(msg)
            elif record.levelno >= logging.DEBUG:
                self.syslogng_logger.debug(msg)
            else:
                self.syslogng_logger.trace(msg)

    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    handler = SyslogNGInternalLogHandler()
    handler.setFormatter(logging.Formatter('python-%(name)s: %(message)s'))
    root.addHandler(handler)

class _SyslogNGLoggingHook:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != 'logging':
            return None
        _sys.meta_path.remove(_SyslogNGLoggingHook)
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        real = spec.loader

        class ConnectingLoader:
            def create_module(self, spec):
                return real.create_module(spec)

            def exec_module(self, module):
                real.exec_module(module)
                _connect(module)

        spec.loader = ConnectingLoader()
        return spec

if 'logging' in _sys.modules:
    _connect(_sys.modules['logging'])
else:
    _sys.meta_path.insert(0, _SyslogNGLoggingHook)
";

fn install_logging(py: Python<'_>) -> PyResult<()> {
    py.run(LOGGING_SETUP, None, None)
}

/// Whether the interpreter runs (objects that outlive a plan only call into Python then).
pub(crate) fn is_running() -> bool {
    INIT.get().is_some_and(Result::is_ok)
}

fn describe(py: Python<'_>) -> InterpreterInfo {
    let get = |code: &CStr| {
        py.eval(code, None, None)
            .and_then(|v| v.extract::<String>())
            .unwrap_or_else(|e| format!("<{e}>"))
    };
    InterpreterInfo {
        version: get(c"__import__('sys').version.split()[0]"),
        prefix: get(c"__import__('sys').prefix"),
        stdlib: get(c"__import__('os').path.dirname(__import__('os').__file__)"),
    }
}

fn initialize(home: Option<PathBuf>) -> Result<(), PythonInitError> {
    // SAFETY: the PyConfig API is used as CPython documents it: the struct is initialised by
    // PyConfig_InitPythonConfig before any field is set, cleared after use, and
    // Py_InitializeFromConfig runs once (guarded by INIT). After start-up this thread gives
    // up the GIL with PyEval_SaveThread so that pyo3 can attach from any thread.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            return Ok(());
        }
        // The built-in `syslogng` module must be in the inittab before the interpreter
        // starts (see `syslogng::install`).
        super::syslogng::install();
        let mut config: ffi::PyConfig = std::mem::zeroed();
        ffi::PyConfig_InitPythonConfig(&mut config);
        config.install_signal_handlers = 0;
        config.parse_argv = 0;
        if let Some(home) = &home {
            use std::os::unix::ffi::OsStrExt;
            let c_home = CString::new(home.as_os_str().as_bytes())
                .map_err(|_| PythonInitError::BadHome(home.clone()))?;
            let status =
                ffi::PyConfig_SetBytesString(&mut config, &mut config.home, c_home.as_ptr());
            if ffi::PyStatus_Exception(status) != 0 {
                ffi::PyConfig_Clear(&mut config);
                return Err(PythonInitError::Startup(status_message(status)));
            }
        }
        let status = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(status) != 0 {
            return Err(PythonInitError::Startup(status_message(status)));
        }
        ffi::PyEval_SaveThread();
    }
    Ok(())
}

fn status_message(status: ffi::PyStatus) -> String {
    if status.err_msg.is_null() {
        return format!("exit code {}", status.exitcode);
    }
    // SAFETY: err_msg is a static C string owned by CPython when not null.
    unsafe { CStr::from_ptr(status.err_msg) }
        .to_string_lossy()
        .into_owned()
}

/// Gives the calling thread a Python thread state that outlives each `Python::attach`.
///
/// Parsers and `$(python)` run on the daemon's own threads, which CPython does not know:
/// without this, every message's `attach` creates a thread state and its release destroys
/// it again (CPython's `PyGILState_Ensure`/`Release` with a count back at zero), which cost
/// more than the `parse()` call itself. Taking the count to one once, and handing the GIL
/// back at once, keeps the thread state while the thread lives; later attaches only take
/// the GIL. When the thread ends (a destination's thread after a reload), the state is
/// released, so threads that come and go leave nothing behind in the interpreter.
pub(crate) fn keep_thread_state() {
    thread_local! {
        static KEPT: std::cell::RefCell<Option<KeptState>> = const { std::cell::RefCell::new(None) };
    }
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.is_some() {
            return;
        }
        // SAFETY: PyGILState_Check says whether this thread holds the GIL; only when it
        // does not (nothing on this thread is attached) are the GIL and the count ours to
        // change: Ensure creates this thread's state and takes the GIL, SaveThread gives
        // the GIL back and leaves the state (and its count of one) in place.
        unsafe {
            if pyo3::ffi::Py_IsInitialized() == 0 || pyo3::ffi::PyGILState_Check() != 0 {
                return;
            }
            let gil = pyo3::ffi::PyGILState_Ensure();
            let state = pyo3::ffi::PyEval_SaveThread();
            *kept = Some(KeptState { state, gil });
        }
    });
}

/// A thread state [`keep_thread_state`] holds for its thread.
struct KeptState {
    state: *mut pyo3::ffi::PyThreadState,
    gil: pyo3::ffi::PyGILState_STATE,
}

impl Drop for KeptState {
    fn drop(&mut self) {
        // SAFETY: runs when the thread ends, when nothing on it is attached: the GIL is
        // taken back with the state SaveThread returned, and Release (the count back at
        // zero) deletes the state and lets the GIL go. Skipped once the interpreter is gone.
        unsafe {
            if pyo3::ffi::Py_IsInitialized() != 0 {
                pyo3::ffi::PyEval_RestoreThread(self.state);
                pyo3::ffi::PyGILState_Release(self.gil);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_with_the_build_time_home_and_without_signal_handlers() {
        let info = ensure_initialized().expect("interpreter starts");
        assert!(info.version.starts_with("3."), "{info:?}");
        if std::env::var_os("PYTHONHOME").is_none() {
            assert_eq!(info.prefix, BUILD_PYTHON_HOME);
            assert!(info.stdlib.starts_with(BUILD_PYTHON_HOME), "{info:?}");
        }
        // With install_signal_handlers=0 CPython leaves the process's SIGINT disposition
        // alone (the default, in a test process).
        // SAFETY: querying (not changing) a signal disposition with a zeroed sigaction.
        let handler = unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old);
            old.sa_sigaction
        };
        assert_eq!(handler, libc::SIG_DFL);
        // A second call returns the same interpreter.
        assert_eq!(ensure_initialized().expect("still running"), info);
    }

    /// The interpreter's thread states (attached: the GIL is held).
    fn thread_states(_py: Python<'_>) -> usize {
        // SAFETY: walking the list with the GIL held, as CPython's own code does.
        unsafe {
            let mut n = 0;
            let mut t =
                pyo3::ffi::PyInterpreterState_ThreadHead(pyo3::ffi::PyInterpreterState_Get());
            while !t.is_null() {
                n += 1;
                t = pyo3::ffi::PyThreadState_Next(t);
            }
            n
        }
    }

    #[test]
    fn a_kept_thread_state_lives_as_long_as_its_thread() {
        ensure_initialized().expect("interpreter starts");
        let run = || {
            keep_thread_state();
            let first = Python::attach(|py| {
                py.eval(c"1 + 1", None, None).expect("evaluates");
                // SAFETY: reading this thread's own state pointer with the GIL held.
                unsafe { pyo3::ffi::PyThreadState_Get() as usize }
            });
            let second = Python::attach(|_| unsafe { pyo3::ffi::PyThreadState_Get() as usize });
            assert_eq!(first, second, "the second attach reused the kept state");
        };
        let before = Python::attach(thread_states);
        for _ in 0..100 {
            std::thread::spawn(run).join().expect("thread ends");
        }
        let after = Python::attach(thread_states);
        // Each thread's state went with it (other tests' threads may add a few meanwhile).
        assert!(
            after < before + 20,
            "{before} thread states before, {after} after"
        );
    }
}
