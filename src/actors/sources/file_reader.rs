//! The `file()` source at run time: follow a file as it grows, survive rotation and
//! truncation, and keep the position in the persist file so a restart or reload neither loses
//! nor repeats lines.
//!
//! Behaviour recorded from syslog-ng 3.38:
//!
//! * **Following.** The file is read in large chunks until its end, then checked again every
//!   `follow-freq()` seconds (default 1). A partial last line waits for its newline.
//! * **First start.** With no saved position the file is read from its beginning —
//!   `read-old-records(no)` makes no difference to `file()` in 3.38 (it only applies to
//!   journal and kafka sources), so sluice does the same.
//! * **Saved position.** Under the persist name `affile_sd_curpos(PATH)`, or
//!   `affile_sd.NAME.curpos` with `persist-name(NAME)`. On start, a saved position whose inode
//!   differs from the file's, or which lies beyond the file's end, restarts at 0 ("The current
//!   log file has a mismatching size/inode information, restarting from the beginning").
//!   The position is committed through the batch acks ([`ConsecutiveTracker`]): only once the
//!   destinations took every line before it (written, for `flags(flow-control)` paths;
//!   queued, for the others — as in syslog-ng), never ahead.
//! * **Rotation.** At the end of the file, when the path names another file (a new inode), the
//!   old file is read to its end, then the new one from its beginning. While the path is
//!   missing the old file is still followed. A partial last line of the old file becomes a
//!   message (sluice keeps it rather than dropping it).
//! * **Multi-line messages** (`multi-line-mode()`, [`super::multiline`]): a message waits for
//!   the line after it. With `multi-line-timeout(N)` a pending message goes out once the
//!   file has had nothing new for more than N seconds, checked at each `follow-freq()` poll
//!   at the end of the file as 3.38's `poll-multiline-file-changes.c` does (the first poll at
//!   the end starts the clock, a read stops it; one flush per quiet spell); without it the
//!   message waits for its next line. The saved position is the start of the pending
//!   message, so a reload, a stop or a crash leaves it to the next reader, which reads it
//!   again whole (recorded from 3.38: a restart in the middle of a message sends it once,
//!   with the lines added meanwhile). At a rotation the old file's pending message is sent
//!   (3.38 drops it with the old reader). `multi-line-timeout()` must be longer than
//!   `follow-freq()` (3.38 refuses to start otherwise).
//! * **Truncation.** When the file became shorter than what was read, reading restarts at 0.
//! * **A missing file** is reported once ("Follow-mode file source not found, deferring open")
//!   and tried again every `follow-freq()`.
//! * **`/dev/kmsg`, `/proc/kmsg`** are not followed like files: see [`super::kmsg_reader`].
//! * **Reload.** Queued batches stay in their queues with their acks, so the saved position
//!   may trail what was read: the reader leaves its tracker and the offset it reached in the
//!   reload's leftovers ([`Resume::File`]) and the next graph's reader of the same persist name
//!   starts there, committing through the same tracker.

use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::watch;

use super::common::{option_node, option_span};
use super::file::FileSourceOptions;
use super::kmsg_reader::{KmsgDevice, KmsgPlan};
use super::line_source::{
    LineReader, LinesKind, LinesPlan, Marks, Resume, StartCx, drain, is_stopped, pause, plan_lines,
};
use super::multiline::QuietSpell;
use crate::actors::runtime::ack::{Bookmark, Window};
use crate::actors::runtime::bookmark::ConsecutiveTracker;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::actors::runtime::settings;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;
use crate::config::span::Span;
use crate::persist::Persist;

/// A `file()` source, ready to start.
#[derive(Debug, Clone)]
pub struct FilePlan {
    pub path: PathBuf,
    /// Where the position is kept in the persist file.
    pub persist_key: String,
    pub follow_freq: Duration,
    /// `multi-line-timeout()`, with `multi-line-mode()`: how long a partial message waits at
    /// the end of the file before it is sent as it is.
    pub multi_line_timeout: Option<Duration>,
    /// The driver call (for errors that involve two sources).
    pub span: Span,
}

/// The position saved in the persist file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePosition {
    /// Offset just after the last line the destinations took.
    pub pos: u64,
    /// The inode of the file `pos` belongs to.
    pub inode: u64,
}

/// syslog-ng's persist name of a file source's position.
pub fn persist_key(path: &str, persist_name: Option<&str>) -> String {
    match persist_name {
        Some(n) => format!("affile_sd.{n}.curpos"),
        None => format!("affile_sd_curpos({path})"),
    }
}

/// Checks what the runtime honours of a `file()` source and derives its plan.
pub fn plan_file_source(
    o: &FileSourceOptions,
    call: &Node,
    globals: &GlobalOptions,
) -> Result<LinesPlan, Diagnostic> {
    let span = match call {
        Node::Call { name, .. } => name.span,
        other => other.span(),
    };
    if let Some(device) = KmsgDevice::of(&o.file.path) {
        return plan_kmsg_source(o, call, globals, device, span);
    }
    let freq = o.file.follow_freq;
    if !(freq.is_finite() && freq > 0.0) {
        return Err(Diagnostic::new(
            "follow-freq(0) is not supported by the runtime yet",
            option_span(call, &["follow-freq"]),
        ));
    }
    let framing = plan_lines(call, &o.source, &o.reader, &o.lines, globals)?;
    // 3.38 compares milliseconds: follow-freq(0.5) multi-line-timeout(1) is fine.
    let timeout_ms = u64::from(o.file.multi_line_timeout) * 1000;
    if timeout_ms != 0 && (freq * 1000.0) as u64 >= timeout_ms {
        return Err(Diagnostic::new(
            "multi-line-timeout() should be set to a higher value than follow-freq(), it is \
             recommended to set multi-line-timeout() to a multiple of follow-freq()",
            option_span(call, &["multi-line-timeout"]),
        ));
    }
    let multi_line_timeout =
        (timeout_ms != 0 && framing.is_multi_line()).then(|| Duration::from_millis(timeout_ms));
    Ok(LinesPlan {
        kind: LinesKind::File(FilePlan {
            path: PathBuf::from(&o.file.path),
            persist_key: persist_key(&o.file.path, o.driver.persist_name.as_deref()),
            follow_freq: Duration::from_secs_f64(freq.min(86400.0)),
            multi_line_timeout,
            span,
        }),
        framing,
        window: o.file.log_iw_size.get(),
    })
}

/// `file("/dev/kmsg")` or `file("/proc/kmsg")` (see [`super::kmsg_reader`]): no polling, so
/// `follow-freq()` may only be 0 (their default in syslog-ng).
fn plan_kmsg_source(
    o: &FileSourceOptions,
    call: &Node,
    globals: &GlobalOptions,
    device: KmsgDevice,
    span: Span,
) -> Result<LinesPlan, Diagnostic> {
    let freq = o.file.follow_freq;
    if option_node(call, &["follow-freq"]).is_some() && freq != 0.0 {
        return Err(Diagnostic::new(
            format!(
                "follow-freq({freq}) on {} is not supported by the runtime yet",
                o.file.path
            ),
            option_span(call, &["follow-freq"]),
        ));
    }
    let framing = plan_lines(call, &o.source, &o.reader, &o.lines, globals)?;
    if framing.is_multi_line() && device == KmsgDevice::Dev {
        // Its records are read whole, one per read: there are no lines to join.
        return Err(Diagnostic::new(
            "multi-line-mode() on /dev/kmsg is not supported by the runtime yet",
            option_span(call, &["multi-line-mode"]),
        ));
    }
    Ok(LinesPlan {
        kind: LinesKind::Kmsg(KmsgPlan {
            path: PathBuf::from(&o.file.path),
            device,
            persist_key: persist_key(&o.file.path, o.driver.persist_name.as_deref()),
            buffer: settings::log_msg_size(&o.reader, globals),
            span,
        }),
        framing,
        window: o.file.log_iw_size.get(),
    })
}

/// The bookmarks of the file being read now.
struct FileMarks {
    tracker: Arc<ConsecutiveTracker<FilePosition>>,
    inode: u64,
}

impl Marks for FileMarks {
    fn open(&self) -> Bookmark {
        self.tracker.open()
    }

    fn close(&self, seq: u64, end: u64) {
        self.tracker.close(
            seq,
            FilePosition {
                pos: end,
                inode: self.inode,
            },
        );
    }
}

/// The tracker that writes acknowledged positions into the persist file (without one, the
/// positions live only as long as the daemon).
fn position_tracker(
    persist: Option<Arc<Persist>>,
    key: String,
) -> Arc<ConsecutiveTracker<FilePosition>> {
    let failed = std::sync::atomic::AtomicBool::new(false);
    ConsecutiveTracker::new(move |p: &FilePosition| {
        let Some(persist) = &persist else {
            return;
        };
        if let Err(e) = persist.set(&key, p) {
            // Once per reader: the next success would not be noticed anyway.
            if !failed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::error!(error = %e, "Error saving file position");
            }
        }
    })
}

/// Where to start in a file just opened for the first time in this run.
fn resume_offset(plan: &FilePlan, saved: Option<FilePosition>, inode: u64, size: u64) -> u64 {
    match saved {
        None => 0,
        Some(s) if s.inode == inode && s.pos <= size => s.pos,
        Some(s) => {
            tracing::info!(
                state = %plan.persist_key,
                stored_inode = s.inode,
                cur_file_inode = inode,
                cur_file_size = size,
                raw_stream_pos = s.pos,
                "The current log file has a mismatching size/inode information, restarting \
                 from the beginning"
            );
            0
        }
    }
}

/// What ended the reading of one opened file.
enum Next {
    Stopped,
    Reopen,
}

/// Follows `plan.path` until the graph stops, then leaves the tracker and the position
/// reached in `cx.handover` for the next graph (a reload).
pub async fn follow(
    plan: FilePlan,
    resume: Option<Resume>,
    lines: &mut LineReader,
    ingest: &Ingest,
    window: Arc<Window>,
    mut cx: StartCx,
) {
    let persisted = || match &cx.persist {
        Some(p) => p
            .get::<FilePosition>(&plan.persist_key)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "Error reading the saved file position, starting over");
                None
            }),
        None => None,
    };
    // After a reload the old reader's position is ahead of the persist file by what is
    // still queued: start there, and keep its tracker so commits stay in order.
    if let Some(Resume::File { tracker, .. }) = &resume {
        tracker.unstall();
    }
    let (tracker, start_at) = match resume {
        Some(Resume::File {
            tracker,
            at: Some(at),
        }) => (tracker, Some(at)),
        Some(Resume::File { tracker, at: None }) => (tracker, persisted()),
        _ => (
            position_tracker(cx.persist.clone(), plan.persist_key.clone()),
            persisted(),
        ),
    };
    let mut batch = Batcher::default();
    let open = follow_files(
        &plan,
        start_at,
        &tracker,
        lines,
        ingest,
        &window,
        &mut batch,
        &mut cx.stop,
    )
    .await;
    let at = open.map(|inode| FilePosition {
        pos: lines.offset(),
        inode,
    });
    cx.handover
        .put(&plan.persist_key, Resume::File { tracker, at });
}

/// Opens and follows the file again and again (rotation) until `stop`; returns the inode of
/// the file open then.
#[allow(clippy::too_many_arguments)]
async fn follow_files(
    plan: &FilePlan,
    start_at: Option<FilePosition>,
    tracker: &Arc<ConsecutiveTracker<FilePosition>>,
    lines: &mut LineReader,
    ingest: &Ingest,
    window: &Arc<Window>,
    batch: &mut Batcher,
    stop: &mut watch::Receiver<bool>,
) -> Option<u64> {
    let filename = plan.path.display().to_string();
    let mut first = true;
    let mut reported = false;
    loop {
        if is_stopped(stop) {
            return None;
        }
        let opened = match tokio::fs::File::open(&plan.path).await {
            Ok(f) => f.metadata().await.map(|m| (f, m)),
            Err(e) => Err(e),
        };
        let (mut file, meta) = match opened {
            Ok(v) => v,
            Err(e) => {
                if !reported {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        tracing::info!(filename = %filename,
                            "Follow-mode file source not found, deferring open");
                    } else {
                        tracing::error!(filename = %filename, error = %e,
                            "Error opening file for reading");
                    }
                    reported = true;
                }
                if !pause(plan.follow_freq, stop).await {
                    return None;
                }
                continue;
            }
        };
        reported = false;
        let (inode, dev) = (meta.ino(), meta.dev());
        let mut start = 0;
        if first {
            start = resume_offset(plan, start_at, inode, meta.len());
            first = false;
        }
        if start > 0 && file.seek(SeekFrom::Start(start)).await.is_err() {
            start = 0;
        }
        lines.reset(start);
        let marks = FileMarks {
            tracker: tracker.clone(),
            inode,
        };
        let mut follower = Follower {
            plan,
            filename: &filename,
            lines: &mut *lines,
            ingest,
            window,
            batch: &mut *batch,
            marks: Some(&marks),
        };
        match follower.run(&mut file, (inode, dev), stop).await {
            Next::Stopped => return Some(inode),
            Next::Reopen => continue,
        }
    }
}

/// The reading of one opened file.
struct Follower<'a> {
    plan: &'a FilePlan,
    filename: &'a str,
    lines: &'a mut LineReader,
    ingest: &'a Ingest,
    window: &'a Arc<Window>,
    batch: &'a mut Batcher,
    marks: Option<&'a dyn Marks>,
}

impl Follower<'_> {
    /// Reads to the end of the file and everything complete in it; `None` when stopped,
    /// else whether anything was read.
    async fn read_to_end(
        &mut self,
        file: &mut tokio::fs::File,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<std::io::Result<bool>> {
        let mut read = false;
        loop {
            if is_stopped(stop) {
                return None;
            }
            match file.read_buf(self.lines.spare()).await {
                Ok(0) => return Some(Ok(read)),
                Ok(_) => {
                    read = true;
                    let ok = drain(
                        self.lines,
                        self.ingest,
                        self.window,
                        self.batch,
                        false,
                        stop,
                        self.marks,
                    )
                    .await;
                    if !ok {
                        return None;
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }

    async fn run(
        &mut self,
        file: &mut tokio::fs::File,
        (inode, dev): (u64, u64),
        stop: &mut watch::Receiver<bool>,
    ) -> Next {
        let mut quiet = QuietSpell::default();
        loop {
            match self.read_to_end(file, stop).await {
                None => return Next::Stopped,
                Some(Ok(read)) => {
                    if read {
                        quiet = QuietSpell::default();
                    }
                }
                Some(Err(e)) => {
                    tracing::error!(filename = %self.filename, error = %e,
                        "Error reading file, reopening it");
                    return if pause(self.plan.follow_freq, stop).await {
                        Next::Reopen
                    } else {
                        Next::Stopped
                    };
                }
            }
            // At the end of the file: truncated, or replaced at its path?
            if let Ok(m) = file.metadata().await
                && m.len() < self.lines.read_offset()
            {
                tracing::info!(filename = %self.filename,
                    "File was truncated, reading it from the beginning");
                if file.seek(SeekFrom::Start(0)).await.is_err() {
                    return Next::Reopen;
                }
                self.lines.reset(0);
                continue;
            }
            if let Ok(m) = tokio::fs::metadata(&self.plan.path).await
                && (m.ino() != inode || m.dev() != dev)
            {
                // Whatever the old file's writer added meanwhile, then its partial last line.
                if self.read_to_end(file, stop).await.is_none() {
                    return Next::Stopped;
                }
                let ok = drain(
                    self.lines,
                    self.ingest,
                    self.window,
                    self.batch,
                    true,
                    stop,
                    self.marks,
                )
                .await;
                if !ok {
                    return Next::Stopped;
                }
                tracing::info!(filename = %self.filename,
                    "Follow-mode file source moved, tracking of the new file is started");
                return Next::Reopen;
            }
            if let Some(timeout) = self.plan.multi_line_timeout
                && quiet.at_end(timeout, Instant::now())
            {
                tracing::debug!(filename = %self.filename,
                    "Multi-line timeout has elapsed, processing partial message");
                self.lines.cue_flush();
                let ok = drain(
                    self.lines,
                    self.ingest,
                    self.window,
                    self.batch,
                    false,
                    stop,
                    self.marks,
                )
                .await;
                if !ok {
                    return Next::Stopped;
                }
            }
            if !pause(self.plan.follow_freq, stop).await {
                return Next::Stopped;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> FilePlan {
        FilePlan {
            path: PathBuf::from("/x"),
            persist_key: persist_key("/x", None),
            follow_freq: Duration::from_secs(1),
            multi_line_timeout: None,
            span: Span::default(),
        }
    }

    #[test]
    fn persist_names_are_syslog_ngs() {
        assert_eq!(
            persist_key("/var/log/a", None),
            "affile_sd_curpos(/var/log/a)"
        );
        assert_eq!(
            persist_key("/var/log/a", Some("app")),
            "affile_sd.app.curpos"
        );
    }

    #[test]
    fn a_saved_position_is_used_only_for_the_same_file_still_that_long() {
        let p = plan();
        let saved = Some(FilePosition { pos: 10, inode: 7 });
        assert_eq!(resume_offset(&p, None, 7, 100), 0);
        assert_eq!(resume_offset(&p, saved, 7, 100), 10);
        assert_eq!(resume_offset(&p, saved, 7, 10), 10);
        assert_eq!(resume_offset(&p, saved, 8, 100), 0, "another inode");
        assert_eq!(resume_offset(&p, saved, 7, 9), 0, "truncated while down");
    }
}
