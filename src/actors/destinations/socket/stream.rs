//! [`StreamSink`]: TCP (`network()`, `syslog()`, `tcp()`, `tcp6()`) and `unix-stream()`.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::connect::{self, ConnectError, Connected, StreamConn};
use super::{SocketDestPlan, Target};
use crate::actors::destinations::writer::{Renderer, SendError, Sink};
use crate::actors::runtime::driver::Parking;
use crate::actors::runtime::queue::{Entry, Queue};
use crate::template::formats::push_octet_counted;

/// What a look at the socket before writing (or while idle) found.
enum Input {
    /// Nothing to read: the connection is fine.
    Quiet,
    /// The peer closed its side.
    Eof,
    /// The peer sent something (bytes read and thrown away).
    Data,
    Error(io::Error),
}

/// The sink of one stream socket destination.
/// A connection attempt in progress.
type Connecting = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Connected<StreamConn>, ConnectError>> + Send>,
>;

pub struct StreamSink {
    plan: SocketDestPlan,
    conn: Option<StreamConn>,
    /// The attempt in progress, kept across cancellation: the writer loop drops an idle
    /// upkeep (which may be connecting) when messages arrive, and the send that follows
    /// must go on with that attempt — starting a second one left the peer a spurious
    /// connection that was closed at once.
    connecting: Option<Connecting>,
    /// The connection a previous configuration left, adopted on first use.
    adopt: Option<OwnedFd>,
    kept: Parking,
    /// When idle upkeep may try to connect again.
    next_attempt: Instant,
    /// The rendered batch, and where each entry's bytes end in it.
    out: Vec<u8>,
    ends: Vec<usize>,
    scratch: Vec<u8>,
    /// Told how many entries are written whole as a send goes (a stop may cut it short).
    progress: Option<Arc<Queue>>,
}

impl StreamSink {
    /// Reports its progress through a batch to the destination's `queue` (exact counts when a
    /// stop cuts a send short).
    pub fn reporting_to(mut self, queue: Arc<Queue>) -> StreamSink {
        self.progress = Some(queue);
        self
    }

    pub fn new(plan: SocketDestPlan, adopt: Option<OwnedFd>, kept: Parking) -> StreamSink {
        StreamSink {
            plan,
            conn: None,
            connecting: None,
            adopt,
            kept,
            next_attempt: Instant::now(),
            out: Vec::with_capacity(64 << 10),
            ends: Vec::new(),
            progress: None,
            scratch: Vec::new(),
        }
    }

    fn time_reopen(&self) -> Duration {
        self.plan.writer.time_reopen
    }

    fn server(&self) -> String {
        connect::target_name(&self.plan.target)
    }

    /// Connects (or adopts the connection a reload handed over); logs the outcome as
    /// syslog-ng does. A failure schedules the next idle attempt `time-reopen()` later.
    async fn open(&mut self) -> io::Result<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        if let Some(fd) = self.adopt.take() {
            let unix = matches!(self.plan.target, Target::Unix(_));
            match StreamConn::adopt(fd, unix) {
                Ok(c) => {
                    tracing::info!(server = %self.server(),
                        "Syslog connection kept across reload (keep-alive)");
                    self.conn = Some(c);
                    return Ok(());
                }
                Err(e) => tracing::warn!(server = %self.server(), error = %e,
                    "Error adopting the kept connection, reconnecting"),
            }
        }
        let attempt = self.connecting.get_or_insert_with(|| {
            let plan = self.plan.clone();
            Box::pin(async move { connect::connect_stream(&plan).await })
        });
        let result = attempt.await;
        self.connecting = None;
        match result {
            Ok(Connected {
                conn,
                server,
                local,
            }) => {
                tracing::info!(server = %server, local = %local, "Syslog connection established");
                self.conn = Some(conn);
                Ok(())
            }
            Err(e) => {
                self.next_attempt = Instant::now() + self.time_reopen();
                tracing::error!(server = %self.server(), error = %e,
                    time_reopen = self.time_reopen().as_secs(), "Syslog connection failed");
                Err(e.into_io())
            }
        }
    }

    /// Drops the connection after the peer closed it or broke it; the next idle attempt
    /// comes `time-reopen()` later (a batch to send connects at once).
    fn drop_conn(&mut self, what: &str) {
        if self.conn.take().is_some() {
            self.next_attempt = Instant::now() + self.time_reopen();
            tracing::info!(server = %self.server(),
                time_reopen = self.time_reopen().as_secs(), "{what}");
        }
    }

    /// Reads whatever the peer sent, without waiting. `now` asks the kernel even when the
    /// runtime has not seen the socket become readable yet (before a write, the runtime may
    /// not have polled since the peer's FIN arrived).
    fn check_input(&self, now: bool) -> Input {
        let Some(c) = &self.conn else {
            return Input::Quiet;
        };
        let mut buf = [0u8; 4096];
        let mut got = false;
        loop {
            let r = if now {
                c.read_now(&mut buf)
            } else {
                c.try_read(&mut buf)
            };
            match r {
                Ok(0) => return Input::Eof,
                Ok(_) => got = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Input::Error(e),
            }
        }
        if got { Input::Data } else { Input::Quiet }
    }

    /// Acts on what [`check_input`](Self::check_input) found; `true` when the connection
    /// had to be dropped.
    fn handle_input(&mut self, input: Input, idle: bool) -> bool {
        match input {
            Input::Quiet => false,
            Input::Data if !self.plan.close_on_input => false,
            Input::Eof | Input::Data => {
                // syslog-ng says "EOF occurred while idle" for both.
                if idle {
                    tracing::info!(server = %self.server(), "EOF occurred while idle");
                } else {
                    tracing::info!(server = %self.server(), "EOF occurred before writing");
                }
                self.drop_conn("Syslog connection closed");
                true
            }
            Input::Error(e) => {
                tracing::error!(server = %self.server(), error = %e,
                    "I/O error occurred while reading");
                self.drop_conn("Syslog connection broken");
                true
            }
        }
    }

    /// Renders the batch into `out`, recording where each entry ends.
    fn render(&mut self, batch: &[Entry], r: &mut Renderer) {
        self.out.clear();
        self.ends.clear();
        for e in batch {
            if self.plan.octet_counted {
                self.scratch.clear();
                r.render(&e.msg, &mut self.scratch);
                if !self.scratch.is_empty() {
                    push_octet_counted(&mut self.out, &self.scratch);
                }
            } else {
                r.render(&e.msg, &mut self.out);
            }
            self.ends.push(self.out.len());
        }
    }
}

impl Sink for StreamSink {
    fn describe(&self) -> String {
        self.plan.describe()
    }

    fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError> {
        self.render(batch, r);
        if self.out.is_empty() {
            return Ok(());
        }
        // A peer that closed (or, with close-on-input, talked) since the last batch gets a
        // new connection before anything is written into the dead one.
        let input = self.check_input(true);
        self.handle_input(input, false);
        self.open().await.map_err(SendError::none)?;
        let mut pos = 0;
        let res = loop {
            if pos == self.out.len() {
                break Ok(());
            }
            let Some(conn) = self.conn.as_mut() else {
                break Err(io::Error::from(io::ErrorKind::NotConnected));
            };
            match conn.write(&self.out[pos..]).await {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => {
                    pos += n;
                    if let Some(q) = &self.progress {
                        q.written_in_hand(self.ends.partition_point(|&end| end <= pos));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if self.out.capacity() > 4 << 20 {
            self.out = Vec::with_capacity(64 << 10);
        }
        res.map_err(|error| {
            tracing::error!(server = %self.server(), error = %error,
                "I/O error occurred while writing");
            self.drop_conn("Syslog connection broken");
            // Entries whose last byte went out are written; a partly written one is sent
            // again, whole, on the next connection.
            let written = self.ends.partition_point(|&end| end <= pos);
            SendError { written, error }
        })
    }

    /// A reload: `keep-alive(no)` drops the connection (the next send connects again),
    /// `keep-alive(yes)` keeps it, as syslog-ng does.
    async fn reopen(&mut self) {
        if !self.plan.keep_alive {
            self.conn = None;
        }
    }

    async fn close(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        // Kept only for a successor (a reload); a close after an error or for good drops it.
        if !self.plan.keep_alive || !self.kept.is_reloading() {
            return;
        }
        match conn.into_fd() {
            Ok(fd) => self.kept.park(Box::new(fd)),
            Err(e) => tracing::warn!(server = %self.server(), error = %e,
                "Error keeping the connection for the next configuration"),
        }
    }

    async fn idle(&mut self) {
        loop {
            match &self.conn {
                Some(c) => {
                    if c.readable().await.is_err() {
                        self.drop_conn("Syslog connection broken");
                        return;
                    }
                    let input = self.check_input(false);
                    if self.handle_input(input, true) {
                        return;
                    }
                }
                None => {
                    tokio::time::sleep_until(self.next_attempt.into()).await;
                    let _ = self.open().await;
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::destinations::socket::SockKind;
    use crate::actors::destinations::socket::testing::{entry, plan, renderer};
    use std::io::Read;

    #[tokio::test]
    async fn writes_framed_and_reconnects_after_the_peer_closed() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let mut p = plan(
            Target::Inet {
                host: "127.0.0.1".into(),
                port,
                v6: false,
            },
            SockKind::Stream,
        );
        p.octet_counted = true;
        let mut r = renderer(&p);
        let mut sink = StreamSink::new(p, None, Parking::default());
        let batch = [entry("one"), entry("two")];
        assert!(sink.send(&batch, &mut r).await.is_ok());
        let (mut c, _) = l.accept().expect("accept");
        let mut buf = vec![0u8; 200];
        let n = c.read(&mut buf).expect("read");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert_eq!(
            text,
            "26 <13>Jan  1 00:00:00 h one\n26 <13>Jan  1 00:00:00 h two\n"
        );
        // The peer closes: the next batch goes to a new connection, nothing into the old.
        drop(c);
        assert!(sink.send(&[entry("three")], &mut r).await.is_ok());
        let (mut c2, _) = l.accept().expect("accept");
        let n = c2.read(&mut buf).expect("read");
        assert_eq!(&buf[..n], b"28 <13>Jan  1 00:00:00 h three\n");
    }
}
