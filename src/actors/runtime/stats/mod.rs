//! syslog-ng's statistics, made from the components' [`Counters`]: the rows of
//! `syslog-ng-ctl stats` (`SourceName;SourceId;SourceInstance;State;Type;Number`), the names
//! `query` matches (`component.id.instance.type`), the legacy Prometheus form and the
//! `stats-freq()` log line (`format.rs`).
//!
//! Which rows exist follows syslog-ng 3.38 for the same configuration (recorded in
//! tests/golden/ctl): at every `stats-level()` a `source`/`destination` row per statement,
//! `center` received/queued, the `connections` of each stream listener, `src.internal`, and
//! a `dst.DRIVER` cluster for network and program destinations; from level 1 the `dst.file`
//! clusters and a `src.DRIVER` cluster for datagram, file and pipe sources. Rows syslog-ng
//! has and sluice does not fill yet are left out rather than faked (see the README).
//!
//! A row is computed when asked for; resetting one resets the counters it is computed from.

mod dynamic;
mod eps;
mod format;

pub use dynamic::{Tally, dynamic};
pub use eps::{Eps, UPDATE_EVERY as EPS_UPDATE_EVERY};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use format::{QueryKind, csv, log_line, prometheus, query};

use super::counters::{Counters, Peer};
use crate::actors::sources::internal::bus;
use crate::pipeline::FilterTally;

/// The stats rows a source driver adds beyond its statement's `source` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRows {
    /// None (Python sources, `stdin()`).
    None,
    /// A stream listener: `src.DRIVER;OBJECT;PERSIST-NAME` with its open `connections`.
    Listener,
    /// One cluster of the driver, `src.DRIVER;OBJECT#N;INSTANCE`, from `level` on: its
    /// `processed` and `stamp`, and for a `reader` (syslog-ng's LogReader: datagram, file,
    /// pipe sources) also the `eps_*` and `msg_size_*` of what it read.
    Driver {
        level: u32,
        instance: String,
        reader: bool,
    },
}

/// The `dst.DRIVER;OBJECT#N;INSTANCE` cluster of a destination driver, from `level` on:
/// `dropped`, `processed`, `queued`, `written`, and for a `writer` (syslog-ng's LogWriter,
/// not a threaded destination such as Python) the `msg_size_*`, `truncated_*` and `eps_*`
/// of what it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestRows {
    pub level: u32,
    pub instance: String,
    pub writer: bool,
    /// A `file()` with a templated name: one cluster per file written (instance: the
    /// file's name), each orphaned once the file is closed for being idle (`time-reap()`).
    pub per_file: bool,
}

/// A source driver as the stats see it.
#[derive(Debug, Clone)]
pub struct SourceEntry {
    pub object: String,
    pub driver_id: String,
    /// The driver's name as syslog-ng spells it in stats (`tcp`, `unix-stream`).
    pub driver: String,
    pub persist_name: String,
    pub rows: SourceRows,
    pub counters: Arc<Counters>,
}

/// A destination driver as the stats see it.
#[derive(Debug, Clone)]
pub struct DestEntry {
    pub object: String,
    pub driver_id: String,
    pub driver: String,
    pub rows: Option<DestRows>,
    pub counters: Arc<Counters>,
}

/// Whether a row's cluster is in use (`a`), was left by a reload (`o`, orphaned), or was
/// made on the fly (`d`, dynamic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    Active,
    Orphaned,
    Dynamic,
}

impl RowState {
    fn letter(self) -> char {
        match self {
            RowState::Active => 'a',
            RowState::Orphaned => 'o',
            RowState::Dynamic => 'd',
        }
    }
}

/// One counter of one cluster.
#[derive(Debug, Clone)]
pub struct Row {
    pub component: String,
    pub id: String,
    pub instance: String,
    pub state: RowState,
    pub kind: &'static str,
    pub value: u64,
    /// The counters (and their fields) the value comes from: what a reset sets to 0, and
    /// what an orphan's value is read from again.
    sources: Vec<(Arc<Counters>, &'static str)>,
    /// A row counted outside `Counters` (a filter's tally).
    tally: Option<Arc<AtomicU64>>,
}

/// The rate rows, in the order of `Eps::values`.
const EPS_KINDS: [&str; 3] = ["eps_last_1h", "eps_last_24h", "eps_since_start"];

impl Row {
    fn new(component: &str, id: &str, instance: &str, kind: &'static str, value: u64) -> Row {
        Row {
            component: component.to_string(),
            id: id.to_string(),
            instance: instance.to_string(),
            state: RowState::Active,
            kind,
            value,
            sources: Vec::new(),
            tally: None,
        }
    }

    /// A row read from `tally`.
    pub(super) fn tallied(
        component: &str,
        id: &str,
        kind: &'static str,
        tally: &Arc<AtomicU64>,
    ) -> Row {
        Row {
            tally: Some(tally.clone()),
            ..Row::new(component, id, "", kind, tally.load(Ordering::Relaxed))
        }
    }

    fn from(mut self, counters: &Arc<Counters>, fields: &[&'static str]) -> Row {
        for f in fields {
            self.sources.push((counters.clone(), f));
        }
        self
    }

    /// `component.id.instance.type`, empty parts left out: what `query` matches.
    pub fn query_name(&self) -> String {
        let mut name = self.component.clone();
        for part in [&self.id, &self.instance] {
            if !part.is_empty() {
                name.push('.');
                name.push_str(part);
            }
        }
        name.push('.');
        name.push_str(self.kind);
        name
    }

    /// The same cluster and counter (what an orphan is matched by).
    fn same_key(&self, other: &Row) -> bool {
        self.component == other.component
            && self.id == other.id
            && self.instance == other.instance
            && self.kind == other.kind
    }

    /// Sets the counters behind the row to 0 (gauges stay as they are).
    pub fn reset(&self) {
        for (c, field) in &self.sources {
            c.reset_one(field);
        }
        if let Some(t) = &self.tally {
            t.store(0, Ordering::Relaxed);
        }
    }

    /// The value read again from its counters (a row without counters keeps its value).
    fn refreshed(&self) -> Row {
        let mut r = self.clone();
        let first = self.sources.first().map(|(c, _)| c);
        if let Some(t) = &self.tally {
            r.value = t.load(Ordering::Relaxed);
        } else if let (Some(c), "msg_size_avg") = (first, self.kind) {
            r.value = c.msg_size_avg();
        } else if let (Some(c), Some(i)) = (first, EPS_KINDS.iter().position(|k| *k == self.kind)) {
            r.value = c.eps.values()[i];
        } else if !self.sources.is_empty() {
            r.value = self.sources.iter().map(|(c, f)| c.value_of(f)).sum();
        }
        r
    }

    /// The row of a cluster a reload removed: its counters are no longer written, but stay
    /// readable (and resettable) until the orphans are removed.
    fn orphaned(&self) -> Row {
        Row {
            state: RowState::Orphaned,
            ..self.clone()
        }
    }
}

/// The components of a graph, for stats.
#[derive(Debug, Clone, Default)]
pub struct StatsSources {
    pub sources: Vec<SourceEntry>,
    pub dests: Vec<DestEntry>,
    /// The named filters of the log paths (`filter;NAME` rows from level 1).
    pub filters: Vec<(String, Arc<FilterTally>)>,
    pub level: u32,
}

impl StatsSources {
    /// Forgets the per-file clusters of files no longer open (`--remove-orphans`).
    pub fn remove_orphaned_files(&self) {
        for d in &self.dests {
            d.counters.prune_closed_peers();
        }
    }

    /// Feeds the `eps_*` aggregators: readers' `processed`, writers' `written`.
    pub fn update_rates(&self) {
        for s in &self.sources {
            s.counters
                .eps
                .update_now(Counters::get(&s.counters.processed));
            for p in s.counters.peers() {
                let c = &p.counters;
                c.eps.update_now(Counters::get(&c.processed));
            }
        }
        for d in &self.dests {
            d.counters
                .eps
                .update_now(Counters::get(&d.counters.written));
            for p in d.counters.peers() {
                let c = &p.counters;
                c.eps.update_now(Counters::get(&c.written));
            }
        }
    }

    /// Every row, in a stable order (syslog-ng prints its hash table's order; sluice sorts).
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        let level = self.level;
        // The counters of one object's drivers, or (`None`) of every driver.
        let of = |obj: Option<&str>, entries: &[(&str, &Arc<Counters>)]| -> Vec<Arc<Counters>> {
            let drivers = entries.iter().filter(|(o, _)| obj.is_none_or(|x| x == *o));
            drivers.map(|(_, c)| Arc::clone(c)).collect()
        };
        let sources: Vec<_> = self
            .sources
            .iter()
            .map(|s| (s.object.as_str(), &s.counters))
            .collect();
        let dests: Vec<_> = self
            .dests
            .iter()
            .map(|d| (d.object.as_str(), &d.counters))
            .collect();
        for obj in unique(sources.iter().map(|(o, _)| *o)) {
            rows.push(processed_sum("source", obj, "", &of(Some(obj), &sources)));
        }
        for s in &self.sources {
            source_rows(s, level, &mut rows);
        }
        for obj in unique(dests.iter().map(|(o, _)| *o)) {
            rows.push(processed_sum(
                "destination",
                obj,
                "",
                &of(Some(obj), &dests),
            ));
        }
        for d in &self.dests {
            if let Some(r) = d.rows.as_ref().filter(|r| r.level <= level) {
                dest_rows(d, r, level, &mut rows);
            }
        }
        if level >= 1 {
            for (name, t) in &self.filters {
                rows.push(Row::tallied("filter", name, "matched", &t.matched));
                rows.push(Row::tallied("filter", name, "not_matched", &t.not_matched));
            }
        }
        if level >= 3 {
            // syslog-ng counts a tag each time it is set; the sources' own `.source.NAME`
            // tag is set on every message they read.
            for obj in unique(sources.iter().map(|(o, _)| *o)) {
                let tag = format!(".source.{obj}");
                rows.push(processed_sum("tag", &tag, "", &of(Some(obj), &sources)));
            }
        }
        dynamic().rows(level, &mut rows);
        rows.push(processed_sum("center", "", "received", &of(None, &sources)));
        rows.push(processed_sum("center", "", "queued", &of(None, &dests)));
        // Registered by the internal() driver in syslog-ng, so only with one.
        if self.sources.iter().any(|s| s.driver == "internal") {
            let (dropped, waiting) = (bus().dropped(), bus().queued() as u64);
            for (id, kind, v) in [
                ("internal_source", "dropped", dropped),
                ("internal_source", "queued", waiting),
                ("internal_queue_length", "processed", waiting),
            ] {
                rows.push(Row::new("global", id, "", kind, v));
            }
        }
        rows
    }
}

/// A `processed` row summing the `processed` of `counters`: a statement's drivers
/// (`source`, `destination`, its `.source.NAME` tag), or all of them (`center`).
fn processed_sum(component: &str, id: &str, instance: &str, counters: &[Arc<Counters>]) -> Row {
    let sum = counters.iter().map(|c| Counters::get(&c.processed)).sum();
    let mut row = Row::new(component, id, instance, "processed", sum);
    for c in counters {
        row = row.from(c, &["processed"]);
    }
    row
}

fn source_rows(s: &SourceEntry, level: u32, rows: &mut Vec<Row>) {
    let c = &s.counters;
    let component = format!("src.{}", s.driver);
    match &s.rows {
        SourceRows::None => {}
        SourceRows::Listener => {
            let (id, inst) = (s.object.as_str(), s.persist_name.as_str());
            // syslog-ng has `connections`; the other two are sluice's (its framing errors
            // and refusals are only logged).
            for (kind, field, counter) in [
                ("connections", "connections", &c.connections),
                ("rejected_connections", "rejected", &c.rejected),
                ("framing_errors", "framing_errors", &c.framing_errors),
            ] {
                let value = Counters::get(counter);
                rows.push(Row::new(&component, id, inst, kind, value).from(c, &[field]));
            }
            if level >= 1 {
                for p in c.peers() {
                    peer_rows(&component, &s.driver_id, &p, rows);
                }
            }
        }
        SourceRows::Driver {
            level: from,
            instance,
            reader,
        } if *from <= level => {
            let id = s.driver_id.as_str();
            rows.push(
                Row::new(
                    &component,
                    id,
                    instance,
                    "processed",
                    Counters::get(&c.processed),
                )
                .from(c, &["processed"]),
            );
            rows.push(
                Row::new(&component, id, instance, "stamp", Counters::get(&c.stamp))
                    .from(c, &["stamp"]),
            );
            if *reader {
                size_rows(&component, id, instance, c, rows);
                eps_rows(&component, id, instance, c, rows);
            }
        }
        SourceRows::Driver { .. } => {}
    }
}

fn dest_rows(d: &DestEntry, r: &DestRows, level: u32, rows: &mut Vec<Row>) {
    if r.per_file {
        for p in d.counters.peers() {
            let from = rows.len();
            let one = DestEntry {
                counters: p.counters.clone(),
                ..d.clone()
            };
            let file = DestRows {
                instance: p.instance.clone(),
                per_file: false,
                ..r.clone()
            };
            dest_rows(&one, &file, level, rows);
            if p.live.load(Ordering::Acquire) == 0 {
                for r in &mut rows[from..] {
                    r.state = RowState::Orphaned;
                }
            }
        }
        return;
    }
    let c = &d.counters;
    let component = format!("dst.{}", d.driver);
    let (id, instance) = (d.driver_id.as_str(), r.instance.as_str());
    let plain: [(&'static str, &std::sync::atomic::AtomicU64); 4] = [
        ("dropped", &c.dropped),
        ("processed", &c.processed),
        ("queued", &c.queued),
        ("written", &c.written),
    ];
    for (kind, field) in plain {
        rows.push(Row::new(&component, id, instance, kind, Counters::get(field)).from(c, &[kind]));
    }
    if level >= 1 {
        let bytes = Counters::get(&c.memory_usage);
        rows.push(
            Row::new(&component, id, instance, "memory_usage", bytes).from(c, &["memory_usage"]),
        );
    }
    if !r.writer {
        return;
    }
    for (kind, field) in [
        ("truncated_count", &c.truncated_count),
        ("truncated_bytes", &c.truncated_bytes),
    ] {
        rows.push(Row::new(&component, id, instance, kind, Counters::get(field)).from(c, &[kind]));
    }
    size_rows(&component, id, instance, c, rows);
    eps_rows(&component, id, instance, c, rows);
}

/// The cluster of one peer address of a listener (`src.tcp;s#0;tcp,10.0.0.1`): as in
/// syslog-ng 3.38, its `msg_size_*` rows are orphaned (`o`) while no connection from that
/// address is open.
fn peer_rows(component: &str, id: &str, p: &Peer, rows: &mut Vec<Row>) {
    let (c, inst) = (&p.counters, p.instance.as_str());
    let processed = Counters::get(&c.processed);
    rows.push(Row::new(component, id, inst, "processed", processed).from(c, &["processed"]));
    let stamp = Counters::get(&c.stamp);
    rows.push(Row::new(component, id, inst, "stamp", stamp).from(c, &["stamp"]));
    eps_rows(component, id, inst, c, rows);
    let from = rows.len();
    size_rows(component, id, inst, c, rows);
    if p.live.load(Ordering::Acquire) == 0 {
        for r in &mut rows[from..] {
            r.state = RowState::Orphaned;
        }
    }
}

/// `msg_size_avg` and `msg_size_max`.
fn size_rows(component: &str, id: &str, instance: &str, c: &Arc<Counters>, rows: &mut Vec<Row>) {
    rows.push(
        Row::new(component, id, instance, "msg_size_avg", c.msg_size_avg())
            .from(c, &["msg_count", "msg_bytes"]),
    );
    let max = Counters::get(&c.msg_size_max);
    rows.push(Row::new(component, id, instance, "msg_size_max", max).from(c, &["msg_size_max"]));
}

/// The three rates of a cluster (updated every minute, see `eps.rs`).
fn eps_rows(component: &str, id: &str, instance: &str, c: &Arc<Counters>, rows: &mut Vec<Row>) {
    let [hour, day, start] = c.eps.values();
    for (kind, v) in [
        ("eps_last_1h", hour),
        ("eps_last_24h", day),
        ("eps_since_start", start),
    ] {
        rows.push(Row::new(component, id, instance, kind, v).from(c, &["eps"]));
    }
}

/// Whether the counter name `text` matches the `query` pattern (GLib's pattern match, as
/// `match()`/`rewrite` globs use it).
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let chars = |s: &str| s.chars().collect::<Vec<_>>();
    crate::pipeline::matcher::glob_match_chars(&chars(pattern), &chars(text))
}

/// The distinct names, in first-seen order.
fn unique<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The rows of components a reload removed: kept as orphans (`o`) until
/// `syslog-ng-ctl stats --remove-orphans`, as syslog-ng keeps their clusters.
#[derive(Debug, Default)]
pub struct Orphans {
    rows: Vec<Row>,
}

impl Orphans {
    /// After a reload: the rows of `before` the new graph's `after` no longer has.
    pub fn left_by(&mut self, before: &[Row], after: &[Row]) {
        self.rows.retain(|o| !after.iter().any(|a| a.same_key(o)));
        for b in before {
            if !after.iter().any(|a| a.same_key(b)) && !self.rows.iter().any(|o| o.same_key(b)) {
                self.rows.push(b.orphaned());
            }
        }
    }

    /// Forgets them all.
    pub fn clear(&mut self) {
        self.rows.clear();
    }

    /// The running graph's rows followed by the orphans, sorted.
    pub fn with(&self, mut rows: Vec<Row>) -> Vec<Row> {
        rows.extend(self.rows.iter().map(Row::refreshed));
        rows.sort_by(|a, b| {
            (&a.component, &a.id, &a.instance, a.kind).cmp(&(
                &b.component,
                &b.id,
                &b.instance,
                b.kind,
            ))
        });
        rows
    }
}

#[cfg(test)]
mod tests;
