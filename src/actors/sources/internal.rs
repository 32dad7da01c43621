//! The `internal()` source: the daemon's own messages (startup, errors, STATS, MARK).
//!
//! Option set checked against syslog-ng 3.38: the options of every source (`log-iw-size()`,
//! `tags()`, `program-override()`...) and `log-fifo-size()`; no `persist-name()`,
//! `hook-commands()` or parsing options.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use serde::Deserialize;
use tokio::sync::{Notify, watch};

use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::message::{Builtin, LocalHost, LogMessage, MsgFlags, UnixTime, mangle_hostname};

use crate::config::global_options::Positive;

use super::common::{SourceOptions, default_log_iw_size};
use crate::actors::destinations::writer::{mark_message, sleep_until};
use crate::driver_options;

/// The `internal()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct InternalSource {
    /// Messages in flight before internal messages queue up. Must be positive. Default: 100.
    #[serde(default = "default_log_iw_size")]
    pub log_iw_size: Positive,
    /// Internal messages queued while the source's window is full; beyond it they are
    /// dropped. Must be positive. Default: the global `log-fifo-size()` (10000).
    #[serde(default)]
    pub log_fifo_size: Option<Positive>,
}

driver_options! {
    /// Options of the `internal()` source.
    pub struct InternalSourceOptions {
        pub internal: InternalSource,
        pub source: SourceOptions,
    }
}

// ---------------------------------------------------------------------------------------
// Runtime: the daemon's own log events become messages. A tracing [`InternalLayer`] turns
// every event into a [`LogMessage`] and puts it on the process-wide [`InternalBus`]; the
// `internal()` source of the running graph drains the bus in batches. The bus is not part of
// a graph, so messages logged while a reload swaps graphs wait for the next one.

/// Internal messages kept while no `internal()` source drains them (start-up, reload).
const BUS_CAPACITY: usize = 10_000;

/// The queue between the tracing layer and the `internal()` source.
pub struct InternalBus {
    queue: Mutex<VecDeque<LogMessage>>,
    ready: Notify,
    /// Whether messages are kept: true until a graph without `internal()` starts.
    enabled: AtomicBool,
    dropped: AtomicU64,
}

/// The process-wide bus.
pub fn bus() -> &'static InternalBus {
    static BUS: OnceLock<InternalBus> = OnceLock::new();
    BUS.get_or_init(|| InternalBus {
        queue: Mutex::new(VecDeque::new()),
        ready: Notify::new(),
        enabled: AtomicBool::new(true),
        dropped: AtomicU64::new(0),
    })
}

impl InternalBus {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<LogMessage>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a message (dropped and counted when the bus is full or disabled).
    pub fn push(&self, msg: LogMessage) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        {
            let mut q = self.lock();
            if q.len() >= BUS_CAPACITY {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            q.push_back(msg);
        }
        self.ready.notify_one();
    }

    /// Whether messages are kept (a graph with `internal()` runs, or none runs yet).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Release);
        if !on {
            self.lock().clear();
        }
    }

    /// Messages dropped because nobody drained the bus in time.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Messages waiting for the `internal()` source.
    pub fn queued(&self) -> usize {
        self.lock().len()
    }

    /// How full the bus is, 0 to 1.
    pub fn usage(&self) -> f64 {
        self.queued() as f64 / BUS_CAPACITY as f64
    }

    fn drain_into(&self, out: &mut Vec<LogMessage>) {
        out.extend(self.lock().drain(..));
    }
}

struct Local {
    host: Arc<str>,
    pid: Vec<u8>,
    tz: jiff::tz::TimeZone,
}

fn local() -> &'static Local {
    static L: OnceLock<Local> = OnceLock::new();
    L.get_or_init(|| Local {
        host: LocalHost::detect().short,
        pid: std::process::id().to_string().into_bytes(),
        tz: jiff::tz::TimeZone::system(),
    })
}

/// Collects an event's fields as syslog-ng writes them: `message; key='value', ...`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.pair(field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let v = format!("{value:?}");
        if field.name() == "message" {
            self.message.push_str(&v);
        } else {
            self.pair(field.name(), &v);
        }
    }
}

impl Fields {
    fn pair(&mut self, k: &str, v: &str) {
        if !self.rest.is_empty() {
            self.rest.push_str(", ");
        }
        self.rest.push_str(k);
        self.rest.push_str("='");
        self.rest.push_str(v);
        self.rest.push('\'');
    }
}

/// The tracing layer feeding `internal()`.
pub struct InternalLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for InternalLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let b = bus();
        if !b.enabled.load(Ordering::Relaxed) {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        if !f.rest.is_empty() {
            f.message.push_str("; ");
            f.message.push_str(&f.rest);
        }
        let sev: u16 = match *event.metadata().level() {
            tracing::Level::ERROR => 3,
            tracing::Level::WARN => 4,
            tracing::Level::INFO => 5,
            tracing::Level::DEBUG | tracing::Level::TRACE => 7,
        };
        let l = local();
        let mut msg = LogMessage::new(UnixTime::now(&l.tz));
        msg.pri = 5 * 8 + sev;
        msg.nv.set_builtin(Builtin::Program, b"syslog-ng");
        msg.nv.set_builtin(Builtin::Pid, &l.pid);
        msg.nv.set_builtin(Builtin::Host, l.host.as_bytes());
        msg.nv.set_builtin(Builtin::Message, f.message.as_bytes());
        msg.flags.set(MsgFlags::LOCAL);
        msg.flags.set(MsgFlags::INTERNAL);
        b.push(msg);
    }
}

/// The `internal()` source of a graph as an actor: drains the bus into the log paths, and
/// emits `-- MARK --` every global `mark-freq()` seconds (as syslog-ng's internal() does,
/// whatever the global `mark-mode()`; destinations with `mark-mode(internal)` pass them on,
/// the others drop them).
/// Plans an `internal()` call.
pub fn plan_internal(
    call: &crate::config::Node,
    _globals: &crate::config::global_options::GlobalOptions,
    _env: &crate::pipeline::BuildEnv<'_>,
) -> Result<
    Box<dyn crate::actors::runtime::driver::SourceDriver>,
    crate::config::diagnostic::Diagnostic,
> {
    use super::common::DriverOptions;
    let o = InternalSourceOptions::from_call(call)?;
    Ok(Box::new(InternalPlan { source: o.source }))
}

/// `internal()`, ready to start.
#[derive(Debug, Clone)]
pub struct InternalPlan {
    pub source: SourceOptions,
}

impl crate::actors::runtime::driver::SourceDriver for InternalPlan {
    fn persist_name(&self) -> String {
        "internal".to_string()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn ingest_options(&self) -> crate::actors::runtime::driver::IngestOptions<'_> {
        crate::actors::runtime::driver::IngestOptions {
            source: &self.source,
            reader: None,
            set_flags: 0,
            clear_flags: 0,
        }
    }

    fn acquire(
        &self,
        _: &str,
        _: &mut crate::actors::runtime::driver::Resources,
        _: &mut crate::actors::runtime::driver::Resources,
    ) -> Result<(), crate::actors::runtime::error::RuntimeError> {
        Ok(())
    }

    fn start(&self, ingest: Arc<Ingest>, cx: &mut crate::actors::runtime::driver::SourceStart<'_>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        cx.done.push(rx);
        InternalSourceActor {
            ingest,
            stop: cx.stop.clone(),
            done: Some(tx),
            mark_every: (cx.mark_freq > 0)
                .then(|| std::time::Duration::from_secs(u64::from(cx.mark_freq))),
            local_host: cx.local_host.clone(),
        }
        .start();
    }

    fn is_internal(&self) -> bool {
        true
    }

    fn stats_rows(&self) -> crate::actors::runtime::stats::SourceRows {
        crate::actors::runtime::stats::SourceRows::Driver {
            level: 0,
            instance: String::new(),
            reader: false,
        }
    }
}

/// The actor draining the bus into the graph.
pub struct InternalSourceActor {
    pub ingest: Arc<Ingest>,
    pub stop: watch::Receiver<bool>,
    pub done: Option<tokio::sync::oneshot::Sender<()>>,
    pub mark_every: Option<std::time::Duration>,
    pub local_host: Arc<str>,
}

impl Actor for InternalSourceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let ingest = self.ingest.clone();
        let mut stop = self.stop.clone();
        let done = self.done.take();
        let (mark_every, local_host) = (self.mark_every, self.local_host.clone());
        let fut = async move {
            let b = bus();
            let mut drained = Vec::new();
            let mut batch = Batcher::default();
            let mut next_mark = mark_every.map(|d| tokio::time::Instant::now() + d);
            loop {
                let (stopping, mark) = tokio::select! {
                    _ = b.ready.notified() => (false, false),
                    _ = stop.changed() => (true, false),
                    _ = sleep_until(next_mark) => (false, true),
                };
                b.drain_into(&mut drained);
                if mark && let Some(every) = mark_every {
                    next_mark = Some(tokio::time::Instant::now() + every);
                    drained.push(mark_message(&local_host));
                }
                ingest.begin(&mut batch, None, 0);
                for mut m in drained.drain(..) {
                    mangle_hostname(&mut m, &ingest.parse, None);
                    ingest.touch(&mut m);
                    ingest.route(&mut batch, m);
                }
                ingest.flush(&mut batch);
                if stopping {
                    break;
                }
            }
            if let Some(d) = done {
                let _ = d.send(());
            }
        };
        ctx.spawn(fut.into_actor(self).map(|_, _, ctx| ctx.stop()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};

    #[test]
    fn defaults() {
        let o: InternalSourceOptions = check("internal()");
        assert_eq!(o.internal.log_iw_size.get(), 100);
        assert_eq!(o.source, SourceOptions::default());
    }

    #[test]
    fn full_example() {
        let o: InternalSourceOptions = check(
            r#"internal(log-iw-size(1000) log-fifo-size(50000) tags("internal")
                program-override("sluice"))"#,
        );
        assert_eq!(o.internal.log_iw_size.get(), 1000);
        assert_eq!(o.internal.log_fifo_size.map(|n| n.get()), Some(50000));
        assert_eq!(o.source.tags, vec!["internal"]);
    }

    #[test]
    fn errors() {
        let e = err::<InternalSourceOptions>("internal(tag(x))");
        assert_eq!(e.notes, vec!["did you mean `tags`?"]);
        err::<InternalSourceOptions>(r#"internal(persist-name("x"))"#);
        err::<InternalSourceOptions>("internal(flags(no-parse))");
        let e = err::<InternalSourceOptions>("internal(keep-timestamp(sometimes))");
        assert!(e.message.contains("yes or no"), "{}", e.message);
    }
}
