//! What a source tells the parser: its `flags()`, defaults, time zones and host-name rules.
//!
//! Plain Rust on purpose: the config layer (`src/config`) reads the syslog-ng syntax and fills
//! these; this module knows nothing of the config language.

use std::net::IpAddr;
use std::sync::Arc;

use jiff::tz::TimeZone;

use super::timestamp::ZoneSpec;

/// A source's parse `flags()`, as syslog-ng's `LP_*` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseFlags(pub u32);

impl ParseFlags {
    /// `no-parse`: the whole line is MESSAGE, priority is the default.
    pub const NO_PARSE: u32 = 1 << 0;
    /// `check-hostname`: a HOST candidate stops at a character not valid in host names.
    pub const CHECK_HOSTNAME: u32 = 1 << 1;
    /// `syslog-protocol`: RFC 5424 (falls back to RFC 3164 when there is no version).
    pub const SYSLOG_PROTOCOL: u32 = 1 << 2;
    /// `assume-utf8`.
    pub const ASSUME_UTF8: u32 = 1 << 3;
    /// `validate-utf8`.
    pub const VALIDATE_UTF8: u32 = 1 << 4;
    /// `no-multi-line`: CR, LF and NUL in MESSAGE become spaces.
    pub const NO_MULTI_LINE: u32 = 1 << 5;
    /// `store-legacy-msghdr` (on by default; `dont-store-legacy-msghdr` clears it).
    pub const STORE_LEGACY_MSGHDR: u32 = 1 << 6;
    /// `store-raw-message`: keep the line in RAWMSG.
    pub const STORE_RAW_MESSAGE: u32 = 1 << 7;
    /// `expect-hostname` (on by default; `no-hostname` clears it).
    pub const EXPECT_HOSTNAME: u32 = 1 << 8;
    /// `guess-timezone`.
    pub const GUESS_TIMEZONE: u32 = 1 << 9;
    /// `no-header`: no PROGRAM/HOST/stamp parsing, only the priority.
    pub const NO_HEADER: u32 = 1 << 10;
    /// `no-rfc3164-fallback`.
    pub const NO_RFC3164_FALLBACK: u32 = 1 << 11;
    /// `sanitize-utf8`: invalid UTF-8 in MESSAGE becomes `\xHH`.
    pub const SANITIZE_UTF8: u32 = 1 << 12;
    /// Set by the runtime for local sources (file, unix-*, program, pipe): syslog-ng's
    /// `LP_LOCAL` (a kernel-facility message without a stamp gets PROGRAM=kernel). Note that
    /// syslog-ng's unix-*, pipe and sun-streams sources also clear `EXPECT_HOSTNAME` when
    /// they start (after the user's flags), and `syslog()` sets `SYSLOG_PROTOCOL`: that is
    /// the runtime's part.
    pub const LOCAL: u32 = 1 << 13;

    /// syslog-ng's defaults: `expect-hostname`, `store-legacy-msghdr`.
    pub const DEFAULT: ParseFlags = ParseFlags(Self::EXPECT_HOSTNAME | Self::STORE_LEGACY_MSGHDR);

    /// Whether `bit` is set.
    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// Applies one `flags()` word as syslog-ng spells it; `false` for a word that is not a
    /// parse flag (the caller then tries reader flags like `kernel`, `empty-lines`...).
    pub fn apply(&mut self, word: &str) -> bool {
        let w = word.replace('_', "-");
        let (set, bit) = match w.as_str() {
            "no-parse" => (true, Self::NO_PARSE),
            "check-hostname" => (true, Self::CHECK_HOSTNAME),
            "syslog-protocol" => (true, Self::SYSLOG_PROTOCOL),
            "assume-utf8" => (true, Self::ASSUME_UTF8),
            "validate-utf8" => (true, Self::VALIDATE_UTF8),
            "sanitize-utf8" => (true, Self::SANITIZE_UTF8),
            "no-multi-line" => (true, Self::NO_MULTI_LINE),
            "store-legacy-msghdr" => (true, Self::STORE_LEGACY_MSGHDR),
            "store-raw-message" => (true, Self::STORE_RAW_MESSAGE),
            "dont-store-legacy-msghdr" => (false, Self::STORE_LEGACY_MSGHDR),
            "expect-hostname" => (true, Self::EXPECT_HOSTNAME),
            "no-hostname" => (false, Self::EXPECT_HOSTNAME),
            "guess-timezone" => (true, Self::GUESS_TIMEZONE),
            "no-header" => (true, Self::NO_HEADER),
            "no-rfc3164-fallback" => (true, Self::NO_RFC3164_FALLBACK),
            _ => return false,
        };
        if set {
            self.0 |= bit;
        } else {
            self.0 &= !bit;
        }
        true
    }
}

impl Default for ParseFlags {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// `use-dns()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UseDns {
    /// `yes` (syslog-ng's default): reverse-resolve the peer.
    #[default]
    Yes,
    /// `no`: HOST_FROM is the address.
    No,
    /// `persist-only`: only names from the persistent DNS cache (hosts file), never a query.
    PersistOnly,
}

/// The host-name options a source inherits from `options {}` (syslog-ng's defaults).
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// `keep-hostname()` (default no): keep the HOST from the message.
    pub keep_hostname: bool,
    /// `chain-hostnames()` (default no).
    pub chain_hostnames: bool,
    /// `use-dns()`.
    pub use_dns: UseDns,
    /// `dns-cache()` (default yes): answer from the process's DNS cache and the
    /// `dns-cache-hosts()` file, and cache what a lookup found.
    pub dns_cache: bool,
    /// `use-fqdn()` (default no): names from DNS are cut at the first dot unless set.
    pub use_fqdn: bool,
    /// `normalize-hostnames()` (default no): lowercase.
    pub normalize_hostnames: bool,
    /// The source's group name (`s_net`), used by chain-hostnames for local messages.
    pub group_name: Arc<str>,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            keep_hostname: false,
            chain_hostnames: false,
            use_dns: UseDns::Yes,
            dns_cache: true,
            use_fqdn: false,
            normalize_hostnames: false,
            group_name: Arc::from(""),
        }
    }
}

/// This machine's names, as syslog-ng detects them at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalHost {
    /// Short name (up to the first dot).
    pub short: Arc<str>,
    /// Fully qualified name (the short one when it cannot be told).
    pub fqdn: Arc<str>,
}

impl LocalHost {
    /// From a fully qualified name.
    pub fn new(fqdn: &str) -> LocalHost {
        let short = fqdn.split('.').next().unwrap_or(fqdn);
        LocalHost {
            short: Arc::from(short),
            fqdn: Arc::from(fqdn),
        }
    }

    /// `gethostname()`. (syslog-ng also asks DNS for the FQDN when the name has no dot; the
    /// runtime can do that and call [`LocalHost::new`].)
    pub fn detect() -> LocalHost {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates or fails.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
        let name = if rc == 0 {
            let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            String::new()
        };
        LocalHost::new(if name.is_empty() { "localhost" } else { &name })
    }
}

/// Who sent a message: the peer's address (`None` for local sources: unix sockets, files,
/// programs) and, when the runtime did a reverse lookup (honouring `use-dns()` and its DNS
/// cache), the name it found. The lookup itself is the runtime's job (it may block); the
/// rules that turn this into HOST and HOST_FROM are here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's IP address.
    pub addr: Option<IpAddr>,
    /// Its name from DNS or the hosts file, if a lookup found one.
    pub dns_name: Option<Arc<str>>,
}

/// The compiled global `bad-hostname()` regexp, as a predicate on a candidate host name.
pub type BadHostname = dyn Fn(&[u8]) -> bool + Send + Sync;

/// `format()`: which parser reads a source's messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MsgFormat {
    /// `syslog` (the default): RFC 3164, or RFC 5424 with `flags(syslog-protocol)`.
    #[default]
    Syslog,
    /// `linux-kmsg`: `/dev/kmsg` records ([`super::kmsg`]), stamped from this boot time.
    LinuxKmsg(super::kmsg::BootTime),
}

/// Everything the parser needs from a source's configuration.
#[derive(Clone)]
pub struct ParseOptions {
    /// `format()`.
    pub format: MsgFormat,
    /// `flags()`.
    pub flags: ParseFlags,
    /// `default-facility()`/`default-priority()` combined (syslog-ng's `default_pri`);
    /// `None` means user.notice (kern.notice for `flags(kernel)`: the runtime sets it).
    pub default_pri: Option<u16>,
    /// `keep-timestamp()` (default yes); `no` uses the received time as the stamp.
    pub keep_timestamp: bool,
    /// The source's `time-zone()` (or global `recv-time-zone()`): the zone of stamps that
    /// carry none.
    pub recv_time_zone: Option<ZoneSpec>,
    /// The daemon's local zone (`TZ`/`/etc/localtime`): stamps without a zone when no
    /// `time-zone()` is set, the year rule, received-time offsets.
    pub local_time_zone: TimeZone,
    /// Host-name rules.
    pub host: HostOptions,
    /// This machine's names (HOST for local sources).
    pub local_host: LocalHost,
    /// The global `bad-hostname()` regexp, compiled by the caller: a candidate HOST it
    /// matches is not taken as a host name.
    pub bad_hostname: Option<Arc<BadHostname>>,
    /// `sdata-param-value-max()` analogue: longer SD values are cut (syslog-ng: 65535).
    pub sdata_param_value_max: usize,
}

impl std::fmt::Debug for ParseOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseOptions")
            .field("format", &self.format)
            .field("flags", &self.flags)
            .field("default_pri", &self.default_pri)
            .field("keep_timestamp", &self.keep_timestamp)
            .field("recv_time_zone", &self.recv_time_zone)
            .field("host", &self.host)
            .field("local_host", &self.local_host)
            .field("bad_hostname", &self.bad_hostname.is_some())
            .finish()
    }
}

impl Default for ParseOptions {
    /// syslog-ng's defaults, with the system's local zone and host name.
    fn default() -> Self {
        ParseOptions {
            format: MsgFormat::Syslog,
            flags: ParseFlags::DEFAULT,
            default_pri: None,
            keep_timestamp: true,
            recv_time_zone: None,
            local_time_zone: TimeZone::system(),
            host: HostOptions::default(),
            local_host: LocalHost::detect(),
            bad_hostname: None,
            sdata_param_value_max: 65535,
        }
    }
}

impl ParseOptions {
    /// The priority used when a message has none.
    pub fn effective_default_pri(&self) -> u16 {
        self.default_pri.unwrap_or(super::message::DEFAULT_PRI)
    }

    /// `default-facility(f)` with `f` the facility *code* (`local0` = 16): syslog-ng keeps the
    /// severity and starts from notice when no priority was set before.
    pub fn set_default_facility(&mut self, facility: u16) {
        let cur = self.default_pri.unwrap_or(5);
        self.default_pri = Some((cur & 7) | (facility << 3));
    }

    /// `default-priority(s)`/`default-level(s)`: keeps the facility, starting from user.
    pub fn set_default_severity(&mut self, severity: u16) {
        let cur = self.default_pri.unwrap_or(8);
        self.default_pri = Some((cur & !7) | (severity & 7));
    }
}

/// A host name: borrowed from the options or the peer, an address formatted on the stack,
/// or (rarely: truncated or lowercased) an owned string — so the common cases allocate
/// nothing per message.
pub enum HostName<'a> {
    Borrowed(&'a str),
    Ip(IpText),
    Owned(String),
}

impl HostName<'_> {
    pub fn as_str(&self) -> &str {
        match self {
            HostName::Borrowed(s) => s,
            HostName::Ip(t) => t.as_str(),
            HostName::Owned(s) => s,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl std::fmt::Display for HostName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name syslog-ng puts in HOST_FROM for a peer (`resolve_sockaddr_to_hostname`):
/// local sources get this machine's short name (FQDN with `use-fqdn(yes)`); remote ones the
/// DNS name when `use-dns()` allows and a lookup succeeded (cut at the first dot unless
/// `use-fqdn(yes)`), otherwise the address; `normalize-hostnames(yes)` lowercases.
pub fn resolve_host_from<'a>(peer: Option<&'a PeerInfo>, opts: &'a ParseOptions) -> HostName<'a> {
    let h = &opts.host;
    let name: HostName<'a> = match peer.and_then(|p| p.addr.map(|a| (a, p))) {
        None => {
            if h.use_fqdn {
                HostName::Borrowed(&opts.local_host.fqdn)
            } else {
                HostName::Borrowed(&opts.local_host.short)
            }
        }
        Some((addr, p)) => {
            let dns = match h.use_dns {
                UseDns::No => None,
                UseDns::Yes | UseDns::PersistOnly => p.dns_name.as_deref(),
            };
            match dns {
                Some(n) if !h.use_fqdn => HostName::Borrowed(n.split('.').next().unwrap_or(n)),
                Some(n) => HostName::Borrowed(n),
                None => HostName::Ip(format_ip(addr)),
            }
        }
    };
    if name.as_str().len() <= 255 && !h.normalize_hostnames {
        return name;
    }
    let mut name = name.as_str().to_string();
    while name.len() > 255 {
        name.pop();
    }
    if h.normalize_hostnames {
        name.make_ascii_lowercase();
    }
    HostName::Owned(name)
}

/// An IP address as text, on the stack (the longest, an IPv6 address with an IPv4 tail, is
/// 45 bytes).
#[derive(Clone, Copy)]
pub struct IpText {
    buf: [u8; 48],
    len: u8,
}

impl IpText {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits, dots, colons and hex letters are ever written.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Write for IpText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let at = usize::from(self.len);
        let end = at + s.len();
        let dst = self.buf.get_mut(at..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end as u8;
        Ok(())
    }
}

/// An address as syslog-ng prints it (`inet_ntop`); IPv4 without the formatting machinery,
/// since every message from a network peer needs it.
pub fn format_ip(addr: IpAddr) -> IpText {
    let mut t = IpText {
        buf: [0; 48],
        len: 0,
    };
    match addr {
        IpAddr::V4(v4) => {
            let mut n = 0;
            for (i, o) in v4.octets().iter().enumerate() {
                if i > 0 {
                    t.buf[n] = b'.';
                    n += 1;
                }
                if *o >= 100 {
                    t.buf[n] = b'0' + o / 100;
                    n += 1;
                }
                if *o >= 10 {
                    t.buf[n] = b'0' + (o / 10) % 10;
                    n += 1;
                }
                t.buf[n] = b'0' + o % 10;
                n += 1;
            }
            t.len = n as u8;
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write;
            let _ = write!(t, "{v6}");
        }
    }
    t
}
