//! The `file()` destination: append messages to a file whose name may be a template.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! file permission options, `create-dirs()`, `optional()`, `overwrite-if-older()`, `fsync()`,
//! `symlink-as()` and `time-reap()`; `mark-mode()` defaults to `none`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::writer::{
    Renderer, SendError, Sink, WriterOptionsRef, WriterPlan, plan_writer, render_all,
};
use crate::actors::runtime::queue::Entry;
use crate::actors::sources::common::{FilePermOptions, option_span};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{FileMode, FileOwner, GlobalOptions, MarkMode};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use crate::template::OutputFormat;

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
// Runtime: a [`Sink`] for the shared writer loop (super::writer). A destination runs on an
// arbiter of its own (a thread serving no socket), so its blocking file writes never hold up
// a reader.

/// What a `file()` destination needs to run, derived from its options and the globals.
#[derive(Debug, Clone)]
pub struct FileDestPlan {
    pub path: PathBuf,
    pub writer: WriterPlan,
    pub create_dirs: bool,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    pub perm: Option<u32>,
    pub dir_owner: Option<u32>,
    pub dir_group: Option<u32>,
    pub dir_perm: Option<u32>,
    pub fsync: bool,
}

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
    if o.file.symlink_as.is_some() {
        return refuse("symlink-as()", &["symlink-as"]);
    }
    let writer = plan_writer(
        WriterOptionsRef {
            dest: &o.dest,
            writer: &o.writer,
            template: &o.template,
            mark_mode: o.file.mark_mode,
            format: OutputFormat::File,
        },
        call,
        globals,
        env,
    )?;
    Ok(FileDestPlan {
        path: PathBuf::from(&o.file.path),
        writer,
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

/// The sink of one `file()` destination driver.
pub struct FileSink {
    pub plan: FileDestPlan,
    file: Option<File>,
    out: Vec<u8>,
}

impl FileSink {
    pub fn new(plan: FileDestPlan) -> FileSink {
        FileSink {
            plan,
            file: None,
            out: Vec::with_capacity(256 << 10),
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
}

impl Sink for FileSink {
    fn describe(&self) -> String {
        format!("file('{}')", self.plan.path.display())
    }

    fn is_open(&self) -> bool {
        self.file.is_some()
    }

    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError> {
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        render_all(batch, r, &mut out);
        let fsync = self.plan.fsync;
        let res = self.open().and_then(|f| {
            f.write_all(&out)?;
            if fsync {
                f.sync_data()?;
            }
            Ok(())
        });
        if out.capacity() > 4 << 20 {
            out = Vec::with_capacity(256 << 10);
        }
        self.out = out;
        res.map_err(SendError::none)
    }

    async fn close(&mut self) {
        self.file = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::destinations::common::DestFlag;
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
