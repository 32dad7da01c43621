//! Template options (`ts-format()`, `frac-digits()`, `time-zone()`, `on-error()`...) and the
//! per-render context.
//!
//! Plain structs on purpose: the config layer owns the syntax and the runtime maps a
//! destination's (or the global) options onto [`TemplateOptions`] once, at start-up or reload.
//! `template-escape()` is not here: syslog-ng fixes it when the template is compiled (it is a
//! property of the compiled template), so it is [`super::CompileEnv::escape`].

use std::sync::Arc;
use std::time::Instant;

use crate::message::{LocalHost, UnixTime, ZoneSpec};

/// `ts-format()`: how `$STAMP`, `$R_STAMP`... and the default file format print a stamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TsFormat {
    /// `rfc3164` / `bsd` (the default): `Oct 11 22:14:15`.
    #[default]
    Bsd,
    /// `rfc3339` / `iso`: `2003-10-11T22:14:15+00:00`.
    Iso,
    /// `full`: `2003 Oct 11 22:14:15`.
    Full,
    /// `unix` / `utc`: seconds since the epoch.
    Unix,
}

impl TsFormat {
    /// Parses a `ts-format()` value as syslog-ng does; `None` for an unknown word (syslog-ng
    /// logs an error and falls back to `rfc3164`, the config layer decides).
    pub fn parse(s: &str) -> Option<TsFormat> {
        Some(match s {
            "rfc3164" | "bsd" => TsFormat::Bsd,
            "rfc3339" | "iso" => TsFormat::Iso,
            "full" => TsFormat::Full,
            "unix" | "utc" => TsFormat::Unix,
            _ => return None,
        })
    }
}

/// `on-error()`: what a failed type cast (`int(abc)` in `$(format-json)`) does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// `drop-message` (the default): the function's whole output is dropped.
    #[default]
    DropMessage,
    /// `drop-property`: only the failing key is left out.
    DropProperty,
    /// `fallback-to-string`: the value is written as a string.
    FallbackToString,
}

impl OnError {
    /// Parses an `on-error()` value; the `silently-` prefix only silences the log line, which
    /// is the runtime's concern, so it is accepted and ignored here.
    pub fn parse(s: &str) -> Option<OnError> {
        let s = s.strip_prefix("silently-").unwrap_or(s);
        Some(match s {
            "drop-message" => OnError::DropMessage,
            "drop-property" => OnError::DropProperty,
            "fallback-to-string" => OnError::FallbackToString,
            _ => return None,
        })
    }
}

/// The template options of one destination (or the global ones), as syslog-ng's
/// `LogTemplateOptions`.
#[derive(Clone, Debug)]
pub struct TemplateOptions {
    /// `ts-format()`.
    pub ts_format: TsFormat,
    /// `frac-digits()`; values above 6 print 6 digits (syslog-ng keeps microseconds only).
    pub frac_digits: u8,
    /// `time-zone()` of the destination (or the global `send-time-zone()`): stamps are
    /// converted to it; `None` keeps each stamp's own offset.
    pub time_zone: Option<ZoneSpec>,
    /// `on-error()`.
    pub on_error: OnError,
    /// `use-fqdn()`: `$LOGHOST` prints the fully qualified name.
    pub use_fqdn: bool,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions {
            ts_format: TsFormat::Bsd,
            frac_digits: 0,
            time_zone: None,
            on_error: OnError::DropMessage,
            use_fqdn: false,
        }
    }
}

impl TemplateOptions {
    /// The offset a stamp is shown in: the destination's zone at that instant, or the
    /// stamp's own.
    pub fn offset_for(&self, t: &UnixTime) -> i32 {
        match &self.time_zone {
            Some(z) => z.offset_at(t.sec),
            None => t.gmtoff,
        }
    }
}

/// What the daemon knows about itself that some macros print: `$LOGHOST`, `$RUNID`,
/// `$HOSTID`, `$SYSUPTIME`. One per process (or per reload), shared by every render.
#[derive(Clone, Debug)]
pub struct DaemonInfo {
    /// This machine's names.
    pub local_host: LocalHost,
    /// `$RUNID`: how many times the daemon started with this persist file.
    pub run_id: u32,
    /// `$HOSTID`: a random id kept in the persist file (printed as 8 hex digits).
    pub host_id: u32,
    /// When the daemon started (`$SYSUPTIME` counts hundredths of a second since).
    pub started: Instant,
    /// Local time zone: the offset `$C_*`/`$P_*` (the current time) are shown in.
    pub local_zone: jiff::tz::TimeZone,
}

impl Default for DaemonInfo {
    fn default() -> Self {
        DaemonInfo {
            local_host: LocalHost::new("localhost"),
            run_id: 1,
            host_id: 0,
            started: Instant::now(),
            local_zone: jiff::tz::TimeZone::system(),
        }
    }
}

/// Everything a render needs besides the message: the options, the sequence number, the
/// correlation context id and the daemon facts. Built by the caller per batch (it is a few
/// references); rendering never allocates for it.
#[derive(Clone, Copy, Debug)]
pub struct RenderContext<'a> {
    /// The template options in force.
    pub options: &'a TemplateOptions,
    /// `$SEQNUM` (see [`super::formats::seq_num_for`]); 0 prints nothing.
    pub seq_num: u32,
    /// `$CONTEXT_ID` of a correlation context, when rendering one.
    pub context_id: Option<&'a [u8]>,
    /// Daemon-wide facts.
    pub daemon: &'a DaemonInfo,
    /// `$1`..`$9`: the match groups of the last regexp match (set by the filter layer).
    pub matches: Option<&'a [&'a [u8]]>,
}

impl<'a> RenderContext<'a> {
    /// A context with the given options and daemon facts, sequence number 0.
    pub fn new(options: &'a TemplateOptions, daemon: &'a DaemonInfo) -> Self {
        RenderContext {
            options,
            seq_num: 0,
            context_id: None,
            daemon,
            matches: None,
        }
    }

    /// The same context with another sequence number.
    pub fn with_seq_num(mut self, seq_num: u32) -> Self {
        self.seq_num = seq_num;
        self
    }
}

/// A shared, default [`DaemonInfo`] for callers that have none (tests, tools).
pub fn default_daemon_info() -> Arc<DaemonInfo> {
    Arc::new(DaemonInfo::default())
}
