//! Per-component counters, kept as atomics so the hot path never takes a lock or sends a
//! message to count. The stats issue reads them (`sluice-ctl stats`, syslog-ng's CSV layout).

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters every component keeps; a component uses the ones that apply to it.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages a source read and parsed (syslog-ng `received`).
    pub received: AtomicU64,
    /// Messages a source routed (syslog-ng `processed`).
    pub processed: AtomicU64,
    /// Messages dropped: a full queue without flow control, an unwritable message.
    pub dropped: AtomicU64,
    /// Messages currently in a queue.
    pub queued: AtomicU64,
    /// Messages a destination wrote.
    pub written: AtomicU64,
    /// Messages that failed to parse (still delivered, as syslog-ng's error message).
    pub parse_errors: AtomicU64,
    /// Repeated messages a destination folded into "Last message ... repeated" (`suppress()`).
    pub suppressed: AtomicU64,
    /// Connections accepted (listeners).
    pub connections: AtomicU64,
}

impl Counters {
    /// Adds `n` to a counter.
    #[inline]
    pub fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// A snapshot as `(name, value)` pairs, for stats and tests.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("received", Self::get(&self.received)),
            ("processed", Self::get(&self.processed)),
            ("dropped", Self::get(&self.dropped)),
            ("queued", Self::get(&self.queued)),
            ("written", Self::get(&self.written)),
            ("parse_errors", Self::get(&self.parse_errors)),
            ("suppressed", Self::get(&self.suppressed)),
            ("connections", Self::get(&self.connections)),
        ]
    }
}
