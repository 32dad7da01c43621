//! The `unix-stream()` source at run time: accepts up to `max-connections()` connections on
//! its socket file and reads each with the stream reader TCP uses ([`super::stream`]:
//! newline framing, a window of `log-iw-size() / max-connections()` credits per connection),
//! on the network arbiters, round robin.
//!
//! `keep-alive(yes)` (the default) keeps connections open across a reload, as syslog-ng
//! does: when the graph stops, each reader hands its connection and the bytes it read but did
//! not frame yet back to the graph ([`KeptConnection`]), which passes them, with the listening
//! socket, to the next graph; that one goes on reading them where the old one stopped. With
//! `keep-alive(no)` connections are closed on reload, and clients reconnect.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_rt::ArbiterHandle;
use tokio::sync::watch;

use super::listener::Connections;
use super::stream::{Framing, StreamEnd, StreamReader};
use super::unix_creds;
use super::unix_socket::SocketFilePlan;
use crate::actors::runtime::counters::Counters;
use crate::actors::runtime::ingest::Ingest;

/// A `unix-stream()` source, ready to start.
#[derive(Debug, Clone)]
pub struct UnixStreamPlan {
    pub file: SocketFilePlan,
    pub framing: Framing,
    pub max_connections: usize,
    /// `log-iw-size()` split across `max-connections()`.
    pub window_per_connection: u32,
    pub listen_backlog: u32,
    pub keep_alive: bool,
    /// `so-passcred()`: add the connecting process's credentials to its messages.
    pub passcred: bool,
}

/// An open connection handed from one graph to the next on reload.
#[derive(Debug)]
pub struct KeptConnection {
    pub stream: std::os::unix::net::UnixStream,
    /// Bytes read and not yet framed (the start of a message).
    pub pending: Vec<u8>,
}

/// Where readers put their connections back when the graph stops (`keep-alive(yes)`): the
/// reload's `Leftovers`, under the source's resource key.
#[derive(Debug, Clone)]
pub struct Handback {
    pub leftovers: crate::actors::runtime::driver::Leftovers,
    pub key: String,
}

/// A running `unix-stream()` source: its accept loop and connection readers.
pub struct UnixStreamSource {
    pub plan: UnixStreamPlan,
    /// The listening socket (a duplicate; the graph keeps the original for the handover).
    pub listener: Option<std::os::unix::net::UnixListener>,
    /// Connections taken over from the previous graph.
    pub kept: Vec<KeptConnection>,
    pub ingest: Arc<Ingest>,
    pub workers: Arc<Vec<ArbiterHandle>>,
    pub stop: watch::Receiver<bool>,
    pub connections: Arc<Connections>,
    pub handback: Handback,
}

/// The source's own connection count (for `max-connections()`) and round-robin position.
#[derive(Default)]
struct Readers {
    live: AtomicUsize,
    next: AtomicUsize,
}

impl UnixStreamSource {
    /// Starts the accept loop on `home` (and the readers of kept connections). Counted in
    /// `connections` until it returns, so stopping the graph waits for it.
    pub fn start(self, home: Option<&ArbiterHandle>) {
        self.connections.open();
        let fut = self.run();
        match home {
            Some(h) => {
                h.spawn(fut);
            }
            None => {
                actix_rt::spawn(fut);
            }
        }
    }

    async fn run(mut self) {
        let connections = self.connections.clone();
        let local = format!("AF_UNIX({})", self.plan.file.path.display());
        let readers = Arc::new(Readers::default());
        for k in std::mem::take(&mut self.kept) {
            self.spawn_reader(k.stream, k.pending, &readers, &local);
        }
        let listener = match self.listener.take() {
            Some(l) => l
                .set_nonblocking(true)
                .and_then(|()| tokio::net::UnixListener::from_std(l)),
            None => Err(std::io::Error::other("no listening socket")),
        };
        match listener {
            Ok(l) => self.accept_loop(l, &readers, &local).await,
            Err(e) => tracing::error!(source = %self.ingest.name, error = %e, "Error listening"),
        }
        connections.close();
    }

    async fn accept_loop(
        &mut self,
        listener: tokio::net::UnixListener,
        readers: &Arc<Readers>,
        local: &str,
    ) {
        loop {
            let accepted = tokio::select! {
                biased;
                _ = self.stop.changed() => return,
                a = listener.accept() => a,
            };
            let stream = match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::error!(source = %self.ingest.name, error = %e, "Error accepting");
                    continue;
                }
            };
            if readers.live.load(Ordering::Acquire) >= self.plan.max_connections {
                tracing::error!(
                    source = %self.ingest.name,
                    client = "AF_UNIX(anonymous)",
                    max = self.plan.max_connections,
                    "Number of allowed concurrent connections reached, rejecting connection"
                );
                Counters::add(&self.ingest.counters.rejected, 1);
                continue;
            }
            tracing::info!(
                client = "AF_UNIX(anonymous)",
                local = %local,
                "Syslog connection accepted"
            );
            match stream.into_std() {
                Ok(s) => self.spawn_reader(s, Vec::new(), readers, local),
                Err(e) => {
                    tracing::error!(source = %self.ingest.name, error = %e, "Error accepting")
                }
            }
        }
    }

    fn spawn_reader(
        &self,
        stream: std::os::unix::net::UnixStream,
        pending: Vec<u8>,
        readers: &Arc<Readers>,
        local: &str,
    ) {
        use std::os::fd::AsRawFd;
        let aux = if self.plan.passcred {
            unix_creds::peer_credentials(stream.as_raw_fd())
                .map(|c| Arc::new(unix_creds::aux_values(c)))
        } else {
            None
        };
        readers.live.fetch_add(1, Ordering::AcqRel);
        self.connections.open();
        let counters = self.ingest.counters.clone();
        Counters::add(&counters.connections, 1);
        let reader = StreamReader {
            peer_addr: None,
            framing: self.plan.framing.clone(),
            ingest: self.ingest.clone(),
            window: self.ingest.window(self.plan.window_per_connection),
            stop: self.stop.clone(),
            pending,
            aux,
        };
        let keep_alive = self.plan.keep_alive;
        let (handback, connections, readers2) = (
            self.handback.clone(),
            self.connections.clone(),
            readers.clone(),
        );
        let local = local.to_string();
        let task = async move {
            let end = match stream
                .set_nonblocking(true)
                .and_then(|()| tokio::net::UnixStream::from_std(stream))
            {
                Ok(s) => reader.run(s).await,
                Err(e) => {
                    tracing::error!(error = %e, "Error reading from connection, closing it");
                    StreamEnd::Closed
                }
            };
            let kept = match end {
                StreamEnd::Stopped(s, pending) if keep_alive => match s.into_std() {
                    Ok(stream) => {
                        let kept = KeptConnection { stream, pending };
                        handback.leftovers.put(&handback.key, kept);
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            };
            if !kept {
                tracing::info!(
                    client = "AF_UNIX(anonymous)",
                    local = %local,
                    "Syslog connection closed"
                );
            }
            readers2.live.fetch_sub(1, Ordering::AcqRel);
            counters.connections.fetch_sub(1, Ordering::Relaxed);
            connections.close();
        };
        let n = readers.next.fetch_add(1, Ordering::Relaxed);
        match self.workers.get(n % self.workers.len().max(1)) {
            Some(w) => {
                w.spawn(task);
            }
            None => {
                actix_rt::spawn(task);
            }
        }
    }
}
