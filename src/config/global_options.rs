//! The top-level `options { ... };` statement, and the value types it shares with drivers.
//!
//! Every option syslog-ng 3.38 accepts in `options {}` is a field here, with syslog-ng's own
//! default. Drivers that say "default: use the global setting" keep an `Option` and fall back
//! to these values at runtime. The value types (`ts-format()`, `mark-mode()`, `use-dns()`,
//! `on-error()`, `owner()`/`perm()`) live here rather than with the drivers because `config`
//! must not depend on the runtime, and drivers reuse them.
//!
//! Checked against syslog-ng 3.38.1 (`syslog-ng -s`): every field name, every alias, the value
//! forms, and which values it rejects. Where syslog-ng only logs an error and goes on (an
//! unknown `ts-format()`), sluice rejects the value: it is always a typo.

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::num::NonZeroU32;

/// Timestamp format of `ts-format()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TsFormat {
    /// `Feb  1 12:34:56` (RFC 3164, the BSD syslog format). syslog-ng's default.
    #[default]
    Rfc3164,
    /// Same as `rfc3164`.
    Bsd,
    /// `2024-02-01T12:34:56+01:00` (RFC 3339 / ISO 8601).
    Rfc3339,
    /// Same as `rfc3339`.
    Iso,
    /// Seconds since the epoch, with `frac-digits()` fraction digits.
    Unix,
}

/// When a destination emits `-- MARK --` messages (`mark-mode()` on a destination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkMode {
    /// Only pass on the MARKs the `internal()` source generates.
    Internal,
    /// A MARK when the destination has had no traffic for `mark-freq()` seconds.
    DstIdle,
    /// A MARK when no local message arrived for `mark-freq()` seconds.
    HostIdle,
    /// A MARK every `mark-freq()` seconds, regardless of traffic.
    Periodical,
    /// Drop every MARK.
    None,
    /// Use the global `mark-mode()`.
    Global,
}

/// The global `mark-mode()`: like [`MarkMode`] without `global` (syslog-ng rejects
/// `options { mark-mode(global); }` with "illegal global mark-mode").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GlobalMarkMode {
    Internal,
    DstIdle,
    /// syslog-ng's global default.
    #[default]
    HostIdle,
    Periodical,
    None,
}

/// What a template does when a value cannot be cast to the requested type (`on-error()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Drop the whole message (syslog-ng's default), logging an error.
    #[default]
    DropMessage,
    /// Omit the offending property, logging an error.
    DropProperty,
    /// Keep the value as a string, logging an error.
    FallbackToString,
    SilentlyDropMessage,
    SilentlyDropProperty,
    SilentlyFallbackToString,
}

/// `use-dns()`: `yes`, `no` or `persist-only` (resolve from the `dns-cache-hosts()` file only).
/// syslog-ng also takes a number (non-zero is yes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UseDns {
    #[default]
    Yes,
    No,
    PersistOnly,
}

impl<'de> Deserialize<'de> for UseDns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UseDns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("yes, no or persist-only")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<UseDns, E> {
                Ok(if v { UseDns::Yes } else { UseDns::No })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UseDns, E> {
                self.visit_bool(v > 0)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UseDns, E> {
                self.visit_bool(v > 0)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UseDns, E> {
                match v.replace('_', "-").as_str() {
                    "yes" | "on" => Ok(UseDns::Yes),
                    "no" | "off" => Ok(UseDns::No),
                    "persist-only" => Ok(UseDns::PersistOnly),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `owner()`, `group()`, `dir-owner()`, `dir-group()`: a user or group name or numeric id;
/// written empty (`owner()`) it means "do not change".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOwner {
    Unchanged,
    Name(String),
    Id(i64),
}

impl<'de> Deserialize<'de> for FileOwner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FileOwner;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a user or group name, a numeric id, or nothing")
            }
            fn visit_unit<E: de::Error>(self) -> Result<FileOwner, E> {
                Ok(FileOwner::Unchanged)
            }
            fn visit_none<E: de::Error>(self) -> Result<FileOwner, E> {
                Ok(FileOwner::Unchanged)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<FileOwner, D::Error> {
                FileOwner::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FileOwner, A::Error> {
                match seq.next_element::<FileOwner>()? {
                    None => Ok(FileOwner::Unchanged),
                    Some(v) => match seq.next_element::<de::IgnoredAny>()? {
                        None => Ok(v),
                        Some(_) => Err(de::Error::invalid_length(2, &self)),
                    },
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FileOwner, E> {
                Ok(FileOwner::Id(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FileOwner, E> {
                i64::try_from(v)
                    .map(FileOwner::Id)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileOwner, E> {
                Ok(FileOwner::Name(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `perm()` and `dir-perm()`: a numeric mode (`0644` is octal, as in C); written empty
/// (`perm()`) it means "do not change". syslog-ng rejects a quoted mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    Unchanged,
    Mode(u32),
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FileMode;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a numeric file mode such as 0644, or nothing")
            }
            fn visit_unit<E: de::Error>(self) -> Result<FileMode, E> {
                Ok(FileMode::Unchanged)
            }
            fn visit_none<E: de::Error>(self) -> Result<FileMode, E> {
                Ok(FileMode::Unchanged)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<FileMode, D::Error> {
                FileMode::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FileMode, A::Error> {
                match seq.next_element::<FileMode>()? {
                    None => Ok(FileMode::Unchanged),
                    Some(v) => match seq.next_element::<de::IgnoredAny>()? {
                        None => Ok(v),
                        Some(_) => Err(de::Error::invalid_length(2, &self)),
                    },
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FileMode, E> {
                match u32::try_from(v) {
                    Ok(m) if m <= 0o7777 => Ok(FileMode::Mode(m)),
                    _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FileMode, E> {
                match u64::try_from(v) {
                    Ok(u) => self.visit_u64(u),
                    // syslog-ng's "-1" is its internal "do not change" marker.
                    Err(_) if v == -1 => Ok(FileMode::Unchanged),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A positive count (syslog-ng's `positive_integer`): zero is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Positive(NonZeroU32);

impl Positive {
    /// `None` for 0.
    pub const fn new(v: u32) -> Option<Positive> {
        match NonZeroU32::new(v) {
            Some(n) => Some(Positive(n)),
            None => None,
        }
    }

    pub const fn get(self) -> u32 {
        self.0.get()
    }
}

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u32::deserialize(d)?;
        Positive::new(v).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Unsigned(0), &"a positive whole number")
        })
    }
}

/// A positive constant, for defaults (0 becomes 1).
pub const fn nz(v: u32) -> Positive {
    match NonZeroU32::new(v) {
        Some(n) => Positive(n),
        None => Positive(NonZeroU32::MIN),
    }
}

/// `true`, for `#[serde(default = ...)]`.
pub fn yes() -> bool {
    true
}
fn default_dns_cache_size() -> Positive {
    nz(1007)
}
fn default_dns_cache_expire() -> Positive {
    nz(3600)
}
fn default_dns_cache_expire_failed() -> Positive {
    nz(60)
}
fn default_stats_freq() -> u32 {
    600
}
fn default_stats_lifetime() -> Positive {
    nz(600)
}
fn default_mark_freq() -> u32 {
    1200
}
fn default_flush_lines() -> u32 {
    100
}
fn default_log_fifo_size() -> Positive {
    nz(10000)
}
fn default_log_msg_size() -> Positive {
    nz(65536)
}
fn default_time_reopen() -> Positive {
    nz(60)
}
fn default_time_reap() -> u32 {
    60
}
fn default_min_iw_size_per_reader() -> Positive {
    nz(100)
}
fn root() -> FileOwner {
    FileOwner::Id(0)
}
fn default_perm() -> FileMode {
    FileMode::Mode(0o600)
}
fn default_dir_perm() -> FileMode {
    FileMode::Mode(0o700)
}

/// The merged `options { ... };` statements. Field names are syslog-ng's (kebab-case;
/// `_` and `-` are the same), defaults are syslog-ng 3.38's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GlobalOptions {
    // --- hostnames and name resolution ---
    /// Append the names of the hosts a message passed through to its HOST (`host/relay`).
    /// Obsolete alias: `long-hostnames()`. Default: no.
    #[serde(default, alias = "long-hostnames")]
    pub chain_hostnames: bool,
    /// Keep the hostname in the message instead of replacing it with the sender's name.
    /// Default: no.
    #[serde(default)]
    pub keep_hostname: bool,
    /// Check that the hostname in a message contains only valid characters. Default: no.
    #[serde(default)]
    pub check_hostname: bool,
    /// A regular expression; hostnames it matches are not used. Default: none.
    #[serde(default)]
    pub bad_hostname: Option<String>,
    /// Resolve the sender's IP address to a name: yes, no, or persist-only (only from the
    /// `dns-cache-hosts()` file). Default: yes.
    #[serde(default)]
    pub use_dns: UseDns,
    /// Use fully qualified domain names. Default: no.
    #[serde(default)]
    pub use_fqdn: bool,
    /// Convert hostnames to lowercase. Default: no.
    #[serde(default)]
    pub normalize_hostnames: bool,
    /// Cache DNS lookups. Default: yes.
    #[serde(default = "yes")]
    pub dns_cache: bool,
    /// Number of cached DNS entries. Must be positive. Default: 1007.
    #[serde(default = "default_dns_cache_size")]
    pub dns_cache_size: Positive,
    /// Seconds a successful lookup stays cached. Must be positive. Default: 3600.
    #[serde(default = "default_dns_cache_expire")]
    pub dns_cache_expire: Positive,
    /// Seconds a failed lookup stays cached. Must be positive. Default: 60.
    #[serde(default = "default_dns_cache_expire_failed")]
    pub dns_cache_expire_failed: Positive,
    /// A hosts-format file whose entries are used before DNS (and never expire). Default: none.
    #[serde(default)]
    pub dns_cache_hosts: Option<String>,
    /// Domain name appended to short hostnames with `use-fqdn()`. Default: none.
    #[serde(default)]
    pub custom_domain: Option<String>,

    // --- statistics ---
    /// Seconds between two STATS messages on `internal()`; 0 disables them. Obsolete alias
    /// `stats()` (in 3.38 `stats(N)` is this option). Default: 600.
    #[serde(default = "default_stats_freq", alias = "stats")]
    pub stats_freq: u32,
    /// Detail of the statistics: 0 (per driver) to 3 (per host, program...). Default: 0.
    #[serde(default)]
    pub stats_level: u32,
    /// Seconds a dynamic counter is kept after its last change. Must be positive.
    /// Default: 600.
    #[serde(default = "default_stats_lifetime")]
    pub stats_lifetime: Positive,
    /// Maximum number of dynamic counters (per host, program...); none means unlimited.
    /// Default: unlimited.
    #[serde(default)]
    pub stats_max_dynamics: Option<u32>,

    // --- MARK messages ---
    /// Seconds between two MARK messages; 0 disables them. Obsolete alias `mark()`.
    /// Default: 1200.
    #[serde(default = "default_mark_freq", alias = "mark")]
    pub mark_freq: u32,
    /// When MARK messages are sent (`global` is not allowed here). Default: host-idle.
    #[serde(default)]
    pub mark_mode: GlobalMarkMode,

    // --- queues, sizes, timers ---
    /// Lines a destination sends in one batch. Obsolete aliases `sync()`, `sync-freq()`.
    /// Default: 100.
    #[serde(default = "default_flush_lines", alias = "sync", alias = "sync-freq")]
    pub flush_lines: u32,
    /// Obsolete and ignored by syslog-ng 3.38 (use `batch-timeout()` on the destination).
    #[serde(default)]
    pub flush_timeout: Option<Positive>,
    /// Messages a destination's output queue holds. Must be positive. Default: 10000.
    #[serde(default = "default_log_fifo_size")]
    pub log_fifo_size: Positive,
    /// Maximum length of an incoming message in bytes. Must be positive. Default: 65536.
    #[serde(default = "default_log_msg_size")]
    pub log_msg_size: Positive,
    /// Truncate messages longer than `log-msg-size()` instead of splitting or dropping them.
    /// Default: no.
    #[serde(default)]
    pub trim_large_messages: bool,
    /// Removed as a global option: syslog-ng 3.38 accepts it with a warning and ignores it
    /// (use the per-source `log-iw-size()`).
    #[serde(default)]
    pub log_iw_size: Option<Positive>,
    /// Removed as a global option: syslog-ng 3.38 accepts it with a warning and ignores it
    /// (use the per-source `log-fetch-limit()`).
    #[serde(default)]
    pub log_fetch_limit: Option<Positive>,
    /// Smallest per-connection window a network source hands out when it divides
    /// `log-iw-size()` by `max-connections()`. Must be positive. Default: 100.
    #[serde(default = "default_min_iw_size_per_reader")]
    pub min_iw_size_per_reader: Positive,
    /// Seconds to wait before reopening a dead connection or file. Must be positive.
    /// Default: 60.
    #[serde(default = "default_time_reopen")]
    pub time_reopen: Positive,
    /// Seconds after which an idle destination file (with a templated name) is closed.
    /// Default: 60.
    #[serde(default = "default_time_reap")]
    pub time_reap: u32,
    /// Obsolete (deprecated in syslog-ng), accepted and ignored.
    #[serde(default)]
    pub time_sleep: Option<u32>,
    /// Seconds to wait for identical messages before sending "Last message repeated n times";
    /// 0 disables it. Default: 0.
    #[serde(default)]
    pub suppress: u32,
    /// Use multiple threads. Default: yes.
    #[serde(default = "yes")]
    pub threaded: bool,
    /// Generate a unique id (`$UNIQID`) for every message. Obsolete alias `use-rcptid()`.
    /// Default: no.
    #[serde(default, alias = "use-rcptid")]
    pub use_uniqid: bool,
    /// Deprecated since 3.35 (use `so-passcred()` on the source): read the sender's
    /// credentials on UNIX sockets. Default: yes.
    #[serde(default = "yes")]
    pub pass_unix_credentials: bool,

    // --- files ---
    /// Create missing directories of destination files. Default: no.
    #[serde(default)]
    pub create_dirs: bool,
    /// Owner of created files. Default: root.
    #[serde(default = "root")]
    pub owner: FileOwner,
    /// Group of created files. Default: root.
    #[serde(default = "root")]
    pub group: FileOwner,
    /// Permissions of created files. Default: 0600.
    #[serde(default = "default_perm")]
    pub perm: FileMode,
    /// Owner of created directories. Default: root.
    #[serde(default = "root")]
    pub dir_owner: FileOwner,
    /// Group of created directories. Default: root.
    #[serde(default = "root")]
    pub dir_group: FileOwner,
    /// Permissions of created directories. Default: 0700.
    #[serde(default = "default_dir_perm")]
    pub dir_perm: FileMode,

    // --- timestamps and templates ---
    /// Use the timestamp the message carries; with no, the time it was received. Default: yes.
    #[serde(default = "yes")]
    pub keep_timestamp: bool,
    /// Timestamp format destinations use. Default: rfc3164.
    #[serde(default)]
    pub ts_format: TsFormat,
    /// Digits of fractional seconds in timestamps. Default: 0.
    #[serde(default)]
    pub frac_digits: u32,
    /// Time zone timestamps are converted to on output (same as `send-time-zone()`).
    /// Default: the local time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Time zone timestamps are converted to on output. Default: the local time zone.
    #[serde(default)]
    pub send_time_zone: Option<String>,
    /// Time zone assumed for incoming timestamps that carry none. Default: the local time zone.
    #[serde(default)]
    pub recv_time_zone: Option<String>,
    /// Time zone of the `$LOCAL` macros (the local time). Default: the system's.
    #[serde(default)]
    pub local_time_zone: Option<String>,
    /// What templates do with a value that cannot be cast. Default: drop-message.
    #[serde(default)]
    pub on_error: OnError,
    /// Name of the template file destinations use by default. Default: none.
    #[serde(default)]
    pub file_template: Option<String>,
    /// Name of the template network destinations use by default. Default: none.
    #[serde(default)]
    pub proto_template: Option<String>,

    // --- plugins ---
    /// Defaults of every `disk-buffer()`: `disk-buffer(truncate-size-ratio(0.1))`.
    #[serde(default)]
    pub disk_buffer: GlobalDiskBuffer,
}

/// The global `disk-buffer()` option: defaults for every disk-buffer that does not set them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GlobalDiskBuffer {
    /// Shrink a disk-buffer file only when at least this fraction of `disk-buf-size()` would
    /// be freed (0 to 1). Default: 0.1.
    #[serde(default = "default_truncate_size_ratio")]
    pub truncate_size_ratio: f64,
}

impl Default for GlobalDiskBuffer {
    fn default() -> Self {
        GlobalDiskBuffer {
            truncate_size_ratio: default_truncate_size_ratio(),
        }
    }
}

/// `truncate-size-ratio()` default of syslog-ng 3.33 to 3.38 (4.0 changed it to 1).
pub fn default_truncate_size_ratio() -> f64 {
    0.1
}

impl Default for GlobalOptions {
    fn default() -> Self {
        GlobalOptions {
            chain_hostnames: false,
            keep_hostname: false,
            check_hostname: false,
            bad_hostname: None,
            use_dns: UseDns::Yes,
            use_fqdn: false,
            normalize_hostnames: false,
            dns_cache: true,
            dns_cache_size: default_dns_cache_size(),
            dns_cache_expire: default_dns_cache_expire(),
            dns_cache_expire_failed: default_dns_cache_expire_failed(),
            dns_cache_hosts: None,
            custom_domain: None,
            stats_freq: default_stats_freq(),
            stats_level: 0,
            stats_lifetime: default_stats_lifetime(),
            stats_max_dynamics: None,
            mark_freq: default_mark_freq(),
            mark_mode: GlobalMarkMode::HostIdle,
            flush_lines: default_flush_lines(),
            flush_timeout: None,
            log_fifo_size: default_log_fifo_size(),
            log_msg_size: default_log_msg_size(),
            trim_large_messages: false,
            log_iw_size: None,
            log_fetch_limit: None,
            min_iw_size_per_reader: default_min_iw_size_per_reader(),
            time_reopen: default_time_reopen(),
            time_reap: default_time_reap(),
            time_sleep: None,
            suppress: 0,
            threaded: true,
            use_uniqid: false,
            pass_unix_credentials: true,
            create_dirs: false,
            owner: root(),
            group: root(),
            perm: default_perm(),
            dir_owner: root(),
            dir_group: root(),
            dir_perm: default_dir_perm(),
            keep_timestamp: true,
            ts_format: TsFormat::Rfc3164,
            frac_digits: 0,
            time_zone: None,
            send_time_zone: None,
            recv_time_zone: None,
            local_time_zone: None,
            on_error: OnError::DropMessage,
            file_template: None,
            proto_template: None,
            disk_buffer: GlobalDiskBuffer::default(),
        }
    }
}
