//! The `python()` source (`LogSource`) at run time: `run()` on a thread of its own, posting
//! through [`SourcePoster`] (syslog-ng's `python-source.c` and threaded source).
//!
//! `post_message()` works only on that thread (elsewhere: RuntimeError, as syslog-ng, whose
//! posting from a foreign thread could crash it). With `auto_close_batches` (the default)
//! posted messages go out together, at [`BATCH_MAX`] messages, when the window is empty, or
//! at the latest [`FLUSH_AFTER`] after the first of them (the source's flusher thread): one
//! queue push and one acknowledgement for many messages instead of one each. A source with
//! an ack tracker sends each message alone: a batch is acknowledged as a whole, and each
//! bookmark must be reported when its own message is delivered. With
//! `auto_close_batches = False`,
//! `close_batch()` sends. Flow control:
//! when a post leaves the window empty, a class without `suspend()` blocks in
//! `post_message()` — without the GIL — until credits return (or the graph stops); a class
//! with `suspend()`/`wakeup()` gets `suspend()` at once and `wakeup()` from the source's
//! waker thread when credits return, and a message it posts in between is dropped with
//! syslog-ng's "Incorrectly suspended source, dropping message" and counted. The GIL
//! orders the window check, `suspend()` and `wakeup()`, as in syslog-ng.
//!
//! An exception out of `run()` is logged with its traceback and stops this source only;
//! `deinit()` follows when `run()` has returned.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::sync::watch;

use super::emit::{EmitError, Emitter, run_until, stopping};
use crate::actors::sources::line_source::stopped;
use crate::python::logmsg::PyLogMessage;
use crate::python::object::DriverObject;
use crate::python::source_classes::{Poster, link_of};

thread_local! {
    /// The poster whose `run()` this thread runs (its address; 0: none).
    static RUN_THREAD_OF: Cell<usize> = const { Cell::new(0) };
}

/// How long a posted message may wait for more to go with it.
const FLUSH_AFTER: Duration = Duration::from_millis(1);

/// Messages sent together at most (auto-closed batches): one queue push and one writer
/// wake-up per 256 posts (64 gave 485k msg/s where 256 gives 0.9M, bench/python-source.conf
/// with the window at 384).
const BATCH_MAX: usize = 256;

/// A flag one thread raises and a helper thread waits for (the flusher, the waker).
#[derive(Default)]
struct Signal {
    raised: Mutex<bool>,
    cv: Condvar,
}

impl Signal {
    fn raise(&self) {
        *self.raised.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_one();
    }

    /// Waits until raised and lowers it (true), or until the graph stops (false; looked at
    /// every 200 ms).
    fn take(&self, stop: &watch::Receiver<bool>) -> bool {
        let mut raised = self.raised.lock().unwrap_or_else(|p| p.into_inner());
        while !*raised {
            if stopping(stop) {
                return false;
            }
            let (g, _) = self
                .cv
                .wait_timeout(raised, Duration::from_millis(200))
                .unwrap_or_else(|p| p.into_inner());
            raised = g;
        }
        *raised = false;
        true
    }
}

/// The running side of a `LogSource` object.
pub(super) struct SourcePoster {
    object: Arc<DriverObject>,
    emitter: Mutex<Emitter>,
    /// The class has `suspend()`/`wakeup()`.
    suspends: bool,
    suspended: AtomicBool,
    /// Raised when the source is suspended: the waker thread waits for credits then.
    wake_needed: Signal,
    /// Raised when a batch is left open for the flusher.
    flush_needed: Signal,
    /// `flush_needed` is raised (read on every post without its lock).
    flush_pending: AtomicBool,
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
            suspends,
            suspended: AtomicBool::new(false),
            wake_needed: Signal::default(),
            flush_needed: Signal::default(),
            flush_pending: AtomicBool::new(false),
            stop,
        })
    }

    /// Auto-closed batches: sends now when the batch is full, else leaves it to the
    /// flusher (see the module doc).
    fn auto_flush(&self, emitter: &mut Emitter) {
        // A batch is acknowledged as a whole: with a tracker each message goes alone, so
        // each bookmark is reported when its own message is delivered.
        if emitter.tracks() || emitter.pending() >= BATCH_MAX {
            emitter.flush();
            return;
        }
        if !self.flush_pending.swap(true, Ordering::AcqRel) {
            self.flush_needed.raise();
        }
    }

    /// The flusher thread: sends a batch left open [`FLUSH_AFTER`] ago; ends when the graph
    /// stops (run()'s thread sends what is left when it returns).
    fn flush_loop(&self) {
        while self.flush_needed.take(&self.stop) {
            std::thread::sleep(FLUSH_AFTER);
            self.flush_pending.store(false, Ordering::Release);
            self.emitter().flush();
        }
    }

    fn emitter(&self) -> std::sync::MutexGuard<'_, Emitter> {
        // Only the run() thread and the waker take it, each leaving it consistent.
        self.emitter.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_thread(&self, what: &str) -> PyResult<()> {
        let me = self as *const SourcePoster as usize;
        if RUN_THREAD_OF.with(Cell::get) != me {
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
            self.wake_needed.raise();
        } else {
            emitter.wait_for_room(py, &self.stop);
        }
    }

    /// The waker thread of a class with `suspend()`: waits for the source to be suspended,
    /// then for credits, then calls `wakeup()`; ends when the graph stops.
    fn wake_loop(&self) {
        crate::python::interpreter::keep_thread_state();
        while self.wake_needed.take(&self.stop) {
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
    fn post(&self, py: Python<'_>, msg: &Bound<'_, PyLogMessage>) -> PyResult<()> {
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
        let mut view = msg.borrow_mut();
        let bookmark = view.bookmark().map(|b| b.clone_ref(py));
        if bookmark.is_some() && !emitter.tracks() {
            return Err(PyRuntimeError::new_err(
                "Bookmarks can not be used without creating an AckTracker instance \
                 (self.ack_tracker)",
            ));
        }
        let message = view.take_message();
        match emitter.add(message, bookmark, transport.as_deref()) {
            Ok(posted) => view.share(posted),
            Err(EmitError::NoTracker) => {}
        }
        drop(view);
        if link.is_none_or(|l| l.auto_close_batches()) {
            self.auto_flush(&mut emitter);
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
    let p = poster.clone();
    std::thread::Builder::new()
        .name("py-src-flush".into())
        .spawn(move || p.flush_loop())?;
    std::thread::Builder::new()
        .name("py-source".into())
        .spawn(move || {
            RUN_THREAD_OF.with(|t| t.set(Arc::as_ptr(&poster) as usize));
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
