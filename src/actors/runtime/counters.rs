//! Per-component counters, kept as atomics so the hot path never takes a lock or sends a
//! message to count. `runtime::stats` turns them into syslog-ng's stats rows (CSV, query,
//! Prometheus) and `sluice-ctl graph` shows them per component.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters every component keeps; a component uses the ones that apply to it.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages a source read and parsed.
    pub received: AtomicU64,
    /// Messages a source routed (syslog-ng `processed`); for a destination, messages that
    /// reached its queue, dropped ones included.
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
    /// Connections open now (stream listeners).
    pub connections: AtomicU64,
    /// Bytes of the messages in a destination's queue (syslog-ng `memory_usage`).
    pub memory_usage: AtomicU64,
    /// Connections refused because `max-connections()` were open.
    pub rejected: AtomicU64,
    /// Connections closed because their framing broke (a bad octet count, a frame too long).
    pub framing_errors: AtomicU64,
    /// When the source last routed a message (seconds since the epoch; syslog-ng `stamp`).
    pub stamp: AtomicU64,
    /// Messages a destination formatted, and their bytes (`msg_size_avg`).
    pub msg_count: AtomicU64,
    pub msg_bytes: AtomicU64,
    /// The largest formatted message (`msg_size_max`).
    pub msg_size_max: AtomicU64,
    /// Messages cut by `truncate-size()`, and the bytes cut.
    pub truncated_count: AtomicU64,
    pub truncated_bytes: AtomicU64,
    /// The rates syslog-ng's `eps_*` rows show, updated every minute (`runtime::stats`).
    pub eps: super::stats::Eps,
    /// `dropped`, by why (indexed by [`DropReason`]).
    drops: [AtomicU64; DropReason::ALL.len()],
    /// A destination waits to retry after a failed send (its writer's state).
    pub reconnecting: std::sync::atomic::AtomicBool,
    /// The last error of the component and when it happened (seconds since the epoch).
    last_error: std::sync::Mutex<Option<(u64, String)>>,
    /// Counters of parts of the component, by instance, from stats-level 1: a stream
    /// listener's per peer address (`tcp,10.0.0.1`), a templated file's per file name.
    peers: std::sync::Mutex<Vec<Arc<Peer>>>,
}

/// The counters of one part of a component (syslog-ng's per-connection cluster, shared by
/// the connections of one address; or one file of a templated name) and how many of its
/// holders are open.
#[derive(Debug)]
pub struct Peer {
    pub instance: String,
    pub counters: Arc<Counters>,
    /// Connections (or file handles) open now.
    pub live: std::sync::atomic::AtomicUsize,
}

/// A connection's hold on its [`Peer`]: counts it open until dropped.
#[derive(Debug)]
pub struct PeerGuard(pub Arc<Peer>);

impl Drop for PeerGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a message was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Not flow-controlled, and the queue (`log-fifo-size()`, a full disk-buffer) was full.
    QueueFull,
    /// Routed to a destination a reload removed, or stopped alone.
    DestinationGone,
    /// The destination could not write it and `flags(ignore-errors)` said drop.
    WriteError,
    /// A Python destination returned `DROP`.
    PythonDrop,
    /// A Python destination failed `retries()` times.
    RetriesExhausted,
    /// Posted by a Python source while suspended by flow control.
    PostedWhileSuspended,
    /// Still queued when the daemon stopped (memory queues).
    Shutdown,
}

impl DropReason {
    pub const ALL: [DropReason; 7] = [
        DropReason::QueueFull,
        DropReason::DestinationGone,
        DropReason::WriteError,
        DropReason::PythonDrop,
        DropReason::RetriesExhausted,
        DropReason::PostedWhileSuspended,
        DropReason::Shutdown,
    ];

    /// The reason's name in the graph (`dropped_queue_full`).
    pub fn counter_name(self) -> &'static str {
        match self {
            DropReason::QueueFull => "dropped_queue_full",
            DropReason::DestinationGone => "dropped_destination_gone",
            DropReason::WriteError => "dropped_write_error",
            DropReason::PythonDrop => "dropped_python_drop",
            DropReason::RetriesExhausted => "dropped_retries_exhausted",
            DropReason::PostedWhileSuspended => "dropped_posted_while_suspended",
            DropReason::Shutdown => "dropped_shutdown",
        }
    }
}

/// The counters a reset leaves alone: they say what is, not what happened.
const GAUGES: &[&str] = &["queued", "connections", "stamp", "memory_usage"];

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

    /// Counts `n` messages dropped for `reason` (in `dropped` and by reason).
    pub fn dropped_for(&self, reason: DropReason, n: u64) {
        if n > 0 {
            self.dropped.fetch_add(n, Ordering::Relaxed);
            self.drops[reason as usize].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The counters of `instance`'s connections, counting one more open until the guard
    /// drops.
    pub fn peer(&self, instance: String) -> PeerGuard {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        let peer = match peers.iter().find(|p| p.instance == instance) {
            Some(p) => p.clone(),
            None => {
                let p = Arc::new(Peer {
                    instance,
                    counters: Arc::default(),
                    live: Default::default(),
                });
                peers.push(p.clone());
                p
            }
        };
        peer.live.fetch_add(1, Ordering::AcqRel);
        PeerGuard(peer)
    }

    /// Forgets the peers with nothing open.
    pub fn prune_closed_peers(&self) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.retain(|p| p.live.load(Ordering::Acquire) > 0);
    }

    /// The peers seen so far.
    pub fn peers(&self) -> Vec<Arc<Peer>> {
        self.peers.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records the component's latest error.
    pub fn set_error(&self, error: impl std::fmt::Display) {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut e = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        *e = Some((at, error.to_string()));
    }

    /// The latest error and when it happened, if any.
    pub fn last_error(&self) -> Option<(u64, String)> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Counts a reader's batch of `n` routed messages at `now` (seconds since the epoch),
    /// of which `parsed` = (count, bytes, largest) were parsed from raw input.
    pub fn routed(&self, n: u64, parsed: (u64, u64, u64), now: u64) {
        if n > 0 {
            self.processed.fetch_add(n, Ordering::Relaxed);
            self.stamp.store(now, Ordering::Relaxed);
        }
        let (count, bytes, max) = parsed;
        if count > 0 {
            self.count_sizes(count, bytes, max);
        }
    }

    /// Counts `count` messages of `bytes` in all, the largest `max` bytes (a reader's batch).
    pub fn count_sizes(&self, count: u64, bytes: u64, max: u64) {
        self.msg_count.fetch_add(count, Ordering::Relaxed);
        self.msg_bytes.fetch_add(bytes, Ordering::Relaxed);
        if max > self.msg_size_max.load(Ordering::Relaxed) {
            self.msg_size_max.fetch_max(max, Ordering::Relaxed);
        }
    }

    /// Average size of the formatted messages (0 before the first).
    pub fn msg_size_avg(&self) -> u64 {
        Self::get(&self.msg_bytes)
            .checked_div(Self::get(&self.msg_count))
            .unwrap_or(0)
    }

    fn fields(&self) -> [(&'static str, &AtomicU64); 17] {
        [
            ("received", &self.received),
            ("processed", &self.processed),
            ("dropped", &self.dropped),
            ("queued", &self.queued),
            ("written", &self.written),
            ("parse_errors", &self.parse_errors),
            ("suppressed", &self.suppressed),
            ("connections", &self.connections),
            ("memory_usage", &self.memory_usage),
            ("rejected", &self.rejected),
            ("framing_errors", &self.framing_errors),
            ("stamp", &self.stamp),
            ("msg_count", &self.msg_count),
            ("msg_bytes", &self.msg_bytes),
            ("msg_size_max", &self.msg_size_max),
            ("truncated_count", &self.truncated_count),
            ("truncated_bytes", &self.truncated_bytes),
        ]
    }

    /// A snapshot as `(name, value)` pairs, for the graph and tests: the counters, then
    /// `dropped` by reason.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let by_reason = DropReason::ALL
            .into_iter()
            .map(|r| (r.counter_name(), Self::get(&self.drops[r as usize])));
        self.fields()
            .into_iter()
            .map(|(k, c)| (k, Self::get(c)))
            .chain(by_reason)
            .collect()
    }

    /// One counter by its field name (`processed`, `memory_usage`; 0 for a name it has not).
    pub fn value_of(&self, name: &str) -> u64 {
        self.fields()
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, c)| Self::get(c))
            .unwrap_or(0)
    }

    /// Sets every counter but the gauges to 0 (`syslog-ng-ctl stats --reset`).
    pub fn reset(&self) {
        for (k, c) in self.fields() {
            if !GAUGES.contains(&k) {
                c.store(0, Ordering::Relaxed);
            }
        }
        for d in &self.drops {
            d.store(0, Ordering::Relaxed);
        }
        self.eps.reset();
    }

    /// Sets one counter to 0 by its name (`query get --reset`); gauges are left alone.
    pub fn reset_one(&self, name: &str) {
        match name {
            "eps" => self.eps.reset(),
            "dropped" => self
                .drops
                .iter()
                .for_each(|d| d.store(0, Ordering::Relaxed)),
            _ => {}
        }
        if let Some((_, c)) = self.fields().into_iter().find(|(k, _)| *k == name)
            && !GAUGES.contains(&name)
        {
            c.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_keeps_gauges_and_sizes_average() {
        let c = Counters::default();
        Counters::add(&c.processed, 5);
        Counters::add(&c.queued, 3);
        c.count_sizes(2, 40, 30);
        Counters::add(&c.truncated_bytes, 4);
        assert_eq!(c.msg_size_avg(), 20);
        assert_eq!(Counters::get(&c.msg_size_max), 30);
        assert_eq!(Counters::get(&c.truncated_bytes), 4);
        c.reset();
        assert_eq!(Counters::get(&c.processed), 0);
        assert_eq!(Counters::get(&c.queued), 3);
        assert_eq!(c.msg_size_avg(), 0);
    }
}
