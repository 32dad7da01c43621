//! The queue between the sources and one destination driver: a [`Queue`] (what readers,
//! writers and the supervisor hold) around a [`QueueStore`] (where the entries live).
//!
//! The seam is [`QueueStore`], syslog-ng's `LogQueue` contract: push a batch, pop a batch,
//! acknowledge what the destination finished, rewind what it could not write. The memory FIFO
//! ([`memory::MemoryStore`]) is the first implementation; the disk-buffer
//! ([`disk::DiskStore`]) is the second, and readers, writers and sinks do not change for it. [`Queue`] adds what every store shares:
//! one lock taken once per batch on either side, the [`Notify`] the destination sleeps on,
//! close / detach, and the counters.
//!
//! A queue belongs to its destination's persist name, not to a graph: on reload the
//! ConfigSupervisor gives a matched destination the very same `Arc<Queue>` (contents, counters
//! and the ack tokens inside), so nothing is moved and nothing is reordered.

pub mod disk;
pub mod memory;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::ack::BatchAck;
use super::counters::{Counters, DropReason};
use crate::message::LogMessage;

/// One delivery of a message to a destination. `ack` is set for flow-controlled deliveries:
/// dropping the entry (after writing it, or for any other reason) is its acknowledgement.
#[derive(Debug, Clone)]
pub struct Entry {
    pub msg: Arc<LogMessage>,
    pub ack: Option<Arc<BatchAck>>,
}

/// The memory the messages of `entries` take (syslog-ng's `log_msg_get_size`: the message
/// and its payload; a message shared by several queues counts in each).
fn bytes_of(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| (std::mem::size_of::<crate::message::LogMessage>() + e.msg.heap_bytes()) as u64)
        .sum()
}

/// Where a queue keeps its entries (syslog-ng's `LogQueue` backlog semantics). Called with the
/// queue's lock held, once per batch.
///
/// Every entry [`QueueStore::pop`] hands out is later either acknowledged
/// ([`QueueStore::ack`]: the destination finished it — written, or dropped by its rules) or
/// rewound ([`QueueStore::rewind`]: it goes back to the head and is popped again). A store that
/// keeps a backlog (a disk-buffer advancing its read position only behind the destination)
/// acts on both; the memory store hands entries out for good and only the rewind matters.
///
/// The counts are of popped entries only: the writer leaves out the entries it made itself
/// (MARKs, suppression summaries). A sink that keeps entries after the writer acknowledged
/// them (a `file()` that cannot be opened yet) holds them outside the queue and gives them
/// back through a rewind; the disk-buffer keeps those in memory only (its records are
/// acknowledged already), so a crash while a `file()` cannot be opened loses them.
pub trait QueueStore: Send + std::fmt::Debug {
    /// Moves `batch` in (leaving it empty, capacity kept); returns (stored, dropped).
    fn push(&mut self, batch: &mut Vec<Entry>) -> (usize, usize);
    /// Moves up to `max` entries into `out`, oldest first; returns how many.
    fn pop(&mut self, max: usize, out: &mut Vec<Entry>) -> usize;
    /// The destination finished the `n` oldest entries it popped and did not rewind.
    fn ack(&mut self, n: usize);
    /// Puts entries the destination could not write back at the head, in order.
    fn rewind(&mut self, entries: &mut Vec<Entry>);
    /// Entries stored (popped ones excluded).
    fn len(&self) -> usize;
    /// Whether nothing is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Takes every stored entry out (a stop after the drain timeout). A store on disk
    /// keeps its records for the next run and takes out only what it holds in memory.
    fn take_all(&mut self) -> Vec<Entry>;
    /// Entries in the writer's hand that are on disk too (a stop does not lose them).
    fn in_hand_on_disk(&self) -> usize {
        0
    }
    /// Entries kept on disk for the next run, besides those in hand.
    fn on_disk(&self) -> usize {
        0
    }
    /// Whether the entries are on disk (a sink must then not hold any back in memory).
    fn persistent(&self) -> bool {
        false
    }
}

/// A destination driver's queue.
#[derive(Debug)]
pub struct Queue {
    name: String,
    store: Mutex<Box<dyn QueueStore>>,
    /// Wakes the destination when entries arrive or the queue is closed.
    ready: Notify,
    closed: AtomicBool,
    /// The writer stops without draining: the entries stay for the next writer (reload).
    detached: AtomicBool,
    /// Wakes whoever waits for [`Queue::closed`].
    closing: Notify,
    /// What the writer has in hand, in one word so a stop reads both at one instant: entries
    /// popped and neither acknowledged nor rewound (high 32 bits), and how many of them its
    /// sink has already written whole during a send still under way (low 32 bits).
    hand: AtomicU64,
    /// The writer takes nothing while set (a paused destination; entries still arrive).
    paused: AtomicBool,
    /// Which writer the queue belongs to: each writer started on it claims the next number,
    /// so one that was superseded before it could start (two reloads in a row) does not.
    owner: AtomicU64,
    /// Shared with the stats: they go on counting across reloads with the queue.
    pub counters: Arc<Counters>,
}

impl Queue {
    /// An empty memory queue named after its destination.
    pub fn new(name: impl Into<String>, fifo_size: usize) -> Arc<Queue> {
        Queue::with_store(name, Box::new(memory::MemoryStore::new(fifo_size)))
    }

    /// A queue keeping its entries in `store` (which may hold some already: a disk-buffer
    /// from the previous run).
    pub fn with_store(name: impl Into<String>, store: Box<dyn QueueStore>) -> Arc<Queue> {
        let counters = Arc::new(Counters::default());
        Counters::add(&counters.queued, store.len() as u64);
        Arc::new(Queue {
            name: name.into(),
            store: Mutex::new(store),
            ready: Notify::new(),
            closed: AtomicBool::new(false),
            detached: AtomicBool::new(false),
            closing: Notify::new(),
            hand: AtomicU64::new(0),
            paused: AtomicBool::new(false),
            owner: AtomicU64::new(0),
            counters,
        })
    }

    /// The destination's name (for logs and stats).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn lock(&self) -> MutexGuard<'_, Box<dyn QueueStore>> {
        // A panic while holding the lock cannot leave a store inconsistent (each call is
        // one operation), so a poisoned lock is still usable.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves `batch` into the queue (leaving it empty, capacity kept). Entries the store
    /// refuses (without flow control, beyond `log-fifo-size()`) are dropped and counted, and
    /// so is everything pushed into a queue closed for good.
    /// Returns how many were dropped.
    pub fn push_batch(&self, batch: &mut Vec<Entry>) -> u64 {
        if batch.is_empty() {
            return 0;
        }
        if self.is_closed() && !self.is_detached() {
            // Closed for good (its destination was removed by a reload or stopped alone): a
            // batch a running source routed before the reload is dropped and counted, rather
            // than left in a queue nobody drains.
            let n = batch.len() as u64;
            batch.clear();
            Counters::add(&self.counters.processed, n);
            self.counters.dropped_for(DropReason::DestinationGone, n);
            return n;
        }
        let bytes = bytes_of(batch);
        let (pushed, dropped) = self.lock().push(batch);
        let (pushed, dropped) = (pushed as u64, dropped as u64);
        // What the store refused is not kept: its share of the bytes is not counted.
        let kept = bytes.saturating_mul(pushed) / (pushed + dropped).max(1);
        Counters::add(&self.counters.memory_usage, kept);
        // syslog-ng's destination `processed`: every message routed to it, queued or dropped.
        Counters::add(&self.counters.processed, pushed + dropped);
        Counters::add(&self.counters.queued, pushed);
        self.counters.dropped_for(DropReason::QueueFull, dropped);
        if pushed > 0 {
            self.ready.notify_one();
        }
        dropped
    }

    /// Moves up to `max` entries into `out`; returns how many.
    pub fn pop_batch(&self, max: usize, out: &mut Vec<Entry>) -> usize {
        if self.is_paused() {
            return 0;
        }
        let before = out.len();
        let n = self.lock().pop(max, out);
        if n > 0 {
            // In the writer's hand first, as before the memory was counted: a stop counting
            // what is left must not find these entries in neither place.
            self.hand.fetch_add((n as u64) << 32, Ordering::AcqRel);
            self.counters.queued.fetch_sub(n as u64, Ordering::Relaxed);
            let bytes = bytes_of(&out[before..]);
            let _ = self.counters.memory_usage.fetch_update(
                Ordering::Relaxed,
                Ordering::Relaxed,
                |m| Some(m.saturating_sub(bytes)),
            );
        }
        n
    }

    /// The destination finished `n` of the entries it popped (see [`QueueStore::ack`]).
    pub fn ack(&self, n: usize) {
        if n > 0 {
            self.lock().ack(n);
            self.release_hand(n);
        }
    }

    /// `n` entries left the writer's hand; the send under way is over (its progress resets).
    fn release_hand(&self, n: usize) {
        let _ = self
            .hand
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                Some((h >> 32).saturating_sub(n as u64) << 32)
            });
    }

    /// Entries the writer popped and has not finished (written whole ones of a send under
    /// way excluded): what a stop that cannot wait for it counts as not delivered, besides
    /// [`Queue::len`].
    pub fn in_hand(&self) -> usize {
        let h = self.hand.load(Ordering::Acquire);
        (h >> 32).saturating_sub(h & 0xffff_ffff) as usize
    }

    /// A sink writing the batch in hand bit by bit (a pipe, a program's stdin) says how many
    /// of its entries are written whole so far, so a stop that cuts the send short does not
    /// count them as undelivered.
    pub fn written_in_hand(&self, n: usize) {
        let n = (n as u64).min(0xffff_ffff);
        let _ = self
            .hand
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                Some((h & !0xffff_ffff) | n)
            });
    }

    /// Puts entries that could not be written back at the front, in order (a failed write:
    /// they are retried after reopening, never lost). `not_in_hand` of them were not in the
    /// writer's hand — a suppression summary it made, entries a sink kept after the writer
    /// finished them (a `file()` that cannot be opened): they go back too.
    pub fn rewind(&self, entries: &mut Vec<Entry>, not_in_hand: usize) {
        let n = entries.len();
        Counters::add(&self.counters.memory_usage, bytes_of(entries));
        self.lock().rewind(entries);
        self.release_hand(n.saturating_sub(not_in_hand));
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
    /// A close overrides a [`Queue::detach`]: the queue is drained, not handed on (a stop
    /// while a reload's new writer still waits for the old one).
    pub fn close(&self) {
        self.detached.store(false, Ordering::Release);
        self.mark_closed();
    }

    fn mark_closed(&self) {
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
    /// the next writer of the same destination ([`Queue::reattach`]).
    pub fn detach(&self) {
        self.detached.store(true, Ordering::Release);
        self.mark_closed();
    }

    /// The next writer takes a detached queue over once the detached one has stopped: open
    /// again. A queue that is not detached stays as it is (new, or closed for good).
    pub fn reattach(&self) {
        if self.detached.swap(false, Ordering::AcqRel) {
            self.closed.store(false, Ordering::Release);
            self.ready.notify_one();
        }
    }

    /// Pauses (or resumes) the writer: it takes nothing from the queue while paused.
    pub fn pause(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
        if !paused {
            self.ready.notify_one();
        }
    }

    /// Whether the writer is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Claims the queue for the next writer; returns its claim.
    pub fn claim(&self) -> u64 {
        self.owner.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Whether `claim` is still the latest.
    pub fn is_claimed_by(&self, claim: u64) -> bool {
        self.owner.load(Ordering::Acquire) == claim
    }

    /// Whether [`Queue::detach`] was called.
    pub fn is_detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    /// Whether [`Queue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether the queue is a disk-buffer.
    pub fn is_persistent(&self) -> bool {
        self.lock().persistent()
    }

    /// Entries a stop leaves on disk for the next run (none without a disk-buffer): those
    /// queued, and those in the writer's hand.
    pub fn kept_on_disk(&self) -> (usize, usize) {
        let s = self.lock();
        (s.on_disk(), s.in_hand_on_disk())
    }

    /// Takes every entry out (shutdown after the drain timeout).
    pub fn take_all(&self) -> Vec<Entry> {
        let v = self.lock().take_all();
        self.counters
            .queued
            .fetch_sub(v.len() as u64, Ordering::Relaxed);
        v
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

    #[test]
    fn a_rewind_puts_entries_back_in_order_and_a_reattached_queue_runs_again() {
        let q = Queue::new("d", 10);
        let mut b: Vec<Entry> = (0..4)
            .map(|i| {
                let mut m = LogMessage::new(UnixTime::default());
                m.set("n", i.to_string().as_bytes());
                Entry {
                    msg: Arc::new(m),
                    ack: None,
                }
            })
            .collect();
        q.push_batch(&mut b);
        let mut out = Vec::new();
        assert_eq!(q.pop_batch(3, &mut out), 3);
        q.ack(1);
        out.remove(0);
        assert_eq!(q.in_hand(), 2);
        q.written_in_hand(1);
        assert_eq!(q.in_hand(), 1);
        q.rewind(&mut out, 0);
        assert_eq!(q.in_hand(), 0);
        assert_eq!(Counters::get(&q.counters.queued), 3);
        let mut all = Vec::new();
        q.pop_batch(10, &mut all);
        let order: Vec<_> = all
            .iter()
            .map(|e| e.msg.get("n").map(<[u8]>::to_vec))
            .collect();
        assert_eq!(order, [b"1", b"2", b"3"].map(|v| Some(v.to_vec())));
        q.detach();
        assert!(q.is_detached() && q.is_closed());
        q.reattach();
        assert!(!q.is_detached() && !q.is_closed());
        // Closed for good (a stop, even after a detach): a reattach does not reopen it.
        q.detach();
        q.close();
        q.reattach();
        assert!(!q.is_detached() && q.is_closed());
    }
}
