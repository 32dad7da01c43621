//! The ConfigSupervisor: the one actor that owns the running graph and serialises what
//! changes it — the first start, reloads (SIGHUP, `sluice-ctl reload`) and the stop.
//!
//! # A reload, step by step
//!
//! The daemon has already read, checked and planned the new configuration (an error there
//! never reaches the supervisor: the running graph is untouched). Then, one message at a time
//! ([`Reload`] is handled atomically):
//!
//! 1. **Compare** the running graph with the plan by persist name ([`ReloadPlan`]): each
//!    component is kept, handed over, replaced, added or removed. `--check` stops here.
//! 2. **Hooks**: the old drivers' `teardown()`, the new ones' `setup()` (syslog-ng's order,
//!    before the new drivers initialise), while the old graph still runs; a failing
//!    `setup()` runs the old `setup()` again and the old graph goes on.
//! 3. **Acquire** what the new sources need — ports, socket files, FIFOs — taking what the
//!    running graph already holds (its [`Resources`](super::driver::Resources) are lent) and
//!    binding the rest. On any error everything goes back (and the old `setup()` runs
//!    again): the old graph never stopped.
//! 4. **Swap**: the old sources stop (their readers hand kept connections, file positions and
//!    FIFOs over); destinations whose plan is unchanged go on running untouched; a destination
//!    whose plan changed stops after the batch in hand and the new one takes its queue (the
//!    same `Arc`: nothing moves, nothing is reordered) and its parked program or connection;
//!    the new graph starts at once — its listeners accept on the same sockets.
//! 5. **Drain** the destinations the new configuration removed, in the background and bounded
//!    ([`graph::drain_removed`]): input never waits for them; what they could not write is counted
//!    and logged.
//!
//! # Stop
//!
//! [`Shutdown`] is not atomic: the supervisor hands the graph to a stopping task and keeps
//! answering [`Stats`] (from a [`StatsView`]) while queues drain; the caller ends the drain
//! early through the `abort` it passed (a second SIGTERM).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::{
    Actor, ActorFutureExt, AsyncContext, AtomicResponse, Context, Handler, Message,
    MessageResponse, ResponseActFuture, WrapFuture,
};
use tokio::sync::Notify;

use super::component::Report;
use super::error::RuntimeError;
use super::graph::{self, Graph, Handover, StatsView, StopReport};
use super::graph_view::{self, GraphFacts};
use super::hooks;
use super::plan::Plan;
use super::reload_plan::ReloadPlan;
use super::stats::{Orphans, Row};
use crate::persist::Persist;

/// How long a destination the reload removed may take to write what it has.
pub const REMOVED_DRAIN: Duration = Duration::from_secs(30);

/// Where the supervisor is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No graph yet.
    Idle,
    Running,
    /// The graph is stopping for good: queues drain.
    Stopping,
}

/// The actor owning the running graph.
pub struct ConfigSupervisor {
    graph: Option<Graph>,
    phase: Phase,
    /// Stats of the graph while it stops.
    stopping: Option<StatsView>,
    /// Reloads applied (0: the first configuration).
    generation: u64,
    /// Raised when a source asks the daemon to stop (the end of `stdin()`), in any graph.
    exit: Arc<Notify>,
    /// Stats rows of components reloads removed (`o` in `syslog-ng-ctl stats`).
    orphans: Orphans,
    /// The last reload applied, for metrics.
    last_reload: Option<ReloadRecord>,
    reloads: u64,
    /// The `stats-freq()` timer of the running configuration.
    stats_timer: Option<actix::SpawnHandle>,
}

/// What the last applied reload did.
#[derive(Debug, Clone)]
pub struct ReloadRecord {
    pub generation: u64,
    /// When it finished (seconds since the epoch) and how long it took.
    pub finished_at: u64,
    pub took: Duration,
    /// Components by fate: kept, handed over, replaced, added, removed.
    pub fates: [(&'static str, usize); 5],
    /// How long deliveries were held up (see `swap`).
    pub delivery_pause: Duration,
}

impl Default for ConfigSupervisor {
    fn default() -> Self {
        ConfigSupervisor {
            graph: None,
            phase: Phase::Idle,
            stopping: None,
            generation: 0,
            exit: Arc::new(Notify::new()),
            orphans: Orphans::default(),
            last_reload: None,
            reloads: 0,
            stats_timer: None,
        }
    }
}

impl Actor for ConfigSupervisor {
    type Context = Context<Self>;
}

/// Starts the first configuration.
#[derive(Message)]
#[rtype(result = "Result<(), RuntimeError>")]
pub struct Start {
    pub plan: Plan,
    pub persist: Option<Arc<Persist>>,
}

/// Applies (or, with `check_only`, only compares) a new configuration's plan.
#[derive(Message)]
#[rtype(result = "Result<ReloadPlan, ReloadError>")]
pub struct Reload {
    pub plan: Plan,
    pub persist: Option<Arc<Persist>>,
    pub check_only: bool,
}

/// Why a reload did not happen; the running graph is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("the daemon is shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// The stats rows of the running (or stopping) graph and the orphans (`None`: no graph).
#[derive(Message)]
#[rtype(result = "Option<Vec<Row>>")]
pub struct Stats;

/// Forgets the orphaned stats rows (`syslog-ng-ctl stats --remove-orphans`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveOrphans;

/// The generation, the reloads applied and the last one's record.
#[derive(Message)]
#[rtype(result = "ReloadStatus")]
pub struct Reloads;

/// The answer to [`Reloads`].
#[derive(Debug, Clone, MessageResponse)]
pub struct ReloadStatus {
    pub generation: u64,
    pub reloads: u64,
    pub last: Option<ReloadRecord>,
}

/// The running configuration's graph in syslog-ng's `export-config-graph` JSON (`None`:
/// no graph).
#[derive(Message)]
#[rtype(result = "Option<String>")]
pub struct ExportConfigGraph;

impl Handler<ExportConfigGraph> for ConfigSupervisor {
    type Result = Option<String>;

    fn handle(&mut self, _: ExportConfigGraph, _: &mut Context<Self>) -> Option<String> {
        self.graph.as_ref().map(super::config_graph::export)
    }
}

/// Reopens the destinations' files (`syslog-ng-ctl reopen`, after a log rotation).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Reopen;

/// The running graph — phase, generation, components with their queue depths, log paths —
/// in the form asked for.
#[derive(Message)]
#[rtype(result = "String")]
pub struct Describe(pub crate::control::GraphForm);

/// The control faces of the running components (sources first).
#[derive(Message)]
#[rtype(result = "Vec<actix::Addr<super::component::ComponentActor>>")]
pub struct Components;

/// The notification raised when a source ends the daemon.
#[derive(Message)]
#[rtype(result = "Arc<Notify>")]
pub struct ExitSignal;

/// Stops the graph for good: drain bounded by `drain`, cut short when `abort` is notified.
#[derive(Message)]
#[rtype(result = "StopReport")]
pub struct Shutdown {
    pub drain: Duration,
    pub abort: Arc<Notify>,
}

impl Handler<Start> for ConfigSupervisor {
    type Result = Result<(), RuntimeError>;

    fn handle(&mut self, msg: Start, ctx: &mut Context<Self>) -> Self::Result {
        if self.graph.is_some() {
            return Ok(());
        }
        self.graph = Some(start_fresh(msg.plan, msg.persist, self.exit.clone())?);
        self.phase = Phase::Running;
        self.schedule_stats_log(ctx);
        ctx.run_interval(super::stats::EPS_UPDATE_EVERY, |act, _| {
            if let Some(g) = &act.graph {
                g.stats_view().stats.update_rates();
                super::stats::dynamic().expire(g.stats_lifetime());
            }
        });
        Ok(())
    }
}

impl ConfigSupervisor {
    /// (Re)starts the `stats-freq()` timer for the running graph: every so many seconds
    /// the stats rows go to the log (and `internal()`) as syslog-ng's "Log statistics".
    fn schedule_stats_log(&mut self, ctx: &mut Context<Self>) {
        if let Some(h) = self.stats_timer.take() {
            ctx.cancel_future(h);
        }
        let Some(every) = self.graph.as_ref().and_then(Graph::stats_freq) else {
            return;
        };
        self.stats_timer = Some(ctx.run_interval(every, |act, _| {
            // While the graph runs (not during the drain at exit).
            if act.graph.is_some()
                && let Some(rows) = act.stats_rows()
            {
                tracing::info!("{}", super::stats::log_line(&rows));
            }
        }));
    }

    /// The stats rows of the running (or stopping) graph, orphans included.
    fn stats_rows(&self) -> Option<Vec<Row>> {
        let rows = match (&self.graph, &self.stopping) {
            (Some(g), _) => g.stats_view().stats.rows(),
            (None, Some(v)) => v.stats.rows(),
            (None, None) => return None,
        };
        Some(self.orphans.with(rows))
    }
}

/// Starts a plan with no graph running: `startup()` and `setup()` hooks first, as syslog-ng
/// runs them before its drivers initialise (a setup() may create what a driver then opens).
fn start_fresh(
    plan: Plan,
    persist: Option<Arc<Persist>>,
    exit: Arc<Notify>,
) -> Result<Graph, RuntimeError> {
    hooks::run_start(&plan.driver_hooks(), true)?;
    let resources = graph::acquire(&plan, &mut Default::default())?;
    let mut handover = Handover {
        persist,
        exit,
        ..Handover::default()
    };
    Ok(Graph::start(plan, resources, &mut handover))
}

impl Handler<Reload> for ConfigSupervisor {
    type Result = AtomicResponse<Self, Result<ReloadPlan, ReloadError>>;

    fn handle(&mut self, msg: Reload, _: &mut Context<Self>) -> Self::Result {
        let changes = ReloadPlan::compare(self.graph.as_ref(), &msg.plan);
        if self.phase == Phase::Stopping {
            return AtomicResponse::new(Box::pin(
                async { Err(ReloadError::ShuttingDown) }.into_actor(self),
            ));
        }
        if msg.check_only {
            return AtomicResponse::new(Box::pin(async move { Ok(changes) }.into_actor(self)));
        }
        let old = self.graph.take();
        let before = old.as_ref().map(|g| g.stats_view().stats.rows());
        let exit = self.exit.clone();
        let began = std::time::Instant::now();
        let fut = async move {
            let (graph, result) = swap(old, msg.plan, msg.persist, exit).await;
            (
                graph,
                result
                    .map(|pause| (changes, pause))
                    .map_err(ReloadError::from),
            )
        };
        AtomicResponse::new(Box::pin(fut.into_actor(self).map(
            move |(graph, result), act, ctx| {
                act.graph = graph;
                if act.graph.is_some() {
                    act.phase = Phase::Running;
                }
                if let Ok((plan, pause)) = &result {
                    act.generation += 1;
                    act.reloads += 1;
                    if let (Some(before), Some(g)) = (&before, &act.graph) {
                        act.orphans.left_by(before, &g.stats_view().stats.rows());
                    }
                    let record = ReloadRecord::of(plan, act.generation, began, *pause);
                    act.last_reload = Some(record);
                    act.schedule_stats_log(ctx);
                    tracing::info!(generation = act.generation, changes = %plan.summary(),
                        "Configuration reload finished");
                }
                result.map(|(plan, _)| plan)
            },
        )))
    }
}

/// Steps 2–5 of a reload (see the module's notes). Returns the graph that runs afterwards:
/// the new one, or the old one untouched when anything failed before the swap; and how long
/// the swap held deliveries up: from the old sources' stop to the new graph's start (an
/// upper bound: sources kept running do not pause at all).
async fn swap(
    old: Option<Graph>,
    plan: Plan,
    persist: Option<Arc<Persist>>,
    exit: Arc<Notify>,
) -> (Option<Graph>, Result<Duration, RuntimeError>) {
    let Some(mut old) = old else {
        return match start_fresh(plan, persist, exit) {
            Ok(g) => (Some(g), Ok(Duration::ZERO)),
            Err(e) => (None, Err(e)),
        };
    };
    // Hooks first (syslog-ng's order: the old drivers' teardown(), the new ones' setup(),
    // before the new drivers initialise); the old graph runs on meanwhile.
    hooks::run_stop(old.hooks(), false).await;
    // On any failure from here to the swap, syslog-ng goes back to the old configuration,
    // which runs its setup() again.
    let back_to_old = |old: &Graph| {
        if let Err(again) = hooks::run_start(old.hooks(), false) {
            tracing::error!("{again}");
        }
    };
    if let Err(e) = hooks::run_start(&plan.driver_hooks(), false) {
        back_to_old(&old);
        return (Some(old), Err(e.into()));
    }
    let mut lent = old.lend_resources();
    let acquired = match graph::acquire(&plan, &mut lent) {
        Ok(r) => r,
        Err(e) => {
            old.take_back(lent);
            back_to_old(&old);
            return (Some(old), Err(e));
        }
    };
    // What the new graph did not take stays with the old one and closes when it stops.
    old.take_back(lent);
    let next: HashMap<String, u64> = plan
        .dests
        .iter()
        .map(|d| (d.persist_name.clone(), d.fingerprint))
        .collect();
    let next_sources: HashMap<String, u64> = plan
        .sources
        .iter()
        .filter_map(|s| Some((s.persist_name.clone(), s.keep_key()?)))
        .collect();
    let filters = old.filter_tallies();
    let paused = std::time::Instant::now();
    let (mut handover, removed) = old.stop_for_reload(&next_sources, &next).await;
    handover.persist = persist;
    handover.exit = exit;
    let new = Graph::start(plan, acquired, &mut handover);
    let pause = paused.elapsed();
    new.continue_filter_counts(&filters);
    if !removed.is_empty() {
        drop(graph::drain_removed(removed, REMOVED_DRAIN));
    }
    (Some(new), Ok(pause))
}

impl Handler<Stats> for ConfigSupervisor {
    type Result = Option<Vec<Row>>;

    fn handle(&mut self, _: Stats, _: &mut Context<Self>) -> Option<Vec<Row>> {
        self.stats_rows()
    }
}

impl Handler<RemoveOrphans> for ConfigSupervisor {
    type Result = ();

    fn handle(&mut self, _: RemoveOrphans, _: &mut Context<Self>) {
        self.orphans.clear();
        if let Some(g) = &self.graph {
            g.stats_view().stats.remove_orphaned_files();
        }
    }
}

impl Handler<Reloads> for ConfigSupervisor {
    type Result = ReloadStatus;

    fn handle(&mut self, _: Reloads, _: &mut Context<Self>) -> Self::Result {
        ReloadStatus {
            generation: self.generation,
            reloads: self.reloads,
            last: self.last_reload.clone(),
        }
    }
}

impl Handler<Reopen> for ConfigSupervisor {
    type Result = ();

    fn handle(&mut self, _: Reopen, _: &mut Context<Self>) {
        if let Some(g) = &self.graph {
            for d in g.dests() {
                d.reopen();
            }
        }
    }
}

impl ReloadRecord {
    fn of(
        plan: &ReloadPlan,
        generation: u64,
        began: std::time::Instant,
        delivery_pause: Duration,
    ) -> ReloadRecord {
        use super::reload_plan::Fate;
        let finished_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        ReloadRecord {
            generation,
            finished_at,
            took: began.elapsed(),
            fates: [
                ("kept", plan.count(Fate::Kept)),
                ("handed_over", plan.count(Fate::HandedOver)),
                ("replaced", plan.count(Fate::Replaced)),
                ("added", plan.count(Fate::Added)),
                ("removed", plan.count(Fate::Removed)),
            ],
            delivery_pause,
        }
    }
}

impl Handler<Describe> for ConfigSupervisor {
    type Result = ResponseActFuture<Self, String>;

    /// Asks every registered component for its report, through its actor.
    fn handle(&mut self, msg: Describe, _: &mut Context<Self>) -> Self::Result {
        let facts = GraphFacts {
            phase: match self.phase {
                Phase::Idle => "idle",
                Phase::Running => "running",
                Phase::Stopping => "stopping",
            },
            generation: self.generation,
            undelivered: self.stopping.as_ref().map(StatsView::undelivered),
            paths: self.graph.as_ref().map(Graph::paths).unwrap_or_default(),
        };
        let addrs: Vec<_> = self
            .graph
            .as_ref()
            .map(|g| g.components().to_vec())
            .unwrap_or_default();
        let fut = async move {
            let mut reports = Vec::new();
            for a in addrs {
                if let Ok(r) = a.send(Report).await {
                    reports.push(r);
                }
            }
            graph_view::render(msg.0, &facts, &reports)
        };
        Box::pin(fut.into_actor(self))
    }
}

impl Handler<Components> for ConfigSupervisor {
    type Result = Vec<actix::Addr<super::component::ComponentActor>>;

    fn handle(&mut self, _: Components, _: &mut Context<Self>) -> Self::Result {
        self.graph
            .as_ref()
            .map(|g| g.components().to_vec())
            .unwrap_or_default()
    }
}

impl Handler<ExitSignal> for ConfigSupervisor {
    type Result = Arc<Notify>;

    fn handle(&mut self, _: ExitSignal, _: &mut Context<Self>) -> Arc<Notify> {
        self.exit.clone()
    }
}

impl Handler<Shutdown> for ConfigSupervisor {
    type Result = ResponseActFuture<Self, StopReport>;

    fn handle(&mut self, msg: Shutdown, _: &mut Context<Self>) -> Self::Result {
        self.phase = Phase::Stopping;
        let graph = self.graph.take();
        self.stopping = graph.as_ref().map(Graph::stats_view);
        // Not atomic: other messages (stats) are answered while this runs.
        let fut = async move {
            match graph {
                Some(g) => {
                    let abort = msg.abort.clone();
                    g.stop_for_exit(msg.drain, async move { abort.notified().await })
                        .await
                }
                None => StopReport::default(),
            }
        };
        Box::pin(fut.into_actor(self).map(|report, act, _| {
            act.stopping = None;
            report
        }))
    }
}
