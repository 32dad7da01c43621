//! A running graph: the components of one configuration, started from a [`Plan`].
//!
//! Threads: source readers run on a small pool of *network arbiters* (one per core, at most
//! 4); every destination driver runs its writer on an arbiter of its own, so its blocking
//! writes never hold up a socket; `internal()` runs on the system arbiter with the control
//! socket. Data moves as batches through [`Queue`]s; no actor mailbox is on the data path.
//!
//! A graph starts in two steps (see `runtime::supervisor`, which drives them on reload):
//! every source driver first *acquires* what can fail — ports, socket files, FIFOs — into
//! [`Resources`], taking what the running graph already holds instead of binding again
//! ([`Graph::lend_resources`]); then [`Graph::start`] cannot fail. Destinations are
//! [`DestComponent`]s found by persist name in the [`Handover`]: one that runs with an unchanged
//! plan is taken over running; one whose plan changed gets the stopped one's queue (same
//! `Arc`: contents, ack tokens and counters) and what its driver parked (a kept program or
//! connection). Stopping is in `stop.rs`.

mod sources;
mod stop;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, Addr};
use actix_rt::Arbiter;
use tokio::sync::{Notify, oneshot};

pub use sources::{NetworkPool, RunningSource};
pub use stop::{DrainReport, StopReport, drain_removed};

use super::component::ComponentActor;
use super::counters::Counters;
use super::driver::{DestStart, Leftovers, Parking, Resources};
use super::error::RuntimeError;
use super::hooks::DriverHooks;
use super::ingest::{Ingest, Outputs, Routing};
use super::plan::{DestPlan, Plan, SourcePlan};
use super::queue::Queue;
use super::settings;
use super::stats::{DestEntry, SourceEntry, StatsSources};
use crate::actors::destinations::writer::{WriterControl, WriterCx};
use crate::actors::sources::dns;
use crate::actors::sources::internal::bus;
use crate::message::{ParseFlags, TagId};
use crate::persist::Persist;

/// State that outlives a graph and is handed to the next one on reload (the resources its
/// sources acquired travel separately, see [`Graph::lend_resources`]).
#[derive(Debug, Default)]
pub struct Handover {
    /// A graph ran before in this process: `startup()` hooks do not run again.
    pub started_before: bool,
    /// What the stopped readers left: kept connections, file trackers and positions, FIFO
    /// descriptors (by key). What the new graph's readers do not take is dropped at start.
    pub leftovers: Leftovers,
    /// Destination components by persist name: running ones (their plan is unchanged) and
    /// stopped ones (queue and parked state for the new driver of that name).
    pub dests: HashMap<String, DestComponent>,
    /// Counters of the sources by driver id (`s#0`), so they go on across reloads.
    pub source_counters: HashMap<String, Arc<Counters>>,
    /// The persist file (file positions), opened once per daemon run.
    pub persist: Option<Arc<Persist>>,
    /// Raised by a source that ends the daemon (the end of `stdin()`): the supervisor's, the
    /// same for every graph.
    pub exit: Arc<Notify>,
    /// Sources whose plan is unchanged, running, by persist name: the new graph takes them
    /// as they are (their routing swapped).
    pub sources: HashMap<String, RunningSource>,
    /// The network arbiters, the same for every graph (created by the first).
    pub pool: Option<Arc<NetworkPool>>,
}

/// One destination driver at run time: its queue (which outlives any one writer), where its
/// driver parks state for a successor, and its writer while it runs.
#[derive(Debug)]
pub struct DestComponent {
    pub object: String,
    pub driver_id: String,
    /// The driver's name in stats, and its stats cluster.
    pub driver_name: String,
    pub stats_rows: Option<crate::actors::runtime::stats::DestRows>,
    /// Where the driver is written (`file:line:col`).
    pub location: String,
    pub persist_name: String,
    /// The plan's fingerprint ([`DestPlan::fingerprint`]).
    pub fingerprint: u64,
    pub queue: Arc<Queue>,
    pub park: Parking,
    writer: Option<RunningWriter>,
}

/// A destination's writer thread and the signal that its loop finished.
#[derive(Debug)]
struct RunningWriter {
    arbiter: Arbiter,
    done: oneshot::Receiver<()>,
    control: Arc<WriterControl>,
}

impl DestComponent {
    /// Whether its writer runs.
    pub fn is_running(&self) -> bool {
        self.writer.is_some()
    }

    /// Asks its writer to reopen its files (see [`WriterControl::reopen`]).
    pub fn reopen(&self) {
        if let Some(w) = &self.writer {
            w.control.reopen();
        }
    }
}

/// One source driver at run time, as stats and the supervisor see it.
#[derive(Debug, Clone)]
pub struct SourceComponent {
    pub object: String,
    pub driver_id: String,
    /// The driver's name in stats, and its rows.
    pub driver_name: String,
    pub stats_rows: crate::actors::runtime::stats::SourceRows,
    /// Where the driver is written (`file:line:col`).
    pub location: String,
    pub persist_name: String,
    pub counters: Arc<Counters>,
    /// Its plan's fingerprint when it can go on running across a reload (see
    /// `SourceDriver::keeps_running_on_reload`).
    pub fingerprint: Option<u64>,
}

impl std::fmt::Debug for RunningSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSource")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A running configuration.
pub struct Graph {
    /// The control faces of the components, sources first (registered with the
    /// supervisor through [`Graph::components`]).
    components: Vec<Addr<ComponentActor>>,
    /// The network arbiters (source readers), shared with the next graph.
    pool: Arc<NetworkPool>,
    /// What the sources acquired (listening sockets...): the readers hold duplicates.
    resources: Resources,
    sources: Vec<RunningSource>,
    /// Destination drivers in slot order.
    dests: Vec<DestComponent>,
    hooks: Vec<DriverHooks>,
    persist: Option<Arc<Persist>>,
    leftovers: Leftovers,
    /// `stats-level()`: which stats rows exist.
    stats_level: u32,
    /// `stats-freq()`: seconds between "Log statistics" messages (0: none).
    stats_freq: u32,
    /// `stats-lifetime()`: seconds a dynamic stats row is kept after its last change.
    stats_lifetime: u64,
    /// Its compiled log paths (the graph's edges, the filters' tallies,
    /// `export-config-graph`).
    router: Arc<crate::pipeline::Router>,
}

/// Runs every source driver's [`acquire`](super::driver::SourceDriver::acquire) of `plan`,
/// taking from `lent` (the running graph's resources) what is already there. On error,
/// everything taken goes back into `lent` and what was bound is closed.
pub fn acquire(plan: &Plan, lent: &mut Resources) -> Result<Resources, RuntimeError> {
    check_disk_buffer_dirs(plan)?;
    let mut mine = Resources::default();
    for s in &plan.sources {
        if let Err(e) = s.driver.acquire(&s.object, lent, &mut mine) {
            lent.absorb(mine);
            if s.location.is_empty() {
                return Err(e);
            }
            return Err(RuntimeError::Driver {
                error: Box::new(e),
                plugin: s.driver_name.clone(),
                location: s.location.clone(),
            });
        }
    }
    Ok(mine)
}

impl Graph {
    /// Starts `plan` with what [`acquire`] gave and what the previous graph handed over.
    /// Must run inside the actix system.
    pub fn start(plan: Plan, resources: Resources, handover: &mut Handover) -> Graph {
        let hooks = plan.driver_hooks();
        // The reverse-DNS cache belongs to the process: this configuration's settings now.
        dns::configure(&dns::DnsSettings::from_globals(&plan.globals));
        let mut dests = Vec::with_capacity(plan.dests.len());
        for d in &plan.dests {
            dests.push(start_dest(d, &plan, handover));
        }
        let outputs = Arc::new(Outputs {
            queues: dests.iter().map(|d| d.queue.clone()).collect(),
            slots: plan.slots.clone(),
        });

        let pool = handover
            .pool
            .get_or_insert_with(|| Arc::new(NetworkPool::start()))
            .clone();
        let mut components = Vec::new();
        let exit = handover.exit.clone();
        let router = Arc::new(plan.router);
        let mut sources = Vec::new();
        let mut next_worker = 0usize;
        let mut has_internal = false;
        let mut common = sources::Common {
            workers: pool.handles(),
            resources: &resources,
            exit: &exit,
            mark_freq: plan.globals.mark_freq,
            local_host: plan.local_host.short.clone(),
            next_worker: &mut next_worker,
        };
        for s in &plan.sources {
            let counters = handover
                .source_counters
                .remove(&s.driver_id)
                .unwrap_or_default();
            let routing = Arc::new(Routing {
                source: s.id,
                router: router.clone(),
                outputs: outputs.clone(),
            });
            let ingest = ingest_for(s, &plan.globals, &plan.local_host, &counters, &routing);
            has_internal |= s.driver.is_internal();
            let running = sources::start_source(s, ingest, routing, &mut common, handover);
            components.push(running.actor.clone());
            sources.push(running);
        }
        bus().set_enabled(has_internal);
        // What the previous graph's readers left and no reader took (sources the reload
        // removed): closed now.
        handover.leftovers.clear();
        // Destinations of the previous graph that no driver of this one took were drained
        // by the supervisor; anything still here is dropped (its queue with it).
        for d in &dests {
            let actor = ComponentActor::destination(d);
            components.push(actor.start());
        }
        Graph {
            components,
            pool,
            resources,
            sources,
            dests,
            hooks,
            persist: handover.persist.clone(),
            leftovers: handover.leftovers.clone(),
            stats_level: plan.globals.stats_level,
            stats_freq: plan.globals.stats_freq,
            stats_lifetime: u64::from(plan.globals.stats_lifetime.get()),
            router: router.clone(),
        }
    }

    /// The destination components, in slot order.
    pub fn dests(&self) -> &[DestComponent] {
        &self.dests
    }

    /// The source components, in configuration order.
    pub fn sources(&self) -> impl Iterator<Item = &SourceComponent> {
        self.sources.iter().map(|s| &s.info)
    }

    /// The control faces of its components (see `runtime::component`), sources first.
    pub fn components(&self) -> &[Addr<ComponentActor>] {
        &self.components
    }

    /// Takes over the counts of the previous graph's named filters (syslog-ng keeps a
    /// filter's counters across a reload, by name).
    pub fn continue_filter_counts(&self, before: &[(String, Arc<crate::pipeline::FilterTally>)]) {
        use std::sync::atomic::Ordering::Relaxed;
        for (name, t) in self.router.filter_tallies() {
            if let Some((_, old)) = before.iter().find(|(n, _)| n == name) {
                t.matched.fetch_add(old.matched.load(Relaxed), Relaxed);
                t.not_matched
                    .fetch_add(old.not_matched.load(Relaxed), Relaxed);
            }
        }
    }

    /// Its named filters' tallies.
    pub fn filter_tallies(&self) -> Vec<(String, Arc<crate::pipeline::FilterTally>)> {
        self.router.filter_tallies().to_vec()
    }

    /// `stats-lifetime()` in seconds.
    pub fn stats_lifetime(&self) -> u64 {
        self.stats_lifetime
    }

    /// Its compiled log paths.
    pub fn router(&self) -> &crate::pipeline::Router {
        &self.router
    }

    /// `stats-freq()`: how often the stats are logged, if at all.
    pub fn stats_freq(&self) -> Option<Duration> {
        (self.stats_freq > 0).then(|| Duration::from_secs(u64::from(self.stats_freq)))
    }

    /// Each source object and the destination objects its log paths can take it to.
    pub fn paths(&self) -> Vec<(String, Vec<String>)> {
        let r = &self.router;
        let names = r.destinations();
        let reach = |i: usize| {
            let to = r.reachable(crate::pipeline::SourceId(i as u32));
            to.iter()
                .filter_map(|d| names.get(d.0 as usize).cloned())
                .collect()
        };
        r.sources()
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), reach(i)))
            .collect()
    }

    /// The `hook-commands()` of its drivers.
    pub fn hooks(&self) -> &[DriverHooks] {
        &self.hooks
    }

    /// Lends what its sources acquired to the next graph's [`acquire`]; the readers go on
    /// with their duplicates. Give back what the next graph did not take with
    /// [`Graph::take_back`].
    pub fn lend_resources(&mut self) -> Resources {
        std::mem::take(&mut self.resources)
    }

    /// Takes back lent resources (all of them after a failed reload; what the new graph did
    /// not want after a successful one, to be closed when this graph stops).
    pub fn take_back(&mut self, r: Resources) {
        self.resources.absorb(r);
    }

    /// A view of the counters that stays valid while the graph stops (stats during a drain).
    pub fn stats_view(&self) -> StatsView {
        let sources = self
            .sources()
            .map(|s| SourceEntry {
                object: s.object.clone(),
                driver_id: s.driver_id.clone(),
                driver: s.driver_name.clone(),
                persist_name: s.persist_name.clone(),
                rows: s.stats_rows.clone(),
                counters: s.counters.clone(),
            })
            .collect();
        let dests = self
            .dests
            .iter()
            .map(|d| DestEntry {
                object: d.object.clone(),
                driver_id: d.driver_id.clone(),
                driver: d.driver_name.clone(),
                rows: d.stats_rows.clone(),
                counters: d.queue.counters.clone(),
            })
            .collect();
        StatsView {
            stats: StatsSources {
                sources,
                dests,
                filters: self.filter_tallies(),
                level: self.stats_level,
            },
            queues: self.dests.iter().map(|d| d.queue.clone()).collect(),
        }
    }
}

/// Counters of a graph's components, readable while it runs or stops.
#[derive(Debug, Clone)]
pub struct StatsView {
    pub stats: StatsSources,
    queues: Vec<Arc<Queue>>,
}

impl StatsView {
    /// Messages queued or in a writer's hand, all destinations together.
    pub fn undelivered(&self) -> usize {
        self.queues.iter().map(|q| q.len() + q.in_hand()).sum()
    }
}

/// The shared, read-only state of one source driver's readers.
fn ingest_for(
    s: &SourcePlan,
    globals: &crate::config::global_options::GlobalOptions,
    local_host: &crate::message::LocalHost,
    counters: &Arc<Counters>,
    routing: &Arc<Routing>,
) -> Ingest {
    let opts = s.driver.ingest_options();
    let mut parse =
        settings::parse_options(&s.object, opts.source, opts.reader, globals, local_host);
    let mut flags = ParseFlags(parse.flags.0);
    opts.adjust(&mut flags);
    parse.flags = flags;
    // The source's tags() first: $TAGS lists tags in the order they were first named, and
    // syslog-ng names them when it reads the configuration, `.source.NAME` later.
    let mut tags: Vec<TagId> = opts.source.tags.iter().map(|t| TagId::intern(t)).collect();
    tags.push(TagId::intern(&format!(".source.{}", s.group)));
    Ingest {
        name: Arc::from(s.group.as_str()),
        routing: std::sync::RwLock::new(routing.clone()),
        parse,
        tags,
        program_override: opts
            .source
            .program_override
            .as_ref()
            .map(|p| p.clone().into_bytes()),
        host_override: opts
            .source
            .host_override
            .as_ref()
            .map(|h| h.clone().into_bytes()),
        counters: counters.clone(),
        // The source's pause switch; its component actor shares it.
        gate: Arc::default(),
        driver_id: Arc::from(s.driver_id.as_str()),
        stats_level: globals.stats_level,
        max_dynamics: globals.stats_max_dynamics,
    }
}

/// The component of destination driver `d`: the previous graph's, running, when its plan is
/// unchanged; otherwise a writer on the previous queue of its persist name (or a new one).
/// A predecessor still finishing its batch (detached by the reload) is waited for in the
/// background: the new writer starts once it is done — with the program or connection it
/// parked — while the new sources already queue.
fn start_dest(d: &DestPlan, plan: &Plan, handover: &mut Handover) -> DestComponent {
    let previous = handover.dests.remove(&d.persist_name);
    let Some(mut old) = previous else {
        let queue = new_queue(d, plan);
        return launch(d, plan, queue, Parking::default(), None);
    };
    if old.is_running() && old.fingerprint == d.fingerprint && !old.queue.is_detached() {
        old.object = d.object.clone();
        old.driver_id = d.driver_id.clone();
        // What a reload does to every file syslog-ng writes: open it again by name.
        old.reopen();
        return old;
    }
    let count = old.queue.len();
    if count > 0 {
        tracing::info!(destination = %d.persist_name, messages = count,
            "Messages queued before the reload go on to the new configuration");
    }
    launch(d, plan, old.queue, old.park, old.writer.take())
}

/// The directory of each disk-buffer exists (or is created) and takes files: a buffer that
/// cannot be kept stops the start (or the reload) with the reason, before anything runs.
fn check_disk_buffer_dirs(plan: &Plan) -> Result<(), RuntimeError> {
    for d in &plan.dests {
        let Some(disk) = &d.driver.writer().disk else {
            continue;
        };
        let dir = disk.dir_or(&plan.disk_dir);
        let probe = dir.join(format!(".sluice-probe-{}", std::process::id()));
        let ok = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::File::create(&probe)?;
            std::fs::remove_file(&probe)
        });
        if let Err(e) = ok {
            return Err(RuntimeError::Open(format!(
                "Error opening disk-buffer directory; dir='{}', destination='{}', error='{e}'",
                dir.display(),
                d.object
            )));
        }
    }
    Ok(())
}

/// A new queue for `d`: on disk with `disk-buffer()` (what a previous run left in its
/// files comes first), else in memory. A disk-buffer that cannot be opened is an error in
/// the log, and the destination queues in memory.
fn new_queue(d: &DestPlan, plan: &Plan) -> Arc<Queue> {
    use crate::actors::runtime::queue::disk::{DiskOptions, DiskStore};
    let w = d.driver.writer();
    if let Some(disk) = &w.disk {
        let opts = DiskOptions {
            dir: disk.dir_or(&plan.disk_dir),
            base: DiskOptions::base_for(&d.persist_name),
            capacity: disk.capacity,
            reliable: disk.reliable,
            mem_entries: disk.mem_entries,
        };
        match DiskStore::open(opts) {
            Ok(store) => return Queue::with_store(d.object.clone(), Box::new(store)),
            Err(e) => tracing::error!(destination = %d.persist_name, error = %e,
                "Error opening the disk-buffer; this destination queues in memory"),
        }
    }
    Queue::new(d.object.clone(), w.fifo_size)
}

/// Starts the writer of `d` on `queue` — at once, or once `predecessor` (a detached writer of
/// the same queue) has finished.
fn launch(
    d: &DestPlan,
    plan: &Plan,
    queue: Arc<Queue>,
    park: Parking,
    predecessor: Option<RunningWriter>,
) -> DestComponent {
    let arbiter = Arbiter::new();
    let (tx, rx) = oneshot::channel();
    let control = Arc::new(WriterControl::default());
    let start = {
        let (driver, handle, driver_id) = (d.driver.clone(), arbiter.handle(), d.driver_id.clone());
        let writer = WriterCx {
            plan: d.driver.writer().clone(),
            queue: queue.clone(),
            daemon: plan.daemon.clone(),
            local_host: plan.local_host.clone(),
            control: control.clone(),
        };
        let (queue, park, name) = (queue.clone(), park.clone(), d.persist_name.clone());
        let claim = queue.claim();
        move |after: Option<RunningWriter>| async move {
            if let Some(w) = after {
                stop::finish_writer(w, stop::DETACH_WAIT, &name).await;
            }
            // Superseded before it could start (another reload gave the queue to a newer
            // writer, which waits for this one): never start; dropping `tx` says done.
            if !queue.is_claimed_by(claim) {
                return;
            }
            let inherited = park.take();
            park.set_reloading(false);
            queue.reattach();
            driver.start(DestStart {
                arbiter: &handle,
                writer,
                driver_id: &driver_id,
                inherited,
                park,
                done: tx,
            });
        }
    };
    actix_rt::spawn(start(predecessor));
    DestComponent {
        object: d.object.clone(),
        driver_id: d.driver_id.clone(),
        driver_name: d.driver_name.clone(),
        stats_rows: d.driver.stats_rows(),
        location: d.location.clone(),
        persist_name: d.persist_name.clone(),
        fingerprint: d.fingerprint,
        queue,
        park,
        writer: Some(RunningWriter {
            arbiter,
            done: rx,
            control,
        }),
    }
}
