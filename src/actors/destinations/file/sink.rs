//! The [`Sink`] of a `file()` destination: one file for a fixed name, or one per rendered
//! name for a templated one.
//!
//! Like syslog-ng (one writer per file), a file that cannot be opened or written holds up
//! only its own messages: they are kept, in order, and retried every `time-reopen()` while
//! the other files of the batch are written. Kept messages count as queued; those without
//! flow control beyond `log-fifo-size()` (all files together; syslog-ng has a queue of that
//! size per file) are dropped and counted, as a full queue drops. What is still kept when the destination stops goes back to its
//! queue, so the graph reports it like any message left unwritten.
//!
//! A batch is grouped per file: one `write()` per file per batch, order kept per file. A
//! fixed name renders nothing and looks nothing up. Files of a templated name nothing was
//! routed to for `time-reap()` are closed.
//!
//! Rotation: before each write the open file is `fstat`ed (a file deleted has no link left:
//! it is reopened at once, so no message goes to a deleted file), and at most once a second
//! its name is `stat`ed and compared with it (logrotate renamed it away: the messages of
//! that second still reach the renamed file, then a new one is made at the name). syslog-ng
//! 3.38 needs a reload for either (it reopens on SIGHUP, as sluice's reload also does).

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::FileDestPlan;
use super::open::{FileId, current_id, os_error};
use super::targets::{Targets, group};
use crate::actors::destinations::writer::{Renderer, SendError, Sink};
use crate::actors::runtime::counters::{Counters, DropReason, PeerGuard};
use crate::actors::runtime::queue::{Entry, Queue};
use crate::template::{RenderContext, Template};

#[cfg(test)]
#[path = "sink_tests.rs"]
mod tests;

/// How often, at most, a file's name is checked against the open file.
const ROTATION_CHECK: Duration = Duration::from_secs(1);

/// The sink of one `file()` destination driver.
pub struct FileSink {
    sh: Shared,
    mode: Mode,
}

/// What every file of the destination uses.
struct Shared {
    plan: FileDestPlan,
    /// The destination's queue: its counters count kept messages, and it takes back what is
    /// still kept at the end.
    queue: Arc<Queue>,
    /// The queue is a disk-buffer: nothing may be held back in memory (a queue's store is
    /// fixed when it is made, so this is read once instead of under its lock per batch).
    persistent: bool,
    out: Vec<u8>,
    /// Entries of the current `send` kept (or dropped) instead of written.
    kept: usize,
    /// Kept entries without flow control, all files together (bounded by
    /// `log-fifo-size()`, so many names that cannot be opened cannot take all memory).
    kept_unacked: usize,
    /// When [`Sink::tick`] should run: reaping, or retrying a file.
    next_tick: Option<Instant>,
}

impl Shared {
    fn wake_at(&mut self, at: Instant) {
        self.next_tick = Some(self.next_tick.map_or(at, |t| t.min(at)));
    }

    fn unqueue(&self, n: usize) {
        self.queue
            .counters
            .queued
            .fetch_sub(n as u64, Ordering::Relaxed);
    }
}

enum Mode {
    Fixed(Target),
    Templated {
        template: Arc<Template>,
        targets: Targets,
        /// The rendered name, reused.
        name: Vec<u8>,
        /// Slots this batch writes to, in order of first appearance.
        order: Vec<usize>,
    },
}

impl FileSink {
    pub fn new(plan: FileDestPlan, queue: Arc<Queue>) -> FileSink {
        let now = Instant::now();
        let mode = match &plan.name_template {
            Some(t) => Mode::Templated {
                template: t.clone(),
                targets: Targets::default(),
                name: Vec::with_capacity(128),
                order: Vec::new(),
            },
            None => Mode::Fixed(Target::new(plan.path.as_bytes().into(), now)),
        };
        FileSink {
            sh: Shared {
                plan,
                persistent: queue.is_persistent(),
                queue,
                out: Vec::with_capacity(256 << 10),
                kept: 0,
                kept_unacked: 0,
                next_tick: None,
            },
            mode,
        }
    }
}

impl Sink for FileSink {
    fn describe(&self) -> String {
        format!("file('{}')", self.sh.plan.path)
    }

    fn is_open(&self) -> bool {
        match &self.mode {
            Mode::Fixed(t) => t.file.is_some(),
            Mode::Templated { targets, .. } => targets.iter().any(|t| t.file.is_some()),
        }
    }

    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError> {
        if self.sh.persistent {
            return self.send_through(batch, r, Instant::now());
        }
        self.send_at(batch, r, Instant::now());
        Ok(())
    }

    async fn close(&mut self) {
        self.close_now();
    }

    /// Open files close (the next message opens its file by name again); kept messages and
    /// retry times of files that cannot be opened stay as they are.
    async fn reopen(&mut self) {
        match &mut self.mode {
            Mode::Fixed(t) => t.file = None,
            Mode::Templated { targets, .. } => {
                for t in targets.iter_mut() {
                    t.file = None;
                }
            }
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.sh.next_tick
    }

    async fn tick(&mut self, r: &mut Renderer) {
        self.tick_at(r, Instant::now());
    }

    fn take_kept(&mut self) -> usize {
        std::mem::take(&mut self.sh.kept)
    }
}

impl FileSink {
    /// [`Sink::send`] at `now`. Never fails: a file that cannot take its messages keeps them.
    fn send_at(&mut self, batch: &[Entry], r: &mut Renderer, now: Instant) {
        let sh = &mut self.sh;
        sh.kept = 0;
        match &mut self.mode {
            Mode::Fixed(t) => t.deliver(sh, batch.iter(), r, now),
            Mode::Templated {
                template,
                targets,
                name,
                order,
            } => {
                let cx = RenderContext::new(&sh.plan.name_options, r.daemon());
                group(batch, template, targets, name, order, &cx, now);
                for &slot in order.iter() {
                    let Some(t) = targets.get_mut(slot) else {
                        continue;
                    };
                    if t.stats.is_none() {
                        let file = String::from_utf8_lossy(&t.key).into_owned();
                        t.stats = Some(sh.queue.counters.peer(file));
                    }
                    let mut idx = std::mem::take(&mut t.batch);
                    t.deliver(sh, idx.iter().map(|&i| &batch[i]), r, now);
                    idx.clear();
                    t.batch = idx;
                }
                sh.wake_at(now + sh.plan.time_reap);
            }
        }
        if sh.out.capacity() > 4 << 20 {
            sh.out = Vec::with_capacity(256 << 10);
        }
    }

    /// [`Sink::send`] for a destination with a disk-buffer: nothing is held back in memory.
    /// The entries from the first one a file cannot take (not openable, or its write
    /// failed) on fail the send, so the writer puts them back and retries after
    /// `time-reopen()` while the disk-buffer keeps them; files of a templated name that can
    /// be written take their entries before that point.
    fn send_through(
        &mut self,
        batch: &[Entry],
        r: &mut Renderer,
        now: Instant,
    ) -> Result<(), SendError> {
        let sh = &mut self.sh;
        sh.kept = 0;
        let cannot =
            |path: &Path| std::io::Error::other(format!("cannot open or write {}", path.display()));
        let (template, targets, name, order) = match &mut self.mode {
            Mode::Fixed(t) => {
                if t.ready(sh, now) {
                    sh.out.clear();
                    for e in batch {
                        r.render(&e.msg, &mut sh.out);
                    }
                    if t.write_out(sh, now) {
                        return Ok(());
                    }
                }
                let error = cannot(t.path());
                return Err(SendError { written: 0, error });
            }
            Mode::Templated {
                template,
                targets,
                name,
                order,
            } => (template, targets, name, order),
        };
        let cx = RenderContext::new(&sh.plan.name_options, r.daemon());
        group(batch, template, targets, name, order, &cx, now);
        let mut upto = batch.len();
        let mut error = None;
        for &slot in order.iter() {
            if let Some(t) = targets.get_mut(slot)
                && !t.ready(sh, now)
                && let Some(&first) = t.batch.first()
                && first < upto
            {
                upto = first;
                error = Some(cannot(t.path()));
            }
        }
        for &slot in order.iter() {
            let Some(t) = targets.get_mut(slot) else {
                continue;
            };
            let mine: Vec<usize> = t.batch.iter().copied().filter(|&i| i < upto).collect();
            t.batch.clear();
            if mine.is_empty() || t.file.is_none() {
                continue;
            }
            sh.out.clear();
            for &i in &mine {
                r.render(&batch[i].msg, &mut sh.out);
            }
            if !t.write_out(sh, now) {
                // Entries of other files past this point may be written twice.
                upto = upto.min(mine[0]);
                error = Some(cannot(t.path()));
            }
        }
        sh.wake_at(now + sh.plan.time_reap);
        match error {
            None => Ok(()),
            Some(error) => Err(SendError {
                written: upto,
                error,
            }),
        }
    }

    fn close_now(&mut self) {
        let mut back = Vec::new();
        match &mut self.mode {
            Mode::Fixed(t) => t.close(&mut back),
            Mode::Templated { targets, .. } => {
                for t in targets.iter_mut() {
                    t.close(&mut back);
                }
                *targets = Targets::default();
            }
        }
        // Whatever is still kept goes back to the queue (it was counted as queued). The
        // writer told the queue these were finished, so they are not in its hand.
        self.sh.kept_unacked = 0;
        self.sh.unqueue(back.len());
        let n = back.len();
        self.sh.queue.rewind(&mut back, n);
        self.sh.next_tick = None;
    }

    /// [`Sink::tick`] at `now`: retries files that have messages kept, closes idle ones.
    fn tick_at(&mut self, r: &mut Renderer, now: Instant) {
        let sh = &mut self.sh;
        sh.next_tick = None;
        match &mut self.mode {
            Mode::Fixed(t) => {
                t.flush_kept(sh, r, now);
                if let (false, Some(at)) = (t.kept.is_empty(), t.retry_at) {
                    sh.wake_at(at);
                }
            }
            Mode::Templated { targets, .. } => {
                let reap = sh.plan.time_reap;
                let mut idle = Vec::new();
                for t in targets.iter_mut() {
                    t.flush_kept(sh, r, now);
                    if !t.kept.is_empty() {
                        if let Some(at) = t.retry_at {
                            sh.wake_at(at);
                        }
                    } else if now >= t.used + reap {
                        idle.push(t.slot);
                    } else {
                        sh.wake_at(t.used + reap);
                    }
                }
                for slot in idle {
                    if let Some(t) = targets.remove(slot) {
                        tracing::debug!(template = %sh.plan.path, filename = %t.path().display(),
                            "Destination timed out, reaping");
                    }
                }
            }
        }
    }
}

/// One file of the destination.
pub(super) struct Target {
    /// The name, as rendered.
    pub(super) key: Box<[u8]>,
    /// Index in [`Targets::slots`] (0 for a fixed name).
    pub(super) slot: usize,
    file: Option<File>,
    /// What `file` is on disk.
    id: FileId,
    /// When the name was last compared with the open file.
    checked: Instant,
    /// When a message was last routed here (for `time-reap()`).
    used: Instant,
    /// Set while the file could not be opened or written: not retried before.
    retry_at: Option<Instant>,
    /// Messages waiting for the file, oldest first.
    kept: VecDeque<Entry>,
    /// How many of `kept` have no flow control.
    kept_unacked: usize,
    /// Indices of this batch's entries for this file.
    pub(super) batch: Vec<usize>,
    /// This file's own stats cluster (a templated name: one per file, as in syslog-ng).
    stats: Option<PeerGuard>,
}

impl Target {
    pub(super) fn new(key: Box<[u8]>, now: Instant) -> Target {
        Target {
            key,
            slot: 0,
            file: None,
            id: (0, 0),
            checked: now,
            used: now,
            retry_at: None,
            kept: VecDeque::new(),
            kept_unacked: 0,
            batch: Vec::new(),
            stats: None,
        }
    }

    /// Counts `n` messages into this file's own cluster, if it has one.
    fn count(&self, field: fn(&Counters) -> &AtomicU64, n: usize) {
        if let Some(s) = &self.stats {
            Counters::add(field(&s.0.counters), n as u64);
        }
    }

    fn path(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.key))
    }

    /// Whether the file is open for writing: opens it (not before `retry_at`), and reopens it
    /// when its name has come to mean another file or none (checked once a second at most).
    fn ready(&mut self, sh: &mut Shared, now: Instant) -> bool {
        if let Some(f) = &self.file {
            // Deleted: one fstat() per write, so nothing goes to a file no name leads to.
            let deleted = f.metadata().map_or(true, |m| m.nlink() == 0);
            if !deleted {
                if now.duration_since(self.checked) < ROTATION_CHECK {
                    return true;
                }
                self.checked = now;
                if current_id(self.path()) == Some(self.id) {
                    return true;
                }
            }
            tracing::info!(filename = %self.path().display(),
                "Destination file was moved or removed, reopening");
            self.file = None;
        } else if self.retry_at.is_some_and(|at| now < at) {
            return false;
        }
        match sh.plan.open.open(self.path(), &sh.plan.path) {
            Ok(o) => {
                self.file = Some(o.file);
                self.id = o.id;
                self.checked = now;
                self.retry_at = None;
                sh.plan.open.update_symlink(self.path());
                true
            }
            Err(_) => {
                self.failed(sh, now);
                false
            }
        }
    }

    fn failed(&mut self, sh: &mut Shared, now: Instant) {
        self.file = None;
        let at = now + sh.plan.writer.time_reopen;
        self.retry_at = Some(at);
        sh.wake_at(at);
    }

    /// Writes what is rendered in `sh.out`; on an error the file is closed and retried
    /// after `time-reopen()`.
    fn write_out(&mut self, sh: &mut Shared, now: Instant) -> bool {
        let Some(f) = self.file.as_mut() else {
            return false;
        };
        let res = f
            .write_all(&sh.out)
            .and_then(|()| if sh.plan.fsync { f.sync_all() } else { Ok(()) });
        match res {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(fd = f.as_raw_fd(), error = %os_error(&e),
                    "I/O error occurred while writing");
                self.failed(sh, now);
                false
            }
        }
    }

    /// Writes this batch's `entries` for this file, after what it kept before; keeps them
    /// when the file cannot take them now.
    fn deliver<'a>(
        &mut self,
        sh: &mut Shared,
        entries: impl Iterator<Item = &'a Entry> + Clone,
        r: &mut Renderer,
        now: Instant,
    ) {
        self.used = now;
        let n = entries.clone().count();
        self.count(|c| &c.processed, n);
        if !self.kept.is_empty() {
            self.flush_kept(sh, r, now);
        }
        if self.kept.is_empty() && self.ready(sh, now) {
            sh.out.clear();
            let mut max = 0;
            for e in entries.clone() {
                let at = sh.out.len();
                r.render(&e.msg, &mut sh.out);
                max = max.max(sh.out.len() - at);
            }
            if self.write_out(sh, now) {
                self.count(|c| &c.written, n);
                if let Some(s) = &self.stats {
                    s.0.counters
                        .count_sizes(n as u64, sh.out.len() as u64, max as u64);
                }
                return;
            }
            if sh.plan.writer.ignore_errors {
                self.count(|c| &c.dropped, n);
                sh.kept += n;
                sh.queue
                    .counters
                    .dropped_for(DropReason::WriteError, n as u64);
                return;
            }
        }
        for e in entries {
            self.keep(sh, e.clone());
        }
    }

    fn keep(&mut self, sh: &mut Shared, e: Entry) {
        sh.kept += 1;
        if e.ack.is_none() {
            if sh.kept_unacked >= sh.plan.writer.fifo_size {
                sh.queue.counters.dropped_for(DropReason::QueueFull, 1);
                return;
            }
            sh.kept_unacked += 1;
            self.kept_unacked += 1;
        }
        Counters::add(&sh.queue.counters.queued, 1);
        self.kept.push_back(e);
    }

    /// Writes the kept messages once the file can be (re)opened.
    fn flush_kept(&mut self, sh: &mut Shared, r: &mut Renderer, now: Instant) {
        if self.kept.is_empty() || !self.ready(sh, now) {
            return;
        }
        sh.out.clear();
        for e in &self.kept {
            r.render(&e.msg, &mut sh.out);
        }
        let n = self.kept.len();
        let written = self.write_out(sh, now);
        if written || sh.plan.writer.ignore_errors {
            let c = &sh.queue.counters;
            Counters::add(if written { &c.written } else { &c.dropped }, n as u64);
            self.count(
                if written {
                    |c| &c.written
                } else {
                    |c| &c.dropped
                },
                n,
            );
            sh.unqueue(n);
            self.kept.clear();
            sh.kept_unacked -= self.kept_unacked;
            self.kept_unacked = 0;
        }
    }

    /// Closes the file; kept messages move to `back`.
    fn close(&mut self, back: &mut Vec<Entry>) {
        self.file = None;
        back.extend(self.kept.drain(..));
        self.kept_unacked = 0;
    }
}
