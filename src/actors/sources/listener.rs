//! A stream listener as an actor: binds (or takes over) the listening socket, accepts up to
//! `max-connections()` connections and runs each one's reader ([`super::stream`]) on one of
//! the network arbiters, round robin.
//!
//! The listening socket is a `std::net::TcpListener` the graph keeps a duplicate of
//! ([`crate::actors::runtime::graph::Handover`]): stopping the actor closes only its own
//! descriptor, so on reload the next graph accepts on the very same socket and clients
//! connecting meanwhile wait in the backlog instead of being refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Actor, ActorContext, ActorFutureExt, AsyncContext, Context, WrapFuture};
use actix_rt::ArbiterHandle;
use tokio::sync::{Notify, watch};

use super::stream::{Framing, read_stream};
use crate::actors::runtime::ack::Window;
use crate::actors::runtime::counters::Counters;
use crate::actors::runtime::ingest::Ingest;

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
        let plan = self.plan.clone();
        let ingest = self.ingest.clone();
        let workers = self.workers.clone();
        let mut stop = self.stop.clone();
        let connections = self.connections.clone();
        let fut = async move {
            let listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!(source = %ingest.name, error = %e, "Error listening");
                    return;
                }
            };
            let mine = Arc::new(Mine::default());
            let mut next = 0usize;
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = stop.changed() => return,
                };
                let (stream, peer) = match accepted {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::error!(source = %ingest.name, error = %e, "Error accepting");
                        continue;
                    }
                };
                if mine.0.load(Ordering::Acquire) >= plan.max_connections {
                    tracing::error!(
                        source = %ingest.name,
                        client = %peer,
                        max = plan.max_connections,
                        "Number of allowed concurrent connections reached, rejecting connection"
                    );
                    continue;
                }
                Counters::add(&ingest.counters.connections, 1);
                let (client, local) = (sockaddr_name(peer), sockaddr_name(plan.addr));
                tracing::info!(client = %client, local = %local, "Syslog connection accepted");
                if plan.so_keepalive {
                    let _ = socket_keepalive(&stream);
                }
                let _ = stream.set_nodelay(true);
                let Ok(std_stream) = stream.into_std() else {
                    continue;
                };
                mine.0.fetch_add(1, Ordering::AcqRel);
                connections.open();
                let window = Window::for_reader(plan.window_per_connection);
                let (framing, ingest2, stop2) =
                    (plan.framing.clone(), ingest.clone(), stop.clone());
                let (mine2, conns2) = (mine.clone(), connections.clone());
                let task = async move {
                    if let Ok(s) = tokio::net::TcpStream::from_std(std_stream) {
                        read_stream(s, Some(peer), framing, ingest2, window, stop2).await;
                    }
                    tracing::info!(client = %client, local = %local, "Syslog connection closed");
                    mine2.0.fetch_sub(1, Ordering::AcqRel);
                    conns2.close();
                };
                let worker = workers.get(next % workers.len().max(1)).cloned();
                next = next.wrapping_add(1);
                match worker {
                    Some(w) => {
                        w.spawn(task);
                    }
                    None => {
                        actix_rt::spawn(task);
                    }
                }
            }
        };
        ctx.spawn(fut.into_actor(self).map(|_, _, ctx| ctx.stop()));
    }
}

/// An address as syslog-ng names it in its messages: `AF_INET(127.0.0.1:514)`.
fn sockaddr_name(a: SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("AF_INET({v4})"),
        SocketAddr::V6(v6) => format!("AF_INET6({v6})"),
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
