//! The `pipe()` source at run time: read a named pipe (FIFO) as writers come and go.
//!
//! Behaviour recorded from syslog-ng 3.38:
//!
//! * A missing FIFO is created (`mkfifo`, mode `perm()` or 0600, owner and group when set);
//!   its missing directories only with `create-dirs(yes)` (mode `dir-perm()`, default the
//!   global 0700). When it cannot be created or opened the daemon does not start ("Error
//!   opening file for reading", exit 2), unless `optional(yes)`.
//! * The FIFO is opened read-write (syslog-ng's named-pipe opener does the same), so sluice
//!   itself counts as a writer: the pipe never reports an end when a writer closes, and the
//!   next writer's lines just follow. A partial line left by a writer waits for the next
//!   newline, as in syslog-ng.
//! * No saved position (a pipe has none); `expect-hostname` is cleared after the user's
//!   flags (see [`super::line_source`]).

use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;

use super::common::SourceFlag;
use super::line_source::{
    LineReader, LinesKind, LinesPlan, Resume, StartCx, drain, pause, plan_lines,
};
use super::pipe::PipeSourceOptions;
use crate::actors::destinations::file::{chown_best_effort, mode, owner_id};
use crate::actors::runtime::ack::Window;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;

/// How long to wait before opening a pipe again after a read error.
const REOPEN_DELAY: Duration = Duration::from_secs(1);

/// A `pipe()` source, ready to start.
#[derive(Debug, Clone)]
pub struct PipePlan {
    pub path: PathBuf,
    pub optional: bool,
    pub create_dirs: bool,
    pub perm: Option<u32>,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub dir_perm: Option<u32>,
    pub dir_owner: Option<u32>,
    pub dir_group: Option<u32>,
}

/// Checks what the runtime honours of a `pipe()` source and derives its plan. `reader` comes
/// back with `no-hostname` appended, which is how syslog-ng's pipe source parses.
pub fn plan_pipe_source(
    o: &mut PipeSourceOptions,
    call: &Node,
    globals: &GlobalOptions,
) -> Result<LinesPlan, Diagnostic> {
    let framing = plan_lines(call, &o.source, &o.reader, &o.lines, globals)?;
    o.reader.flags.push(SourceFlag::NoHostname);
    let p = &o.perm;
    Ok(LinesPlan {
        kind: LinesKind::Pipe(PipePlan {
            path: PathBuf::from(&o.pipe.path),
            optional: o.pipe.optional,
            create_dirs: o.pipe.create_dirs.unwrap_or(globals.create_dirs),
            // Unset, the pipe's own permissions are syslog-ng's: 0600, owner unchanged.
            perm: p.perm.and_then(mode),
            owner: p.owner.as_ref().and_then(|o| owner_id(o, false)),
            group: p.group.as_ref().and_then(|g| owner_id(g, true)),
            dir_perm: mode(p.dir_perm.unwrap_or(globals.dir_perm)),
            dir_owner: owner_id(p.dir_owner.as_ref().unwrap_or(&globals.dir_owner), false),
            dir_group: owner_id(p.dir_group.as_ref().unwrap_or(&globals.dir_group), true),
        }),
        framing,
        window: o.pipe.log_iw_size.get(),
    })
}

impl PipePlan {
    /// Creates the FIFO (and with `create-dirs` its directories) unless it exists.
    fn ensure_fifo(&self) -> std::io::Result<()> {
        match std::fs::metadata(&self.path) {
            Ok(m) if m.file_type().is_fifo() => return Ok(()),
            Ok(_) => {
                return Err(std::io::Error::other("not a named pipe"));
            }
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        if self.create_dirs
            && let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
            && !dir.exists()
        {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true).mode(self.dir_perm.unwrap_or(0o700));
            b.create(dir)?;
            chown_best_effort(dir, self.dir_owner, self.dir_group);
        }
        let perm = self.perm.unwrap_or(0o600);
        crate::actors::destinations::pipe::mkfifo(&self.path, perm)?;
        // The umask may have taken bits away from what was asked.
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(perm))?;
        chown_best_effort(&self.path, self.owner, self.group);
        Ok(())
    }

    fn open(&self) -> std::io::Result<pipe::Receiver> {
        self.ensure_fifo()?;
        pipe::OpenOptions::new()
            .read_write(true)
            .open_receiver(&self.path)
    }

    fn open_error(&self, e: &std::io::Error) -> String {
        format!(
            "Error opening file for reading; filename='{}', error='{e}'",
            self.path.display()
        )
    }

    /// Creates the FIFO and checks it opens, before the graph starts: an error stops the
    /// start, unless `optional(yes)` (then the source stays idle).
    pub fn prepare(&self) -> Result<(), String> {
        let opened = self.ensure_fifo().and_then(|()| {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&self.path)
        });
        match opened {
            Ok(_) => Ok(()),
            Err(e) if self.optional => {
                tracing::warn!(
                    "{}; the source is optional and stays idle",
                    self.open_error(&e)
                );
                Ok(())
            }
            Err(e) => Err(self.open_error(&e)),
        }
    }

    /// The key of its state in the reload handover.
    pub fn key(&self) -> String {
        format!("pipe({})", self.path.display())
    }

    /// Reads the FIFO until the graph stops, then leaves the open descriptor and the partial
    /// line in `cx.handover` for the next graph (a reload).
    pub async fn read(
        self,
        resume: Option<Resume>,
        lines: &mut LineReader,
        ingest: &Ingest,
        window: Arc<Window>,
        mut cx: StartCx,
    ) {
        let stop = &mut cx.stop;
        let mut batch = Batcher::default();
        let mut handed = None;
        if let Some(Resume::Pipe { fd, tail }) = resume {
            lines.spare().extend_from_slice(&tail);
            handed = Some(fd);
        }
        let keep = |rx: pipe::Receiver, lines: &LineReader| {
            if let Ok(fd) = rx.into_nonblocking_fd() {
                let tail = lines.pending().to_vec();
                cx.handover.put(&self.key(), Resume::Pipe { fd, tail });
            }
        };
        loop {
            let opened = match handed.take() {
                Some(fd) => pipe::Receiver::from_owned_fd_unchecked(fd),
                None => self.open(),
            };
            let mut rx = match opened {
                Ok(rx) => rx,
                Err(e) => {
                    // prepare() reported it already when the source is optional.
                    if !self.optional {
                        tracing::error!("{}", self.open_error(&e));
                    }
                    return;
                }
            };
            // What the previous graph had read and not yet made into messages.
            if !drain(lines, ingest, &window, &mut batch, false, stop, None).await {
                keep(rx, lines);
                return;
            }
            loop {
                let read = tokio::select! {
                    r = rx.read_buf(lines.spare()) => r,
                    _ = super::line_source::stopped(stop) => {
                        keep(rx, lines);
                        return;
                    }
                };
                match read {
                    Ok(n) if n > 0 => {
                        if !drain(lines, ingest, &window, &mut batch, false, stop, None).await {
                            keep(rx, lines);
                            return;
                        }
                    }
                    // Opened read-write, the pipe has no end; should it end anyway (or fail),
                    // open it again.
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(filename = %self.path.display(), error = %e,
                            "Error reading named pipe, reopening it");
                        break;
                    }
                }
            }
            if !pause(REOPEN_DELAY, stop).await {
                return;
            }
        }
    }
}
