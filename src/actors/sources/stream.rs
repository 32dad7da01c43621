//! The reader of one stream connection (TCP today; unix-stream and TLS reuse it): large reads,
//! framing, parsing and routing of whole batches, bounded by the connection's flow-control
//! window.
//!
//! The loop takes every credit the window has, frames and parses at most that many messages
//! from what is buffered, and flushes them as one batch (one queue lock per destination). Only
//! when the buffer holds no complete message does it read again, so an empty window means the
//! socket is not read: the kernel buffer fills and the sender is slowed down by TCP itself.
//! Everything parsed is flushed before any await, so stopping the task at an await point never
//! loses an accepted message.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use crate::actors::runtime::ack::Window;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::message::framing::{Frame, Newline, OctetCounted};
use crate::message::{PeerInfo, UnixTime};

/// Bytes asked of the kernel per read.
pub const READ_SIZE: usize = 256 * 1024;

/// How a stream is cut into messages.
#[derive(Debug, Clone)]
pub enum Framing {
    /// Newline-terminated (network(), tcp(), unix-stream()).
    Newline(Newline),
    /// RFC 6587 octet counting (syslog(), transport(framed)).
    OctetCounted(OctetCounted),
}

impl Framing {
    fn next<'a>(&mut self, buf: &'a [u8], eof: bool) -> Frame<'a> {
        match self {
            Framing::Newline(f) => f.next(buf, eof),
            Framing::OctetCounted(f) => f.next(buf),
        }
    }
}

/// Reads `stream` until it closes, the framing breaks, or `stop` is raised.
pub async fn read_stream<S>(
    mut stream: S,
    peer_addr: Option<SocketAddr>,
    mut framing: Framing,
    ingest: Arc<Ingest>,
    window: Arc<Window>,
    mut stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + Unpin,
{
    let peer = match peer_addr {
        Some(a) => Some(PeerInfo {
            addr: Some(a.ip()),
            dns_name: super::dns::reverse_lookup(a.ip(), &ingest.parse).await,
        }),
        None => None,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(READ_SIZE);
    let mut pos = 0usize;
    let mut eof = false;
    let mut batch = Batcher::default();
    let tz = ingest.parse.local_time_zone.clone();
    loop {
        // Parse what is buffered, as far as the window allows.
        let mut more_buffered = true;
        while more_buffered {
            let mut credits = window.try_acquire();
            if credits == 0 {
                tokio::select! {
                    c = window.acquire() => credits = c,
                    _ = stop.changed() => return,
                }
            }
            let now = UnixTime::now(&tz);
            ingest.begin(&mut batch, Some(&window), credits);
            let mut used = 0u32;
            let mut broken = false;
            while used < credits {
                match framing.next(&buf[pos..], eof) {
                    Frame::Message(m, n) => {
                        ingest.parse_into(&mut batch, m, peer.as_ref(), now);
                        pos += n;
                        used += 1;
                    }
                    Frame::Skip(n) => pos += n,
                    Frame::Incomplete => {
                        more_buffered = false;
                        break;
                    }
                    Frame::Error(e) => {
                        tracing::error!(
                            source = %ingest.name,
                            peer = ?peer_addr,
                            error = ?e,
                            "Error reading framed stream, closing connection"
                        );
                        broken = true;
                        break;
                    }
                }
            }
            ingest.flush(&mut batch);
            window.put_back(credits - used);
            if broken {
                return;
            }
        }
        if eof {
            return;
        }
        // Keep the unconsumed tail, then read more.
        if pos > 0 {
            buf.drain(..pos);
            pos = 0;
        }
        if buf.capacity() - buf.len() < READ_SIZE / 4 {
            buf.reserve(READ_SIZE);
        }
        tokio::select! {
            r = stream.read_buf(&mut buf) => match r {
                Ok(0) => eof = true,
                Ok(_) => {}
                Err(e) => {
                    tracing::info!(source = %ingest.name, peer = ?peer_addr, error = %e,
                        "Error reading from connection, closing it");
                    eof = true;
                }
            },
            _ = stop.changed() => return,
        }
    }
}
