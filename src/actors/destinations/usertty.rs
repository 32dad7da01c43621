//! The `usertty()` destination: write messages to the terminals of a logged-in user (`*` for
//! every user), as Debian's default configuration does for emergencies.
//!
//! Option set checked against syslog-ng 3.38: the user (positional, required) and
//! `time-reopen()`; nothing else (no template, no queue options).
//!
//! What syslog-ng 3.38 (`modules/afuser/afuser.c`) does, and sluice with it
//! (tests/golden/usertty holds what it wrote to a pseudo-terminal and to plain files):
//!
//! * for every message it reads the utmp file (`/var/run/utmp`, through `getutxent()`) and
//!   writes to the terminal of each `USER_PROCESS` record of the user (`ut_user` compared as
//!   `strncmp(user, ut_user, 32)`; `*` matches every session): `ut_line` under `/dev/` unless
//!   it starts with `/`, opened `O_WRONLY|O_APPEND|O_NOCTTY|O_NONBLOCK`, one `write()`, closed;
//! * the text is fixed: `STAMP HOST MESSAGE\n`, STAMP the message's own time in its own zone
//!   as `ts-format(full)` without fractions (`2024 Mar  5 10:11:12`), HOST and MESSAGE as
//!   they are (each up to a NUL byte, as `%s` prints them); the whole is cut to 8191 bytes,
//!   newline included (a longer message reaches the terminal without its newline). A
//!   terminal turns the `\n` into `\r\n` itself;
//! * a terminal that cannot be opened is logged (`Opening tty device failed, disabling
//!   usertty() for time-reopen seconds`) and so is a write that would block; either way the
//!   driver writes nothing, to anyone, for messages received in the next `time-reopen()`
//!   seconds (the message in hand still goes to the user's other terminals). Other write
//!   errors and short writes are ignored;
//! * a user who is not logged in gets nothing, silently; an unreadable utmp file is a user
//!   nobody is logged in as.
//!
//! Where sluice differs: syslog-ng writes in the thread of the source that routed the
//! message (no queue); sluice queues it and writes on the destination's own thread, so
//! the global `log-fifo-size()` bounds that queue, and the utmp file is read once per batch
//! of messages the writer takes (syslog-ng: per message). The utmp file is
//! `/var/run/utmp` unless the environment variable `SLUICE_UTMP` names another one (read
//! when the configuration is planned; the tests use it, since glibc's path is fixed).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::pipe::os_error;
use super::writer::{MAX_BATCH, MarkPlan, RenderPlan, Renderer, SendError, Sink, WriterPlan};
use crate::actors::options::DriverOptions;
use crate::actors::runtime::driver::{DestStart, DestinationDriver};
use crate::actors::runtime::queue::Entry;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, MarkMode, Positive};
use crate::driver_options;
use crate::message::{Builtin, LogMessage};
use crate::pipeline::BuildEnv;
use crate::template::{OutputFormat, TsFormat};

mod utmp;

/// glibc's utmp file, which `getutxent()` reads.
const UTMP_PATH: &str = "/var/run/utmp";
/// The environment variable naming another utmp file.
const UTMP_ENV: &str = "SLUICE_UTMP";
/// syslog-ng formats the line into a `gchar buf[8192]` with `g_snprintf`.
const LINE_MAX: usize = 8191;

/// The `usertty()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct UserttyDestination {
    /// The user whose terminals receive the messages, or `*` for every logged-in user
    /// (positional, required).
    #[serde(rename = "0:user")]
    pub user: String,
    /// Seconds to write nothing after a terminal could not be opened or written without
    /// blocking. Must be positive. Default: the global `time-reopen()` (60).
    #[serde(default)]
    pub time_reopen: Option<Positive>,
}

driver_options! {
    /// Options of the `usertty()` destination.
    pub struct UserttyDestinationOptions {
        pub usertty: UserttyDestination,
    }
}

// ---------------------------------------------------------------------------------------
// Runtime.

/// What a `usertty()` destination needs to run. It has no writer options: its
/// [`WriterPlan`] has no template (the text is fixed), no suppression, internal() MARKs
/// passed (syslog-ng has no writer to drop them) and none made.
#[derive(Debug, Clone)]
pub struct UserttyDestPlan {
    pub user: String,
    /// The utmp file read for the user's terminals.
    pub utmp: PathBuf,
    pub writer: WriterPlan,
}

impl DestinationDriver for UserttyDestPlan {
    fn persist_name(&self, _driver_id: &str) -> String {
        // syslog-ng keeps nothing for usertty(); this only matches it across reloads.
        format!("usertty({})", self.user)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    fn start(&self, cx: DestStart<'_>) {
        let sink = UserttySink::new(self.clone());
        super::writer::start(cx.arbiter, sink, cx.writer, cx.done);
    }
}

/// Plans a `usertty()` call (the registry's entry for it).
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    _env: &BuildEnv<'_>,
) -> Result<Box<dyn DestinationDriver>, Diagnostic> {
    let o = UserttyDestinationOptions::from_call(call)?;
    let time_reopen = o.usertty.time_reopen.unwrap_or(globals.time_reopen).get();
    let utmp = std::env::var_os(UTMP_ENV).map_or_else(|| PathBuf::from(UTMP_PATH), PathBuf::from);
    Ok(Box::new(UserttyDestPlan {
        user: o.usertty.user,
        utmp,
        writer: WriterPlan {
            render: RenderPlan {
                template: None,
                format: OutputFormat::File,
                flags: Default::default(),
                options: Default::default(),
                truncate_size: None,
                pad_size: None,
            },
            batch_lines: MAX_BATCH,
            time_reopen: Duration::from_secs(u64::from(time_reopen)),
            fifo_size: globals.log_fifo_size.get() as usize,
            throttle: 0,
            suppress: None,
            mark: MarkPlan::new(MarkMode::Internal, None, globals),
            ignore_errors: false,
            disk: None,
        },
    }))
}

/// The text syslog-ng writes to a terminal for `msg` (see the module doc).
pub(crate) fn tty_line(msg: &LogMessage, out: &mut Vec<u8>) {
    let start = out.len();
    crate::template::date::push_stamp(out, &msg.stamp, msg.stamp.gmtoff, TsFormat::Full, 0);
    for b in [Builtin::Host, Builtin::Message] {
        out.push(b' ');
        out.extend_from_slice(utmp::c_str(msg.get_builtin(b).unwrap_or(&[])));
    }
    out.push(b'\n');
    out.truncate(start + LINE_MAX);
}

/// The sink of one `usertty()` destination driver.
pub struct UserttySink {
    plan: UserttyDestPlan,
    /// Received-time second before which nothing is written (syslog-ng's `disable_until`,
    /// compared with each message's `$R_UNIXTIME`); 0: not disabled.
    disable_until: i64,
    line: Vec<u8>,
}

impl UserttySink {
    pub fn new(plan: UserttyDestPlan) -> UserttySink {
        UserttySink {
            plan,
            disable_until: 0,
            line: Vec::with_capacity(1024),
        }
    }

    /// Writes one message to every terminal of the user in `records`.
    fn post(&mut self, msg: &LogMessage, records: &[utmp::Record]) {
        let now = msg.recvd.sec;
        if self.disable_until != 0 && self.disable_until > now {
            return;
        }
        self.line.clear();
        tty_line(msg, &mut self.line);
        let reopen = self.plan.writer.time_reopen.as_secs();
        let user = self.plan.user.as_bytes();
        for r in records.iter().filter(|r| r.matches(user)) {
            let device = r.device();
            tracing::debug!(user = %r.user_tag(), line = %device.display(),
                "Posting message to user terminal");
            let mut f = match std::fs::OpenOptions::new()
                .append(true)
                .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
                .open(&device)
            {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(user = %r.user_tag(), line = %device.display(),
                        time_reopen = reopen, errno = %os_error(&e),
                        "Opening tty device failed, disabling usertty() for time-reopen seconds");
                    self.disable_until = now.saturating_add_unsigned(reopen);
                    continue;
                }
            };
            if let Err(e) = f.write(&self.line)
                && e.kind() == std::io::ErrorKind::WouldBlock
            {
                tracing::info!(user = %self.plan.user, time_reopen = reopen,
                    "Writing to the user terminal has blocked for writing, disabling for \
                     time-reopen seconds");
                self.disable_until = now.saturating_add_unsigned(reopen);
            }
        }
    }
}

impl Sink for UserttySink {
    fn describe(&self) -> String {
        format!("usertty('{}')", self.plan.user)
    }

    fn is_open(&self) -> bool {
        true
    }

    /// Never fails: what syslog-ng could not write it does not write later either.
    async fn send(&mut self, batch: &[Entry], _r: &mut Renderer) -> Result<(), SendError> {
        let records = utmp::read(&self.plan.utmp);
        for e in batch {
            self.post(&e.msg, &records);
        }
        Ok(())
    }

    async fn close(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::destinations::pipe::testing::{planned_as, renderer};
    use crate::actors::destinations::writer::test_entry;
    use crate::actors::registry::testing::{check, err};
    use crate::message::UnixTime;

    #[test]
    fn options() {
        let o: UserttyDestinationOptions = check(r#"usertty("root")"#);
        assert_eq!(o.usertty.user, "root");
        assert_eq!(o.usertty.time_reopen, None);
        let o: UserttyDestinationOptions = check(r#"usertty("*" time-reopen(10))"#);
        assert_eq!(o.usertty.time_reopen.map(|n| n.get()), Some(10));
        let e = err::<UserttyDestinationOptions>(r#"usertty("root" time-reopn(1))"#);
        assert_eq!(e.notes, vec!["did you mean `time-reopen`?"]);
        err::<UserttyDestinationOptions>(r#"usertty("root" template("x"))"#);
        err::<UserttyDestinationOptions>("usertty()");
        err::<UserttyDestinationOptions>(r#"usertty("a" "b")"#);
    }

    fn message(recvd: i64, host: &[u8], text: &[u8]) -> LogMessage {
        let mut m = LogMessage::new(UnixTime::new(recvd, 0, 0));
        m.stamp = UnixTime::new(1_709_626_272, 345_000, 7200);
        m.set_builtin(Builtin::Host, host);
        m.set_builtin(Builtin::Message, text);
        m
    }

    #[test]
    fn the_line_is_syslog_ngs() {
        let mut out = Vec::new();
        tty_line(&message(0, b"web1", b"hello usertty"), &mut out);
        assert_eq!(out, b"2024 Mar  5 10:11:12 web1 hello usertty\n");
        out.clear();
        tty_line(&message(0, b"h\0idden", b"cut\0here"), &mut out);
        assert_eq!(out, b"2024 Mar  5 10:11:12 h cut\n");
        out.clear();
        tty_line(&message(0, b"h", &[b'L'; 9000]), &mut out);
        assert_eq!(out.len(), LINE_MAX);
        assert_eq!(out.last(), Some(&b'L'));
    }

    fn plan_with(utmp_file: &std::path::Path, user: &str) -> UserttyDestPlan {
        let mut p =
            match planned_as::<UserttyDestPlan>(&format!(r#"usertty("{user}" time-reopen(30))"#)) {
                Ok(p) => p,
                other => panic!("not planned: {other:?}"),
            };
        assert_eq!(p.writer.time_reopen.as_secs(), 30);
        p.utmp = utmp_file.to_path_buf();
        p
    }

    #[tokio::test]
    async fn writes_to_each_session_and_pauses_after_a_failure() {
        let dir = tempfile::Builder::new()
            .prefix("ut")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::write(&a, "").expect("a");
        std::fs::write(&b, "").expect("b");
        let utmp_file = dir.path().join("utmp");
        let mut bytes = utmp::record(utmp::USER_PROCESS, "alice", &a.to_string_lossy());
        bytes.extend(utmp::record(8, "alice", &b.to_string_lossy()));
        bytes.extend(utmp::record(
            utmp::USER_PROCESS,
            "bob",
            &b.to_string_lossy(),
        ));
        std::fs::write(&utmp_file, &bytes).expect("utmp");
        let p = plan_with(&utmp_file, "alice");
        let mut r = renderer(&p.writer);
        let mut sink = UserttySink::new(p);
        let batch = [
            test_entry(message(100, b"h", b"one")),
            test_entry(message(100, b"h", b"two")),
        ];
        assert!(sink.send(&batch, &mut r).await.is_ok());
        let want = "2024 Mar  5 10:11:12 h one\n2024 Mar  5 10:11:12 h two\n";
        assert_eq!(std::fs::read_to_string(&a).ok().as_deref(), Some(want));
        assert_eq!(std::fs::read_to_string(&b).ok().as_deref(), Some(""));

        // A session on a terminal that cannot be opened: nothing more for 30 seconds of
        // received time, then writing again.
        bytes.extend(utmp::record(
            utmp::USER_PROCESS,
            "alice",
            "/nonexistent/tty",
        ));
        std::fs::write(&utmp_file, &bytes).expect("utmp");
        let batch = [
            test_entry(message(200, b"h", b"three")),
            test_entry(message(229, b"h", b"dropped")),
            test_entry(message(230, b"h", b"four")),
        ];
        assert!(sink.send(&batch, &mut r).await.is_ok());
        let got = std::fs::read_to_string(&a).unwrap_or_default();
        assert_eq!(
            got.strip_prefix(want),
            Some("2024 Mar  5 10:11:12 h three\n2024 Mar  5 10:11:12 h four\n")
        );
    }
}
