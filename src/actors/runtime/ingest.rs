//! What every source does with what it read: parse each frame into a message, add the
//! source's own touches (SOURCE, `.source.NAME`, tags, overrides), run the log paths inline
//! (the pipeline's [`Router`]) and hand one batch per destination driver to its queue.
//!
//! [`Ingest`] is the immutable, shared part (one per source driver); [`Batcher`] is the
//! per-reader part (one per connection) holding reusable buffers, so that once warm a batch
//! allocates nothing but the messages themselves.

use std::sync::Arc;

use super::ack::{BatchAck, Bookmark, Window};
use super::counters::Counters;
use super::queue::{Entry, Queue};
use crate::message::{Builtin, LogMessage, ParseOptions, PeerInfo, TagId, UnixTime};
use crate::pipeline::router::Delivery;
use crate::pipeline::{Cx, Router, SourceId};

/// Where the router's deliveries go: for each destination object (the router's `DestId`) the
/// queues of its drivers. Whether a delivery is flow-controlled comes with the delivery (the
/// router knows whether its path passed `flags(flow-control)`).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// Queue of each destination driver, by slot.
    pub queues: Vec<Arc<Queue>>,
    /// Slots of each destination object, by [`DestId`](crate::pipeline::DestId).
    pub slots: Vec<Vec<usize>>,
}

/// Where a source's messages go: its id in the log paths, the paths, the queues. Swapped by a
/// reload that keeps the source running ([`Ingest::set_routing`]); a reader takes it once per
/// batch.
pub struct Routing {
    pub source: SourceId,
    pub router: Arc<Router>,
    pub outputs: Arc<Outputs>,
}

/// The shared state of one source driver (read-only but for its [`Routing`]).
pub struct Ingest {
    pub name: Arc<str>,
    pub routing: std::sync::RwLock<Arc<Routing>>,
    pub parse: ParseOptions,
    /// `.source.NAME` and the source's `tags()`.
    pub tags: Vec<TagId>,
    pub program_override: Option<Vec<u8>>,
    pub host_override: Option<Vec<u8>>,
    pub counters: Arc<Counters>,
    /// The source's pause switch: readers take their windows from it.
    pub gate: Arc<super::component::Gate>,
    /// syslog-ng's driver id (`s#0`), for the per-driver dynamic stats.
    pub driver_id: Arc<str>,
    /// `stats-level()`: from 1 connections count per peer too ([`Counters::peer`]), from 2
    /// messages count by host (and more from 3, see `stats::dynamic`).
    pub stats_level: u32,
    /// `stats-max-dynamics()`.
    pub max_dynamics: Option<u32>,
}

impl Ingest {
    /// A reader's flow-control window, under the source's pause switch.
    pub fn window(&self, configured: u32) -> Arc<Window> {
        self.gate.window(configured)
    }

    /// A window of the configured size up to `cap`, under the source's pause switch (a
    /// source whose readers are not sockets: see its cap).
    pub fn window_up_to(&self, configured: u32, cap: u32) -> Arc<Window> {
        self.gate.window_up_to(configured, cap)
    }

    /// The next configuration's log paths and queues, for a source that goes on running.
    pub fn set_routing(&self, routing: Arc<Routing>) {
        let mut r = self.routing.write().unwrap_or_else(|p| p.into_inner());
        *r = routing;
    }

    fn current_routing(&self) -> Arc<Routing> {
        self.routing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A reader's reusable buffers and the batch being built: every message is routed as soon as
/// it is parsed (no intermediate vector of messages), its deliveries collected per destination
/// driver, and [`Ingest::flush`] pushes them with one queue lock each.
#[derive(Default)]
pub struct Batcher {
    out: Vec<Vec<Entry>>,
    scratch: Vec<Vec<u8>>,
    ack: Option<Arc<BatchAck>>,
    count: u32,
    /// The routing this batch goes by, taken at [`Ingest::begin`].
    routing: Option<Arc<Routing>>,
    /// Raw messages parsed into the batch, their bytes and the largest (`msg_size_*`),
    /// counted once per batch.
    parsed: (u64, u64, u64),
    /// The peer's counters, for a connection counted per peer.
    pub peer: Option<Arc<Counters>>,
    /// Hosts, senders, programs and priorities counted for the dynamic stats.
    tally: crate::actors::runtime::stats::Tally,
}

impl Batcher {
    /// Messages routed and not yet flushed.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether nothing is waiting to be flushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl Ingest {
    /// Starts a batch that may hold up to `credits` of `window` (`None`: not flow-controlled,
    /// such as internal()).
    pub fn begin(&self, b: &mut Batcher, window: Option<&Arc<Window>>, credits: u32) {
        b.ack = window.map(|w| BatchAck::new(w.clone(), credits));
        b.count = 0;
        let routing = self.current_routing();
        if b.out.len() < routing.outputs.queues.len() {
            b.out.resize_with(routing.outputs.queues.len(), Vec::new);
        }
        b.routing = Some(routing);
    }

    /// Like [`Ingest::begin`], the batch's ack also carrying `bookmark` (where the batch
    /// ends in the reader's input), reported when the batch is finished.
    pub fn begin_with_bookmark(
        &self,
        b: &mut Batcher,
        window: &Arc<Window>,
        credits: u32,
        bookmark: Option<Bookmark>,
    ) {
        self.begin(b, None, 0);
        b.ack = Some(BatchAck::with_bookmark(window.clone(), credits, bookmark));
    }

    /// Parses one frame and routes it into the batch.
    #[inline]
    pub fn parse_into(
        &self,
        b: &mut Batcher,
        raw: &[u8],
        peer: Option<&PeerInfo>,
        received: UnixTime,
    ) {
        self.parse_into_with(b, raw, peer, received, &[]);
    }

    /// [`Ingest::parse_into`], also setting the transport's values (`aux`: the sender's
    /// credentials on unix sockets) on the message after parsing, as syslog-ng's reader does
    /// with its aux data.
    #[inline]
    pub fn parse_into_with(
        &self,
        b: &mut Batcher,
        raw: &[u8],
        peer: Option<&PeerInfo>,
        received: UnixTime,
        aux: &[(&'static str, Vec<u8>)],
    ) {
        let size = raw.len() as u64;
        b.parsed = (b.parsed.0 + 1, b.parsed.1 + size, b.parsed.2.max(size));
        let (mut msg, err) = crate::message::parse_with_status(raw, &self.parse, peer, received);
        if err.is_some() {
            Counters::add(&self.counters.parse_errors, 1);
        }
        for (name, value) in aux {
            msg.set(name, value);
        }
        self.touch(&mut msg);
        self.route(b, msg);
    }

    /// The source's own additions to every message (syslog-ng's `log_source_post`).
    pub fn touch(&self, msg: &mut LogMessage) {
        msg.nv.set_builtin(Builtin::Source, self.name.as_bytes());
        if let Some(p) = &self.program_override {
            // Through LogMessage: a new PROGRAM drops LEGACY_MSGHDR, so $MSGHDR shows it
            // (`over[12]: `), as in syslog-ng.
            msg.set_builtin(Builtin::Program, p);
        }
        if let Some(h) = &self.host_override {
            msg.nv.set_builtin(Builtin::Host, h);
        }
        for t in &self.tags {
            msg.set_tag(*t);
        }
    }

    /// Runs the log paths for one message and collects its deliveries into the batch.
    pub fn route(&self, b: &mut Batcher, msg: LogMessage) {
        self.route_shared(b, Arc::new(msg));
    }

    /// [`Ingest::route`] for a message someone else holds too (a Python source's view of
    /// what it posted).
    pub fn route_shared(&self, b: &mut Batcher, msg: Arc<LogMessage>) {
        b.count += 1;
        if self.stats_level >= 2 {
            let get = |x| msg.get_builtin(x).unwrap_or_default();
            let (host, from) = (get(Builtin::Host), get(Builtin::HostFrom));
            b.tally
                .count(self.stats_level, host, from, get(Builtin::Program), msg.pri);
        }
        let routing = b.routing.take().unwrap_or_else(|| self.current_routing());
        if b.out.len() < routing.outputs.queues.len() {
            b.out.resize_with(routing.outputs.queues.len(), Vec::new);
        }
        let base = routing.router.context();
        let mut cx = Cx::with_buffers(base.render, std::mem::take(&mut b.scratch));
        let outputs = &*routing.outputs;
        let (out, ack) = (&mut b.out, &b.ack);
        let mut deliver = |d: Delivery, m: Arc<LogMessage>| {
            let Some(slots) = outputs.slots.get(d.dest.0 as usize) else {
                return;
            };
            // Only flow-controlled deliveries hold the batch's credits.
            let ack = if d.flow_control { ack.clone() } else { None };
            for &s in slots {
                if let Some(v) = out.get_mut(s) {
                    v.push(Entry {
                        msg: m.clone(),
                        ack: ack.clone(),
                    });
                }
            }
        };
        routing
            .router
            .route_with(&mut cx, routing.source, msg, &mut deliver);
        b.scratch = cx.into_buffers();
        b.routing = Some(routing);
    }

    /// Pushes the batch's deliveries, one batch per destination driver. The batch keeps one
    /// credit per message routed; they come back when the last flow-controlled delivery is
    /// finished — right away when there is none. Returns how many messages the batch held.
    pub fn flush(&self, b: &mut Batcher) -> u32 {
        let n = b.count;
        if let Some(a) = &b.ack {
            a.set_credits(n);
        }
        Counters::add(&self.counters.received, u64::from(n));
        let parsed = std::mem::take(&mut b.parsed);
        // The stamp: one clock read per batch, and none for an empty one.
        let now = match n {
            0 => 0,
            _ => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        self.counters.routed(u64::from(n), parsed, now);
        if let Some(p) = &b.peer {
            p.routed(u64::from(n), parsed, now);
        }
        if self.stats_level >= 2 {
            let d = crate::actors::runtime::stats::dynamic();
            d.add(
                &mut b.tally,
                self.stats_level,
                &self.driver_id,
                self.max_dynamics,
            );
        }
        let routing = b.routing.take().unwrap_or_else(|| self.current_routing());
        for (slot, batch) in b.out.iter_mut().enumerate() {
            if !batch.is_empty()
                && let Some(q) = routing.outputs.queues.get(slot)
            {
                q.push_batch(batch);
            }
        }
        b.routing = Some(routing);
        b.count = 0;
        // The reader's own reference goes: credits return now unless a queue holds a clone.
        b.ack = None;
        n
    }
}
