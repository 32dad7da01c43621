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
use crate::actors::sources::socket::{
    DestTransport, InetSocketOptions, IpProtocol, Port, TlsOptions, check_transport_tls,
};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{MarkMode, yes};
use crate::driver_options;

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
