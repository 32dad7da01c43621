//! The `pseudofile()` destination: write each message to a special file (`/proc`, `/sys`,
//! `/dev`), opening and closing it for every write.
//!
//! Option set checked against syslog-ng 3.38: `template()`, the template options,
//! `persist-name()`, `log-fifo-size()`, `throttle()` and `time-reopen()`; none of the writer
//! options (`flags()`, `flush-lines()`, `mark-mode()`...), no `disk-buffer()` and no
//! `hook-commands()`. syslog-ng 3.38 requires the file to exist when the configuration is
//! parsed and `template()` when the driver starts; sluice refuses both when it plans the
//! configuration, with syslog-ng's messages.
//!
//! Each message, as syslog-ng 3.38 writes it (strace): `open(path, O_WRONLY|O_NOCTTY|
//! O_NONBLOCK)` — no `O_CREAT`, no `O_TRUNC`, no `O_APPEND` — one `write()`, `close()`. On a
//! regular file each message therefore overwrites the start of the file and leaves the rest
//! (`m2\n` over `hello-one\n` gives `m2\nlo-one\n`). internal() MARKs pass (there is no
//! writer in syslog-ng to drop them).
//!
//! Where sluice differs: syslog-ng writes in the thread of the source that routed the message
//! (no queue); sluice hands the message to the destination's queue and writes on the
//! destination's own thread, so a slow or blocking special file never holds up a socket
//! reader. Hence `log-fifo-size()` bounds that queue and `throttle()` is honoured (syslog-ng
//! 3.38 accepts and ignores both). After a failed open or write syslog-ng drops the message
//! and every message for `time-reopen()` seconds; sluice logs the same error, keeps the
//! message and the ones after it queued, and writes them after `time-reopen()`.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use serde::Deserialize;

use super::common::{TemplateOptions, WriterOptions};
use super::pipe::os_error;
use super::writer::{MAX_BATCH, MarkPlan, RenderPlan, Renderer, SendError, Sink, WriterPlan};
use crate::actors::options::DriverOptions;
use crate::actors::runtime::queue::Entry;
use crate::actors::runtime::settings;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, MarkMode, Positive};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use crate::template::OutputFormat;

/// The `pseudofile()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PseudofileDestination {
    /// The file to write, including the path (positional, required; not a template).
    #[serde(rename = "0:path")]
    pub path: String,
    /// The template of what is written. Required (syslog-ng 3.38 refuses to start without).
    #[serde(default)]
    pub template: Option<String>,
    /// Name of the driver's persistent state. Default: derived from the path.
    #[serde(default)]
    pub persist_name: Option<String>,
    /// Messages waiting to be written (syslog-ng has no queue here and ignores it; sluice
    /// hands messages to a queue of this size). Must be positive. Default: the global
    /// `log-fifo-size()`.
    #[serde(default)]
    pub log_fifo_size: Option<Positive>,
    /// Maximum messages per second; 0 is unlimited (syslog-ng 3.38 ignores it, sluice
    /// honours it). Default: 0.
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

// ---------------------------------------------------------------------------------------
// Runtime.

/// What a `pseudofile()` destination needs to run. It has no writer options, so its
/// [`WriterPlan`] is built here: its template, no flags, no suppression, internal() MARKs
/// passed and none made.
#[derive(Debug, Clone)]
pub struct PseudofileDestPlan {
    pub path: PathBuf,
    pub writer: WriterPlan,
    /// `persist-name()`.
    pub persist_name: Option<String>,
}

impl crate::actors::runtime::driver::DestinationDriver for PseudofileDestPlan {
    fn persist_name(&self, _driver_id: &str) -> String {
        match &self.persist_name {
            Some(p) => format!("pseudofile.{p}"),
            None => format!("pseudofile({})", self.path.display()),
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    fn start(&self, cx: crate::actors::runtime::driver::DestStart<'_>) {
        let sink = PseudofileSink::new(self.clone(), cx.driver_id);
        crate::actors::destinations::writer::start(cx.arbiter, sink, cx.writer, cx.done);
    }
}

/// The span of a call's first positional argument (the path), else of the call.
fn path_span(call: &Node) -> crate::config::Span {
    match call {
        Node::Call { args, .. } => args
            .iter()
            .find(|a| !matches!(a, Node::Call { .. }))
            .map_or(call.span(), Node::span),
        other => other.span(),
    }
}

/// Plans a `pseudofile()` call (the registry's entry for it).
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn crate::actors::runtime::driver::DestinationDriver>, Diagnostic> {
    let o = PseudofileDestinationOptions::from_call(call)?;
    Ok(Box::new(plan_pseudofile(&o, call, globals, env)?))
}

/// Derives the plan of a `pseudofile()` call, refusing what syslog-ng 3.38 refuses.
pub fn plan_pseudofile(
    o: &PseudofileDestinationOptions,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<PseudofileDestPlan, Diagnostic> {
    let p = &o.pseudofile;
    if let Err(e) = std::fs::metadata(&p.path) {
        let e = os_error(&e);
        let e = e.rsplit_once(" (").map_or(e.as_str(), |(text, _)| text);
        return Err(Diagnostic::new(
            format!("File \"{}\" not found: {e}", p.path),
            path_span(call),
        ));
    }
    let Some(template) = &p.template else {
        return Err(Diagnostic::new(
            "The template() option for pseudofile() is mandatory",
            call.span(),
        ));
    };
    let w = WriterOptions {
        template: Some(template.clone()),
        ..WriterOptions::default()
    };
    let render = RenderPlan::from_options(
        &w,
        settings::template_options(&o.template, globals),
        OutputFormat::File,
        None,
        call,
        env,
    )?;
    let secs = |v: Option<Positive>, global: Positive| u64::from(v.unwrap_or(global).get());
    Ok(PseudofileDestPlan {
        path: PathBuf::from(&p.path),
        persist_name: p.persist_name.clone(),
        writer: WriterPlan {
            render,
            batch_lines: MAX_BATCH,
            time_reopen: std::time::Duration::from_secs(secs(p.time_reopen, globals.time_reopen)),
            fifo_size: p.log_fifo_size.unwrap_or(globals.log_fifo_size).get() as usize,
            throttle: p.throttle,
            suppress: None,
            mark: MarkPlan::new(MarkMode::Internal, None, globals),
            ignore_errors: false,
            disk: None,
        },
    })
}

/// The message as syslog-ng quotes it in an error: the first 30 bytes, `...` when longer,
/// control bytes as `\xNN`.
fn preview(msg: &[u8]) -> String {
    let mut s = String::new();
    for &b in msg.iter().take(30) {
        if b < 0x20 || b == 0x7f {
            s.push_str(&format!("\\x{b:02x}"));
        } else {
            s.push(b as char);
        }
    }
    if msg.len() > 30 {
        s.push_str("...");
    }
    s
}

/// The sink of one `pseudofile()` destination driver.
pub struct PseudofileSink {
    pub plan: PseudofileDestPlan,
    /// syslog-ng's driver id (`d#0`), named in its error messages.
    driver_id: String,
    out: Vec<u8>,
}

impl PseudofileSink {
    pub fn new(plan: PseudofileDestPlan, driver_id: &str) -> PseudofileSink {
        PseudofileSink {
            plan,
            driver_id: driver_id.to_string(),
            out: Vec::with_capacity(4096),
        }
    }

    /// One message: open, write, close, with syslog-ng's error messages.
    fn write_one(&self) -> std::io::Result<()> {
        let path = self.plan.path.display();
        let log = |what: &str, e: Option<&std::io::Error>| match e {
            Some(e) => tracing::error!(pseudofile = %path, driver = %self.driver_id,
                error = %os_error(e), message = %preview(&self.out), "{what}"),
            None => tracing::error!(pseudofile = %path, driver = %self.driver_id,
                message = %preview(&self.out), "{what}"),
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(&self.plan.path)
            .inspect_err(|e| log("Error opening pseudo file", Some(e)))?;
        match f.write(&self.out) {
            Ok(n) if n == self.out.len() => Ok(()),
            Ok(_) => {
                log(
                    "Partial write to pseudofile, probably the output is too much for the \
                     kernel to consume",
                    None,
                );
                Err(std::io::ErrorKind::WriteZero.into())
            }
            Err(e) => {
                log("Error writing to pseudo file", Some(&e));
                Err(e)
            }
        }
    }
}

impl Sink for PseudofileSink {
    fn describe(&self) -> String {
        format!("pseudofile('{}')", self.plan.path.display())
    }

    fn is_open(&self) -> bool {
        true
    }

    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError> {
        for (i, e) in batch.iter().enumerate() {
            self.out.clear();
            r.render(&e.msg, &mut self.out);
            if let Err(error) = self.write_one() {
                return Err(SendError { written: i, error });
            }
        }
        Ok(())
    }

    async fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::destinations::pipe::testing::{entry, planned_as, renderer};
    use crate::actors::registry::testing::{check, err};
    use crate::config::global_options::TsFormat;

    fn messages(driver: &str) -> Vec<String> {
        match planned_as::<PseudofileDestPlan>(driver) {
            Err(ds) => ds.into_iter().map(|d| d.message).collect(),
            Ok(_) => Vec::new(),
        }
    }

    #[test]
    fn refuses_a_missing_file_and_a_missing_template_as_syslog_ng() {
        assert_eq!(
            messages(r#"pseudofile("/nonexistent/x" template("$MSG\n"))"#),
            vec![r#"File "/nonexistent/x" not found: No such file or directory"#]
        );
        assert_eq!(
            messages(r#"pseudofile("/dev/null")"#),
            vec!["The template() option for pseudofile() is mandatory"]
        );
    }

    #[test]
    fn quotes_the_message_as_syslog_ng() {
        assert_eq!(preview(b"m1\n"), "m1\\x0a");
        assert_eq!(
            preview(b"a rather long message that exceeds thirty chars\n"),
            "a rather long message that exc..."
        );
    }

    #[tokio::test]
    async fn each_message_overwrites_the_start_of_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::write(&path, "XXXXXXXXXXXXXXXXXXXX\n").expect("file");
        let p = match planned_as::<PseudofileDestPlan>(&format!(
            r#"pseudofile("{}" template("$MSG\n") time-reopen(5) log-fifo-size(7))"#,
            path.display()
        )) {
            Ok(p) => p,
            other => panic!("not planned: {other:?}"),
        };
        assert_eq!(p.writer.fifo_size, 7);
        assert_eq!(p.writer.time_reopen.as_secs(), 5);
        let mut r = renderer(&p.writer);
        let mut sink = PseudofileSink::new(p, "d#0");
        let res = sink.send(&[entry("hello-one"), entry("m2")], &mut r).await;
        assert!(res.is_ok(), "{res:?}");
        // What syslog-ng 3.38 leaves in the file after the same two messages.
        assert_eq!(
            std::fs::read_to_string(&path).ok().as_deref(),
            Some("m2\nlo-one\nXXXXXXXXXX\n")
        );
        std::fs::remove_file(&path).expect("rm");
        let e = sink.send(&[entry("m3")], &mut r).await.err();
        assert_eq!(e.map(|e| e.written), Some(0));
        assert!(!path.exists(), "never created");
    }

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
