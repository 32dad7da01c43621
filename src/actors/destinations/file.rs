//! The `file()` destination: append messages to a file whose name may be a template.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! file permission options, `create-dirs()`, `optional()`, `overwrite-if-older()`, `fsync()`,
//! `symlink-as()` and `time-reap()`; `mark-mode()` defaults to `none`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use serde::Deserialize;

use super::common::{DestDriverOptions, DestFlag, TemplateOptions, WriterOptions};
use crate::actors::runtime::counters::Counters;
use crate::actors::runtime::queue::{Entry, Queue};
use crate::actors::runtime::settings;
use crate::actors::sources::common::{FilePermOptions, option_span};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{FileMode, FileOwner, GlobalOptions, MarkMode};
use crate::driver_options;
use crate::message::MsgFlags;
use crate::pipeline::BuildEnv;
use crate::template::{
    CompileEnv, DaemonInfo, OutputFormat, RenderContext, SequenceCounter, Template,
    TemplateOptions as RenderOptions, WriterFlags, format_message, seq_num_for,
};

pub(crate) fn mark_mode_none() -> MarkMode {
    MarkMode::None
}

/// The `file()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileDestination {
    /// The file to write (positional, required); a template such as
    /// `/var/log/$HOST/$YEAR-$MONTH-$DAY.log` opens one file per distinct name.
    #[serde(rename = "0:path")]
    pub path: String,
    /// Create missing directories. Default: the global `create-dirs()` (no).
    #[serde(default)]
    pub create_dirs: Option<bool>,
    /// Start even if the file cannot be opened. Default: no.
    #[serde(default)]
    pub optional: bool,
    /// Truncate an existing file when it was last modified more than this many seconds ago;
    /// 0 never truncates. Default: 0.
    #[serde(default)]
    pub overwrite_if_older: u32,
    /// `fsync()` after every write batch. Default: no.
    #[serde(default)]
    pub fsync: bool,
    /// Keep a symlink with this name pointing to the current file of a templated path.
    /// Default: none.
    #[serde(default)]
    pub symlink_as: Option<String>,
    /// Seconds after which an idle file of a templated path is closed. Default: the global
    /// `time-reap()` (60).
    #[serde(default)]
    pub time_reap: Option<u32>,
    /// When MARK messages are written. Default: none.
    #[serde(default = "mark_mode_none")]
    pub mark_mode: MarkMode,
}

driver_options! {
    /// Options of the `file()` destination. Unset permission options take the global ones
    /// (owner and group root, mode 0600, directories 0700).
    pub struct FileDestinationOptions {
        pub file: FileDestination,
        pub dest: DestDriverOptions,
        pub writer: WriterOptions,
        pub template: TemplateOptions,
        pub perm: FilePermOptions,
    }
}

// ---------------------------------------------------------------------------------------
// Runtime: the writer. A destination runs on an arbiter of its own (a thread serving no
// socket), so its blocking file writes never hold up a reader.

/// What a `file()` destination needs to run, derived from its options and the globals.
#[derive(Debug, Clone)]
pub struct FileDestPlan {
    pub path: PathBuf,
    pub template: Option<Arc<Template>>,
    pub format: OutputFormat,
    pub flags: WriterFlags,
    pub options: RenderOptions,
    /// Most messages rendered into one write.
    pub batch_lines: usize,
    pub create_dirs: bool,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub perm: Option<u32>,
    pub dir_owner: Option<u32>,
    pub dir_group: Option<u32>,
    pub dir_perm: Option<u32>,
    pub fsync: bool,
    pub time_reopen: Duration,
    pub fifo_size: usize,
}

/// Messages rendered into one buffer and written with one `write()` at most; what the queue
/// holds beyond that goes in the next write.
const MAX_BATCH: usize = 2048;

/// Checks what the runtime supports of a `file()` call and derives its plan.
pub fn plan_file(
    o: &FileDestinationOptions,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<FileDestPlan, Diagnostic> {
    let refuse = |what: &str, names: &[&str]| {
        Err(Diagnostic::new(
            format!("{what} is not supported by the runtime yet"),
            option_span(call, names),
        ))
    };
    if o.file.path.contains('$') {
        return refuse("a templated file name", &["0:path"]);
    }
    if o.dest.disk_buffer.is_some() {
        return refuse("disk-buffer()", &["disk-buffer"]);
    }
    if o.dest.hook_commands.is_some() {
        return refuse("hook-commands()", &["hook-commands"]);
    }
    if o.dest.throttle > 0 {
        return refuse("throttle()", &["throttle"]);
    }
    if o.writer.suppress.unwrap_or(globals.suppress) > 0 {
        return refuse("suppress()", &["suppress"]);
    }
    if o.file.symlink_as.is_some() {
        return refuse("symlink-as()", &["symlink-as"]);
    }
    let template =
        match o
            .writer
            .template
            .as_deref()
            .or(globals.file_template.as_deref())
        {
            None => None,
            Some(text) => {
                let span = option_span(call, &["template"]);
                Some(if o.writer.template_escape {
                    let cenv = CompileEnv {
                        escape: true,
                        ..env.templates.clone()
                    };
                    Arc::new(Template::compile(text, &cenv).map_err(|e| {
                        Diagnostic::new(format!("Error compiling template: {e}"), span)
                    })?)
                } else {
                    env.template_or_name(text, span)?
                })
            }
        };
    let format = if o.writer.flags.contains(&DestFlag::SyslogProtocol) {
        OutputFormat::SyslogProtocol
    } else {
        OutputFormat::File
    };
    Ok(FileDestPlan {
        path: PathBuf::from(&o.file.path),
        template,
        format,
        flags: WriterFlags {
            no_multi_line: o.writer.flags.contains(&DestFlag::NoMultiLine),
        },
        options: settings::template_options(&o.template, globals),
        batch_lines: MAX_BATCH.max(o.writer.flush_lines.unwrap_or(globals.flush_lines) as usize),
        create_dirs: o.file.create_dirs.unwrap_or(globals.create_dirs),
        owner: owner_id(o.perm.owner.as_ref().unwrap_or(&globals.owner), false),
        group: owner_id(o.perm.group.as_ref().unwrap_or(&globals.group), true),
        perm: mode(o.perm.perm.unwrap_or(globals.perm)),
        dir_owner: owner_id(
            o.perm.dir_owner.as_ref().unwrap_or(&globals.dir_owner),
            false,
        ),
        dir_group: owner_id(
            o.perm.dir_group.as_ref().unwrap_or(&globals.dir_group),
            true,
        ),
        dir_perm: mode(o.perm.dir_perm.unwrap_or(globals.dir_perm)),
        fsync: o.file.fsync,
        time_reopen: Duration::from_secs(u64::from(
            o.writer.time_reopen.unwrap_or(globals.time_reopen).get(),
        )),
        fifo_size: o.dest.log_fifo_size.unwrap_or(globals.log_fifo_size).get() as usize,
    })
}

pub(crate) fn mode(m: FileMode) -> Option<u32> {
    match m {
        FileMode::Mode(m) => Some(m),
        FileMode::Unchanged => None,
    }
}

/// A user (or group) name or id as a numeric id; `None` leaves it unchanged (or unknown).
pub(crate) fn owner_id(o: &FileOwner, group: bool) -> Option<u32> {
    match o {
        FileOwner::Unchanged => None,
        FileOwner::Id(n) => u32::try_from(*n).ok(),
        FileOwner::Name(name) => {
            let c = std::ffi::CString::new(name.as_str()).ok()?;
            // SAFETY: valid NUL-terminated name; the returned entry is read at once.
            unsafe {
                if group {
                    let g = libc::getgrnam(c.as_ptr());
                    (!g.is_null()).then(|| (*g).gr_gid)
                } else {
                    let p = libc::getpwnam(c.as_ptr());
                    (!p.is_null()).then(|| (*p).pw_uid)
                }
            }
        }
    }
}

/// Changes owner and group, best effort: only root may give files away, and syslog-ng run
/// as a user also just goes on.
pub(crate) fn chown_best_effort(path: &std::path::Path, owner: Option<u32>, group: Option<u32>) {
    if owner.is_none() && group.is_none() {
        return;
    }
    let _ = std::os::unix::fs::chown(path, owner, group);
}

/// The writer of one `file()` destination driver.
pub struct FileWriter {
    pub plan: FileDestPlan,
    pub queue: Arc<Queue>,
    pub daemon: Arc<DaemonInfo>,
    file: Option<File>,
    seq: SequenceCounter,
}

impl FileWriter {
    pub fn new(plan: FileDestPlan, queue: Arc<Queue>, daemon: Arc<DaemonInfo>) -> FileWriter {
        FileWriter {
            plan,
            queue,
            daemon,
            file: None,
            seq: SequenceCounter::default(),
        }
    }

    fn open(&mut self) -> std::io::Result<&mut File> {
        if self.file.is_none() {
            let p = &self.plan;
            if p.create_dirs
                && let Some(dir) = p.path.parent()
                && !dir.as_os_str().is_empty()
                && !dir.exists()
            {
                let mut b = std::fs::DirBuilder::new();
                b.recursive(true).mode(p.dir_perm.unwrap_or(0o700));
                b.create(dir)?;
                chown_best_effort(dir, p.dir_owner, p.dir_group);
            }
            let existed = p.path.exists();
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(p.perm.unwrap_or(0o600))
                .open(&p.path)?;
            if !existed {
                if let Some(m) = p.perm {
                    let _ = f.set_permissions(std::fs::Permissions::from_mode(m));
                }
                chown_best_effort(&p.path, p.owner, p.group);
            }
            self.file = Some(f);
        }
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file not open"))
    }

    /// Renders `batch` into `out` in the destination's format.
    fn render(&mut self, batch: &[Entry], out: &mut Vec<u8>) {
        let p = &self.plan;
        let base = RenderContext::new(&p.options, &self.daemon);
        for e in batch {
            let msg = &*e.msg;
            let ctx = base.with_seq_num(seq_num_for(msg, self.seq.current()));
            format_message(p.format, p.template.as_deref(), p.flags, msg, &ctx, out);
            if msg.flags.has(MsgFlags::LOCAL) {
                self.seq.step();
            }
        }
    }

    fn write(&mut self, out: &[u8]) -> std::io::Result<()> {
        let fsync = self.plan.fsync;
        let f = self.open()?;
        f.write_all(out)?;
        if fsync {
            f.sync_data()?;
        }
        Ok(())
    }

    /// Writes batches until the queue is closed and empty. A failed write keeps the batch
    /// (back at the head of the queue) and retries after `time-reopen()`: nothing is lost.
    pub async fn run(mut self) {
        let mut batch: Vec<Entry> = Vec::with_capacity(self.plan.batch_lines.min(MAX_BATCH));
        let mut out: Vec<u8> = Vec::with_capacity(256 << 10);
        loop {
            if self.queue.pop_batch(self.plan.batch_lines, &mut batch) == 0 {
                if self.queue.is_closed() {
                    break;
                }
                self.queue.wait().await;
                continue;
            }
            self.render(&batch, &mut out);
            match self.write(&out) {
                Ok(()) => {
                    Counters::add(&self.queue.counters.written, batch.len() as u64);
                    // Dropping the entries acknowledges them.
                    batch.clear();
                }
                Err(e) => {
                    tracing::error!(
                        file = %self.plan.path.display(),
                        error = %e,
                        time_reopen = self.plan.time_reopen.as_secs(),
                        "Error writing file, retrying after time-reopen()"
                    );
                    self.file = None;
                    self.queue.unpop(&mut batch);
                    if self.queue.is_closed() {
                        break;
                    }
                    tokio::time::sleep(self.plan.time_reopen).await;
                }
            }
            out.clear();
            if out.capacity() > 4 << 20 {
                out.shrink_to(256 << 10);
            }
        }
    }
}

/// The destination as an actor: runs its [`FileWriter`] and stops when it is done.
pub struct FileDestActor {
    pub writer: Option<FileWriter>,
    pub done: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Actor for FileDestActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(writer) = self.writer.take() else {
            ctx.stop();
            return;
        };
        let done = self.done.take();
        ctx.spawn(writer.run().into_actor(self).map(move |_, _, ctx| {
            if let Some(d) = done {
                let _ = d.send(());
            }
            ctx.stop();
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};
    use crate::config::global_options::{FileMode, TsFormat};

    #[test]
    fn defaults() {
        let o: FileDestinationOptions = check(r#"file("/var/log/messages")"#);
        assert_eq!(o.file.path, "/var/log/messages");
        assert_eq!(o.file.create_dirs, None);
        assert!(!o.file.optional && !o.file.fsync);
        assert_eq!(o.file.overwrite_if_older, 0);
        assert_eq!(o.file.mark_mode, MarkMode::None);
        assert_eq!(o.dest, DestDriverOptions::default());
        assert_eq!(o.writer, WriterOptions::default());
        assert_eq!(o.template, TemplateOptions::default());
        assert_eq!(o.perm, FilePermOptions::default());
    }

    #[test]
    fn full_example() {
        let o: FileDestinationOptions = check(
            r#"file("/var/log/remote/${HOST}/${YEAR}-${MONTH}-${DAY}.log"
                template("${ISODATE} ${HOST} ${MSGHDR}${MSG}\n") template-escape(no)
                create-dirs(yes) dir-perm(0750) perm(0640) owner(root) group("adm")
                ts-format(iso) frac-digits(3) time-zone("UTC") flush-lines(1000)
                log-fifo-size(100000) fsync(yes) time-reap(30) flags(no-multi-line)
                mark-mode(periodical) mark-freq(60) suppress(10) throttle(1000)
                disk-buffer(disk-buf-size(10485760) reliable(yes))
                persist-name("remote") symlink-as("/var/log/remote/current"))"#,
        );
        assert_eq!(o.file.create_dirs, Some(true));
        assert!(o.file.fsync);
        assert_eq!(o.file.time_reap, Some(30));
        assert_eq!(o.file.mark_mode, MarkMode::Periodical);
        assert_eq!(o.perm.dir_perm, Some(FileMode::Mode(0o750)));
        assert_eq!(o.template.ts_format, Some(TsFormat::Iso));
        assert_eq!(o.template.frac_digits, Some(3));
        assert_eq!(o.writer.flush_lines, Some(1000));
        assert_eq!(o.writer.flags, vec![DestFlag::NoMultiLine]);
        assert_eq!(o.writer.mark_freq, Some(60));
        assert_eq!(o.dest.log_fifo_size.map(|n| n.get()), Some(100000));
        assert_eq!(o.dest.throttle, 1000);
        assert!(o.dest.disk_buffer.is_some_and(|d| d.reliable));
        // Obsolete aliases syslog-ng 3.38 still takes.
        let o: FileDestinationOptions = check(r#"file("/x" sync(10) mark(60))"#);
        assert_eq!(
            (o.writer.flush_lines, o.writer.mark_freq),
            (Some(10), Some(60))
        );
    }

    #[test]
    fn errors() {
        let e = err::<FileDestinationOptions>(r#"file("/x" create_dir(yes))"#);
        assert_eq!(e.notes, vec!["did you mean `create-dirs`?"]);
        let e = err::<FileDestinationOptions>(r#"file("/x" ts-format(isoo))"#);
        assert_eq!(e.message, "unknown value `isoo`");
        assert_eq!(e.notes, vec!["did you mean `iso`?"]);
        let e = err::<FileDestinationOptions>(r#"file("/x" mark-mode(dst-idel))"#);
        assert_eq!(e.notes, vec!["did you mean `dst-idle`?"]);
        err::<FileDestinationOptions>(r#"file("/x" flags(tmpl-escape))"#);
        err::<FileDestinationOptions>(r#"file("/x" follow-freq(1))"#);
        err::<FileDestinationOptions>(r#"file("/x" log-fifo-size(0))"#);
        let e = err::<FileDestinationOptions>("file(create-dirs(yes))");
        assert!(e.message.contains("path"), "{}", e.message);
    }
}
