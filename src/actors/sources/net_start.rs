//! Acquiring and starting the datagram and unix-stream sources ([`NetSource`]): their socket
//! is bound, or taken over from the running graph's `Resources`, before anything starts; the
//! readers run as tasks on the network arbiters.
//!
//! What a reload hands over, by address or path: UDP sockets, unix-dgram sockets, unix-stream
//! listening sockets, and — with `keep-alive(yes)` — open unix-stream connections with the
//! bytes their reader had not framed yet (`Leftovers`). Datagrams arriving during the swap
//! wait in the socket's kernel buffer; connecting clients wait in the backlog; nothing is
//! refused and the socket files never disappear. What the next graph does not take is dropped
//! when the old graph goes: sockets close and unix socket files are removed ([`SocketFile`]).

use std::os::unix::net::{UnixDatagram, UnixListener};
use std::sync::Arc;

use super::common::{ReaderOptions, SourceOptions};
use super::dgram::{DgramKind, DgramSocket, bind_udp, read_datagrams, refresh_udp};
use super::net_plan::{NetKind, NetSource};
use super::unix_socket::{SocketFile, bind_dgram, bind_stream, refresh};
use super::unix_stream::{Handback, KeptConnection, UnixStreamSource};
use crate::actors::runtime::driver::{IngestOptions, Resources, SourceDriver, SourceStart};
use crate::actors::runtime::error::RuntimeError;
use crate::actors::runtime::ingest::Ingest;
use crate::actors::runtime::stats::SourceRows;

impl NetSource {
    /// The key of its socket in `Resources` (and of kept connections in `Leftovers`).
    fn key(&self) -> String {
        match &self.kind {
            NetKind::Dgram(p) => match &p.kind {
                DgramKind::Udp(b) => format!("udp:{}", b.addr),
                DgramKind::Unix { file, .. } => format!("unix:{}", file.path.display()),
            },
            NetKind::UnixStream(p) => format!("unix:{}", p.file.path.display()),
        }
    }

    fn options(&self) -> (&SourceOptions, &ReaderOptions) {
        (&self.source, &self.reader)
    }
}

impl SourceDriver for NetSource {
    fn persist_name(&self) -> String {
        match &self.kind {
            NetKind::Dgram(p) => match &p.kind {
                DgramKind::Udp(b) => format!(
                    "afsocket_sd.(dgram,{})",
                    super::listener::sockaddr_name(&b.addr)
                ),
                DgramKind::Unix { file, .. } => {
                    format!("afsocket_sd.(dgram,AF_UNIX({}))", file.path.display())
                }
            },
            NetKind::UnixStream(p) => {
                format!("afsocket_sd.(stream,AF_UNIX({}))", p.file.path.display())
            }
        }
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn keeps_running_on_reload(&self) -> bool {
        match &self.kind {
            NetKind::Dgram(_) => true,
            NetKind::UnixStream(p) => p.keep_alive,
        }
    }

    /// syslog-ng 3.38: a datagram reader's cluster names the local address (udp) or the
    /// socket file; a unix-stream listener counts its connections.
    fn stats_rows(&self) -> SourceRows {
        let instance = match &self.kind {
            NetKind::Dgram(p) => match &p.kind {
                DgramKind::Udp(b) => b.addr.ip().to_string(),
                DgramKind::Unix { file, .. } => file.path.display().to_string(),
            },
            NetKind::UnixStream(_) => return SourceRows::Listener,
        };
        SourceRows::Driver {
            level: 1,
            instance,
            reader: true,
        }
    }

    fn ingest_options(&self) -> IngestOptions<'_> {
        let (source, reader) = self.options();
        IngestOptions {
            source,
            reader: Some(reader),
            set_flags: self.set_flags,
            clear_flags: self.clear_flags,
        }
    }

    fn acquire(
        &self,
        object: &str,
        lent: &mut Resources,
        mine: &mut Resources,
    ) -> Result<(), RuntimeError> {
        let key = self.key();
        let bind_err = |addr: String, error: std::io::Error| RuntimeError::Bind {
            addr,
            source_name: object.to_string(),
            error,
        };
        match &self.kind {
            NetKind::Dgram(p) => match &p.kind {
                DgramKind::Udp(b) => {
                    if mine.contains(&key) {
                        return Err(RuntimeError::ListenedTwice(format!("{} (udp)", b.addr)));
                    }
                    let sock = match lent.take::<std::net::UdpSocket>(&key) {
                        Some(sock) => {
                            refresh_udp(b, &sock);
                            sock
                        }
                        None => bind_udp(b)
                            .map_err(|e| bind_err(super::listener::sockaddr_name(&b.addr), e))?,
                    };
                    mine.insert(key, sock);
                }
                DgramKind::Unix { file, .. } => {
                    if mine.contains(&key) {
                        return Err(RuntimeError::ListenedTwice(file.path.display().to_string()));
                    }
                    let sock = match lent.take::<SocketFile<UnixDatagram>>(&key) {
                        Some(sock) => {
                            refresh(file, &sock);
                            sock
                        }
                        None => match bind_dgram(file) {
                            Ok(sock) => sock,
                            Err(e) => {
                                let e = bind_err(format!("AF_UNIX({})", file.path.display()), e);
                                return skip_if_optional(file.optional, e);
                            }
                        },
                    };
                    mine.insert(key, sock);
                }
            },
            NetKind::UnixStream(p) => {
                let path = &p.file.path;
                if mine.contains(&key) {
                    return Err(RuntimeError::ListenedTwice(path.display().to_string()));
                }
                let sock = match lent.take::<SocketFile<UnixListener>>(&key) {
                    Some(sock) => {
                        refresh(&p.file, &sock);
                        sock
                    }
                    None => match bind_stream(&p.file, p.listen_backlog) {
                        Ok(sock) => sock,
                        Err(e) => {
                            let e = bind_err(format!("AF_UNIX({})", path.display()), e);
                            return skip_if_optional(p.file.optional, e);
                        }
                    },
                };
                mine.insert(key, sock);
            }
        }
        Ok(())
    }

    /// Starts the readers. A source whose optional socket could not be created (already
    /// reported) does not start.
    fn start(&self, ingest: Arc<Ingest>, cx: &mut SourceStart<'_>) {
        let key = self.key();
        match &self.kind {
            NetKind::Dgram(plan) => {
                let (sock, passcred) = match &plan.kind {
                    DgramKind::Udp(_) => match cx.resources.get::<std::net::UdpSocket>(&key) {
                        Some(s) => (Dup::Udp(s.try_clone()), false),
                        None => return,
                    },
                    DgramKind::Unix { passcred, .. } => {
                        match cx.resources.get::<SocketFile<UnixDatagram>>(&key) {
                            Some(s) => (Dup::Unix(s.socket().try_clone()), *passcred),
                            None => return,
                        }
                    }
                };
                let window = ingest.window(plan.window);
                let (tx, rx) = tokio::sync::oneshot::channel();
                cx.done.push(rx);
                let (plan, stop) = (plan.clone(), cx.stop.clone());
                let task = async move {
                    let sock = match sock {
                        Dup::Udp(s) => s.and_then(DgramSocket::udp),
                        Dup::Unix(s) => s.and_then(|s| DgramSocket::unix(s, passcred)),
                    };
                    match sock {
                        Ok(sock) => read_datagrams(sock, plan, ingest, window, stop).await,
                        Err(e) => {
                            tracing::error!(source = %ingest.name, error = %e, "Error listening");
                        }
                    }
                    let _ = tx.send(());
                };
                match cx.next_home() {
                    Some(w) => {
                        w.spawn(task);
                    }
                    None => {
                        actix_rt::spawn(task);
                    }
                }
            }
            NetKind::UnixStream(plan) => {
                let Some(sock) = cx.resources.get::<SocketFile<UnixListener>>(&key) else {
                    return;
                };
                let listener = match sock.socket().try_clone() {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(source = %ingest.name, error = %e,
                            "Error duplicating the listening socket");
                        return;
                    }
                };
                // Open connections come along only with keep-alive(yes); otherwise they
                // close when the reload's leftovers are dropped.
                let kept = if plan.keep_alive {
                    cx.leftovers.take_all::<KeptConnection>(&key)
                } else {
                    Vec::new()
                };
                let home = cx.workers.first().cloned();
                UnixStreamSource {
                    plan: plan.clone(),
                    listener: Some(listener),
                    kept,
                    ingest,
                    workers: cx.workers.clone(),
                    stop: cx.stop.clone(),
                    connections: cx.connections.clone(),
                    handback: Handback {
                        leftovers: cx.leftovers.clone(),
                        key,
                    },
                }
                .start(home.as_ref());
            }
        }
    }
}

/// A duplicated socket, turned into a tokio one on the arbiter that reads it.
enum Dup {
    Udp(std::io::Result<std::net::UdpSocket>),
    Unix(std::io::Result<UnixDatagram>),
}

fn skip_if_optional(optional: bool, e: RuntimeError) -> Result<(), RuntimeError> {
    if optional {
        tracing::error!("{e}; the source is optional, going on without it");
        Ok(())
    } else {
        Err(e)
    }
}
