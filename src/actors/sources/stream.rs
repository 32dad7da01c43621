//! The reader of one stream connection (TCP and unix-stream; TLS will reuse it): large reads,
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
use crate::actors::runtime::counters::Counters;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::message::framing::{Frame, Newline, OctetCounted};
use crate::message::{PeerInfo, UnixTime};

/// Bytes asked of the kernel per read.
/// (128 KiB: a reader keeps at most `READER_IN_FLIGHT_CAP` messages in flight, ~100 KiB of
/// typical ones; 256 KiB cost 0.5 MB more at 4 connections for no measurable throughput.)
pub const READ_SIZE: usize = 128 * 1024;

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

/// Values a transport adds to every message of a connection (the sender's credentials on
/// unix sockets: `.unix.pid`, `.unix.uid`...), set after parsing as syslog-ng's aux data.
pub type AuxValues = Vec<(&'static str, Vec<u8>)>;

/// How a connection reader finished.
#[derive(Debug)]
pub enum StreamEnd<S> {
    /// The peer closed the connection, reading failed or the framing broke.
    Closed,
    /// `stop` was raised: the stream and the bytes read but not yet framed, so that a reload
    /// can hand the open connection to the next graph (`keep-alive(yes)`).
    Stopped(S, Vec<u8>),
}

/// Reads `stream` until it closes, the framing breaks, or `stop` is raised.
pub async fn read_stream<S>(
    stream: S,
    peer_addr: Option<SocketAddr>,
    framing: Framing,
    ingest: Arc<Ingest>,
    window: Arc<Window>,
    stop: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + Unpin,
{
    let reader = StreamReader {
        peer_addr,
        framing,
        ingest,
        window,
        stop,
        pending: Vec::new(),
        aux: None,
    };
    drop(reader.run(stream).await);
}

/// One connection's reader with everything [`read_stream`] takes, plus what a connection
/// handed over on reload brings along.
pub struct StreamReader {
    pub peer_addr: Option<SocketAddr>,
    pub framing: Framing,
    pub ingest: Arc<Ingest>,
    pub window: Arc<Window>,
    pub stop: watch::Receiver<bool>,
    /// Bytes read from the stream before (by the previous graph's reader), framed first.
    pub pending: Vec<u8>,
    /// Values set on every message of this connection.
    pub aux: Option<Arc<AuxValues>>,
}

impl StreamReader {
    /// Reads `stream` until it closes, the framing breaks ([`StreamEnd::Closed`]), or `stop`
    /// is raised ([`StreamEnd::Stopped`], with whatever was read and not yet framed).
    pub async fn run<S>(self, mut stream: S) -> StreamEnd<S>
    where
        S: tokio::io::AsyncRead + Unpin,
    {
        let StreamReader {
            peer_addr,
            mut framing,
            ingest,
            window,
            mut stop,
            pending,
            aux,
        } = self;
        let peer = match peer_addr {
            Some(a) => Some(PeerInfo {
                addr: Some(a.ip()),
                dns_name: super::dns::reverse_lookup(a.ip(), &ingest.parse).await,
            }),
            None => None,
        };
        let aux: &[(&'static str, Vec<u8>)] = aux.as_deref().map_or(&[], Vec::as_slice);
        let mut buf: Vec<u8> = pending;
        buf.reserve(READ_SIZE.saturating_sub(buf.len()));
        let mut pos = 0usize;
        let mut eof = false;
        let mut batch = Batcher::default();
        // From stats-level(1) syslog-ng counts each peer address apart too (a unix-stream
        // peer has none: `unix-stream,anonymous`).
        let _peer = (ingest.stats_level >= 1).then(|| {
            let instance = match peer_addr {
                Some(a) => format!("tcp,{}", a.ip()),
                None => "unix-stream,anonymous".to_string(),
            };
            let guard = ingest.counters.peer(instance);
            batch.peer = Some(guard.0.counters.clone());
            guard
        });
        let tz = ingest.parse.local_time_zone.clone();
        loop {
            // Parse what is buffered, as far as the window allows.
            let mut more_buffered = true;
            while more_buffered {
                let mut credits = window.try_acquire();
                if credits == 0 {
                    tokio::select! {
                        c = window.acquire() => credits = c,
                        _ = stop.changed() => {
                            buf.drain(..pos);
                            return StreamEnd::Stopped(stream, buf);
                        }
                    }
                }
                let now = UnixTime::now(&tz);
                ingest.begin(&mut batch, Some(&window), credits);
                let mut used = 0u32;
                let mut broken = false;
                while used < credits {
                    match framing.next(&buf[pos..], eof) {
                        Frame::Message(m, n) => {
                            ingest.parse_into_with(&mut batch, m, peer.as_ref(), now, aux);
                            pos += n;
                            used += 1;
                        }
                        Frame::Skip(n) => pos += n,
                        Frame::Incomplete => {
                            more_buffered = false;
                            break;
                        }
                        Frame::Error(e) => {
                            Counters::add(&ingest.counters.framing_errors, 1);
                            ingest.counters.set_error(format_args!(
                                "Error reading framed stream from {peer_addr:?}: {e:?}"
                            ));
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
                    return StreamEnd::Closed;
                }
            }
            if eof {
                return StreamEnd::Closed;
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
                _ = stop.changed() => return StreamEnd::Stopped(stream, buf),
            }
        }
    }
}
