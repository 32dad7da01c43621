//! Datagram sources: `udp()`, `udp6()`, `network()`/`syslog()` over UDP and `unix-dgram()`.
//! One datagram is one message, as in syslog-ng 3.38 (checked): no framing of any kind
//! (`syslog(transport(udp))` has no octet counting), a datagram longer than `log-msg-size()`
//! is cut to it (the kernel drops the rest), an empty datagram is ignored (no message, not
//! counted), and the parser strips trailing newlines and NULs (a lone `\n` is an empty
//! message).
//!
//! The reader takes every credit its [`Window`] has, then receives datagrams until the socket
//! has no more (or the window is used up), and routes them as one batch: one queue lock per
//! destination per wake-up. UDP cannot push back: with `flags(flow-control)` an empty window
//! simply means the socket is not read, and what overflows the kernel buffer is dropped by the
//! kernel, as with syslog-ng.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::Interest;
use tokio::sync::watch;

use super::stream::AuxValues;
use super::unix_creds::{self, Credentials};
use super::unix_socket::{SocketFilePlan, set_rcvbuf, setsockopt_int};
use crate::actors::runtime::ack::Window;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::message::{PeerInfo, UnixTime, UseDns};

/// Bytes of datagrams received per wake-up before they are parsed (on top of one
/// `log-msg-size()`), so a wake-up's memory stays bounded whatever the window.
const STAGE_BYTES: usize = 1 << 20;

/// A datagram source, ready to start.
#[derive(Debug, Clone, PartialEq)]
pub struct DgramPlan {
    pub kind: DgramKind,
    /// `log-msg-size()`: longer datagrams are cut.
    pub max_msg_size: usize,
    /// `log-iw-size()`: messages in flight before the socket is no longer read.
    pub window: u32,
}

/// Which socket a datagram source reads.
#[derive(Debug, Clone, PartialEq)]
pub enum DgramKind {
    Udp(UdpBind),
    Unix {
        file: SocketFilePlan,
        /// `so-passcred()`: add the sender's credentials to every message.
        passcred: bool,
    },
}

/// The address and socket options of a UDP source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpBind {
    pub addr: SocketAddr,
    pub so_rcvbuf: Option<u32>,
    pub so_reuseport: bool,
    pub so_broadcast: bool,
    pub ip_freebind: bool,
    /// `interface()`: `SO_BINDTODEVICE`.
    pub interface: Option<String>,
}

/// Binds a UDP socket with the source's options (`SO_REUSEADDR` always, as syslog-ng).
pub fn bind_udp(b: &UdpBind) -> std::io::Result<std::net::UdpSocket> {
    let family = match b.addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain socket(2); the descriptor is owned right away.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let raw = fd.as_raw_fd();
    setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if b.so_reuseport {
        setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    if b.so_broadcast {
        setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_BROADCAST, 1)?;
    }
    if b.ip_freebind {
        setsockopt_int(raw, libc::SOL_IP, libc::IP_FREEBIND, 1)?;
    }
    if let Some(dev) = &b.interface {
        bind_to_device(raw, dev)?;
    }
    let (storage, len) = sockaddr(b.addr);
    // SAFETY: `storage` holds a sockaddr of `len` bytes for the socket's family.
    let rc = unsafe { libc::bind(raw, (&storage as *const libc::sockaddr_storage).cast(), len) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let sock = std::net::UdpSocket::from(fd);
    set_rcvbuf(&sock, b.so_rcvbuf);
    Ok(sock)
}

/// Re-applies the options that can change on a socket taken over on reload.
pub fn refresh_udp(b: &UdpBind, sock: &std::net::UdpSocket) {
    set_rcvbuf(sock, b.so_rcvbuf);
}

pub(crate) fn bind_to_device(fd: std::os::fd::RawFd, dev: &str) -> std::io::Result<()> {
    // SAFETY: a valid descriptor and a byte string of the length passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            dev.as_ptr().cast(),
            dev.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data, valid when zeroed, and large enough for both
    // sockaddr_in and sockaddr_in6 (written through correctly typed pointers below).
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: see above.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            (storage, std::mem::size_of::<libc::sockaddr_in>() as _)
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: see above.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            (storage, std::mem::size_of::<libc::sockaddr_in6>() as _)
        }
    }
}

/// The socket a datagram reader reads.
pub enum DgramSocket {
    Udp(tokio::net::UdpSocket),
    Unix {
        sock: tokio::net::UnixDatagram,
        passcred: bool,
    },
}

/// Who sent a datagram.
#[derive(Debug, Clone, Copy)]
enum Sender {
    Inet(SocketAddr),
    Local(Option<Credentials>),
}

impl DgramSocket {
    /// Wraps a std socket (set to non-blocking here) for the current runtime.
    pub fn udp(s: std::net::UdpSocket) -> std::io::Result<DgramSocket> {
        s.set_nonblocking(true)?;
        Ok(DgramSocket::Udp(tokio::net::UdpSocket::from_std(s)?))
    }

    /// Wraps a std unix datagram socket; `passcred` asks the kernel for credentials.
    pub fn unix(s: std::os::unix::net::UnixDatagram, passcred: bool) -> std::io::Result<Self> {
        s.set_nonblocking(true)?;
        if passcred {
            unix_creds::enable_passcred(s.as_raw_fd())?;
        }
        Ok(DgramSocket::Unix {
            sock: tokio::net::UnixDatagram::from_std(s)?,
            passcred,
        })
    }

    async fn readable(&self) -> std::io::Result<()> {
        match self {
            DgramSocket::Udp(s) => s.readable().await,
            DgramSocket::Unix { sock, .. } => sock.readable().await,
        }
    }

    fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<(usize, Sender)> {
        match self {
            DgramSocket::Udp(s) => s.try_recv_from(buf).map(|(n, a)| (n, Sender::Inet(a))),
            DgramSocket::Unix {
                sock,
                passcred: true,
            } => sock.try_io(Interest::READABLE, || {
                unix_creds::recv_with_credentials(sock.as_raw_fd(), buf)
                    .map(|(n, c)| (n, Sender::Local(c)))
            }),
            DgramSocket::Unix { sock, .. } => sock.try_recv(buf).map(|n| (n, Sender::Local(None))),
        }
    }
}

/// One received datagram: its bytes in the stage buffer and its sender.
struct Received {
    start: usize,
    len: usize,
    from: Sender,
}

/// Reads `sock` until `stop` is raised.
pub async fn read_datagrams(
    sock: DgramSocket,
    plan: DgramPlan,
    ingest: Arc<Ingest>,
    window: Arc<Window>,
    mut stop: watch::Receiver<bool>,
) {
    let max = plan.max_msg_size.max(1);
    let mut stage = vec![0u8; STAGE_BYTES + max];
    let mut received: Vec<Received> = Vec::new();
    let mut batch = Batcher::default();
    let use_dns = ingest.parse.host.use_dns != UseDns::No;
    // The senders' names for one wake-up: each sender is looked up once per batch (the
    // process's DNS cache keeps them longer, unless `dns-cache(no)`).
    let mut names: HashMap<IpAddr, Option<Arc<str>>> = HashMap::new();
    let tz = ingest.parse.local_time_zone.clone();
    loop {
        // Credits first: with an empty window the socket is not read.
        let mut credits = window.try_acquire();
        if credits == 0 {
            tokio::select! {
                biased;
                _ = stop.changed() => return,
                c = window.acquire() => credits = c,
            }
        }
        tokio::select! {
            biased;
            _ = stop.changed() => return,
            r = sock.readable() => if let Err(e) = r {
                tracing::error!(source = %ingest.name, error = %e, "Error reading datagram socket");
                return;
            },
        }
        received.clear();
        let mut used = 0usize;
        let mut failed = false;
        while received.len() < credits as usize && used < STAGE_BYTES {
            match sock.try_recv(&mut stage[used..used + max]) {
                Ok((0, _)) => {}
                Ok((n, from)) => {
                    received.push(Received {
                        start: used,
                        len: n,
                        from,
                    });
                    used += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::error!(source = %ingest.name, error = %e, "Error receiving datagram");
                    failed = true;
                    break;
                }
            }
        }
        if received.is_empty() {
            window.put_back(credits);
            if failed {
                // A socket that keeps failing must not spin: retry a little later.
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
            }
            continue;
        }
        names.clear();
        if use_dns {
            for r in &received {
                if let Sender::Inet(a) = r.from
                    && !names.contains_key(&a.ip())
                {
                    let name = super::dns::reverse_lookup(a.ip(), &ingest.parse).await;
                    names.insert(a.ip(), name);
                }
            }
        }
        let now = UnixTime::now(&tz);
        ingest.begin(&mut batch, Some(&window), credits);
        let mut last_creds: Option<(Credentials, Arc<AuxValues>)> = None;
        for r in &received {
            let raw = &stage[r.start..r.start + r.len];
            match r.from {
                Sender::Inet(a) => {
                    let peer = PeerInfo {
                        addr: Some(a.ip()),
                        dns_name: names.get(&a.ip()).cloned().flatten(),
                    };
                    ingest.parse_into_with(&mut batch, raw, Some(&peer), now, &[]);
                }
                Sender::Local(None) => ingest.parse_into_with(&mut batch, raw, None, now, &[]),
                Sender::Local(Some(c)) => {
                    let aux = match &last_creds {
                        Some((lc, aux)) if *lc == c => aux.clone(),
                        _ => {
                            let aux = Arc::new(unix_creds::aux_values(c));
                            last_creds = Some((c, aux.clone()));
                            aux
                        }
                    };
                    ingest.parse_into_with(&mut batch, raw, None, now, &aux);
                }
            }
        }
        ingest.flush(&mut batch);
        window.put_back(credits - received.len() as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_bind_options() {
        let b = UdpBind {
            addr: "127.0.0.1:0".parse().expect("addr"),
            so_rcvbuf: Some(1 << 16),
            so_reuseport: true,
            so_broadcast: true,
            ip_freebind: true,
            interface: None,
        };
        let s = bind_udp(&b).expect("bind");
        let a = s.local_addr().expect("addr");
        // SO_REUSEPORT: a second socket may bind the same port.
        let again = bind_udp(&UdpBind {
            addr: a,
            ..b.clone()
        })
        .expect("reuseport");
        drop(again);
        let b6 = UdpBind {
            addr: "[::1]:0".parse().expect("addr"),
            ..b
        };
        if let Ok(s6) = bind_udp(&b6) {
            assert!(s6.local_addr().expect("addr").is_ipv6());
        }
    }
}
