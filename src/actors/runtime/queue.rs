//! The memory queue between the sources and one destination driver.
//!
//! A `Mutex<VecDeque>` taken once per batch on either side, plus a [`Notify`] the destination
//! sleeps on. Sources push whole batches ([`Queue::push_batch`]); the destination pops up to
//! a batch at a time ([`Queue::pop_batch`]). Per message that is a 16-byte move, and an
//! `Arc` clone for flow-controlled entries.
//!
//! `log-fifo-size()` applies to entries *without* flow control only, as in syslog-ng's
//! `LogQueueFifo`: a flow-controlled entry is never dropped (its source's window bounds how
//! many there can be), any other entry beyond the limit is dropped and counted.
//!
//! The queue is an `Arc` owned by no graph: on reload the ConfigSupervisor hands a matched
//! destination's queue (contents, counters and the ack tokens inside) to the new graph, or
//! drains an unmatched one. [`QueueActor`] is the queue's face in the actor graph (stats and
//! control); the data path never goes through its mailbox.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use actix::{Actor, Context, Handler, Message};
use tokio::sync::Notify;

use super::ack::BatchAck;
use super::counters::Counters;
use crate::message::LogMessage;

/// One delivery of a message to a destination. `ack` is set for flow-controlled deliveries:
/// dropping the entry (after writing it, or for any other reason) is its acknowledgement.
#[derive(Debug, Clone)]
pub struct Entry {
    pub msg: Arc<LogMessage>,
    pub ack: Option<Arc<BatchAck>>,
}

/// A destination driver's queue.
#[derive(Debug)]
pub struct Queue {
    name: String,
    entries: Mutex<VecDeque<Entry>>,
    /// `log-fifo-size()`: the limit for entries without flow control.
    fifo_size: usize,
    /// Wakes the destination when entries arrive or the queue is closed.
    ready: Notify,
    closed: AtomicBool,
    /// The writer stops without draining: the entries go to the next graph (reload).
    detached: AtomicBool,
    /// Wakes whoever waits for [`Queue::closed`].
    closing: Notify,
    pub counters: Counters,
}

impl Queue {
    /// An empty queue named after its destination.
    pub fn new(name: impl Into<String>, fifo_size: usize) -> Arc<Queue> {
        Arc::new(Queue {
            name: name.into(),
            // Grown on demand: a ring sized for log-fifo-size() up front would, as its head
            // goes round, touch every page of it (320 KB resident for 20000 entries) even
            // when flow control keeps a few hundred entries in it.
            entries: Mutex::new(VecDeque::new()),
            fifo_size: fifo_size.max(1),
            ready: Notify::new(),
            closed: AtomicBool::new(false),
            detached: AtomicBool::new(false),
            closing: Notify::new(),
            counters: Counters::default(),
        })
    }

    /// The destination's name (for logs and stats).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Entry>> {
        // A panic while holding the lock cannot leave the deque inconsistent (push/pop are
        // single calls), so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves `batch` into the queue (leaving it empty, capacity kept). Entries without an
    /// ack beyond `log-fifo-size()` are dropped and counted. Returns how many were dropped.
    pub fn push_batch(&self, batch: &mut Vec<Entry>) -> u64 {
        if batch.is_empty() {
            return 0;
        }
        let mut dropped = 0u64;
        let pushed;
        {
            let mut q = self.lock();
            let before = q.len();
            for e in batch.drain(..) {
                if e.ack.is_none() && q.len() >= self.fifo_size {
                    dropped += 1;
                    continue;
                }
                q.push_back(e);
            }
            pushed = q.len() - before;
        }
        // syslog-ng's destination `processed`: every message routed to it, queued or dropped.
        Counters::add(&self.counters.processed, pushed as u64 + dropped);
        Counters::add(&self.counters.queued, pushed as u64);
        Counters::add(&self.counters.dropped, dropped);
        if pushed > 0 {
            self.ready.notify_one();
        }
        dropped
    }

    /// Moves up to `max` entries into `out`; returns how many.
    pub fn pop_batch(&self, max: usize, out: &mut Vec<Entry>) -> usize {
        let n;
        {
            let mut q = self.lock();
            n = q.len().min(max);
            out.extend(q.drain(..n));
        }
        if n > 0 {
            self.counters.queued.fetch_sub(n as u64, Ordering::Relaxed);
        }
        n
    }

    /// Puts entries that could not be written back at the front, in order (a failed write:
    /// they are retried after reopening, never lost).
    pub fn unpop(&self, entries: &mut Vec<Entry>) {
        let n = entries.len();
        {
            let mut q = self.lock();
            for e in entries.drain(..).rev() {
                q.push_front(e);
            }
        }
        Counters::add(&self.counters.queued, n as u64);
    }

    /// Entries in the queue.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until entries may be there (or the queue was closed).
    pub async fn wait(&self) {
        self.ready.notified().await;
    }

    /// No more entries will come: the destination drains what is left and stops.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ready.notify_one();
        self.closing.notify_waiters();
    }

    /// Waits until the queue is closed (a writer waiting out `time-reopen()` stops waiting).
    pub async fn closed(&self) {
        let wait = self.closing.notified();
        if self.is_closed() {
            return;
        }
        wait.await;
    }

    /// The writer stops after what it is writing now and leaves the rest in the queue, for
    /// the next graph's queue of the same destination ([`Queue::take_all`]).
    pub fn detach(&self) {
        self.detached.store(true, Ordering::Release);
        self.close();
    }

    /// Whether [`Queue::detach`] was called.
    pub fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    /// Whether [`Queue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Takes every entry out (shutdown after the drain timeout; the handover on reload).
    pub fn take_all(&self) -> Vec<Entry> {
        let v: Vec<Entry> = self.lock().drain(..).collect();
        self.counters
            .queued
            .fetch_sub(v.len() as u64, Ordering::Relaxed);
        v
    }
}

/// The queue as an actor: answers [`QueueStats`]. The data path bypasses it.
pub struct QueueActor {
    pub queue: Arc<Queue>,
}

impl Actor for QueueActor {
    type Context = Context<Self>;
}

/// A queue's name, length and counters.
#[derive(Debug, Clone)]
pub struct QueueReport {
    pub name: String,
    pub len: usize,
    pub counters: Vec<(&'static str, u64)>,
}

/// Asks a queue for a [`QueueReport`].
#[derive(Message)]
#[rtype(result = "QueueReport")]
pub struct QueueStats;

impl<A: Actor> actix::dev::MessageResponse<A, QueueStats> for QueueReport {
    fn handle(self, _: &mut A::Context, tx: Option<actix::dev::OneshotSender<QueueReport>>) {
        if let Some(tx) = tx {
            let _ = tx.send(self);
        }
    }
}

impl Handler<QueueStats> for QueueActor {
    type Result = QueueReport;

    fn handle(&mut self, _: QueueStats, _: &mut Context<Self>) -> QueueReport {
        QueueReport {
            name: self.queue.name().to_string(),
            len: self.queue.len(),
            counters: self.queue.counters.snapshot(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::runtime::ack::Window;
    use crate::message::UnixTime;

    fn msg() -> Arc<LogMessage> {
        Arc::new(LogMessage::new(UnixTime::default()))
    }

    #[test]
    fn overflow_without_flow_control_is_dropped_and_counted() {
        let q = Queue::new("d", 3);
        let mut b: Vec<Entry> = (0..5)
            .map(|_| Entry {
                msg: msg(),
                ack: None,
            })
            .collect();
        assert_eq!(q.push_batch(&mut b), 2);
        assert!(b.is_empty());
        assert_eq!(q.len(), 3);
        assert_eq!(Counters::get(&q.counters.dropped), 2);
        assert_eq!(Counters::get(&q.counters.processed), 5);
    }

    #[test]
    fn flow_controlled_entries_are_never_dropped_and_ack_on_drop() {
        let q = Queue::new("d", 1);
        let w = Window::new(4);
        let n = w.try_acquire();
        let ack = BatchAck::new(w.clone(), n);
        let mut b: Vec<Entry> = (0..4)
            .map(|_| Entry {
                msg: msg(),
                ack: Some(ack.clone()),
            })
            .collect();
        drop(ack);
        assert_eq!(q.push_batch(&mut b), 0);
        assert_eq!(q.len(), 4);
        let mut out = Vec::new();
        assert_eq!(q.pop_batch(3, &mut out), 3);
        out.clear();
        assert_eq!(w.available(), 0);
        let mut rest = q.take_all();
        assert_eq!(rest.len(), 1);
        rest.clear();
        assert_eq!(w.available(), 4);
        assert_eq!(Counters::get(&q.counters.queued), 0);
    }
}
