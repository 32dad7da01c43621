//! Option groups shared by destination drivers, `disk-buffer()` and `value-pairs()`.
//!
//! See [`crate::actors::options`] for how groups and a driver's own options are read
//! together. The groups follow syslog-ng's grammar: [`DestDriverOptions`] is
//! `dest_driver_option` (with the `disk-buffer()` and `hook-commands()` plugins),
//! [`WriterOptions`] is `dest_writer_option` without `mark-mode()` (whose default differs per
//! driver), and [`TemplateOptions`] is `template_option`. `None` means "the global option".

use serde::Deserialize;

use crate::actors::options::HookCommands;
use crate::config::de::Repeated;
use crate::config::global_options::{OnError, Positive, TsFormat};

/// The options of every queued destination: syslog-ng's `dest_driver_option`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct DestDriverOptions {
    /// Name under which the destination keeps its state (its disk-buffer file, Python
    /// `Persist` data) across reloads; needed when two destinations would get the same name.
    /// Default: derived from the driver and its key options.
    #[serde(default)]
    pub persist_name: Option<String>,
    /// External programs run at the driver's lifecycle points. Default: none.
    #[serde(default)]
    pub hook_commands: Option<HookCommands>,
    /// Messages the destination's memory queue holds before new ones are dropped (or, with
    /// `flags(flow-control)`, the sources stop). Must be positive. Default: the global
    /// `log-fifo-size()` (10000).
    #[serde(default)]
    pub log_fifo_size: Option<Positive>,
    /// Maximum messages per second sent to the destination; 0 is unlimited. Default: 0.
    #[serde(default)]
    pub throttle: u32,
    /// Keep the queue on disk. Default: none (a memory queue).
    #[serde(default)]
    pub disk_buffer: Option<DiskBuffer>,
}

/// A destination writer flag (`flags()` of file, pipe, program, network and socket
/// destinations), as syslog-ng 3.38 knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestFlag {
    /// Format messages as RFC 5424 (without the octet-count frame).
    SyslogProtocol,
    /// Replace line breaks in messages with spaces.
    NoMultiLine,
    /// Write in a thread of its own.
    Threaded,
    /// Drop a message that cannot be written instead of retrying.
    IgnoreErrors,
}

/// How a destination writes messages: syslog-ng's `dest_writer_option`, except `mark-mode()`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct WriterOptions {
    /// Writer flags. Default: none. (syslog-ng 3.38 logs and ignores an unknown flag; sluice
    /// rejects it.)
    #[serde(default)]
    pub flags: Vec<DestFlag>,
    /// Messages written in one batch (sent when this many are ready or the queue is empty).
    /// Obsolete aliases `sync()`, `sync-freq()`. Default: the global `flush-lines()` (100).
    #[serde(default, alias = "sync", alias = "sync-freq")]
    pub flush_lines: Option<u32>,
    /// Obsolete and ignored by syslog-ng 3.38.
    #[serde(default)]
    pub flush_timeout: Option<Positive>,
    /// Seconds to wait for identical messages before writing "Last message repeated n
    /// times"; 0 disables it. Default: the global `suppress()` (0).
    #[serde(default)]
    pub suppress: Option<u32>,
    /// The template of what is written: an inline template or the name of a `template`
    /// object. Default: the driver's format (the global `file-template()` or
    /// `proto-template()` when set).
    #[serde(default)]
    pub template: Option<String>,
    /// Escape `'`, `"` and backslash in macro values of an inline template. Default: no.
    #[serde(default)]
    pub template_escape: bool,
    /// Pad every message to this many bytes; 0 disables padding. Default: 0.
    #[serde(default)]
    pub pad_size: u32,
    /// Truncate messages longer than this many bytes. Default: none.
    #[serde(default)]
    pub truncate_size: Option<u32>,
    /// Seconds between two MARK messages with the `periodical`, `dst-idle` and `host-idle`
    /// mark modes; 0 disables them. Obsolete alias `mark()`. Default: the global
    /// `mark-freq()` (1200).
    #[serde(default, alias = "mark")]
    pub mark_freq: Option<u32>,
    /// Seconds to wait before reopening the destination after an error. Must be positive.
    /// Default: the global `time-reopen()` (60).
    #[serde(default)]
    pub time_reopen: Option<Positive>,
}

/// How timestamps and typed values are rendered: syslog-ng's `template_option`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct TemplateOptions {
    /// Timestamp format of the message header and the date macros. Default: the global
    /// `ts-format()` (rfc3164).
    #[serde(default)]
    pub ts_format: Option<TsFormat>,
    /// Digits of fractional seconds in timestamps (at most 6 are meaningful). Default: the
    /// global `frac-digits()` (0).
    #[serde(default)]
    pub frac_digits: Option<u32>,
    /// Convert timestamps to this time zone (a name such as `Europe/Budapest` or an offset
    /// such as `+01:00`); same as `send-time-zone()`. Default: the global `send-time-zone()`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Same as `time-zone()`.
    #[serde(default)]
    pub send_time_zone: Option<String>,
    /// Time zone of the `$LOCAL` macros. Default: the global `local-time-zone()`.
    #[serde(default)]
    pub local_time_zone: Option<String>,
    /// What templates do with a value that cannot be cast. Default: the global `on-error()`
    /// (drop-message).
    #[serde(default)]
    pub on_error: Option<OnError>,
}

fn default_qout_size() -> u32 {
    1000
}

/// `disk-buffer()`: a queue kept on disk, so messages survive restarts and long outages.
///
/// The option names are syslog-ng 3.38's; AxoSyslog's later names (`capacity-bytes()`,
/// `front-cache-size()`, `flow-control-window-size()`, `flow-control-window-bytes()`) and
/// its `prealloc()` are accepted too, so configs written for AxoSyslog load.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DiskBuffer {
    /// With yes, every message is on disk before it is acknowledged and nothing is lost on a
    /// crash; with no, a memory part in front of the disk is faster. Default: no.
    #[serde(default)]
    pub reliable: bool,
    /// Maximum size of the disk-buffer file in bytes (required). Values below 1 MiB
    /// (1048576) are raised to 1 MiB. AxoSyslog alias `capacity-bytes()`.
    #[serde(alias = "capacity-bytes")]
    pub disk_buf_size: u64,
    /// Directory of the disk-buffer file. Default: sluice's state directory.
    #[serde(default)]
    pub dir: Option<String>,
    /// Bytes of messages kept in memory in front of a reliable disk-buffer; ignored when
    /// `reliable(no)`. AxoSyslog alias `flow-control-window-bytes()`. Default: 163840000.
    #[serde(default, alias = "flow-control-window-bytes")]
    pub mem_buf_size: Option<u64>,
    /// Messages kept in memory in front of a non-reliable disk-buffer; ignored when
    /// `reliable(yes)`. AxoSyslog alias `flow-control-window-size()`. Default: the
    /// destination's `log-fifo-size()`, else the global one.
    #[serde(default, alias = "flow-control-window-size")]
    pub mem_buf_length: Option<u32>,
    /// Messages kept in memory at the output end of the disk-buffer (both modes; syslog-ng
    /// 3.34 raised it from 64). AxoSyslog alias `front-cache-size()`. Default: 1000.
    #[serde(default = "default_qout_size", alias = "front-cache-size")]
    pub qout_size: u32,
    /// Drop unset name-value pairs from messages before writing them to disk. Default: no.
    #[serde(default)]
    pub compaction: bool,
    /// Shrink the file only when at least this fraction of `disk-buf-size()` would be freed
    /// (0 to 1). Default: the global `disk-buffer(truncate-size-ratio())` (0.1).
    #[serde(default)]
    pub truncate_size_ratio: Option<f64>,
    /// Reserve the whole `disk-buf-size()` on disk when the file is created (AxoSyslog 4.0;
    /// syslog-ng 3.38 does not have it). Default: no.
    #[serde(default)]
    pub prealloc: bool,
}

/// `mem-buf-size()` default of a reliable disk-buffer.
pub const DEFAULT_MEM_BUF_SIZE: u64 = 163_840_000;

/// `value-pairs()`: which name-value pairs a structured destination sends.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ValuePairs {
    /// Predefined sets of pairs to include. Default: selected-macros and nv-pairs.
    #[serde(default)]
    pub scope: Vec<VpScope>,
    /// Glob patterns of pairs to include, whatever the scope.
    #[serde(default)]
    pub key: Vec<String>,
    /// Glob patterns of pairs to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Extra pairs: `pair("name" "template")` or with a type, `pair("n" int32("$PID"))`,
    /// one per occurrence.
    #[serde(default)]
    pub pair: Repeated<(String, TypedTemplate)>,
    /// Renamings of the selected pairs, one per occurrence.
    #[serde(default = "no_rekey")]
    pub rekey: Repeated<Rekey>,
    /// Send values as strings instead of their types. Default: no.
    #[serde(default)]
    pub cast: Option<bool>,
}

/// A template, optionally with a type hint as syslog-ng writes one (`int32("$PID")`),
/// held in the form `$(format-json)` takes it: `"$PID"` or `int32($PID)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypedTemplate(pub String);

impl<'de> Deserialize<'de> for TypedTemplate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = TypedTemplate;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a template, or a type hint around one (int32(\"$PID\"))")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TypedTemplate, E> {
                Ok(TypedTemplate(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TypedTemplate, E> {
                Ok(TypedTemplate(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<TypedTemplate, E> {
                Ok(TypedTemplate(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TypedTemplate, A::Error> {
                let Some((hint, value)) = map.next_entry::<String, String>()? else {
                    return Err(serde::de::Error::custom("expected a template"));
                };
                if crate::template::TypeHint::parse(&hint).is_none() {
                    return Err(serde::de::Error::custom(format!(
                        "Unknown type specified in type hinting: {hint}"
                    )));
                }
                if map.next_key::<String>()?.is_some() {
                    return Err(serde::de::Error::custom("expected one type hint"));
                }
                Ok(TypedTemplate(format!("{hint}({value})")))
            }
        }
        d.deserialize_any(V)
    }
}

fn no_rekey() -> Repeated<Rekey> {
    Repeated(Vec::new())
}

/// A `scope()` of `value-pairs()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VpScope {
    NvPairs,
    DotNvPairs,
    AllNvPairs,
    Rfc3164,
    Core,
    Base,
    Rfc5424,
    SyslogProto,
    SelectedMacros,
    AllMacros,
    Sdata,
    Everything,
}

impl VpScope {
    /// The name as written in a configuration (and in `$(format-json --scope ...)`).
    pub fn name(self) -> &'static str {
        match self {
            VpScope::NvPairs => "nv-pairs",
            VpScope::DotNvPairs => "dot-nv-pairs",
            VpScope::AllNvPairs => "all-nv-pairs",
            VpScope::Rfc3164 => "rfc3164",
            VpScope::Core => "core",
            VpScope::Base => "base",
            VpScope::Rfc5424 => "rfc5424",
            VpScope::SyslogProto => "syslog-proto",
            VpScope::SelectedMacros => "selected-macros",
            VpScope::AllMacros => "all-macros",
            VpScope::Sdata => "sdata",
            VpScope::Everything => "everything",
        }
    }
}

/// `rekey("glob" ...)`: transformations of the names matching a glob.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Rekey {
    /// The names to transform (a glob pattern).
    #[serde(rename = "0:pattern")]
    pub pattern: String,
    /// Remove this many characters from the start of the name.
    #[serde(default)]
    pub shift: Option<u32>,
    /// Remove this many dot-separated levels from the start of the name.
    #[serde(default)]
    pub shift_levels: Option<u32>,
    /// Prepend this prefix.
    #[serde(default)]
    pub add_prefix: Option<String>,
    /// Replace a prefix: `replace-prefix("old" "new")`.
    #[serde(default)]
    pub replace_prefix: Option<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check_de as check, err_de as err};

    #[test]
    fn disk_buffer() {
        let d: DiskBuffer = check("disk-buffer(disk-buf-size(2000000))");
        assert!(!d.reliable && !d.compaction);
        assert_eq!(d.qout_size, 1000);
        assert_eq!(d.mem_buf_size, None);
        assert_eq!(d.truncate_size_ratio, None);
        let d: DiskBuffer = check(
            r#"disk-buffer(reliable(yes) dir("/var/lib/sluice") disk-buf-size(1073741824)
                mem-buf-size(10000) compaction(yes) truncate-size-ratio(0.5))"#,
        );
        assert!(d.reliable && d.compaction);
        assert_eq!(d.disk_buf_size, 1 << 30);
        assert_eq!(d.truncate_size_ratio, Some(0.5));
        let e = err::<DiskBuffer>("disk-buffer(reliable(yes))");
        assert!(e.message.contains("disk-buf-size"), "{}", e.message);
        let e = err::<DiskBuffer>("disk-buffer(disk-buf-size(1) mem-buf-lenght(10))");
        assert_eq!(e.notes, vec!["did you mean `mem-buf-length`?"]);
        err::<DiskBuffer>("disk-buffer(disk-buf-size(-1))");
        // AxoSyslog's names.
        let d: DiskBuffer = check(
            "disk-buffer(capacity-bytes(2000000) front-cache-size(10) prealloc(yes)
                flow-control-window-size(5))",
        );
        assert_eq!((d.disk_buf_size, d.qout_size), (2000000, 10));
        assert_eq!(d.mem_buf_length, Some(5));
        assert!(d.prealloc);
    }

    #[test]
    fn value_pairs() {
        let v: ValuePairs = check(
            r#"value-pairs(scope(rfc5424 nv-pairs) key("app.*") exclude("R_*")
                pair("host" "$HOST") pair("n" "1") rekey(".app.*" shift(1) add-prefix("x")))"#,
        );
        assert_eq!(v.scope, vec![VpScope::Rfc5424, VpScope::NvPairs]);
        assert_eq!(v.pair.0.len(), 2);
        assert_eq!(v.rekey.0[0].shift, Some(1));
        let v: ValuePairs = check(r#"value-pairs(pair("n" int32("$PID")) pair("m" 5))"#);
        assert_eq!(v.pair.0[0].1, TypedTemplate("int32($PID)".into()));
        assert_eq!(v.pair.0[1].1, TypedTemplate("5".into()));
        let e = err::<ValuePairs>(r#"value-pairs(pair("n" bogus("x")))"#);
        assert!(e.message.contains("bogus"), "{}", e.message);
        let e = err::<ValuePairs>("value-pairs(scope(rfc9999))");
        assert_eq!(e.message, "unknown value `rfc9999`");
    }
}
