//! The IP sources: `network()` and `syslog()` (any transport), and the older `tcp()`,
//! `tcp6()`, `udp()`, `udp6()`, which fix the transport and the IP version.
//!
//! `network()` and `syslog()` take the same options and differ in their defaults: `network()`
//! reads newline-separated messages (port 514), `syslog()` reads RFC 6587 octet-counted
//! framing and RFC 5424 messages (port 601 over TCP). Option sets checked against syslog-ng
//! 3.38: `tcp()` takes neither `transport()` nor `ip-protocol()`; `udp()` takes no listener
//! options (`max-connections()`, `listen-backlog()`, `keep-alive()`, dynamic window) and no
//! `tls()`. Defaults checked against syslog-ng's warnings: `max-connections(10)` and
//! `log-iw-size(1000)`, so 100 messages per connection.

use serde::Deserialize;

use crate::config::global_options::Positive;

use super::common::{DriverOptions, SourceFlag};
use super::common::{ReaderOptions, SourceDriverOptions, SourceOptions, option_node, option_span};
use super::listener::StreamListenPlan;
use super::stream::Framing;
use crate::actors::runtime::settings;
use crate::actors::socket_options::{
    InetSocketOptions, IpProtocol, ListenerOptions, Port, TlsOptions, Transport,
    check_transport_tls, default_max_connections, default_socket_log_iw_size,
};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;
use crate::driver_options;
use crate::message::framing::{Newline, OctetCounted};
use std::net::SocketAddr;

/// The own options of `network()` and `syslog()`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct NetworkSource {
    /// Address to listen on. Alias `localip()`. Default: all addresses (0.0.0.0 or ::).
    #[serde(default, alias = "localip")]
    pub ip: Option<String>,
    /// Port to listen on. Alias `localport()`. Default: `network()` 514 (6514 with TLS);
    /// `syslog()` 601 over TCP, 514 over UDP, 6514 with TLS.
    #[serde(default, alias = "localport")]
    pub port: Option<Port>,
    /// Transport protocol. Default: tcp.
    #[serde(default)]
    pub transport: Option<Transport>,
    /// IP version: 4 or 6. Default: 4.
    #[serde(default)]
    pub ip_protocol: IpProtocol,
    /// Maximum number of simultaneous connections. Must be positive. Default: 10.
    #[serde(default = "default_max_connections")]
    pub max_connections: Positive,
    /// Messages in flight for all connections together, divided by `max-connections()`
    /// (never below the global `min-iw-size-per-reader()`). Must be positive. Default: 1000.
    #[serde(default = "default_socket_log_iw_size")]
    pub log_iw_size: Positive,
    /// TLS settings, required by the TLS transports. Default: none.
    #[serde(default)]
    pub tls: Option<TlsOptions>,
}

driver_options! {
    /// Options of the `network()` and `syslog()` sources.
    pub struct NetworkSourceOptions {
        pub network: NetworkSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub socket: InetSocketOptions,
        pub listener: ListenerOptions,
    }
    validate = validate_network;
}

fn validate_network(o: &NetworkSourceOptions, call: &Node) -> Result<(), Diagnostic> {
    check_transport_tls(call, o.network.transport, o.network.tls.is_some())?;
    check_no_sni(call, o.network.tls.as_ref())
}

fn validate_tcp(o: &TcpSourceOptions, call: &Node) -> Result<(), Diagnostic> {
    check_no_sni(call, o.tcp.tls.as_ref())
}

/// `sni()` is a client option: syslog-ng 3.38 rejects it in a source's `tls()`.
fn check_no_sni(call: &Node, tls: Option<&TlsOptions>) -> Result<(), Diagnostic> {
    if !tls.is_some_and(|t| t.sni) {
        return Ok(());
    }
    let span = match option_node(call, &["tls"]).and_then(|t| option_node(t, &["sni"])) {
        Some(Node::Call { name, .. }) => name.span,
        _ => option_span(call, &["tls"]),
    };
    Err(Diagnostic::new("sni() is a destination option", span))
}

/// The own options of `tcp()` and `tcp6()`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TcpSource {
    /// Address to listen on. Alias `localip()`. Default: all addresses.
    #[serde(default, alias = "localip")]
    pub ip: Option<String>,
    /// Port to listen on. Alias `localport()`. Default: 514.
    #[serde(default, alias = "localport")]
    pub port: Option<Port>,
    /// Maximum number of simultaneous connections. Must be positive. Default: 10.
    #[serde(default = "default_max_connections")]
    pub max_connections: Positive,
    /// Messages in flight for all connections together, divided by `max-connections()`.
    /// Must be positive. Default: 1000.
    #[serde(default = "default_socket_log_iw_size")]
    pub log_iw_size: Positive,
    /// TLS settings; with them, connections are TLS. Default: none.
    #[serde(default)]
    pub tls: Option<TlsOptions>,
}

driver_options! {
    /// Options of the `tcp()` and `tcp6()` sources.
    pub struct TcpSourceOptions {
        pub tcp: TcpSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub socket: InetSocketOptions,
        pub listener: ListenerOptions,
    }
    validate = validate_tcp;
}

/// The own options of `udp()` and `udp6()`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct UdpSource {
    /// Address to listen on. Alias `localip()`. Default: all addresses.
    #[serde(default, alias = "localip")]
    pub ip: Option<String>,
    /// Port to listen on. Alias `localport()`. Default: 514.
    #[serde(default, alias = "localport")]
    pub port: Option<Port>,
    /// Messages in flight before the source stops reading. Must be positive. Default: 1000.
    #[serde(default = "default_socket_log_iw_size")]
    pub log_iw_size: Positive,
}

driver_options! {
    /// Options of the `udp()` and `udp6()` sources.
    pub struct UdpSourceOptions {
        pub udp: UdpSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub socket: InetSocketOptions,
    }
}

// ---------------------------------------------------------------------------------------
// Runtime: how these options become a running listener (see `super::listener`).

/// Plans an IP source call (`network()`, `syslog()`, `tcp()`, `tcp6()`, `udp()`, `udp6()`):
/// a datagram source over UDP, a stream listener otherwise.
pub fn plan_ip_source(
    call: &Node,
    globals: &GlobalOptions,
    _env: &crate::pipeline::BuildEnv<'_>,
) -> Result<Box<dyn crate::actors::runtime::driver::SourceDriver>, Diagnostic> {
    if let Some(net) = super::net_plan::plan_net_source(call, globals)? {
        return Ok(Box::new(net));
    }
    let name = match call {
        Node::Call { name, .. } => name.value.as_str(),
        _ => "",
    };
    let is = |k: &str| crate::config::ast::keyword_eq(name, k);
    let source = if is("tcp") || is("tcp6") {
        let o = TcpSourceOptions::from_call(call)?;
        let listen = listen_plan_tcp(&o, is("tcp6"), call, globals)?;
        super::listener::StreamSource {
            listen,
            extra_flags: 0,
            source: o.source,
            reader: o.reader,
        }
    } else {
        let o = NetworkSourceOptions::from_call(call)?;
        let (listen, extra_flags) = listen_plan_network(&o, is("syslog"), call, globals)?;
        super::listener::StreamSource {
            listen,
            extra_flags,
            source: o.source,
            reader: o.reader,
        }
    };
    Ok(Box::new(source))
}

/// The listener of a `network()`/`syslog()` source. `syslog` selects syslog()'s defaults:
/// port 601, octet-counted framing, RFC 5424 parsing.
pub fn listen_plan_network(
    o: &NetworkSourceOptions,
    syslog: bool,
    call: &Node,
    globals: &GlobalOptions,
) -> Result<(StreamListenPlan, u32), Diagnostic> {
    let transport = o.network.transport.unwrap_or(Transport::Tcp);
    let framed = match transport {
        Transport::Tcp => syslog,
        Transport::Framed => true,
        Transport::TextWithNuls => false,
        other => {
            return Err(Diagnostic::new(
                format!(
                    "transport({}) is not supported by the runtime yet",
                    other.keyword()
                ),
                option_span(call, &["transport"]),
            ));
        }
    };
    super::net_plan::check_driver(call, &o.reader)?;
    super::net_plan::check_dynamic_window(call, o.listener.dynamic_window_size)?;
    let default_port = if syslog { 601 } else { 514 };
    let addr = listen_addr(
        o.network.ip.as_deref(),
        o.network.port.as_ref(),
        default_port,
        o.network.ip_protocol == IpProtocol::V6,
        call,
    )?;
    let mut plan = stream_plan(
        addr,
        framed,
        o.network.max_connections.get(),
        o.network.log_iw_size.get(),
        &o.reader,
        &o.socket,
        &o.listener,
        globals,
    );
    if transport == Transport::TextWithNuls
        && let Framing::Newline(n) = &mut plan.framing
    {
        n.nul_terminates = false;
    }
    let extra = if syslog {
        crate::message::ParseFlags::SYSLOG_PROTOCOL
    } else {
        0
    };
    Ok((plan, extra))
}

/// The listener of a `tcp()`/`tcp6()` source.
pub fn listen_plan_tcp(
    o: &TcpSourceOptions,
    v6: bool,
    call: &Node,
    globals: &GlobalOptions,
) -> Result<StreamListenPlan, Diagnostic> {
    if o.tcp.tls.is_some() {
        return Err(Diagnostic::new(
            "tls() is not supported by the runtime yet",
            option_span(call, &["tls"]),
        ));
    }
    super::net_plan::check_driver(call, &o.reader)?;
    super::net_plan::check_dynamic_window(call, o.listener.dynamic_window_size)?;
    let addr = listen_addr(o.tcp.ip.as_deref(), o.tcp.port.as_ref(), 514, v6, call)?;
    Ok(stream_plan(
        addr,
        false,
        o.tcp.max_connections.get(),
        o.tcp.log_iw_size.get(),
        &o.reader,
        &o.socket,
        &o.listener,
        globals,
    ))
}

#[allow(clippy::too_many_arguments)]
fn stream_plan(
    addr: SocketAddr,
    framed: bool,
    max_connections: u32,
    log_iw_size: u32,
    reader: &ReaderOptions,
    socket: &InetSocketOptions,
    listener: &ListenerOptions,
    globals: &GlobalOptions,
) -> StreamListenPlan {
    let max = settings::log_msg_size(reader, globals);
    let trim = reader
        .trim_large_messages
        .unwrap_or(globals.trim_large_messages);
    let framing = if framed {
        Framing::OctetCounted(OctetCounted::new(max, trim))
    } else {
        let empty = reader.flags.contains(&SourceFlag::EmptyLines);
        Framing::Newline(Newline::new(max, empty))
    };
    // syslog-ng: log-iw-size() / max-connections(), raised to min-iw-size-per-reader().
    let per = (log_iw_size / max_connections.max(1)).max(globals.min_iw_size_per_reader.get());
    StreamListenPlan {
        addr,
        framing,
        max_connections: max_connections as usize,
        window_per_connection: per,
        listen_backlog: listener.listen_backlog.get(),
        so_rcvbuf: socket.so_rcvbuf,
        so_keepalive: socket.so_keepalive,
        so_reuseport: socket.so_reuseport,
        ip_freebind: socket.ip_freebind,
        interface: socket.interface.clone(),
        keep_alive: listener.keep_alive,
    }
}

pub(crate) fn listen_addr(
    ip: Option<&str>,
    port: Option<&Port>,
    default_port: u16,
    v6: bool,
    call: &Node,
) -> Result<SocketAddr, Diagnostic> {
    let port = match port {
        None => default_port,
        Some(Port::Number(n)) => *n,
        Some(Port::Service(name)) => service_port(name).ok_or_else(|| {
            Diagnostic::new(
                format!("unknown service `{name}`"),
                option_span(call, &["port", "localport"]),
            )
        })?,
    };
    let ip = ip.unwrap_or(if v6 { "::" } else { "0.0.0.0" });
    if let Ok(a) = ip.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(a, port));
    }
    use std::net::ToSocketAddrs;
    (ip, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.find(|a| a.is_ipv6() == v6))
        .ok_or_else(|| {
            Diagnostic::new(
                format!("cannot resolve `{ip}`"),
                option_span(call, &["ip", "localip"]),
            )
        })
}

/// A service name from /etc/services (TCP).
fn service_port(name: &str) -> Option<u16> {
    let c_name = std::ffi::CString::new(name).ok()?;
    // SAFETY: valid NUL-terminated strings; the returned entry is read right away, before any
    // other getservbyname call on this thread could overwrite it.
    unsafe {
        let ent = libc::getservbyname(c_name.as_ptr(), c"tcp".as_ptr());
        if ent.is_null() {
            return None;
        }
        Some(u16::from_be((*ent).s_port as u16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};
    use crate::actors::socket_options::PeerVerify;

    #[test]
    fn network_defaults() {
        let o: NetworkSourceOptions = check("network()");
        assert_eq!(o.network.ip, None);
        assert_eq!(o.network.port, None);
        assert_eq!(o.network.transport, None);
        assert_eq!(o.network.ip_protocol, IpProtocol::V4);
        assert_eq!(o.network.max_connections.get(), 10);
        assert_eq!(o.network.log_iw_size.get(), 1000);
        assert_eq!(o.listener, ListenerOptions::default());
        assert_eq!(o.listener.listen_backlog.get(), 255);
        assert!(o.listener.keep_alive);
        assert_eq!(o.socket, InetSocketOptions::default());
    }

    #[test]
    fn network_full_example() {
        let o: NetworkSourceOptions = check(
            r#"network(ip("0.0.0.0") port(6514) transport("tls") ip-protocol(6)
                max-connections(1000) log-iw-size(100000) keep-alive(no) so-rcvbuf(1048576)
                tls(key-file("/etc/sluice/key.pem") cert-file("/etc/sluice/cert.pem")
                    peer-verify(optional-untrusted) ssl-options(no-sslv3, no-tlsv1)
                    cipher-suite(tls12-and-older("HIGH") tls13("TLS_AES_256_GCM_SHA384")))
                flags(syslog-protocol) hook-commands(startup("iptables -I x")))"#,
        );
        assert_eq!(o.network.port, Some(Port::Number(6514)));
        assert_eq!(o.network.transport, Some(Transport::Tls));
        assert_eq!(o.network.ip_protocol, IpProtocol::V6);
        assert_eq!(o.network.max_connections.get(), 1000);
        assert!(!o.listener.keep_alive);
        assert_eq!(o.socket.so_rcvbuf, Some(1048576));
        let tls = o.network.tls.unwrap_or_default();
        assert_eq!(tls.peer_verify, PeerVerify::OptionalUntrusted);
        assert_eq!(tls.ssl_options.len(), 2);
        let suite = tls.cipher_suite.unwrap_or_default();
        assert_eq!(suite.tls12_and_older.as_deref(), Some("HIGH"));
        let o: NetworkSourceOptions = check(
            r#"syslog(localip(127.0.0.1) localport("syslog") transport(text-with-nuls)
                tls(peer-verify(no)))"#,
        );
        assert_eq!(o.network.ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(o.network.port, Some(Port::Service("syslog".into())));
    }

    #[test]
    fn network_errors() {
        let e = err::<NetworkSourceOptions>("network(max-conections(10))");
        assert_eq!(e.notes, vec!["did you mean `max-connections`?"]);
        let e = err::<NetworkSourceOptions>("network(transport(sctp))");
        assert_eq!(e.message, "unknown value `sctp`");
        err::<NetworkSourceOptions>("network(ip-protocol(5))");
        err::<NetworkSourceOptions>("network(port(70000))");
        let e = err::<NetworkSourceOptions>("network(tls(peer-verify(maybe)))");
        assert_eq!(e.message, "unknown value `maybe`");
        let e = err::<NetworkSourceOptions>(r#"network(tls(keyfile("/k")))"#);
        assert_eq!(e.notes, vec!["did you mean `key-file`?"]);
        err::<NetworkSourceOptions>("network(spoof-source(yes))");
        // What syslog-ng checks when the source starts.
        let e = err::<NetworkSourceOptions>("network(transport(tls))");
        assert_eq!(e.message, "transport(tls) needs tls() options");
        let e = err::<NetworkSourceOptions>(r#"syslog(tls(ca-dir("/c")))"#);
        assert!(e.message.contains("transport(tcp)"), "{}", e.message);
        err::<NetworkSourceOptions>(r#"network(transport(udp) tls(ca-dir("/c")))"#);
        let text = r#"tcp(tls(ca-dir("/c") sni(yes)))"#;
        let e = err::<TcpSourceOptions>(text);
        assert_eq!(e.message, "sni() is a destination option");
        let span = e.span.unwrap_or_default();
        assert_eq!(&text[span.start as usize..span.end as usize], "sni");
    }

    #[test]
    fn tcp_and_udp() {
        let o: TcpSourceOptions = check("tcp(port(1514) max-connections(100) tls(ca-dir(\"/c\")))");
        assert_eq!(o.tcp.port, Some(Port::Number(1514)));
        assert_eq!(o.tcp.max_connections.get(), 100);
        assert!(o.tcp.tls.is_some());
        err::<TcpSourceOptions>("tcp(transport(udp))");
        err::<TcpSourceOptions>("tcp(ip-protocol(6))");
        let o: UdpSourceOptions = check("udp(ip(0.0.0.0) port(514) so-rcvbuf(8388608))");
        assert_eq!(o.udp.log_iw_size.get(), 1000);
        assert_eq!(o.socket.so_rcvbuf, Some(8388608));
        let e = err::<UdpSourceOptions>("udp(max-connections(10))");
        assert_eq!(e.message, "unknown option `max-connections`");
        err::<UdpSourceOptions>("udp(tls(ca-dir(\"/c\")))");
        err::<UdpSourceOptions>("udp(keep-alive(yes))");
    }
}
