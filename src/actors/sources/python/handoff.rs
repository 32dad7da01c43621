//! A reload's handover of the Python sources that track bookmarks.
//!
//! A Python source is replaced on every reload, and the new object's `init()` typically
//! reads its position from `Persist` — the entry the old object's ack callback writes as
//! deliveries are acknowledged (seed 003's fetcher). Were the new object bound while the
//! old one still had messages in flight, it would read a stale position and send those
//! messages again. So before the new configuration is bound, [`pause_for_reload`] closes
//! the pause switch of every running Python source with an ack tracker (its window gives no
//! credits: the fetcher waits before its next `fetch()`, `post_message()` blocks or the
//! source is suspended), and waits until none is in the middle of sending a message and
//! each tracker has reported every outstanding bookmark. Then the new objects are bound,
//! read the final position, and the old sources stop with nothing in flight: nothing is
//! acknowledged twice, nothing lost.
//!
//! The wait is bounded ([`HANDOFF_WAIT`]): a destination that is down holds its
//! acknowledgements, and a reload must not hang on it. Past the bound the reload goes on,
//! says so, and the messages still in flight may come twice (the old callback reports them
//! when they are delivered). Dropping the [`ReloadPause`] opens the switches again: for a
//! reload that failed, the old sources simply go on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::tracker::Tracker;
use crate::actors::runtime::component::Gate;

/// How long a reload waits for the outstanding acknowledgements of its Python sources.
const HANDOFF_WAIT: Duration = Duration::from_secs(10);

/// What a reload needs of one running Python source with an ack tracker.
pub(super) struct Handoff {
    gate: Arc<Gate>,
    tracker: Arc<Tracker>,
    /// The source's thread is between checking its window and sending the message.
    producing: AtomicBool,
    driver: String,
}

/// The running sources' handoffs (dead ones are pruned as new ones come).
static RUNNING: Mutex<Vec<Weak<Handoff>>> = Mutex::new(Vec::new());

impl Handoff {
    /// Registers a source that starts: its component's `gate`, its `tracker`.
    pub(super) fn register(gate: Arc<Gate>, tracker: Arc<Tracker>, driver: &str) -> Arc<Handoff> {
        let h = Arc::new(Handoff {
            gate,
            tracker,
            producing: AtomicBool::new(false),
            driver: driver.to_string(),
        });
        let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        running.retain(|w| w.strong_count() > 0);
        running.push(Arc::downgrade(&h));
        h
    }

    /// Called by the source's thread before it uses a credit: false while a reload holds
    /// the source (then it waits for credits, which come when the switch opens).
    pub(super) fn may_produce(&self) -> bool {
        self.producing.store(true, Ordering::SeqCst);
        if self.gate.is_paused() {
            self.producing.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Called once the message is sent (its bookmark is then the tracker's to report), or
    /// when the thread waits.
    pub(super) fn produced(&self) {
        self.producing.store(false, Ordering::SeqCst);
    }

    /// Resolves once the source, paused, sends nothing more and every bookmark it sent
    /// is reported.
    async fn quiet(&self) {
        // The switch is closed: once the thread is not sending, nothing new comes (a
        // `fetch()` in progress may take its time; its message is waited for too).
        while self.producing.load(Ordering::SeqCst) {
            tokio::time::sleep(SEND_POLL).await;
        }
        self.tracker.drained().await;
    }
}

/// How often a reload looks whether a paused source's thread has finished its send.
const SEND_POLL: Duration = Duration::from_millis(2);

/// The Python sources a reload holds paused; dropping it opens their switches.
pub(crate) struct ReloadPause(Vec<Arc<Handoff>>);

impl Drop for ReloadPause {
    fn drop(&mut self) {
        for h in &self.0 {
            h.tracker.report_on_schedule();
            h.gate.set(false);
        }
    }
}

/// Pauses every running Python source with an ack tracker and waits (bounded) until their
/// outstanding bookmarks are reported (see the module doc).
pub(crate) async fn pause_for_reload() -> ReloadPause {
    let running: Vec<Arc<Handoff>> = {
        let r = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
        r.iter().filter_map(Weak::upgrade).collect()
    };
    for h in &running {
        h.gate.set(true);
    }
    for h in &running {
        if tokio::time::timeout(HANDOFF_WAIT, h.quiet()).await.is_err() {
            tracing::warn!(driver = %h.driver, wait = ?HANDOFF_WAIT,
                "Reload: acknowledgements of this Python source are still outstanding; \
                 the new configuration starts now, and the messages in flight may be \
                 delivered twice");
        }
    }
    ReloadPause(running)
}
