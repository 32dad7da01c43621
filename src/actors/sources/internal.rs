//! The `internal()` source: the daemon's own messages (startup, errors, STATS, MARK).
//!
//! Option set checked against syslog-ng 3.38: the options of every source (`log-iw-size()`,
//! `tags()`, `program-override()`...) and `log-fifo-size()`; no `persist-name()`,
//! `hook-commands()` or parsing options.

use serde::Deserialize;

use crate::config::global_options::Positive;

use super::common::{SourceOptions, default_log_iw_size};
use crate::driver_options;

/// The `internal()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct InternalSource {
    /// Messages in flight before internal messages queue up. Must be positive. Default: 100.
    #[serde(default = "default_log_iw_size")]
    pub log_iw_size: Positive,
    /// Internal messages queued while the source's window is full; beyond it they are
    /// dropped. Must be positive. Default: the global `log-fifo-size()` (10000).
    #[serde(default)]
    pub log_fifo_size: Option<Positive>,
}

driver_options! {
    /// Options of the `internal()` source.
    pub struct InternalSourceOptions {
        pub internal: InternalSource,
        pub source: SourceOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};

    #[test]
    fn defaults() {
        let o: InternalSourceOptions = check("internal()");
        assert_eq!(o.internal.log_iw_size.get(), 100);
        assert_eq!(o.source, SourceOptions::default());
    }

    #[test]
    fn full_example() {
        let o: InternalSourceOptions = check(
            r#"internal(log-iw-size(1000) log-fifo-size(50000) tags("internal")
                program-override("sluice"))"#,
        );
        assert_eq!(o.internal.log_iw_size.get(), 1000);
        assert_eq!(o.internal.log_fifo_size.map(|n| n.get()), Some(50000));
        assert_eq!(o.source.tags, vec!["internal"]);
    }

    #[test]
    fn errors() {
        let e = err::<InternalSourceOptions>("internal(tag(x))");
        assert_eq!(e.notes, vec!["did you mean `tags`?"]);
        err::<InternalSourceOptions>(r#"internal(persist-name("x"))"#);
        err::<InternalSourceOptions>("internal(flags(no-parse))");
        let e = err::<InternalSourceOptions>("internal(keep-timestamp(sometimes))");
        assert!(e.message.contains("yes or no"), "{}", e.message);
    }
}
