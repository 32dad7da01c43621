//! The `program()` destination: start a program and write messages to its standard input.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options,
//! `inherit-environment()` and `keep-alive()`; no file options. `mark-mode()` defaults to the
//! global setting (as in syslog-ng 3.38's code; older documentation says `internal`).
//!
//! Runtime: the program is started when the destination starts and supervised by
//! [`child::ProgramHandle`] (restart, reaping, stop). The sink writes the file format
//! (syslog-ng's `LW_FORMAT_FILE`) to its stdin asynchronously. A write that fails (`EPIPE`:
//! the program exited or closed its stdin) keeps the unwritten messages in the queue; the
//! instance is sent SIGTERM if it still runs (syslog-ng's reopen), restarted, and the writer
//! retries after `time-reopen()`, so the messages go to the next instance. Bytes the program
//! had not read when it exited were in its pipe and are lost with it, as in syslog-ng.
//!
//! `keep-alive(yes)`: on reload the running program and its stdin move to the new
//! configuration (matched by syslog-ng's persist name: `persist-name()`, else the command
//! line and the driver id): the sink parks it in its [`Parking`] and the new driver of the
//! same persist name takes it (`runtime::driver`); on stop, and on
//! reload with `keep-alive(no)`, the program gets end-of-file after the queue was drained
//! (then SIGTERM, see [`child`]).

pub mod child;

use serde::Deserialize;
use tokio::net::unix::pipe;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::pipe::BatchBuf;
use super::writer::{Renderer, SendError, Sink, WriterOptionsRef, WriterPlan, plan_writer};
use crate::actors::options::DriverOptions;
use crate::actors::runtime::driver::{DestStart, DestinationDriver, Parking};
use crate::actors::runtime::queue::Entry;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, MarkMode, yes};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use crate::template::OutputFormat;
use child::{ProgramHandle, ProgramSpec};

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

// ---------------------------------------------------------------------------------------
// Runtime.

/// What a `program()` destination needs to run.
#[derive(Debug, Clone)]
pub struct ProgramDestPlan {
    pub command: String,
    pub inherit_environment: bool,
    pub keep_alive: bool,
    pub persist_name: Option<String>,
    pub writer: WriterPlan,
}

/// Plans a `program()` call (the registry's entry for it).
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn crate::actors::runtime::driver::DestinationDriver>, Diagnostic> {
    let o = ProgramDestinationOptions::from_call(call)?;
    Ok(Box::new(plan_program(&o, call, globals, env)?))
}

/// Derives the plan of a `program()` call.
pub fn plan_program(
    o: &ProgramDestinationOptions,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<ProgramDestPlan, Diagnostic> {
    let writer = plan_writer(
        WriterOptionsRef {
            dest: &o.dest,
            writer: &o.writer,
            template: &o.template,
            mark_mode: o.program.mark_mode,
            format: OutputFormat::File,
        },
        call,
        globals,
        env,
    )?;
    Ok(ProgramDestPlan {
        command: o.program.command.clone(),
        inherit_environment: o.program.inherit_environment,
        keep_alive: o.program.keep_alive,
        persist_name: o.dest.persist_name.clone(),
        writer,
    })
}

impl ProgramDestPlan {
    /// syslog-ng's persist name of the program (`driver_id` is `d#0`): what a kept program
    /// is matched by on reload.
    pub fn persist_key(&self, driver_id: &str) -> String {
        match &self.persist_name {
            Some(p) => format!("afprogram_dd_name.{p}"),
            None => format!("afprogram_dd_name({},{driver_id})", self.command),
        }
    }
}

impl DestinationDriver for ProgramDestPlan {
    fn persist_name(&self, driver_id: &str) -> String {
        self.persist_key(driver_id)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn stats_rows(&self) -> Option<crate::actors::runtime::stats::DestRows> {
        Some(crate::actors::runtime::stats::DestRows {
            level: 0,
            instance: self.command.clone(),
            writer: true,
            per_file: false,
        })
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    /// A `keep-alive(yes)` program the previous configuration parked is taken over.
    fn start(&self, cx: DestStart<'_>) {
        let inherited = cx
            .inherited
            .and_then(|s| s.downcast::<ProgramHandle>().ok())
            .map(|b| *b);
        let queue = cx.writer.queue.clone();
        let sink = ProgramSink::new(self.clone(), inherited, cx.park, Some(queue));
        super::writer::start(cx.arbiter, sink, cx.writer, cx.done);
    }
}

/// The sink of one `program()` destination driver.
pub struct ProgramSink {
    plan: ProgramDestPlan,
    program: Option<ProgramHandle>,
    kept: Parking,
    /// The writer's duplicate of the current instance's stdin, with its generation.
    tx: Option<(u64, pipe::Sender)>,
    buf: BatchBuf,
    /// The generation whose write failed (the next `close` is after an error).
    failed: Option<u64>,
}

impl ProgramSink {
    /// Takes over `inherited` (a kept program from the previous configuration) or starts
    /// the program now.
    pub fn new(
        plan: ProgramDestPlan,
        inherited: Option<ProgramHandle>,
        kept: Parking,
        queue: Option<std::sync::Arc<crate::actors::runtime::queue::Queue>>,
    ) -> ProgramSink {
        let program = inherited.unwrap_or_else(|| {
            ProgramHandle::start(ProgramSpec {
                command: plan.command.clone(),
                inherit_environment: plan.inherit_environment,
                time_reopen: plan.writer.time_reopen,
            })
        });
        ProgramSink {
            plan,
            program: Some(program),
            kept,
            tx: None,
            buf: match queue {
                Some(q) => BatchBuf::for_queue(q),
                None => BatchBuf::default(),
            },
            failed: None,
        }
    }

    /// The writer's end of the running instance's stdin.
    fn stdin(&mut self) -> std::io::Result<(u64, &mut pipe::Sender)> {
        let h = self
            .program
            .as_ref()
            .ok_or_else(|| std::io::Error::other("the program was stopped"))?;
        let generation = h.generation();
        if self.tx.as_ref().is_some_and(|(g, _)| *g != generation) {
            self.tx = None;
        }
        if self.tx.is_none() {
            let Some((g, fd)) = h.stdin() else {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotConnected,
                    "the program is not running",
                ));
            };
            self.tx = Some((g, pipe::Sender::from_owned_fd(fd?)?));
        }
        match self.tx.as_mut() {
            Some((g, tx)) => Ok((*g, tx)),
            None => Err(std::io::Error::other("the program is not running")),
        }
    }
}

impl Sink for ProgramSink {
    fn describe(&self) -> String {
        format!("program('{}')", self.plan.command)
    }

    fn is_open(&self) -> bool {
        self.program.as_ref().is_some_and(ProgramHandle::is_running)
    }

    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError> {
        self.buf.render(batch, r);
        let mut buf = std::mem::take(&mut self.buf);
        let res = match self.stdin() {
            Ok((g, tx)) => buf.write_to(tx).await.map_err(|e| (Some(g), e)),
            Err(e) => Err((None, SendError::none(e))),
        };
        self.buf = buf;
        res.map_err(|(g, e)| {
            self.failed = Some(g.unwrap_or(u64::MAX));
            e
        })
    }

    /// A reload: `keep-alive(no)` restarts the program (syslog-ng stops it with the old
    /// configuration and starts it with the new one); `keep-alive(yes)` keeps it.
    async fn reopen(&mut self) {
        if self.plan.keep_alive {
            return;
        }
        self.tx = None;
        if let Some(h) = self.program.take() {
            h.shutdown().await;
        }
        self.program = Some(ProgramHandle::start(ProgramSpec {
            command: self.plan.command.clone(),
            inherit_environment: self.plan.inherit_environment,
            time_reopen: self.plan.writer.time_reopen,
        }));
    }

    async fn close(&mut self) {
        self.tx = None;
        if let Some(g) = self.failed.take() {
            // After a failed write: the instance that failed is stopped if it still runs
            // (it closed its stdin); the supervisor starts the next one.
            if let Some(h) = &self.program {
                h.kill_instance(g);
            }
            return;
        }
        let Some(h) = self.program.take() else { return };
        if self.plan.keep_alive && self.kept.is_reloading() {
            tracing::debug!(cmdline = %h.command(), "Keeping the program across reload (keep-alive)");
            self.kept.park(Box::new(h));
        } else {
            h.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::destinations::common::DestFlag;
    use crate::actors::destinations::pipe::testing::planned_as;
    use crate::actors::registry::testing::{check, err};
    use crate::config::global_options::TsFormat;

    #[test]
    fn plans_with_syslog_ngs_persist_name() {
        let p = match planned_as::<ProgramDestPlan>(r#"program("cat >/dev/null" keep-alive(yes))"#)
        {
            Ok(p) => p,
            other => panic!("not planned: {other:?}"),
        };
        assert!(p.keep_alive && p.inherit_environment);
        assert_eq!(
            p.persist_key("d#0"),
            "afprogram_dd_name(cat >/dev/null,d#0)"
        );
        let p = match planned_as::<ProgramDestPlan>(r#"program("cat" persist-name("x"))"#) {
            Ok(p) => p,
            other => panic!("not planned: {other:?}"),
        };
        assert_eq!(p.persist_key("d#0"), "afprogram_dd_name.x");
        match planned_as::<ProgramDestPlan>(
            r#"program("cat" disk-buffer(disk-buf-size(2000000) reliable(no)))"#,
        ) {
            Ok(p) => assert_eq!(
                p.writer.disk,
                Some(crate::actors::destinations::writer::DiskPlan {
                    reliable: false,
                    capacity: 2_000_000,
                    dir: None,
                    mem_entries: 10_000
                })
            ),
            other => panic!("not planned: {other:?}"),
        }
    }

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
