//! Reverse DNS for a connection's peer, done once per connection (the connection's messages
//! share the answer, which is what syslog-ng's DNS cache achieves per message).

use std::net::IpAddr;
use std::sync::Arc;

use crate::message::{ParseOptions, UseDns};

/// The peer's name, when `use-dns()` allows a query and one answers. Runs `getnameinfo` on
/// the blocking pool: it may take seconds and must not hold up a socket thread.
pub async fn reverse_lookup(ip: IpAddr, opts: &ParseOptions) -> Option<Arc<str>> {
    if opts.host.use_dns != UseDns::Yes {
        return None;
    }
    tokio::task::spawn_blocking(move || getnameinfo(ip))
        .await
        .ok()
        .flatten()
        .map(Arc::from)
}

fn getnameinfo(ip: IpAddr) -> Option<String> {
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: the sockaddr structs are fully initialised, the lengths passed match them, and
    // the host buffer is valid for its length (getnameinfo NUL-terminates on success).
    let rc = unsafe {
        match ip {
            IpAddr::V4(v4) => {
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_addr.s_addr = u32::from_ne_bytes(v4.octets());
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
            IpAddr::V6(v6) => {
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_addr.s6_addr = v6.octets();
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: getnameinfo succeeded, so `host` holds a NUL-terminated string.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}
