//! Reverse DNS for the peers of network sources: a TCP connection asks once (its messages
//! share the answer), a UDP source once per sender and wake-up.
//!
//! syslog-ng resolves with `getnameinfo` on the thread that reads the message, behind a
//! per-thread cache. Here the readers are async tasks that must not block, so the process has
//! one cache (`dns-cache-size()`, `dns-cache-expire()`, `dns-cache-expire-failed()`,
//! `dns-cache-hosts()`: [`configure`]) and a fixed pool of [`THREADS`] resolver threads; see
//! [`resolver`] for how requests wait and what happens when the queue is full (the peer is
//! named by its address, as with `use-dns(no)`). `use-dns()` and `dns-cache()` of each
//! source decide whether it queries and whether it uses the cache, as in syslog-ng's
//! `resolve_sockaddr_to_hostname`: `use-dns(persist-only)` takes names from the cache (the
//! hosts file) but never queries; `dns-cache(no)` queries every time and caches nothing.

mod cache;
mod hosts;
mod resolver;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use cache::Limits;
use resolver::{Ask, Resolver};

use crate::config::global_options::GlobalOptions;
use crate::message::{ParseOptions, UseDns};

/// Resolver threads of the process. Two: a slow answer does not hold up every other lookup,
/// and that is all the parallelism a cache in front of them needs.
pub const THREADS: usize = 2;

/// Addresses that may wait for a resolver thread; beyond, a request gets no name at once.
/// With a healthy resolver (a lookup in milliseconds) a burst of this many new peers clears
/// at once; with one that times out (seconds per lookup) it bounds how long the last of them
/// waits: `QUEUE / THREADS` lookups.
pub const QUEUE: usize = 128;

/// The process-wide DNS settings: syslog-ng's global `dns-cache-*()` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsSettings {
    pub limits: Limits,
    /// `dns-cache-hosts()`: relative to the working directory, as in syslog-ng.
    pub hosts: Option<PathBuf>,
}

impl DnsSettings {
    pub fn from_globals(g: &GlobalOptions) -> DnsSettings {
        DnsSettings {
            limits: Limits {
                size: g.dns_cache_size.get() as usize,
                expire: Duration::from_secs(u64::from(g.dns_cache_expire.get())),
                expire_failed: Duration::from_secs(u64::from(g.dns_cache_expire_failed.get())),
            },
            hosts: g.dns_cache_hosts.as_ref().map(PathBuf::from),
        }
    }
}

fn resolver() -> &'static Resolver {
    static R: OnceLock<Resolver> = OnceLock::new();
    R.get_or_init(|| {
        Resolver::new(
            Arc::new(getnameinfo),
            THREADS,
            QUEUE,
            &DnsSettings::default(),
        )
    })
}

/// Applies a configuration's settings; call it when a configuration starts. Cached answers
/// stay (syslog-ng keeps its cache over a reload), a smaller size drops the oldest, another
/// hosts file is read at the next lookup. Calling it again with the same settings changes
/// nothing.
pub fn configure(settings: &DnsSettings) {
    resolver().configure(settings);
}

/// The peer's name, when `use-dns()` allows and the cache or a lookup has one. Never blocks
/// the caller's thread; waits for the resolver at most as long as the lookups queued before
/// it take.
pub async fn reverse_lookup(ip: IpAddr, opts: &ParseOptions) -> Option<Arc<str>> {
    let query = match opts.host.use_dns {
        UseDns::No => return None,
        UseDns::Yes => true,
        UseDns::PersistOnly => false,
    };
    let ask = Ask {
        cache: opts.host.dns_cache,
        query,
    };
    resolver().lookup(ip, ask).await
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
