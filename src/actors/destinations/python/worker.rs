//! The worker loop of a `python()` destination: syslog-ng's threaded destination
//! (`LogThreadedDestDriver`) rules, on the destination's own thread.
//!
//! Not connected: `open()`, and again every `time-reopen()` while it fails. Connected: the
//! messages waiting in the queue are taken as one batch and handed to `send()` one by one
//! under one GIL acquisition; each result is handled as syslog-ng does:
//! - SUCCESS: every message sent since the last acknowledgement (the batch in hand) is
//!   acknowledged and counted written;
//! - QUEUED: the message stays in hand; batching is on, and `flush()` is called once
//!   `batch-lines()` are in hand (with `batch-lines()` unset: after every message), when
//!   the queue is empty, or `batch-timeout()` ms after the first message of the batch;
//! - DROP: the messages in hand are dropped (counted), `close()`, wait `time-reopen()`;
//! - ERROR: the messages in hand go back to the head of the queue, `close()`, wait
//!   `time-reopen()`, `open()`, send again — after `retries()` failures in a row they are
//!   dropped (counted) and the next message goes on;
//! - NOT_CONNECTED: back to the queue, `close()`, wait, `open()`;
//! - RETRY: back to the queue and sent again at once; after `retries()` in a row it counts
//!   as NOT_CONNECTED.
//!   `flush()`'s result is handled the same way, for the whole batch in hand.
//!
//! Stopping (the queue closed and empty, or detached by a reload): a last `flush()`, what
//! is still in hand goes back to the queue (a reload hands it to the next configuration),
//! `close()`, `deinit()`.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::time::Instant;

use super::object::DestObject;
use crate::actors::destinations::writer::{MAX_BATCH, Throttle};
use crate::actors::runtime::counters::{Counters, DropReason};
use crate::actors::runtime::queue::{Entry, Queue};

/// What a destination method returned (syslog-ng's `LogThreadedResult`; the numbers are the
/// constants the Python class sees).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Drop,
    Error,
    Success,
    Queued,
    NotConnected,
    Retry,
}

impl Outcome {
    /// The constant `code` stands for (`EXPLICIT_ACK_MGMT`, 2, is not one a Python
    /// destination may return).
    pub(crate) fn from_code(code: i64) -> Option<Outcome> {
        Some(match code {
            0 => Outcome::Drop,
            1 => Outcome::Error,
            3 => Outcome::Success,
            4 => Outcome::Queued,
            5 => Outcome::NotConnected,
            6 => Outcome::Retry,
            _ => return None,
        })
    }
}

/// What the loop runs with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct WorkerPlan {
    /// `batch-lines()`; 0: unset.
    pub(crate) batch_lines: usize,
    pub(crate) batch_timeout: Option<Duration>,
    pub(crate) retries: u32,
    pub(crate) time_reopen: Duration,
    pub(crate) throttle: u32,
}

struct State {
    connected: bool,
    /// Sent since the last acknowledgement (QUEUED ones).
    in_hand: Vec<Entry>,
    errors: u32,
    retries: u32,
    batching: bool,
    first_in_batch: Instant,
    /// Set by a result that suspends the destination for `time-reopen()`.
    suspend: bool,
    /// Set by a result that puts messages back (the rest of the popped batch follows them).
    rewound: bool,
}

/// What the worker needs to know to name itself in logs.
fn tag(obj: &DestObject) -> (&str, &str) {
    (&obj.object.driver, &obj.object.class)
}

impl State {
    fn ack_all(&mut self, queue: &Queue) {
        let n = self.in_hand.len();
        Counters::add(&queue.counters.written, n as u64);
        queue.ack(n);
        self.in_hand.clear();
        self.errors = 0;
        self.retries = 0;
    }

    fn drop_all(&mut self, queue: &Queue, reason: DropReason) {
        let n = self.in_hand.len();
        queue.counters.dropped_for(reason, n as u64);
        queue.ack(n);
        self.in_hand.clear();
        self.errors = 0;
    }

    fn rewind(&mut self) {
        self.rewound = true;
    }

    /// Handles a result for the batch in hand.
    fn process(&mut self, r: Outcome, queue: &Queue, obj: &DestObject, plan: &WorkerPlan) {
        let (driver, class) = tag(obj);
        let batch_size = self.in_hand.len();
        match r {
            Outcome::Success => self.ack_all(queue),
            Outcome::Queued => self.batching = true,
            Outcome::Drop => {
                tracing::error!(
                    driver,
                    class,
                    batch_size,
                    time_reopen = plan.time_reopen.as_secs(),
                    "Message(s) dropped while sending message to destination"
                );
                self.drop_all(queue, DropReason::PythonDrop);
                self.suspend = true;
            }
            Outcome::Error => {
                self.errors += 1;
                if self.errors >= plan.retries {
                    tracing::error!(
                        driver,
                        class,
                        retries = self.errors,
                        batch_size,
                        "Multiple failures while sending message(s) to destination, message(s) dropped"
                    );
                    self.drop_all(queue, DropReason::RetriesExhausted);
                } else {
                    tracing::error!(
                        driver,
                        class,
                        retries = self.errors,
                        batch_size,
                        time_reopen = plan.time_reopen.as_secs(),
                        "Error occurred while trying to send a message, trying again"
                    );
                    self.rewind();
                    self.suspend = true;
                }
            }
            Outcome::NotConnected => self.not_connected(obj, plan),
            Outcome::Retry => {
                self.retries += 1;
                if self.retries >= plan.retries {
                    self.not_connected(obj, plan);
                } else {
                    self.rewind();
                }
            }
        }
    }

    fn not_connected(&mut self, obj: &DestObject, plan: &WorkerPlan) {
        let (driver, class) = tag(obj);
        tracing::info!(
            driver,
            class,
            batch_size = self.in_hand.len(),
            time_reopen = plan.time_reopen.as_secs(),
            "Server disconnected while preparing messages for sending, trying again"
        );
        self.retries = 0;
        self.rewind();
        self.suspend = true;
    }

    /// `flush()` with its result handled.
    fn flush(&mut self, py: Python<'_>, queue: &Queue, obj: &DestObject, plan: &WorkerPlan) {
        let r = obj.flush(py);
        self.process(r, queue, obj, plan);
    }

    fn flush_due(&self, plan: &WorkerPlan, now: Instant) -> bool {
        match plan.batch_timeout {
            None => true,
            Some(_) if plan.batch_lines <= 1 || !self.batching => true,
            Some(t) => now >= self.first_in_batch + t,
        }
    }
}

/// Runs the destination until its queue is closed and empty (or closed while it cannot
/// deliver), or detached by a reload.
pub(crate) async fn run(obj: Arc<DestObject>, plan: WorkerPlan, queue: Arc<Queue>) {
    crate::python::interpreter::keep_thread_state();
    let mut st = State {
        connected: false,
        in_hand: Vec::new(),
        errors: 0,
        retries: 0,
        batching: false,
        first_in_batch: Instant::now(),
        suspend: false,
        rewound: false,
    };
    let mut throttle = Throttle::new(plan.throttle, Instant::now());
    let max = MAX_BATCH.max(plan.batch_lines);
    let mut popped: Vec<Entry> = Vec::with_capacity(max);
    let mut reported_down = false;
    loop {
        if queue.is_detached() {
            break;
        }
        if !st.connected {
            st.connected = Python::attach(|py| obj.open(py));
            if !st.connected {
                let (driver, class) = tag(&obj);
                if !queue.is_empty() && !reported_down {
                    reported_down = true;
                    tracing::error!(
                        driver,
                        class,
                        time_reopen = plan.time_reopen.as_secs(),
                        "Error establishing connection to server"
                    );
                } else {
                    tracing::debug!(driver, class, "Error establishing connection to server");
                }
                if queue.is_closed() {
                    break;
                }
                suspend(&queue, plan.time_reopen).await;
                continue;
            }
            reported_down = false;
        }
        let want = throttle.allowance(max, Instant::now());
        let n = if want == 0 {
            0
        } else {
            queue.pop_batch(want, &mut popped)
        };
        if n == 0 {
            if !st.in_hand.is_empty() {
                let now = Instant::now();
                if st.flush_due(&plan, now) || holds_a_readers_window(&st.in_hand) {
                    Python::attach(|py| st.flush(py, &queue, &obj, &plan));
                    if settle(&mut st, &obj, &queue, &plan).await {
                        break;
                    }
                    continue;
                }
                let at = plan
                    .batch_timeout
                    .map(|t| st.first_in_batch + t)
                    .unwrap_or(now);
                tokio::select! {
                    _ = queue.wait() => {}
                    _ = tokio::time::sleep_until(at) => {}
                    _ = queue.closed() => {}
                }
                if queue.is_closed() && queue.is_empty() {
                    break;
                }
                continue;
            }
            if queue.is_closed() && queue.is_empty() {
                break;
            }
            let throttled = (want == 0).then(|| Instant::now() + throttle.wait_for_one());
            tokio::select! {
                _ = queue.wait(), if throttled.is_none() => {}
                _ = crate::actors::destinations::writer::sleep_until(throttled) => {}
                _ = queue.closed() => {}
            }
            continue;
        }
        throttle.spend(n);
        Python::attach(|py| {
            let mut rest = popped.drain(..);
            for e in rest.by_ref() {
                if st.in_hand.is_empty() {
                    st.first_in_batch = Instant::now();
                }
                let r = obj.send(py, &e.msg);
                st.in_hand.push(e);
                st.process(r, &queue, &obj, &plan);
                if !st.rewound
                    && !st.suspend
                    && st.batching
                    && !st.in_hand.is_empty()
                    && (plan.batch_lines == 0 || st.in_hand.len() >= plan.batch_lines)
                {
                    st.flush(py, &queue, &obj, &plan);
                }
                if st.rewound || st.suspend {
                    break;
                }
            }
            // What was not sent goes back behind what is in hand, in order.
            let rest: Vec<Entry> = rest.collect();
            if st.rewound {
                st.in_hand.extend(rest);
            } else if !rest.is_empty() {
                let mut rest = rest;
                queue.rewind(&mut rest, 0);
            }
            if !st.rewound && !st.suspend && !st.in_hand.is_empty() && queue.is_empty() {
                // The queue is empty: flush now when due (else the timer above does).
                if st.flush_due(&plan, Instant::now()) {
                    st.flush(py, &queue, &obj, &plan);
                }
            } else if !st.rewound && !st.suspend && st.in_hand.is_empty() && !st.batching {
                // syslog-ng calls flush() after every round of sends, batching or not.
                st.flush(py, &queue, &obj, &plan);
            }
        });
        if settle(&mut st, &obj, &queue, &plan).await {
            break;
        }
    }
    // A last flush (syslog-ng calls it even with nothing in hand: recorded), then what is
    // still in hand goes back to the queue.
    Python::attach(|py| {
        if st.connected {
            st.flush(py, &queue, &obj, &plan);
        }
        if !st.in_hand.is_empty() {
            queue.rewind(&mut st.in_hand, 0);
        }
        if st.connected {
            obj.close(py);
        }
        obj.deinit(py);
    });
}

/// Applies a rewind or suspension a result asked for: messages back to the queue,
/// `close()`, wait `time-reopen()`. True when the destination must give up because it is
/// stopping (the queue is closed) while it cannot deliver: what is left stays queued for
/// the graph to report, instead of being retried in a loop until the stop times out.
async fn settle(st: &mut State, obj: &DestObject, queue: &Queue, plan: &WorkerPlan) -> bool {
    if st.rewound {
        st.rewound = false;
        if !st.in_hand.is_empty() {
            queue.rewind(&mut st.in_hand, 0);
        }
    }
    if st.suspend {
        st.suspend = false;
        if st.connected {
            Python::attach(|py| obj.close(py));
            st.connected = false;
        }
        if queue.is_closed() {
            return true;
        }
        suspend(queue, plan.time_reopen).await;
    }
    false
}

/// Waits `time-reopen()`, but not past a stop.
async fn suspend(queue: &Queue, time_reopen: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(time_reopen) => {}
        _ = queue.closed() => {}
    }
}

/// Whether a reader cannot send more because its flow-control window is held by messages in
/// hand: waiting for `batch-timeout()` could not fill the batch then (a reader keeps at most
/// a few hundred messages in flight, fewer than a large `batch-lines()`), so it is flushed.
fn holds_a_readers_window(in_hand: &[Entry]) -> bool {
    in_hand
        .iter()
        .filter_map(|e| e.ack.as_ref())
        .any(|a| a.window().available() == 0 || a.window().is_waiting())
}
