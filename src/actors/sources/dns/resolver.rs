//! The cache and the resolver threads behind [`super::reverse_lookup`].
//!
//! A lookup the cache cannot answer is queued for a small fixed pool of threads (named
//! `sluice-dns`, started at the first lookup) that run the blocking resolver one address at
//! a time. While an address is being resolved, further requests for it wait for that answer
//! instead of queueing another lookup. The queue is bounded: when it is full, the request is
//! answered at once with no name — the peer is named by its address, as with `use-dns(no)`,
//! and nothing is cached, so a later connection asks again. So however many connections
//! arrive, the daemon has the same threads, and a resolver that hangs holds up at most the
//! connections waiting for the addresses in the queue.

use std::collections::HashMap;
use std::net::IpAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::DnsSettings;
use super::cache::{Answer, Cache};
use super::hosts::{self, HostsFile, Refresh};

/// The blocking reverse lookup the threads run: the name of an address, `None` when it has
/// none (or the resolver failed).
pub type ResolveFn = Arc<dyn Fn(IpAddr) -> Option<String> + Send + Sync>;

/// What a request may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// `dns-cache()`: answer from the cache (and the hosts file), and store the answer.
    pub cache: bool,
    /// Ask the resolver when the cache has no answer (no with `use-dns(persist-only)`).
    pub query: bool,
}

/// A lookup in progress.
struct Pending {
    waiters: Vec<oneshot::Sender<Answer>>,
    /// Whether any requester wants the answer cached.
    store: bool,
    /// When it was asked: the time the answer is stored with (its expiry counts from the
    /// question, not from whenever a slow resolver answered; the difference is the lookup's
    /// duration, and it keeps the clock off the resolver threads).
    asked: Instant,
}

struct State {
    cache: Cache,
    hosts: HostsFile,
    pending: HashMap<IpAddr, Pending>,
}

/// The cache, the lookups in progress and the resolver threads.
pub struct Resolver {
    state: Arc<Mutex<State>>,
    resolve: ResolveFn,
    threads: usize,
    queue: usize,
    /// Where lookups are queued for the threads; started at the first lookup, `None` when no
    /// thread could be started.
    jobs: OnceLock<Option<SyncSender<IpAddr>>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Resolver {
    /// `threads` resolver threads running `resolve`, at most `queue` addresses waiting for
    /// one (both at least 1).
    pub fn new(resolve: ResolveFn, threads: usize, queue: usize, s: &DnsSettings) -> Resolver {
        let mut hosts = HostsFile::default();
        hosts.set_path(s.hosts.clone());
        Resolver {
            state: Arc::new(Mutex::new(State {
                cache: Cache::new(s.limits),
                hosts,
                pending: HashMap::new(),
            })),
            resolve,
            threads: threads.max(1),
            queue: queue.max(1),
            jobs: OnceLock::new(),
        }
    }

    /// New settings: the cache keeps its entries (trimmed to a smaller size); another hosts
    /// file is read at the next lookup.
    pub fn configure(&self, s: &DnsSettings) {
        let mut st = lock(&self.state);
        st.cache.set_limits(s.limits);
        if st.hosts.set_path(s.hosts.clone()) {
            st.cache.set_hosts(HashMap::new());
        }
    }

    /// The name of `ip`: from the cache, or from the resolver threads. `None` when it has
    /// none, the request may not query, or the queue is full.
    pub async fn lookup(&self, ip: IpAddr, ask: Ask) -> Answer {
        let now = Instant::now();
        if ask.cache {
            self.refresh_hosts(now);
        }
        let rx = {
            let mut st = lock(&self.state);
            if ask.cache
                && let Some(answer) = st.cache.get(ip, now)
            {
                return answer;
            }
            if !ask.query {
                return None;
            }
            let (tx, rx) = oneshot::channel();
            if let Some(p) = st.pending.get_mut(&ip) {
                p.waiters.push(tx);
                p.store |= ask.cache;
            } else {
                // Queued under the lock: a thread cannot finish `ip` before it is pending.
                let jobs = self.jobs.get_or_init(|| self.start());
                match jobs.as_ref().map(|j| j.try_send(ip)) {
                    Some(Ok(())) => {}
                    Some(Err(TrySendError::Full(_))) => {
                        tracing::debug!(address = %ip,
                            "Reverse DNS queue full, using the address as the name");
                        return None;
                    }
                    Some(Err(TrySendError::Disconnected(_))) | None => return None,
                }
                st.pending.insert(
                    ip,
                    Pending {
                        waiters: vec![tx],
                        store: ask.cache,
                        asked: now,
                    },
                );
            }
            rx
        };
        // A thread always answers (see `work`); a lost sender only means no name.
        rx.await.unwrap_or(None)
    }

    /// Looks at the hosts file when it is due; the file is read without holding the lock.
    fn refresh_hosts(&self, now: Instant) {
        let Some((path, known)) = lock(&self.state).hosts.due(now) else {
            return;
        };
        let (mtime, refresh, error) = hosts::look(path.as_deref(), known);
        if let Some(e) = error {
            tracing::error!(filename = %e.path.display(), error = %e.source,
                "Error loading dns cache hosts file");
        }
        let mut st = lock(&self.state);
        if st.hosts.read(path.as_deref(), mtime)
            && let Refresh::Replace(names) = refresh
        {
            st.cache.set_hosts(names);
        }
    }

    /// Starts the threads; the queue's sender, unless none could start.
    fn start(&self) -> Option<SyncSender<IpAddr>> {
        let (tx, rx) = sync_channel::<IpAddr>(self.queue);
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for _ in 0..self.threads {
            let (rx, state, resolve) = (rx.clone(), self.state.clone(), self.resolve.clone());
            match std::thread::Builder::new()
                .name("sluice-dns".into())
                .spawn(move || work(&rx, &state, &resolve))
            {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "Error starting a reverse DNS thread"),
            }
        }
        (started > 0).then_some(tx)
    }

    /// How many requests wait for the lookup of `ip` (tests).
    #[cfg(test)]
    pub fn waiting(&self, ip: IpAddr) -> usize {
        lock(&self.state)
            .pending
            .get(&ip)
            .map_or(0, |p| p.waiters.len())
    }
}

/// A resolver thread: takes the next address, resolves it, answers whoever waits.
fn work(rx: &Mutex<Receiver<IpAddr>>, state: &Mutex<State>, resolve: &ResolveFn) {
    loop {
        let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(ip) = next else { return };
        // A resolver that panics must still answer, or the address would stay pending and
        // its requests wait forever.
        let answer: Answer = catch_unwind(AssertUnwindSafe(|| resolve(ip)))
            .ok()
            .flatten()
            .map(Arc::from);
        let mut st = lock(state);
        let Some(p) = st.pending.remove(&ip) else {
            continue;
        };
        if p.store {
            st.cache.insert(ip, answer.clone(), p.asked);
        }
        drop(st);
        for w in p.waiters {
            // A requester that went away (its connection closed) does not mind.
            let _ = w.send(answer.clone());
        }
    }
}
