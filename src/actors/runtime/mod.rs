//! The message runtime: how a checked configuration runs as a graph of actors.
//!
//! ```text
//! listener ─accept─> connection reader ──batch──> Queue ──batch──> destination writer
//! (network arbiter)   read 128 KiB, frame,        (Mutex<VecDeque>   (own arbiter: blocking
//!                     parse, route inline          + Notify, one      writes, one write() per
//!                     (pipeline::Router)           lock per batch)    batch)
//!        ^                                                                 │
//!        └──────── Window credits <── BatchAck dropped <── entry written ──┘
//! ```
//!
//! * [`plan`]: configuration → [`plan::Plan`], refusing by name what the runtime lacks;
//! * [`graph`]: a [`plan::Plan`] started as actors; orderly stop; the [`graph::Handover`]
//!   of state to the next graph on reload;
//! * [`ack`]: flow-control windows and batch acknowledgements;
//! * [`bookmark`]: positions committed once every earlier batch is delivered;
//! * [`queue`]: the per-destination memory queue;
//! * [`ingest`]: parse + route + enqueue, shared by every source;
//! * [`net`]: the sockets of the datagram and unix-stream sources and their handover;
//! * [`settings`]: driver options + globals → parser and template options;
//! * [`counters`]: per-component atomics for the stats issue.

pub mod ack;
pub mod bookmark;
pub mod component;
pub mod counters;
pub mod driver;
pub mod error;
pub mod graph;
pub mod hooks;
pub mod ingest;
pub mod plan;
pub mod queue;
pub mod reload_plan;
pub mod settings;
pub mod supervisor;
#[cfg(test)]
mod supervisor_tests;
