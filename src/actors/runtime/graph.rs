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
//! Today a reload stops the old graph (draining it) and starts the new one; the listening
//! sockets are handed over ([`Handover`]: TCP listeners, UDP and unix sockets), so clients
//! connecting during the swap wait in the backlog, and datagrams in the socket buffer, instead
//! of being refused; open TCP connections are closed, unix-stream ones with `keep-alive(yes)`
//! are handed over too (`runtime::net`).
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
use tokio::sync::{Notify, oneshot, watch};

use super::counters::Counters;
use super::hooks::{self, DriverHooks};
use super::ingest::{Ingest, Outputs};
use super::net::{NetHandover, NetSockets, StartContext};
use super::plan::{DestDriver, Plan, SourceDriver};
use super::queue::{Entry, Queue};
use super::settings;
use crate::actors::destinations::file::FileSink;
use crate::actors::destinations::pipe::PipeSink;
use crate::actors::destinations::program::{self, KeptPrograms, ProgramSink};
use crate::actors::destinations::pseudofile::PseudofileSink;
use crate::actors::destinations::socket::{self, KeptSockets};
use crate::actors::destinations::writer::{self, WriterCx};
use crate::actors::sources::internal::{InternalSourceActor, bus};
use crate::actors::sources::line_source::{LinesHandover, StartCx};
use crate::actors::sources::listener::{Connections, KeptTcp, StreamListener, TcpHandback, bind};
use crate::message::{ParseFlags, TagId};
use crate::persist::Persist;
use crate::pipeline::DestId;

/// State that outlives a graph and is handed to the next one on reload.
#[derive(Debug, Default)]
pub struct Handover {
    /// Listening sockets by address.
    pub listeners: HashMap<SocketAddr, std::net::TcpListener>,
    /// Open TCP connections of `keep-alive(yes)` listeners, by listening address.
    pub tcp_kept: HashMap<SocketAddr, Vec<KeptTcp>>,
    /// A graph ran before in this process: `startup()` hooks do not run again.
    pub started_before: bool,
    /// Messages the old graph's destinations had not written, by destination key
    /// (`DestPlan::key`): they go first into the new graph's queue of the same key.
    pub queued: HashMap<String, Vec<Entry>>,
    /// UDP and unix sockets, and kept unix-stream connections (`runtime::net`).
    pub net: NetHandover,
    /// Running `keep-alive(yes)` programs by persist name.
    pub programs: HashMap<String, program::child::ProgramHandle>,
    /// The persist file (file positions), opened once per daemon run.
    pub persist: Option<Arc<Persist>>,
    /// File positions in flight and open FIFOs of the file-like sources
    /// (`sources::line_source`).
    pub lines: LinesHandover,
    /// Connected sockets of destinations with `keep-alive(yes)`, by persist name.
    pub sockets: HashMap<String, std::os::fd::OwnedFd>,
}

/// A running configuration.
pub struct Graph {
    stop_tx: watch::Sender<bool>,
    connections: Arc<Connections>,
    source_done: Vec<oneshot::Receiver<()>>,
    queues: Vec<Arc<Queue>>,
    /// `DestPlan::key` of each queue.
    dest_keys: Vec<String>,
    dest_done: Vec<oneshot::Receiver<()>>,
    arbiters: Vec<Arbiter>,
    listeners: HashMap<SocketAddr, std::net::TcpListener>,
    net: NetSockets,
    /// Where each TCP listener's readers put their connections back at a stop.
    tcp_handbacks: Vec<(SocketAddr, TcpHandback)>,
    sources: Vec<(String, Arc<Counters>)>,
    hooks: Vec<DriverHooks>,
    programs: Arc<KeptPrograms>,
    persist: Option<Arc<Persist>>,
    lines: LinesHandover,
    /// Raised by a source that ends the daemon (the end of `stdin()`).
    exit: Arc<Notify>,
    /// Where socket destinations park their connections when they stop.
    kept_sockets: KeptSockets,
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
        hooks::run_start(&hooks, !handover.started_before).map_err(|e| e.to_string())?;
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
            if let SourceDriver::Lines { lines, .. } = &s.driver
                && let Err(e) = lines.prepare(&handover.lines)
            {
                handover.listeners.extend(listeners);
                return Err(e);
            }
        }
        let mut net_socks = match NetSockets::acquire(&plan.sources, &mut handover.net) {
            Ok(n) => n,
            Err(e) => {
                handover.listeners.extend(listeners);
                return Err(e);
            }
        };

        let (stop_tx, stop_rx) = watch::channel(false);
        let mut arbiters = Vec::new();
        let mut queues = Vec::new();
        let mut dest_keys = Vec::new();
        let mut dest_done = Vec::new();
        let kept_sockets = KeptSockets::default();
        let programs = Arc::new(KeptPrograms::default());
        for d in &plan.dests {
            let q = Queue::new(d.object.clone(), d.driver.fifo_size());
            if let Some(mut left) = handover.queued.remove(&d.key) {
                tracing::info!(destination = %d.key, messages = left.len(),
                    "Messages queued before the reload go on to the new configuration");
                q.rewind(&mut left, 0);
            }
            dest_keys.push(d.key.clone());
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
                    let sink = FileSink::new(p.clone(), cx.queue.clone());
                    writer::start(&arb.handle(), sink, cx, tx)
                }
                DestDriver::Program(p) => {
                    let kept = handover.programs.remove(&p.persist_key(&d.key));
                    let sink = ProgramSink::new(p.clone(), &d.key, kept, programs.clone());
                    writer::start(&arb.handle(), sink, cx, tx)
                }
                DestDriver::Pipe(p) => {
                    writer::start(&arb.handle(), PipeSink::new(p.clone()), cx, tx)
                }
                DestDriver::Pseudofile(p) => {
                    let sink = PseudofileSink::new(p.clone(), &d.key);
                    writer::start(&arb.handle(), sink, cx, tx)
                }
                DestDriver::Socket(p) => {
                    let adopt = handover.sockets.remove(&p.persist_name);
                    let kept = kept_sockets.clone();
                    socket::start(&arb.handle(), p.clone(), adopt, kept, cx, tx)
                }
            }
            queues.push(q);
            dest_done.push(rx);
            arbiters.push(arb);
        }
        program::stop_unclaimed(&mut handover.programs);

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
        let mut tcp_handbacks = Vec::new();
        let mut has_internal = false;
        let exit = Arc::new(Notify::new());
        for s in plan.sources {
            let (source_opts, reader, extra) = match &s.driver {
                SourceDriver::Stream {
                    source,
                    reader,
                    extra_flags,
                    ..
                } => (source, Some(reader), *extra_flags),
                SourceDriver::Internal { source } => (source, None, 0),
                SourceDriver::Net(n) => (&n.source, Some(&n.reader), 0),
                SourceDriver::Lines { source, reader, .. } => {
                    (source, Some(reader), ParseFlags::LOCAL)
                }
            };
            let mut parse = settings::parse_options(
                &s.object,
                source_opts,
                reader,
                &plan.globals,
                &plan.local_host,
            );
            parse.flags = ParseFlags(parse.flags.0 | extra);
            if let SourceDriver::Net(n) = &s.driver {
                n.adjust(&mut parse.flags);
            }
            // The source's tags() first: $TAGS lists tags in the order they were first named,
            // and syslog-ng names them when it reads the configuration, `.source.NAME` later.
            let mut tags: Vec<TagId> = source_opts.tags.iter().map(|t| TagId::intern(t)).collect();
            tags.push(TagId::intern(&format!(".source.{}", s.object)));
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
                    let handback = TcpHandback::default();
                    tcp_handbacks.push((listen.addr, handback.clone()));
                    let kept = handover.tcp_kept.remove(&listen.addr).unwrap_or_default();
                    let actor = move |_: &mut actix::Context<StreamListener>| StreamListener {
                        plan: listen,
                        listener: Some(l),
                        ingest,
                        workers,
                        stop,
                        connections: conns,
                        kept,
                        handback,
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
                SourceDriver::Net(n) => {
                    let home = net.first().map(Arbiter::handle);
                    let cx = StartContext {
                        ingest,
                        workers: &workers,
                        home: home.as_ref(),
                        stop: &stop_rx,
                        connections: &connections,
                        source_done: &mut source_done,
                    };
                    net_socks.start(n, cx)?;
                }
                SourceDriver::Lines { lines, .. } => {
                    let home = net.get(source_done.len() % net.len().max(1));
                    let cx = StartCx {
                        home: home.map(Arbiter::handle),
                        stop: stop_rx.clone(),
                        persist: handover.persist.clone(),
                        handover: handover.lines.clone(),
                        exit: exit.clone(),
                    };
                    source_done.push(lines.start(ingest, cx));
                }
                SourceDriver::Internal { .. } => {
                    has_internal = true;
                    let (tx, rx) = oneshot::channel();
                    source_done.push(rx);
                    InternalSourceActor {
                        ingest,
                        stop: stop_rx.clone(),
                        done: Some(tx),
                        mark_every: (plan.globals.mark_freq > 0)
                            .then(|| Duration::from_secs(u64::from(plan.globals.mark_freq))),
                        local_host: plan.local_host.short.clone(),
                    }
                    .start();
                }
            }
        }
        bus().set_enabled(has_internal);
        // What the previous graph's file-like readers left and no reader took (sources the
        // reload removed): closed now.
        handover.lines.clear();
        arbiters.extend(net);
        Ok(Graph {
            stop_tx,
            connections,
            source_done,
            queues,
            dest_keys,
            dest_done,
            arbiters,
            listeners,
            net: net_socks,
            tcp_handbacks,
            sources,
            hooks,
            programs,
            persist: handover.persist.clone(),
            lines: handover.lines.clone(),
            exit,
            kept_sockets,
        })
    }

    /// Notified when a source asks the daemon to stop (the end of `stdin()`).
    pub fn exit_requested(&self) -> Arc<Notify> {
        self.exit.clone()
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
    /// returns what the next graph can take over. The queues of destinations in `keep` (the
    /// next configuration has a driver with the same key) are not drained: their writers stop
    /// after the batch in hand and the rest moves to the next graph — a reload with a
    /// destination down neither waits for it nor loses what was queued for it.
    pub async fn stop(
        self,
        drain: Duration,
        exiting: bool,
        keep: &std::collections::HashSet<String>,
    ) -> Handover {
        self.programs.set_reloading(!exiting);
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
        for (q, key) in self.queues.iter().zip(&self.dest_keys) {
            if keep.contains(key) {
                q.detach();
            } else {
                q.close();
            }
        }
        let dests_done = async {
            for rx in self.dest_done {
                let _ = rx.await;
            }
        };
        if tokio::time::timeout(drain, dests_done).await.is_err() {
            tracing::error!("Destinations did not drain their queues in time");
        }
        let mut queued = HashMap::new();
        for (q, key) in self.queues.iter().zip(&self.dest_keys) {
            let left = q.take_all();
            if q.is_detached() {
                if !left.is_empty() {
                    queued.insert(key.clone(), left);
                }
                continue;
            }
            // Not delivered: their file positions must not be saved (read again next time).
            for e in &left {
                if let Some(a) = &e.ack {
                    a.abort();
                }
            }
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
        hooks::run_stop(&self.hooks, exiting).await;
        let mut tcp_kept: HashMap<SocketAddr, Vec<KeptTcp>> = HashMap::new();
        for (addr, h) in &self.tcp_handbacks {
            if let Ok(mut v) = h.lock() {
                tcp_kept.entry(*addr).or_default().append(&mut v);
            }
        }
        if exiting {
            // The daemon exits: the kept connections close now.
            tcp_kept.clear();
        }
        Handover {
            listeners: self.listeners,
            tcp_kept,
            started_before: true,
            queued,
            net: self.net.into_handover(),
            programs: self.programs.take(),
            persist: self.persist,
            lines: self.lines,
            sockets: self.kept_sockets.take_all(),
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
