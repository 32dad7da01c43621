//! The writer loop every queued destination shares, and the [`Sink`] trait a driver
//! implements to put bytes somewhere (a file, a socket, a program's stdin).
//!
//! The loop (syslog-ng's `LogWriter`): pop up to `flush-lines()` entries from the
//! destination's [`Queue`], apply `throttle()`, drop internal() MARKs the `mark-mode()` does
//! not want, fold repetitions (`suppress()`), and hand the rest to the sink as one batch. A
//! failed send keeps what was not written (back at the head of the queue, acks still held),
//! closes the sink and retries after `time-reopen()` — nothing is lost unless the driver says
//! `flags(ignore-errors)`. Between batches it writes `-- MARK --` when the mark mode says so
//! and the suppression summary when its timer fires. Dropping an entry is its
//! acknowledgement (see `runtime::ack`), so the loop never has to remember to ack.
//!
//! Each destination runs its writer on an arbiter of its own: a sink may block (a file
//! write, a pipe nobody reads) without holding up any socket reader.

#[cfg(test)]
mod loop_tests;
mod mark;
mod render;
mod suppress;
mod throttle;

use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use tokio::time::Instant;

pub use mark::{MarkPlan, MarkTimer, mark_message};
pub use render::{RenderPlan, Renderer, global_template};
pub use suppress::{Check, Suppressor};
pub use throttle::Throttle;

use crate::actors::destinations::common::{
    DestDriverOptions, DestFlag, TemplateOptions, WriterOptions,
};
use crate::actors::runtime::counters::{Counters, DropReason};
use crate::actors::runtime::queue::{Entry, Queue};
use crate::actors::runtime::settings;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, MarkMode};
use crate::message::{LocalHost, MsgFlags};
use crate::pipeline::BuildEnv;
use crate::template::{DaemonInfo, OutputFormat};

/// Most entries handed to a sink at once, whatever `flush-lines()` says: one write of a
/// few hundred KiB is as good as it gets, and bounds the writer's buffer.
pub const MAX_BATCH: usize = 2048;

/// What the writer loop of a queued destination runs with (the options every such driver
/// shares, resolved against the globals).
#[derive(Debug, Clone)]
pub struct WriterPlan {
    pub render: RenderPlan,
    /// Entries handed to the sink at once.
    pub batch_lines: usize,
    pub time_reopen: Duration,
    pub fifo_size: usize,
    /// `throttle()`: messages per second, 0 unlimited.
    pub throttle: u32,
    /// `suppress()`; `None` when off.
    pub suppress: Option<Duration>,
    pub mark: MarkPlan,
    /// `flags(ignore-errors)`: a batch that cannot be written is dropped (and counted)
    /// instead of retried.
    pub ignore_errors: bool,
    /// `disk-buffer()`: the queue is kept on disk.
    pub disk: Option<DiskPlan>,
}

/// A destination's `disk-buffer()`, as the queue is opened with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskPlan {
    /// `reliable()`: each batch is synced to disk before its sources get their credits back.
    pub reliable: bool,
    /// `disk-buf-size()`, raised to 1 MiB.
    pub capacity: u64,
    /// `dir()`; default: the directory of the persist file.
    pub dir: Option<std::path::PathBuf>,
    /// `reliable(no)`'s `mem-buf-length()` (default `log-fifo-size()`); 0 when reliable.
    pub mem_entries: usize,
}

impl DiskPlan {
    /// The buffer's directory: `dir()`, else `default` (the persist file's).
    pub fn dir_or(&self, default: &std::path::Path) -> std::path::PathBuf {
        self.dir.clone().unwrap_or_else(|| default.to_path_buf())
    }
}

/// The option groups a queued destination driver has, for [`plan_writer`].
pub struct WriterOptionsRef<'a> {
    pub dest: &'a DestDriverOptions,
    pub writer: &'a WriterOptions,
    pub template: &'a TemplateOptions,
    /// The driver's `mark-mode()` (its default differs per driver).
    pub mark_mode: MarkMode,
    /// The driver's built-in format: file-like or network.
    pub format: OutputFormat,
}

/// Derives the writer settings of a driver, refusing by name what the runtime cannot do.
pub fn plan_writer(
    o: WriterOptionsRef<'_>,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<WriterPlan, Diagnostic> {
    let render = RenderPlan::from_options(
        o.writer,
        settings::template_options(o.template, globals),
        o.format,
        global_template(globals, o.format),
        call,
        env,
    )?;
    let suppress = o.writer.suppress.unwrap_or(globals.suppress);
    let fifo_size = o.dest.log_fifo_size.unwrap_or(globals.log_fifo_size).get() as usize;
    let mark_freq = if o.mark_mode == MarkMode::Internal {
        None
    } else {
        o.writer.mark_freq
    };
    Ok(WriterPlan {
        render,
        // flush-lines() is how many messages syslog-ng writes at once; writing more at once
        // when the queue holds them only saves syscalls (the writer never waits to fill a
        // batch), so it is a floor.
        batch_lines: MAX_BATCH.max(o.writer.flush_lines.unwrap_or(globals.flush_lines) as usize),
        time_reopen: Duration::from_secs(u64::from(
            o.writer.time_reopen.unwrap_or(globals.time_reopen).get(),
        )),
        fifo_size,
        throttle: o.dest.throttle,
        suppress: (suppress > 0).then(|| Duration::from_secs(u64::from(suppress))),
        mark: MarkPlan::new(o.mark_mode, mark_freq, globals),
        ignore_errors: o.writer.flags.contains(&DestFlag::IgnoreErrors),
        disk: o.dest.disk_buffer.as_ref().map(|d| DiskPlan {
            mem_entries: match d.reliable {
                true => 0,
                false => d.mem_buf_length.map_or(fifo_size, |n| n as usize),
            },
            reliable: d.reliable,
            capacity: d
                .disk_buf_size
                .max(crate::actors::runtime::queue::disk::MIN_CAPACITY),
            dir: d.dir.as_ref().map(std::path::PathBuf::from),
        }),
    })
}

/// A send that failed part of the way.
#[derive(Debug)]
pub struct SendError {
    /// How many entries of the batch, from its start, were written.
    pub written: usize,
    pub error: std::io::Error,
}

impl SendError {
    /// Nothing of the batch was written.
    pub fn none(error: std::io::Error) -> SendError {
        SendError { written: 0, error }
    }
}

/// Where a destination puts its messages. The writer loop owns the sink; methods are
/// `async` so socket and pipe sinks can wait without blocking, while file-like sinks simply
/// do blocking calls (their arbiter serves nothing else).
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// How logs name the destination: `file('/var/log/messages')`.
    fn describe(&self) -> String;

    /// Whether the sink is open now (writer-made MARKs are only written to an open sink).
    fn is_open(&self) -> bool;

    /// Writes `batch` (opening the sink first when needed), each message rendered by `r`.
    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError>;

    /// Closes after an error (the next send reopens) or at the end.
    async fn close(&mut self);

    /// Closes what it has open by name so the next send opens it again (a file renamed by
    /// log rotation; see [`WriterControl::reopen`]). Default: nothing (a connection or a
    /// program goes on as it is).
    async fn reopen(&mut self) {}

    /// When the loop should call [`Sink::tick`] although no message arrives (a templated
    /// `file()` closes idle files and retries the ones it could not open). Default: never.
    fn deadline(&self) -> Option<Instant> {
        None
    }

    /// Runs the sink's own timers; called once [`Sink::deadline`] has passed.
    async fn tick(&mut self, _r: &mut Renderer) {}

    /// How many entries of the batch the last successful `send` kept to write later instead
    /// (a templated `file()` whose one file cannot be opened goes on writing the others);
    /// the sink counts them itself when it writes or drops them. Default: none.
    fn take_kept(&mut self) -> usize {
        0
    }

    /// Upkeep while the writer waits for messages, for what a timer cannot express: a
    /// socket sink connects at start, reconnects every `time-reopen()` while its peer is
    /// down and notices at once a peer that closed the connection (syslog-ng does all that
    /// while idle). Returns when it did something, so the loop looks at the sink again; must
    /// be cancel-safe (the writer drops it as soon as messages arrive or a timer fires).
    /// By default there is nothing to do.
    async fn idle(&mut self) {
        std::future::pending::<()>().await
    }
}

/// What the writer needs besides the sink.
pub struct WriterCx {
    pub plan: WriterPlan,
    pub queue: Arc<Queue>,
    pub daemon: Arc<DaemonInfo>,
    pub local_host: LocalHost,
    pub control: Arc<WriterControl>,
}

/// Requests to a running writer from outside its loop.
#[derive(Debug, Default)]
pub struct WriterControl {
    reopen: std::sync::atomic::AtomicBool,
    wake: tokio::sync::Notify,
}

impl WriterControl {
    /// Asks the writer to call [`Sink::reopen`] before its next batch: files close and open
    /// again by name (log rotation renames a file, then sends SIGHUP), `keep-alive(no)`
    /// connections and programs restart — what a reload does to a destination that goes on
    /// running.
    pub fn reopen(&self) {
        self.reopen
            .store(true, std::sync::atomic::Ordering::Release);
        self.wake.notify_one();
    }

    fn take_reopen(&self) -> bool {
        self.reopen.swap(false, std::sync::atomic::Ordering::AcqRel)
    }
}

/// Runs the writer loop until the queue is closed and empty, or detached (reload: what is
/// left stays in the queue for the next graph). With the sink down it stops when the queue
/// is closed, leaving what it could not write in the queue for the graph to report.
pub async fn run<S: Sink>(mut sink: S, cx: WriterCx) {
    let WriterCx {
        plan,
        queue,
        daemon,
        local_host,
        control,
    } = cx;
    let now = Instant::now();
    let mut r = Renderer::new(plan.render.clone(), daemon).count_into(queue.counters.clone());
    let mut throttle = Throttle::new(plan.throttle, now);
    let mut marks = MarkTimer::new(plan.mark, now);
    let mut suppress = plan
        .suppress
        .map(|w| Suppressor::new(w, local_host.fqdn.clone()));
    let mut popped: Vec<Entry> = Vec::with_capacity(plan.batch_lines);
    let mut batch: Vec<Entry> = Vec::with_capacity(plan.batch_lines);
    // Positions in `batch` of entries the writer made (suppression summaries): the queue is
    // told only of its own entries finished or put back.
    let mut made: Vec<usize> = Vec::new();
    loop {
        if queue.is_detached() {
            break;
        }
        if control.take_reopen() {
            sink.reopen().await;
        }
        if sink.deadline().is_some_and(|d| Instant::now() >= d) {
            sink.tick(&mut r).await;
        }
        let want = throttle.allowance(plan.batch_lines, Instant::now());
        let n = if want == 0 {
            0
        } else {
            queue.pop_batch(want, &mut popped)
        };
        if n == 0 {
            if queue.is_closed() && queue.is_empty() {
                break;
            }
            let timer = [
                marks.deadline(),
                suppress.as_ref().and_then(Suppressor::deadline),
                sink.deadline(),
            ]
            .into_iter()
            .flatten()
            .min();
            let throttled = (want == 0).then(|| Instant::now() + throttle.wait_for_one());
            let wake = [timer, throttled].into_iter().flatten().min();
            let sleep = sleep_until(wake);
            tokio::select! {
                _ = queue.wait(), if throttled.is_none() => {}
                _ = sleep => {}
                _ = sink.idle() => {}
                _ = control.wake.notified() => {}
            }
            let now = Instant::now();
            let mut extra = Vec::new();
            if let Some(s) = suppress.as_mut()
                && s.deadline().is_some_and(|d| now >= d)
                && let Some(m) = s.expire()
            {
                extra.push(Entry {
                    msg: Arc::new(m),
                    ack: None,
                });
            }
            if marks.due(now) && sink.is_open() {
                extra.push(Entry {
                    msg: Arc::new(mark_message(&local_host.short)),
                    ack: None,
                });
            }
            let mut all_made: Vec<usize> = (0..extra.len()).collect();
            if !extra.is_empty()
                && !write_with_retry(
                    &mut sink,
                    &plan,
                    &queue,
                    &mut r,
                    &mut marks,
                    &mut extra,
                    &mut all_made,
                )
                .await
            {
                break;
            }
            continue;
        }
        throttle.spend(n);
        let mut finished = 0;
        for e in popped.drain(..) {
            if e.msg.flags.has(MsgFlags::MARK)
                && e.msg.flags.has(MsgFlags::INTERNAL)
                && !plan.mark.passes_internal_mark()
            {
                finished += 1;
                continue;
            }
            if let Some(s) = suppress.as_mut() {
                match s.check(&e.msg, Instant::now()) {
                    Check::Suppressed => {
                        Counters::add(&queue.counters.suppressed, 1);
                        finished += 1;
                        continue;
                    }
                    Check::Write(Some(summary)) => {
                        made.push(batch.len());
                        batch.push(Entry {
                            msg: Arc::new(*summary),
                            ack: None,
                        });
                    }
                    Check::Write(None) => {}
                }
            }
            batch.push(e);
        }
        // Dropped by the destination's own rules: as finished as written ones.
        queue.ack(finished);
        if !batch.is_empty()
            && !write_with_retry(
                &mut sink, &plan, &queue, &mut r, &mut marks, &mut batch, &mut made,
            )
            .await
        {
            // Stopping with the sink down: what is left stays queued for the graph to
            // report (retrying at once would spin until the drain timeout).
            break;
        }
    }
    if let Some(m) = suppress.as_mut().and_then(Suppressor::expire) {
        let mut last = vec![Entry {
            msg: Arc::new(m),
            ack: None,
        }];
        if let Err(e) = sink.send(&last, &mut r).await {
            tracing::warn!(destination = %sink.describe(), error = %e.error,
                "Error writing the last suppression summary");
        }
        last.clear();
    }
    sink.close().await;
}

/// Sends `batch` until it is written (or the queue is closed while the sink is down, or
/// `ignore-errors` drops it). Leaves `batch` empty: written entries are dropped (acked),
/// unwritten ones go back to the head of the queue. Returns false when the sink failed
/// after the queue was closed: the loop stops and what is left stays queued for the graph
/// to report (retrying at once, again and again, would only spin until the stop timeout).
/// `made` holds the positions of the writer's own entries in `batch` (emptied too).
async fn write_with_retry<S: Sink>(
    sink: &mut S,
    plan: &WriterPlan,
    queue: &Queue,
    r: &mut Renderer,
    marks: &mut MarkTimer,
    batch: &mut Vec<Entry>,
    made: &mut Vec<usize>,
) -> bool {
    // Entries of the queue among the first `n` of the batch.
    let own = |made: &[usize], n: usize| n - made.iter().filter(|&&p| p < n).count();
    let sent = sink.send(batch, r).await;
    r.flush_counts();
    match sent {
        Ok(()) => {
            let relayed = batch.iter().any(|e| !e.msg.flags.has(MsgFlags::LOCAL));
            marks.on_written(relayed, Instant::now());
            let kept = sink.take_kept().min(batch.len());
            Counters::add(&queue.counters.written, (batch.len() - kept) as u64);
            queue
                .counters
                .reconnecting
                .store(false, std::sync::atomic::Ordering::Relaxed);
            queue.ack(own(made, batch.len()));
            batch.clear();
            made.clear();
            true
        }
        Err(SendError { written, error }) => {
            let written = written.min(batch.len());
            Counters::add(&queue.counters.written, written as u64);
            queue.ack(own(made, written));
            batch.drain(..written);
            made.retain_mut(|p| {
                let keep = *p >= written;
                *p = p.saturating_sub(written);
                keep
            });
            sink.close().await;
            if plan.ignore_errors {
                tracing::error!(destination = %sink.describe(), error = %error,
                    dropped = batch.len(), "Error writing, dropping the messages (ignore-errors)");
                queue
                    .counters
                    .dropped_for(DropReason::WriteError, batch.len() as u64);
                queue.ack(own(made, batch.len()));
                batch.clear();
                made.clear();
                return true;
            }
            tracing::error!(
                destination = %sink.describe(),
                error = %error,
                time_reopen = plan.time_reopen.as_secs(),
                "Error sending messages, retrying after time-reopen()"
            );
            queue.counters.set_error(&error);
            queue
                .counters
                .reconnecting
                .store(true, std::sync::atomic::Ordering::Relaxed);
            queue.rewind(batch, made.len());
            made.clear();
            if queue.is_closed() {
                return false;
            }
            // Wait time-reopen(), but not past a stop (then one last try).
            tokio::select! {
                _ = tokio::time::sleep(plan.time_reopen) => {}
                _ = queue.closed() => {}
            }
            true
        }
    }
}

/// Sleeps until `at`, or forever without one (a timer arm of a `select!`).
pub async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A destination driver as an actor: runs its writer loop and reports when it is done.
pub struct DestActor<S: Sink + Unpin + 'static> {
    pub sink: Option<(S, WriterCx)>,
    pub done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<S: Sink + Unpin + 'static> Actor for DestActor<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some((sink, cx)) = self.sink.take() else {
            ctx.stop();
            return;
        };
        let done = self.done.take();
        ctx.spawn(run(sink, cx).into_actor(self).map(move |_, _, ctx| {
            if let Some(d) = done {
                let _ = d.send(());
            }
            ctx.stop();
        }));
    }
}

/// Starts `sink`'s writer as an actor on `arbiter`; `done` fires when it finished.
pub fn start<S: Sink + Unpin + Send + 'static>(
    arbiter: &actix_rt::ArbiterHandle,
    sink: S,
    cx: WriterCx,
    done: tokio::sync::oneshot::Sender<()>,
) {
    DestActor::start_in_arbiter(arbiter, move |_| DestActor {
        sink: Some((sink, cx)),
        done: Some(done),
    });
}

/// Render helper for sinks that write one buffer per batch: appends every entry.
pub fn render_all(batch: &[Entry], r: &mut Renderer, out: &mut Vec<u8>) {
    for e in batch {
        r.render(&e.msg, out);
    }
}

/// A generated message for tests of sinks.
#[cfg(test)]
pub fn test_entry(msg: crate::message::LogMessage) -> Entry {
    Entry {
        msg: Arc::new(msg),
        ack: None,
    }
}
