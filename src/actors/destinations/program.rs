//! The `program()` destination: start a program and write messages to its standard input.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options,
//! `inherit-environment()` and `keep-alive()`; no file options. `mark-mode()` defaults to the
//! global setting (as in syslog-ng 3.38's code; older documentation says `internal`).

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use crate::config::global_options::{MarkMode, yes};
use crate::driver_options;

pub(crate) fn mark_mode_global() -> MarkMode {
    MarkMode::Global
}

/// The `program()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProgramDestination {
    /// The command line to run, through `/bin/sh -c` (positional, required). It is started
    /// with sluice and restarted when it exits.
    #[serde(rename = "0:command")]
    pub command: String,
    /// Start the program with sluice's environment; with no, with an empty one.
    /// Default: yes.
    #[serde(default = "yes")]
    pub inherit_environment: bool,
    /// Keep the program running across reloads instead of restarting it. Default: no.
    #[serde(default)]
    pub keep_alive: bool,
    /// When MARK messages are written. Default: global (the global `mark-mode()`).
    #[serde(default = "mark_mode_global")]
    pub mark_mode: MarkMode,
}

driver_options! {
    /// Options of the `program()` destination.
    pub struct ProgramDestinationOptions {
        pub program: ProgramDestination,
        pub dest: DestDriverOptions,
        pub writer: WriterOptions,
        pub template: TemplateOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::destinations::common::DestFlag;
    use crate::actors::registry::testing::{check, err};
    use crate::config::global_options::TsFormat;

    #[test]
    fn defaults() {
        let o: ProgramDestinationOptions = check(r#"program("/usr/bin/logger -t x")"#);
        assert_eq!(o.program.command, "/usr/bin/logger -t x");
        assert!(o.program.inherit_environment);
        assert!(!o.program.keep_alive);
        assert_eq!(o.program.mark_mode, MarkMode::Global);
        assert_eq!(o.dest, DestDriverOptions::default());
        assert_eq!(o.writer, WriterOptions::default());
        assert_eq!(o.template, TemplateOptions::default());
    }

    #[test]
    fn full_example() {
        // Every option of the spec page for program().
        let o: ProgramDestinationOptions = check(
            r#"program("/usr/local/bin/consume --json" inherit-environment(no) keep-alive(yes)
                mark-mode(dst-idle) mark-freq(600) flags(no-multi-line, syslog-protocol)
                flush-lines(100) frac-digits(3) log-fifo-size(20000) suppress(30)
                template("$(format-json --scope rfc5424)\n") template-escape(yes)
                throttle(500) time-zone("Europe/Budapest") ts-format(rfc3339)
                hook-commands(startup("mkdir -p /run/x") shutdown("rm -rf /run/x"))
                disk-buffer(reliable(no) disk-buf-size(2000000) mem-buf-length(10000)))"#,
        );
        assert!(!o.program.inherit_environment && o.program.keep_alive);
        assert_eq!(o.program.mark_mode, MarkMode::DstIdle);
        assert_eq!(o.writer.mark_freq, Some(600));
        assert_eq!(
            o.writer.flags,
            vec![DestFlag::NoMultiLine, DestFlag::SyslogProtocol]
        );
        assert!(o.writer.template_escape);
        assert_eq!(o.template.ts_format, Some(TsFormat::Rfc3339));
        assert_eq!(o.template.time_zone.as_deref(), Some("Europe/Budapest"));
        assert_eq!(o.dest.throttle, 500);
        assert_eq!(
            o.dest.disk_buffer.and_then(|d| d.mem_buf_length),
            Some(10000)
        );
    }

    #[test]
    fn errors() {
        let e = err::<ProgramDestinationOptions>(r#"program("cat" inherit-enviroment(no))"#);
        assert_eq!(e.notes, vec!["did you mean `inherit-environment`?"]);
        let e = err::<ProgramDestinationOptions>(r#"program("cat" keep-alive(perhaps))"#);
        assert!(e.message.contains("yes or no"), "{}", e.message);
        let e = err::<ProgramDestinationOptions>("program(keep-alive(yes))");
        assert!(e.message.contains("command"), "{}", e.message);
        err::<ProgramDestinationOptions>(r#"program("cat" "extra")"#);
        err::<ProgramDestinationOptions>(r#"program("cat" create-dirs(yes))"#);
        err::<ProgramDestinationOptions>(r#"program("cat" mark-mode(sometimes))"#);
    }
}
