//! syslog-ng's three debug flags — verbose, debug, trace — set by `-v -d -t` and switched
//! at run time by `syslog-ng-ctl verbose|debug|trace --set=on|off`. They decide the level
//! of the daemon's own log (stderr and `internal()`): trace shows everything, debug down to
//! debug messages, otherwise info (sluice's notices and verbose messages are both `info`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::{Registry, reload};

use crate::control::LogFlag;

struct Flags {
    verbose: AtomicBool,
    debug: AtomicBool,
    trace: AtomicBool,
    filter: reload::Handle<LevelFilter, Registry>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

impl Flags {
    fn flag(&self, f: LogFlag) -> &AtomicBool {
        match f {
            LogFlag::Verbose => &self.verbose,
            LogFlag::Debug => &self.debug,
            LogFlag::Trace => &self.trace,
        }
    }

    fn level(&self) -> LevelFilter {
        if self.trace.load(Ordering::Acquire) {
            LevelFilter::TRACE
        } else if self.debug.load(Ordering::Acquire) {
            LevelFilter::DEBUG
        } else {
            LevelFilter::INFO
        }
    }
}

/// The filter the log subscriber is built with, for the flags given on the command line.
pub(super) fn install(
    verbose: bool,
    debug: bool,
    trace: bool,
) -> reload::Layer<LevelFilter, Registry> {
    let (layer, filter) = reload::Layer::new(LevelFilter::INFO);
    let flags = Flags {
        verbose: AtomicBool::new(verbose),
        debug: AtomicBool::new(debug),
        trace: AtomicBool::new(trace),
        filter,
    };
    let level = flags.level();
    let _ = flags.filter.modify(|f| *f = level);
    let _ = FLAGS.set(flags);
    layer
}

/// Sets a flag (when `on` is given) and returns its value, as `LOG VERBOSE ON` answers
/// `OK VERBOSE=1`.
pub(super) fn set(flag: LogFlag, on: Option<bool>) -> bool {
    let Some(flags) = FLAGS.get() else {
        return false;
    };
    if let Some(on) = on
        && flags.flag(flag).swap(on, Ordering::AcqRel) != on
    {
        tracing::info!(r#type = flag.word(), on = u8::from(on), "Verbosity changed");
        let level = flags.level();
        let _ = flags.filter.modify(|f| *f = level);
    }
    flags.flag(flag).load(Ordering::Acquire)
}
