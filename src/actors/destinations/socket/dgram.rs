//! [`DgramSink`]: UDP (`network(transport(udp))`, `syslog(transport(udp))`, `udp()`,
//! `udp6()`) and `unix-dgram()`: one datagram per message, a batch in few `sendmmsg()` calls.

use std::io;
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use super::connect::{self, Connected, DgramConn, MAX_UDP_PAYLOAD};
use super::{SocketDestPlan, Target};
use crate::actors::destinations::writer::{Renderer, SendError, Sink};
use crate::actors::runtime::driver::Parking;
use crate::actors::runtime::queue::Entry;

/// The sink of one datagram socket destination.
pub struct DgramSink {
    plan: SocketDestPlan,
    conn: Option<DgramConn>,
    /// The socket a previous configuration left, adopted on first use.
    adopt: Option<OwnedFd>,
    kept: Parking,
    /// When idle upkeep may try to open the socket again.
    next_attempt: Instant,
    /// UDP datagrams are cut to this size; UNIX ones are not.
    max_len: Option<usize>,
    /// The rendered batch; `parts` are (entry index, bytes) of the non-empty messages.
    out: Vec<u8>,
    parts: Vec<(usize, Range<usize>)>,
}

impl DgramSink {
    pub fn new(plan: SocketDestPlan, adopt: Option<OwnedFd>, kept: Parking) -> DgramSink {
        let max_len = match plan.target {
            Target::Inet { .. } => Some(MAX_UDP_PAYLOAD),
            Target::Unix(_) => None,
        };
        DgramSink {
            plan,
            conn: None,
            adopt,
            kept,
            next_attempt: Instant::now(),
            max_len,
            out: Vec::with_capacity(64 << 10),
            parts: Vec::new(),
        }
    }

    fn time_reopen(&self) -> Duration {
        self.plan.writer.time_reopen
    }

    fn server(&self) -> String {
        connect::target_name(&self.plan.target)
    }

    async fn open(&mut self) -> io::Result<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        if let Some(fd) = self.adopt.take() {
            let unix = matches!(self.plan.target, Target::Unix(_));
            match DgramConn::adopt(fd, unix) {
                Ok(c) => {
                    self.conn = Some(c);
                    return Ok(());
                }
                Err(e) => tracing::warn!(server = %self.server(), error = %e,
                    "Error adopting the kept socket, reopening"),
            }
        }
        match connect::connect_dgram(&self.plan).await {
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

    /// Renders every entry; empty renders are not sent (syslog-ng skips them too).
    fn render(&mut self, batch: &[Entry], r: &mut Renderer) {
        self.out.clear();
        self.parts.clear();
        for (i, e) in batch.iter().enumerate() {
            let start = self.out.len();
            r.render(&e.msg, &mut self.out);
            if let Some(max) = self.max_len
                && self.out.len() - start > max
            {
                self.out.truncate(start + max);
            }
            if self.out.len() > start {
                self.parts.push((i, start..self.out.len()));
            }
        }
    }
}

impl Sink for DgramSink {
    fn describe(&self) -> String {
        self.plan.describe()
    }

    fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    async fn send(&mut self, batch: &[Entry], r: &mut Renderer) -> Result<(), SendError> {
        self.render(batch, r);
        if self.parts.is_empty() {
            return Ok(());
        }
        self.open().await.map_err(SendError::none)?;
        let msgs: Vec<&[u8]> = self
            .parts
            .iter()
            .map(|(_, range)| &self.out[range.clone()])
            .collect();
        let mut sent = 0;
        let res = loop {
            if sent == msgs.len() {
                break Ok(());
            }
            let Some(conn) = self.conn.as_ref() else {
                break Err(io::Error::from(io::ErrorKind::NotConnected));
            };
            match conn.send_some(&msgs[sent..]).await {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        drop(msgs);
        if self.out.capacity() > 4 << 20 {
            self.out = Vec::with_capacity(64 << 10);
        }
        res.map_err(|error| {
            let failed = self.parts.get(sent).map_or(batch.len(), |(i, _)| *i);
            let len = self.parts.get(sent).map_or(0, |(_, r)| r.len());
            tracing::error!(server = %self.server(), error = %error, size = len,
                "I/O error occurred while writing");
            if self.conn.take().is_some() {
                self.next_attempt = Instant::now() + self.time_reopen();
                tracing::info!(server = %self.server(),
                    time_reopen = self.time_reopen().as_secs(), "Syslog connection broken");
            }
            SendError {
                written: failed,
                error,
            }
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
                "Error keeping the socket for the next configuration"),
        }
    }

    async fn idle(&mut self) {
        if self.conn.is_some() {
            return std::future::pending().await;
        }
        tokio::time::sleep_until(self.next_attempt.into()).await;
        let _ = self.open().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::destinations::socket::SockKind;
    use crate::actors::destinations::socket::testing::{entry, plan, renderer};

    #[tokio::test]
    async fn a_datagram_too_long_for_a_unix_socket_fails_and_reports_what_went_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("d.sock");
        let rx = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
        let p = plan(Target::Unix(path), SockKind::Dgram);
        let mut r = renderer(&p);
        let mut sink = DgramSink::new(p, None, Parking::default());
        let huge = "x".repeat(1 << 20);
        let batch = [entry("one"), entry(&huge), entry("three")];
        let e = sink.send(&batch, &mut r).await.err();
        // As syslog-ng 3.38: "Message too long", retried after time-reopen().
        assert_eq!(e.as_ref().map(|e| e.written), Some(1));
        assert_eq!(e.and_then(|e| e.error.raw_os_error()), Some(libc::EMSGSIZE));
        assert!(!sink.is_open());
        let mut buf = [0u8; 64];
        let n = rx.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"<13>Jan  1 00:00:00 h one\n");
        // The rest goes out once the long one is gone (ignore-errors would drop it).
        assert!(sink.send(&batch[2..], &mut r).await.is_ok());
        let n = rx.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"<13>Jan  1 00:00:00 h three\n");
    }

    #[tokio::test]
    async fn udp_datagrams_are_cut_and_empty_renders_skipped() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = rx.local_addr().expect("addr").port();
        let target = Target::Inet {
            host: "127.0.0.1".into(),
            port,
            v6: false,
        };
        let mut p = plan(target, SockKind::Dgram);
        let mut r = renderer(&p);
        let mut sink = DgramSink::new(p.clone(), None, Parking::default());
        let long = "y".repeat(70000);
        assert!(sink.send(&[entry(&long), entry("b")], &mut r).await.is_ok());
        let mut buf = vec![0u8; 1 << 17];
        let n = rx.recv(&mut buf).expect("recv");
        assert_eq!(n, MAX_UDP_PAYLOAD);
        let n = rx.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"<13>Jan  1 00:00:00 h b\n");
        // A message that renders to nothing is not sent at all (syslog-ng skips it too).
        p.writer.render.truncate_size = Some(0);
        let mut r = renderer(&p);
        let mut sink = DgramSink::new(p, None, Parking::default());
        assert!(sink.send(&[entry("gone")], &mut r).await.is_ok());
        rx.set_nonblocking(true).expect("nonblocking");
        assert!(rx.recv(&mut buf).is_err());
    }
}
