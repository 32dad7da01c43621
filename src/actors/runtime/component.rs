//! What a component is: one source driver (with its connection and file readers) or one
//! destination driver (its queue and writer), seen from outside the data path.
//!
//! Each component has a [`ComponentActor`] — an actix actor whose `Addr` the graph registers
//! with the ConfigSupervisor — answering control messages: [`Report`] (identity, state,
//! counters, queue depth), [`Pause`] / [`Resume`], [`StopComponent`]. The data path does not
//! go through it: readers and writers move batches through queues and credits, and the actor
//! reaches them through the same shared objects they use (a source's [`Gate`] and stop
//! signal, a destination's [`Queue`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use actix::{Actor, Context, Handler, Message, MessageResponse};
use tokio::sync::watch;

use super::ack::Window;
use super::counters::Counters;
use super::queue::Queue;

/// Source or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Source,
    Destination,
}

impl Kind {
    /// `source` or `destination`.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Source => "source",
            Kind::Destination => "destination",
        }
    }
}

/// What a component is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Running,
    /// Flow control: a reader's window is empty (its destinations have not caught up).
    Suspended,
    /// Paused by a [`Pause`] message.
    Paused,
    /// Stopped alone ([`StopComponent`]), or its writer has finished.
    Stopped,
    /// A destination whose last send failed: it retries after `time-reopen()`.
    Reconnecting,
    /// A destination whose queue is closed (the daemon stops, or a reload removed it) and
    /// still holds messages.
    Draining,
}

impl State {
    /// The state's name in reports.
    pub fn word(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Suspended => "suspended",
            State::Paused => "paused",
            State::Stopped => "stopped",
            State::Reconnecting => "reconnecting",
            State::Draining => "draining",
        }
    }
}

/// A source's pause switch, shared with the flow-control windows of its readers: while it is
/// closed, readers get no credits and so read nothing (what the kernel buffers waits).
#[derive(Debug, Default)]
pub struct Gate {
    paused: AtomicBool,
    windows: Mutex<Vec<Weak<Window>>>,
}

impl Gate {
    /// Whether the source is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// A reader's window under this gate (see [`Window::for_reader`]).
    pub fn window(self: &Arc<Self>, configured: u32) -> Arc<Window> {
        self.window_up_to(configured, super::ack::READER_IN_FLIGHT_CAP)
    }

    /// A window under this gate of the configured size, at most `cap`.
    pub fn window_up_to(self: &Arc<Self>, configured: u32, cap: u32) -> Arc<Window> {
        let w = Window::for_reader_gated(configured, cap, self.clone());
        let mut ws = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        ws.retain(|w| w.strong_count() > 0);
        ws.push(Arc::downgrade(&w));
        w
    }

    /// Closes (true) or opens the switch; opening wakes the readers waiting on it.
    pub(crate) fn set(&self, paused: bool) {
        self.paused.store(paused, Ordering::Release);
        if !paused {
            for w in self.live_windows() {
                w.wake();
            }
        }
    }

    fn live_windows(&self) -> Vec<Arc<Window>> {
        let ws = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        ws.iter().filter_map(Weak::upgrade).collect()
    }

    /// How many readers under the gate wait for credits (flow control, or the pause).
    fn waiting(&self) -> usize {
        self.live_windows()
            .iter()
            .filter(|w| w.is_waiting())
            .count()
    }
}

/// What the actor controls.
#[derive(Debug)]
enum Handle {
    Source {
        gate: Arc<Gate>,
        stop: Arc<watch::Sender<bool>>,
    },
    Destination {
        queue: Arc<Queue>,
    },
}

/// The control face of one component.
#[derive(Debug)]
pub struct ComponentActor {
    kind: Kind,
    object: String,
    driver_name: String,
    driver_id: String,
    persist_name: String,
    counters: Arc<Counters>,
    handle: Handle,
    /// When the last report was made and the `processed` count then (its rate is since).
    last: (std::time::Instant, u64),
}

impl ComponentActor {
    /// A source driver's actor: `stop` stops its readers alone.
    pub fn source(
        object: &str,
        driver_name: &str,
        driver_id: &str,
        persist_name: &str,
        counters: Arc<Counters>,
        gate: Arc<Gate>,
        stop: Arc<watch::Sender<bool>>,
    ) -> ComponentActor {
        let last = (
            std::time::Instant::now(),
            Counters::get(&counters.processed),
        );
        ComponentActor {
            kind: Kind::Source,
            object: object.to_string(),
            driver_name: driver_name.to_string(),
            driver_id: driver_id.to_string(),
            persist_name: persist_name.to_string(),
            counters,
            handle: Handle::Source { gate, stop },
            last,
        }
    }

    /// A destination driver's actor.
    pub fn destination(d: &super::graph::DestComponent) -> ComponentActor {
        let queue = d.queue.clone();
        let last = (
            std::time::Instant::now(),
            Counters::get(&queue.counters.written),
        );
        ComponentActor {
            kind: Kind::Destination,
            object: d.object.clone(),
            driver_name: d.driver_name.clone(),
            driver_id: d.driver_id.clone(),
            persist_name: d.persist_name.clone(),
            counters: queue.counters.clone(),
            handle: Handle::Destination { queue },
            last,
        }
    }

    /// Messages per second since the last report (routed by a source, written by a
    /// destination).
    fn rate(&mut self) -> f64 {
        let now = std::time::Instant::now();
        let count = match self.kind {
            Kind::Source => Counters::get(&self.counters.processed),
            Kind::Destination => Counters::get(&self.counters.written),
        };
        let (then, before) = std::mem::replace(&mut self.last, (now, count));
        let secs = now.duration_since(then).as_secs_f64();
        if secs > 0.0 {
            count.saturating_sub(before) as f64 / secs
        } else {
            0.0
        }
    }

    fn state(&self) -> State {
        match &self.handle {
            Handle::Source { gate, stop } => {
                if *stop.borrow() {
                    State::Stopped
                } else if gate.is_paused() {
                    State::Paused
                } else if gate.waiting() > 0 {
                    State::Suspended
                } else {
                    State::Running
                }
            }
            Handle::Destination { queue } => {
                let empty = queue.is_empty() && queue.in_hand() == 0;
                if queue.is_paused() {
                    State::Paused
                } else if queue.is_closed() && empty {
                    State::Stopped
                } else if queue.counters.reconnecting.load(Ordering::Relaxed) {
                    State::Reconnecting
                } else if queue.is_closed() {
                    State::Draining
                } else {
                    State::Running
                }
            }
        }
    }
}

impl Actor for ComponentActor {
    type Context = Context<Self>;
}

/// A component's identity, state and counters.
#[derive(Debug, Clone, MessageResponse)]
pub struct ComponentReport {
    pub kind: Kind,
    /// The statement (`s_net`) and the driver's name (`tcp`).
    pub object: String,
    pub driver_name: String,
    pub driver_id: String,
    pub persist_name: String,
    pub state: State,
    pub counters: Vec<(&'static str, u64)>,
    /// Destinations: entries queued and in the writer's hand.
    pub queued: Option<(usize, usize)>,
    /// Sources: readers waiting for credits.
    pub waiting: Option<usize>,
    /// Messages per second since the previous report.
    pub rate: f64,
    /// The last error and when (seconds since the epoch).
    pub last_error: Option<(u64, String)>,
}

impl std::fmt::Display for ComponentReport {
    /// `destination d#0 affile_dd_writers(/x): running queued=3 in_hand=0 processed=... `
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}: {}",
            self.kind.word(),
            self.driver_id,
            self.persist_name,
            self.state.word()
        )?;
        if let Some((q, h)) = self.queued {
            write!(f, " queued={q} in_hand={h}")?;
        }
        if let Some(n) = self.waiting.filter(|n| *n > 0) {
            write!(f, " waiting={n}")?;
        }
        for (k, v) in &self.counters {
            if *v > 0 && *k != "queued" {
                write!(f, " {k}={v}")?;
            }
        }
        Ok(())
    }
}

/// Asks for a [`ComponentReport`].
#[derive(Message)]
#[rtype(result = "ComponentReport")]
pub struct Report;

/// Pauses the component: a source stops reading, a destination stops taking from its queue.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Pause;

/// Undoes [`Pause`].
#[derive(Message)]
#[rtype(result = "()")]
pub struct Resume;

/// Stops this component alone: a source's readers stop (what they parsed is queued); a
/// destination's queue closes, so its writer drains it and stops.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopComponent;

impl Handler<Report> for ComponentActor {
    type Result = ComponentReport;

    fn handle(&mut self, _: Report, _: &mut Context<Self>) -> ComponentReport {
        let (queued, waiting) = match &self.handle {
            Handle::Destination { queue } => (Some((queue.len(), queue.in_hand())), None),
            Handle::Source { gate, .. } => (None, Some(gate.waiting())),
        };
        ComponentReport {
            kind: self.kind,
            rate: self.rate(),
            last_error: self.counters.last_error(),
            object: self.object.clone(),
            driver_name: self.driver_name.clone(),
            driver_id: self.driver_id.clone(),
            persist_name: self.persist_name.clone(),
            state: self.state(),
            counters: self.counters.snapshot(),
            queued,
            waiting,
        }
    }
}

impl Handler<Pause> for ComponentActor {
    type Result = ();

    fn handle(&mut self, _: Pause, _: &mut Context<Self>) {
        match &self.handle {
            Handle::Source { gate, .. } => gate.set(true),
            Handle::Destination { queue } => queue.pause(true),
        }
    }
}

impl Handler<Resume> for ComponentActor {
    type Result = ();

    fn handle(&mut self, _: Resume, _: &mut Context<Self>) {
        match &self.handle {
            Handle::Source { gate, .. } => gate.set(false),
            Handle::Destination { queue } => queue.pause(false),
        }
    }
}

impl Handler<StopComponent> for ComponentActor {
    type Result = ();

    fn handle(&mut self, _: StopComponent, _: &mut Context<Self>) {
        match &self.handle {
            Handle::Source { stop, .. } => {
                let _ = stop.send(true);
            }
            Handle::Destination { queue } => queue.close(),
        }
    }
}
