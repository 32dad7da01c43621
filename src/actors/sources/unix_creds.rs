//! The sender's credentials on unix sockets (`so-passcred()`, the deprecated
//! `pass-unix-credentials()`): syslog-ng 3.38 sets `.unix.cmdline`, `.unix.exe`,
//! `.audit.auid`, `.audit.ses` (read from `/proc/PID/`) and `.unix.pid`, `.unix.uid`,
//! `.unix.gid` on every message; PID itself is not touched.
//!
//! On `unix-dgram()` every datagram carries its sender's credentials (`SCM_CREDENTIALS`,
//! received with `recvmsg`). On `unix-stream()` sluice reads the connecting process's
//! credentials once (`SO_PEERCRED`) and applies them to the whole connection, where syslog-ng
//! takes them from each read; they differ only when a process passes its connection on.

use std::os::fd::RawFd;

use super::stream::AuxValues;

/// A process's identity as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// What syslog-ng reads of `/proc/PID/` files: at most 4095 bytes.
const PROC_READ_MAX: usize = 4095;

/// The values syslog-ng adds for a sender, in its order.
pub fn aux_values(c: Credentials) -> AuxValues {
    let mut v: AuxValues = Vec::with_capacity(7);
    let dir = format!("/proc/{}", c.pid);
    if let Some(cmdline) = read_proc(&format!("{dir}/cmdline")) {
        // Every byte that is not printable ASCII (the NULs between arguments, newlines)
        // becomes a space.
        let text: Vec<u8> = cmdline
            .iter()
            .map(|&b| if (0x20..0x7f).contains(&b) { b } else { b' ' })
            .collect();
        if !text.is_empty() {
            v.push((".unix.cmdline", text));
        }
    }
    if let Ok(exe) = std::fs::read_link(format!("{dir}/exe")) {
        use std::os::unix::ffi::OsStrExt;
        let b = exe.as_os_str().as_bytes();
        if !b.is_empty() {
            v.push((".unix.exe", b[..b.len().min(PROC_READ_MAX)].to_vec()));
        }
    }
    for (name, file) in [(".audit.auid", "loginuid"), (".audit.ses", "sessionid")] {
        if let Some(mut t) = read_proc(&format!("{dir}/{file}")) {
            if t.last() == Some(&b'\n') {
                t.pop();
            }
            // "Not set" (-1 as unsigned) is left out.
            if !t.is_empty() && t != b"4294967295" {
                v.push((name, t));
            }
        }
    }
    v.push((".unix.pid", c.pid.to_string().into_bytes()));
    v.push((".unix.uid", c.uid.to_string().into_bytes()));
    v.push((".unix.gid", c.gid.to_string().into_bytes()));
    v
}

fn read_proc(path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut out = Vec::new();
    f.take(PROC_READ_MAX as u64).read_to_end(&mut out).ok()?;
    Some(out)
}

/// Asks the kernel to attach the sender's credentials to every datagram (`SO_PASSCRED`).
pub fn enable_passcred(fd: RawFd) -> std::io::Result<()> {
    super::unix_socket::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_PASSCRED, 1)
}

/// The credentials of the process at the other end of a unix stream (`SO_PEERCRED`).
pub fn peer_credentials(fd: RawFd) -> Option<Credentials> {
    // SAFETY: ucred is plain data; getsockopt fills at most `len` bytes of it.
    let mut uc: libc::ucred = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: a valid descriptor and a pointer to a ucred with its length.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut uc as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (rc == 0 && uc.pid > 0).then_some(Credentials {
        pid: uc.pid,
        uid: uc.uid,
        gid: uc.gid,
    })
}

/// Receives one datagram into `buf` with `recvmsg`, returning its length and, when the
/// kernel attached them, the sender's credentials. The length is capped at `buf.len()`
/// (the kernel drops the rest, which is how `log-msg-size()` truncates datagrams).
pub fn recv_with_credentials(
    fd: RawFd,
    buf: &mut [u8],
) -> std::io::Result<(usize, Option<Credentials>)> {
    // Room for one SCM_CREDENTIALS message, aligned for cmsghdr.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; every pointer set below is valid for the given length.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: `msg` describes valid buffers that outlive the call.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut creds = None;
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled, bounded by
    // msg_controllen; the data of an SCM_CREDENTIALS message is a ucred (read unaligned).
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_CREDENTIALS
            {
                let uc: libc::ucred = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                creds = Some(Credentials {
                    pid: uc.pid,
                    uid: uc.uid,
                    gid: uc.gid,
                });
                break;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, creds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn datagrams_carry_the_senders_credentials() {
        let (a, b) = std::os::unix::net::UnixDatagram::pair().expect("pair");
        enable_passcred(b.as_raw_fd()).expect("passcred");
        a.send(b"hello world").expect("send");
        let mut buf = [0u8; 5];
        let (n, c) = recv_with_credentials(b.as_raw_fd(), &mut buf).expect("recv");
        assert_eq!((n, &buf[..]), (5, &b"hello"[..]));
        let c = c.expect("credentials");
        assert_eq!(c.pid, std::process::id() as i32);
        // SAFETY: getuid has no preconditions.
        assert_eq!(c.uid, unsafe { libc::getuid() });
        let v = aux_values(c);
        let names: Vec<_> = v.iter().map(|(n, _)| *n).collect();
        assert!(
            names.starts_with(&[".unix.cmdline", ".unix.exe"]),
            "{names:?}"
        );
        assert!(names.ends_with(&[".unix.pid", ".unix.uid", ".unix.gid"]));
        let cmdline = &v[0].1;
        assert!(cmdline.iter().all(|b| (0x20..0x7f).contains(b)));
        let e = recv_with_credentials(b.as_raw_fd(), &mut buf).expect_err("empty");
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    }

    #[test]
    fn stream_peers_credentials() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().expect("pair");
        let c = peer_credentials(a.as_raw_fd()).expect("credentials");
        assert_eq!(c.pid, std::process::id() as i32);
    }
}
