//! What a Python source's thread does with a message it got from Python: take a credit of
//! the source's flow-control window, add the source's touches, route it into a batch with
//! its bookmark, send the batch. And how that thread waits — for credits, for a delay, for
//! the graph to stop — without an async runtime: [`run_until`] polls the runtime's
//! primitives (the window's `Notify`, the stop `watch`), which need no reactor, parking the
//! thread in between.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Instant;

use pyo3::prelude::*;
use tokio::sync::watch;

use super::handoff::Handoff;
use super::tracker::Tracker;
use crate::actors::runtime::ack::Window;
use crate::actors::runtime::counters::DropReason;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::actors::sources::line_source::stopped;
use crate::message::LogMessage;

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` on the calling thread until it completes (`Some`) or `deadline` passes
/// (`None`).
pub(super) fn run_until<F: Future>(fut: F, deadline: Option<Instant>) -> Option<F::Output> {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
        match deadline {
            None => std::thread::park(),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return None;
                }
                std::thread::park_timeout(d - now);
            }
        }
    }
}

/// Waits until `deadline` or the graph stops; true when it stopped.
pub(super) fn sleep_or_stop(stop: &watch::Receiver<bool>, deadline: Instant) -> bool {
    let mut stop = stop.clone();
    run_until(stopped(&mut stop), Some(deadline)).is_some()
}

/// Whether the graph is stopping.
pub(super) fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

/// Why a message could not be sent.
pub(super) enum EmitError {
    /// It has a bookmark, but the object set no `ack_tracker`.
    NoTracker,
}

/// A Python source's sending side (one per source, used by its thread).
pub(super) struct Emitter {
    pub(super) ingest: Arc<Ingest>,
    window: Arc<Window>,
    tracker: Option<Arc<Tracker>>,
    /// With a tracker: what a reload waits for (see [`super::handoff`]).
    handoff: Option<Arc<Handoff>>,
    batch: Batcher,
    /// The bookmark sequence number of the open batch (a tracker is set).
    open_seq: Option<u64>,
    /// Whether a batch is open.
    open: bool,
    /// Credits taken from the window and not used yet.
    credits: u32,
}

impl Emitter {
    pub(super) fn new(
        ingest: Arc<Ingest>,
        window: Arc<Window>,
        tracker: Option<Arc<Tracker>>,
        driver: &str,
    ) -> Self {
        let handoff = tracker
            .as_ref()
            .map(|t| Handoff::register(ingest.gate.clone(), t.clone(), driver));
        Emitter {
            ingest,
            window,
            tracker,
            handoff,
            batch: Batcher::default(),
            open_seq: None,
            open: false,
            credits: 0,
        }
    }

    /// Whether messages may carry bookmarks (the object set an ack tracker).
    pub(super) fn tracks(&self) -> bool {
        self.tracker.is_some()
    }

    /// Whether the window has room for a message (none while a reload holds the source).
    /// True starts a send, which [`Emitter::flush`] ends.
    pub(super) fn free_to_send(&mut self) -> bool {
        if let Some(h) = &self.handoff
            && !h.may_produce()
        {
            return false;
        }
        if self.credits == 0 {
            self.credits = self.window.try_acquire();
        }
        if self.credits == 0 {
            self.sent();
            return false;
        }
        true
    }

    /// The send in progress is over (a reload need not wait for this thread).
    fn sent(&self) {
        if let Some(h) = &self.handoff {
            h.produced();
        }
    }

    /// Adds credits a waiter took from the window.
    pub(super) fn add_credits(&mut self, n: u32) {
        self.credits += n;
    }

    /// The window, for a waiter.
    pub(super) fn window(&self) -> &Arc<Window> {
        &self.window
    }

    /// Counts a message dropped by the source itself.
    pub(super) fn count_dropped(&self) {
        self.ingest
            .counters
            .dropped_for(DropReason::PostedWhileSuspended, 1);
    }

    /// Routes `msg` (with its Python bookmark) into the open batch, using one credit; the
    /// caller checked [`Emitter::free_to_send`]. Returns the message as routed, for the
    /// Python view to show.
    pub(super) fn add(
        &mut self,
        mut msg: Arc<LogMessage>,
        bookmark: Option<Py<PyAny>>,
        transport: Option<&str>,
    ) -> Result<Arc<LogMessage>, EmitError> {
        if bookmark.is_some() && self.tracker.is_none() {
            return Err(EmitError::NoTracker);
        }
        if !self.open {
            match &self.tracker {
                Some(t) => {
                    let b = t.open();
                    self.open_seq = Some(b.seq);
                    self.ingest
                        .begin_with_bookmark(&mut self.batch, &self.window, 0, Some(b));
                }
                None => self.ingest.begin(&mut self.batch, Some(&self.window), 0),
            }
            self.open = true;
        }
        if let (Some(b), Some(t), Some(seq)) = (bookmark, &self.tracker, self.open_seq) {
            t.add(seq, b);
        }
        // Changed in place when Python holds no other reference (the usual case), copied
        // otherwise: what a view still shows must not change under it.
        let m = Arc::make_mut(&mut msg);
        if let Some(t) = transport {
            m.set("TRANSPORT", t.as_bytes());
        }
        // syslog-ng's log_source_post: the host-name rules (keep-hostname(), chain-hostnames())
        // with the local host as the sender, whatever HOST the Python code set.
        crate::message::mangle_hostname(m, &self.ingest.parse, None);
        self.ingest.touch(m);
        self.ingest.route_shared(&mut self.batch, msg.clone());
        self.credits = self.credits.saturating_sub(1);
        Ok(msg)
    }

    /// Messages in the open batch.
    pub(super) fn pending(&self) -> usize {
        self.batch.len()
    }

    /// Sends the open batch, if any; ends the send in progress.
    pub(super) fn flush(&mut self) {
        self.sent();
        if self.open {
            self.ingest.flush(&mut self.batch);
            self.open = false;
            self.open_seq = None;
        }
    }

    /// Sends the open batch and waits, without the GIL, until the window has room (true) or
    /// the graph stops (false).
    pub(super) fn wait_for_room(&mut self, py: Python<'_>, stop: &watch::Receiver<bool>) -> bool {
        self.flush();
        if self.free_to_send() {
            return true;
        }
        let window = self.window.clone();
        let mut stop = stop.clone();
        let got = py.detach(move || {
            run_until(
                async move {
                    tokio::select! {
                        n = window.acquire() => Some(n),
                        _ = stopped(&mut stop) => None,
                    }
                },
                None,
            )
            .flatten()
        });
        match got {
            Some(n) => {
                self.credits += n;
                true
            }
            None => false,
        }
    }
}

impl Drop for Emitter {
    fn drop(&mut self) {
        self.flush();
        // Credits taken and not used go back (a later source of the same window: none, but
        // the window's count stays true for stats).
        self.window.put_back(self.credits);
    }
}
