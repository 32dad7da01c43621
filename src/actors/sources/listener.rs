//! A stream listener as an actor: binds (or takes over) the listening socket, accepts up to
//! `max-connections()` connections and runs each one's reader ([`super::stream`]) on one of
//! the network arbiters, round robin.
//!
//! The listening socket is a `std::net::TcpListener` the graph keeps a duplicate of (its
//! `Resources`): stopping the actor closes only its own descriptor, so on reload the next
//! graph accepts on the very same socket and clients connecting meanwhile wait in the backlog
//! instead of being refused; at exit the graph closes its copy first, so clients are refused
//! rather than accepted and lost.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use actix_rt::ArbiterHandle;
use tokio::sync::{Notify, watch};

use super::common::{ReaderOptions, SourceOptions};
use super::stream::{Framing, StreamEnd, StreamReader};
use crate::actors::runtime::counters::Counters;
use crate::actors::runtime::driver::{
    IngestOptions, Leftovers, Resources, SourceDriver, SourceStart,
};
use crate::actors::runtime::error::RuntimeError;
use crate::actors::runtime::ingest::Ingest;
use crate::actors::runtime::stats::SourceRows;
pub(crate) use crate::actors::socket_options::sockaddr_name;

/// What a stream listener needs to run, derived from the driver's options.
#[derive(Debug, Clone)]
pub struct StreamListenPlan {
    pub addr: SocketAddr,
    pub framing: Framing,
    pub max_connections: usize,
    /// `log-iw-size()` split across `max-connections()`.
    pub window_per_connection: u32,
    pub listen_backlog: u32,
    pub so_rcvbuf: Option<u32>,
    pub so_keepalive: bool,
    pub so_reuseport: bool,
    pub ip_freebind: bool,
    /// `interface()`: `SO_BINDTODEVICE`.
    pub interface: Option<String>,
    /// `keep-alive()`: open connections survive a reload (handed to the next graph).
    pub keep_alive: bool,
}

/// An open TCP connection handed from one graph to the next on reload (`keep-alive(yes)`):
/// the client sees no reset and nothing it sent is lost.
#[derive(Debug)]
pub struct KeptTcp {
    pub stream: std::net::TcpStream,
    pub peer: SocketAddr,
    /// Bytes read and not yet framed (the start of a message).
    pub pending: Vec<u8>,
}

/// Where readers put their connections back when the graph stops: the reload's
/// [`Leftovers`], under the listener's resource key.
#[derive(Debug, Clone)]
pub struct TcpHandback {
    pub leftovers: Leftovers,
    pub key: String,
}

/// A TCP stream source (`network()`, `syslog()`, `tcp()`, `tcp6()` over TCP), ready to start.
#[derive(Debug, Clone)]
pub struct StreamSource {
    pub listen: StreamListenPlan,
    /// Parse flags the driver itself sets (`syslog()`: RFC 5424).
    pub extra_flags: u32,
    pub source: SourceOptions,
    pub reader: ReaderOptions,
}

impl StreamSource {
    /// The key of its listening socket and kept connections in `Resources`/`Leftovers`.
    fn key(&self) -> String {
        format!("tcp:{}", self.listen.addr)
    }
}

impl SourceDriver for StreamSource {
    fn persist_name(&self) -> String {
        format!("afsocket_sd.(stream,{})", sockaddr_name(&self.listen.addr))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn keeps_running_on_reload(&self) -> bool {
        self.listen.keep_alive
    }

    fn stats_rows(&self) -> SourceRows {
        SourceRows::Listener
    }

    fn ingest_options(&self) -> IngestOptions<'_> {
        IngestOptions {
            source: &self.source,
            reader: Some(&self.reader),
            set_flags: self.extra_flags,
            clear_flags: 0,
        }
    }

    /// The running graph's listening socket on the same address is taken over (clients
    /// connecting meanwhile wait in its backlog); otherwise the address is bound now.
    fn acquire(
        &self,
        object: &str,
        lent: &mut Resources,
        mine: &mut Resources,
    ) -> Result<(), RuntimeError> {
        let key = self.key();
        if mine.contains(&key) {
            return Err(RuntimeError::ListenedTwice(self.listen.addr.to_string()));
        }
        let l = match lent.take::<std::net::TcpListener>(&key) {
            Some(l) => l,
            None => bind(&self.listen).map_err(|error| RuntimeError::Bind {
                addr: sockaddr_name(&self.listen.addr),
                source_name: object.to_string(),
                error,
            })?,
        };
        mine.insert(key, l);
        Ok(())
    }

    fn start(&self, ingest: Arc<Ingest>, cx: &mut SourceStart<'_>) {
        let key = self.key();
        let listener = cx
            .resources
            .get::<std::net::TcpListener>(&key)
            .map(std::net::TcpListener::try_clone);
        let l = match listener {
            Some(Ok(l)) => l,
            Some(Err(e)) => {
                tracing::error!(source = %ingest.name, error = %e, "Error duplicating the listening socket");
                return;
            }
            None => return,
        };
        let kept = cx.leftovers.take_all::<KeptTcp>(&key);
        let handback = TcpHandback {
            leftovers: cx.leftovers.clone(),
            key,
        };
        let (workers, stop, conns) = (cx.workers.clone(), cx.stop.clone(), cx.connections.clone());
        let plan = self.listen.clone();
        let actor = move |_: &mut actix::Context<StreamListener>| StreamListener {
            plan,
            listener: Some(l),
            ingest,
            workers,
            stop,
            connections: conns,
            kept,
            handback,
        };
        match cx.workers.first() {
            Some(h) => {
                StreamListener::start_in_arbiter(h, actor);
            }
            None => {
                StreamListener::create(actor);
            }
        }
    }
}

/// Live connections of a graph, so stopping can wait for the readers to finish.
#[derive(Debug, Default)]
pub struct Connections {
    live: AtomicUsize,
    gone: Notify,
}

impl Connections {
    /// Counts a reader that [`Connections::all_closed`] must wait for.
    pub fn open(&self) {
        self.live.fetch_add(1, Ordering::AcqRel);
    }

    /// The reader counted by [`Connections::open`] finished.
    pub fn close(&self) {
        self.live.fetch_sub(1, Ordering::AcqRel);
        self.gone.notify_waiters();
    }

    /// Connections open now.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Waits until every connection reader has finished.
    pub async fn all_closed(&self) {
        loop {
            let wait = self.gone.notified();
            if self.live() == 0 {
                return;
            }
            wait.await;
        }
    }
}

/// Binds a listening TCP socket with the driver's socket options.
pub fn bind(plan: &StreamListenPlan) -> std::io::Result<std::net::TcpListener> {
    let sock = match plan.addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    sock.set_reuseaddr(true)?;
    if plan.so_reuseport {
        sock.set_reuseport(true)?;
    }
    {
        use std::os::fd::AsRawFd;
        let fd = sock.as_raw_fd();
        if plan.ip_freebind {
            super::unix_socket::setsockopt_int(fd, libc::SOL_IP, libc::IP_FREEBIND, 1)?;
        }
        if let Some(dev) = &plan.interface {
            super::dgram::bind_to_device(fd, dev)?;
        }
    }
    if let Some(n) = plan.so_rcvbuf {
        sock.set_recv_buffer_size(n)?;
    }
    sock.bind(plan.addr)?;
    let listener = sock.listen(plan.listen_backlog)?;
    listener.into_std()
}

/// The listener actor of one source driver.
pub struct StreamListener {
    pub plan: StreamListenPlan,
    pub listener: Option<std::net::TcpListener>,
    pub ingest: Arc<Ingest>,
    pub workers: Arc<Vec<ArbiterHandle>>,
    pub stop: watch::Receiver<bool>,
    pub connections: Arc<Connections>,
    /// Connections taken over from the previous graph.
    pub kept: Vec<KeptTcp>,
    pub handback: TcpHandback,
}

/// The source driver's own connection count (for `max-connections()`).
#[derive(Default)]
struct Mine(AtomicUsize);

impl Actor for StreamListener {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let Some(std_listener) = self.listener.take() else {
            ctx.stop();
            return;
        };
        let conn = ConnCx {
            plan: self.plan.clone(),
            ingest: self.ingest.clone(),
            workers: self.workers.clone(),
            stop: self.stop.clone(),
            connections: self.connections.clone(),
            handback: self.handback.clone(),
            mine: Arc::new(Mine::default()),
        };
        let kept = std::mem::take(&mut self.kept);
        let mut stop = self.stop.clone();
        let fut = async move {
            let mut next = 0usize;
            for k in kept {
                conn.spawn_reader(k.stream, k.peer, k.pending, next);
                next = next.wrapping_add(1);
            }
            let listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(source = %conn.ingest.name, error = %e, "Error listening");
                    return;
                }
            };
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stop.changed() => return,
                };
                let (stream, peer) = match accepted {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::error!(source = %conn.ingest.name, error = %e, "Error accepting");
                        continue;
                    }
                };
                if conn.mine.0.load(Ordering::Acquire) >= conn.plan.max_connections {
                    tracing::error!(
                        source = %conn.ingest.name,
                        client = %peer,
                        max = conn.plan.max_connections,
                        "Number of allowed concurrent connections reached, rejecting connection"
                    );
                    Counters::add(&conn.ingest.counters.rejected, 1);
                    continue;
                }
                let (client, local) = (sockaddr_name(&peer), sockaddr_name(&conn.plan.addr));
                tracing::info!(client = %client, local = %local, "Syslog connection accepted");
                if conn.plan.so_keepalive {
                    let _ = socket_keepalive(&stream);
                }
                let _ = stream.set_nodelay(true);
                let Ok(std_stream) = stream.into_std() else {
                    continue;
                };
                conn.spawn_reader(std_stream, peer, Vec::new(), next);
                next = next.wrapping_add(1);
            }
        };
        ctx.spawn(fut.into_actor(self).map(|_, _, ctx| ctx.stop()));
    }
}

/// What a connection reader needs from its listener.
struct ConnCx {
    plan: StreamListenPlan,
    ingest: Arc<Ingest>,
    workers: Arc<Vec<ArbiterHandle>>,
    stop: watch::Receiver<bool>,
    connections: Arc<Connections>,
    handback: TcpHandback,
    mine: Arc<Mine>,
}

impl ConnCx {
    /// Runs the reader of one connection on a network arbiter (round robin by `n`); at a
    /// stop with `keep-alive(yes)` the connection goes to the handback instead of closing.
    fn spawn_reader(
        &self,
        stream: std::net::TcpStream,
        peer: SocketAddr,
        pending: Vec<u8>,
        n: usize,
    ) {
        self.mine.0.fetch_add(1, Ordering::AcqRel);
        self.connections.open();
        let counters = self.ingest.counters.clone();
        Counters::add(&counters.connections, 1);
        let reader = StreamReader {
            peer_addr: Some(peer),
            framing: self.plan.framing.clone(),
            ingest: self.ingest.clone(),
            window: self.ingest.window(self.plan.window_per_connection),
            stop: self.stop.clone(),
            pending,
            aux: None,
        };
        let keep_alive = self.plan.keep_alive;
        let (client, local) = (sockaddr_name(&peer), sockaddr_name(&self.plan.addr));
        let (mine, conns, handback) = (
            self.mine.clone(),
            self.connections.clone(),
            self.handback.clone(),
        );
        let task = async move {
            let end = match tokio::net::TcpStream::from_std(stream) {
                Ok(s) => reader.run(s).await,
                Err(e) => {
                    tracing::error!(error = %e, "Error reading from connection, closing it");
                    StreamEnd::Closed
                }
            };
            let kept = match end {
                StreamEnd::Stopped(s, pending) if keep_alive => match s.into_std() {
                    Ok(stream) => {
                        let kept = KeptTcp {
                            stream,
                            peer,
                            pending,
                        };
                        handback.leftovers.put(&handback.key, kept);
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            };
            if !kept {
                tracing::info!(client = %client, local = %local, "Syslog connection closed");
            }
            mine.0.fetch_sub(1, Ordering::AcqRel);
            counters.connections.fetch_sub(1, Ordering::Relaxed);
            conns.close();
        };
        match self.workers.get(n % self.workers.len().max(1)).cloned() {
            Some(w) => {
                w.spawn(task);
            }
            None => {
                actix_rt::spawn(task);
            }
        }
    }
}

fn socket_keepalive(stream: &tokio::net::TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a pointer to an int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_KEEPALIVE,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
