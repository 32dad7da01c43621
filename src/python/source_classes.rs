//! `syslogng.LogSource`, `syslogng.LogFetcher` and the ack trackers: the base classes of
//! Python sources, as syslog-ng 3.38 exports them, with the names AxoSyslog's documentation
//! adds (`LogFetcher.SUCCESS` beside `FETCH_SUCCESS`, `close_batch()`,
//! `set_transport_name()`).
//!
//! The classes hold no runtime: the `python()` source driver (`actors::sources::python`)
//! attaches a [`Poster`] to its object when it starts, and `post_message()` goes through it.
//! An object that is not attached (created by plugin code, or a source not started yet)
//! says so with a RuntimeError.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::exceptions::{PyNotImplementedError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use super::logmsg::PyLogMessage;

/// What a running `python()` source does with what its `run()` posts.
pub(crate) trait Poster: Send + Sync {
    /// Posts `msg` (from the thread running `run()`, checked by the implementation).
    fn post(&self, py: Python<'_>, msg: &Bound<'_, PyLogMessage>) -> PyResult<()>;
    /// Sends the messages posted since the last batch (`auto_close_batches = False`).
    fn close_batch(&self, py: Python<'_>) -> PyResult<()>;
}

/// What a source object shares with its driver: the poster once started, and the settings
/// the object makes (`auto_close_batches`, `set_transport_name()`).
#[derive(Default)]
pub(crate) struct SourceLink {
    poster: OnceLock<Arc<dyn Poster>>,
    /// False: messages wait for `close_batch()`.
    manual_batches: AtomicBool,
    transport: Mutex<Option<String>>,
    /// Whether `transport` was ever set (read on every post without the lock).
    has_transport: AtomicBool,
}

impl SourceLink {
    /// Attaches the running driver (once: an object serves one driver).
    pub(crate) fn attach(&self, poster: Arc<dyn Poster>) {
        let _ = self.poster.set(poster);
    }

    /// Whether each posted message is its own batch (the default).
    pub(crate) fn auto_close_batches(&self) -> bool {
        !self.manual_batches.load(Ordering::Relaxed)
    }

    /// The `$TRANSPORT` the object asked for, if any.
    pub(crate) fn transport(&self) -> Option<String> {
        if !self.has_transport.load(Ordering::Acquire) {
            return None;
        }
        self.transport
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_transport(&self, name: String) {
        *self.transport.lock().unwrap_or_else(|p| p.into_inner()) = Some(name);
        self.has_transport.store(true, Ordering::Release);
    }
}

/// `syslogng.LogSource`: `run()` posts messages with `post_message()`; `request_exit()`
/// makes it return.
#[pyclass(name = "LogSource", module = "syslogng", subclass, frozen)]
pub(crate) struct PyLogSource {
    pub(crate) link: SourceLink,
}

#[pymethods]
impl PyLogSource {
    /// Accepts and ignores any arguments, so subclasses may define their own `__init__`.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        PyLogSource {
            link: SourceLink::default(),
        }
    }

    /// Sends a message into the log paths; only from the thread running `run()`. Blocks
    /// while flow control holds the source, unless the class defines `suspend()`/`wakeup()`.
    fn post_message(&self, py: Python<'_>, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        let Ok(msg) = msg.cast::<PyLogMessage>() else {
            return Err(PyTypeError::new_err(
                "LogMessage expected in the first parameter",
            ));
        };
        match self.link.poster.get() {
            Some(p) => p.post(py, msg),
            None => Err(PyRuntimeError::new_err(
                "post_message() called on a LogSource that is not running as a python() source",
            )),
        }
    }

    /// Sends the messages posted since the last batch, as one batch.
    fn close_batch(&self, py: Python<'_>) -> PyResult<()> {
        match self.link.poster.get() {
            Some(p) => p.close_batch(py),
            None => Err(PyRuntimeError::new_err(
                "close_batch() called on a LogSource that is not running as a python() source",
            )),
        }
    }

    /// Sets `$TRANSPORT` of the messages posted from now on.
    fn set_transport_name(&self, name: String) {
        self.link.set_transport(name);
    }

    /// True (default): every posted message is a batch of its own; False: messages are
    /// sent at `close_batch()`.
    #[getter]
    fn get_auto_close_batches(&self) -> bool {
        self.link.auto_close_batches()
    }

    #[setter]
    fn set_auto_close_batches(&self, on: bool) {
        self.link.manual_batches.store(!on, Ordering::Relaxed);
    }

    /// syslog-ng's default `init()`.
    #[pyo3(signature = (_options=None))]
    fn init(&self, _options: Option<&Bound<'_, PyAny>>) -> bool {
        true
    }

    fn deinit(&self) {}

    fn run(&self) -> PyResult<()> {
        Err(PyNotImplementedError::new_err(()))
    }

    fn request_exit(&self) -> PyResult<()> {
        Err(PyNotImplementedError::new_err(()))
    }
}

/// `syslogng.LogFetcher` (syslog-ng 3.38's `FETCH_*` values, which `fetch()` returns, and
/// the short names AxoSyslog documents).
#[pyclass(name = "LogFetcher", module = "syslogng", subclass, frozen)]
pub(crate) struct PyLogFetcher {
    pub(crate) link: SourceLink,
}

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
    /// The spelling one paragraph of the documentation uses for `FETCH_NO_DATA`.
    #[classattr]
    const FETCH_TRY_NO_DATA: i32 = 4;
    #[classattr]
    const ERROR: i32 = 0;
    #[classattr]
    const NOT_CONNECTED: i32 = 1;
    #[classattr]
    const SUCCESS: i32 = 2;
    #[classattr]
    const TRY_AGAIN: i32 = 3;
    #[classattr]
    const NO_DATA: i32 = 4;

    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> Self {
        PyLogFetcher {
            link: SourceLink::default(),
        }
    }

    /// Sets `$TRANSPORT` of the messages fetched from now on.
    fn set_transport_name(&self, name: String) {
        self.link.set_transport(name);
    }

    #[pyo3(signature = (_options=None))]
    fn init(&self, _options: Option<&Bound<'_, PyAny>>) -> bool {
        true
    }

    fn deinit(&self) {}

    fn fetch(&self) -> PyResult<()> {
        Err(PyNotImplementedError::new_err(()))
    }
}

/// Which acknowledgement rule a tracker follows (seed 003, "Acknowledgement tracking
/// strategies").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrackerKind {
    /// Each message's bookmark as soon as it is delivered, in delivery order.
    Instant,
    /// The last bookmark of the longest delivered prefix of the stream.
    Consecutive,
    /// Delivered bookmarks as a list, every `timeout_ms` or `batch_size` of them.
    Batched { timeout_ms: u64, batch_size: usize },
}

/// The common base of the three trackers: which rule, and the callback.
#[pyclass(name = "AckTracker", module = "syslogng", subclass, frozen)]
pub(crate) struct PyAckTracker {
    pub(crate) kind: TrackerKind,
    pub(crate) callback: Py<PyAny>,
}

fn tracker(kind: TrackerKind, callback: Bound<'_, PyAny>, what: &str) -> PyResult<PyAckTracker> {
    if !callback.is_callable() {
        return Err(PyTypeError::new_err(format!(
            "A callable object is expected ({what})"
        )));
    }
    Ok(PyAckTracker {
        kind,
        callback: callback.unbind(),
    })
}

/// `InstantAckTracker(ack_callback)`.
#[pyclass(name = "InstantAckTracker", module = "syslogng", extends = PyAckTracker, subclass, frozen)]
pub(crate) struct PyInstantAckTracker;

#[pymethods]
impl PyInstantAckTracker {
    #[new]
    fn new(ack_callback: Bound<'_, PyAny>) -> PyResult<PyClassInitializer<Self>> {
        let base = tracker(TrackerKind::Instant, ack_callback, "ack_callback")?;
        Ok(PyClassInitializer::from(base).add_subclass(PyInstantAckTracker))
    }
}

/// `ConsecutiveAckTracker(ack_callback)`.
#[pyclass(name = "ConsecutiveAckTracker", module = "syslogng", extends = PyAckTracker, subclass, frozen)]
pub(crate) struct PyConsecutiveAckTracker;

#[pymethods]
impl PyConsecutiveAckTracker {
    #[new]
    fn new(ack_callback: Bound<'_, PyAny>) -> PyResult<PyClassInitializer<Self>> {
        let base = tracker(TrackerKind::Consecutive, ack_callback, "ack_callback")?;
        Ok(PyClassInitializer::from(base).add_subclass(PyConsecutiveAckTracker))
    }
}

/// `BatchedAckTracker(timeout, batch_size, batched_ack_callback)`: `timeout` in
/// milliseconds.
#[pyclass(name = "BatchedAckTracker", module = "syslogng", extends = PyAckTracker, subclass, frozen)]
pub(crate) struct PyBatchedAckTracker;

#[pymethods]
impl PyBatchedAckTracker {
    #[new]
    fn new(
        timeout: u64,
        batch_size: usize,
        batched_ack_callback: Bound<'_, PyAny>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let kind = TrackerKind::Batched {
            timeout_ms: timeout,
            batch_size: batch_size.max(1),
        };
        let base = tracker(kind, batched_ack_callback, "batched_ack_callback")?;
        Ok(PyClassInitializer::from(base).add_subclass(PyBatchedAckTracker))
    }
}

/// The link of a source object: `LogSource` or `LogFetcher` (None for other classes).
pub(crate) fn link_of<'a>(instance: &'a Bound<'_, PyAny>) -> Option<&'a SourceLink> {
    if let Ok(s) = instance.cast::<PyLogSource>() {
        return Some(&s.get().link);
    }
    if let Ok(f) = instance.cast::<PyLogFetcher>() {
        return Some(&f.get().link);
    }
    None
}
