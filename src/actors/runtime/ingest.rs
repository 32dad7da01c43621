//! What every source does with what it read: parse each frame into a message, add the
//! source's own touches (SOURCE, `.source.NAME`, tags, overrides), run the log paths inline
//! (the pipeline's [`Router`]) and hand one batch per destination driver to its queue.
//!
//! [`Ingest`] is the immutable, shared part (one per source driver); [`Batcher`] is the
//! per-reader part (one per connection) holding reusable buffers, so that once warm a batch
//! allocates nothing but the messages themselves.

use std::sync::Arc;

use super::ack::{BatchAck, Window};
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
    /// Slots of each destination object, by [`DestId`].
    pub slots: Vec<Vec<usize>>,
}

/// The shared, read-only state of one source driver.
pub struct Ingest {
    pub name: Arc<str>,
    pub source: SourceId,
    pub router: Arc<Router>,
    pub outputs: Arc<Outputs>,
    pub parse: ParseOptions,
    /// `.source.NAME` and the source's `tags()`.
    pub tags: Vec<TagId>,
    pub program_override: Option<Vec<u8>>,
    pub host_override: Option<Vec<u8>>,
    pub counters: Arc<Counters>,
}

/// A reader's reusable buffers.
#[derive(Default)]
pub struct Batcher {
    msgs: Vec<LogMessage>,
    out: Vec<Vec<Entry>>,
    scratch: Vec<Vec<u8>>,
}

impl Batcher {
    /// Messages parsed and not yet flushed.
    pub fn len(&self) -> usize {
        self.msgs.len()
    }

    /// Whether nothing is waiting to be flushed.
    pub fn is_empty(&self) -> bool {
        self.msgs.is_empty()
    }

    /// Adds a message made elsewhere (internal messages).
    pub fn push(&mut self, msg: LogMessage) {
        self.msgs.push(msg);
    }
}

impl Ingest {
    /// Parses one frame into the batch.
    #[inline]
    pub fn parse_into(
        &self,
        b: &mut Batcher,
        raw: &[u8],
        peer: Option<&PeerInfo>,
        received: UnixTime,
    ) {
        let (mut msg, err) = crate::message::parse_with_status(raw, &self.parse, peer, received);
        if err.is_some() {
            Counters::add(&self.counters.parse_errors, 1);
        }
        self.touch(&mut msg);
        b.msgs.push(msg);
    }

    /// The source's own additions to every message (syslog-ng's `log_source_post`).
    pub fn touch(&self, msg: &mut LogMessage) {
        msg.nv.set_builtin(Builtin::Source, self.name.as_bytes());
        if let Some(p) = &self.program_override {
            msg.nv.set_builtin(Builtin::Program, p);
        }
        if let Some(h) = &self.host_override {
            msg.nv.set_builtin(Builtin::Host, h);
        }
        for t in &self.tags {
            msg.set_tag(*t);
        }
    }

    /// Routes every parsed message and pushes one batch per destination driver. The batch
    /// holds `credits` of `window` (one per message); they come back when the last
    /// flow-controlled delivery is finished — right away when there is none.
    pub fn flush(&self, b: &mut Batcher, window: Option<&Arc<Window>>) {
        if b.msgs.is_empty() {
            return;
        }
        let n = b.msgs.len() as u32;
        let ack = window.map(|w| BatchAck::new(w.clone(), n));
        if b.out.len() < self.outputs.queues.len() {
            b.out.resize_with(self.outputs.queues.len(), Vec::new);
        }
        let base = self.router.context();
        let mut cx = Cx::with_buffers(base.render, std::mem::take(&mut b.scratch));
        let outputs = &*self.outputs;
        let out = &mut b.out;
        for msg in b.msgs.drain(..) {
            let mut deliver = |d: Delivery, m: Arc<LogMessage>| {
                let Some(slots) = outputs.slots.get(d.dest.0 as usize) else {
                    return;
                };
                // Only flow-controlled deliveries hold the batch's credits.
                let ack = match (d.flow_control, &ack) {
                    (true, Some(a)) => Some(a.clone()),
                    _ => None,
                };
                for &s in slots {
                    if let Some(v) = out.get_mut(s) {
                        v.push(Entry {
                            msg: m.clone(),
                            ack: ack.clone(),
                        });
                    }
                }
            };
            self.router
                .route_with(&mut cx, self.source, Arc::new(msg), &mut deliver);
        }
        b.scratch = cx.into_buffers();
        Counters::add(&self.counters.received, u64::from(n));
        Counters::add(&self.counters.processed, u64::from(n));
        for (slot, batch) in b.out.iter_mut().enumerate() {
            if !batch.is_empty()
                && let Some(q) = outputs.queues.get(slot)
            {
                q.push_batch(batch);
            }
        }
        // `ack` drops here: its credits return now unless a queue holds a clone.
    }
}
