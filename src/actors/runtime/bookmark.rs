//! Committing a reader's position only once everything before it is delivered.
//!
//! A reader hands every batch a [`Bookmark`] (a sequence number in its [`ConsecutiveTracker`])
//! and tells the tracker where the batch ends in its input ([`ConsecutiveTracker::close`])
//! before it flushes. Batches finish in any order — two destinations fed by different filters
//! drain at their own pace — so the tracker commits a position only when every earlier batch
//! is finished too (syslog-ng's consecutive ack tracker). A batch discarded undelivered
//! (aborted at shutdown) stops all later commits: the next run reads those lines again
//! (at-least-once, never lost).
//!
//! When a batch counts as finished is the [`BatchAck`](super::ack::BatchAck)'s business:
//! when its last flow-controlled delivery is written, or — for paths without
//! `flags(flow-control)`, as in syslog-ng — as soon as it is queued.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::ack::{AckTracker, Bookmark, Credits};

struct Slot<T> {
    end: Option<T>,
    done: bool,
    aborted: bool,
}

struct State<T> {
    /// Sequence number of `pending.front()`.
    base: u64,
    pending: VecDeque<Slot<T>>,
    /// An earlier batch was aborted: nothing after it may be committed.
    stalled: bool,
}

/// Commits the end of the longest finished prefix of a reader's batches.
pub struct ConsecutiveTracker<T> {
    state: Mutex<State<T>>,
    commit: Box<dyn Fn(&T) + Send + Sync>,
}

impl<T> std::fmt::Debug for ConsecutiveTracker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsecutiveTracker")
    }
}

impl<T: Send + 'static> ConsecutiveTracker<T> {
    /// A tracker that calls `commit` with the end of each newly finished prefix (called on
    /// whichever thread finishes the batch: keep it short).
    pub fn new(commit: impl Fn(&T) + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(ConsecutiveTracker {
            state: Mutex::new(State {
                base: 0,
                pending: VecDeque::new(),
                stalled: false,
            }),
            commit: Box::new(commit),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // The state is consistent after every statement, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A bookmark for the next batch.
    pub fn open(self: &Arc<Self>) -> Bookmark {
        let mut s = self.lock();
        let seq = s.base + s.pending.len() as u64;
        s.pending.push_back(Slot {
            end: None,
            done: false,
            aborted: false,
        });
        Bookmark {
            tracker: self.clone(),
            seq,
        }
    }

    /// Where batch `seq` ends; must come before the batch can finish (before the flush).
    pub fn close(&self, seq: u64, end: T) {
        let mut s = self.lock();
        let Some(i) = seq.checked_sub(s.base) else {
            return;
        };
        if let Some(slot) = s.pending.get_mut(i as usize) {
            slot.end = Some(end);
        }
    }

    /// Commits again after an aborted batch. An abort at shutdown must hold the position (the
    /// next run reads those lines again), but batches dropped by a reload — their destination
    /// was removed, the messages counted as dropped — must not stop the reader that takes the
    /// tracker over from committing for the rest of the run.
    pub fn unstall(&self) {
        self.lock().stalled = false;
    }

    /// Batches handed out and not yet committed (for tests and stats).
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }
}

impl<T: Send + 'static> AckTracker for ConsecutiveTracker<T> {
    fn acked(&self, seq: u64, aborted: bool, _credits: Credits) {
        let last = {
            let mut s = self.lock();
            let Some(i) = seq.checked_sub(s.base) else {
                return;
            };
            if let Some(slot) = s.pending.get_mut(i as usize) {
                slot.done = true;
                slot.aborted = aborted;
            }
            let mut last = None;
            while s.pending.front().is_some_and(|f| f.done) {
                let Some(front) = s.pending.pop_front() else {
                    break;
                };
                s.base += 1;
                s.stalled |= front.aborted;
                if !s.stalled && front.end.is_some() {
                    last = front.end;
                }
            }
            last
        };
        if let Some(end) = last {
            (self.commit)(&end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::runtime::ack::{BatchAck, Window};

    fn tracker() -> (Arc<ConsecutiveTracker<u64>>, Arc<Mutex<Vec<u64>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let t = ConsecutiveTracker::new(move |p: &u64| {
            if let Ok(mut v) = s2.lock() {
                v.push(*p);
            }
        });
        (t, seen)
    }

    fn seen(s: &Arc<Mutex<Vec<u64>>>) -> Vec<u64> {
        s.lock().map(|v| v.clone()).unwrap_or_default()
    }

    #[test]
    fn commits_only_the_finished_prefix() {
        let (t, s) = tracker();
        let w = Window::new(10);
        let acks: Vec<_> = [10u64, 20, 30]
            .iter()
            .map(|&end| {
                let b = t.open();
                let seq = b.seq;
                t.close(seq, end);
                BatchAck::with_bookmark(w.clone(), 1, Some(b))
            })
            .collect();
        let mut acks = acks.into_iter();
        let (a, b, c) = (acks.next(), acks.next(), acks.next());
        drop(c);
        assert_eq!(seen(&s), Vec::<u64>::new(), "third alone commits nothing");
        drop(a);
        assert_eq!(seen(&s), vec![10]);
        drop(b);
        assert_eq!(
            seen(&s),
            vec![10, 30],
            "second finishes the prefix up to 30"
        );
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn an_aborted_batch_stops_later_commits() {
        let (t, s) = tracker();
        let w = Window::new(10);
        assert_eq!(w.try_acquire(), 10);
        let mk = |end| {
            let b = t.open();
            t.close(b.seq, end);
            BatchAck::with_bookmark(w.clone(), 1, Some(b))
        };
        let (a, b, c) = (mk(1), mk(2), mk(3));
        drop(a);
        b.abort();
        drop(b);
        drop(c);
        assert_eq!(seen(&s), vec![1]);
        assert_eq!(w.available(), 3, "credits come back all the same");
        t.unstall();
        drop(mk(4));
        assert_eq!(
            seen(&s),
            vec![1, 4],
            "a reader that takes over commits again"
        );
    }
}
