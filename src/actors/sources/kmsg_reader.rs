//! `file("/dev/kmsg")` and `file("/proc/kmsg")` at run time: the kernel's log, read the way
//! syslog-ng 3.38's file() reads these two paths (`affile-source.c`, `linux-kmsg.c`,
//! `transport-prockmsg.c`).
//!
//! * **`/dev/kmsg`** (when it is a device; a missing one is followed like a regular file, as
//!   syslog-ng does): opened read-only, non-blocking, and *seeked to its end*: records already
//!   in the kernel's ring buffer are not read, only those logged after the daemon started
//!   (recorded: a record written before start does not arrive). Each `read()` returns exactly
//!   one record, so every read is one message (syslog-ng's datagram framing; normally with
//!   `format(linux-kmsg)`), read into a buffer of `log-msg-size()` bytes. The device is
//!   pollable: the reader waits for it to become readable, never on a timer. No position is
//!   kept in the persist file (syslog-ng's `restore_state` is off for devices), but the
//!   persist name still counts for the duplicate check.
//! * **Overwritten records** (`EPIPE`: the ring buffer wrapped past what was read), a record
//!   longer than the buffer (`EINVAL`) or any other read error: syslog-ng logs "I/O error
//!   occurred while reading", reopens the device and seeks to its end, skipping what is in the
//!   buffer; sluice seeks the same descriptor to its end, which is the same thing.
//! * **`/proc/kmsg`**: lines of `<PRI>[  TIME] text`, newline-framed and parsed with the
//!   source's format (normally syslog: a user-facility line gets PID = the kernel time,
//!   recorded). Reading consumes: there is one read position for the whole system, so the
//!   first reader gets everything nobody read yet (the ring buffer since boot) and two
//!   readers share the lines between them. Its reads may block when another reader took
//!   what `poll()` announced (syslog-ng gives such a read 10 s, then an error), so it is read
//!   on a thread of its own: a blocked read never holds up other sources, and it is left
//!   behind (not waited for) when the source stops. Lines it read that were not made into
//!   messages yet when a reload stops the source go to the next graph's reader.
//! * Both are opened when the graph is acquired (an error stops the start, as in syslog-ng:
//!   "Error opening file for reading"), and the open descriptor passes from one graph to the
//!   next on reload (it is a [`Resources`] entry), so a reload neither loses nor repeats a
//!   record — syslog-ng reopens and seeks to the end, losing what came in between.
//! * `follow-freq()` other than 0 is refused for both (syslog-ng 3.38 then polls them like
//!   regular files and reads nothing, recorded for /dev/kmsg).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use super::line_source::{LineReader, Resume, StartCx, drain, pause, stopped};
use crate::actors::runtime::ack::Window;
use crate::actors::runtime::driver::Resources;
use crate::actors::runtime::error::RuntimeError;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::config::span::Span;
use crate::message::UnixTime;

/// After a read error or an end of input, the pause before reading again (no busy loop on a
/// device that keeps failing).
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// Which kernel log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KmsgDevice {
    /// `/dev/kmsg`: one record per read, from the end on.
    Dev,
    /// `/proc/kmsg`: newline-framed lines, consumed for the whole system.
    Proc,
}

impl KmsgDevice {
    /// The device `path` names for syslog-ng 3.38's file(): `/proc/kmsg` always, `/dev/kmsg`
    /// when it exists and is not a regular file.
    pub fn of(path: &str) -> Option<KmsgDevice> {
        match path {
            "/proc/kmsg" => Some(KmsgDevice::Proc),
            "/dev/kmsg" => match std::fs::metadata(path) {
                Ok(m) if !m.file_type().is_file() => Some(KmsgDevice::Dev),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A `file()` source on the kernel's log, ready to start.
#[derive(Debug, Clone)]
pub struct KmsgPlan {
    pub path: PathBuf,
    pub device: KmsgDevice,
    /// syslog-ng's persist name (not used for a position: only for the duplicate check and
    /// as the key of the descriptor in the graph's resources).
    pub persist_key: String,
    /// Bytes read at once: `log-msg-size()` (a longer /dev/kmsg record is a read error).
    pub buffer: usize,
    pub span: Span,
}

/// The open device, as the graph's resources hold it.
#[derive(Debug)]
struct KmsgFd(OwnedFd);

impl KmsgPlan {
    fn resource_key(&self) -> String {
        format!("kmsg:{}", self.persist_key)
    }

    fn open_error(&self, e: &std::io::Error) -> String {
        format!(
            "Error opening file for reading; filename='{}', error='{e}'",
            self.path.display()
        )
    }

    /// Takes the running graph's descriptor from `lent`, or opens the device (and seeks
    /// `/dev/kmsg` to its end), into `mine`.
    pub fn acquire(&self, lent: &mut Resources, mine: &mut Resources) -> Result<(), RuntimeError> {
        let key = self.resource_key();
        let fd = match lent.take::<KmsgFd>(&key) {
            Some(fd) => fd,
            None => KmsgFd(
                open(&self.path, self.device)
                    .map_err(|e| RuntimeError::Open(self.open_error(&e)))?,
            ),
        };
        mine.insert(key, fd);
        Ok(())
    }

    /// Reads until the graph stops: `resources` is (a duplicate of) the descriptor
    /// [`KmsgPlan::acquire`] opened, `resume` what the previous graph's /proc/kmsg reader
    /// left unparsed.
    pub async fn read(
        self,
        resources: Option<OwnedFd>,
        resume: Option<Resume>,
        lines: &mut LineReader,
        ingest: &Ingest,
        window: Arc<Window>,
        cx: StartCx,
    ) {
        let Some(fd) = resources else {
            tracing::error!(filename = %self.path.display(),
                "The kernel log was not opened at start, not reading it");
            return;
        };
        match self.device {
            KmsgDevice::Dev => self.read_dev(fd, lines, ingest, window, cx).await,
            KmsgDevice::Proc => self.read_proc(fd, resume, lines, ingest, window, cx).await,
        }
    }

    /// A duplicate of the descriptor in `resources` for a reader.
    pub fn descriptor(&self, resources: &Resources) -> Option<OwnedFd> {
        let fd = resources.get::<KmsgFd>(&self.resource_key())?;
        match fd.0.try_clone() {
            Ok(fd) => Some(fd),
            Err(e) => {
                tracing::error!(filename = %self.path.display(), error = %e,
                    "Error duplicating the kernel log's descriptor");
                None
            }
        }
    }

    async fn read_dev(
        self,
        fd: OwnedFd,
        lines: &LineReader,
        ingest: &Ingest,
        window: Arc<Window>,
        mut cx: StartCx,
    ) {
        // SAFETY: the OwnedFd is a valid open descriptor, owned by the AsyncFd for all its
        // life and never swapped.
        let registered = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) };
        let fd = match registered {
            Ok(fd) => fd,
            Err(e) => {
                tracing::error!(filename = %self.path.display(), error = %e,
                    "Unable to determine how to monitor this file");
                return;
            }
        };
        let stop = &mut cx.stop;
        let mut buf = vec![0u8; self.buffer.max(1)];
        let mut batch = Batcher::default();
        // Failed reads in a row: the first is answered at once (an overwritten ring buffer
        // should lose no more than it did), the next ones after a pause.
        let mut failures = 0u32;
        loop {
            let mut guard = tokio::select! {
                g = fd.readable() => match g {
                    Ok(g) => g,
                    Err(e) => {
                        tracing::error!(filename = %self.path.display(), error = %e,
                            "Error polling the kernel log");
                        return;
                    }
                },
                _ = stopped(stop) => return,
            };
            let mut credits = window.try_acquire();
            if credits == 0 {
                tokio::select! {
                    c = window.acquire() => credits = c,
                    _ = stopped(stop) => return,
                }
            }
            ingest.begin_with_bookmark(&mut batch, &window, credits, None);
            let now = UnixTime::now(&ingest.parse.local_time_zone);
            let mut used = 0;
            let mut failed = false;
            while used < credits {
                match guard.try_io(|fd| read(fd.get_ref().as_raw_fd(), &mut buf)) {
                    Ok(Ok(0)) => {
                        tracing::debug!(filename = %self.path.display(), "EOF occurred while reading");
                        failed = true;
                        break;
                    }
                    Ok(Ok(n)) => {
                        lines.parse_record(ingest, &mut batch, &buf[..n], now);
                        used += 1;
                        failures = 0;
                    }
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Ok(Err(e)) => {
                        self.read_error(fd.get_ref(), &e);
                        failed = true;
                        break;
                    }
                    // Read everything there was: readiness is cleared.
                    Err(_would_block) => break,
                }
            }
            ingest.flush(&mut batch);
            window.put_back(credits - used);
            if failed {
                failures += 1;
                if failures > 1 && !pause(ERROR_PAUSE, stop).await {
                    return;
                }
            }
        }
    }

    /// syslog-ng's reaction to a failed read of /dev/kmsg: the error, then the reopen, which
    /// seeks to the end (what was in the ring buffer is skipped).
    fn read_error(&self, fd: &OwnedFd, e: &std::io::Error) {
        tracing::error!(fd = fd.as_raw_fd(), error = %e, "I/O error occurred while reading");
        tracing::info!(filename = %self.path.display(),
            "Error while following source file, reopening in the hope it would work");
        if let Err(e) = seek_end(fd) {
            tracing::error!(error = %e, "Error seeking /dev/kmsg to the end");
        }
    }

    async fn read_proc(
        self,
        fd: OwnedFd,
        resume: Option<Resume>,
        lines: &mut LineReader,
        ingest: &Ingest,
        window: Arc<Window>,
        mut cx: StartCx,
    ) {
        let stop = &mut cx.stop;
        // One chunk in flight: while the window is empty, the thread waits to hand over the
        // next one and stops reading.
        let (tx, mut rx) = mpsc::channel::<std::io::Result<Vec<u8>>>(1);
        let (wake, watch) = match stop_pipe() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "Error creating the kernel log reader's pipe");
                return;
            }
        };
        let size = self.buffer.max(1);
        let spawned = std::thread::Builder::new()
            .name("sluice-prockmsg".into())
            .spawn(move || proc_thread(fd, watch, size, tx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "Error starting the kernel log reader's thread");
            return;
        }
        let mut batch = Batcher::default();
        // What the previous graph's reader had read and not made into messages.
        if let Some(Resume::Proc { tail }) = resume {
            lines.spare().extend_from_slice(&tail);
        }
        let mut reading = drain(lines, ingest, &window, &mut batch, false, stop, None).await;
        while reading {
            let chunk = tokio::select! {
                c = rx.recv() => c,
                _ = stopped(stop) => break,
            };
            match chunk {
                Some(Ok(bytes)) => {
                    lines.spare().extend_from_slice(&bytes);
                    reading = drain(lines, ingest, &window, &mut batch, false, stop, None).await;
                }
                Some(Err(e)) => {
                    tracing::error!(filename = %self.path.display(), error = %e,
                        "I/O error occurred while reading");
                    reading = pause(ERROR_PAUSE, stop).await;
                }
                None => return,
            }
        }
        // Stopped: the thread ends once the write end is gone; the lines it read and nobody
        // parsed go to the next graph's reader (the kernel's position has moved past them).
        drop(wake);
        let mut tail = lines.pending().to_vec();
        while let Ok(Ok(bytes)) = rx.try_recv() {
            tail.extend_from_slice(&bytes);
        }
        if !tail.is_empty() {
            cx.handover.put(&self.persist_key, Resume::Proc { tail });
        }
    }
}

/// Opens the device as syslog-ng does (read-only, non-blocking, not as a controlling
/// terminal); `/dev/kmsg` is then seeked to its end.
fn open(path: &Path, device: KmsgDevice) -> std::io::Result<OwnedFd> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let fd = OwnedFd::from(file);
    if device == KmsgDevice::Dev
        && let Err(e) = seek_end(&fd)
    {
        // syslog-ng logs it and reads on from where the device put it.
        tracing::error!(error = %e, "Error seeking /dev/kmsg to the end");
    }
    Ok(fd)
}

fn seek_end(fd: &OwnedFd) -> std::io::Result<()> {
    // SAFETY: lseek on a descriptor we own; no memory is involved.
    let rc = unsafe { libc::lseek(fd.as_raw_fd(), 0, libc::SEEK_END) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn read(fd: i32, buf: &mut [u8]) -> std::io::Result<usize> {
    // SAFETY: `buf` is valid for writes of its length for the duration of the call.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// A pipe whose write end, dropped, wakes the reader thread's `poll()`.
fn stop_pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills the two descriptors on success; we take ownership of both.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (r, w) = unsafe {
        use std::os::fd::FromRawFd;
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    Ok((w, r))
}

/// The /proc/kmsg thread: waits for lines (or the stop pipe), reads them and hands them to
/// the source's task, until the task is gone.
fn proc_thread(
    fd: OwnedFd,
    stop: OwnedFd,
    size: usize,
    tx: mpsc::Sender<std::io::Result<Vec<u8>>>,
) {
    let mut buf = vec![0u8; size];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            let _ = tx.blocking_send(Err(e));
            return;
        }
        if fds[1].revents != 0 {
            return;
        }
        if fds[0].revents == 0 {
            continue;
        }
        let chunk = match read(fd.as_raw_fd(), &mut buf) {
            Ok(0) => Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)),
            Ok(n) => Ok(buf[..n].to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if tx.blocking_send(chunk).is_err() {
            return;
        }
        if failed {
            // The task pauses before reading on; so does this thread.
            std::thread::sleep(ERROR_PAUSE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_devices_syslog_ng_reads_specially() {
        assert_eq!(KmsgDevice::of("/proc/kmsg"), Some(KmsgDevice::Proc));
        assert_eq!(KmsgDevice::of("/var/log/kmsg"), None);
        // /dev/kmsg only when it is a device (a missing one is followed as a file).
        let dev = std::fs::metadata("/dev/kmsg").is_ok_and(|m| !m.file_type().is_file());
        assert_eq!(KmsgDevice::of("/dev/kmsg").is_some(), dev);
    }

    fn plan(path: &str) -> KmsgPlan {
        KmsgPlan {
            path: PathBuf::from(path),
            device: KmsgDevice::Dev,
            persist_key: format!("affile_sd_curpos({path})"),
            buffer: 65536,
            span: Span::default(),
        }
    }

    /// A reload's new graph reads on with the running graph's descriptor (and so from where
    /// it was), not with a new one seeked to the end.
    #[test]
    fn the_running_graphs_descriptor_is_taken_over() {
        // Opening this path would fail: taking the lent descriptor must not open anything.
        let p = plan("/nonexistent/kmsg");
        let fd = OwnedFd::from(std::fs::File::open("/dev/null").expect("/dev/null"));
        let raw = fd.as_raw_fd();
        let mut lent = Resources::default();
        lent.insert(p.resource_key(), KmsgFd(fd));
        let mut mine = Resources::default();
        p.acquire(&mut lent, &mut mine).expect("taken over");
        assert!(lent.is_empty());
        let held = mine.get::<KmsgFd>(&p.resource_key()).expect("held");
        assert_eq!(held.0.as_raw_fd(), raw);
        assert!(p.descriptor(&mine).is_some(), "a reader gets a duplicate");
    }

    #[test]
    fn a_missing_device_is_an_open_error() {
        let mut mine = Resources::default();
        let e = plan("/nonexistent/kmsg")
            .acquire(&mut Resources::default(), &mut mine)
            .expect_err("no such device");
        assert!(
            e.to_string().contains("Error opening file for reading"),
            "{e}"
        );
        assert!(mine.is_empty());
    }
}
