//! `suppress()`: identical messages in a row are written once, followed by "Last message
//! '...' repeated N times".
//!
//! syslog-ng 3.38's rules (checked by running it): two messages are identical when MESSAGE,
//! HOST, PROGRAM and PID are (the priority does not matter, MARKs never are); a run lasts at
//! most `suppress()` seconds from its first message's receipt; when the run ends — a different
//! message, or the timer `suppress()` seconds after the first repetition — the summary is
//! written: `Last message '<first 20 bytes>' repeated N times, suppressed by syslog-ng on
//! <local FQDN>`, with the run's priority, HOST and PROGRAM, the daemon's PID, the time of the
//! flush, no tags and no SOURCE. Suppressed messages are acknowledged at once and counted.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::message::{Builtin, LogMessage, MsgFlags, UnixTime};

/// The suppression state of one destination.
pub struct Suppressor {
    window: Duration,
    last: Option<Arc<LogMessage>>,
    count: u32,
    /// When the summary of the current run is due (set at the first repetition).
    deadline: Option<Instant>,
    local_fqdn: Arc<str>,
    pid: Vec<u8>,
}

fn same(a: &LogMessage, b: &LogMessage) -> bool {
    [
        Builtin::Message,
        Builtin::Host,
        Builtin::Program,
        Builtin::Pid,
    ]
    .iter()
    .all(|&f| a.get_builtin(f).unwrap_or(b"") == b.get_builtin(f).unwrap_or(b""))
}

impl Suppressor {
    pub fn new(window: Duration, local_fqdn: Arc<str>) -> Suppressor {
        Suppressor {
            window,
            last: None,
            count: 0,
            deadline: None,
            local_fqdn,
            pid: std::process::id().to_string().into_bytes(),
        }
    }

    /// When [`Suppressor::expire`] must be called.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Looks at the next message to write: `None` when it is a repetition (suppressed: the
    /// caller drops it, which acknowledges it); otherwise the summary of the run it ends, if
    /// any, to write before it.
    pub fn check(&mut self, msg: &Arc<LogMessage>, now: Instant) -> Check {
        if let Some(last) = &self.last {
            let within = last.recvd.sec >= msg.recvd.sec - self.window.as_secs() as i64;
            if within && !msg.flags.has(MsgFlags::MARK) && same(last, msg) {
                self.count += 1;
                if self.count == 1 {
                    self.deadline = Some(now + self.window);
                }
                return Check::Suppressed;
            }
        }
        let summary = self.summary().map(Box::new);
        self.last = Some(msg.clone());
        Check::Write(summary)
    }

    /// The timer fired: the run ends; returns its summary.
    pub fn expire(&mut self) -> Option<LogMessage> {
        let s = self.summary();
        self.last = None;
        s
    }

    fn summary(&mut self) -> Option<LogMessage> {
        self.deadline = None;
        let count = std::mem::take(&mut self.count);
        let last = self.last.as_ref()?;
        if count == 0 {
            return None;
        }
        let text = last.message();
        let head = &text[..text.len().min(20)];
        let mut body = Vec::with_capacity(96);
        body.extend_from_slice(b"Last message '");
        body.extend_from_slice(head);
        body.extend_from_slice(
            format!(
                "' repeated {count} times, suppressed by syslog-ng on {}",
                self.local_fqdn
            )
            .as_bytes(),
        );
        let tz = jiff::tz::TimeZone::system();
        let mut m = LogMessage::new(UnixTime::now(&tz));
        m.pri = last.pri;
        m.flags.set(MsgFlags::LOCAL);
        for f in [Builtin::Host, Builtin::Program] {
            if let Some(v) = last.get_builtin(f) {
                m.nv.set_builtin(f, v);
            }
        }
        m.nv.set_builtin(Builtin::Pid, &self.pid);
        m.nv.set_builtin(Builtin::Message, &body);
        Some(m)
    }
}

/// What [`Suppressor::check`] decided.
pub enum Check {
    Suppressed,
    /// Write the message, after the summary of the run it ended, if any.
    Write(Option<Box<LogMessage>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str, host: &str, pid: &str, secs: i64) -> Arc<LogMessage> {
        let mut m = LogMessage::new(UnixTime::default());
        m.recvd.sec = secs;
        m.pri = 13;
        m.nv.set_builtin(Builtin::Message, text.as_bytes());
        m.nv.set_builtin(Builtin::Host, host.as_bytes());
        m.nv.set_builtin(Builtin::Program, b"app");
        m.nv.set_builtin(Builtin::Pid, pid.as_bytes());
        Arc::new(m)
    }

    fn text(m: &LogMessage) -> String {
        String::from_utf8_lossy(m.message()).into_owned()
    }

    #[test]
    fn a_run_of_identical_messages_becomes_one_and_a_summary() {
        let mut s = Suppressor::new(Duration::from_secs(2), Arc::from("vm.example"));
        let now = Instant::now();
        let long = "a very long message text beyond twenty";
        assert!(matches!(
            s.check(&msg(long, "h", "1", 100), now),
            Check::Write(None)
        ));
        assert!(matches!(
            s.check(&msg(long, "h", "1", 101), now),
            Check::Suppressed
        ));
        assert_eq!(s.deadline(), Some(now + Duration::from_secs(2)));
        assert!(matches!(
            s.check(&msg(long, "h", "1", 102), now),
            Check::Suppressed
        ));
        // A different PID ends the run.
        let Check::Write(Some(sum)) = s.check(&msg(long, "h", "2", 102), now) else {
            panic!("expected a summary");
        };
        assert_eq!(
            text(&sum),
            "Last message 'a very long message ' repeated 2 times, suppressed by syslog-ng on vm.example"
        );
        assert_eq!(sum.pri, 13);
        assert_eq!(sum.get_builtin(Builtin::Program), Some(&b"app"[..]));
        assert_eq!(s.deadline(), None);
        // Beyond the window from the run's first message, it is a new message.
        assert!(matches!(
            s.check(&msg(long, "h", "2", 105), now),
            Check::Write(None)
        ));
        assert!(matches!(
            s.check(&msg(long, "h", "2", 105), now),
            Check::Suppressed
        ));
        let sum = s.expire();
        assert!(sum.is_some_and(|m| text(&m).contains("repeated 1 times")));
        // After the timer the same text starts a new run.
        assert!(matches!(
            s.check(&msg(long, "h", "2", 105), now),
            Check::Write(None)
        ));
        assert!(s.expire().is_none());
    }
}
