//! Opening the socket of a destination: resolving the host (at every attempt), creating the
//! socket with the driver's options, binding `localip()`/`localport()`, connecting.

use std::ffi::{CStr, CString};
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::time::Duration;

use socket2::{Domain, SockAddr, SockRef, Socket, TcpKeepalive, Type};

use super::{SockKind, SockOpts, SocketDestPlan, Target};
use crate::actors::socket_options::sockaddr_name;

/// How long a TCP connection attempt (resolution included) may take before it counts as
/// failed and is retried after `time-reopen()`. syslog-ng has no such limit (the kernel's
/// SYN retries take about two minutes); a bound keeps a black-holed peer from holding the
/// writer that long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest UDP payload syslog-ng 3.38 sends: longer datagrams are cut to this size (it does
/// the same over IPv6).
pub const MAX_UDP_PAYLOAD: usize = 65507;

/// Why a connection attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Error resolving hostname; host='{host}', error='{reason}'")]
    Resolve { host: String, reason: String },
    #[error("Error setting socket option {option}: {source}")]
    Option {
        option: &'static str,
        source: io::Error,
    },
    #[error("Error binding local address {addr}: {source}")]
    Bind { addr: String, source: io::Error },
    #[error("connection attempt timed out after {}s", CONNECT_TIMEOUT.as_secs())]
    Timeout,
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl ConnectError {
    /// As the `io::Error` a failed send reports.
    pub fn into_io(self) -> io::Error {
        match self {
            ConnectError::Io(e) => e,
            other => io::Error::other(other.to_string()),
        }
    }
}

/// The server as logs name it before it is resolved.
pub fn target_name(t: &Target) -> String {
    match t {
        Target::Inet { host, port, .. } if host.contains(':') => format!("[{host}]:{port}"),
        Target::Inet { host, port, .. } => format!("{host}:{port}"),
        Target::Unix(p) => format!("AF_UNIX({})", p.display()),
    }
}

/// Resolves `host` for the driver's IP version, as syslog-ng does with getaddrinfo():
/// `ip-protocol(4)` takes IPv4 addresses only, `ip-protocol(6)` IPv6 ones and IPv4 ones
/// mapped into IPv6 (`::ffff:127.0.0.1`). Blocking: run it off the writer's thread.
pub fn resolve(host: &str, port: u16, v6: bool, kind: SockKind) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match (ip, v6) {
            (IpAddr::V4(a), false) => Ok(SocketAddr::new(IpAddr::V4(a), port)),
            (IpAddr::V6(a), true) => Ok(SocketAddr::new(IpAddr::V6(a), port)),
            (IpAddr::V4(a), true) => Ok(SocketAddr::new(IpAddr::V6(a.to_ipv6_mapped()), port)),
            (IpAddr::V6(_), false) => Err("Address family for hostname not supported".into()),
        };
    }
    let c_host = CString::new(host).map_err(|_| "host name contains a NUL byte".to_string())?;
    // SAFETY: zeroed addrinfo is a valid "no hints" value; fields are set below.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    hints.ai_socktype = match kind {
        SockKind::Stream => libc::SOCK_STREAM,
        SockKind::Dgram => libc::SOCK_DGRAM,
    };
    if v6 {
        hints.ai_flags = libc::AI_V4MAPPED;
    }
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated host, valid hints, and an out pointer freed below.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        // SAFETY: gai_strerror returns a static NUL-terminated string.
        let text = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) };
        return Err(text.to_string_lossy().into_owned());
    }
    let mut found = None;
    let mut p = res;
    while !p.is_null() && found.is_none() {
        // SAFETY: p walks the list getaddrinfo returned; ai_addr points to ai_addrlen bytes.
        unsafe {
            let ai = &*p;
            if !ai.ai_addr.is_null() {
                found = match ai.ai_family {
                    libc::AF_INET => {
                        let sa = &*(ai.ai_addr as *const libc::sockaddr_in);
                        let ip = std::net::Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr));
                        Some(SocketAddr::new(IpAddr::V4(ip), port))
                    }
                    libc::AF_INET6 => {
                        let sa = &*(ai.ai_addr as *const libc::sockaddr_in6);
                        let ip = Ipv6Addr::from(sa.sin6_addr.s6_addr);
                        Some(SocketAddr::new(IpAddr::V6(ip), port))
                    }
                    _ => None,
                };
            }
            p = ai.ai_next;
        }
    }
    // SAFETY: res came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(res) };
    found.ok_or_else(|| "no address found".to_string())
}

/// Resolves off the current thread (getaddrinfo blocks).
async fn resolve_async(plan: &SocketDestPlan) -> Result<SocketAddr, ConnectError> {
    let Target::Inet { host, port, v6 } = plan.target.clone() else {
        return Err(ConnectError::Io(io::Error::other("not an IP destination")));
    };
    let kind = plan.kind;
    let h = host.clone();
    let res = tokio::task::spawn_blocking(move || resolve(&h, port, v6, kind))
        .await
        .map_err(|e| ConnectError::Io(io::Error::other(e.to_string())))?;
    res.map_err(|reason| ConnectError::Resolve { host, reason })
}

fn opt(option: &'static str) -> impl FnOnce(io::Error) -> ConnectError {
    move |source| ConnectError::Option { option, source }
}

/// Applies the driver's socket options. `inet` is the peer's address for IP sockets (the
/// IP-level options follow its family; multicast peers get the multicast TTL).
fn apply_opts(
    s: &SockRef<'_>,
    o: &SockOpts,
    kind: SockKind,
    inet: Option<&SocketAddr>,
) -> Result<(), ConnectError> {
    if let Some(n) = o.rcvbuf {
        s.set_recv_buffer_size(n as usize)
            .map_err(opt("so-rcvbuf()"))?;
    }
    if let Some(n) = o.sndbuf {
        s.set_send_buffer_size(n as usize)
            .map_err(opt("so-sndbuf()"))?;
    }
    if o.broadcast {
        s.set_broadcast(true).map_err(opt("so-broadcast()"))?;
    }
    if o.keepalive {
        s.set_keepalive(true).map_err(opt("so-keepalive()"))?;
    }
    if o.reuseport {
        s.set_reuse_port(true).map_err(opt("so-reuseport()"))?;
    }
    let Some(peer) = inet else { return Ok(()) };
    if let Some(name) = &o.interface {
        s.bind_device(Some(name.as_bytes()))
            .map_err(opt("interface()"))?;
    }
    match peer {
        SocketAddr::V4(a) => {
            if let Some(ttl) = o.ttl {
                if a.ip().is_multicast() {
                    s.set_multicast_ttl_v4(ttl).map_err(opt("ip-ttl()"))?;
                } else {
                    s.set_ttl_v4(ttl).map_err(opt("ip-ttl()"))?;
                }
            }
            if let Some(tos) = o.tos {
                s.set_tos_v4(tos).map_err(opt("ip-tos()"))?;
            }
            if o.freebind {
                s.set_freebind_v4(true).map_err(opt("ip-freebind()"))?;
            }
        }
        SocketAddr::V6(a) => {
            if let Some(ttl) = o.ttl {
                if a.ip().is_multicast() {
                    s.set_multicast_hops_v6(ttl).map_err(opt("ip-ttl()"))?;
                } else {
                    s.set_unicast_hops_v6(ttl).map_err(opt("ip-ttl()"))?;
                }
            }
            if let Some(tos) = o.tos {
                s.set_tclass_v6(tos).map_err(opt("ip-tos()"))?;
            }
            if o.freebind {
                s.set_freebind_v6(true).map_err(opt("ip-freebind()"))?;
            }
        }
    }
    if kind == SockKind::Stream
        && (o.keepalive_time.is_some()
            || o.keepalive_intvl.is_some()
            || o.keepalive_probes.is_some())
    {
        let mut k = TcpKeepalive::new();
        if let Some(t) = o.keepalive_time {
            k = k.with_time(Duration::from_secs(u64::from(t)));
        }
        if let Some(t) = o.keepalive_intvl {
            k = k.with_interval(Duration::from_secs(u64::from(t)));
        }
        if let Some(n) = o.keepalive_probes {
            k = k.with_retries(n);
        }
        s.set_tcp_keepalive(&k)
            .map_err(opt("tcp-keepalive-time()/-intvl()/-probes()"))?;
    }
    Ok(())
}

/// A new IP socket for `peer`, options applied and bound to `localip()`/`localport()`.
fn inet_socket(plan: &SocketDestPlan, peer: &SocketAddr) -> Result<Socket, ConnectError> {
    let ty = match plan.kind {
        SockKind::Stream => Type::STREAM,
        SockKind::Dgram => Type::DGRAM,
    };
    let sock = Socket::new(Domain::for_address(*peer), ty, None)?;
    sock.set_nonblocking(true)?;
    apply_opts(&SockRef::from(&sock), &plan.opts, plan.kind, Some(peer))?;
    if plan.local_ip.is_some() || plan.local_port != 0 {
        let v6 = peer.is_ipv6();
        let ip = match plan.local_ip.as_deref() {
            None if v6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            Some(text) => local_ip(text, v6).map_err(|e| ConnectError::Bind {
                addr: text.to_string(),
                source: e,
            })?,
        };
        let local = SocketAddr::new(ip, plan.local_port);
        // A fixed local port must be reusable right after the previous connection closed.
        sock.set_reuse_address(true)
            .map_err(opt("SO_REUSEADDR for localport()"))?;
        sock.bind(&local.into())
            .map_err(|source| ConnectError::Bind {
                addr: local.to_string(),
                source,
            })?;
    }
    Ok(sock)
}

/// `localip()` as an address of the peer's family (a name is resolved).
fn local_ip(text: &str, v6: bool) -> io::Result<IpAddr> {
    let kind = SockKind::Dgram;
    resolve(text, 0, v6, kind)
        .map(|a| a.ip())
        .map_err(io::Error::other)
}

/// A connected TCP or UNIX stream.
pub enum StreamConn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

/// A connected UDP or UNIX datagram socket.
pub enum DgramConn {
    Udp(tokio::net::UdpSocket),
    Unix(tokio::net::UnixDatagram),
}

/// A successful connection and how logs name its ends.
pub struct Connected<C> {
    pub conn: C,
    pub server: String,
    pub local: String,
}

/// Opens a stream connection to the plan's target (bounded by [`CONNECT_TIMEOUT`]).
pub async fn connect_stream(plan: &SocketDestPlan) -> Result<Connected<StreamConn>, ConnectError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, connect_stream_inner(plan)).await {
        Ok(r) => r,
        Err(_) => Err(ConnectError::Timeout),
    }
}

async fn connect_stream_inner(
    plan: &SocketDestPlan,
) -> Result<Connected<StreamConn>, ConnectError> {
    match &plan.target {
        Target::Unix(path) => {
            let s = tokio::net::UnixStream::connect(path).await?;
            apply_opts(&SockRef::from(&s), &plan.opts, plan.kind, None)?;
            Ok(Connected {
                conn: StreamConn::Unix(s),
                server: format!("AF_UNIX({})", path.display()),
                local: "AF_UNIX(anonymous)".into(),
            })
        }
        Target::Inet { .. } => {
            let peer = resolve_async(plan).await?;
            let sock = inet_socket(plan, &peer)?;
            let std_stream = std::net::TcpStream::from(OwnedFd::from(sock));
            let s = tokio::net::TcpSocket::from_std_stream(std_stream)
                .connect(peer)
                .await?;
            let _ = s.set_nodelay(true);
            let local = s
                .local_addr()
                .map(|a| sockaddr_name(&a))
                .unwrap_or_default();
            Ok(Connected {
                conn: StreamConn::Tcp(s),
                server: sockaddr_name(&peer),
                local,
            })
        }
    }
}

/// Opens a datagram socket connected to the plan's target.
pub async fn connect_dgram(plan: &SocketDestPlan) -> Result<Connected<DgramConn>, ConnectError> {
    match &plan.target {
        Target::Unix(path) => {
            let sock = Socket::new(Domain::UNIX, Type::DGRAM, None)?;
            sock.set_nonblocking(true)?;
            apply_opts(&SockRef::from(&sock), &plan.opts, plan.kind, None)?;
            sock.connect(&SockAddr::unix(path)?)?;
            let std_sock = std::os::unix::net::UnixDatagram::from(OwnedFd::from(sock));
            Ok(Connected {
                conn: DgramConn::Unix(tokio::net::UnixDatagram::from_std(std_sock)?),
                server: format!("AF_UNIX({})", path.display()),
                local: "AF_UNIX(anonymous)".into(),
            })
        }
        Target::Inet { .. } => {
            let peer = resolve_async(plan).await?;
            let sock = inet_socket(plan, &peer)?;
            sock.connect(&peer.into())?;
            let std_sock = std::net::UdpSocket::from(OwnedFd::from(sock));
            let s = tokio::net::UdpSocket::from_std(std_sock)?;
            let local = s
                .local_addr()
                .map(|a| sockaddr_name(&a))
                .unwrap_or_default();
            Ok(Connected {
                conn: DgramConn::Udp(s),
                server: sockaddr_name(&peer),
                local,
            })
        }
    }
}

impl StreamConn {
    /// The connection a previous configuration left (keep-alive).
    pub fn adopt(fd: OwnedFd, unix: bool) -> io::Result<StreamConn> {
        if unix {
            let s = std::os::unix::net::UnixStream::from(fd);
            s.set_nonblocking(true)?;
            Ok(StreamConn::Unix(tokio::net::UnixStream::from_std(s)?))
        } else {
            let s = std::net::TcpStream::from(fd);
            s.set_nonblocking(true)?;
            Ok(StreamConn::Tcp(tokio::net::TcpStream::from_std(s)?))
        }
    }

    /// The socket, detached from the runtime, to park for the next configuration.
    pub fn into_fd(self) -> io::Result<OwnedFd> {
        Ok(match self {
            StreamConn::Tcp(s) => OwnedFd::from(s.into_std()?),
            StreamConn::Unix(s) => OwnedFd::from(s.into_std()?),
        })
    }

    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use tokio::io::AsyncWriteExt;
        match self {
            StreamConn::Tcp(s) => s.write(buf).await,
            StreamConn::Unix(s) => s.write(buf).await,
        }
    }

    pub async fn readable(&self) -> io::Result<()> {
        match self {
            StreamConn::Tcp(s) => s.readable().await,
            StreamConn::Unix(s) => s.readable().await,
        }
    }

    /// Reads what is there through the runtime (which clears its readiness on
    /// `WouldBlock`); only meaningful after [`readable`](Self::readable).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            StreamConn::Tcp(s) => s.try_read(buf),
            StreamConn::Unix(s) => s.try_read(buf),
        }
    }

    /// Reads what is there with a non-blocking `recv()`, whatever the runtime believes about
    /// the socket's readiness.
    pub fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        let fd = match self {
            StreamConn::Tcp(s) => s.as_raw_fd(),
            StreamConn::Unix(s) => s.as_raw_fd(),
        };
        // SAFETY: a valid socket and a writable buffer of the length passed.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

impl DgramConn {
    /// The socket a previous configuration left (keep-alive).
    pub fn adopt(fd: OwnedFd, unix: bool) -> io::Result<DgramConn> {
        if unix {
            let s = std::os::unix::net::UnixDatagram::from(fd);
            s.set_nonblocking(true)?;
            Ok(DgramConn::Unix(tokio::net::UnixDatagram::from_std(s)?))
        } else {
            let s = std::net::UdpSocket::from(fd);
            s.set_nonblocking(true)?;
            Ok(DgramConn::Udp(tokio::net::UdpSocket::from_std(s)?))
        }
    }

    /// The socket, detached from the runtime, to park for the next configuration.
    pub fn into_fd(self) -> io::Result<OwnedFd> {
        Ok(match self {
            DgramConn::Udp(s) => OwnedFd::from(s.into_std()?),
            DgramConn::Unix(s) => OwnedFd::from(s.into_std()?),
        })
    }

    /// Sends datagrams from the start of `msgs` with one `sendmmsg()` (waiting until the
    /// socket is writable); returns how many went out (at least one), or the error of the
    /// first that could not be sent.
    pub async fn send_some(&self, msgs: &[&[u8]]) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        use tokio::io::Interest;
        let send = |fd: i32| sendmmsg(fd, msgs);
        match self {
            DgramConn::Udp(s) => s.async_io(Interest::WRITABLE, || send(s.as_raw_fd())).await,
            DgramConn::Unix(s) => s.async_io(Interest::WRITABLE, || send(s.as_raw_fd())).await,
        }
    }
}

/// Most datagrams handed to the kernel in one `sendmmsg()` (Linux's `UIO_MAXIOV`).
const MAX_MMSG: usize = 1024;

/// One `sendmmsg()` of up to [`MAX_MMSG`] datagrams on a connected socket.
fn sendmmsg(fd: i32, msgs: &[&[u8]]) -> io::Result<usize> {
    let n = msgs.len().min(MAX_MMSG);
    if n == 0 {
        return Ok(0);
    }
    let mut iov: Vec<libc::iovec> = msgs[..n]
        .iter()
        .map(|m| libc::iovec {
            iov_base: m.as_ptr() as *mut libc::c_void,
            iov_len: m.len(),
        })
        .collect();
    // SAFETY: zeroed mmsghdr is valid (no name, no control data); iov pointers are set below.
    let mut hdrs: Vec<libc::mmsghdr> = (0..n).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (h, v) in hdrs.iter_mut().zip(iov.iter_mut()) {
        h.msg_hdr.msg_iov = v as *mut libc::iovec;
        h.msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: fd is a valid socket; hdrs has n entries whose iovecs point into `msgs`, which
    // outlive the call; the kernel only reads them (and writes msg_len).
    let rc =
        unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), n as libc::c_uint, libc::MSG_NOSIGNAL) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_the_ip_version() {
        let a = resolve("127.0.0.1", 514, false, SockKind::Stream);
        assert_eq!(
            a,
            Ok("127.0.0.1:514".parse().unwrap_or_else(|_| unreachable!()))
        );
        let a = resolve("127.0.0.9", 514, true, SockKind::Dgram);
        assert_eq!(
            a.map(|a| a.to_string()),
            Ok("[::ffff:127.0.0.9]:514".to_string())
        );
        assert_eq!(
            resolve("::1", 514, false, SockKind::Stream),
            Err("Address family for hostname not supported".to_string())
        );
        assert!(resolve("no-such-host.invalid", 514, false, SockKind::Stream).is_err());
        let a = resolve("localhost", 1, false, SockKind::Stream);
        assert!(a.is_ok_and(|a| a.is_ipv4()));
    }

    #[tokio::test]
    async fn socket_options_and_the_local_port_are_applied() {
        use crate::actors::destinations::socket::testing::plan;
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let local_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let target = Target::Inet {
            host: "localhost".into(),
            port,
            v6: false,
        };
        let mut p = plan(target, SockKind::Stream);
        p.local_ip = Some("127.0.0.1".into());
        p.local_port = local_port;
        p.opts = SockOpts {
            sndbuf: Some(65536),
            keepalive: true,
            ttl: Some(7),
            tos: Some(0x10),
            keepalive_time: Some(30),
            keepalive_intvl: Some(5),
            keepalive_probes: Some(4),
            ..SockOpts::default()
        };
        let c = connect_stream(&p).await.map_err(|e| e.to_string());
        let Ok(Connected {
            conn: StreamConn::Tcp(s),
            ..
        }) = c
        else {
            panic!("not connected: {:?}", c.err());
        };
        let (_, peer) = l.accept().expect("accept");
        assert_eq!(peer.port(), local_port, "localport()");
        let r = SockRef::from(&s);
        assert!(r.send_buffer_size().is_ok_and(|n| n >= 65536));
        assert_eq!(r.keepalive().ok(), Some(true));
        assert_eq!(r.ttl_v4().ok(), Some(7));
        assert_eq!(r.tos_v4().ok(), Some(0x10));
        assert_eq!(r.tcp_keepalive_time().ok(), Some(Duration::from_secs(30)));
        assert_eq!(
            r.tcp_keepalive_interval().ok(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(r.tcp_keepalive_retries().ok(), Some(4));
    }

    #[tokio::test]
    async fn a_refused_connection_and_an_unknown_host_are_errors() {
        use crate::actors::destinations::socket::testing::plan;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let target = |host: &str| Target::Inet {
            host: host.into(),
            port,
            v6: false,
        };
        let e = connect_stream(&plan(target("127.0.0.1"), SockKind::Stream)).await;
        assert!(
            matches!(e, Err(ConnectError::Io(ref e)) if e.kind() == io::ErrorKind::ConnectionRefused)
        );
        let e = connect_dgram(&plan(target("no-such-host.invalid"), SockKind::Dgram)).await;
        assert!(matches!(e, Err(ConnectError::Resolve { .. })));
    }

    #[test]
    fn sendmmsg_sends_each_message_as_one_datagram() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        tx.connect(rx.local_addr().expect("addr")).expect("connect");
        use std::os::fd::AsRawFd;
        let msgs: Vec<&[u8]> = vec![b"one\n", b"two\n", b"three\n"];
        assert_eq!(sendmmsg(tx.as_raw_fd(), &msgs).ok(), Some(3));
        let mut buf = [0u8; 64];
        for want in &msgs {
            let n = rx.recv(&mut buf).expect("recv");
            assert_eq!(&buf[..n], *want);
        }
    }
}
