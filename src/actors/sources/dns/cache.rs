//! The answers of past reverse lookups, bounded and expiring as syslog-ng's `dnscache.c`:
//! at most `dns-cache-size()` entries, a name kept `dns-cache-expire()` seconds and a failure
//! `dns-cache-expire-failed()` seconds; when full, the entry stored first goes. Names from the
//! `dns-cache-hosts()` file are kept apart: they never expire and do not count against the
//! size (syslog-ng's "persistent" entries).
//!
//! One difference, on purpose: syslog-ng 3.38 adds new entries at the head of its list and
//! evicts the head, so a full cache drops the entry it just stored and keeps the first
//! `dns-cache-size()` addresses forever; here the oldest entry goes, as its comment ("remove
//! oldest element") and the releases before the list rewrite do.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// The answer of one lookup: the peer's name, or `None` when the lookup failed (the peer is
/// then named by its address).
pub type Answer = Option<Arc<str>>;

/// The limits of the cache (the global `dns-cache-*()` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most entries kept (names from the hosts file not counted); at least 1.
    pub size: usize,
    /// How long a name is used.
    pub expire: Duration,
    /// How long a failure is remembered.
    pub expire_failed: Duration,
}

impl Default for Limits {
    /// syslog-ng 3.38's defaults.
    fn default() -> Limits {
        Limits {
            size: 1007,
            expire: Duration::from_secs(3600),
            expire_failed: Duration::from_secs(60),
        }
    }
}

struct Entry {
    answer: Answer,
    stored: Instant,
    /// Position in [`Cache::order`].
    seq: u64,
}

/// Reverse-DNS answers by address.
pub struct Cache {
    limits: Limits,
    entries: HashMap<IpAddr, Entry>,
    /// Addresses in the order they were stored, oldest first: who goes when full.
    order: BTreeMap<u64, IpAddr>,
    next_seq: u64,
    /// Names from the `dns-cache-hosts()` file.
    hosts: HashMap<IpAddr, Arc<str>>,
}

impl Cache {
    pub fn new(limits: Limits) -> Cache {
        Cache {
            limits,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            hosts: HashMap::new(),
        }
    }

    /// New limits (a configuration started): entries are kept, as syslog-ng keeps its cache
    /// over a reload; a smaller size drops the oldest ones.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.trim();
    }

    /// The cached answer for `ip` at `now`, if there is a fresh one. An entry is fresh while
    /// its age is at most its expiry time.
    pub fn get(&self, ip: IpAddr, now: Instant) -> Option<Answer> {
        if let Some(name) = self.hosts.get(&ip) {
            return Some(Some(name.clone()));
        }
        let e = self.entries.get(&ip)?;
        let ttl = if e.answer.is_some() {
            self.limits.expire
        } else {
            self.limits.expire_failed
        };
        (now.saturating_duration_since(e.stored) <= ttl).then(|| e.answer.clone())
    }

    /// Stores the answer of a lookup asked at `stored`, replacing what `ip` had.
    pub fn insert(&mut self, ip: IpAddr, answer: Answer, stored: Instant) {
        if let Some(old) = self.entries.remove(&ip) {
            self.order.remove(&old.seq);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, ip);
        self.entries.insert(
            ip,
            Entry {
                answer,
                stored,
                seq,
            },
        );
        self.trim();
    }

    /// Replaces the names from the hosts file.
    pub fn set_hosts(&mut self, hosts: HashMap<IpAddr, Arc<str>>) {
        self.hosts = hosts;
    }

    /// Entries stored by lookups (not the hosts file's).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    fn trim(&mut self) {
        while self.entries.len() > self.limits.size.max(1) {
            let Some((_, ip)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    fn name(s: &str) -> Answer {
        Some(Arc::from(s))
    }

    #[test]
    fn answers_expire_after_their_own_time() {
        let t0 = Instant::now();
        let mut c = Cache::new(Limits {
            size: 10,
            expire: Duration::from_secs(100),
            expire_failed: Duration::from_secs(10),
        });
        c.insert(ip(1), name("one"), t0);
        c.insert(ip(2), None, t0);
        assert_eq!(c.get(ip(1), t0), Some(name("one")));
        assert_eq!(c.get(ip(2), t0), Some(None), "a failure is an answer too");
        assert_eq!(c.get(ip(3), t0), None);
        let s = Duration::from_secs(1);
        assert_eq!(c.get(ip(2), t0 + s * 10), Some(None));
        assert_eq!(c.get(ip(2), t0 + s * 11), None);
        assert_eq!(c.get(ip(1), t0 + s * 100), Some(name("one")));
        assert_eq!(c.get(ip(1), t0 + s * 101), None);
        // A new answer replaces the old one and starts its time again.
        c.insert(ip(1), name("uno"), t0 + s * 101);
        assert_eq!(c.get(ip(1), t0 + s * 150), Some(name("uno")));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn a_full_cache_drops_the_oldest_entry() {
        let t0 = Instant::now();
        let mut c = Cache::new(Limits {
            size: 2,
            ..Limits::default()
        });
        c.insert(ip(1), name("one"), t0);
        c.insert(ip(2), name("two"), t0);
        // Storing 1 again makes it the newest: 2 is now the oldest.
        c.insert(ip(1), name("one"), t0);
        c.insert(ip(3), name("three"), t0);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(ip(2), t0), None);
        assert_eq!(c.get(ip(1), t0), Some(name("one")));
        assert_eq!(c.get(ip(3), t0), Some(name("three")));
        c.set_limits(Limits {
            size: 1,
            ..Limits::default()
        });
        assert_eq!((c.len(), c.get(ip(1), t0)), (1, None));
    }

    #[test]
    fn hosts_names_come_first_never_expire_and_are_not_counted() {
        let t0 = Instant::now();
        let mut c = Cache::new(Limits {
            size: 1,
            expire: Duration::from_secs(1),
            expire_failed: Duration::from_secs(1),
        });
        c.set_hosts(HashMap::from([(ip(1), Arc::from("from.hosts"))]));
        c.insert(ip(1), name("from.dns"), t0);
        c.insert(ip(2), name("two"), t0);
        let later = t0 + Duration::from_secs(86400);
        assert_eq!(c.get(ip(1), later), Some(name("from.hosts")));
        assert_eq!(c.get(ip(2), t0), Some(name("two")));
        c.set_hosts(HashMap::new());
        assert_eq!(c.get(ip(1), later), None);
    }
}
