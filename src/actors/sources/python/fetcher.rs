//! The `python-fetcher()` loop, on a thread of its own (`fetch()` may block): syslog-ng's
//! threaded fetcher (`logthrfetcherdrv.c`).
//!
//! `open()` first (when the class has one), again every `time-reopen()` until it returns
//! True. Then `fetch()` as long as the window has room, by its status: `FETCH_SUCCESS` —
//! the message is sent (a batch of its own, as syslog-ng's auto-closed batches);
//! `FETCH_TRY_AGAIN` — at once again; `FETCH_NO_DATA` — again after
//! `fetch-no-data-delay()`; `FETCH_NOT_CONNECTED` — `open()` after `time-reopen()`;
//! `FETCH_ERROR` (also an exception, or a result that is not a `(status, LogMessage)`
//! tuple) — `close()`, then `open()` after `time-reopen()`. An empty window waits, without
//! the GIL, for credits. When the graph stops, `request_exit()` is called from another
//! thread (see `mod.rs`), the loop ends at its next turn, then `close()` and `deinit()`.
//!
//! The GIL is taken once per run of successful fetches (up to [`FETCHES_PER_ATTACH`]), not
//! once per message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tokio::sync::watch;

use super::ExitRequested;
use super::emit::{EmitError, Emitter, sleep_or_stop, stopping};
use crate::python::logmsg::PyLogMessage;
use crate::python::object::DriverObject;
use crate::python::source_classes::link_of;

/// Fetches made with one acquisition of the GIL (other Python threads still get it at
/// CPython's switch interval).
const FETCHES_PER_ATTACH: usize = 256;

/// The fetcher's timing.
#[derive(Debug, Clone)]
pub(super) struct FetchPlan {
    pub(super) time_reopen: Duration,
    pub(super) no_data_delay: Duration,
}

/// What a run of fetches ended with.
enum Next {
    /// The window is full.
    Full,
    /// More may come at once.
    Again,
    NoData,
    NotConnected,
    Error,
    Stop,
}

/// Runs the fetcher until the graph stops; then, once `request_exit()` has returned,
/// `close()` and `deinit()`.
pub(super) fn run(
    object: &DriverObject,
    mut emitter: Emitter,
    plan: &FetchPlan,
    stop: &watch::Receiver<bool>,
    exit_requested: &ExitRequested,
) {
    crate::python::interpreter::keep_thread_state();
    let mut connected = false;
    while !stopping(stop) {
        if !connected {
            connected = Python::attach(|py| open(py, object));
            if !connected {
                tracing::debug!(driver = %object.driver, "Error establishing connection");
                if sleep_or_stop(stop, Instant::now() + plan.time_reopen) {
                    break;
                }
                continue;
            }
        }
        let next = Python::attach(|py| {
            if !emitter.free_to_send() && !emitter.wait_for_room(py, stop) {
                return Next::Stop;
            }
            fetch_run(py, object, &mut emitter, stop)
        });
        emitter.flush();
        let wait = match next {
            Next::Full | Next::Again => None,
            Next::Stop => break,
            Next::NoData => {
                tracing::debug!(driver = %object.driver, "No data during fetching messages");
                Some(plan.no_data_delay)
            }
            Next::NotConnected => {
                tracing::info!(driver = %object.driver,
                    "Fetcher disconnected while receiving messages, reconnecting");
                connected = false;
                Some(plan.time_reopen)
            }
            Next::Error => {
                tracing::error!(driver = %object.driver, "Error during fetching messages");
                Python::attach(|py| drop(object.call_optional(py, "close")));
                connected = false;
                Some(plan.time_reopen)
            }
        };
        if let Some(d) = wait
            && sleep_or_stop(stop, Instant::now() + d)
        {
            break;
        }
    }
    drop(emitter);
    exit_requested.wait();
    Python::attach(|py| {
        object.call_optional(py, "close");
        object.deinit(py);
    });
}

/// `open()`: True when the class has none.
fn open(py: Python<'_>, object: &DriverObject) -> bool {
    if object.method(py, "open").is_none() {
        return true;
    }
    object
        .call_optional(py, "open")
        .is_some_and(|v| v.is_truthy().unwrap_or(false))
}

/// Fetches while messages come and the window has room.
fn fetch_run(
    py: Python<'_>,
    object: &DriverObject,
    emitter: &mut Emitter,
    stop: &watch::Receiver<bool>,
) -> Next {
    let Some(fetch) = object.method(py, "fetch") else {
        return Next::Error;
    };
    let instance = object.instance.bind(py);
    for _ in 0..FETCHES_PER_ATTACH {
        if stopping(stop) {
            return Next::Stop;
        }
        if !emitter.free_to_send() {
            return Next::Full;
        }
        let ret = match fetch.call0() {
            Ok(r) => r,
            Err(e) => {
                object.log(py, &e);
                bad_result(object);
                return Next::Error;
            }
        };
        let Some((status, msg)) = result(&ret) else {
            bad_result(object);
            return Next::Error;
        };
        match status {
            2 => {
                let Some(msg) = msg else {
                    bad_result(object);
                    return Next::Error;
                };
                let mut view = msg.borrow_mut();
                let bookmark = view.bookmark().map(|b| b.clone_ref(py));
                if bookmark.is_some() && !emitter.tracks() {
                    tracing::error!(driver = %object.driver, class = %object.class,
                        "Error in Python fetcher, bookmarks can not be used without creating \
                         an AckTracker instance (self.ack_tracker)");
                    return Next::Error;
                }
                let transport = link_of(instance).and_then(|l| l.transport());
                let message = view.take_message();
                match emitter.add(message, bookmark, transport.as_deref()) {
                    Ok(posted) => view.share(posted),
                    Err(EmitError::NoTracker) => return Next::Error,
                }
                drop(view);
                emitter.flush();
            }
            3 => return Next::Again,
            4 => return Next::NoData,
            1 => return Next::NotConnected,
            _ => return Next::Error,
        }
    }
    Next::Again
}

fn bad_result(object: &DriverObject) {
    tracing::error!(driver = %object.driver, class = %object.class,
        "Error in Python fetcher, fetch() must return a tuple (FetchResult, LogMessage)");
}

/// `(status, LogMessage)` (the message only with `FETCH_SUCCESS`); None when malformed.
fn result<'py>(ret: &Bound<'py, PyAny>) -> Option<(i64, Option<Bound<'py, PyLogMessage>>)> {
    let t = ret.cast::<PyTuple>().ok()?;
    if t.len() > 2 {
        return None;
    }
    let status: i64 = t.get_item(0).ok()?.extract().ok()?;
    if !(0..=4).contains(&status) {
        return None;
    }
    let msg = t
        .get_item(1)
        .ok()
        .and_then(|m| m.cast_into::<PyLogMessage>().ok());
    Some((status, msg))
}

/// The fetcher's thread: [`run`], then the done signal.
pub(super) fn spawn(
    object: Arc<DriverObject>,
    emitter: Emitter,
    plan: FetchPlan,
    stop: watch::Receiver<bool>,
    exit_requested: Arc<ExitRequested>,
    done: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("py-fetcher".into())
        .spawn(move || {
            run(&object, emitter, &plan, &stop, &exit_requested);
            done();
        })
        .map(drop)
}
