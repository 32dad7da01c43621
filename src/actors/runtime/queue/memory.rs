//! The memory queue: syslog-ng's `LogQueueFifo`, the first implementation of [`QueueStore`].

use std::collections::VecDeque;

use super::{Entry, QueueStore};

/// Entries in a `VecDeque`, grown on demand: a ring sized for `log-fifo-size()` up front
/// would, as its head goes round, touch every page of it (320 KB resident for 20000 entries)
/// even when flow control keeps a few hundred entries in it.
///
/// `log-fifo-size()` applies to entries *without* flow control only, as in syslog-ng's
/// `LogQueueFifo`: a flow-controlled entry is never dropped (its source's window bounds how
/// many there can be), any other entry beyond the limit is dropped and counted.
///
/// Popped entries leave the deque at once: the writer holds them (and their acks) until they
/// are written, so there is no backlog to acknowledge — [`QueueStore::ack`] has nothing to do,
/// and a rewind puts entries back at the head.
#[derive(Debug)]
pub struct MemoryStore {
    entries: VecDeque<Entry>,
    fifo_size: usize,
}

impl MemoryStore {
    /// An empty store dropping unacknowledged entries beyond `fifo_size`.
    pub fn new(fifo_size: usize) -> MemoryStore {
        MemoryStore {
            entries: VecDeque::new(),
            fifo_size: fifo_size.max(1),
        }
    }
}

impl QueueStore for MemoryStore {
    fn push(&mut self, batch: &mut Vec<Entry>) -> (usize, usize) {
        let before = self.entries.len();
        let mut dropped = 0;
        for e in batch.drain(..) {
            if e.ack.is_none() && self.entries.len() >= self.fifo_size {
                dropped += 1;
                continue;
            }
            self.entries.push_back(e);
        }
        (self.entries.len() - before, dropped)
    }

    fn pop(&mut self, max: usize, out: &mut Vec<Entry>) -> usize {
        let n = self.entries.len().min(max);
        out.extend(self.entries.drain(..n));
        n
    }

    fn ack(&mut self, _n: usize) {}

    fn rewind(&mut self, entries: &mut Vec<Entry>) {
        for e in entries.drain(..).rev() {
            self.entries.push_front(e);
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn take_all(&mut self) -> Vec<Entry> {
        self.entries.drain(..).collect()
    }
}
