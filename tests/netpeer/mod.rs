//! Test peers for the socket destinations: a stream listener (TCP or UNIX) and a datagram
//! receiver (UDP or UNIX) that record what sluice sends, each on a thread of its own. A
//! stream peer can drop the connection, stop listening and listen again on the same address,
//! which is how the tests take "the receiver" down and bring it back.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(10);

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Conn {
    fn try_clone(&self) -> std::io::Result<Conn> {
        Ok(match self {
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
        })
    }

    fn set_read_timeout(&self, d: Duration) {
        let _ = match self {
            Conn::Tcp(s) => s.set_read_timeout(Some(d)),
            Conn::Unix(s) => s.set_read_timeout(Some(d)),
        };
    }

    fn shutdown(&self) {
        let _ = match self {
            Conn::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Conn::Unix(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.write_all(buf),
            Conn::Unix(s) => s.write_all(buf),
        }
    }
}

#[derive(Default)]
struct Shared {
    /// Everything received, over all connections.
    data: Mutex<Vec<u8>>,
    /// When each connection was accepted, and when each one ended.
    accepted: Mutex<Vec<Instant>>,
    ended: Mutex<Vec<Instant>>,
    /// The connection being read (a clone, to write to or shut down from the test).
    current: Mutex<Option<Conn>>,
    stop: AtomicBool,
}

/// The loopback address peers listen on.
pub const LOOPBACK: &str = "127.0.0.1";

/// A loopback address only peers that sluice reconnects to while they are down use.
pub const PRIVATE_LOOPBACK: &str = "127.0.0.2";

/// A port free on [`PRIVATE_LOOPBACK`].
pub fn private_free_port() -> u16 {
    TcpListener::bind((PRIVATE_LOOPBACK, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Where a stream peer listens.
#[derive(Clone)]
enum Addr {
    Tcp(&'static str, u16),
    Unix(PathBuf),
}

/// A stream listener accepting one connection at a time and recording its bytes.
pub struct StreamPeer {
    addr: Addr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl StreamPeer {
    /// Listens on 127.0.0.1, on a port the system picks.
    pub fn tcp() -> StreamPeer {
        StreamPeer::tcp_at(LOOPBACK)
    }

    /// Listens on `ip`, on a port the system picks. Tests in which sluice keeps reconnecting
    /// to a peer that is down use [`PRIVATE_LOOPBACK`]: no other test listens there, so the
    /// port cannot be handed to another test's peer (which would get the connections).
    pub fn tcp_at(ip: &'static str) -> StreamPeer {
        let l = TcpListener::bind((ip, 0)).expect("bind");
        let port = l.local_addr().expect("addr").port();
        StreamPeer::start(Addr::Tcp(ip, port), Listener::Tcp(l), Arc::default())
    }

    /// Listens on `ip`:`port`.
    pub fn tcp_on(ip: &'static str, port: u16) -> StreamPeer {
        let l = TcpListener::bind((ip, port)).expect("bind");
        StreamPeer::start(Addr::Tcp(ip, port), Listener::Tcp(l), Arc::default())
    }

    /// Listens on a UNIX socket at `path`.
    pub fn unix(path: &Path) -> StreamPeer {
        let _ = std::fs::remove_file(path);
        let l = UnixListener::bind(path).expect("bind unix");
        StreamPeer::start(Addr::Unix(path.into()), Listener::Unix(l), Arc::default())
    }

    fn start(addr: Addr, l: Listener, shared: Arc<Shared>) -> StreamPeer {
        let thread = spawn(l, &shared);
        StreamPeer {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        match self.addr {
            Addr::Tcp(_, p) => p,
            Addr::Unix(_) => 0,
        }
    }

    pub fn data(&self) -> Vec<u8> {
        self.shared
            .data
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data()).into_owned()
    }

    pub fn lines(&self) -> usize {
        self.data().iter().filter(|&&c| c == b'\n').count()
    }

    pub fn accepts(&self) -> Vec<Instant> {
        self.shared
            .accepted
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    pub fn ends(&self) -> Vec<Instant> {
        self.shared
            .ended
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    /// Waits until `n` newlines arrived.
    pub fn wait_lines(&self, n: usize, timeout: Duration) -> bool {
        wait(timeout, || self.lines() >= n)
    }

    /// Waits until `n` connections were accepted.
    pub fn wait_accepts(&self, n: usize, timeout: Duration) -> bool {
        wait(timeout, || self.accepts().len() >= n)
    }

    /// Writes to the current connection (the peer "talks back").
    pub fn say(&self, bytes: &[u8]) {
        if let Ok(mut cur) = self.shared.current.lock()
            && let Some(c) = cur.as_mut()
        {
            c.write_all(bytes).expect("write to sluice");
        }
    }

    /// Closes the current connection (the listener stays).
    pub fn close_connection(&self) {
        if let Ok(mut cur) = self.shared.current.lock()
            && let Some(c) = cur.take()
        {
            c.shutdown();
        }
    }

    /// Stops listening and closes the connection: the receiver is down.
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.close_connection();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Listens again on the same address, keeping what was received so far.
    pub fn restart(&mut self) {
        self.stop();
        let l = match &self.addr {
            Addr::Tcp(ip, p) => Listener::Tcp(TcpListener::bind((*ip, *p)).expect("rebind")),
            Addr::Unix(path) => {
                let _ = std::fs::remove_file(path);
                Listener::Unix(UnixListener::bind(path).expect("rebind unix"))
            }
        };
        self.thread = Some(spawn(l, &self.shared));
    }
}

impl Drop for StreamPeer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(l: Listener, shared: &Arc<Shared>) -> JoinHandle<()> {
    shared.stop.store(false, Ordering::SeqCst);
    let s = shared.clone();
    std::thread::spawn(move || serve(l, s))
}

fn serve(l: Listener, s: Arc<Shared>) {
    let nonblocking = match &l {
        Listener::Tcp(l) => l.set_nonblocking(true),
        Listener::Unix(l) => l.set_nonblocking(true),
    };
    nonblocking.expect("nonblocking listener");
    while !s.stop.load(Ordering::SeqCst) {
        let accepted = match &l {
            Listener::Tcp(l) => l.accept().map(|(c, _)| Conn::Tcp(c)),
            Listener::Unix(l) => l.accept().map(|(c, _)| Conn::Unix(c)),
        };
        let mut conn = match accepted {
            Ok(c) => c,
            Err(_) => {
                std::thread::sleep(TICK);
                continue;
            }
        };
        let _ = match &conn {
            Conn::Tcp(c) => c.set_nonblocking(false),
            Conn::Unix(c) => c.set_nonblocking(false),
        };
        if let Ok(mut a) = s.accepted.lock() {
            a.push(Instant::now());
        }
        conn.set_read_timeout(TICK * 5);
        if let (Ok(mut cur), Ok(clone)) = (s.current.lock(), conn.try_clone()) {
            *cur = Some(clone);
        }
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Ok(mut d) = s.data.lock() {
                        d.extend_from_slice(&buf[..n]);
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if s.stop.load(Ordering::SeqCst) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        conn.shutdown();
        if let Ok(mut cur) = s.current.lock() {
            *cur = None;
        }
        if let Ok(mut e) = s.ended.lock() {
            e.push(Instant::now());
        }
    }
}

/// A datagram receiver recording each datagram.
pub struct DgramPeer {
    port: u16,
    got: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

enum DSock {
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

impl DgramPeer {
    /// Receives on 127.0.0.1, on a port the system picks.
    pub fn udp() -> DgramPeer {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = s.local_addr().expect("addr").port();
        DgramPeer::start(port, DSock::Udp(s))
    }

    /// Receives on a UNIX datagram socket at `path`.
    pub fn unix(path: &Path) -> DgramPeer {
        let _ = std::fs::remove_file(path);
        DgramPeer::start(
            0,
            DSock::Unix(UnixDatagram::bind(path).expect("bind unix dgram")),
        )
    }

    fn start(port: u16, s: DSock) -> DgramPeer {
        let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (g, st) = (got.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let _ = match &s {
                DSock::Udp(s) => s.set_read_timeout(Some(TICK * 5)),
                DSock::Unix(s) => s.set_read_timeout(Some(TICK * 5)),
            };
            let mut buf = vec![0u8; 1 << 18];
            while !st.load(Ordering::SeqCst) {
                let r = match &s {
                    DSock::Udp(s) => s.recv(&mut buf),
                    DSock::Unix(s) => s.recv(&mut buf),
                };
                if let Ok(n) = r
                    && let Ok(mut g) = g.lock()
                {
                    g.push(buf[..n].to_vec());
                }
            }
        });
        DgramPeer {
            port,
            got,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn datagrams(&self) -> Vec<Vec<u8>> {
        self.got.lock().map(|g| g.clone()).unwrap_or_default()
    }

    pub fn wait_datagrams(&self, n: usize, timeout: Duration) -> bool {
        wait(timeout, || self.datagrams().len() >= n)
    }

    /// The datagrams as `LEN SP BYTES` each (the shape of the recorded goldens).
    pub fn framed(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for d in self.datagrams() {
            out.extend_from_slice(format!("{} ", d.len()).as_bytes());
            out.extend_from_slice(&d);
        }
        out
    }
}

impl Drop for DgramPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Polls `cond` until it holds or `timeout` passes.
pub fn wait(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(TICK * 2);
    }
    cond()
}

/// Counts octet-counted frames (`LEN SP BYTES`) in `data`; `None` if it does not parse.
pub fn frames(data: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest.iter().position(|&c| c == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..sp]).ok()?.parse().ok()?;
        let body = rest.get(sp + 1..sp + 1 + len)?;
        out.push(body);
        rest = &rest[sp + 1 + len..];
    }
    Some(out)
}
