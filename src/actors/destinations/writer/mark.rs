//! `mark-mode()` and `mark-freq()` of a destination: when it writes `-- MARK --` on its own,
//! and whether it passes the MARKs the `internal()` source generates.
//!
//! syslog-ng 3.38 (checked by running it): `internal` passes internal()'s MARKs (which that
//! source emits every global `mark-freq()`); `dst-idle` writes one when the destination
//! wrote nothing for `mark-freq()` seconds; `host-idle` when no *non-local* message (one
//! that did not come from a local source such as `unix-dgram()` or `internal()`) went to it
//! for that long — that is what `log_writer_queue()` in 3.38 does, and a network capture
//! agrees: local messages arriving every 0.4 s do not hold back the MARKs of a
//! `mark-freq(1)` destination, a relayed one does; `periodical` every `mark-freq()` seconds
//! from the start; `none` never. The idle modes start their timer only with the first
//! message that postpones it (3.38 arms them in `log_writer_queue()`, `periodical` at init):
//! a `network()` destination with the default host-idle mode sends no MARK before it relayed
//! something. Every mode but `internal` drops internal()'s MARKs. A MARK the writer makes
//! has priority syslog.info (46), HOST the local host, no PROGRAM, PID, tags or SOURCE; it
//! is not written while the destination is not open. `global` takes the global
//! `mark-mode()`; with `internal` the global `mark-freq()` applies whatever the driver says.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::global_options::{GlobalMarkMode, GlobalOptions, MarkMode};
use crate::message::{Builtin, LogMessage, MsgFlags, UnixTime};

/// A destination's mark settings, `global` resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkPlan {
    pub mode: MarkMode,
    /// `None`: the writer never makes a MARK itself (`mark-freq(0)`, or a mode without).
    pub every: Option<Duration>,
}

impl MarkPlan {
    /// Resolves a driver's `mark-mode()`/`mark-freq()` against the globals.
    pub fn new(mode: MarkMode, freq: Option<u32>, globals: &GlobalOptions) -> MarkPlan {
        let mode = match mode {
            MarkMode::Global => match globals.mark_mode {
                GlobalMarkMode::Internal => MarkMode::Internal,
                GlobalMarkMode::DstIdle => MarkMode::DstIdle,
                GlobalMarkMode::HostIdle => MarkMode::HostIdle,
                GlobalMarkMode::Periodical => MarkMode::Periodical,
                GlobalMarkMode::None => MarkMode::None,
            },
            m => m,
        };
        let freq = freq.unwrap_or(globals.mark_freq);
        let every = match mode {
            MarkMode::DstIdle | MarkMode::HostIdle | MarkMode::Periodical if freq > 0 => {
                Some(Duration::from_secs(u64::from(freq)))
            }
            _ => None,
        };
        MarkPlan { mode, every }
    }

    /// Whether a message from internal() flagged MARK goes through.
    pub fn passes_internal_mark(&self) -> bool {
        self.mode == MarkMode::Internal
    }
}

/// The writer's mark timer.
pub struct MarkTimer {
    plan: MarkPlan,
    next: Option<Instant>,
}

impl MarkTimer {
    pub fn new(plan: MarkPlan, now: Instant) -> MarkTimer {
        let next = match plan.mode {
            MarkMode::Periodical => plan.every.map(|d| now + d),
            _ => None,
        };
        MarkTimer { plan, next }
    }

    /// When the next MARK is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.next
    }

    /// Messages were written; `relayed` whether any of them was not local.
    pub fn on_written(&mut self, relayed: bool, now: Instant) {
        let Some(every) = self.plan.every else { return };
        match self.plan.mode {
            MarkMode::DstIdle => self.next = Some(now + every),
            MarkMode::HostIdle if relayed => self.next = Some(now + every),
            _ => {}
        }
    }

    /// Whether a MARK is due at `now`; if so the timer moves on.
    pub fn due(&mut self, now: Instant) -> bool {
        match (self.next, self.plan.every) {
            (Some(at), Some(every)) if now >= at => {
                self.next = Some(now + every);
                true
            }
            _ => false,
        }
    }
}

/// A `-- MARK --` message as syslog-ng makes it.
pub fn mark_message(local_host: &Arc<str>) -> LogMessage {
    let tz = jiff::tz::TimeZone::system();
    let mut m = LogMessage::new(UnixTime::now(&tz));
    m.pri = 5 * 8 + 6;
    m.flags.set(MsgFlags::LOCAL);
    m.flags.set(MsgFlags::MARK);
    m.flags.set(MsgFlags::INTERNAL);
    m.nv.set_builtin(Builtin::Host, local_host.as_bytes());
    m.nv.set_builtin(Builtin::Message, b"-- MARK --");
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globals(mode: GlobalMarkMode, freq: u32) -> GlobalOptions {
        GlobalOptions {
            mark_mode: mode,
            mark_freq: freq,
            ..GlobalOptions::default()
        }
    }

    #[test]
    fn modes_resolve_and_schedule() {
        let g = globals(GlobalMarkMode::HostIdle, 1200);
        let p = MarkPlan::new(MarkMode::Global, Some(5), &g);
        assert_eq!(p.mode, MarkMode::HostIdle);
        assert_eq!(p.every, Some(Duration::from_secs(5)));
        assert!(!p.passes_internal_mark());
        let p = MarkPlan::new(MarkMode::Internal, Some(5), &g);
        assert_eq!(p.every, None);
        assert!(p.passes_internal_mark());
        assert_eq!(MarkPlan::new(MarkMode::Periodical, Some(0), &g).every, None);
        assert_eq!(
            MarkPlan::new(
                MarkMode::Periodical,
                None,
                &globals(GlobalMarkMode::None, 7)
            )
            .every,
            Some(Duration::from_secs(7))
        );

        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut dst = MarkTimer::new(MarkPlan::new(MarkMode::DstIdle, Some(1), &g), t0);
        assert_eq!(
            dst.deadline(),
            None,
            "idle modes wait for the first message"
        );
        assert!(!dst.due(t0 + s * 5));
        dst.on_written(false, t0 + s / 2);
        assert!(!dst.due(t0 + s));
        assert!(dst.due(t0 + s * 2));
        let mut host = MarkTimer::new(MarkPlan::new(MarkMode::HostIdle, Some(1), &g), t0);
        host.on_written(false, t0 + s / 2);
        assert!(
            !host.due(t0 + s * 5),
            "local traffic does not arm host-idle"
        );
        host.on_written(true, t0 + s * 5);
        assert!(!host.due(t0 + s * 5 + s / 2));
        assert!(host.due(t0 + s * 6));
        host.on_written(false, t0 + s * 6 + s / 2);
        assert!(
            host.due(t0 + s * 7),
            "local traffic does not postpone host-idle"
        );
        let mut per = MarkTimer::new(MarkPlan::new(MarkMode::Periodical, Some(1), &g), t0);
        per.on_written(true, t0 + s / 2);
        assert!(per.due(t0 + s));
    }
}
