//! Planning the datagram and unix-socket sources: `udp()`, `udp6()`, `network()`/`syslog()`
//! with `transport(udp)`, `unix-dgram()` and `unix-stream()`. Their options become a
//! [`NetSource`] the graph starts (`sources::net_start`); what the runtime cannot
//! honour is refused here, by name, at its span.
//!
//! Honoured: `ip()`, `port()` (514 for every UDP driver, `syslog()` included), `so-rcvbuf()`,
//! `so-reuseport()`, `so-broadcast()`, `ip-freebind()`, `interface()`, `log-msg-size()`,
//! `log-iw-size()`, `flags()`, `max-connections()`, `listen-backlog()`, `keep-alive()`,
//! `create-dirs()`, `owner()`/`group()`/`perm()`/`dir-*()`, `optional()`, `so-passcred()` /
//! `pass-unix-credentials()`. Irrelevant for a receiver and accepted, as syslog-ng does:
//! `ip-ttl()`, `ip-tos()`, `so-sndbuf()`, `so-keepalive()`, `tcp-keepalive-*()`, the listener
//! options of `network(transport(udp))`; `hook-commands()` runs as for every driver
//! (`runtime::hooks`). Refused: `encoding()`, a `format()` other than syslog,
//! `dynamic-window-size()` on unix sockets.

use super::common::{ReaderOptions, SourceFlag, SourceOptions, option_span};
use super::dgram::{DgramKind, DgramPlan, UdpBind};
use super::network::{NetworkSourceOptions, UdpSourceOptions, listen_addr};
use super::stream::Framing;
use super::unix::{UnixDgramSourceOptions, UnixStreamSourceOptions};
use super::unix_socket::{DEFAULT_DIR_PERM, SocketFilePlan, owner_id, socket_perm};
use super::unix_stream::UnixStreamPlan;
use crate::actors::runtime::settings;
use crate::actors::socket_options::{InetSocketOptions, IpProtocol, Transport};
use crate::actors::sources::common::{DriverOptions, FilePermOptions};
use crate::config::Node;
use crate::config::ast::keyword_eq;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{FileMode, GlobalOptions};
use crate::message::ParseFlags;
use crate::message::framing::Newline;

/// A datagram or unix-stream source, ready to start.
#[derive(Debug, Clone)]
pub struct NetSource {
    pub kind: NetKind,
    /// Parse flags the driver sets after the user's (`LOCAL` on unix sockets, RFC 5424 for
    /// `syslog()`), and the ones it clears (`expect-hostname` on unix sockets).
    pub set_flags: u32,
    pub clear_flags: u32,
    pub source: SourceOptions,
    pub reader: ReaderOptions,
}

/// What runs a [`NetSource`].
#[derive(Debug, Clone)]
pub enum NetKind {
    Dgram(DgramPlan),
    UnixStream(UnixStreamPlan),
}

/// Plans a `unix-dgram()` or `unix-stream()` call.
pub fn plan_unix_source(
    call: &Node,
    globals: &GlobalOptions,
    _env: &crate::pipeline::BuildEnv<'_>,
) -> Result<Box<dyn crate::actors::runtime::driver::SourceDriver>, Diagnostic> {
    match plan_net_source(call, globals)? {
        Some(n) => Ok(Box::new(n)),
        None => Err(Diagnostic::new(
            "expected a unix socket driver",
            call.span(),
        )),
    }
}

/// Plans `call` when it is one of the drivers this module runs; `Ok(None)` otherwise
/// (including `network()`/`syslog()` over TCP).
pub fn plan_net_source(
    call: &Node,
    globals: &GlobalOptions,
) -> Result<Option<NetSource>, Diagnostic> {
    let Node::Call { name, .. } = call else {
        return Ok(None);
    };
    let n = name.value.as_str();
    if keyword_eq(n, "udp") || keyword_eq(n, "udp6") {
        let o = UdpSourceOptions::from_call(call)?;
        check_driver(call, &o.reader)?;
        let addr = listen_addr(
            o.udp.ip.as_deref(),
            o.udp.port.as_ref(),
            514,
            keyword_eq(n, "udp6"),
            call,
        )?;
        let plan = udp_plan(addr, &o.socket, o.udp.log_iw_size.get(), &o.reader, globals);
        return Ok(Some(net(plan, 0, 0, o.source, o.reader)));
    }
    if keyword_eq(n, "network") || keyword_eq(n, "syslog") {
        let o = NetworkSourceOptions::from_call(call)?;
        if o.network.transport != Some(Transport::Udp) {
            return Ok(None);
        }
        check_driver(call, &o.reader)?;
        let addr = listen_addr(
            o.network.ip.as_deref(),
            o.network.port.as_ref(),
            514,
            o.network.ip_protocol == IpProtocol::V6,
            call,
        )?;
        let plan = udp_plan(
            addr,
            &o.socket,
            o.network.log_iw_size.get(),
            &o.reader,
            globals,
        );
        let set = if keyword_eq(n, "syslog") {
            ParseFlags::SYSLOG_PROTOCOL
        } else {
            0
        };
        return Ok(Some(net(plan, set, 0, o.source, o.reader)));
    }
    let (set, clear) = (ParseFlags::LOCAL, ParseFlags::EXPECT_HOSTNAME);
    if keyword_eq(n, "unix-dgram") {
        let o = UnixDgramSourceOptions::from_call(call)?;
        check_driver(call, &o.reader)?;
        check_dynamic_window(call, o.unix.dynamic_window_size)?;
        let u = &o.unix;
        let file = file_plan(
            &u.path,
            u.create_dirs,
            u.optional,
            &o.perm,
            o.socket.so_rcvbuf,
            globals,
        );
        let plan = DgramPlan {
            kind: DgramKind::Unix {
                file,
                passcred: passcred(u.so_passcred, u.pass_unix_credentials, &o.reader, globals),
            },
            max_msg_size: settings::log_msg_size(&o.reader, globals),
            window: u.log_iw_size.get(),
        };
        return Ok(Some(net(
            NetKind::Dgram(plan),
            set,
            clear,
            o.source,
            o.reader,
        )));
    }
    if keyword_eq(n, "unix-stream") {
        let o = UnixStreamSourceOptions::from_call(call)?;
        check_driver(call, &o.reader)?;
        check_dynamic_window(call, o.unix.dynamic_window_size)?;
        let u = &o.unix;
        let file = file_plan(
            &u.path,
            u.create_dirs,
            u.optional,
            &o.perm,
            o.socket.so_rcvbuf,
            globals,
        );
        let max = settings::log_msg_size(&o.reader, globals);
        let empty = o.reader.flags.contains(&SourceFlag::EmptyLines);
        let max_connections = u.max_connections.get();
        // syslog-ng: log-iw-size() / max-connections(), raised to min-iw-size-per-reader().
        let per = (u.log_iw_size.get() / max_connections.max(1))
            .max(globals.min_iw_size_per_reader.get());
        let plan = UnixStreamPlan {
            file,
            framing: Framing::Newline(Newline::new(max, empty)),
            max_connections: max_connections as usize,
            window_per_connection: per,
            listen_backlog: u.listen_backlog.get(),
            keep_alive: u.keep_alive,
            passcred: passcred(u.so_passcred, u.pass_unix_credentials, &o.reader, globals),
        };
        return Ok(Some(net(
            NetKind::UnixStream(plan),
            set,
            clear,
            o.source,
            o.reader,
        )));
    }
    Ok(None)
}

fn net(
    kind: NetKind,
    set_flags: u32,
    clear_flags: u32,
    source: SourceOptions,
    reader: ReaderOptions,
) -> NetSource {
    NetSource {
        kind,
        set_flags,
        clear_flags,
        source,
        reader,
    }
}

fn udp_plan(
    addr: std::net::SocketAddr,
    s: &InetSocketOptions,
    log_iw_size: u32,
    reader: &ReaderOptions,
    globals: &GlobalOptions,
) -> NetKind {
    NetKind::Dgram(DgramPlan {
        kind: DgramKind::Udp(UdpBind {
            addr,
            so_rcvbuf: s.so_rcvbuf,
            so_reuseport: s.so_reuseport,
            so_broadcast: s.so_broadcast,
            ip_freebind: s.ip_freebind,
            interface: s.interface.clone(),
        }),
        max_msg_size: settings::log_msg_size(reader, globals),
        window: log_iw_size,
    })
}

/// `so-passcred()`, else the deprecated `pass-unix-credentials()` of the driver, else the
/// global one; `flags(ignore-aux-data)` turns it off.
fn passcred(
    so_passcred: Option<bool>,
    deprecated: Option<bool>,
    reader: &ReaderOptions,
    globals: &GlobalOptions,
) -> bool {
    !reader.flags.contains(&SourceFlag::IgnoreAuxData)
        && so_passcred
            .or(deprecated)
            .unwrap_or(globals.pass_unix_credentials)
}

fn file_plan(
    path: &str,
    create_dirs: Option<bool>,
    optional: bool,
    perm: &FilePermOptions,
    so_rcvbuf: Option<u32>,
    globals: &GlobalOptions,
) -> SocketFilePlan {
    let id = |o, group| {
        owner_id(o, group).unwrap_or_else(|name| {
            let what = if group { "group" } else { "user" };
            tracing::error!("Error resolving {what}; {what}='{name}'");
            None
        })
    };
    SocketFilePlan {
        path: path.into(),
        create_dirs: create_dirs.unwrap_or(globals.create_dirs),
        owner: id(perm.owner.as_ref(), false),
        group: id(perm.group.as_ref(), true),
        perm: socket_perm(perm.perm.as_ref()),
        dir_owner: id(perm.dir_owner.as_ref(), false),
        dir_group: id(perm.dir_group.as_ref(), true),
        dir_perm: match perm.dir_perm {
            Some(FileMode::Mode(m)) => m,
            _ => DEFAULT_DIR_PERM,
        },
        so_rcvbuf,
        optional,
    }
}

fn refuse(call: &Node, option: &str) -> Diagnostic {
    Diagnostic::new(
        format!("{option}() is not supported by the runtime yet"),
        option_span(call, &[option]),
    )
}

/// What every driver here refuses: `encoding()`, a parser plugin other than the syslog one.
pub(crate) fn check_driver(call: &Node, reader: &ReaderOptions) -> Result<(), Diagnostic> {
    if reader.encoding.is_some() {
        return Err(refuse(call, "encoding"));
    }
    if reader.format.as_deref().is_some_and(|f| f != "syslog") {
        return Err(refuse(call, "format"));
    }
    Ok(())
}

pub(crate) fn check_dynamic_window(call: &Node, size: u64) -> Result<(), Diagnostic> {
    if size > 0 {
        return Err(refuse(call, "dynamic-window-size"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::{LoadOptions, load_str};

    fn plan_one(driver: &str) -> Result<Option<NetSource>, Diagnostic> {
        let text = format!("@version: 3.38\nsource s {{ {driver}; }};\nlog {{ source(s); }};\n");
        let loaded = load_str("t.conf", &text, &LoadOptions::default()).expect("config");
        let model = crate::config::model::build(&loaded.ast).expect("model");
        let call = model.sources[0].drivers().next().expect("driver").clone();
        plan_net_source(&call, &GlobalOptions::default())
    }

    fn dgram(driver: &str) -> DgramPlan {
        match plan_one(driver).ok().flatten().map(|n| n.kind) {
            Some(NetKind::Dgram(p)) => p,
            other => panic!("{driver}: {other:?}"),
        }
    }

    #[test]
    fn udp_defaults_and_options() {
        let p = dgram("udp()");
        let DgramKind::Udp(b) = &p.kind else {
            panic!("not udp")
        };
        assert_eq!(b.addr, "0.0.0.0:514".parse().expect("addr"));
        assert_eq!((p.window, p.max_msg_size), (1000, 65536));
        let p = dgram("udp6(port(5514) so-rcvbuf(100000) so-reuseport(yes) ip-ttl(3))");
        let DgramKind::Udp(b) = &p.kind else {
            panic!("not udp")
        };
        assert_eq!(b.addr, "[::]:5514".parse().expect("addr"));
        assert_eq!((b.so_rcvbuf, b.so_reuseport), (Some(100000), true));
        let p = dgram("syslog(transport(udp) ip(127.0.0.1) log-msg-size(100))");
        let DgramKind::Udp(b) = &p.kind else {
            panic!("not udp")
        };
        assert_eq!(b.addr, "127.0.0.1:514".parse().expect("addr"));
        assert_eq!(p.max_msg_size, 100);
        let n = plan_one("syslog(transport(udp))")
            .ok()
            .flatten()
            .expect("plan");
        assert_eq!(n.set_flags, ParseFlags::SYSLOG_PROTOCOL);
        assert!(plan_one("network(transport(tcp))").ok().flatten().is_none());
        assert!(plan_one("network()").ok().flatten().is_none());
    }

    #[test]
    fn unix_defaults() {
        let p = dgram("unix-dgram(\"/run/x.sock\")");
        let DgramKind::Unix { file, passcred } = &p.kind else {
            panic!("not unix")
        };
        assert_eq!(
            (file.perm, file.dir_perm, file.create_dirs),
            (Some(0o666), 0o700, false)
        );
        assert!(*passcred);
        assert_eq!(p.window, 100);
        let p = dgram("unix-dgram(\"/x\" so-passcred(no) perm(0600) create-dirs(yes))");
        let DgramKind::Unix { file, passcred } = &p.kind else {
            panic!("not unix")
        };
        assert!(!*passcred && file.create_dirs);
        assert_eq!(file.perm, Some(0o600));
        let n = plan_one("unix-stream(\"/x\" flags(expect-hostname))")
            .ok()
            .flatten()
            .expect("plan");
        let mut flags = ParseFlags::DEFAULT;
        crate::actors::runtime::driver::SourceDriver::ingest_options(&n).adjust(&mut flags);
        assert!(flags.has(ParseFlags::LOCAL) && !flags.has(ParseFlags::EXPECT_HOSTNAME));
        let NetKind::UnixStream(s) = n.kind else {
            panic!("not unix-stream")
        };
        assert_eq!((s.max_connections, s.window_per_connection), (256, 100));
        assert!(s.keep_alive && s.passcred);
    }

    #[test]
    fn refusals_name_the_option() {
        for (driver, msg) in [
            ("udp(encoding(\"ISO-8859-2\"))", "encoding()"),
            ("unix-dgram(\"/x\" format(\"linux-kmsg\"))", "format()"),
            (
                "unix-stream(\"/x\" dynamic-window-size(1000))",
                "dynamic-window-size()",
            ),
        ] {
            let e = plan_one(driver).err().unwrap_or_else(|| panic!("{driver}"));
            assert_eq!(
                e.message,
                format!("{msg} is not supported by the runtime yet")
            );
        }
    }
}
