//! The resolver with fake lookups that count their calls, on paused time: cache hits, expiry
//! of names and failures, the size bound, coalesced requests, the full queue, `dns-cache(no)`
//! and `persist-only` with a hosts file.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tokio::time::advance;

use super::resolver::{Ask, ResolveFn, Resolver};
use super::{DnsSettings, Limits};

const CACHED: Ask = Ask {
    cache: true,
    query: true,
};

fn ip(n: u8) -> IpAddr {
    IpAddr::from([192, 0, 2, n])
}

/// A fake resolver: names `192.0.2.N` `hN.example` (no name for N ≥ 200), counts calls per
/// address, and holds every lookup while its gate is closed.
#[derive(Default)]
struct Fake {
    calls: Mutex<HashMap<IpAddr, usize>>,
    started: AtomicUsize,
    closed: Mutex<bool>,
    opened: Condvar,
}

impl Fake {
    fn new() -> Arc<Fake> {
        Arc::new(Fake::default())
    }

    fn gated() -> Arc<Fake> {
        let f = Fake::new();
        *f.closed.lock().expect("gate") = true;
        f
    }

    fn open(&self) {
        *self.closed.lock().expect("gate") = false;
        self.opened.notify_all();
    }

    fn calls(&self, ip: IpAddr) -> usize {
        self.calls
            .lock()
            .expect("calls")
            .get(&ip)
            .copied()
            .unwrap_or(0)
    }

    fn resolve(self: &Arc<Fake>) -> ResolveFn {
        let f = self.clone();
        Arc::new(move |ip| {
            *f.calls.lock().expect("calls").entry(ip).or_default() += 1;
            f.started.fetch_add(1, Ordering::SeqCst);
            let mut closed = f.closed.lock().expect("gate");
            while *closed {
                closed = f.opened.wait(closed).expect("gate");
            }
            match ip {
                IpAddr::V4(v4) if v4.octets()[3] < 200 => {
                    Some(format!("h{}.example", v4.octets()[3]))
                }
                _ => None,
            }
        })
    }
}

fn settings(size: usize) -> DnsSettings {
    DnsSettings {
        limits: Limits {
            size,
            expire: Duration::from_secs(3600),
            expire_failed: Duration::from_secs(60),
        },
        hosts: None,
    }
}

async fn name(r: &Resolver, n: u8) -> Option<String> {
    r.lookup(ip(n), CACHED).await.map(|s| s.to_string())
}

#[tokio::test(start_paused = true)]
async fn names_are_cached_for_dns_cache_expire() {
    let f = Fake::new();
    let r = Resolver::new(f.resolve(), 2, 8, &settings(10));
    assert_eq!(name(&r, 1).await.as_deref(), Some("h1.example"));
    assert_eq!(name(&r, 1).await.as_deref(), Some("h1.example"));
    assert_eq!(f.calls(ip(1)), 1, "the second request is a hit");
    advance(Duration::from_secs(3600)).await;
    assert_eq!(name(&r, 1).await.as_deref(), Some("h1.example"));
    assert_eq!(
        f.calls(ip(1)),
        1,
        "still fresh at exactly dns-cache-expire()"
    );
    advance(Duration::from_secs(1)).await;
    assert_eq!(name(&r, 1).await.as_deref(), Some("h1.example"));
    assert_eq!(f.calls(ip(1)), 2, "expired: asked again");
}

#[tokio::test(start_paused = true)]
async fn failures_are_cached_for_dns_cache_expire_failed() {
    let f = Fake::new();
    let r = Resolver::new(f.resolve(), 2, 8, &settings(10));
    assert_eq!(name(&r, 201).await, None);
    advance(Duration::from_secs(60)).await;
    assert_eq!(name(&r, 201).await, None);
    assert_eq!(f.calls(ip(201)), 1);
    advance(Duration::from_secs(1)).await;
    assert_eq!(name(&r, 201).await, None);
    assert_eq!(f.calls(ip(201)), 2);
}

#[tokio::test(start_paused = true)]
async fn the_size_bound_evicts_the_oldest_answer() {
    let f = Fake::new();
    let r = Resolver::new(f.resolve(), 2, 8, &settings(2));
    for n in [1, 2, 3] {
        name(&r, n).await;
    }
    // 1 went when 3 came; 2 and 3 are hits.
    name(&r, 3).await;
    name(&r, 2).await;
    assert_eq!((f.calls(ip(2)), f.calls(ip(3))), (1, 1));
    name(&r, 1).await;
    assert_eq!(f.calls(ip(1)), 2);
    // A smaller size from a new configuration keeps only the newest (1).
    r.configure(&settings(1));
    name(&r, 1).await;
    name(&r, 3).await;
    assert_eq!((f.calls(ip(1)), f.calls(ip(3))), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_for_one_address_share_one_lookup() {
    let f = Fake::gated();
    let r = Arc::new(Resolver::new(f.resolve(), 2, 8, &settings(10)));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let r = r.clone();
        tasks.spawn(async move { name(&r, 7).await });
    }
    while r.waiting(ip(7)) < 20 {
        tokio::task::yield_now().await;
    }
    f.open();
    while let Some(answer) = tasks.join_next().await {
        assert_eq!(answer.ok().flatten().as_deref(), Some("h7.example"));
    }
    assert_eq!(f.calls(ip(7)), 1);
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_answers_at_once_without_a_name() {
    let f = Fake::gated();
    // One thread, one place in the queue.
    let r = Arc::new(Resolver::new(f.resolve(), 1, 1, &settings(10)));
    let first = tokio::spawn({
        let r = r.clone();
        async move { name(&r, 1).await }
    });
    // The thread holds 1 (so the queue is empty again)...
    while f.started.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    // ...2 takes the place in the queue...
    let second = tokio::spawn({
        let r = r.clone();
        async move { name(&r, 2).await }
    });
    while r.waiting(ip(2)) == 0 {
        tokio::task::yield_now().await;
    }
    // ...and 3 finds it full: no name, no lookup, nothing cached.
    assert_eq!(name(&r, 3).await, None);
    f.open();
    assert_eq!(first.await.ok().flatten().as_deref(), Some("h1.example"));
    assert_eq!(second.await.ok().flatten().as_deref(), Some("h2.example"));
    assert_eq!(f.calls(ip(3)), 0);
    assert_eq!(name(&r, 3).await.as_deref(), Some("h3.example"));
}

#[tokio::test(start_paused = true)]
async fn without_the_cache_every_request_asks() {
    let f = Fake::new();
    let r = Resolver::new(f.resolve(), 2, 8, &settings(10));
    let uncached = Ask {
        cache: false,
        query: true,
    };
    for _ in 0..3 {
        let n = r.lookup(ip(4), uncached).await;
        assert_eq!(n.as_deref(), Some("h4.example"));
    }
    assert_eq!(f.calls(ip(4)), 3);
    // Nor did they fill the cache.
    name(&r, 4).await;
    assert_eq!(f.calls(ip(4)), 4);
}

#[tokio::test(start_paused = true)]
async fn persist_only_takes_names_from_the_hosts_file_and_never_asks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hosts");
    std::fs::write(&path, "192.0.2.1 from.hosts\n").expect("hosts");
    let f = Fake::new();
    let s = DnsSettings {
        hosts: Some(path.clone()),
        ..settings(10)
    };
    let r = Resolver::new(f.resolve(), 2, 8, &s);
    let persist_only = Ask {
        cache: true,
        query: false,
    };
    let n = r.lookup(ip(1), persist_only).await;
    assert_eq!(n.as_deref(), Some("from.hosts"));
    assert_eq!(r.lookup(ip(2), persist_only).await, None);
    // The hosts file comes before DNS for use-dns(yes) too.
    assert_eq!(name(&r, 1).await.as_deref(), Some("from.hosts"));
    assert_eq!(f.calls(ip(1)) + f.calls(ip(2)), 0);
    // A changed file is read again (looked at once a second).
    std::fs::write(&path, "192.0.2.2 two.hosts\n").expect("hosts");
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(later))
        .expect("mtime");
    advance(Duration::from_secs(1)).await;
    let n = r.lookup(ip(2), persist_only).await;
    assert_eq!(n.as_deref(), Some("two.hosts"));
    assert_eq!(r.lookup(ip(1), persist_only).await, None);
    // Without the cache there is no hosts file either.
    let uncached = Ask {
        cache: false,
        query: false,
    };
    assert_eq!(r.lookup(ip(2), uncached).await, None);
}
