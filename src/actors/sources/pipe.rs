//! The `pipe()` source: read a named pipe (FIFO), creating it if it does not exist.
//!
//! Option set checked against syslog-ng 3.38: the reader and source options, `optional()`,
//! `create-dirs()`, `pad-size()`, the multi-line options and the file permission options of
//! the FIFO it creates; no `follow-freq()` (a pipe is read as it becomes readable).

use serde::Deserialize;

use super::common::{
    FilePermOptions, LineOptions, ReaderOptions, SourceDriverOptions, SourceOptions,
    default_log_iw_size,
};
use crate::config::global_options::Positive;
use crate::driver_options;

/// The `pipe()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PipeSource {
    /// The named pipe to read (positional, required).
    #[serde(rename = "0:path")]
    pub path: String,
    /// Start even if the pipe cannot be opened (the driver stays idle). Default: no.
    #[serde(default)]
    pub optional: bool,
    /// Create the missing directories of the pipe's path. Default: the global
    /// `create-dirs()` (no).
    #[serde(default)]
    pub create_dirs: Option<bool>,
    /// Messages in flight before the source stops reading. Must be positive. Default: 100.
    #[serde(default = "default_log_iw_size")]
    pub log_iw_size: Positive,
}

driver_options! {
    /// Options of the `pipe()` source. The permission options apply to the FIFO it creates;
    /// unset, the FIFO's owner and mode are left as they are.
    pub struct PipeSourceOptions {
        pub pipe: PipeSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub lines: LineOptions,
        pub perm: FilePermOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};
    use crate::actors::sources::common::MultiLineMode;
    use crate::config::global_options::FileMode;

    #[test]
    fn defaults() {
        let o: PipeSourceOptions = check(r#"pipe("/dev/xconsole")"#);
        assert_eq!(o.pipe.path, "/dev/xconsole");
        assert!(!o.pipe.optional);
        assert_eq!(o.pipe.create_dirs, None);
        assert_eq!(o.pipe.log_iw_size.get(), 100);
        assert_eq!(o.lines.pad_size, 0);
        assert_eq!(o.perm.perm, None);
    }

    #[test]
    fn full_example() {
        let o: PipeSourceOptions = check(
            r#"pipe("/run/app.fifo" optional(yes) create-dirs(yes) perm(0600) pad-size(512)
                multi-line-mode(indented) flags(no-parse) log-iw-size(500))"#,
        );
        assert!(o.pipe.optional);
        assert_eq!(o.pipe.create_dirs, Some(true));
        assert_eq!(o.perm.perm, Some(FileMode::Mode(0o600)));
        assert_eq!(o.lines.pad_size, 512);
        assert_eq!(o.lines.multi_line_mode, MultiLineMode::Indented);
    }

    #[test]
    fn errors() {
        let e = err::<PipeSourceOptions>(r#"pipe("/p" optinal(yes))"#);
        assert_eq!(e.notes, vec!["did you mean `optional`?"]);
        let e = err::<PipeSourceOptions>(r#"pipe("/p" pad-size(big))"#);
        assert!(e.message.contains("whole number"), "{}", e.message);
        err::<PipeSourceOptions>(r#"pipe("/p" follow-freq(1))"#);
    }
}
