//! Socket option groups and TLS options, shared by the network and UNIX socket drivers (sources
//! and destinations).
//!
//! Checked against syslog-ng 3.38: `so-*()` options on every socket driver; `ip-ttl()`,
//! `ip-tos()`, `ip-freebind()`, `tcp-keepalive-*()` and `interface()` on IP drivers only; the
//! listener options on the sources that accept connections; `tls()` on `network()`, `syslog()`
//! and `tcp()`/`tcp6()` (not on `udp()`).

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

use crate::actors::options::{option_node, option_span};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{Positive, nz, yes};

/// Socket buffer and flag options of every socket driver.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct SocketOptions {
    /// `SO_RCVBUF`: size of the kernel receive buffer in bytes. Default: the system's.
    #[serde(default)]
    pub so_rcvbuf: Option<u32>,
    /// `SO_SNDBUF`: size of the kernel send buffer in bytes. Default: the system's.
    #[serde(default)]
    pub so_sndbuf: Option<u32>,
    /// `SO_BROADCAST`: allow sending to broadcast addresses. Default: no.
    #[serde(default)]
    pub so_broadcast: bool,
    /// `SO_KEEPALIVE`: TCP keepalive probes on stream connections. Default: no.
    #[serde(default)]
    pub so_keepalive: bool,
    /// `SO_REUSEPORT`: let several sockets bind the same port. Default: no.
    #[serde(default)]
    pub so_reuseport: bool,
}

/// Options of IP sockets: [`SocketOptions`] plus the IP and TCP level ones.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct InetSocketOptions {
    /// `SO_RCVBUF`: size of the kernel receive buffer in bytes. Default: the system's.
    #[serde(default)]
    pub so_rcvbuf: Option<u32>,
    /// `SO_SNDBUF`: size of the kernel send buffer in bytes. Default: the system's.
    #[serde(default)]
    pub so_sndbuf: Option<u32>,
    /// `SO_BROADCAST`: allow sending to broadcast addresses. Default: no.
    #[serde(default)]
    pub so_broadcast: bool,
    /// `SO_KEEPALIVE`: TCP keepalive probes. Default: no.
    #[serde(default)]
    pub so_keepalive: bool,
    /// `SO_REUSEPORT`: let several sockets bind the same port. Default: no.
    #[serde(default)]
    pub so_reuseport: bool,
    /// `IP_TTL` of outgoing packets. Default: the system's.
    #[serde(default)]
    pub ip_ttl: Option<u32>,
    /// `IP_TOS` of outgoing packets. Default: the system's.
    #[serde(default)]
    pub ip_tos: Option<u32>,
    /// `IP_FREEBIND`: bind to an address that is not (yet) configured. Default: no.
    #[serde(default)]
    pub ip_freebind: bool,
    /// `TCP_KEEPIDLE`: seconds of idle before keepalive probes start. Default: the system's.
    #[serde(default)]
    pub tcp_keepalive_time: Option<u32>,
    /// `TCP_KEEPINTVL`: seconds between keepalive probes. Default: the system's.
    #[serde(default)]
    pub tcp_keepalive_intvl: Option<u32>,
    /// `TCP_KEEPCNT`: unanswered probes before the connection is dropped. Default: the
    /// system's.
    #[serde(default)]
    pub tcp_keepalive_probes: Option<u32>,
    /// Bind to this network interface (`SO_BINDTODEVICE`). Default: none.
    #[serde(default)]
    pub interface: Option<String>,
}

/// Options of IP sources that accept connections (`network()`, `syslog()`, `tcp()`),
/// except `max-connections()` and `log-iw-size()`, whose defaults are the driver's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ListenerOptions {
    /// Length of the queue of connections not yet accepted (`listen()` backlog).
    /// Default: 255.
    #[serde(default = "default_listen_backlog")]
    pub listen_backlog: Positive,
    /// Keep connections open across reloads. Default: yes.
    #[serde(default = "yes")]
    pub keep_alive: bool,
    /// Extra window shared by all connections on top of the static per-connection window
    /// (`log-iw-size()` / `max-connections()`); 0 disables it. Default: 0.
    #[serde(default)]
    pub dynamic_window_size: u64,
    /// Seconds between two rebalancings of the dynamic window statistics. Default: 1.
    #[serde(default)]
    pub dynamic_window_stats_freq: Option<f64>,
    /// Statistics periods after which the dynamic window is redistributed. Default: 10.
    #[serde(default)]
    pub dynamic_window_realloc_ticks: Option<u32>,
}

impl Default for ListenerOptions {
    fn default() -> Self {
        ListenerOptions {
            listen_backlog: default_listen_backlog(),
            keep_alive: true,
            dynamic_window_size: 0,
            dynamic_window_stats_freq: None,
            dynamic_window_realloc_ticks: None,
        }
    }
}

pub(crate) fn default_listen_backlog() -> Positive {
    nz(255)
}

/// `max-connections()` default of the IP sources.
pub(crate) fn default_max_connections() -> Positive {
    nz(10)
}

/// `log-iw-size()` default of the IP sources: 1000, divided among `max-connections()`.
pub(crate) fn default_socket_log_iw_size() -> Positive {
    nz(1000)
}

/// `transport()` of the `network()` and `syslog()` sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    Tcp,
    Udp,
    /// TCP with TLS; requires `tls()`.
    Tls,
    /// TCP with a PROXY protocol header.
    ProxiedTcp,
    /// TLS with a PROXY protocol header; requires `tls()`.
    ProxiedTls,
    /// A PROXY protocol header, then TLS; requires `tls()`.
    ProxiedTlsPassthrough,
    /// Messages separated by NUL characters as well as newlines.
    TextWithNuls,
    /// Octet-counted framing (RFC 6587) on plain TCP.
    Framed,
}

impl Transport {
    /// The keyword, as written in the configuration.
    pub fn keyword(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Tls => "tls",
            Transport::ProxiedTcp => "proxied-tcp",
            Transport::ProxiedTls => "proxied-tls",
            Transport::ProxiedTlsPassthrough => "proxied-tls-passthrough",
            Transport::TextWithNuls => "text-with-nuls",
            Transport::Framed => "framed",
        }
    }
}

/// `transport()` of the `network()` and `syslog()` destinations (the PROXY protocol and NUL
/// separated transports are source-only in syslog-ng 3.38).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestTransport {
    Tcp,
    Udp,
    /// TCP with TLS; requires `tls()`.
    Tls,
    /// Octet-counted framing (RFC 6587) on plain TCP.
    Framed,
}

impl DestTransport {
    /// The same transport as a source would name it.
    pub fn as_transport(self) -> Transport {
        match self {
            DestTransport::Tcp => Transport::Tcp,
            DestTransport::Udp => Transport::Udp,
            DestTransport::Tls => Transport::Tls,
            DestTransport::Framed => Transport::Framed,
        }
    }
}

/// What syslog-ng 3.38 checks when a `network()`/`syslog()` driver starts: `transport(tls)`
/// (and `proxied-tls`) needs `tls()`, and `tls()` is refused on `tcp` (the default) and `udp`.
/// Reported at the `transport()` or `tls()` option.
pub(crate) fn check_transport_tls(
    call: &Node,
    transport: Option<Transport>,
    has_tls: bool,
) -> Result<(), Diagnostic> {
    let transport = transport.unwrap_or(Transport::Tcp);
    let keyword = transport.keyword();
    let needs = matches!(transport, Transport::Tls | Transport::ProxiedTls);
    if needs && !has_tls {
        return Err(Diagnostic::new(
            format!("transport({keyword}) needs tls() options"),
            option_span(call, &["transport"]),
        ));
    }
    if has_tls && matches!(transport, Transport::Tcp | Transport::Udp) {
        let span = match option_node(call, &["tls"]) {
            Some(Node::Call { name, .. }) => name.span,
            _ => option_span(call, &["tls"]),
        };
        return Err(Diagnostic::new(
            format!("tls() options given for transport({keyword}), which has no TLS"),
            span,
        )
        .with_note("use transport(tls), or remove tls()"));
    }
    Ok(())
}

/// `ip-protocol()`: 4 or 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpProtocol {
    #[default]
    V4,
    V6,
}

impl<'de> Deserialize<'de> for IpProtocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u8::deserialize(d)? {
            4 => Ok(IpProtocol::V4),
            6 => Ok(IpProtocol::V6),
            n => Err(de::Error::invalid_value(
                de::Unexpected::Unsigned(u64::from(n)),
                &"4 or 6",
            )),
        }
    }
}

/// A port: a number, or a service name from `/etc/services` (`port("syslog")`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Port {
    Number(u16),
    Service(String),
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number or a service name")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                u16::try_from(v)
                    .map(Port::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                u16::try_from(v)
                    .map(Port::Number)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Port, E> {
                match v.trim().parse::<i64>() {
                    Ok(n) => self.visit_i64(n),
                    Err(_) if !v.is_empty() => Ok(Port::Service(v.to_string())),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `peer-verify()`: whether the peer must present a certificate, and whether it must be
/// trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PeerVerify {
    /// A valid, trusted certificate is required (`yes` is the same). The default.
    #[default]
    #[serde(alias = "yes")]
    RequiredTrusted,
    /// A certificate is required; it is not checked.
    RequiredUntrusted,
    /// A certificate is optional; if given, it must be trusted.
    OptionalTrusted,
    /// A certificate is optional and not checked (`no` is the same).
    #[serde(alias = "no")]
    OptionalUntrusted,
}

/// An entry of `ssl-options()`: protocol versions to disable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslOption {
    NoSslv2,
    NoSslv3,
    NoTlsv1,
    NoTlsv11,
    NoTlsv12,
    NoTlsv13,
}

/// `cipher-suite()`: an OpenSSL cipher list, or separate lists for TLS 1.2 and older and for
/// TLS 1.3 (`cipher-suite(tls12-and-older("...") tls13("..."))`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CipherSuite {
    /// The cipher list for every protocol version.
    #[serde(rename = "0:ciphers", default)]
    pub ciphers: Option<String>,
    /// Ciphers for TLS 1.2 and older.
    #[serde(default)]
    pub tls12_and_older: Option<String>,
    /// Cipher suites for TLS 1.3.
    #[serde(default)]
    pub tls13: Option<String>,
}

/// `tls()`: TLS settings of a network driver. syslog-ng 3.38 also checks, while parsing, that
/// `key-file()`, `cert-file()`, `ca-file()`, `dhparam-file()` and `pkcs12-file()` exist;
/// sluice checks files when the driver starts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TlsOptions {
    /// Private key file (PEM). Default: none.
    #[serde(default)]
    pub key_file: Option<String>,
    /// Certificate file (PEM) matching `key-file()`. Default: none.
    #[serde(default)]
    pub cert_file: Option<String>,
    /// Directory of trusted CA certificates (hashed names). Default: none.
    #[serde(default)]
    pub ca_dir: Option<String>,
    /// File of trusted CA certificates. Default: none.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Directory of certificate revocation lists. Default: none.
    #[serde(default)]
    pub crl_dir: Option<String>,
    /// PKCS #12 file holding the key, the certificate and the CA chain. Default: none.
    #[serde(default)]
    pub pkcs12_file: Option<String>,
    /// Diffie-Hellman parameters file. Default: built-in parameters.
    #[serde(default)]
    pub dhparam_file: Option<String>,
    /// Peer certificate requirements. Default: required-trusted.
    #[serde(default)]
    pub peer_verify: PeerVerify,
    /// Allowed ciphers. Default: OpenSSL's.
    #[serde(default)]
    pub cipher_suite: Option<CipherSuite>,
    /// Protocol versions to disable. Default: none.
    #[serde(default)]
    pub ssl_options: Vec<SslOption>,
    /// Elliptic curves for ECDH, colon-separated. Alias `curve-list()`. Default: OpenSSL's.
    #[serde(default, alias = "curve-list")]
    pub ecdh_curve_list: Option<String>,
    /// Signature algorithms offered. Default: OpenSSL's.
    #[serde(default)]
    pub sigalgs: Option<String>,
    /// Signature algorithms accepted for client certificates. Default: OpenSSL's.
    #[serde(default)]
    pub client_sigalgs: Option<String>,
    /// Accept only peers whose certificate has one of these SHA-1 fingerprints. Default: any.
    #[serde(default)]
    pub trusted_keys: Vec<String>,
    /// Accept only peers whose certificate subject matches one of these DN patterns.
    /// Default: any.
    #[serde(default)]
    pub trusted_dn: Vec<String>,
    /// Allow TLS compression. Default: no.
    #[serde(default)]
    pub allow_compress: bool,
    /// Write the session keys to this file (for debugging with Wireshark). Default: none.
    #[serde(default)]
    pub keylog_file: Option<String>,
    /// Send the server name (SNI) when connecting; destinations only. Default: no.
    #[serde(default)]
    pub sni: bool,
}

/// An address as syslog-ng names it in its messages: `AF_INET(127.0.0.1:514)` (sources and
/// destinations alike).
pub(crate) fn sockaddr_name(a: &std::net::SocketAddr) -> String {
    match a {
        std::net::SocketAddr::V4(v4) => format!("AF_INET({v4})"),
        std::net::SocketAddr::V6(v6) => format!("AF_INET6({v6})"),
    }
}
