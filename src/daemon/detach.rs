//! Going to the background like syslog-ng without `-F`: the configuration has already been
//! checked in the foreground (so errors reach the terminal and the exit code), then the
//! process forks, the parent exits 0 and the child starts a new session with its standard
//! streams on /dev/null. Must run before any thread is started.

use std::io;

/// Forks; returns in the child only.
pub fn detach() -> io::Result<()> {
    // SAFETY: called while the process is single-threaded (before any runtime or interpreter
    // starts), so fork duplicates the only thread; the child only calls async-signal-safe
    // functions before returning to ordinary code.
    unsafe {
        match libc::fork() {
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            _ => libc::_exit(0),
        }
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
    Ok(())
}
