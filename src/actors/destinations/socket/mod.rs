//! The runtime of the socket destinations — `network()`, `syslog()`, `tcp()`, `tcp6()`,
//! `udp()`, `udp6()` (options in `super::network`) and `unix-stream()`, `unix-dgram()`
//! (`super::unix`) — as two [`Sink`](super::writer::Sink)s for the shared writer loop:
//! [`StreamSink`] (TCP and UNIX stream sockets) and [`DgramSink`] (UDP and UNIX datagram
//! sockets).
//!
//! What syslog-ng 3.38 does, checked by running it against listeners that recorded the bytes
//! (tests/runtime_net_dest.rs and tests/runtime_unix_dest.rs keep the recordings):
//!
//! * it connects when the destination starts, not at the first message; a connection that
//!   fails, a name that does not resolve (`Error resolving hostname`), a peer that closes
//!   the connection while idle (`EOF occurred while idle`) or talks back with
//!   `close-on-input(yes)` is retried every `time-reopen()`, while messages wait in the
//!   queue;
//! * `network()`/`tcp()`/`unix-*()` send `<PRI>` RFC 3164 lines ending in a newline;
//!   `syslog()` RFC 5424 lines (also ending in a newline) with RFC 6587 octet counting,
//!   `LEN SP MSG`, where LEN counts the newline; `transport(framed)` frames the same way
//!   whatever the format; datagrams carry one message each, unframed, newline included;
//! * a UDP datagram is cut to 65507 bytes (IPv4 and IPv6 alike), losing the newline; a UNIX
//!   datagram is not cut: one larger than the socket takes fails with `Message too long`
//!   and is retried after `time-reopen()`, as in 3.38 (`flags(ignore-errors)` drops it);
//! * a connected UDP socket that gets `Connection refused` (nobody listens) is an error like
//!   any other: reopened after `time-reopen()`, the message kept;
//! * a message whose template renders to nothing is not sent (but counts as written).
//!
//! Where sluice goes further: before writing a batch it checks whether the peer closed the
//! connection, so a batch is not written into a socket that is already half closed, and
//! after a failed write it reports exactly which messages were written completely
//! ([`SendError::written`](super::writer::SendError)); the rest are sent again on the new
//! connection. (Bytes the kernel accepted but the peer never read are beyond any sender's
//! knowledge without application-level acks.)
//!
//! `keep-alive(yes)` (the default): on reload the connected socket is parked in the driver's
//! `Parking` (`runtime::driver`) and the new configuration's driver of the same persist name
//! adopts it, so the peer sees one connection across reloads.

mod connect;
mod dgram;
mod stream;

use std::os::fd::OwnedFd;
use std::path::PathBuf;

pub use dgram::DgramSink;
pub use stream::StreamSink;

use super::network::{
    NetworkDestinationOptions, TcpDestinationOptions, UdpDestinationOptions, plan_network,
    plan_tcp, plan_udp,
};
use super::unix::{UnixDestinationOptions, plan_unix};
use super::writer::{self, WriterPlan};
use crate::actors::options::DriverOptions;
use crate::actors::runtime::driver::{DestStart, DestinationDriver};
use crate::config::Node;
use crate::config::ast::keyword_eq;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;
use crate::pipeline::BuildEnv;

/// Where a socket destination sends to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A host name or address, resolved at every connection attempt (syslog-ng does the
    /// same: a name that does not resolve is retried after `time-reopen()`, not a
    /// configuration error).
    Inet { host: String, port: u16, v6: bool },
    /// A UNIX domain socket.
    Unix(PathBuf),
}

impl Target {
    /// How logs name the address: `127.0.0.1:514`, `[::1]:514`, `/dev/log`.
    fn key(&self) -> String {
        match self {
            Target::Inet { host, port, .. } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Inet { host, port, .. } => format!("{host}:{port}"),
            Target::Unix(p) => p.display().to_string(),
        }
    }

    /// How syslog-ng 3.38 names the address in persist names (from its "conflicting
    /// persist-names" error): `127.0.0.1:514`, `[::1]:514`, `localhost.afunix:/dev/log`.
    fn persist_key(&self) -> String {
        match self {
            Target::Unix(p) => format!("localhost.afunix:{}", p.display()),
            inet => inet.key(),
        }
    }
}

/// Stream or datagram socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockKind {
    Stream,
    Dgram,
}

/// Socket options of the driver (`so-*()`, `ip-*()`, `tcp-keepalive-*()`, `interface()`);
/// `None`/`false` leaves the system's setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SockOpts {
    pub rcvbuf: Option<u32>,
    pub sndbuf: Option<u32>,
    pub broadcast: bool,
    pub keepalive: bool,
    pub reuseport: bool,
    pub ttl: Option<u32>,
    pub tos: Option<u32>,
    pub freebind: bool,
    pub keepalive_time: Option<u32>,
    pub keepalive_intvl: Option<u32>,
    pub keepalive_probes: Option<u32>,
    pub interface: Option<String>,
}

/// What a socket destination needs to run, derived from its options and the globals.
#[derive(Debug, Clone)]
pub struct SocketDestPlan {
    /// The driver's name as written in the configuration (for logs): `network`, `tcp6`...
    pub driver: String,
    pub writer: WriterPlan,
    pub target: Target,
    pub kind: SockKind,
    /// RFC 6587 octet counting (`syslog()` over TCP, `transport(framed)`).
    pub octet_counted: bool,
    /// `localip()`; `None` is any address.
    pub local_ip: Option<String>,
    /// `localport()`; 0 is any port.
    pub local_port: u16,
    pub opts: SockOpts,
    /// `keep-alive()`: hand the connection to the next configuration on reload.
    pub keep_alive: bool,
    /// `close-on-input()`: a peer that sends anything is taken as broken.
    pub close_on_input: bool,
    /// The persist name, as syslog-ng 3.38 makes it: `afsocket_dd.(stream,HOST:PORT)`, or
    /// `afsocket_dd.(NAME)` with `persist-name(NAME)`.
    pub persist_name: String,
}

impl SocketDestPlan {
    /// syslog-ng's persist name of a socket destination: `persist-name()` or derived from
    /// the socket type and the address.
    pub fn persist_name(given: Option<&str>, kind: SockKind, target: &Target) -> String {
        if let Some(name) = given {
            return format!("afsocket_dd.({name})");
        }
        let kind = match kind {
            SockKind::Stream => "stream",
            SockKind::Dgram => "dgram",
        };
        format!("afsocket_dd.({kind},{})", target.persist_key())
    }

    /// How logs name the destination: `network('10.0.0.1:514')`.
    pub fn describe(&self) -> String {
        format!("{}('{}')", self.driver, self.target.key())
    }
}

impl DestinationDriver for SocketDestPlan {
    fn persist_name(&self, _driver_id: &str) -> String {
        self.persist_name.clone()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    /// `tcp,HOST:PORT`, `udp,HOST:PORT`, `unix-stream,localhost.afunix:PATH` (the transport,
    /// not the driver's name: `tcp6()` is `tcp,[::1]:514`).
    fn stats_rows(&self) -> Option<crate::actors::runtime::stats::DestRows> {
        let transport = match (&self.target, self.kind) {
            (Target::Inet { .. }, SockKind::Stream) => "tcp",
            (Target::Inet { .. }, SockKind::Dgram) => "udp",
            (Target::Unix(_), SockKind::Stream) => "unix-stream",
            (Target::Unix(_), SockKind::Dgram) => "unix-dgram",
        };
        Some(crate::actors::runtime::stats::DestRows {
            level: 0,
            instance: format!("{transport},{}", self.target.persist_key()),
            writer: true,
            per_file: false,
        })
    }

    fn unique_persist_name(&self) -> bool {
        true
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    /// A connection the previous configuration's driver of this persist name parked
    /// (`keep-alive(yes)`) is adopted.
    fn start(&self, cx: DestStart<'_>) {
        let adopt = cx
            .inherited
            .and_then(|s| s.downcast::<OwnedFd>().ok())
            .map(|b| *b);
        let plan = self.clone();
        match plan.kind {
            SockKind::Stream => {
                let sink =
                    StreamSink::new(plan, adopt, cx.park).reporting_to(cx.writer.queue.clone());
                writer::start(cx.arbiter, sink, cx.writer, cx.done)
            }
            SockKind::Dgram => {
                let sink = DgramSink::new(plan, adopt, cx.park);
                writer::start(cx.arbiter, sink, cx.writer, cx.done)
            }
        }
    }
}

/// Plans a socket destination call (`network()`, `syslog()`, `tcp()`, `tcp6()`, `udp()`,
/// `udp6()`, `unix-stream()`, `unix-dgram()`: the registry's entry for each).
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn DestinationDriver>, Diagnostic> {
    match plan(call, globals, env) {
        Some(p) => Ok(Box::new(p?)),
        None => Err(Diagnostic::new(
            "expected a socket destination driver",
            call.span(),
        )),
    }
}

/// Plans `call` if it is one of the socket destination drivers (`None` otherwise).
pub fn plan(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Option<Result<SocketDestPlan, Diagnostic>> {
    let Node::Call { name, .. } = call else {
        return None;
    };
    let n = name.value.as_str();
    let is = |k: &str| keyword_eq(n, k);
    Some(if is("network") || is("syslog") {
        NetworkDestinationOptions::from_call(call)
            .and_then(|o| plan_network(&o, n, is("syslog"), call, globals, env))
    } else if is("tcp") || is("tcp6") {
        TcpDestinationOptions::from_call(call)
            .and_then(|o| plan_tcp(&o, n, is("tcp6"), call, globals, env))
    } else if is("udp") || is("udp6") {
        UdpDestinationOptions::from_call(call)
            .and_then(|o| plan_udp(&o, n, is("udp6"), call, globals, env))
    } else if is("unix-stream") || is("unix-dgram") {
        UnixDestinationOptions::from_call(call)
            .and_then(|o| plan_unix(&o, n, is("unix-dgram"), call, globals, env))
    } else {
        return None;
    })
}

/// Plans and messages for the sinks' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;
    use std::time::Duration;

    use super::{SockKind, SockOpts, SocketDestPlan, Target};
    use crate::actors::destinations::writer::{
        MarkPlan, RenderPlan, Renderer, WriterPlan, test_entry,
    };
    use crate::actors::runtime::queue::Entry;
    use crate::config::global_options::MarkMode;
    use crate::message::{Builtin, LogMessage, UnixTime};
    use crate::template::{DaemonInfo, OutputFormat, TemplateOptions};

    /// A plan sending the network format to `target`, time-reopen(1).
    pub fn plan(target: Target, kind: SockKind) -> SocketDestPlan {
        let render = RenderPlan::with_format(OutputFormat::Network, TemplateOptions::default());
        SocketDestPlan {
            driver: "network".into(),
            writer: WriterPlan {
                render,
                batch_lines: 100,
                time_reopen: Duration::from_secs(1),
                fifo_size: 100,
                throttle: 0,
                suppress: None,
                mark: MarkPlan::new(MarkMode::None, None, &Default::default()),
                ignore_errors: false,
                disk: None,
            },
            target,
            kind,
            octet_counted: false,
            local_ip: None,
            local_port: 0,
            opts: SockOpts::default(),
            keep_alive: true,
            close_on_input: true,
            persist_name: "p".into(),
        }
    }

    pub fn renderer(p: &SocketDestPlan) -> Renderer {
        Renderer::new(p.writer.render.clone(), Arc::new(DaemonInfo::default()))
    }

    /// `<13>Jan  1 00:00:00 h TEXT\n` once rendered.
    pub fn entry(text: &str) -> Entry {
        let mut m = LogMessage::new(UnixTime {
            sec: 0,
            usec: 0,
            gmtoff: 0,
        });
        m.pri = 13;
        m.nv.set_builtin(Builtin::Host, b"h");
        m.nv.set_builtin(Builtin::Message, text.as_bytes());
        test_entry(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::runtime::plan::plan as plan_config;
    use crate::config::load::{LoadOptions, load_str};
    use crate::template::OutputFormat;

    /// Plans one destination `driver` (fed by a tcp source), or returns the error messages.
    fn try_plan(driver: &str) -> Result<SocketDestPlan, Vec<String>> {
        let text = format!(
            "@version: 3.38\nsource s {{ tcp(port(5140)); }};\n\
             destination d {{ {driver}; }};\nlog {{ source(s); destination(d); }};\n"
        );
        let loaded = load_str("t.conf", &text, &LoadOptions::default())
            .map_err(|e| vec![format!("{e:?}")])?;
        let model = crate::config::model::build(&loaded.ast).map_err(|e| vec![format!("{e:?}")])?;
        let mut p = plan_config(&model)
            .map_err(|e| e.into_iter().map(|d| d.message).collect::<Vec<_>>())?;
        match p.dests.pop().map(|d| d.driver) {
            Some(d) => d
                .as_any()
                .downcast_ref::<SocketDestPlan>()
                .cloned()
                .ok_or_else(|| vec!["not a socket destination".into()]),
            None => Err(vec!["no destination".into()]),
        }
    }

    fn planned(driver: &str) -> SocketDestPlan {
        try_plan(driver).unwrap_or_else(|e| panic!("{driver}: {e:?}"))
    }

    fn inet(p: &SocketDestPlan) -> (String, u16, bool) {
        match &p.target {
            Target::Inet { host, port, v6 } => (host.clone(), *port, *v6),
            Target::Unix(_) => panic!("not inet"),
        }
    }

    #[test]
    fn drivers_pick_syslog_ngs_ports_framing_and_formats() {
        let p = planned(r#"network("10.0.0.1")"#);
        assert_eq!(inet(&p), ("10.0.0.1".into(), 514, false));
        assert_eq!((p.kind, p.octet_counted), (SockKind::Stream, false));
        assert_eq!(p.writer.render.format, OutputFormat::Network);
        assert!(p.keep_alive && p.close_on_input);
        assert_eq!(p.persist_name, "afsocket_dd.(stream,10.0.0.1:514)");
        let p = planned(r#"syslog("h")"#);
        assert_eq!(inet(&p).1, 601);
        assert_eq!((p.kind, p.octet_counted), (SockKind::Stream, true));
        assert_eq!(p.writer.render.format, OutputFormat::SyslogProtocol);
        let p = planned(r#"syslog("h" transport(udp))"#);
        assert_eq!(
            (inet(&p).1, p.kind, p.octet_counted),
            (514, SockKind::Dgram, false)
        );
        // 3.38 gives syslog(transport(framed)) port 514, not 601.
        let p = planned(r#"syslog("h" transport(framed))"#);
        assert_eq!((inet(&p).1, p.octet_counted), (514, true));
        let p = planned(r#"network("h" transport(framed) ip-protocol(6))"#);
        assert_eq!((inet(&p).1, inet(&p).2, p.octet_counted), (514, true, true));
        let p = planned(r#"tcp6("::1" port(1514) localport(2000) so-sndbuf(4096))"#);
        assert_eq!(inet(&p), ("::1".into(), 1514, true));
        assert_eq!((p.local_port, p.opts.sndbuf), (2000, Some(4096)));
        assert_eq!(p.persist_name, "afsocket_dd.(stream,[::1]:1514)");
        let p = planned(r#"udp("h" port("syslog") persist-name("mine") keep-alive(no))"#);
        assert_eq!((inet(&p).1, p.kind), (514, SockKind::Dgram));
        assert_eq!(p.persist_name, "afsocket_dd.(mine)");
        assert!(!p.keep_alive);
        let p = planned(r#"udp6("h" ip-ttl(3) ip-tos(16) so-broadcast(yes))"#);
        assert_eq!(
            (p.opts.ttl, p.opts.tos, p.opts.broadcast),
            (Some(3), Some(16), true)
        );
        let p = planned(r#"unix-dgram("/dev/log")"#);
        assert_eq!(p.target, Target::Unix("/dev/log".into()));
        assert_eq!(p.kind, SockKind::Dgram);
        let p = planned(r#"unix-stream("/s" close-on-input(no) flags(syslog-protocol))"#);
        assert_eq!(p.kind, SockKind::Stream);
        assert!(!p.close_on_input && !p.octet_counted);
        assert_eq!(p.writer.render.format, OutputFormat::SyslogProtocol);
    }

    #[test]
    fn what_the_runtime_lacks_is_refused_by_name() {
        let refused = |driver: &str, what: &str| {
            let e = try_plan(driver).err().unwrap_or_default();
            let want = format!("{what} is not supported by the runtime yet");
            assert!(e.contains(&want), "{driver}: {e:?}");
        };
        refused(
            r#"syslog("h" transport(tls) tls(ca-dir("/c")))"#,
            "transport(tls)",
        );
        refused(r#"tcp("h" tls(ca-dir("/c")))"#, "tls()");
        refused(r#"network("h" failover(servers("b")))"#, "failover()");
        refused(r#"tcp("h" failover-servers("b"))"#, "failover-servers()");
        refused(r#"udp("h" spoof-source(yes))"#, "spoof-source()");
        refused(
            r#"network("h" transport(udp) spoof-source(yes))"#,
            "spoof-source()",
        );
        let e = try_plan(r#"network("h" port("no-such-service"))"#)
            .err()
            .unwrap_or_default();
        assert!(
            e.contains(&"unknown service `no-such-service`".to_string()),
            "{e:?}"
        );
        // spoof-source(no) and spoof-source-max-msglen() alone are fine, as in syslog-ng.
        assert!(try_plan(r#"udp("h" spoof-source(no) spoof-source-max-msglen(100))"#).is_ok());
    }

    #[test]
    fn persist_names_follow_syslog_ng() {
        let t = Target::Inet {
            host: "127.0.0.1".into(),
            port: 514,
            v6: false,
        };
        assert_eq!(
            SocketDestPlan::persist_name(None, SockKind::Stream, &t),
            "afsocket_dd.(stream,127.0.0.1:514)"
        );
        assert_eq!(
            SocketDestPlan::persist_name(Some("foo"), SockKind::Stream, &t),
            "afsocket_dd.(foo)"
        );
        let t = Target::Inet {
            host: "::1".into(),
            port: 514,
            v6: true,
        };
        assert_eq!(
            SocketDestPlan::persist_name(None, SockKind::Dgram, &t),
            "afsocket_dd.(dgram,[::1]:514)"
        );
        let t = Target::Unix("/dev/log".into());
        assert_eq!(
            SocketDestPlan::persist_name(None, SockKind::Dgram, &t),
            "afsocket_dd.(dgram,localhost.afunix:/dev/log)"
        );
    }
}
