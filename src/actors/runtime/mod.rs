//! The message runtime: how a checked configuration runs as a graph of components.
//!
//! ```text
//!            ConfigSupervisor (actor: start, reload, stop; owns the Graph)
//!                 │ registers one ComponentActor per driver (report, pause, resume, stop)
//!                 ▼
//! source driver ─> readers ──batch──> Queue ──batch──> destination writer ──> sink
//! (SourceDriver)   read, frame, parse,  (QueueStore:     (own arbiter, one
//!                  route inline          memory FIFO)     write() per batch)
//!        ^                                                        │
//!        └──────── Window credits <── BatchAck dropped <── entry written
//! ```
//!
//! * [`driver`]: the two driver traits (what a source and a destination are to the runtime),
//!   and what passes between generations of a driver ([`driver::Parking`], `Resources`,
//!   `Leftovers`);
//! * [`plan`]: configuration → [`plan::Plan`] through the registry, refusing by name what the
//!   runtime lacks;
//! * [`supervisor`]: the ConfigSupervisor — what happens on start, reload and stop;
//! * [`reload_plan`]: what a reload does to each component (`sluice-ctl reload --check`);
//! * [`graph`]: a plan started as components; its stop for a reload or for good;
//! * [`component`]: a component's control face (an actor) and a source's pause switch;
//! * [`queue`]: the queue seam and the memory queue;
//! * [`ack`]: flow-control windows and batch acknowledgements;
//! * [`bookmark`]: positions committed once every earlier batch is delivered;
//! * [`ingest`]: parse + route + enqueue, shared by every source;
//! * [`settings`]: driver options + globals → parser and template options;
//! * [`counters`]: per-component atomics; [`error`]: the runtime's typed errors;
//! * `hook-commands()`: [`hooks`].

pub mod ack;
pub mod bookmark;
pub mod component;
pub(crate) mod config_graph;
pub mod counters;
pub mod driver;
pub mod error;
pub mod graph;
pub(crate) mod graph_view;
pub mod hooks;
pub mod ingest;
pub mod plan;
pub mod queue;
pub mod reload_plan;
pub mod settings;
pub mod stats;
pub mod supervisor;
#[cfg(test)]
mod supervisor_tests;
