//! What a driver is to the runtime: one trait for destination drivers, one for source
//! drivers, and the [`Parking`] slot through which a driver hands its own state (a kept
//! program, a connected socket) to its successor on reload.
//!
//! A driver file plans its call into a value implementing the trait (the registry maps the
//! driver's name to that plan function: `actors::registry`), and the graph starts it through
//! the trait — `plan.rs` and `graph/` name no driver. The supervisor matches drivers of the
//! old and new configuration by [`DestinationDriver::persist_name`] (syslog-ng's rule: the
//! driver and its key options, or `persist-name()`), and by the source's keys.

use super::stats::{DestRows, SourceRows};
use std::any::Any;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_rt::ArbiterHandle;
use tokio::sync::{Notify, oneshot, watch};

use super::error::RuntimeError;
use super::ingest::Ingest;
use crate::actors::destinations::writer::{WriterCx, WriterPlan};
use crate::actors::sources::common::{ReaderOptions, SourceOptions};
use crate::actors::sources::listener::Connections;
use crate::config::span::Span;
use crate::message::ParseFlags;
use crate::persist::Persist;

/// State a driver leaves for the next driver of its persist name (downcast by that driver).
pub type DriverState = Box<dyn Any + Send>;

/// A destination driver, planned and ready to start.
pub trait DestinationDriver: Debug + Send + Sync {
    /// syslog-ng's persist name of this driver (`driver_id` is `OBJECT#INDEX`): the next
    /// configuration's driver of the same name takes its queue and its [`Parking`].
    fn persist_name(&self, driver_id: &str) -> String;

    /// The settings of its writer loop.
    fn writer(&self) -> &WriterPlan;

    /// Starts its writer (a sink run by `writer::start`) on the driver's own arbiter.
    fn start(&self, cx: DestStart<'_>);

    /// Whether two drivers with its persist name are a configuration error (syslog-ng 3.38
    /// refuses them for socket destinations: they would take each other's connection).
    fn unique_persist_name(&self) -> bool {
        false
    }

    /// Its `dst.DRIVER` stats cluster, if syslog-ng gives it one (`pseudofile()` has none).
    fn stats_rows(&self) -> Option<DestRows> {
        None
    }

    /// The plan itself, for tests that look inside it.
    fn as_any(&self) -> &dyn Any;
}

/// What a destination driver starts with.
pub struct DestStart<'a> {
    /// The destination's own thread.
    pub arbiter: &'a ArbiterHandle,
    /// Queue, writer plan, daemon information.
    pub writer: WriterCx,
    /// `OBJECT#INDEX`.
    pub driver_id: &'a str,
    /// What the previous driver of this persist name parked (reload), if anything.
    pub inherited: Option<DriverState>,
    /// Where this driver parks its state when it stops for a reload.
    pub park: Parking,
    /// Fires when the writer has finished.
    pub done: oneshot::Sender<()>,
}

/// A source driver, planned and ready to start.
///
/// Starting is two steps, so that a reload can fail without touching the running graph:
/// [`SourceDriver::acquire`] does everything that can fail (binding a port, creating a FIFO),
/// taking what the running graph already holds from its [`Resources`] instead of binding again;
/// [`SourceDriver::start`] then cannot fail.
pub trait SourceDriver: Debug + Send + Sync {
    /// syslog-ng's persist name of the source (`afsocket_sd.(stream,AF_INET(0.0.0.0:514))`,
    /// a file's `affile_sd_curpos(PATH)`...): what it is matched and named by.
    fn persist_name(&self) -> String;

    /// The option groups its messages are parsed with.
    fn ingest_options(&self) -> IngestOptions<'_>;

    /// Told its `OBJECT#INDEX` once planned (a driver that names itself in messages keeps
    /// it).
    fn set_driver_id(&self, _driver_id: &str) {}

    /// Binds, or takes from `lent` (the running graph's), what must succeed before anything
    /// starts, into `mine`. `object` names the source in errors. On error, whatever this
    /// call took from `lent` is back in `lent` or in `mine` (the caller gives `mine` back).
    fn acquire(
        &self,
        object: &str,
        lent: &mut Resources,
        mine: &mut Resources,
    ) -> Result<(), RuntimeError>;

    /// Starts the source's readers; pushes one receiver per task to wait for at stop.
    fn start(&self, ingest: Arc<Ingest>, cx: &mut SourceStart<'_>);

    /// The persist name under which it keeps state in the persist file, with where it is
    /// configured and how to name it to a user: two sources with one name are refused.
    fn state_key(&self) -> Option<StateKey> {
        None
    }

    /// Whether it needs the persist file (positions).
    fn needs_persist(&self) -> bool {
        false
    }

    /// Whether it may go on running, untouched, across a reload that does not change its
    /// plan (its routing is swapped). Not a listener with `keep-alive(no)`: syslog-ng closes
    /// its connections on every reload.
    fn keeps_running_on_reload(&self) -> bool {
        true
    }

    /// Whether it is `internal()` (the daemon's own messages are collected only then).
    fn is_internal(&self) -> bool {
        false
    }

    /// The stats rows of the driver beyond its statement's (see `runtime::stats`).
    fn stats_rows(&self) -> SourceRows {
        SourceRows::None
    }

    /// The plan itself, for tests that look inside it.
    fn as_any(&self) -> &dyn Any;
}

/// What a source's messages are parsed with (see [`SourceDriver::ingest_options`]).
pub struct IngestOptions<'a> {
    pub source: &'a SourceOptions,
    /// `None` for `internal()`, whose messages are not parsed.
    pub reader: Option<&'a ReaderOptions>,
    /// Parse flags the driver itself sets (`syslog()`: RFC 5424; local sources).
    pub set_flags: u32,
    /// Flags the driver clears after the user's (`unix-*`: expect-hostname).
    pub clear_flags: u32,
}

impl IngestOptions<'_> {
    /// Applies the driver's own flags to the parse flags the options gave.
    pub fn adjust(&self, flags: &mut ParseFlags) {
        flags.0 = (flags.0 | self.set_flags) & !self.clear_flags;
    }
}

/// A persist name a source keeps state under (see [`SourceDriver::state_key`]).
#[derive(Debug, Clone)]
pub struct StateKey {
    pub name: String,
    pub span: Span,
    /// How to tell the user which source this is ("reads /var/log/x").
    pub describe: String,
}

/// What a starting source gets from its graph.
pub struct SourceStart<'a> {
    /// The network arbiters; readers are spread over them.
    pub workers: &'a Arc<Vec<ArbiterHandle>>,
    /// Raised when the graph's sources stop.
    pub stop: &'a watch::Receiver<bool>,
    /// Live readers the stop waits for.
    pub connections: &'a Arc<Connections>,
    /// One receiver per task the stop waits for.
    pub done: &'a mut Vec<oneshot::Receiver<()>>,
    /// What this graph acquired ([`SourceDriver::acquire`]); a source duplicates its part.
    pub resources: &'a Resources,
    /// What the previous graph's readers left (kept connections, file positions) and where
    /// this graph's readers leave theirs.
    pub leftovers: &'a Leftovers,
    pub persist: Option<Arc<Persist>>,
    /// Raised to stop the daemon (the end of `stdin()`).
    pub exit: &'a Arc<Notify>,
    /// The global `mark-freq()` (internal() writes its MARKs).
    pub mark_freq: u32,
    pub local_host: Arc<str>,
    /// Round-robin counter over `workers`.
    pub next_worker: &'a mut usize,
}

impl SourceStart<'_> {
    /// The next network arbiter, round robin (`None` when there is none: the current one).
    pub fn next_home(&mut self) -> Option<ArbiterHandle> {
        let n = self.workers.len();
        if n == 0 {
            return None;
        }
        let h = self.workers.get(*self.next_worker % n).cloned();
        *self.next_worker = self.next_worker.wrapping_add(1);
        h
    }
}

/// What a graph owns for its sources — listening sockets, FIFOs — by key (`tcp:ADDR`,
/// `udp:ADDR`, `unix:PATH`...). The running tasks hold duplicates, so the supervisor can lend
/// these to the next graph's [`SourceDriver::acquire`] while the old graph still runs, and
/// take back what the new one did not want.
#[derive(Debug, Default)]
pub struct Resources(HashMap<String, StateBox>);

impl Resources {
    /// Whether something is held under `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Holds `value` under `key`.
    pub fn insert<T: Any + Send>(&mut self, key: String, value: T) {
        self.0.insert(key, StateBox(Box::new(value)));
    }

    /// Takes what is held under `key`, if it is a `T`.
    pub fn take<T: Any + Send>(&mut self, key: &str) -> Option<T> {
        let b = self.0.remove(key)?;
        match b.0.downcast::<T>() {
            Ok(v) => Some(*v),
            Err(other) => {
                self.0.insert(key.to_string(), StateBox(other));
                None
            }
        }
    }

    /// What is held under `key`, if it is a `T`.
    pub fn get<T: Any + Send>(&self, key: &str) -> Option<&T> {
        self.0.get(key).and_then(|b| b.0.downcast_ref::<T>())
    }

    /// Moves everything of `other` in.
    pub fn absorb(&mut self, other: Resources) {
        self.0.extend(other.0);
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What stopping readers leave for the next graph's readers, by key: open connections of
/// `keep-alive(yes)` listeners (several per key), a file's tracker and position, a FIFO's
/// descriptor. Shared by the graphs of one reload; what no new reader takes is dropped
/// (closed) when the reload ends ([`Leftovers::clear`]).
#[derive(Debug, Clone, Default)]
pub struct Leftovers(Arc<Mutex<HashMap<String, Vec<StateBox>>>>);

impl Leftovers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<StateBox>>> {
        // A panic while inserting cannot leave the map inconsistent.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leaves `value` under `key` (beside what is there).
    pub fn put<T: Any + Send>(&self, key: &str, value: T) {
        self.lock()
            .entry(key.to_string())
            .or_default()
            .push(StateBox(Box::new(value)));
    }

    /// Takes every `T` left under `key`.
    pub fn take_all<T: Any + Send>(&self, key: &str) -> Vec<T> {
        let mut map = self.lock();
        let Some(v) = map.remove(key) else {
            return Vec::new();
        };
        let (mine, other): (Vec<_>, Vec<_>) = v.into_iter().partition(|b| b.0.is::<T>());
        if !other.is_empty() {
            map.insert(key.to_string(), other);
        }
        mine.into_iter()
            .filter_map(|b| b.0.downcast::<T>().ok().map(|v| *v))
            .collect()
    }

    /// Takes the `T` left under `key` (the last one, if several).
    pub fn take<T: Any + Send>(&self, key: &str) -> Option<T> {
        self.take_all(key).pop()
    }

    /// Whether something is left under `key`.
    pub fn has(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// Drops what no reader took (sources the reload removed).
    pub fn clear(&self) {
        let gone = std::mem::take(&mut *self.lock());
        drop(gone);
    }
}

/// Where a stopping driver leaves its state for its successor: set to "reloading" by the
/// supervisor before the driver stops for a reload (a driver stopping for good — exit, or
/// removed by the reload — finds it unset and releases what it holds).
#[derive(Debug, Clone, Default)]
pub struct Parking(Arc<ParkingSlot>);

#[derive(Debug, Default)]
struct ParkingSlot {
    reloading: AtomicBool,
    state: Mutex<Option<StateBox>>,
}

/// `Box<dyn Any>` with a `Debug` that says only that something is there.
struct StateBox(DriverState);

impl Debug for StateBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DriverState")
    }
}

impl Parking {
    /// Set before the driver stops: whether a successor will take what it parks.
    pub fn set_reloading(&self, reloading: bool) {
        self.0.reloading.store(reloading, Ordering::Release);
    }

    /// Whether the driver stops for a reload (and should park what it wants to keep).
    pub fn is_reloading(&self) -> bool {
        self.0.reloading.load(Ordering::Acquire)
    }

    /// Leaves `state` for the successor (replacing what was parked before).
    pub fn park(&self, state: DriverState) {
        let old = self
            .0
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(StateBox(state));
        drop(old);
    }

    /// Takes what was parked.
    pub fn take(&self) -> Option<DriverState> {
        self.0
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|b| b.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parking_keeps_one_state_for_the_successor() {
        let p = Parking::default();
        assert!(!p.is_reloading());
        p.set_reloading(true);
        p.park(Box::new(1u32));
        p.park(Box::new(2u32));
        let got = p.take().and_then(|s| s.downcast::<u32>().ok());
        assert_eq!(got.map(|b| *b), Some(2));
        assert!(p.take().is_none());
    }

    #[test]
    fn resources_and_leftovers_hand_out_by_key_and_type() {
        let mut r = Resources::default();
        r.insert("tcp:x".into(), 5u8);
        assert!(r.take::<u32>("tcp:x").is_none());
        assert!(r.contains("tcp:x"));
        assert_eq!(r.take::<u8>("tcp:x"), Some(5));
        assert!(r.is_empty());
        let l = Leftovers::default();
        l.put("k", 1u32);
        l.put("k", 2u32);
        l.put("k", "other");
        assert_eq!(l.take_all::<u32>("k"), vec![1, 2]);
        assert!(l.has("k"));
        l.clear();
        assert!(!l.has("k"));
    }
}
