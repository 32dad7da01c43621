//! A running graph: the actors of one configuration, started from a [`Plan`], and its
//! orderly stop.
//!
//! Threads: the listener actors and connection readers run on a small pool of *network
//! arbiters* (one per core, at most 4); every destination driver runs on an arbiter of its
//! own, so its blocking writes never hold up a socket; `internal()` runs on the system
//! arbiter with the control socket. Data moves as batches through [`Queue`]s; no actor
//! mailbox is on the data path.
//!
//! Stop ([`Graph::stop`]): sources stop reading (whatever they parsed is already queued),
//! then the queues are closed and the destinations drain them, bounded by a timeout; files
//! are closed when their writers finish. What a destination could not write in time is
//! reported (there is no disk-buffer yet to keep it).
//!
//! # Reload, today and next
//!
//! Today a reload stops the old graph (draining it) and starts the new one; only the
//! listening sockets are handed over ([`Handover`]), so clients connecting during the swap
//! wait in the backlog instead of being refused, while open connections are closed.
//! The ConfigSupervisor will instead: match old and new components by persist name; move a
//! matched listener *and its open connections* (with their [`Window`]s) into the new graph
//! (`keep-alive(yes)`); pause old sources, move queue contents (entries carry their
//! `BatchAck`s, so credits still return to the right reader) into the matched new queues; start
//! the new graph and stop the old one, draining only unmatched destinations. The pieces it
//! needs are already plain `Arc`s with no tie to an actor: [`Queue`] (`take_all`), the ack
//! objects, and the listeners in [`Handover`].
//!
//! [`Window`]: super::ack::Window

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use actix_rt::Arbiter;
use tokio::sync::{oneshot, watch};

use super::counters::Counters;
use super::hooks::{self, DriverHooks, Hook};
use super::ingest::{Ingest, Outputs};
use super::plan::{DestDriver, Plan, SourceDriver};
use super::queue::Queue;
use super::settings;
use crate::actors::destinations::file::FileSink;
use crate::actors::destinations::socket::{self, KeptSockets};
use crate::actors::destinations::writer::{self, WriterCx};
use crate::actors::sources::internal::{InternalSourceActor, bus};
use crate::actors::sources::listener::{Connections, StreamListener, bind};
use crate::message::{ParseFlags, TagId};
use crate::pipeline::DestId;

/// State that outlives a graph and is handed to the next one on reload.
#[derive(Debug, Default)]
pub struct Handover {
    /// Listening sockets by address.
    pub listeners: HashMap<SocketAddr, std::net::TcpListener>,
    /// A graph ran before in this process: `startup()` hooks do not run again.
    pub started_before: bool,
    /// Connected sockets of destinations with `keep-alive(yes)`, by persist name.
    pub sockets: HashMap<String, std::os::fd::OwnedFd>,
}

/// A running configuration.
pub struct Graph {
    stop_tx: watch::Sender<bool>,
    connections: Arc<Connections>,
    source_done: Vec<oneshot::Receiver<()>>,
    queues: Vec<Arc<Queue>>,
    dest_done: Vec<oneshot::Receiver<()>>,
    arbiters: Vec<Arbiter>,
    listeners: HashMap<SocketAddr, std::net::TcpListener>,
    sources: Vec<(String, Arc<Counters>)>,
    hooks: Vec<DriverHooks>,
    /// Where socket destinations park their connections when they stop.
    kept: KeptSockets,
}

fn network_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

impl Graph {
    /// Starts `plan`, taking listening sockets from `handover` where the address matches.
    /// Must run inside the actix system.
    pub fn start(plan: Plan, handover: &mut Handover) -> Result<Graph, String> {
        // hook-commands() first, as syslog-ng runs them before a driver initializes: a
        // failing startup()/setup() aborts the start.
        let hooks = plan.driver_hooks();
        for h in &hooks {
            if !handover.started_before {
                h.run(Hook::Startup).map_err(|e| e.to_string())?;
            }
            h.run(Hook::Setup).map_err(|e| e.to_string())?;
        }
        // Sockets first: a port that cannot be bound fails the start before anything runs.
        let mut listeners = HashMap::new();
        for s in &plan.sources {
            if let SourceDriver::Stream { listen, .. } = &s.driver {
                if listeners.contains_key(&listen.addr) {
                    return Err(format!("{} is listened on twice", listen.addr));
                }
                let l = match handover.listeners.remove(&listen.addr) {
                    Some(l) => l,
                    None => bind(listen).map_err(|e| {
                        format!(
                            "Error binding socket; addr='{}', source='{}', error='{e}'",
                            listen.addr, s.object
                        )
                    })?,
                };
                listeners.insert(listen.addr, l);
            }
        }

        let (stop_tx, stop_rx) = watch::channel(false);
        let mut arbiters = Vec::new();
        let mut queues = Vec::new();
        let mut dest_done = Vec::new();
        let kept = KeptSockets::default();
        for d in &plan.dests {
            let q = Queue::new(d.object.clone(), d.driver.fifo_size());
            let arb = Arbiter::new();
            let (tx, rx) = oneshot::channel();
            let cx = WriterCx {
                plan: d.driver.writer().clone(),
                queue: q.clone(),
                daemon: plan.daemon.clone(),
                local_host: plan.local_host.clone(),
            };
            match &d.driver {
                DestDriver::File(p) => {
                    writer::start(&arb.handle(), FileSink::new(p.clone()), cx, tx)
                }
                DestDriver::Socket(p) => {
                    let adopt = handover.sockets.remove(&p.persist_name);
                    socket::start(&arb.handle(), p.clone(), adopt, kept.clone(), cx, tx)
                }
            }
            queues.push(q);
            dest_done.push(rx);
            arbiters.push(arb);
        }

        let net: Vec<Arbiter> = (0..network_threads()).map(|_| Arbiter::new()).collect();
        let workers = Arc::new(net.iter().map(Arbiter::handle).collect::<Vec<_>>());
        let router = Arc::new(plan.router);
        let outputs = Arc::new(Outputs {
            queues: queues.clone(),
            slots: plan.slots.clone(),
        });
        let connections = Arc::new(Connections::default());
        let mut source_done = Vec::new();
        let mut sources = Vec::new();
        let mut has_internal = false;
        for s in plan.sources {
            let (source_opts, reader, extra) = match &s.driver {
                SourceDriver::Stream {
                    source,
                    reader,
                    extra_flags,
                    ..
                } => (source, Some(reader), *extra_flags),
                SourceDriver::Internal { source } => (source, None, 0),
            };
            let mut parse = settings::parse_options(
                &s.object,
                source_opts,
                reader,
                &plan.globals,
                &plan.local_host,
            );
            parse.flags = ParseFlags(parse.flags.0 | extra);
            let mut tags = vec![TagId::intern(&format!(".source.{}", s.object))];
            tags.extend(source_opts.tags.iter().map(|t| TagId::intern(t)));
            let counters = Arc::new(Counters::default());
            let ingest = Arc::new(Ingest {
                name: Arc::from(s.object.as_str()),
                source: s.id,
                router: router.clone(),
                outputs: outputs.clone(),
                parse,
                tags,
                program_override: source_opts
                    .program_override
                    .as_ref()
                    .map(|p| p.clone().into_bytes()),
                host_override: source_opts
                    .host_override
                    .as_ref()
                    .map(|h| h.clone().into_bytes()),
                counters: counters.clone(),
            });
            sources.push((s.object.clone(), counters));
            match s.driver {
                SourceDriver::Stream { listen, .. } => {
                    let l = listeners
                        .get(&listen.addr)
                        .and_then(|l| l.try_clone().ok())
                        .ok_or_else(|| format!("Error duplicating socket {}", listen.addr))?;
                    let (workers, stop, conns) =
                        (workers.clone(), stop_rx.clone(), connections.clone());
                    let home = net.first().map(Arbiter::handle);
                    let actor = move |_: &mut actix::Context<StreamListener>| StreamListener {
                        plan: listen,
                        listener: Some(l),
                        ingest,
                        workers,
                        stop,
                        connections: conns,
                    };
                    match home {
                        Some(h) => {
                            StreamListener::start_in_arbiter(&h, actor);
                        }
                        None => {
                            StreamListener::create(actor);
                        }
                    }
                }
                SourceDriver::Internal { .. } => {
                    has_internal = true;
                    let (tx, rx) = oneshot::channel();
                    source_done.push(rx);
                    InternalSourceActor {
                        ingest,
                        stop: stop_rx.clone(),
                        done: Some(tx),
                    }
                    .start();
                }
            }
        }
        bus().set_enabled(has_internal);
        arbiters.extend(net);
        Ok(Graph {
            stop_tx,
            connections,
            source_done,
            queues,
            dest_done,
            arbiters,
            listeners,
            sources,
            hooks,
            kept,
        })
    }

    /// The destination queues, in slot order.
    pub fn queues(&self) -> &[Arc<Queue>] {
        &self.queues
    }

    /// Counters of every source and destination driver, one `kind;name;counter;value` line
    /// each (the stats issue renders syslog-ng's layout from the same atomics).
    pub fn stats(&self) -> String {
        let mut out = String::new();
        for (name, c) in &self.sources {
            for (k, v) in c.snapshot() {
                let _ = writeln!(out, "source;{name};{k};{v}");
            }
        }
        for q in &self.queues {
            for (k, v) in q.counters.snapshot() {
                let _ = writeln!(out, "destination;{};{k};{v}", q.name());
            }
        }
        out
    }

    /// Stops sources, drains queues into the destinations (each phase bounded by `drain`),
    /// runs the `teardown()` hooks (and `shutdown()` when the daemon exits: `exiting`) and
    /// returns what the next graph can take over.
    pub async fn stop(self, drain: Duration, exiting: bool) -> Handover {
        let _ = self.stop_tx.send(true);
        let sources_done = async {
            self.connections.all_closed().await;
            for rx in self.source_done {
                let _ = rx.await;
            }
        };
        if tokio::time::timeout(drain, sources_done).await.is_err() {
            tracing::warn!(
                connections = self.connections.live(),
                "Sources did not stop in time"
            );
        }
        for q in &self.queues {
            q.close();
        }
        let dests_done = async {
            for rx in self.dest_done {
                let _ = rx.await;
            }
        };
        if tokio::time::timeout(drain, dests_done).await.is_err() {
            tracing::error!("Destinations did not drain their queues in time");
        }
        for q in &self.queues {
            let left = q.take_all();
            if !left.is_empty() {
                Counters::add(&q.counters.dropped, left.len() as u64);
                tracing::error!(
                    destination = %q.name(),
                    messages = left.len(),
                    "Messages not written before shutdown are lost (no disk-buffer)"
                );
            }
        }
        for a in &self.arbiters {
            a.stop();
        }
        let arbiters = self.arbiters;
        // A writer stuck in a blocking call (a FIFO nobody reads) must not hold the daemon:
        // the join is bounded too.
        let join = tokio::task::spawn_blocking(move || {
            for a in arbiters {
                let _ = a.join();
            }
        });
        if tokio::time::timeout(Duration::from_secs(2), join)
            .await
            .is_err()
        {
            tracing::warn!("A destination thread did not stop; leaving it behind");
        }
        let _ = hooks::run_all(&self.hooks, Hook::Teardown).await;
        if exiting {
            let _ = hooks::run_all(&self.hooks, Hook::Shutdown).await;
        }
        Handover {
            listeners: self.listeners,
            started_before: true,
            sockets: self.kept.take_all(),
        }
    }
}

/// The destination object a queue slot belongs to (for tests and stats).
pub fn slot_dest(outputs: &Outputs, slot: usize) -> Option<DestId> {
    outputs
        .slots
        .iter()
        .position(|s| s.contains(&slot))
        .map(|i| DestId(i as u32))
}
