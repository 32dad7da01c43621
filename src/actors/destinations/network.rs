//! The IP destinations: `network()` and `syslog()` (any transport), and the older `tcp()`,
//! `tcp6()`, `udp()`, `udp6()`.
//!
//! `network()` sends newline-terminated messages (port 514), `syslog()` sends RFC 5424
//! messages with RFC 6587 octet-count framing (port 601 over TCP). Option sets checked
//! against syslog-ng 3.38: `tcp()` takes neither `transport()`, `ip-protocol()` nor
//! `spoof-source()`; `udp()` takes neither `transport()`, `ip-protocol()` nor `tls()`.
//! `mark-mode()` defaults to the global setting.

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::program::mark_mode_global;
use super::socket::{SockKind, SockOpts, SocketDestPlan, Target};
use super::writer::{WriterOptionsRef, plan_writer};
use crate::actors::options::option_span;
use crate::actors::socket_options::{
    DestTransport, InetSocketOptions, IpProtocol, Port, TlsOptions, check_transport_tls,
};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, MarkMode, yes};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use crate::template::OutputFormat;

fn default_spoof_source_max_msglen() -> u32 {
    1024
}

fn default_tcp_probe_interval() -> u32 {
    60
}

fn default_successful_probes_required() -> u32 {
    3
}

/// `failover()`: servers to use when the primary one is unreachable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Failover {
    /// The failover servers, tried in order.
    #[serde(default)]
    pub servers: Vec<String>,
    /// Return to the primary server once it is reachable again. Default: stay on the
    /// failover server.
    #[serde(default)]
    pub failback: Option<Failback>,
}

/// `failback()` of `failover()`: how the primary server is probed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Failback {
    /// Seconds between two TCP connection probes of the primary server. Default: 60.
    #[serde(default = "default_tcp_probe_interval")]
    pub tcp_probe_interval: u32,
    /// Successful probes needed before switching back. Default: 3.
    #[serde(default = "default_successful_probes_required")]
    pub successful_probes_required: u32,
}

/// Declares the own options struct of an IP destination; `$extra` are the fields only some
/// of the drivers take.
macro_rules! inet_destination {
    ($(#[$meta:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub struct $name {
            /// The host to send to: a name or an address (positional, required).
            #[serde(rename = "0:host")]
            pub host: String,
            /// Port to send to. Alias `destport()`. Default: 514 (601 for `syslog()` over
            /// TCP, 6514 with TLS).
            #[serde(default, alias = "destport")]
            pub port: Option<Port>,
            /// Local address to send from. Default: any.
            #[serde(default)]
            pub localip: Option<String>,
            /// Local port to send from. Default: any.
            #[serde(default)]
            pub localport: Option<Port>,
            /// Keep the connection open across reloads. Default: yes.
            #[serde(default = "yes")]
            pub keep_alive: bool,
            /// Close the connection when the server sends anything (servers do not talk back,
            /// so it means the connection is broken). Default: yes.
            #[serde(default = "yes")]
            pub close_on_input: bool,
            /// Failover servers. Default: none.
            #[serde(default)]
            pub failover: Option<Failover>,
            /// Obsolete form of `failover(servers(...))`.
            #[serde(default)]
            pub failover_servers: Vec<String>,
            /// When MARK messages are sent. Default: global.
            #[serde(default = "mark_mode_global")]
            pub mark_mode: MarkMode,
            $($extra)*
        }
    };
}

inet_destination!(
    /// The own options of the `network()` and `syslog()` destinations.
    NetworkDestination {
        /// Transport protocol. Default: tcp.
        #[serde(default)]
        pub transport: Option<DestTransport>,
        /// IP version: 4 or 6. Default: 4.
        #[serde(default)]
        pub ip_protocol: IpProtocol,
        /// TLS settings, required by the TLS transports. Default: none.
        #[serde(default)]
        pub tls: Option<TlsOptions>,
        /// Send UDP packets with the original sender's address (needs raw sockets).
        /// Default: no.
        #[serde(default)]
        pub spoof_source: bool,
        /// Longest message sent with a spoofed source address. Default: 1024.
        #[serde(default = "default_spoof_source_max_msglen")]
        pub spoof_source_max_msglen: u32,
    }
);

inet_destination!(
    /// The own options of the `tcp()` and `tcp6()` destinations.
    TcpDestination {
        /// TLS settings; with them, the connection is TLS. Default: none.
        #[serde(default)]
        pub tls: Option<TlsOptions>,
    }
);

inet_destination!(
    /// The own options of the `udp()` and `udp6()` destinations.
    UdpDestination {
        /// Send packets with the original sender's address (needs raw sockets). Default: no.
        #[serde(default)]
        pub spoof_source: bool,
        /// Longest message sent with a spoofed source address. Default: 1024.
        #[serde(default = "default_spoof_source_max_msglen")]
        pub spoof_source_max_msglen: u32,
    }
);

driver_options! {
    /// Options of the `network()` and `syslog()` destinations.
    pub struct NetworkDestinationOptions {
        pub network: NetworkDestination,
        pub dest: DestDriverOptions,
        pub writer: WriterOptions,
        pub template: TemplateOptions,
        pub socket: InetSocketOptions,
    }
    validate = validate_network;
}

fn validate_network(o: &NetworkDestinationOptions, call: &Node) -> Result<(), Diagnostic> {
    let transport = o.network.transport.map(DestTransport::as_transport);
    check_transport_tls(call, transport, o.network.tls.is_some())
}

driver_options! {
    /// Options of the `tcp()` and `tcp6()` destinations.
    pub struct TcpDestinationOptions {
        pub tcp: TcpDestination,
        pub dest: DestDriverOptions,
        pub writer: WriterOptions,
        pub template: TemplateOptions,
        pub socket: InetSocketOptions,
    }
}

driver_options! {
    /// Options of the `udp()` and `udp6()` destinations.
    pub struct UdpDestinationOptions {
        pub udp: UdpDestination,
        pub dest: DestDriverOptions,
        pub writer: WriterOptions,
        pub template: TemplateOptions,
        pub socket: InetSocketOptions,
    }
}

// ---------------------------------------------------------------------------------------
// Runtime: how these options become a running socket destination (see `super::socket`).

/// The options every IP destination has, whichever of the three structs they come from.
struct InetCommon<'a> {
    host: &'a str,
    port: Option<&'a Port>,
    localip: Option<&'a String>,
    localport: Option<&'a Port>,
    keep_alive: bool,
    close_on_input: bool,
    failover: bool,
    failover_servers: bool,
    mark_mode: MarkMode,
}

macro_rules! inet_common {
    ($o:expr) => {
        InetCommon {
            host: &$o.host,
            port: $o.port.as_ref(),
            localip: $o.localip.as_ref(),
            localport: $o.localport.as_ref(),
            keep_alive: $o.keep_alive,
            close_on_input: $o.close_on_input,
            failover: $o.failover.is_some(),
            failover_servers: !$o.failover_servers.is_empty(),
            mark_mode: $o.mark_mode,
        }
    };
}

/// How the driver sends, decided by the driver and its `transport()`.
struct Wire {
    kind: SockKind,
    octet_counted: bool,
    v6: bool,
    default_port: u16,
    format: OutputFormat,
}

/// The option groups of an IP destination.
struct Groups<'a> {
    dest: &'a DestDriverOptions,
    writer: &'a WriterOptions,
    template: &'a TemplateOptions,
    socket: &'a InetSocketOptions,
}

fn refuse<T>(what: &str, call: &Node, names: &[&str]) -> Result<T, Diagnostic> {
    Err(Diagnostic::new(
        format!("{what} is not supported by the runtime yet"),
        option_span(call, names),
    ))
}

/// Plans `network()` (`syslog` false) or `syslog()`: RFC 3164 lines or RFC 5424 with octet
/// counting over TCP (port 601 for `syslog()` over TCP, 514 otherwise, as 3.38 picks).
pub fn plan_network(
    o: &NetworkDestinationOptions,
    driver: &str,
    syslog: bool,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<SocketDestPlan, Diagnostic> {
    let n = &o.network;
    let transport = n.transport.unwrap_or(DestTransport::Tcp);
    if transport == DestTransport::Tls {
        return refuse("transport(tls)", call, &["transport"]);
    }
    if n.tls.is_some() {
        return refuse("tls()", call, &["tls"]);
    }
    if n.spoof_source {
        return refuse("spoof-source()", call, &["spoof-source"]);
    }
    let (kind, octet_counted) = match transport {
        DestTransport::Udp => (SockKind::Dgram, false),
        DestTransport::Framed => (SockKind::Stream, true),
        _ => (SockKind::Stream, syslog),
    };
    let wire = Wire {
        kind,
        octet_counted,
        v6: n.ip_protocol == IpProtocol::V6,
        default_port: if syslog && transport == DestTransport::Tcp {
            601
        } else {
            514
        },
        format: if syslog {
            OutputFormat::SyslogProtocol
        } else {
            OutputFormat::Network
        },
    };
    let groups = Groups {
        dest: &o.dest,
        writer: &o.writer,
        template: &o.template,
        socket: &o.socket,
    };
    plan_inet(driver, inet_common!(n), wire, groups, call, globals, env)
}

/// Plans `tcp()` (or `tcp6()`: `v6`).
pub fn plan_tcp(
    o: &TcpDestinationOptions,
    driver: &str,
    v6: bool,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<SocketDestPlan, Diagnostic> {
    if o.tcp.tls.is_some() {
        return refuse("tls()", call, &["tls"]);
    }
    let wire = Wire {
        kind: SockKind::Stream,
        octet_counted: false,
        v6,
        default_port: 514,
        format: OutputFormat::Network,
    };
    let groups = Groups {
        dest: &o.dest,
        writer: &o.writer,
        template: &o.template,
        socket: &o.socket,
    };
    plan_inet(
        driver,
        inet_common!(o.tcp),
        wire,
        groups,
        call,
        globals,
        env,
    )
}

/// Plans `udp()` (or `udp6()`: `v6`).
pub fn plan_udp(
    o: &UdpDestinationOptions,
    driver: &str,
    v6: bool,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<SocketDestPlan, Diagnostic> {
    if o.udp.spoof_source {
        return refuse("spoof-source()", call, &["spoof-source"]);
    }
    let wire = Wire {
        kind: SockKind::Dgram,
        octet_counted: false,
        v6,
        default_port: 514,
        format: OutputFormat::Network,
    };
    let groups = Groups {
        dest: &o.dest,
        writer: &o.writer,
        template: &o.template,
        socket: &o.socket,
    };
    plan_inet(
        driver,
        inet_common!(o.udp),
        wire,
        groups,
        call,
        globals,
        env,
    )
}

fn plan_inet(
    driver: &str,
    c: InetCommon<'_>,
    wire: Wire,
    g: Groups<'_>,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<SocketDestPlan, Diagnostic> {
    if c.failover {
        return refuse("failover()", call, &["failover"]);
    }
    if c.failover_servers {
        return refuse("failover-servers()", call, &["failover-servers"]);
    }
    let writer = plan_writer(
        WriterOptionsRef {
            dest: g.dest,
            writer: g.writer,
            template: g.template,
            mark_mode: c.mark_mode,
            format: wire.format,
        },
        call,
        globals,
        env,
    )?;
    let port = match c.port {
        None => wire.default_port,
        Some(p) => port_number(p, wire.kind, call, &["port", "destport"])?,
    };
    let local_port = match c.localport {
        None => 0,
        Some(p) => port_number(p, wire.kind, call, &["localport"])?,
    };
    let target = Target::Inet {
        host: c.host.to_string(),
        port,
        v6: wire.v6,
    };
    let s = g.socket;
    Ok(SocketDestPlan {
        driver: driver.to_string(),
        persist_name: SocketDestPlan::persist_name(
            g.dest.persist_name.as_deref(),
            wire.kind,
            &target,
        ),
        writer,
        target,
        kind: wire.kind,
        octet_counted: wire.octet_counted,
        local_ip: c.localip.cloned(),
        local_port,
        opts: SockOpts {
            rcvbuf: s.so_rcvbuf,
            sndbuf: s.so_sndbuf,
            broadcast: s.so_broadcast,
            keepalive: s.so_keepalive,
            reuseport: s.so_reuseport,
            ttl: s.ip_ttl,
            tos: s.ip_tos,
            freebind: s.ip_freebind,
            keepalive_time: s.tcp_keepalive_time,
            keepalive_intvl: s.tcp_keepalive_intvl,
            keepalive_probes: s.tcp_keepalive_probes,
            interface: s.interface.clone(),
        },
        keep_alive: c.keep_alive,
        close_on_input: c.close_on_input,
    })
}

/// A port number, or a service name looked up for the transport (`port("syslog")` is 514
/// over TCP too: /etc/services lists it as an alias of `shell`). syslog-ng 3.38 falls back to
/// port 0 for an unknown name and never connects; sluice says so at the option.
fn port_number(p: &Port, kind: SockKind, call: &Node, names: &[&str]) -> Result<u16, Diagnostic> {
    match p {
        Port::Number(n) => Ok(*n),
        Port::Service(name) => service_port(name, kind).ok_or_else(|| {
            Diagnostic::new(
                format!("unknown service `{name}`"),
                option_span(call, names),
            )
        }),
    }
}

/// The port of a service name (getaddrinfo, thread-safe unlike getservbyname).
fn service_port(name: &str, kind: SockKind) -> Option<u16> {
    let c_name = std::ffi::CString::new(name).ok()?;
    // SAFETY: zeroed addrinfo is a valid "no hints" value; fields are set below.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_INET;
    hints.ai_socktype = match kind {
        SockKind::Stream => libc::SOCK_STREAM,
        SockKind::Dgram => libc::SOCK_DGRAM,
    };
    hints.ai_flags = libc::AI_PASSIVE;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: no node, a valid NUL-terminated service, valid hints; res is freed below.
    let rc = unsafe { libc::getaddrinfo(std::ptr::null(), c_name.as_ptr(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    // SAFETY: res is a valid list; with AF_INET its first address is a sockaddr_in. It is
    // freed once, after the read.
    unsafe {
        let ai = &*res;
        let port = (!ai.ai_addr.is_null())
            .then(|| u16::from_be((*(ai.ai_addr as *const libc::sockaddr_in)).sin_port));
        libc::freeaddrinfo(res);
        port
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};

    #[test]
    fn defaults() {
        let o: NetworkDestinationOptions = check(r#"network("10.0.0.1")"#);
        assert_eq!(o.network.host, "10.0.0.1");
        assert_eq!(o.network.port, None);
        assert_eq!(o.network.transport, None);
        assert!(o.network.keep_alive && o.network.close_on_input);
        assert!(!o.network.spoof_source);
        assert_eq!(o.network.spoof_source_max_msglen, 1024);
        assert_eq!(o.network.mark_mode, MarkMode::Global);
        assert_eq!(o.socket, InetSocketOptions::default());
    }

    #[test]
    fn full_example() {
        let o: NetworkDestinationOptions = check(
            r#"syslog("logs.example.com" port(6514) transport(tls)
                tls(ca-dir("/etc/ssl/certs") peer-verify(required-trusted) sni(yes))
                failover(servers("backup1" "backup2") failback(tcp-probe-interval(30)))
                time-reopen(10) so-keepalive(yes) tcp-keepalive-time(60) localip("10.0.0.2")
                disk-buffer(disk-buf-size(1073741824) reliable(yes) dir("/var/lib/sluice"))
                log-fifo-size(10000) template("$MSG\n") ts-format(iso) frac-digits(6))"#,
        );
        assert_eq!(o.network.port, Some(Port::Number(6514)));
        assert_eq!(o.network.transport, Some(DestTransport::Tls));
        assert!(o.network.tls.as_ref().is_some_and(|t| t.sni));
        let failover = o.network.failover.unwrap_or(Failover {
            servers: vec![],
            failback: None,
        });
        assert_eq!(failover.servers, vec!["backup1", "backup2"]);
        assert_eq!(
            failover
                .failback
                .map(|f| (f.tcp_probe_interval, f.successful_probes_required)),
            Some((30, 3))
        );
        assert_eq!(o.writer.time_reopen.map(|n| n.get()), Some(10));
        assert!(o.socket.so_keepalive);
        assert_eq!(o.socket.tcp_keepalive_time, Some(60));
        let o: UdpDestinationOptions = check(r#"udp("10.0.0.1" spoof-source(yes) destport(5514))"#);
        assert!(o.udp.spoof_source);
        assert_eq!(o.udp.port, Some(Port::Number(5514)));
        let o: TcpDestinationOptions = check(r#"tcp("h" port(1514) failover-servers("b"))"#);
        assert_eq!(o.tcp.failover_servers, vec!["b"]);
    }

    #[test]
    fn errors() {
        let e = err::<NetworkDestinationOptions>(r#"network("h" prot(514))"#);
        assert_eq!(e.notes, vec!["did you mean `port`?"]);
        err::<NetworkDestinationOptions>("network(port(514))");
        err::<NetworkDestinationOptions>(r#"network("h" max-connections(10))"#);
        err::<NetworkDestinationOptions>(r#"network("h" batch-lines(10))"#);
        err::<TcpDestinationOptions>(r#"tcp("h" spoof-source(yes))"#);
        err::<TcpDestinationOptions>(r#"tcp("h" transport(udp))"#);
        err::<UdpDestinationOptions>(r#"udp("h" tls(ca-dir("/x")))"#);
        // Source-only transports, and the TLS checks syslog-ng makes at startup.
        err::<NetworkDestinationOptions>(r#"network("h" transport(proxied-tcp))"#);
        let e = err::<NetworkDestinationOptions>(r#"syslog("h" transport(tls))"#);
        assert_eq!(e.message, "transport(tls) needs tls() options");
        err::<NetworkDestinationOptions>(r#"network("h" tls(ca-dir("/x")))"#);
        let e = err::<UdpDestinationOptions>(r#"udp("h" port(-1))"#);
        assert!(e.message.contains("port"), "{}", e.message);
    }
}
