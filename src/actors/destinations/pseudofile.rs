//! The `pseudofile()` destination: write each message to a special file (`/proc`, `/sys`,
//! `/dev`), opening and closing it for every write, without a queue.
//!
//! Option set checked against syslog-ng 3.38: `template()`, the template options,
//! `persist-name()`, `log-fifo-size()`, `throttle()` and `time-reopen()`; none of the writer
//! options (`flags()`, `flush-lines()`, `mark-mode()`...), no `disk-buffer()` and no
//! `hook-commands()`. syslog-ng 3.38 also requires the file to exist when the configuration
//! is parsed; sluice checks it when the driver starts.

use serde::Deserialize;

use super::common::TemplateOptions;
use crate::config::global_options::Positive;
use crate::driver_options;

/// The `pseudofile()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PseudofileDestination {
    /// The file to write, including the path (positional, required; not a template).
    #[serde(rename = "0:path")]
    pub path: String,
    /// The template of what is written. Default: the file format (`$DATE $HOST $MSGHDR$MSG`
    /// and a newline).
    #[serde(default)]
    pub template: Option<String>,
    /// Name of the driver's persistent state. Default: derived from the path.
    #[serde(default)]
    pub persist_name: Option<String>,
    /// Accepted for compatibility (pseudofile has no queue). Must be positive.
    #[serde(default)]
    pub log_fifo_size: Option<Positive>,
    /// Maximum messages per second; 0 is unlimited. Default: 0.
    #[serde(default)]
    pub throttle: u32,
    /// Seconds to wait after a failed write before writing again. Must be positive.
    /// Default: the global `time-reopen()` (60).
    #[serde(default)]
    pub time_reopen: Option<Positive>,
}

driver_options! {
    /// Options of the `pseudofile()` destination.
    pub struct PseudofileDestinationOptions {
        pub pseudofile: PseudofileDestination,
        pub template: TemplateOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};
    use crate::config::global_options::TsFormat;

    #[test]
    fn defaults() {
        let o: PseudofileDestinationOptions = check(r#"pseudofile("/proc/sys/kernel/x")"#);
        assert_eq!(o.pseudofile.path, "/proc/sys/kernel/x");
        assert_eq!(o.pseudofile.template, None);
        assert_eq!(o.pseudofile.throttle, 0);
        assert_eq!(o.template, TemplateOptions::default());
    }

    #[test]
    fn full_example() {
        let o: PseudofileDestinationOptions = check(
            r#"pseudofile("/dev/kmsg" template("<${PRI}>${MSG}\n") ts-format(iso)
                persist-name("kmsg") time-reopen(5) throttle(10))"#,
        );
        assert_eq!(o.pseudofile.template.as_deref(), Some("<${PRI}>${MSG}\n"));
        assert_eq!(o.template.ts_format, Some(TsFormat::Iso));
        assert_eq!(o.pseudofile.persist_name.as_deref(), Some("kmsg"));
    }

    #[test]
    fn errors() {
        let e = err::<PseudofileDestinationOptions>(r#"pseudofile("/dev/kmsg" tempalte("x"))"#);
        assert_eq!(e.notes, vec!["did you mean `template`?"]);
        err::<PseudofileDestinationOptions>(r#"pseudofile("/dev/kmsg" flush-lines(1))"#);
        err::<PseudofileDestinationOptions>(
            r#"pseudofile("/dev/kmsg" disk-buffer(disk-buf-size(1)))"#,
        );
        let e = err::<PseudofileDestinationOptions>("pseudofile(template(\"x\"))");
        assert!(e.message.contains("path"), "{}", e.message);
    }
}
