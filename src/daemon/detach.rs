//! Going to the background like syslog-ng without `-F`: the configuration has already been
//! checked in the foreground (so errors reach the terminal and the exit code), then the
//! process forks and the child starts a new session with its standard streams on /dev/null.
//! Must run before any thread is started.
//!
//! The parent does not exit at once: it waits for the child to say how the start went, over
//! a pipe ([`Startup`]), so that a start that fails after the fork (a port already in use, a
//! pid file that cannot be written) prints its reason on the terminal and exits non-zero, as
//! syslog-ng does (init scripts and `Type=forking` units see the failure).

use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};

/// The child's end of the start-up report (nothing to report in the foreground).
#[derive(Debug)]
pub struct Startup(Option<std::fs::File>);

impl Startup {
    /// In the foreground there is no parent waiting.
    pub fn foreground() -> Startup {
        Startup(None)
    }

    /// The daemon runs: the parent exits 0.
    pub fn ok(&mut self) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(b"\0");
        }
    }

    /// The start failed: the parent prints `reason` and exits `code` (not 0).
    pub fn fail(&mut self, reason: &str, code: i32) {
        if let Some(mut f) = self.0.take() {
            let code = u8::try_from(code).ok().filter(|c| *c != 0).unwrap_or(1);
            let _ = f.write_all(&[code]);
            let _ = f.write_all(reason.as_bytes());
        }
    }
}

/// Forks; returns in the child only. The parent waits for the child's [`Startup`] report and
/// exits with it (0, or the failure's code after printing the reason); a child that dies before reporting is a
/// failure too.
pub fn detach() -> io::Result<Startup> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: called while the process is single-threaded (before any runtime or interpreter
    // starts), so fork duplicates the only thread; the child only calls async-signal-safe
    // functions before returning to ordinary code.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => {
            drop(write_end);
            let code = wait_for_child(std::fs::File::from(read_end));
            // SAFETY: the parent exits without running destructors or atexit handlers that
            // belong to the child's future.
            unsafe { libc::_exit(code) }
        }
    }
    drop(read_end);
    // SAFETY: plain system calls on descriptors this process owns.
    unsafe {
        if libc::setsid() == -1 {
            return Err(io::Error::last_os_error());
        }
        let devnull = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if devnull >= 0 {
            libc::dup2(devnull, 0);
            libc::dup2(devnull, 1);
            libc::dup2(devnull, 2);
            if devnull > 2 {
                libc::close(devnull);
            }
        }
    }
    Ok(Startup(Some(std::fs::File::from(write_end))))
}

/// The parent's side: the exit code the child's report asks for.
fn wait_for_child(mut from_child: std::fs::File) -> i32 {
    let mut report = Vec::new();
    let _ = from_child.read_to_end(&mut report);
    match report.split_first() {
        Some((0, _)) => crate::cli::EXIT_OK,
        Some((code, reason)) => {
            eprintln!("{}", String::from_utf8_lossy(reason).trim_end());
            i32::from(*code)
        }
        None => {
            eprintln!("The daemon exited while starting up (see its log)");
            crate::cli::EXIT_RUNTIME_FAILURE
        }
    }
}
