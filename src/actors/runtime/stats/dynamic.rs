//! The rows syslog-ng makes on the fly from what messages carry: from `stats-level(2)`
//! `src.host;;HOST` (dynamic, `d`), from level 3 also per source driver
//! (`src.host;s#0;HOST`), `src.sender` (the sender's name, `HOST_FROM`), `src.program`, and
//! the fixed `src.facility;;N` / `src.severity;;N` rows. One registry for the process, as
//! syslog-ng's: the clusters outlive reloads. `stats-max-dynamics()` bounds how many
//! dynamic clusters are made; messages of names beyond it are not counted per name.
//!
//! A reader counts into a [`Tally`] per batch and hands it over once, so the registry's
//! lock is taken once per batch, not per message.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The kinds of dynamic clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DynKind {
    Host,
    Sender,
    Program,
}

impl DynKind {
    fn component(self) -> &'static str {
        match self {
            DynKind::Host => "src.host",
            DynKind::Sender => "src.sender",
            DynKind::Program => "src.program",
        }
    }
}

/// One dynamic cluster's counters.
#[derive(Debug, Default)]
pub struct DynCounter {
    /// Shared with the rows, so that `query --reset` reaches it.
    pub processed: Arc<AtomicU64>,
    pub stamp: AtomicU64,
}

/// (kind, source driver id or "", name).
type Key = (DynKind, Arc<str>, Vec<u8>);

#[derive(Debug)]
pub struct Dynamic {
    clusters: Mutex<HashMap<Key, Arc<DynCounter>>>,
    /// Facilities 0–23, then "other".
    facility: [AtomicU64; 25],
    severity: [AtomicU64; 8],
}

/// The process-wide registry.
pub fn dynamic() -> &'static Dynamic {
    static D: OnceLock<Dynamic> = OnceLock::new();
    D.get_or_init(|| Dynamic {
        clusters: Mutex::new(HashMap::new()),
        facility: std::array::from_fn(|_| AtomicU64::new(0)),
        severity: std::array::from_fn(|_| AtomicU64::new(0)),
    })
}

/// What one batch of a source driver counts.
#[derive(Debug, Default)]
pub struct Tally {
    names: Vec<(DynKind, Vec<u8>, u64)>,
    facility: [u64; 25],
    severity: [u64; 8],
}

impl Tally {
    /// Counts one message's host, sender, program and priority (what `level` asks for).
    pub fn count(&mut self, level: u32, host: &[u8], sender: &[u8], program: &[u8], pri: u16) {
        self.name(DynKind::Host, host);
        if level >= 3 {
            self.name(DynKind::Sender, sender);
            self.name(DynKind::Program, program);
            let facility = usize::from(pri >> 3).min(24);
            self.facility[facility] += 1;
            self.severity[usize::from(pri & 7)] += 1;
        }
    }

    fn name(&mut self, kind: DynKind, name: &[u8]) {
        match self
            .names
            .iter_mut()
            .find(|(k, n, _)| *k == kind && n == name)
        {
            Some((_, _, c)) => *c += 1,
            None => self.names.push((kind, name.to_vec(), 1)),
        }
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl Dynamic {
    /// Adds a batch's tally of source driver `driver_id` (level 3 also counts per driver).
    pub fn add(&self, tally: &mut Tally, level: u32, driver_id: &Arc<str>, max: Option<u32>) {
        if tally.is_empty() {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let none: Arc<str> = Arc::from("");
        {
            let mut clusters = self.clusters.lock().unwrap_or_else(|p| p.into_inner());
            for (kind, name, n) in tally.names.drain(..) {
                // Program rows are global only; host and sender also per driver at level 3.
                let per_driver = level >= 3 && kind != DynKind::Program;
                let ids = [Some(none.clone()), per_driver.then(|| driver_id.clone())];
                for id in ids.into_iter().flatten() {
                    let key = (kind, id, name.clone());
                    let c = match clusters.get(&key) {
                        Some(c) => c.clone(),
                        None if max.is_some_and(|m| clusters.len() >= m as usize) => continue,
                        None => clusters.entry(key).or_default().clone(),
                    };
                    c.processed.fetch_add(n, Ordering::Relaxed);
                    c.stamp.store(now, Ordering::Relaxed);
                }
            }
        }
        for (i, n) in tally.facility.iter_mut().enumerate() {
            if *n > 0 {
                self.facility[i].fetch_add(std::mem::take(n), Ordering::Relaxed);
            }
        }
        for (i, n) in tally.severity.iter_mut().enumerate() {
            if *n > 0 {
                self.severity[i].fetch_add(std::mem::take(n), Ordering::Relaxed);
            }
        }
    }

    /// The rows for `level`: dynamic clusters (`d`), and from level 3 the facility and
    /// severity rows.
    pub(super) fn rows(&self, level: u32, rows: &mut Vec<super::Row>) {
        if level < 2 {
            return;
        }
        let clusters = self.clusters.lock().unwrap_or_else(|p| p.into_inner());
        for ((kind, id, name), c) in clusters.iter() {
            if level < 3 && (*kind != DynKind::Host || !id.is_empty()) {
                continue;
            }
            let name = String::from_utf8_lossy(name);
            let mut processed =
                super::Row::tallied(kind.component(), id, "processed", &c.processed);
            processed.instance = name.to_string();
            let stamp = c.stamp.load(Ordering::Relaxed);
            let stamp = super::Row::new(kind.component(), id, &name, "stamp", stamp);
            for mut r in [processed, stamp] {
                r.state = super::RowState::Dynamic;
                rows.push(r);
            }
        }
        if level < 3 {
            return;
        }
        for (i, c) in self.facility.iter().enumerate() {
            let name = if i == 24 {
                "other".to_string()
            } else {
                i.to_string()
            };
            rows.push(super::Row::new(
                "src.facility",
                "",
                &name,
                "processed",
                c.load(Ordering::Relaxed),
            ));
        }
        for (i, c) in self.severity.iter().enumerate() {
            rows.push(super::Row::new(
                "src.severity",
                "",
                &i.to_string(),
                "processed",
                c.load(Ordering::Relaxed),
            ));
        }
    }

    /// Forgets the dynamic clusters not counted into for `lifetime` seconds
    /// (`stats-lifetime()`).
    pub fn expire(&self, lifetime: u64) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut clusters = self.clusters.lock().unwrap_or_else(|p| p.into_inner());
        clusters.retain(|_, c| c.stamp.load(Ordering::Relaxed) + lifetime > now);
    }

    /// Sets every dynamic counter to 0 (`stats --reset`).
    pub fn reset(&self) {
        let clusters = self.clusters.lock().unwrap_or_else(|p| p.into_inner());
        for c in clusters.values() {
            c.processed.store(0, Ordering::Relaxed);
        }
        for c in self.facility.iter().chain(&self.severity) {
            c.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_two_counts_hosts_level_three_more() {
        let d = Dynamic {
            clusters: Mutex::new(HashMap::new()),
            facility: std::array::from_fn(|_| AtomicU64::new(0)),
            severity: std::array::from_fn(|_| AtomicU64::new(0)),
        };
        let id: Arc<str> = Arc::from("s#0");
        let mut t = Tally::default();
        t.count(3, b"h1", b"s1", b"p", 13);
        t.count(3, b"h1", b"s1", b"p", 13);
        t.count(3, b"h2", b"s1", b"q", 200 * 8 + 3);
        d.add(&mut t, 3, &id, None);
        let mut rows = Vec::new();
        d.rows(3, &mut rows);
        let find = |c: &str, i: &str, inst: &str| {
            rows.iter()
                .find(|r| {
                    r.component == c && r.id == i && r.instance == inst && r.kind == "processed"
                })
                .map(|r| r.value)
        };
        assert_eq!(find("src.host", "", "h1"), Some(2));
        assert_eq!(find("src.host", "s#0", "h1"), Some(2));
        assert_eq!(find("src.sender", "", "s1"), Some(3));
        assert_eq!(find("src.program", "", "q"), Some(1));
        assert_eq!(find("src.program", "s#0", "q"), None);
        assert_eq!(find("src.facility", "", "1"), Some(2));
        assert_eq!(find("src.facility", "", "other"), Some(1));
        assert_eq!(find("src.severity", "", "5"), Some(2));
        let mut rows = Vec::new();
        d.rows(2, &mut rows);
        assert!(
            rows.iter()
                .all(|r| r.component == "src.host" && r.id.is_empty())
        );
        assert!(
            rows.iter()
                .all(|r| r.state == crate::actors::runtime::stats::RowState::Dynamic)
        );
        // A bound on the clusters: names beyond it are not counted per name.
        let mut t = Tally::default();
        t.count(2, b"h9", b"", b"", 0);
        d.add(&mut t, 2, &id, Some(1));
        let mut rows = Vec::new();
        d.rows(2, &mut rows);
        assert!(!rows.iter().any(|r| r.instance == "h9"));
        // stats-lifetime(): what was counted just now stays; a stamp from long ago goes.
        d.expire(600);
        assert!(
            !d.clusters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
        );
        for c in d
            .clusters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            c.stamp.store(1, Ordering::Relaxed);
        }
        d.expire(600);
        assert!(
            d.clusters
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
        );
    }
}
