//! Flow control and acknowledgements: the credit [`Window`] of a reader and the per-batch
//! [`BatchAck`] that gives its credits back when the last delivery of the batch is finished.
//!
//! syslog-ng gives every reader a window of `log-iw-size()` messages (split across a
//! listener's `max-connections()`); a message takes one slot when it is read and frees it when
//! every destination it went to acknowledged it. Here the reader takes credits *before* it
//! parses, so an exhausted window stops reading (the socket fills, the client slows down).
//!
//! Acks are batch-grained: one `Arc<BatchAck>` per read batch, cloned (an atomic increment, no
//! allocation) into each *flow-controlled* queue entry. Whatever happens to an entry —
//! written, dropped by a rule, discarded on shutdown, or simply dropped by a bug — dropping the
//! clone is the outcome, and the last drop returns the batch's credits. Nothing can leak
//! credits, and nothing has to remember to "ack".
//!
//! Both objects are plain `Arc`s with no tie to an actor or a graph: on reload the
//! ConfigSupervisor moves queue entries (with their `BatchAck`s) into the new graph's queues,
//! and a kept connection keeps its `Window`, so credits come home to the right reader whichever
//! graph finishes the delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use tokio::sync::Notify;

use super::component::Gate;

/// A reader's flow-control window: credits (messages it may still read) and a wake-up for
/// when credits come back.
#[derive(Debug)]
pub struct Window {
    credits: AtomicU32,
    size: u32,
    returned: Notify,
    /// Times the reader found the window empty and had to wait (for stats and tests).
    suspended: AtomicU64,
    /// The source's pause switch: while it is closed the reader gets no credits.
    gate: Option<Arc<Gate>>,
    /// The reader waits in [`Window::acquire`] for credits to come back.
    waiting: AtomicBool,
}

/// Most messages one reader keeps in flight, whatever its configured window.
///
/// syslog-ng's `log-iw-size()` is an upper bound: a reader may keep fewer messages in flight
/// and leave the rest in the kernel's socket buffer (which is what flow control does anyway
/// when the window is empty). Past a few hundred messages a bigger window buys no
/// throughput — the writer takes batches of thousands — but costs ~500 bytes per message of
/// resident memory: with `bench/`'s `log-iw-size(20000) max-connections(10)` and 4
/// connections, windows of 2000 meant 8000 messages (4 MB) in flight and a peak RSS ~3 MB
/// above syslog-ng's. Measured at 4 connections (msg/s, peak RSS): 512 → 965k, 12.5 MB;
/// 384 → 957k, 12.0 MB; 256 → 860k, 11.4 MB (syslog-ng: 350k, 10.5–13.5 MB). 384 keeps
/// the throughput and most of the saving.
pub const READER_IN_FLIGHT_CAP: u32 = 384;

impl Window {
    /// A reader's window: its configured size, capped at [`READER_IN_FLIGHT_CAP`].
    pub fn for_reader(configured: u32) -> Arc<Window> {
        Window::new(configured.min(READER_IN_FLIGHT_CAP))
    }

    /// A reader's window of its configured size, at most `cap`, under a source's pause
    /// switch (see [`Gate::window`]).
    pub fn for_reader_gated(configured: u32, cap: u32, gate: Arc<Gate>) -> Arc<Window> {
        let size = configured.clamp(1, cap.max(1));
        Arc::new(Window {
            credits: AtomicU32::new(size),
            size,
            returned: Notify::new(),
            suspended: AtomicU64::new(0),
            gate: Some(gate),
            waiting: AtomicBool::new(false),
        })
    }

    /// Whether the source's pause switch is closed (no credits until it opens).
    pub fn paused(&self) -> bool {
        self.gate.as_ref().is_some_and(|g| g.is_paused())
    }

    /// Wakes a reader waiting for credits (its source was resumed).
    pub(crate) fn wake(&self) {
        self.returned.notify_one();
    }

    /// A full window of `size` credits (at least 1).
    pub fn new(size: u32) -> Arc<Window> {
        let size = size.max(1);
        Arc::new(Window {
            credits: AtomicU32::new(size),
            size,
            returned: Notify::new(),
            suspended: AtomicU64::new(0),
            gate: None,
            waiting: AtomicBool::new(false),
        })
    }

    /// The window size.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Credits available now.
    pub fn available(&self) -> u32 {
        self.credits.load(Ordering::Acquire)
    }

    /// Whether the reader waits for credits now (flow control holds it: suspended).
    pub fn is_waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire)
    }

    /// How many times the reader was suspended on an empty window.
    pub fn suspended(&self) -> u64 {
        self.suspended.load(Ordering::Relaxed)
    }

    /// Takes every available credit, waiting until there is at least one.
    pub async fn acquire(&self) -> u32 {
        loop {
            let n = if self.paused() {
                0
            } else {
                self.credits.swap(0, Ordering::AcqRel)
            };
            if n > 0 {
                return n;
            }
            self.suspended.fetch_add(1, Ordering::Relaxed);
            self.waiting.store(true, Ordering::Release);
            // notify_one stores a permit when nobody waits, so a release between the swap and
            // this await is not lost.
            self.returned.notified().await;
            self.waiting.store(false, Ordering::Release);
        }
    }

    /// Takes every available credit without waiting (0 when the window is empty, or its
    /// source is paused).
    pub fn try_acquire(&self) -> u32 {
        if self.paused() {
            return 0;
        }
        self.credits.swap(0, Ordering::AcqRel)
    }

    /// Gives `n` credits back and wakes the reader.
    pub fn release(&self, n: u32) {
        if n == 0 {
            return;
        }
        self.credits.fetch_add(n, Ordering::AcqRel);
        self.returned.notify_one();
    }

    /// Gives back credits the reader took but did not use (no wake-up: the reader is the
    /// caller).
    pub fn put_back(&self, n: u32) {
        if n > 0 {
            self.credits.fetch_add(n, Ordering::AcqRel);
        }
    }
}

/// Told when a batch it handed a [`Bookmark`] to is finished, in whatever order batches
/// finish (a reader's position tracker: see [`super::bookmark`]).
pub trait AckTracker: Send + Sync + std::fmt::Debug {
    /// Batch `seq` is finished; `aborted` when it was discarded undelivered (shutdown).
    /// `credits` go back to the reader's window when dropped: a tracker that reports the
    /// acknowledgement later (a Python callback) keeps them until it has, so the window
    /// bounds what is delivered but not yet reported, as in syslog-ng.
    fn acked(&self, seq: u64, aborted: bool, credits: Credits);
}

/// Credits on their way back to a window: released when dropped.
#[derive(Debug)]
pub struct Credits {
    window: Arc<Window>,
    n: u32,
}

impl Drop for Credits {
    fn drop(&mut self) {
        self.window.release(self.n);
    }
}

/// Where a batch stands in its reader's input (a file position, later a Python bookmark):
/// reported to `tracker` when the batch's last delivery is finished.
#[derive(Debug)]
pub struct Bookmark {
    pub tracker: Arc<dyn AckTracker>,
    pub seq: u64,
}

/// The acknowledgement of one read batch: returns `credits` to its window when the last
/// clone is dropped, and reports its [`Bookmark`] (if any) to its tracker.
#[derive(Debug)]
pub struct BatchAck {
    window: Arc<Window>,
    credits: AtomicU32,
    bookmark: Option<Bookmark>,
    aborted: AtomicBool,
}

impl BatchAck {
    /// The window its credits go back to.
    pub fn window(&self) -> &Arc<Window> {
        &self.window
    }

    /// An ack that returns `credits` to `window`.
    pub fn new(window: Arc<Window>, credits: u32) -> Arc<BatchAck> {
        Self::with_bookmark(window, credits, None)
    }

    /// An ack that returns `credits` to `window` and reports `bookmark` when finished.
    pub fn with_bookmark(
        window: Arc<Window>,
        credits: u32,
        bookmark: Option<Bookmark>,
    ) -> Arc<BatchAck> {
        Arc::new(BatchAck {
            window,
            credits: AtomicU32::new(credits),
            bookmark,
            aborted: AtomicBool::new(false),
        })
    }

    /// Marks the batch as discarded undelivered (messages left in a queue at shutdown): its
    /// bookmark must not be committed, so the input is read again on the next start. Credits
    /// still return.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
    }

    /// Credits this batch holds.
    pub fn credits(&self) -> u32 {
        self.credits.load(Ordering::Acquire)
    }

    /// Sets the credits the batch holds, once the reader knows how many messages it made of
    /// the credits it took. Race-free as long as the caller still holds its own `Arc`: the
    /// credits are only read by the last drop.
    pub fn set_credits(&self, n: u32) {
        self.credits.store(n, Ordering::Release);
    }
}

impl Drop for BatchAck {
    fn drop(&mut self) {
        let credits = Credits {
            window: self.window.clone(),
            n: *self.credits.get_mut(),
        };
        match self.bookmark.take() {
            Some(b) => b.tracker.acked(b.seq, *self.aborted.get_mut(), credits),
            None => drop(credits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_come_back_when_the_last_clone_drops() {
        let w = Window::new(10);
        assert_eq!(w.try_acquire(), 10);
        assert_eq!(w.available(), 0);
        let ack = BatchAck::new(w.clone(), 7);
        w.put_back(3);
        let clones: Vec<_> = (0..5).map(|_| ack.clone()).collect();
        drop(ack);
        assert_eq!(w.available(), 3);
        drop(clones);
        assert_eq!(w.available(), 10);
    }

    #[test]
    fn acquire_waits_for_a_release() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let w = Window::new(2);
            assert_eq!(w.acquire().await, 2);
            let w2 = w.clone();
            let t = tokio::spawn(async move { w2.acquire().await });
            tokio::task::yield_now().await;
            assert!(!t.is_finished());
            drop(BatchAck::new(w.clone(), 2));
            assert_eq!(t.await.expect("task"), 2);
            assert_eq!(w.suspended(), 1);
        });
    }
}
