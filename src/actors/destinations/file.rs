//! The `file()` destination: append messages to a file whose name may be a template.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! file permission options, `create-dirs()`, `optional()`, `overwrite-if-older()`, `fsync()`,
//! `symlink-as()` and `time-reap()`; `mark-mode()` defaults to `none`.

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use crate::actors::sources::common::FilePermOptions;
use crate::config::global_options::MarkMode;
use crate::driver_options;

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
