//! The `python()` source (`LogSource`) at run time: `run()` on a thread of its own, posting
//! through [`SourcePoster`] (syslog-ng's `python-source.c` and threaded source).
//!
//! `post_message()` works only on that thread (elsewhere: RuntimeError, as syslog-ng, whose
//! posting from a foreign thread could crash it). Each message is a batch of its own unless
//! the object set `auto_close_batches = False` (then `close_batch()` sends). Flow control:
//! when a post leaves the window empty, a class without `suspend()` blocks in
//! `post_message()` — without the GIL — until credits return (or the graph stops); a class
//! with `suspend()`/`wakeup()` gets `suspend()` at once and `wakeup()` from the source's
//! waker thread when credits return, and a message it posts in between is dropped with
//! syslog-ng's "Incorrectly suspended source, dropping message" and counted. The GIL
//! orders the window check, `suspend()` and `wakeup()`, as in syslog-ng.
//!
//! An exception out of `run()` is logged with its traceback and stops this source only;
//! `deinit()` follows when `run()` has returned.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::ThreadId;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::sync::watch;

use super::emit::{EmitError, Emitter, run_until, stopping};
use crate::actors::sources::line_source::stopped;
use crate::python::logmsg::PyLogMessage;
use crate::python::object::DriverObject;
use crate::python::source_classes::{Poster, link_of};

/// The running side of a `LogSource` object.
pub(super) struct SourcePoster {
    object: Arc<DriverObject>,
    emitter: Mutex<Emitter>,
    /// The thread running `run()`.
    thread: OnceLock<ThreadId>,
    /// The class has `suspend()`/`wakeup()`.
    suspends: bool,
    suspended: AtomicBool,
    /// Raised when the source is suspended: the waker thread waits for credits then.
    wake_needed: (Mutex<bool>, Condvar),
    stop: watch::Receiver<bool>,
}

impl SourcePoster {
    pub(super) fn new(
        object: Arc<DriverObject>,
        emitter: Emitter,
        suspends: bool,
        stop: watch::Receiver<bool>,
    ) -> Arc<SourcePoster> {
        Arc::new(SourcePoster {
            object,
            emitter: Mutex::new(emitter),
            thread: OnceLock::new(),
            suspends,
            suspended: AtomicBool::new(false),
            wake_needed: (Mutex::new(false), Condvar::new()),
            stop,
        })
    }

    fn emitter(&self) -> std::sync::MutexGuard<'_, Emitter> {
        // Only the run() thread and the waker take it, each leaving it consistent.
        self.emitter.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_thread(&self, what: &str) -> PyResult<()> {
        if self.thread.get() != Some(&std::thread::current().id()) {
            return Err(PyRuntimeError::new_err(format!(
                "{what} must be called from main thread"
            )));
        }
        Ok(())
    }

    /// After a post or a batch: a full window suspends the source or blocks the caller.
    fn after_send(&self, py: Python<'_>, emitter: &mut Emitter) {
        if emitter.free_to_send() {
            return;
        }
        emitter.flush();
        if self.suspends {
            self.suspended.store(true, Ordering::Release);
            self.object.call_optional(py, "suspend");
            let (lock, cv) = &self.wake_needed;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = true;
            cv.notify_one();
        } else {
            emitter.wait_for_room(py, &self.stop);
        }
    }

    /// The waker thread of a class with `suspend()`: waits for the source to be suspended,
    /// then for credits, then calls `wakeup()`; ends when the graph stops.
    fn wake_loop(&self) {
        crate::python::interpreter::keep_thread_state();
        let (lock, cv) = &self.wake_needed;
        loop {
            {
                let mut needed = lock.lock().unwrap_or_else(|p| p.into_inner());
                while !*needed {
                    if stopping(&self.stop) {
                        return;
                    }
                    let (g, _) = cv
                        .wait_timeout(needed, std::time::Duration::from_millis(200))
                        .unwrap_or_else(|p| p.into_inner());
                    needed = g;
                }
                *needed = false;
            }
            let window = self.emitter().window().clone();
            let mut stop = self.stop.clone();
            let got = run_until(
                async move {
                    tokio::select! {
                        n = window.acquire() => Some(n),
                        _ = stopped(&mut stop) => None,
                    }
                },
                None,
            )
            .flatten();
            let Some(n) = got else {
                return;
            };
            Python::attach(|py| {
                self.emitter().add_credits(n);
                self.suspended.store(false, Ordering::Release);
                self.object.call_optional(py, "wakeup");
            });
        }
    }
}

impl Poster for SourcePoster {
    fn post(&self, py: Python<'_>, msg: &PyLogMessage) -> PyResult<()> {
        self.check_thread("post_message")?;
        let mut emitter = self.emitter();
        if self.suspended.load(Ordering::Acquire) || !emitter.free_to_send() {
            tracing::error!(driver = %self.object.driver,
                "python-source: Incorrectly suspended source, dropping message");
            emitter.count_dropped();
            return Ok(());
        }
        let instance = self.object.instance.bind(py);
        let link = link_of(instance);
        let transport = link.and_then(|l| l.transport());
        let bookmark = msg.bookmark().map(|b| b.clone_ref(py));
        let message = (**msg.message()).clone();
        if let Err(EmitError::NoTracker) = emitter.add(message, bookmark, transport.as_deref()) {
            return Err(PyRuntimeError::new_err(
                "Bookmarks can not be used without creating an AckTracker instance \
                 (self.ack_tracker)",
            ));
        }
        if link.is_none_or(|l| l.auto_close_batches()) {
            emitter.flush();
        }
        self.after_send(py, &mut emitter);
        Ok(())
    }

    fn close_batch(&self, py: Python<'_>) -> PyResult<()> {
        self.check_thread("close_batch()")?;
        let mut emitter = self.emitter();
        emitter.flush();
        self.after_send(py, &mut emitter);
        Ok(())
    }
}

/// Starts `run()` on its own thread (and the waker, for a class with `suspend()`);
/// `done` is called when `run()` has returned, what it posted is sent and `deinit()` ran.
pub(super) fn spawn(
    poster: Arc<SourcePoster>,
    done: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    if poster.suspends {
        let p = poster.clone();
        std::thread::Builder::new()
            .name("py-src-wake".into())
            .spawn(move || p.wake_loop())?;
    }
    std::thread::Builder::new()
        .name("py-source".into())
        .spawn(move || {
            let _ = poster.thread.set(std::thread::current().id());
            crate::python::interpreter::keep_thread_state();
            Python::attach(|py| {
                if let Some(run) = poster.object.method(py, "run")
                    && let Err(e) = run.call0()
                {
                    poster.object.log(py, &e);
                    tracing::error!(driver = %poster.object.driver,
                        class = %poster.object.class,
                        "python-source: run() raised an exception; the source stops");
                }
            });
            poster.emitter().flush();
            Python::attach(|py| poster.object.deinit(py));
            done();
        })
        .map(drop)
}
