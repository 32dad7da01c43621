//! The `stdin()` source: read sluice's standard input, stopping at its end.
//!
//! Option set checked against syslog-ng 3.38: the same as a `file()` source without the path
//! (its reader is a file reader on descriptor 0).

use serde::Deserialize;

use crate::config::global_options::Positive;

use super::common::{
    FilePermOptions, LineOptions, ReaderOptions, SourceDriverOptions, SourceOptions,
    default_log_iw_size,
};
use crate::driver_options;

fn default_follow_freq() -> f64 {
    1.0
}

/// The `stdin()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StdinSource {
    /// Seconds between two polls when standard input is a regular file. Default: 1.
    #[serde(default = "default_follow_freq")]
    pub follow_freq: f64,
    /// Accepted as syslog-ng 3.38 accepts it, with no effect there either: standard input is
    /// not polled, and its end sends the pending multi-line message. Default: 0.
    #[serde(default)]
    pub multi_line_timeout: u32,
    /// Messages in flight before the source stops reading. Must be positive. Default: 100.
    #[serde(default = "default_log_iw_size")]
    pub log_iw_size: Positive,
}

driver_options! {
    /// Options of the `stdin()` source.
    pub struct StdinSourceOptions {
        pub stdin: StdinSource,
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
    use crate::actors::sources::common::SourceFlag;

    #[test]
    fn defaults() {
        let o: StdinSourceOptions = check("stdin()");
        assert_eq!(o.stdin.follow_freq, 1.0);
        assert_eq!(o.stdin.log_iw_size.get(), 100);
        assert!(o.reader.flags.is_empty());
    }

    #[test]
    fn full_example() {
        let o: StdinSourceOptions =
            check(r#"stdin(flags(no-parse) program-override("batch") log-fetch-limit(1000))"#);
        assert_eq!(o.reader.flags, vec![SourceFlag::NoParse]);
        assert_eq!(o.source.program_override.as_deref(), Some("batch"));
        assert_eq!(o.reader.log_fetch_limit.get(), 1000);
    }

    #[test]
    fn errors() {
        let e = err::<StdinSourceOptions>("stdin(flag(no-parse))");
        assert_eq!(e.notes, vec!["did you mean `flags`?"]);
        err::<StdinSourceOptions>(r#"stdin("/dev/stdin")"#);
        let e = err::<StdinSourceOptions>("stdin(log-fetch-limit(-1))");
        assert!(e.message.contains("whole number"), "{}", e.message);
    }
}
