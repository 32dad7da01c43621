//! Option groups shared by source drivers (the groups every driver shares, and the
//! [`driver_options!`](crate::driver_options) macro, are in `actors::options`).
//!
//! syslog-ng's grammar composes a driver's options from shared rules: every source takes
//! `log-iw-size()`, `tags()`, `keep-hostname()`...; every reader-based source takes `flags()`,
//! `log-fetch-limit()`.... serde's `flatten` cannot be combined with unknown-option errors, so
//! (as `config::de` recommends) each group is a struct of its own, without
//! `deny_unknown_fields`, and a driver's options are its own struct plus the groups it takes,
//! all read from the same call by [`de::from_call_groups`]: an option that no part declares is
//! reported once, with suggestions from all of them. [`driver_options!`] declares the
//! driver's composite struct and its `from_call`.
//!
//! Options whose default differs between drivers (`log-iw-size()`, `mark-mode()`) are never in
//! a group: each driver declares them with its own default. In groups, `None` means "the
//! global option" unless the field says otherwise.

use serde::Deserialize;

use crate::config::global_options::{Positive, UseDns, nz, yes};

pub use crate::actors::options::{
    DriverOptions, FilePermOptions, HookCommands, fields_of, option_node, option_span,
};

/// `persist-name()` and `hook-commands()`, which every source driver except `internal()`
/// takes (syslog-ng's `source_driver_option`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct SourceDriverOptions {
    /// Name under which the driver keeps its state (file positions, bookmarks) across reloads
    /// and restarts; needed when two drivers would otherwise get the same name. Default:
    /// derived from the driver and its key options.
    #[serde(default)]
    pub persist_name: Option<String>,
    /// External programs run when the driver starts up, shuts down, is set up or torn down.
    /// Default: none.
    #[serde(default)]
    pub hook_commands: Option<HookCommands>,
}

/// The options every source takes (syslog-ng's `source_option`: LogSourceOptions and host
/// resolution), except `log-iw-size()`, whose default differs per driver.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SourceOptions {
    /// Append the names of the hosts a message passed through to HOST. Obsolete alias
    /// `long-hostnames()`. Default: the global `chain-hostnames()` (no).
    #[serde(default, alias = "long-hostnames")]
    pub chain_hostnames: Option<bool>,
    /// Keep the hostname in the message instead of the sender's name. Default: the global
    /// `keep-hostname()` (no).
    #[serde(default)]
    pub keep_hostname: Option<bool>,
    /// Replace the PROGRAM field of every message with this string. Default: none.
    #[serde(default)]
    pub program_override: Option<String>,
    /// Replace the HOST field of every message with this string. Default: none.
    #[serde(default)]
    pub host_override: Option<String>,
    /// Obsolete form of `program-override()`: the text up to its last `:` becomes PROGRAM.
    /// Default: none.
    #[serde(default)]
    pub log_prefix: Option<String>,
    /// Use the timestamp in the message rather than the time it was received. Default: the
    /// global `keep-timestamp()` (yes).
    #[serde(default)]
    pub keep_timestamp: Option<bool>,
    /// On the very first start (no saved position), read what the source already holds; with
    /// no, start at its end. Default: yes.
    #[serde(default = "yes")]
    pub read_old_records: bool,
    /// Use sluice's own PID as `$PID` of messages from this source. Default: no.
    #[serde(default)]
    pub use_syslogng_pid: bool,
    /// Tags added to every message of this source. Default: none.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Use fully qualified domain names. Default: the global `use-fqdn()` (no).
    #[serde(default)]
    pub use_fqdn: Option<bool>,
    /// Resolve the sender's address: yes, no or persist-only. Default: the global `use-dns()`.
    #[serde(default)]
    pub use_dns: Option<UseDns>,
    /// Cache DNS lookups. Default: the global `dns-cache()` (yes).
    #[serde(default)]
    pub dns_cache: Option<bool>,
    /// Convert hostnames to lowercase. Default: the global `normalize-hostnames()` (no).
    #[serde(default)]
    pub normalize_hostnames: Option<bool>,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            chain_hostnames: None,
            keep_hostname: None,
            program_override: None,
            host_override: None,
            log_prefix: None,
            keep_timestamp: None,
            read_old_records: true,
            use_syslogng_pid: false,
            tags: Vec::new(),
            use_fqdn: None,
            use_dns: None,
            dns_cache: None,
            normalize_hostnames: None,
        }
    }
}

/// The options of sources built on syslog-ng's LogReader (files, pipes, sockets):
/// `source_reader_option` with its protocol (`source_proto_option`) and parsing
/// (`msg_format_option`) options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReaderOptions {
    /// Flags that change how messages are read and parsed. Default: none.
    #[serde(default)]
    pub flags: Vec<SourceFlag>,
    /// The parser plugin for incoming data: `syslog` (RFC 3164/5424 autodetected), or another
    /// format plugin such as `linux-kmsg`. Default: syslog.
    #[serde(default)]
    pub format: Option<String>,
    /// Reject messages whose hostname contains invalid characters. Default: the global
    /// `check-hostname()` (no).
    #[serde(default)]
    pub check_hostname: Option<bool>,
    /// Messages read in one go before other sources get their turn. Must be positive.
    /// Default: 10.
    #[serde(default = "default_log_fetch_limit")]
    pub log_fetch_limit: Positive,
    /// Character set of the input, converted to UTF-8 (a name iconv knows, checked as
    /// syslog-ng does). Default: none (the input is taken as it is).
    #[serde(default)]
    pub encoding: Option<Encoding>,
    /// Maximum length of a message in bytes. Must be positive. Default: the global
    /// `log-msg-size()` (65536).
    #[serde(default)]
    pub log_msg_size: Option<Positive>,
    /// Truncate longer messages instead of splitting them. Default: the global
    /// `trim-large-messages()` (no).
    #[serde(default)]
    pub trim_large_messages: Option<bool>,
    /// Time zone of incoming timestamps that carry none. Default: the global
    /// `recv-time-zone()` (local time).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Severity given to messages that do not specify one. Aliases `default-priority()`,
    /// `default-level()`. Default: notice.
    #[serde(default, alias = "default-priority", alias = "default-level")]
    pub default_severity: Option<Severity>,
    /// Facility given to messages that do not specify one. Default: user.
    #[serde(default)]
    pub default_facility: Option<Facility>,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            flags: Vec::new(),
            format: None,
            check_hostname: None,
            log_fetch_limit: default_log_fetch_limit(),
            encoding: None,
            log_msg_size: None,
            trim_large_messages: None,
            time_zone: None,
            default_severity: None,
            default_facility: None,
        }
    }
}

/// How threaded sources (`python()`, `python-fetcher()`) parse what they produce: syslog-ng's
/// `msg_format_option`, `format()` and the parsing flags.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct ParseOptions {
    /// Parsing flags. Default: none.
    #[serde(default)]
    pub flags: Vec<ParseFlag>,
    /// The parser plugin for messages the source parses. Default: syslog.
    #[serde(default)]
    pub format: Option<String>,
    /// Time zone of timestamps that carry none. Default: the global `recv-time-zone()`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Severity of messages that do not specify one. Aliases `default-priority()`,
    /// `default-level()`. Default: notice.
    #[serde(default, alias = "default-priority", alias = "default-level")]
    pub default_severity: Option<Severity>,
    /// Facility of messages that do not specify one. Default: user.
    #[serde(default)]
    pub default_facility: Option<Facility>,
}

/// How a file-like source cuts its input into messages: `pad-size()` and the multi-line
/// options (file, wildcard-file, pipe and stdin sources).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct LineOptions {
    /// Read fixed-size records of this many bytes instead of lines; 0 reads lines.
    /// Default: 0.
    #[serde(default)]
    pub pad_size: u32,
    /// How lines are joined into messages. Default: none (one line, one message).
    #[serde(default)]
    pub multi_line_mode: MultiLineMode,
    /// Regular expression that starts a new message (`regexp`, `prefix-garbage`,
    /// `prefix-suffix` modes). Default: none.
    #[serde(default)]
    pub multi_line_prefix: Option<String>,
    /// Regular expression that ends a message; what follows it is dropped (`prefix-garbage`)
    /// or kept (`prefix-suffix`). Alias `multi-line-suffix()`. Default: none.
    #[serde(default, alias = "multi-line-suffix")]
    pub multi_line_garbage: Option<String>,
}

/// `encoding()`: a character set name the system's iconv can convert to UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding(pub String);

impl<'de> Deserialize<'de> for Encoding {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if iconv_knows(&name) {
            Ok(Encoding(name))
        } else {
            Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&name),
                &"a character set iconv knows, such as UTF-8 or ISO-8859-2",
            ))
        }
    }
}

/// Whether iconv can convert from `name` to UTF-8 (syslog-ng's own check of `encoding()`).
fn iconv_knows(name: &str) -> bool {
    let Ok(from) = std::ffi::CString::new(name) else {
        return false;
    };
    // SAFETY: both arguments are valid NUL-terminated strings that outlive the call; the
    // descriptor is closed right away and never used otherwise.
    unsafe {
        let cd = libc::iconv_open(c"UTF-8".as_ptr(), from.as_ptr());
        if cd as usize == usize::MAX {
            return false;
        }
        libc::iconv_close(cd);
    }
    true
}

/// `log-fetch-limit()` default.
pub fn default_log_fetch_limit() -> Positive {
    nz(10)
}

/// `log-iw-size()` default of most sources.
pub fn default_log_iw_size() -> Positive {
    nz(100)
}

/// A source flag (`flags()`), as syslog-ng 3.38 accepts them on reader-based sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFlag {
    /// Do not parse: the whole line becomes MESSAGE.
    NoParse,
    /// Parse as RFC 5424 (IETF syslog) without autodetection.
    SyslogProtocol,
    /// Replace line breaks in the message with spaces.
    NoMultiLine,
    /// Keep the message as received in `$RAWMSG`.
    StoreRawMessage,
    /// Always expect a hostname after the timestamp.
    ExpectHostname,
    /// Assume the input is UTF-8 (mark messages as such without checking).
    AssumeUtf8,
    /// Check that messages are valid UTF-8.
    ValidateUtf8,
    /// Replace invalid UTF-8 sequences.
    SanitizeUtf8,
    /// Check the hostname for invalid characters.
    CheckHostname,
    /// Guess the time zone of timestamps without one from the time of arrival.
    GuessTimezone,
    /// No syslog header: PROGRAM, PID... are not parsed.
    NoHeader,
    /// Keep the original program/pid header (`$LEGACY_MSGHDR`).
    StoreLegacyMsghdr,
    /// Do not keep `$LEGACY_MSGHDR`.
    DontStoreLegacyMsghdr,
    /// The messages carry no hostname.
    NoHostname,
    /// Do not fall back to RFC 3164 when a message is not RFC 5424.
    NoRfc3164Fallback,
    /// Kernel messages: facility kern by default, priorities as the kernel writes them.
    Kernel,
    /// Keep empty lines as messages.
    EmptyLines,
    /// Read in a thread of its own.
    Threaded,
    /// Ignore the auxiliary data (credentials, addresses) of the socket.
    IgnoreAuxData,
}

/// A flag of a threaded source (`python()`, `python-fetcher()`): the parsing flags of
/// [`SourceFlag`], without the reader ones (syslog-ng 3.38 rejects `kernel` there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParseFlag {
    NoParse,
    SyslogProtocol,
    NoMultiLine,
    StoreRawMessage,
    ExpectHostname,
    AssumeUtf8,
    ValidateUtf8,
    SanitizeUtf8,
    CheckHostname,
    GuessTimezone,
    NoHeader,
    StoreLegacyMsghdr,
    DontStoreLegacyMsghdr,
    NoHostname,
    NoRfc3164Fallback,
}

/// `multi-line-mode()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MultiLineMode {
    /// One line is one message.
    #[default]
    None,
    /// Lines starting with whitespace continue the previous message.
    Indented,
    /// A line matching `multi-line-prefix()` starts a new message.
    Regexp,
    /// Messages start at `multi-line-prefix()`; from `multi-line-garbage()` on is dropped.
    PrefixGarbage,
    /// Messages start at `multi-line-prefix()` and end with `multi-line-suffix()`.
    PrefixSuffix,
}

/// A syslog severity name, as `default-severity()` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    #[serde(alias = "panic")]
    Emerg,
    Alert,
    Crit,
    #[serde(alias = "error")]
    Err,
    #[serde(alias = "warn")]
    Warning,
    Notice,
    Info,
    Debug,
}

/// A syslog facility name, as `default-facility()` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Facility {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    Ftp,
    Ntp,
    Security,
    Console,
    SolarisCron,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}
