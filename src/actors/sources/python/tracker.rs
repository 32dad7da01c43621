//! The Python ack trackers at run time: which bookmarks a source's callback gets, and when.
//!
//! Every batch a Python source sends carries a [`Bookmark`] of its [`Tracker`]
//! (`Tracker::open`), with the bookmarks `set_bookmark()` gave its messages. The batch's
//! acknowledgement is the runtime's own ([`BatchAck`](crate::actors::runtime::ack::BatchAck):
//! its last flow-controlled delivery written, or — without `flags(flow-control)`, as in
//! syslog-ng — queued), so a bookmark comes back exactly when the flow-control window gets
//! its credit back. That happens on a destination's thread: [`AckTracker::acked`] only
//! sends an event, and the tracker's own thread applies the rule and calls Python with the
//! GIL — never on a writer or a socket arbiter.
//!
//! The rules (seed 003): *instant* — each bookmark as its batch is delivered, in delivery
//! order; *consecutive* — the last bookmark of the longest delivered prefix of the stream,
//! so an earlier undelivered message holds back the later ones; *batched* — the delivered
//! bookmarks as one list every `timeout` ms, or as soon as `batch_size` are there. A batch
//! discarded undelivered (left in a queue at shutdown) reports nothing, and stops a
//! consecutive tracker for good: its messages are read again on the next run.
//!
//! A reload waits for [`Tracker::drained`] (see [`super::handoff`]) before the new object
//! reads the `Persist` entries the old one's callback writes. Should that wait be cut short,
//! the tracker outlives its source: messages still queued keep it, and their bookmarks are
//! reported when they are delivered, by the old object's callback. Its thread ends when the
//! last bookmark is in (the source and every batch gone).

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use tokio::sync::Notify;

use crate::actors::runtime::ack::{AckTracker, Bookmark, Credits};
use crate::python::source_classes::TrackerKind;

/// A batch's bookmarks, until it is acknowledged.
struct Slot {
    bookmarks: Vec<Py<PyAny>>,
    done: bool,
    aborted: bool,
}

struct State {
    /// Sequence number of `slots.front()`.
    base: u64,
    slots: VecDeque<Slot>,
    /// A batch was discarded: a consecutive tracker reports nothing after it.
    stalled: bool,
    /// Delivered bookmarks a batched tracker has not reported yet.
    batch: Vec<Py<PyAny>>,
}

/// What the tracker's thread calls the callback with.
enum Call {
    One(Py<PyAny>),
    List(Vec<Py<PyAny>>),
}

struct Shared {
    kind: TrackerKind,
    callback: Py<PyAny>,
    state: Mutex<State>,
    driver: String,
    /// Acknowledgements sent whose callbacks have not run yet.
    unreported: AtomicUsize,
    /// A handover waits: a batched tracker reports what it holds as soon as the stream is in.
    report_now: AtomicBool,
    /// Raised after each round of callbacks (a handover's wait).
    reported: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every statement leaves the state consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the tracker's thread gets.
enum Event {
    /// Batch `seq` finished (`true`: aborted), with the credits it returns once reported.
    Acked(u64, bool, Credits),
    /// A handover waits ([`Tracker::drained`]).
    Wake,
}

/// A source's ack tracker (see the module doc).
pub(super) struct Tracker {
    shared: Arc<Shared>,
    events: Sender<Event>,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracker({:?}, {})", self.shared.kind, self.shared.driver)
    }
}

impl Tracker {
    /// A tracker calling `callback` by `kind`'s rule, with its thread started.
    pub(super) fn start(
        kind: TrackerKind,
        callback: Py<PyAny>,
        driver: &str,
    ) -> std::io::Result<Arc<Tracker>> {
        let shared = Arc::new(Shared {
            kind,
            callback,
            state: Mutex::new(State {
                base: 0,
                slots: VecDeque::new(),
                stalled: false,
                batch: Vec::new(),
            }),
            driver: driver.to_string(),
            unreported: AtomicUsize::new(0),
            report_now: AtomicBool::new(false),
            reported: Notify::new(),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let on_thread = shared.clone();
        std::thread::Builder::new()
            .name("py-ack".into())
            .spawn(move || {
                crate::python::interpreter::keep_thread_state();
                dispatch(&on_thread, &rx);
            })?;
        Ok(Arc::new(Tracker { shared, events: tx }))
    }

    /// A bookmark for the next batch.
    pub(super) fn open(self: &Arc<Self>) -> Bookmark {
        let mut s = self.shared.lock();
        let seq = s.base + s.slots.len() as u64;
        s.slots.push_back(Slot {
            bookmarks: Vec::new(),
            done: false,
            aborted: false,
        });
        Bookmark {
            tracker: self.clone(),
            seq,
        }
    }

    /// Whether every bookmark handed to the tracker has been reported (or dropped with an
    /// aborted batch).
    fn is_idle(&self) -> bool {
        if self.shared.unreported.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let s = self.shared.lock();
        s.slots.is_empty() && s.batch.is_empty()
    }

    /// Resolves once every batch opened so far is acknowledged and its bookmarks reported
    /// (a batched tracker reports what it holds without waiting for its timeout).
    pub(super) async fn drained(&self) {
        self.shared.report_now.store(true, Ordering::SeqCst);
        let _ = self.events.send(Event::Wake);
        loop {
            let mut reported = pin!(self.shared.reported.notified());
            reported.as_mut().enable();
            if self.is_idle() {
                return;
            }
            reported.await;
        }
    }

    /// Back to the batched tracker's own timing (a handover was cancelled).
    pub(super) fn report_on_schedule(&self) {
        self.shared.report_now.store(false, Ordering::SeqCst);
    }

    /// Adds a message's bookmark to batch `seq` (before the batch is sent).
    pub(super) fn add(&self, seq: u64, bookmark: Py<PyAny>) {
        let mut s = self.shared.lock();
        let Some(i) = seq.checked_sub(s.base) else {
            return;
        };
        if let Some(slot) = s.slots.get_mut(i as usize) {
            slot.bookmarks.push(bookmark);
        }
    }
}

impl AckTracker for Tracker {
    fn acked(&self, seq: u64, aborted: bool, credits: Credits) {
        // The thread is gone only when this tracker is: nothing is lost by ignoring this
        // (the credits go back as the event is dropped).
        self.shared.unreported.fetch_add(1, Ordering::SeqCst);
        if self
            .events
            .send(Event::Acked(seq, aborted, credits))
            .is_err()
        {
            self.shared.unreported.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Applies one acknowledgement; returns the calls it makes due.
fn on_ack(kind: TrackerKind, s: &mut State, seq: u64, aborted: bool) -> Vec<Call> {
    let mut calls = Vec::new();
    let Some(i) = seq.checked_sub(s.base) else {
        return calls;
    };
    let Some(slot) = s.slots.get_mut(i as usize) else {
        return calls;
    };
    slot.done = true;
    slot.aborted = aborted;
    match kind {
        TrackerKind::Instant if !aborted => {
            calls.extend(
                std::mem::take(&mut slot.bookmarks)
                    .into_iter()
                    .map(Call::One),
            );
        }
        TrackerKind::Batched { batch_size, .. } if !aborted => {
            let delivered = std::mem::take(&mut slot.bookmarks);
            s.batch.extend(delivered);
            while s.batch.len() >= batch_size {
                let rest = s.batch.split_off(batch_size);
                calls.push(Call::List(std::mem::replace(&mut s.batch, rest)));
            }
        }
        _ => {}
    }
    let mut last = None;
    while s.slots.front().is_some_and(|f| f.done) {
        let Some(mut front) = s.slots.pop_front() else {
            break;
        };
        s.base += 1;
        if front.aborted {
            s.stalled = true;
        } else if !s.stalled && kind == TrackerKind::Consecutive {
            last = front.bookmarks.pop().or(last);
        }
    }
    if let Some(b) = last {
        calls.push(Call::One(b));
    }
    calls
}

/// Most acknowledgements handled before the callbacks they make due are called.
const EVENTS_PER_CALL: usize = 1024;

/// The tracker's thread: acknowledgements in, callbacks out. The acknowledgements waiting
/// are taken together (a consecutive tracker then reports only the last bookmark), and
/// their credits go back to the window once the callbacks have run.
fn dispatch(shared: &Shared, events: &Receiver<Event>) {
    let period = match shared.kind {
        TrackerKind::Batched { timeout_ms, .. } if timeout_ms > 0 => {
            Some(Duration::from_millis(timeout_ms))
        }
        _ => None,
    };
    let mut tick = period.map(|p| Instant::now() + p);
    let mut credits = Vec::new();
    loop {
        let first = match tick {
            Some(t) => events.recv_timeout(t.saturating_duration_since(Instant::now())),
            None => events.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        let mut calls = Vec::new();
        let end = match first {
            Ok(event) => {
                let mut state = shared.lock();
                let mut next = Some(event);
                while let Some(event) = next {
                    if let Event::Acked(seq, aborted, c) = event {
                        calls.extend(on_ack(shared.kind, &mut state, seq, aborted));
                        credits.push(c);
                    }
                    next = if credits.len() < EVENTS_PER_CALL {
                        events.try_recv().ok()
                    } else {
                        None
                    };
                }
                if shared.report_now.load(Ordering::SeqCst)
                    && state.slots.is_empty()
                    && !state.batch.is_empty()
                {
                    calls.push(Call::List(std::mem::take(&mut state.batch)));
                }
                drop(state);
                if let (Some(p), true) = (period, calls.iter().any(|c| matches!(c, Call::List(_))))
                {
                    tick = Some(Instant::now() + p);
                }
                if shared.kind == TrackerKind::Consecutive
                    && let Some(last) = calls.pop()
                {
                    calls = vec![last];
                }
                false
            }
            Err(RecvTimeoutError::Timeout) => {
                tick = period.map(|p| Instant::now() + p);
                calls = take_batch(shared);
                false
            }
            Err(RecvTimeoutError::Disconnected) => {
                calls = take_batch(shared);
                true
            }
        };
        if !calls.is_empty() {
            call(shared, calls);
        }
        shared.unreported.fetch_sub(credits.len(), Ordering::SeqCst);
        credits.clear();
        shared.reported.notify_waiters();
        if end {
            return;
        }
    }
}

/// What a batched tracker has collected, as one call (nothing when empty).
fn take_batch(shared: &Shared) -> Vec<Call> {
    let batch = std::mem::take(&mut shared.lock().batch);
    if batch.is_empty() {
        Vec::new()
    } else {
        vec![Call::List(batch)]
    }
}

fn call(shared: &Shared, calls: Vec<Call>) {
    Python::attach(|py| {
        for c in calls {
            let ret = match c {
                Call::One(b) => shared.callback.call1(py, (b,)),
                Call::List(list) => shared.callback.call1(py, (list,)),
            };
            if let Err(e) = ret {
                crate::python::binding::log_exception(
                    py,
                    &e,
                    "Exception while calling a Python function",
                    &shared.driver,
                    "ack_callback",
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(n: usize) -> State {
        State {
            base: 0,
            slots: (0..n)
                .map(|_| Slot {
                    bookmarks: Vec::new(),
                    done: false,
                    aborted: false,
                })
                .collect(),
            stalled: false,
            batch: Vec::new(),
        }
    }

    /// The bookmark values of `calls` (ints), a list as a negative marker then its items.
    fn values(py: Python<'_>, calls: Vec<Call>) -> Vec<Vec<i64>> {
        calls
            .into_iter()
            .map(|c| match c {
                Call::One(b) => vec![b.extract::<i64>(py).unwrap_or(-99)],
                Call::List(l) => l
                    .iter()
                    .map(|b| b.extract::<i64>(py).unwrap_or(-99))
                    .collect(),
            })
            .collect()
    }

    fn fill(py: Python<'_>, s: &mut State) {
        for (i, slot) in s.slots.iter_mut().enumerate() {
            let Ok(v) = (i as i64 + 1).into_pyobject(py);
            slot.bookmarks.push(v.into_any().unbind());
        }
    }

    #[test]
    fn consecutive_reports_only_the_delivered_prefix() {
        crate::python::ensure_initialized().expect("interpreter");
        Python::attach(|py| {
            let mut s = state(4);
            fill(py, &mut s);
            let k = TrackerKind::Consecutive;
            assert!(values(py, on_ack(k, &mut s, 2, false)).is_empty());
            assert!(values(py, on_ack(k, &mut s, 1, false)).is_empty());
            assert_eq!(values(py, on_ack(k, &mut s, 0, false)), vec![vec![3]]);
            assert_eq!(values(py, on_ack(k, &mut s, 3, false)), vec![vec![4]]);
            assert_eq!(s.base, 4);
        });
    }

    #[test]
    fn an_aborted_batch_stops_a_consecutive_tracker() {
        crate::python::ensure_initialized().expect("interpreter");
        Python::attach(|py| {
            let mut s = state(3);
            fill(py, &mut s);
            let k = TrackerKind::Consecutive;
            assert!(values(py, on_ack(k, &mut s, 0, true)).is_empty());
            assert!(values(py, on_ack(k, &mut s, 1, false)).is_empty());
            assert!(s.stalled);
        });
    }

    #[test]
    fn instant_reports_in_delivery_order() {
        crate::python::ensure_initialized().expect("interpreter");
        Python::attach(|py| {
            let mut s = state(3);
            fill(py, &mut s);
            let k = TrackerKind::Instant;
            assert_eq!(values(py, on_ack(k, &mut s, 2, false)), vec![vec![3]]);
            assert_eq!(values(py, on_ack(k, &mut s, 0, false)), vec![vec![1]]);
            assert!(values(py, on_ack(k, &mut s, 1, true)).is_empty());
        });
    }

    #[test]
    fn batched_reports_full_batches_at_once() {
        crate::python::ensure_initialized().expect("interpreter");
        Python::attach(|py| {
            let mut s = state(5);
            fill(py, &mut s);
            let k = TrackerKind::Batched {
                timeout_ms: 0,
                batch_size: 2,
            };
            assert!(values(py, on_ack(k, &mut s, 4, false)).is_empty());
            assert_eq!(values(py, on_ack(k, &mut s, 1, false)), vec![vec![5, 2]]);
            assert!(values(py, on_ack(k, &mut s, 0, false)).is_empty());
            assert_eq!(s.batch.len(), 1);
        });
    }

    /// A handover's wait: `drained()` resolves only once the delivered batch's bookmark
    /// went through the callback — a batched tracker's partial batch too, without its
    /// timeout — and the window has its credits back by then.
    #[test]
    fn drained_resolves_once_the_callback_has_run() {
        use crate::actors::runtime::ack::{BatchAck, Window};
        crate::python::ensure_initialized().expect("interpreter");
        let (callback, seen) = Python::attach(|py| {
            let seen = pyo3::types::PyList::empty(py);
            let append = seen.getattr("append").expect("append").unbind();
            (append, seen.unbind())
        });
        let kind = TrackerKind::Batched {
            timeout_ms: 3_600_000,
            batch_size: 100,
        };
        let tracker = Tracker::start(kind, callback, "test").expect("tracker");
        let window = Window::new(4);
        assert_eq!(window.try_acquire(), 4);
        let bookmark = tracker.open();
        Python::attach(|py| {
            let Ok(v) = 7i64.into_pyobject(py);
            tracker.add(bookmark.seq, v.into_any().unbind());
        });
        let ack = BatchAck::with_bookmark(window.clone(), 4, Some(bookmark));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut wait = std::pin::pin!(tracker.drained());
            assert!(
                futures_poll_once(wait.as_mut()).await.is_none(),
                "drained in flight"
            );
            drop(ack);
            wait.await;
        });
        Python::attach(|py| {
            let seen = seen.bind(py);
            assert_eq!(seen.len(), 1);
            let reported: Vec<i64> = seen.get_item(0).expect("item").extract().expect("list");
            assert_eq!(reported, vec![7]);
        });
        assert_eq!(window.available(), 4);
    }

    /// Polls `f` once: `Some` when it was ready.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
