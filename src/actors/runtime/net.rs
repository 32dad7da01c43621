//! The sockets of a graph's datagram and unix-stream sources ([`NetSource`]): bound (or taken
//! over from the previous graph) before anything starts, started as reader tasks on the
//! network arbiters, and handed to the next graph on reload ([`NetHandover`]).
//!
//! What the handover keeps, by address or path: UDP sockets, unix-dgram sockets, unix-stream
//! listening sockets, and — with `keep-alive(yes)` — open unix-stream connections with the
//! bytes their reader had not framed yet. Datagrams arriving during the swap wait in the
//! socket's kernel buffer; connecting clients wait in the backlog; nothing is refused and the
//! socket files never disappear. What the next graph does not take is dropped when the reload
//! ends: sockets close and unix socket files are removed ([`SocketFile`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::unix::net::{UnixDatagram, UnixListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_rt::ArbiterHandle;
use tokio::sync::{oneshot, watch};

use super::ack::Window;
use super::ingest::Ingest;
use super::plan::{SourceDriver, SourcePlan};
use crate::actors::sources::dgram::{
    DgramKind, DgramSocket, bind_udp, read_datagrams, refresh_udp,
};
use crate::actors::sources::listener::Connections;
use crate::actors::sources::net_plan::{NetKind, NetSource};
use crate::actors::sources::unix_socket::{SocketFile, bind_dgram, bind_stream, refresh};
use crate::actors::sources::unix_stream::{Handback, KeptConnection, UnixStreamSource};

/// The sockets one graph hands to the next.
#[derive(Debug, Default)]
pub struct NetHandover {
    pub udp: HashMap<SocketAddr, std::net::UdpSocket>,
    pub unix_dgram: HashMap<PathBuf, SocketFile<UnixDatagram>>,
    pub unix_stream: HashMap<PathBuf, SocketFile<UnixListener>>,
    /// Open unix-stream connections (`keep-alive(yes)`), by listening path.
    pub kept: HashMap<PathBuf, Vec<KeptConnection>>,
}

impl NetHandover {
    fn absorb(&mut self, other: NetHandover) {
        self.udp.extend(other.udp);
        self.unix_dgram.extend(other.unix_dgram);
        self.unix_stream.extend(other.unix_stream);
        self.kept.extend(other.kept);
    }
}

/// The sockets of a running graph's datagram and unix-stream sources.
#[derive(Debug, Default)]
pub struct NetSockets {
    sockets: NetHandover,
    handbacks: Vec<(PathBuf, Handback)>,
    next_worker: AtomicUsize,
}

/// What a started source needs from the graph.
pub struct StartContext<'a> {
    pub ingest: Arc<Ingest>,
    pub workers: &'a Arc<Vec<ArbiterHandle>>,
    pub home: Option<&'a ArbiterHandle>,
    pub stop: &'a watch::Receiver<bool>,
    pub connections: &'a Arc<Connections>,
    pub source_done: &'a mut Vec<oneshot::Receiver<()>>,
}

impl NetSockets {
    /// Binds, or takes from `handover`, the socket of every [`SourceDriver::Net`] source.
    /// On error nothing is lost: what was taken goes back into `handover`.
    pub fn acquire(
        sources: &[SourcePlan],
        handover: &mut NetHandover,
    ) -> Result<NetSockets, String> {
        let mut mine = NetSockets::default();
        for s in sources {
            let SourceDriver::Net(n) = &s.driver else {
                continue;
            };
            if let Err(e) = mine.acquire_one(n, &s.object, handover) {
                handover.absorb(std::mem::take(&mut mine.sockets));
                return Err(e);
            }
        }
        Ok(mine)
    }

    fn acquire_one(
        &mut self,
        n: &NetSource,
        object: &str,
        handover: &mut NetHandover,
    ) -> Result<(), String> {
        let s = &mut self.sockets;
        let err = |addr: String, e: std::io::Error| {
            format!("Error binding socket; addr='{addr}', source='{object}', error='{e}'")
        };
        match &n.kind {
            NetKind::Dgram(p) => match &p.kind {
                DgramKind::Udp(b) => {
                    if s.udp.contains_key(&b.addr) {
                        return Err(format!("{} (udp) is listened on twice", b.addr));
                    }
                    let sock = match handover.udp.remove(&b.addr) {
                        Some(sock) => {
                            refresh_udp(b, &sock);
                            sock
                        }
                        None => bind_udp(b).map_err(|e| err(b.addr.to_string(), e))?,
                    };
                    s.udp.insert(b.addr, sock);
                }
                DgramKind::Unix { file, .. } => {
                    if s.unix_dgram.contains_key(&file.path)
                        || s.unix_stream.contains_key(&file.path)
                    {
                        return Err(format!("{} is listened on twice", file.path.display()));
                    }
                    let sock = match handover.unix_dgram.remove(&file.path) {
                        Some(sock) => {
                            refresh(file, &sock);
                            sock
                        }
                        None => match bind_dgram(file) {
                            Ok(sock) => sock,
                            Err(e) => {
                                let msg = err(format!("AF_UNIX({})", file.path.display()), e);
                                return skip_if_optional(file.optional, msg);
                            }
                        },
                    };
                    s.unix_dgram.insert(file.path.clone(), sock);
                }
            },
            NetKind::UnixStream(p) => {
                let path = &p.file.path;
                if s.unix_dgram.contains_key(path) || s.unix_stream.contains_key(path) {
                    return Err(format!("{} is listened on twice", path.display()));
                }
                let sock = match handover.unix_stream.remove(path) {
                    Some(sock) => {
                        refresh(&p.file, &sock);
                        sock
                    }
                    None => match bind_stream(&p.file, p.listen_backlog) {
                        Ok(sock) => sock,
                        Err(e) => {
                            let msg = err(format!("AF_UNIX({})", path.display()), e);
                            return skip_if_optional(p.file.optional, msg);
                        }
                    },
                };
                // Open connections come along only with keep-alive(yes); otherwise they
                // close when the handover is dropped.
                if let Some(kept) = handover.kept.remove(path)
                    && p.keep_alive
                {
                    s.kept.insert(path.clone(), kept);
                }
                s.unix_stream.insert(path.clone(), sock);
            }
        }
        Ok(())
    }

    /// Starts the readers of one source. A source whose optional socket could not be
    /// created (already reported) does not start.
    pub fn start(&mut self, n: NetSource, cx: StartContext<'_>) -> Result<(), String> {
        match n.kind {
            NetKind::Dgram(plan) => {
                let (sock, passcred) = match &plan.kind {
                    DgramKind::Udp(b) => match self.sockets.udp.get(&b.addr) {
                        Some(s) => (Dup::Udp(s.try_clone()), false),
                        None => return Ok(()),
                    },
                    DgramKind::Unix { file, passcred } => {
                        match self.sockets.unix_dgram.get(&file.path) {
                            Some(s) => (Dup::Unix(s.socket().try_clone()), *passcred),
                            None => return Ok(()),
                        }
                    }
                };
                let window = Window::for_reader(plan.window);
                let (tx, rx) = oneshot::channel();
                cx.source_done.push(rx);
                let (ingest, stop) = (cx.ingest, cx.stop.clone());
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
                let i = self.next_worker.fetch_add(1, Ordering::Relaxed);
                match cx.workers.get(i % cx.workers.len().max(1)) {
                    Some(w) => {
                        w.spawn(task);
                    }
                    None => {
                        actix_rt::spawn(task);
                    }
                }
            }
            NetKind::UnixStream(plan) => {
                let path = plan.file.path.clone();
                let Some(sock) = self.sockets.unix_stream.get(&path) else {
                    return Ok(());
                };
                let listener = sock
                    .socket()
                    .try_clone()
                    .map_err(|e| format!("Error duplicating socket {}: {e}", path.display()))?;
                let handback: Handback = Arc::new(Mutex::new(Vec::new()));
                self.handbacks.push((path.clone(), handback.clone()));
                UnixStreamSource {
                    plan,
                    listener: Some(listener),
                    kept: self.sockets.kept.remove(&path).unwrap_or_default(),
                    ingest: cx.ingest,
                    workers: cx.workers.clone(),
                    stop: cx.stop.clone(),
                    connections: cx.connections.clone(),
                    handback,
                }
                .start(cx.home);
            }
        }
        Ok(())
    }

    /// Everything the next graph may take over: the sockets and the connections the readers
    /// handed back (call once the sources have stopped).
    pub fn into_handover(mut self) -> NetHandover {
        for (path, handback) in self.handbacks.drain(..) {
            let conns = handback
                .lock()
                .map(|mut v| std::mem::take(&mut *v))
                .unwrap_or_default();
            if !conns.is_empty() {
                self.sockets.kept.entry(path).or_default().extend(conns);
            }
        }
        std::mem::take(&mut self.sockets)
    }
}

/// A duplicated socket, turned into a tokio one on the arbiter that reads it.
enum Dup {
    Udp(std::io::Result<std::net::UdpSocket>),
    Unix(std::io::Result<UnixDatagram>),
}

fn skip_if_optional(optional: bool, msg: String) -> Result<(), String> {
    if optional {
        tracing::error!("{msg}; the source is optional, going on without it");
        Ok(())
    } else {
        Err(msg)
    }
}
