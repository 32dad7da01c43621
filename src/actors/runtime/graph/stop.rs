//! Stopping a graph: for a reload (sources stop, destinations are kept, handed over or
//! drained in the background) and for exit (listeners close first, then the queues drain,
//! bounded, and what was not delivered is counted exactly).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use super::{DestComponent, Graph, Handover, RunningWriter};
use crate::actors::runtime::counters::DropReason;
use crate::actors::runtime::hooks;

/// How long the sources may take to stop: readers finish the batch in hand.
const SOURCE_STOP: Duration = Duration::from_secs(10);

/// How long a detached writer may take to finish the batch it is writing before the next
/// writer of its queue starts anyway.
pub(super) const DETACH_WAIT: Duration = Duration::from_secs(10);

/// What a stop for exit left undelivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StopReport {
    /// Messages queued or in a writer's hand when the drain ended.
    pub undelivered: usize,
    /// Whether the drain was cut short (its timeout, or a second signal).
    pub cut_short: bool,
}

/// What draining the destinations a reload removed left undelivered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// Undelivered messages by persist name.
    pub lost: Vec<(String, usize)>,
}

impl Graph {
    /// Stops every source and waits (bounded) for their readers: what they parsed is queued.
    /// The listening sockets close first, so clients are refused from now on instead of
    /// being accepted by nobody.
    async fn stop_sources_for_exit(&mut self) {
        drop(std::mem::take(&mut self.resources));
        super::sources::stop_all(std::mem::take(&mut self.sources), SOURCE_STOP).await;
        self.pool.stop();
    }

    /// Stops for a reload to a configuration whose sources and destinations are `next`
    /// (persist name → fingerprint). A source `next` has with the same fingerprint that may
    /// go on running (`SourceDriver::keeps_running_on_reload`) does, untouched; the others stop
    /// (handing kept connections, file positions and FIFOs to the [`Handover`]'s leftovers).
    /// A destination `next` has with the same fingerprint goes on
    /// running; one `next` has with another plan is detached — its writer stops after the
    /// batch in hand, and the new driver starts once it has (see `graph::start_dest`), so
    /// the reload does not wait for it; the others are returned, to be drained in the
    /// background ([`drain_removed`]).
    pub async fn stop_for_reload(
        mut self,
        next_sources: &HashMap<String, u64>,
        next: &HashMap<String, u64>,
    ) -> (Handover, Vec<DestComponent>) {
        let mut handover = Handover {
            started_before: true,
            leftovers: self.leftovers.clone(),
            persist: self.persist.clone(),
            pool: Some(self.pool.clone()),
            ..Handover::default()
        };
        let mut stopping = Vec::new();
        for s in std::mem::take(&mut self.sources) {
            handover
                .source_counters
                .insert(s.info.driver_id.clone(), s.info.counters.clone());
            match (s.info.fingerprint, next_sources.get(&s.info.persist_name)) {
                (Some(mine), Some(theirs)) if mine == *theirs => {
                    handover.sources.insert(s.info.persist_name.clone(), s);
                }
                _ => stopping.push(s),
            }
        }
        super::sources::stop_all(stopping, SOURCE_STOP).await;
        let mut removed = Vec::new();
        for d in std::mem::take(&mut self.dests) {
            match next.get(&d.persist_name) {
                Some(f) if *f == d.fingerprint && d.is_running() => {
                    handover.dests.insert(d.persist_name.clone(), d);
                }
                Some(_) => {
                    d.park.set_reloading(true);
                    d.queue.detach();
                    handover.dests.insert(d.persist_name.clone(), d);
                }
                None => {
                    d.park.set_reloading(false);
                    d.queue.close();
                    removed.push(d);
                }
            }
        }
        (handover, removed)
    }

    /// Stops for good: listeners close, sources stop, every queue drains until it is empty,
    /// `drain` passes or `abort` resolves (a second signal); then the `teardown()` and
    /// `shutdown()` hooks run. What was not delivered is counted, logged and reported.
    pub async fn stop_for_exit(
        mut self,
        drain: Duration,
        abort: impl Future<Output = ()>,
    ) -> StopReport {
        self.stop_sources_for_exit().await;
        for d in &self.dests {
            d.park.set_reloading(false);
            d.queue.close();
        }
        let mut writers = Vec::new();
        for d in &mut self.dests {
            if let Some(w) = d.writer.take() {
                writers.push((d.persist_name.clone(), w));
            }
        }
        let waiting: Vec<_> = writers.iter_mut().map(|(_, w)| &mut w.done).collect();
        let all = async move {
            for rx in waiting {
                let _ = rx.await;
            }
        };
        let cut_short = tokio::select! {
            _ = all => false,
            _ = tokio::time::sleep(drain) => {
                tracing::error!("Destinations did not drain their queues in time");
                true
            }
            _ = abort => {
                tracing::warn!("Second stop signal, ending the drain now");
                true
            }
        };
        // The writers stop before anything is counted: one still in the middle of a write
        // would otherwise move messages from "in hand" to "written" after the count (and a
        // line both in the program's pipe and in the lost count was counted twice).
        for (name, w) in writers {
            stop_arbiter(w.arbiter, &name).await;
        }
        let mut undelivered = 0;
        for d in &self.dests {
            undelivered += count_undelivered(d);
        }
        if undelivered > 0 {
            tracing::error!(
                messages = undelivered,
                "Messages not delivered before shutdown are lost (no disk-buffer)"
            );
        }
        for d in &self.dests {
            let (queued, in_hand) = d.queue.kept_on_disk();
            if queued + in_hand > 0 {
                tracing::info!(destination = %d.persist_name, messages = queued + in_hand,
                    "Messages not delivered yet stay in the disk-buffer for the next start");
            }
        }
        hooks::run_stop(&self.hooks, true).await;
        StopReport {
            undelivered,
            cut_short,
        }
    }
}

/// Drains, in the background, the destinations a reload removed: each gets `timeout` to
/// write what it has; what is left is counted as dropped and logged.
pub fn drain_removed(
    removed: Vec<DestComponent>,
    timeout: Duration,
) -> tokio::task::JoinHandle<DrainReport> {
    // One task per destination: their timeouts run side by side.
    let drains: Vec<_> = removed
        .into_iter()
        .map(|mut d| {
            tokio::spawn(async move {
                if let Some(w) = d.writer.take() {
                    finish_writer(w, timeout, &d.persist_name).await;
                }
                let lost = count_undelivered(&d);
                let (queued, in_hand) = d.queue.kept_on_disk();
                if queued + in_hand > 0 {
                    tracing::warn!(destination = %d.persist_name, messages = queued + in_hand,
                        "A destination the reload removed keeps its undelivered messages in \
                         its disk-buffer files, for a configuration that brings it back");
                }
                (d.persist_name.clone(), lost)
            })
        })
        .collect();
    tokio::spawn(async move {
        let mut report = DrainReport::default();
        for h in drains {
            let Ok((name, lost)) = h.await else { continue };
            if lost > 0 {
                tracing::error!(destination = %name, messages = lost,
                    "Messages of a destination the reload removed were not delivered in time");
            } else {
                tracing::info!(destination = %name, "Destination removed by the reload drained");
            }
            report.lost.push((name, lost));
        }
        report
    })
}

/// What is left of a stopped destination: taken out of its queue (their acks abort, so
/// file positions are not saved past them) and counted as dropped, with what its writer
/// still held.
fn count_undelivered(d: &DestComponent) -> usize {
    let left = d.queue.take_all();
    for e in &left {
        if let Some(a) = &e.ack {
            a.abort();
        }
    }
    let (_, in_hand_on_disk) = d.queue.kept_on_disk();
    let n = left.len() + d.queue.in_hand().saturating_sub(in_hand_on_disk);
    d.queue.counters.dropped_for(DropReason::Shutdown, n as u64);
    n
}

/// Waits up to `wait` for a writer to finish, then stops its thread.
pub(super) async fn finish_writer(mut w: RunningWriter, wait: Duration, name: &str) {
    if tokio::time::timeout(wait, &mut w.done).await.is_err() {
        tracing::warn!(destination = %name, "A destination did not stop in time");
    }
    stop_arbiter(w.arbiter, name).await;
}

/// Stops a writer's arbiter; a thread stuck in a blocking call (a FIFO nobody reads) must
/// not hold the daemon, so the join is bounded and the thread left behind.
async fn stop_arbiter(a: actix_rt::Arbiter, name: &str) {
    a.stop();
    let join = tokio::task::spawn_blocking(move || {
        let _ = a.join();
    });
    if tokio::time::timeout(Duration::from_secs(2), join)
        .await
        .is_err()
    {
        tracing::warn!(destination = %name, "A destination thread did not stop; leaving it behind");
    }
}
