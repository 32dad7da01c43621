//! The `file()` destination: append messages to a file whose name may be a template.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! file permission options, `create-dirs()`, `optional()`, `overwrite-if-older()`, `fsync()`,
//! `symlink-as()` and `time-reap()`; `mark-mode()` defaults to `none`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::writer::{WriterOptionsRef, WriterPlan, plan_writer};
use crate::actors::options::{DriverOptions, FilePermOptions, option_span};
use crate::actors::runtime::settings;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{FileMode, FileOwner, GlobalOptions, MarkMode};
use crate::driver_options;
use crate::message::ZoneSpec;
use crate::pipeline::BuildEnv;
use crate::template::{OutputFormat, Template, TemplateOptions as RenderOptions};

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
    /// Accepted; changes nothing for a destination file in syslog-ng 3.38 (checked): the file
    /// is opened at its first message, and one that cannot be opened is retried every
    /// `time-reopen()` with or without it, the daemon running on. Default: no.
    #[serde(default)]
    pub optional: bool,
    /// When the file is opened, delete it first if it was last modified more than this many
    /// seconds ago (a file per weekday reused a week later starts empty); 0 never does.
    /// Default: 0.
    #[serde(default)]
    pub overwrite_if_older: u32,
    /// `fsync()` after every write. Default: no.
    #[serde(default)]
    pub fsync: bool,
    /// A symlink with this name (taken as it is, not a template) is pointed at the file each
    /// time one is opened: the current file of a templated name. Default: none.
    #[serde(default)]
    pub symlink_as: Option<String>,
    /// Seconds after which an idle file of a templated name is closed (a fixed name stays
    /// open). Default: the global `time-reap()` (60).
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
// Runtime: the plan here; opening files (create-dirs, permissions, overwrite-if-older,
// symlink-as) in `open`; the [`Sink`](super::writer::Sink) the shared writer loop runs in
// `sink` (one file, or one per rendered name, reaped when idle).

mod open;
mod sink;
mod targets;

pub use open::OpenPlan;
pub use sink::FileSink;

/// What a `file()` destination needs to run, derived from its options and the globals.
#[derive(Debug, Clone)]
pub struct FileDestPlan {
    /// The file name as configured (the template's text when it is one).
    pub path: String,
    /// The file name compiled, when it is a template: syslog-ng treats a name with a `$` in
    /// it as one, rendered per message.
    pub name_template: Option<Arc<Template>>,
    /// What the name is rendered with: the destination's template options, except the time
    /// zone. syslog-ng 3.38 renders it in the "local" zone (checked): the global
    /// `local-time-zone()`, else each stamp's own offset; `time-zone()` and
    /// `send-time-zone()` do not apply to the name.
    pub name_options: RenderOptions,
    pub writer: WriterPlan,
    pub open: OpenPlan,
    /// `fsync()` after every write.
    pub fsync: bool,
    /// `time-reap()`: a file of a templated name nothing was written to for this long is
    /// closed (a fixed name stays open, as in syslog-ng).
    pub time_reap: Duration,
    /// `persist-name()`.
    pub persist_name: Option<String>,
}

impl crate::actors::runtime::driver::DestinationDriver for FileDestPlan {
    /// As syslog-ng 3.38 names a file destination: `affile_dd_writers(TEMPLATE)`, or
    /// `affile_dd.NAME.writers` with `persist-name(NAME)`.
    fn persist_name(&self, _driver_id: &str) -> String {
        match &self.persist_name {
            Some(p) => format!("affile_dd.{p}.writers"),
            None => format!("affile_dd_writers({})", self.path),
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    /// From `stats-level(1)`, as in syslog-ng; a templated name has one cluster per file.
    fn stats_rows(&self) -> Option<crate::actors::runtime::stats::DestRows> {
        Some(crate::actors::runtime::stats::DestRows {
            level: 1,
            instance: self.path.clone(),
            writer: true,
            per_file: self.name_template.is_some(),
        })
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    fn start(&self, cx: crate::actors::runtime::driver::DestStart<'_>) {
        let sink = FileSink::new(self.clone(), cx.writer.queue.clone());
        super::writer::start(cx.arbiter, sink, cx.writer, cx.done);
    }
}

/// Plans a `file()` call (the registry's entry for it).
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn crate::actors::runtime::driver::DestinationDriver>, Diagnostic> {
    let o = FileDestinationOptions::from_call(call)?;
    Ok(Box::new(plan_file(&o, call, globals, env)?))
}

/// Checks what the runtime supports of a `file()` call and derives its plan.
pub fn plan_file(
    o: &FileDestinationOptions,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<FileDestPlan, Diagnostic> {
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
    let mut name_options = settings::template_options(&o.template, globals);
    name_options.time_zone = globals.local_time_zone.as_deref().and_then(ZoneSpec::parse);
    let name_template = if o.file.path.contains('$') {
        Some(Arc::new(
            env.template(&o.file.path, option_span(call, &["0:path"]))?,
        ))
    } else {
        None
    };
    Ok(FileDestPlan {
        path: o.file.path.clone(),
        persist_name: o.dest.persist_name.clone(),
        name_template,
        name_options,
        writer,
        open: OpenPlan {
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
            overwrite_if_older: o.file.overwrite_if_older,
            symlink_as: o.file.symlink_as.as_ref().map(PathBuf::from),
        },
        fsync: o.file.fsync,
        time_reap: Duration::from_secs(u64::from(o.file.time_reap.unwrap_or(globals.time_reap))),
    })
}

pub(crate) fn mode(m: FileMode) -> Option<u32> {
    match m {
        FileMode::Mode(m) => Some(m),
        FileMode::Unchanged => None,
    }
}

/// A user (or group) name or id as a numeric id; `None` leaves it unchanged (or unknown:
/// file-like drivers go on silently, as syslog-ng does).
pub(crate) fn owner_id(o: &FileOwner, group: bool) -> Option<u32> {
    crate::actors::options::owner_id(Some(o), group)
        .ok()
        .flatten()
}

/// Changes owner and group, best effort: only root may give files away, and syslog-ng run
/// as a user also just goes on. (file() itself changes them one at a time, in `open`.)
pub(crate) fn chown_best_effort(path: &std::path::Path, owner: Option<u32>, group: Option<u32>) {
    if owner.is_none() && group.is_none() {
        return;
    }
    let _ = std::os::unix::fs::chown(path, owner, group);
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

    fn plans(body: &str) -> Result<Vec<FileDestPlan>, Vec<String>> {
        use crate::actors::runtime::plan::plan;
        use crate::config::load::{LoadOptions, load_str};
        let text = format!("@version: 3.38\n{body}\nlog {{ destination(d); }};\n");
        let loaded = load_str("t.conf", &text, &LoadOptions::default()).map_err(|_| vec![])?;
        let model = crate::config::model::build(&loaded.ast).map_err(|_| vec![])?;
        let p = plan(&model).map_err(|e| e.into_iter().map(|d| d.message).collect::<Vec<_>>())?;
        Ok(p.dests
            .into_iter()
            .filter_map(|d| d.driver.as_any().downcast_ref::<FileDestPlan>().cloned())
            .collect())
    }

    #[test]
    fn plans_templated_names_and_the_file_options() {
        let p = plans(
            "options { time-reap(30); perm(0640); };\n\
             destination d { file(\"/var/log/$HOST/${YEAR}.log\" symlink-as(\"/var/log/cur\")\n\
             overwrite-if-older(10) dir-perm(0750) perm() create-dirs(yes));\n\
             file(\"/var/log/fixed\" time-reap(5) fsync(yes)); };",
        )
        .unwrap_or_default();
        assert_eq!(p.len(), 2);
        assert!(p[0].name_template.is_some());
        assert_eq!(p[0].time_reap, Duration::from_secs(30));
        assert_eq!(
            p[0].open,
            OpenPlan {
                create_dirs: true,
                owner: Some(0),
                group: Some(0),
                perm: None,
                dir_owner: Some(0),
                dir_group: Some(0),
                dir_perm: Some(0o750),
                overwrite_if_older: 10,
                symlink_as: Some(PathBuf::from("/var/log/cur")),
            }
        );
        assert!(p[1].name_template.is_none() && p[1].fsync);
        assert_eq!(p[1].open.perm, Some(0o640));
        assert_eq!(p[1].time_reap, Duration::from_secs(5));
        // The name is rendered in the local zone, the messages in the destination's.
        let p = plans(
            "options { local-time-zone(\"+05:00\"); };\n\
             destination d { file(\"/var/log/$HOUR\" time-zone(\"+01:00\")); };",
        )
        .unwrap_or_default();
        let offset = |z: &Option<ZoneSpec>| z.as_ref().map(|z| z.offset_at(0));
        assert_eq!(offset(&p[0].name_options.time_zone), Some(5 * 3600));
        assert_eq!(offset(&p[0].writer.render.options.time_zone), Some(3600));
        let p = plans("destination d { file(\"/var/log/$HOUR\" time-zone(\"+01:00\")); };")
            .unwrap_or_default();
        assert!(p[0].name_options.time_zone.is_none());
        let e = plans("destination d { file(\"/var/log/$(echo\"); };").err();
        assert!(
            e.as_ref()
                .is_some_and(|m| m.iter().any(|m| m.starts_with("Error compiling template"))),
            "{e:?}"
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
