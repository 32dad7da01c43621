//! The source drivers of a running graph: started, kept running across a reload when their
//! plan is unchanged (only their routing is swapped), or stopped.

use std::sync::Arc;

use actix::{Actor, Addr};
use actix_rt::{Arbiter, ArbiterHandle};
use tokio::sync::{oneshot, watch};

use super::{Handover, SourceComponent};
use crate::actors::runtime::component::ComponentActor;
use crate::actors::runtime::driver::{Resources, SourceStart};
use crate::actors::runtime::ingest::{Ingest, Routing};
use crate::actors::runtime::plan::SourcePlan;
use crate::actors::sources::listener::Connections;

/// The network arbiters the source readers run on (one per core, at most 4), shared by every
/// graph of the daemon's life: a source that goes on running across a reload keeps its
/// readers where they are.
#[derive(Debug)]
pub struct NetworkPool {
    arbiters: std::sync::Mutex<Vec<Arbiter>>,
    handles: Arc<Vec<ArbiterHandle>>,
}

impl NetworkPool {
    /// Starts the arbiters (threads): one per core, at most 4.
    pub fn start() -> NetworkPool {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        let arbiters: Vec<Arbiter> = (0..n).map(|_| Arbiter::new()).collect();
        let handles = Arc::new(arbiters.iter().map(Arbiter::handle).collect());
        NetworkPool {
            arbiters: std::sync::Mutex::new(arbiters),
            handles,
        }
    }

    /// The arbiters' handles.
    pub fn handles(&self) -> &Arc<Vec<ArbiterHandle>> {
        &self.handles
    }

    /// Stops the arbiters (the daemon exits).
    pub fn stop(&self) {
        let arbiters =
            std::mem::take(&mut *self.arbiters.lock().unwrap_or_else(|p| p.into_inner()));
        for a in arbiters {
            a.stop();
        }
    }
}

/// One running source driver and what stops it.
pub struct RunningSource {
    pub info: SourceComponent,
    pub stop: Arc<watch::Sender<bool>>,
    pub done: Vec<oneshot::Receiver<()>>,
    pub connections: Arc<Connections>,
    pub ingest: Arc<Ingest>,
    pub actor: Addr<ComponentActor>,
}

/// What every source of one graph starts with.
pub struct Common<'a> {
    pub workers: &'a Arc<Vec<ArbiterHandle>>,
    pub resources: &'a Resources,
    pub exit: &'a Arc<tokio::sync::Notify>,
    pub mark_freq: u32,
    pub local_host: Arc<str>,
    pub next_worker: &'a mut usize,
}

/// Starts source `s` — or, when the previous graph's source of its persist name runs the
/// same plan, takes that one over running, with the new `routing`.
pub fn start_source(
    s: &SourcePlan,
    ingest: Ingest,
    routing: Arc<Routing>,
    cx: &mut Common<'_>,
    handover: &mut Handover,
) -> RunningSource {
    let keep_key = s.keep_key();
    if let Some(mut old) = handover.sources.remove(&s.persist_name) {
        if keep_key.is_some() && old.info.fingerprint == keep_key {
            old.ingest.set_routing(routing.clone());
            old.info.object = s.group.clone();
            old.info.driver_id = s.driver_id.clone();
            return old;
        }
        // Not to be kept after all: stopped here (its readers leave their state behind,
        // which this start does not see: the supervisor only hands over keepable ones).
        let _ = old.stop.send(true);
    }
    let (gate, counters) = (ingest.gate.clone(), ingest.counters.clone());
    let ingest = Arc::new(ingest);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let connections = Arc::new(Connections::default());
    let mut done = Vec::new();
    let mut start = SourceStart {
        workers: cx.workers,
        stop: &stop_rx,
        connections: &connections,
        done: &mut done,
        resources: cx.resources,
        leftovers: &handover.leftovers,
        persist: handover.persist.clone(),
        exit: cx.exit,
        mark_freq: cx.mark_freq,
        local_host: cx.local_host.clone(),
        next_worker: cx.next_worker,
    };
    s.driver.start(ingest.clone(), &mut start);
    let actor = ComponentActor::source(
        &s.object,
        &s.driver_name,
        &s.driver_id,
        &s.persist_name,
        counters.clone(),
        gate,
        stop_tx.clone(),
    )
    .start();
    RunningSource {
        info: SourceComponent {
            object: s.group.clone(),
            driver_id: s.driver_id.clone(),
            driver_name: s.driver_name.clone(),
            stats_rows: s.driver.stats_rows(),
            location: s.location.clone(),
            persist_name: s.persist_name.clone(),
            counters,
            fingerprint: keep_key,
        },
        stop: stop_tx,
        done,
        connections,
        ingest,
        actor,
    }
}

/// Stops `sources` and waits (bounded) for their readers: what they parsed is queued.
pub async fn stop_all(sources: Vec<RunningSource>, wait: std::time::Duration) {
    for s in &sources {
        let _ = s.stop.send(true);
    }
    let all = async move {
        for s in sources {
            s.connections.all_closed().await;
            for rx in s.done {
                let _ = rx.await;
            }
        }
    };
    if tokio::time::timeout(wait, all).await.is_err() {
        tracing::warn!("Sources did not stop in time");
    }
}
