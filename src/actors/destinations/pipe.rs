//! The `pipe()` destination: write to a named pipe (FIFO).
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! file permission options, `create-dirs()` and `time-reap()` (accepted); no `optional()`.
//! `mark-mode()` defaults to `none` (the pipe is a file destination in syslog-ng).
//!
//! What syslog-ng 3.38 does, checked with strace, and sluice does the same: the FIFO is
//! opened at the first message (not at start) with `O_RDWR|O_NOCTTY|O_NONBLOCK` — read-write
//! so that the open never waits for a reader and a write never fails with `EPIPE` when there
//! is none (the kernel keeps up to a pipe buffer of messages for the next reader; after that
//! the writer waits and the queue fills). A missing FIFO is created with `mkfifo` (mode
//! `perm()`, else 0600), its directories first with `create-dirs(yes)` (mode `dir-perm()`,
//! else 0700); an explicit `perm()`/`owner()`/`group()` is applied to the open FIFO on every
//! open (`fchmod`/`fchown`). A path that is not a FIFO is refused with syslog-ng's message.
//! A failed open or write is retried after `time-reopen()`, like `file()`.
//!
//! The writes are asynchronous ([`BatchBuf`], shared with `program()`): a full pipe parks
//! the destination's writer task, never a thread.

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::file::{chown_best_effort, mark_mode_none, owner_id};
use super::writer::{Renderer, SendError, Sink, WriterOptionsRef, WriterPlan, plan_writer};
use crate::actors::options::{DriverOptions, FilePermOptions};
use std::sync::Arc;

use crate::actors::runtime::queue::{Entry, Queue};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{FileMode, FileOwner, GlobalOptions, MarkMode};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use crate::template::OutputFormat;

/// The `pipe()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PipeDestination {
    /// The named pipe to write (positional, required).
    #[serde(rename = "0:path")]
    pub path: String,
    /// Create missing directories of the pipe's path. Default: the global `create-dirs()`.
    #[serde(default)]
    pub create_dirs: Option<bool>,
    /// Accepted for compatibility (a pipe has a fixed name, so it is never reaped).
    #[serde(default)]
    pub time_reap: Option<u32>,
    /// When MARK messages are written. Default: none.
    #[serde(default = "mark_mode_none")]
    pub mark_mode: MarkMode,
}

driver_options! {
    /// Options of the `pipe()` destination. Unset permission options leave the FIFO's owner
    /// and mode as they are.
    pub struct PipeDestinationOptions {
        pub pipe: PipeDestination,
        pub dest: DestDriverOptions,
        pub writer: WriterOptions,
        pub template: TemplateOptions,
        pub perm: FilePermOptions,
    }
}

// ---------------------------------------------------------------------------------------
// Runtime.

/// What a `pipe()` destination needs to run.
#[derive(Debug, Clone)]
pub struct PipeDestPlan {
    pub path: PathBuf,
    pub writer: WriterPlan,
    pub create_dirs: bool,
    /// Applied to the FIFO when set (by the driver, or globally to a non-default value).
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub perm: Option<u32>,
    pub dir_owner: Option<u32>,
    pub dir_group: Option<u32>,
    pub dir_perm: u32,
    /// `persist-name()`.
    pub persist_name: Option<String>,
}

impl crate::actors::runtime::driver::DestinationDriver for PipeDestPlan {
    /// syslog-ng's pipe() is its file driver underneath, and named like it.
    fn persist_name(&self, _driver_id: &str) -> String {
        match &self.persist_name {
            Some(p) => format!("affile_dd.{p}.writers"),
            None => format!("affile_dd_writers({})", self.path.display()),
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn stats_rows(&self) -> Option<crate::actors::runtime::stats::DestRows> {
        Some(crate::actors::runtime::stats::DestRows {
            level: 1,
            instance: self.path.display().to_string(),
            writer: true,
            per_file: false,
        })
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    fn start(&self, cx: crate::actors::runtime::driver::DestStart<'_>) {
        let sink = PipeSink::new(self.clone(), Some(cx.writer.queue.clone()));
        super::writer::start(cx.arbiter, sink, cx.writer, cx.done);
    }
}

/// Plans a `pipe()` call (the registry's entry for it).
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn crate::actors::runtime::driver::DestinationDriver>, Diagnostic> {
    let o = PipeDestinationOptions::from_call(call)?;
    Ok(Box::new(plan_pipe(&o, call, globals, env)?))
}

/// Derives the plan of a `pipe()` call.
pub fn plan_pipe(
    o: &PipeDestinationOptions,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<PipeDestPlan, Diagnostic> {
    let writer = plan_writer(
        WriterOptionsRef {
            dest: &o.dest,
            writer: &o.writer,
            template: &o.template,
            mark_mode: o.pipe.mark_mode,
            format: OutputFormat::File,
        },
        call,
        globals,
        env,
    )?;
    let defaults = GlobalOptions::default();
    // syslog-ng only touches the owner and mode of a FIFO when they are configured: the
    // driver's option, else a global one. sluice's globals carry syslog-ng's defaults filled
    // in, so a global equal to the default counts as not configured.
    let owner =
        |own: &Option<FileOwner>, global: &FileOwner, default: &FileOwner, g: bool| match own {
            Some(o) => owner_id(o, g),
            None if global != default => owner_id(global, g),
            None => None,
        };
    let perm = match o.perm.perm {
        Some(m) => mode(m),
        None if globals.perm != defaults.perm => mode(globals.perm),
        None => None,
    };
    Ok(PipeDestPlan {
        path: PathBuf::from(&o.pipe.path),
        persist_name: o.dest.persist_name.clone(),
        writer,
        create_dirs: o.pipe.create_dirs.unwrap_or(globals.create_dirs),
        owner: owner(&o.perm.owner, &globals.owner, &defaults.owner, false),
        group: owner(&o.perm.group, &globals.group, &defaults.group, true),
        perm,
        dir_owner: owner(
            &o.perm.dir_owner,
            &globals.dir_owner,
            &defaults.dir_owner,
            false,
        ),
        dir_group: owner(
            &o.perm.dir_group,
            &globals.dir_group,
            &defaults.dir_group,
            true,
        ),
        dir_perm: mode(o.perm.dir_perm.unwrap_or(globals.dir_perm)).unwrap_or(0o700),
    })
}

fn mode(m: FileMode) -> Option<u32> {
    match m {
        FileMode::Mode(m) => Some(m),
        FileMode::Unchanged => None,
    }
}

pub(crate) use crate::actors::os_error::os_error;

/// A batch rendered for a non-blocking pipe, with where each message ends, so a write that
/// fails part of the way reports exactly how many messages went out whole (the rest, a
/// partly written one included, are written again after reopening).
#[derive(Default)]
pub struct BatchBuf {
    out: Vec<u8>,
    ends: Vec<usize>,
    /// Told how many entries are written whole as the write goes (a stop may cut it short).
    queue: Option<Arc<Queue>>,
}

impl BatchBuf {
    /// A buffer reporting its progress to the destination's queue.
    pub fn for_queue(queue: Arc<Queue>) -> BatchBuf {
        BatchBuf {
            queue: Some(queue),
            ..BatchBuf::default()
        }
    }

    /// Renders `batch` (replacing what was there).
    pub fn render(&mut self, batch: &[Entry], r: &mut Renderer) {
        self.out.clear();
        self.ends.clear();
        for e in batch {
            r.render(&e.msg, &mut self.out);
            self.ends.push(self.out.len());
        }
    }

    /// Writes the rendered batch to `tx`, waiting while the pipe is full.
    pub async fn write_to(&mut self, tx: &mut pipe::Sender) -> Result<(), SendError> {
        let mut pos = 0;
        while pos < self.out.len() {
            match tx.write(&self.out[pos..]).await {
                Ok(0) => {
                    return Err(self.failed(pos, std::io::ErrorKind::WriteZero.into()));
                }
                Ok(n) => {
                    pos += n;
                    if let Some(q) = &self.queue {
                        q.written_in_hand(self.ends.partition_point(|&end| end <= pos));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.failed(pos, e)),
            }
        }
        if self.out.capacity() > 4 << 20 {
            self.out = Vec::with_capacity(256 << 10);
        }
        Ok(())
    }

    fn failed(&self, pos: usize, error: std::io::Error) -> SendError {
        SendError {
            written: self.ends.partition_point(|&end| end <= pos),
            error,
        }
    }
}

/// The sink of one `pipe()` destination driver.
pub struct PipeSink {
    pub plan: PipeDestPlan,
    tx: Option<pipe::Sender>,
    buf: BatchBuf,
}

impl PipeSink {
    pub fn new(plan: PipeDestPlan, queue: Option<Arc<Queue>>) -> PipeSink {
        PipeSink {
            plan,
            tx: None,
            buf: BatchBuf {
                queue,
                ..BatchBuf::default()
            },
        }
    }

    fn open(&mut self) -> std::io::Result<&mut pipe::Sender> {
        if self.tx.is_none() {
            let fd = open_fifo(&self.plan).inspect_err(|e| {
                tracing::error!(filename = %self.plan.path.display(), error = %os_error(e),
                    "Error opening file for writing");
            })?;
            self.tx = Some(pipe::Sender::from_owned_fd(fd)?);
        }
        self.tx
            .as_mut()
            .ok_or_else(|| std::io::Error::other("pipe not open"))
    }
}

/// Creates (when missing) and opens the FIFO as syslog-ng does.
fn open_fifo(p: &PipeDestPlan) -> std::io::Result<OwnedFd> {
    match std::fs::metadata(&p.path) {
        Ok(m) if !m.file_type().is_fifo() => {
            tracing::error!(filename = %p.path.display(),
                "You are using the pipe() driver, underlying file is not a FIFO, it should be \
                 used by file()");
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        }
        Ok(_) => {}
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            create_fifo(p)?;
        }
        Err(e) => return Err(e),
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
        .open(&p.path)?;
    if p.owner.is_some() || p.group.is_some() {
        let _ = std::os::unix::fs::fchown(&f, p.owner, p.group);
    }
    if let Some(m) = p.perm {
        let _ = f.set_permissions(std::fs::Permissions::from_mode(m));
    }
    Ok(OwnedFd::from(f))
}

fn create_fifo(p: &PipeDestPlan) -> std::io::Result<()> {
    if p.create_dirs
        && let Some(dir) = p.path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(p.dir_perm)
            .create(dir)?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(p.dir_perm));
        chown_best_effort(dir, p.dir_owner, p.dir_group);
    }
    mkfifo(&p.path, p.perm.unwrap_or(0o600)).inspect_err(|e| {
        tracing::error!(filename = %p.path.display(), error = %os_error(e),
            "Error creating named pipe, mkfifo() returned an error");
    })
}

/// `mkfifo(3)` (the mode is still subject to the umask).
pub(crate) fn mkfifo(path: &Path, mode: u32) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl Sink for PipeSink {
    fn describe(&self) -> String {
        format!("pipe('{}')", self.plan.path.display())
    }

    fn is_open(&self) -> bool {
        self.tx.is_some()
    }

    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError> {
        self.buf.render(batch, r);
        let mut buf = std::mem::take(&mut self.buf);
        let res = match self.open() {
            Ok(tx) => buf.write_to(tx).await,
            Err(e) => Err(SendError::none(e)),
        };
        self.buf = buf;
        res
    }

    async fn close(&mut self) {
        self.tx = None;
    }

    async fn reopen(&mut self) {
        self.tx = None;
    }
}

/// Helpers for the runtime tests of the pipe, program and pseudofile sinks.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use crate::actors::destinations::writer::{Renderer, WriterPlan, test_entry};
    use crate::actors::runtime::driver::DestinationDriver;
    use crate::actors::runtime::plan::plan;
    use crate::actors::runtime::queue::Entry;
    use crate::config::diagnostic::Diagnostic;
    use crate::config::load::{LoadOptions, load_str};
    use crate::message::{Builtin, LogMessage, UnixTime};
    use crate::template::DaemonInfo;

    /// Plans `destination d { DRIVER };` (routed from internal()) and returns its driver.
    pub fn planned(driver: &str) -> Result<Arc<dyn DestinationDriver>, Vec<Diagnostic>> {
        let text = format!(
            "@version: 3.38\nsource s {{ internal(); }};\ndestination d {{ {driver}; }};\n\
             log {{ source(s); destination(d); }};\n"
        );
        let loaded = load_str("t.conf", &text, &LoadOptions::default()).map_err(|_| Vec::new())?;
        let model = crate::config::model::build(&loaded.ast)?;
        let mut p = plan(&model)?;
        p.dests.pop().map(|d| d.driver).ok_or_else(Vec::new)
    }

    /// [`planned`], the plan as the driver's own type (an empty error when it is another).
    pub fn planned_as<T: Clone + 'static>(driver: &str) -> Result<T, Vec<Diagnostic>> {
        let d = planned(driver)?;
        d.as_any().downcast_ref::<T>().cloned().ok_or_else(Vec::new)
    }

    /// A message with `text` as its MESSAGE.
    pub fn entry(text: &str) -> Entry {
        let mut m = LogMessage::new(UnixTime::default());
        m.set_builtin(Builtin::Message, text.as_bytes());
        test_entry(m)
    }

    pub fn renderer(w: &WriterPlan) -> Renderer {
        Renderer::new(w.render.clone(), Arc::new(DaemonInfo::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{entry, planned_as, renderer};
    use super::*;
    use crate::actors::registry::testing::{check, err};
    use std::io::Read as _;

    fn pipe_plan(driver: &str) -> PipeDestPlan {
        match planned_as::<PipeDestPlan>(driver) {
            Ok(p) => p,
            other => panic!("not planned: {other:?}"),
        }
    }

    #[test]
    fn a_failed_write_counts_only_whole_messages() {
        let b = BatchBuf {
            out: b"m1\nm2\nm3\n".to_vec(),
            ends: vec![3, 6, 9],
            queue: None,
        };
        let e = || std::io::Error::from_raw_os_error(libc::EPIPE);
        assert_eq!(b.failed(0, e()).written, 0);
        assert_eq!(b.failed(5, e()).written, 1);
        assert_eq!(b.failed(6, e()).written, 2);
        assert_eq!(os_error(&e()), "Broken pipe (32)");
    }

    #[tokio::test]
    async fn creates_the_fifo_with_its_directories_and_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/fifo");
        let p = pipe_plan(&format!(
            r#"pipe("{}" template("$MSG\n") create-dirs(yes) perm(0640))"#,
            path.display()
        ));
        assert_eq!((p.perm, p.owner, p.group), (Some(0o640), None, None));
        let mut r = renderer(&p.writer);
        let mut sink = PipeSink::new(p, None);
        assert!(!sink.is_open(), "opened at the first message, as syslog-ng");
        let res = sink.send(&[entry("m1"), entry("m2")], &mut r).await;
        assert!(res.is_ok(), "{res:?}");
        let meta = std::fs::metadata(&path).expect("fifo");
        assert!(meta.file_type().is_fifo());
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        let dir_mode = std::fs::metadata(dir.path().join("sub")).map(|m| m.permissions().mode());
        assert_eq!(dir_mode.map(|m| m & 0o777).ok(), Some(0o700));
        // No reader was there: the messages wait in the pipe for one.
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .expect("reader");
        let mut got = [0u8; 64];
        let n = reader.read(&mut got).expect("read");
        assert_eq!(&got[..n], b"m1\nm2\n");
        sink.close().await;
    }

    #[tokio::test]
    async fn refuses_a_path_that_is_not_a_fifo() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("regular");
        std::fs::write(&path, b"").expect("file");
        let p = pipe_plan(&format!(r#"pipe("{}")"#, path.display()));
        assert_eq!(p.perm, None, "a default perm() is not applied");
        let mut r = renderer(&p.writer);
        let mut sink = PipeSink::new(p, None);
        let e = sink.send(&[entry("m1")], &mut r).await.err();
        assert_eq!(
            e.map(|e| (e.written, os_error(&e.error))),
            Some((0, "Invalid argument (22)".to_string()))
        );
    }

    #[test]
    fn defaults() {
        let o: PipeDestinationOptions = check(r#"pipe("/dev/xconsole")"#);
        assert_eq!(o.pipe.path, "/dev/xconsole");
        assert_eq!(o.pipe.mark_mode, MarkMode::None);
        assert_eq!(o.writer.template, None);
    }

    #[test]
    fn full_example() {
        let o: PipeDestinationOptions = check(
            r#"pipe("/run/fifo" template("${MSG}\n") owner(root) perm(0600) create-dirs(yes)
                mark-mode(internal) flush-lines(10))"#,
        );
        assert_eq!(o.writer.template.as_deref(), Some("${MSG}\n"));
        assert_eq!(o.pipe.create_dirs, Some(true));
        assert_eq!(o.pipe.mark_mode, MarkMode::Internal);
    }

    #[test]
    fn errors() {
        let e = err::<PipeDestinationOptions>(r#"pipe("/p" templat("x"))"#);
        assert_eq!(e.notes, vec!["did you mean `template`?"]);
        err::<PipeDestinationOptions>(r#"pipe("/p" optional(yes))"#);
        err::<PipeDestinationOptions>(r#"pipe("/p" flush-lines(many))"#);
    }
}
