//! The `pipe()` destination: write to a named pipe (FIFO).
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! file permission options, `create-dirs()` and `time-reap()` (accepted); no `optional()`.
//! `mark-mode()` defaults to `none` (the pipe is a file destination in syslog-ng).

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::file::mark_mode_none;
use crate::actors::sources::common::FilePermOptions;
use crate::config::global_options::MarkMode;
use crate::driver_options;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};

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
