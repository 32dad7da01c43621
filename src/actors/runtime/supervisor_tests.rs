//! The supervisor and the graph with fake drivers: a source fed from the test, a sink that
//! records what it writes and can be "down". Configurations are real (planned from text, so
//! persist names and fingerprints are the real drivers'); their drivers are then swapped for
//! the fakes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr};
use tokio::sync::mpsc;

use super::component::{Pause, Report, Resume, State, StopComponent};
use super::driver::{
    DestStart, DestinationDriver, IngestOptions, Resources, SourceDriver, SourceStart,
};
use super::error::RuntimeError;
use super::ingest::{Batcher, Ingest};
use super::plan::{Plan, plan};
use super::queue::Entry;
use super::reload_plan::Fate;
use super::supervisor::{
    Components, ConfigSupervisor, Reload, ReloadError, Shutdown, Start, Stats,
};
use crate::actors::destinations::writer::{self, Renderer, SendError, Sink, WriterPlan};
use crate::actors::sources::common::{ReaderOptions, SourceOptions};
use crate::config::load::{LoadOptions, load_str};
use crate::message::UnixTime;

/// Lines the test sends into a [`FakeSource`], shared by every generation of it.
type Feed = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>>;

#[derive(Debug)]
struct FakeSource {
    name: String,
    feed: Feed,
    /// `acquire` fails (a port in use).
    fail: bool,
    source: SourceOptions,
    reader: ReaderOptions,
}

impl SourceDriver for FakeSource {
    fn persist_name(&self) -> String {
        format!("fake({})", self.name)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn ingest_options(&self) -> IngestOptions<'_> {
        IngestOptions {
            source: &self.source,
            reader: Some(&self.reader),
            set_flags: 0,
            clear_flags: 0,
        }
    }

    fn acquire(
        &self,
        object: &str,
        _: &mut Resources,
        _: &mut Resources,
    ) -> Result<(), RuntimeError> {
        if self.fail {
            return Err(RuntimeError::Bind {
                addr: "fake".into(),
                source_name: object.into(),
                error: std::io::Error::from(std::io::ErrorKind::AddrInUse),
            });
        }
        Ok(())
    }

    fn start(&self, ingest: Arc<Ingest>, cx: &mut SourceStart<'_>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        cx.done.push(rx);
        let (feed, mut stop) = (self.feed.clone(), cx.stop.clone());
        actix_rt::spawn(async move {
            let mut feed = feed.lock().await;
            let mut b = Batcher::default();
            let window = ingest.window(100);
            loop {
                // Credits first, as every reader: a paused source gets none.
                let credits = tokio::select! {
                    n = window.acquire() => n,
                    _ = stop.changed() => break,
                };
                let line = tokio::select! {
                    l = feed.recv() => l,
                    _ = stop.changed() => None,
                };
                let Some(line) = line else { break };
                ingest.begin(&mut b, Some(&window), credits);
                ingest.parse_into(&mut b, line.as_bytes(), None, UnixTime::default());
                ingest.flush(&mut b);
            }
            let _ = tx.send(());
        });
    }
}

/// What a [`FakeDest`] wrote, and whether it is down.
#[derive(Debug, Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
    down: AtomicBool,
    /// A send waits while this is set (a slow peer).
    hold: AtomicBool,
    /// Sends under way.
    sending: std::sync::atomic::AtomicUsize,
    /// The `time-reopen()` of every writer started on it, in order (tells writers apart).
    started: Mutex<Vec<Duration>>,
}

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[derive(Debug)]
struct FakeDest {
    persist: String,
    writer: WriterPlan,
    out: Arc<Recorder>,
}

impl DestinationDriver for FakeDest {
    fn persist_name(&self, _: &str) -> String {
        self.persist.clone()
    }

    fn stats_rows(&self) -> Option<crate::actors::runtime::stats::DestRows> {
        Some(crate::actors::runtime::stats::DestRows {
            level: 0,
            instance: "fake".into(),
            writer: true,
            per_file: false,
        })
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    fn start(&self, cx: DestStart<'_>) {
        if let Ok(mut s) = self.out.started.lock() {
            s.push(self.writer.time_reopen);
        }
        let sink = FakeSink(self.out.clone());
        writer::start(cx.arbiter, sink, cx.writer, cx.done);
    }
}

struct FakeSink(Arc<Recorder>);

impl Sink for FakeSink {
    fn describe(&self) -> String {
        "fake".into()
    }

    fn is_open(&self) -> bool {
        true
    }

    async fn send(&mut self, batch: &[Entry], _: &mut Renderer) -> Result<(), SendError> {
        self.0.sending.fetch_add(1, Ordering::AcqRel);
        while self.0.hold.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.0.sending.fetch_sub(1, Ordering::AcqRel);
        if self.0.down.load(Ordering::Acquire) {
            return Err(SendError::none(std::io::Error::other("down")));
        }
        let mut l = self
            .0
            .lines
            .lock()
            .map_err(|_| SendError::none(std::io::Error::other("lock")))?;
        for e in batch {
            let msg = e.msg.get("MESSAGE").unwrap_or_default();
            l.push(String::from_utf8_lossy(msg).into_owned());
        }
        Ok(())
    }

    async fn close(&mut self) {}
}

/// A configuration with one source `s` and the given destination objects (each `file()`
/// drivers, so persist names are `affile_dd_writers(PATH)`), all fed by `s`.
fn config(dests: &[(&str, &[&str])]) -> Plan {
    config_with(dests, "time-reopen(1)")
}

/// [`config`] with `options` on every file() (another option: another fingerprint).
fn config_with(dests: &[(&str, &[&str])], options: &str) -> Plan {
    let mut text = String::from("@version: 3.38\nsource s { network(port(1)); };\n");
    for (name, files) in dests {
        let drivers: String = files
            .iter()
            .map(|f| format!("file(\"/fake/{f}\" {options}); "))
            .collect();
        text.push_str(&format!("destination {name} {{ {drivers}}};\n"));
    }
    text.push_str("log { source(s); ");
    for (name, _) in dests {
        text.push_str(&format!("destination({name}); "));
    }
    text.push_str("};\n");
    let loaded = load_str("t.conf", &text, &LoadOptions::default()).expect("config");
    let model = crate::config::model::build(&loaded.ast).expect("model");
    plan(&model).expect("plan")
}

/// The test's fake world: one feed, a recorder per file name.
struct World {
    feed_tx: mpsc::UnboundedSender<String>,
    feed: Feed,
    outs: Mutex<std::collections::HashMap<String, Arc<Recorder>>>,
}

impl World {
    fn new() -> World {
        let (tx, rx) = mpsc::unbounded_channel();
        World {
            feed_tx: tx,
            feed: Arc::new(tokio::sync::Mutex::new(rx)),
            outs: Mutex::new(Default::default()),
        }
    }

    fn out(&self, file: &str) -> Arc<Recorder> {
        let mut m = self.outs.lock().expect("outs");
        m.entry(file.to_string()).or_default().clone()
    }

    /// `plan` with its drivers replaced by fakes (`fail`: the source's acquire fails).
    fn fake(&self, mut p: Plan, fail: bool) -> Plan {
        for s in &mut p.sources {
            s.driver = Box::new(FakeSource {
                name: s.object.clone(),
                feed: self.feed.clone(),
                fail,
                source: SourceOptions::default(),
                reader: ReaderOptions::default(),
            });
        }
        for d in &mut p.dests {
            let file = d
                .persist_name
                .trim_start_matches("affile_dd_writers(/fake/")
                .trim_end_matches(')')
                .to_string();
            d.driver = Arc::new(FakeDest {
                persist: d.persist_name.clone(),
                writer: d.driver.writer().clone(),
                out: self.out(&file),
            });
        }
        p
    }

    fn send(&self, line: &str) {
        let _ = self
            .feed_tx
            .send(format!("<13>Jan  1 00:00:00 h p: {line}"));
    }
}

/// Waits (bounded) until `f` holds.
async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn started(w: &World, p: Plan) -> Addr<ConfigSupervisor> {
    let sup = ConfigSupervisor::default().start();
    let r = sup
        .send(Start {
            plan: w.fake(p, false),
            persist: None,
        })
        .await;
    assert!(matches!(r, Ok(Ok(()))));
    sup
}

async fn reload(
    sup: &Addr<ConfigSupervisor>,
    p: Plan,
) -> Result<super::reload_plan::ReloadPlan, ReloadError> {
    sup.send(Reload {
        plan: p,
        persist: None,
        check_only: false,
    })
    .await
    .expect("supervisor answers")
}

/// Waits (bounded) until the source has received `n` messages.
async fn received(sup: &Addr<ConfigSupervisor>, n: u64) {
    for _ in 0..500 {
        let stats = sup.send(Stats).await.ok().flatten().unwrap_or_default();
        if stat(&stats, "source.s.processed") == Some(n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the source did not receive {n} messages");
}

/// The sum of the stats rows whose query name matches the glob `pattern`.
fn stat(rows: &[crate::actors::runtime::stats::Row], pattern: &str) -> Option<u64> {
    let matching: Vec<u64> = rows
        .iter()
        .filter(|r| crate::actors::runtime::stats::glob_matches(pattern, &r.query_name()))
        .map(|r| r.value)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

#[actix_rt::test]
async fn a_failed_build_leaves_the_running_graph_untouched() {
    let w = World::new();
    let sup = started(&w, config(&[("d", &["a"])])).await;
    w.send("one");
    until("one", || w.out("a").lines() == ["one"]).await;
    let bad = w.fake(config(&[("d", &["b"])]), true);
    let r = reload(&sup, bad).await;
    assert!(
        matches!(r, Err(ReloadError::Runtime(RuntimeError::Bind { .. }))),
        "{r:?}"
    );
    // The old graph still runs: a message goes through it, to the old destination.
    w.send("two");
    until("two", || w.out("a").lines() == ["one", "two"]).await;
    assert!(w.out("b").lines().is_empty());
}

#[actix_rt::test]
async fn components_are_matched_by_persist_name() {
    let w = World::new();
    let sup = started(&w, config(&[("d", &["a"]), ("e", &["e"])])).await;
    let next = w.fake(
        config(&[("d", &["b"]), ("e", &["e"]), ("n", &["n"])]),
        false,
    );
    let changes = reload(&sup, next).await.expect("reload");
    let fate = |id: &str| {
        changes
            .changes
            .iter()
            .find(|c| c.driver_id == id && c.kind == "destination")
            .map(|c| c.fate)
    };
    assert_eq!(fate("d#0"), Some(Fate::Replaced));
    assert_eq!(fate("e#0"), Some(Fate::Kept));
    assert_eq!(fate("n#0"), Some(Fate::Added));
    // The source's plan did not change: it goes on running (its routing swapped).
    assert_eq!(changes.count(Fate::Kept), 2, "e and the source: {changes}");
    assert_eq!(changes.count(Fate::HandedOver), 0, "{changes}");
    w.send("x");
    until("x everywhere", || {
        ["b", "e", "n"].iter().all(|f| w.out(f).lines() == ["x"])
    })
    .await;
    assert!(w.out("a").lines().is_empty());
    let gone = reload(&sup, w.fake(config(&[("e", &["e"])]), false))
        .await
        .expect("reload");
    assert_eq!(gone.count(Fate::Removed), 2, "{gone}");
    assert_eq!(gone.count(Fate::Kept), 2, "e and the source: {gone}");
}

#[actix_rt::test]
async fn a_moved_destination_keeps_its_own_queue() {
    let w = World::new();
    // a is down (its messages queue), b writes at once.
    w.out("a").down.store(true, Ordering::Release);
    let sup = started(&w, config(&[("d", &["a", "b"])])).await;
    for i in 0..5 {
        w.send(&format!("m{i}"));
    }
    received(&sup, 5).await;
    until("b wrote", || w.out("b").lines().len() == 5).await;
    // The drivers swap places (and the object is renamed) and their options change (so
    // their writers are replaced): by position, a's queue would go to b (which would write
    // m0..m4 twice) and a would lose them; by persist name each new writer takes its own.
    let next = w.fake(config_with(&[("z", &["b", "a"])], "time-reopen(2)"), false);
    let changes = reload(&sup, next).await.expect("reload");
    assert_eq!(changes.count(Fate::HandedOver), 2, "{changes}");
    assert_eq!(changes.count(Fate::Kept), 1, "the source: {changes}");
    w.send("m5");
    w.out("a").down.store(false, Ordering::Release);
    let want: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
    until("both delivered", || {
        w.out("a").lines() == want && w.out("b").lines() == want
    })
    .await;
    let stats = sup.send(Stats).await.ok().flatten().unwrap_or_default();
    assert_eq!(stat(&stats, "dst.*.z#0.*.queued"), Some(0), "{stats:?}");
}

#[actix_rt::test]
async fn an_unchanged_source_goes_on_running_with_the_new_routing() {
    let w = World::new();
    let sup = started(&w, config(&[("d", &["a"])])).await;
    w.send("one");
    until("one in a", || w.out("a").lines() == ["one"]).await;
    let before = sup.send(Components).await.expect("components");
    let changes = reload(&sup, w.fake(config(&[("d", &["b"])]), false))
        .await
        .expect("reload");
    let source = changes.changes.iter().find(|c| c.kind == "source");
    assert_eq!(source.map(|c| c.fate), Some(Fate::Kept), "{changes}");
    // The same component (its actor, its readers) now feeds the new destination.
    let after = sup.send(Components).await.expect("components");
    assert_eq!(before.first(), after.first());
    w.send("two");
    until("two in b", || w.out("b").lines() == ["two"]).await;
    assert_eq!(w.out("a").lines(), ["one"]);
}

#[actix_rt::test]
async fn counters_go_on_across_a_reload() {
    let w = World::new();
    let sup = started(&w, config(&[("d", &["a"])])).await;
    w.send("one");
    until("one", || w.out("a").lines().len() == 1).await;
    reload(&sup, w.fake(config(&[("d", &["a"])]), false))
        .await
        .expect("reload");
    w.send("two");
    until("two", || w.out("a").lines().len() == 2).await;
    let stats = sup.send(Stats).await.ok().flatten().unwrap_or_default();
    assert_eq!(stat(&stats, "source.s.processed"), Some(2), "{stats:?}");
    assert_eq!(stat(&stats, "dst.*.d#0.*.written"), Some(2), "{stats:?}");
}

#[actix_rt::test]
async fn a_stop_counts_exactly_what_was_not_delivered() {
    let w = World::new();
    w.out("a").down.store(true, Ordering::Release);
    let sup = started(&w, config(&[("d", &["a"])])).await;
    for i in 0..7 {
        w.send(&format!("m{i}"));
    }
    received(&sup, 7).await;
    let abort = Arc::new(tokio::sync::Notify::new());
    let stopping = sup.send(Shutdown {
        drain: Duration::from_secs(60),
        abort: abort.clone(),
    });
    // The destination is down: its writer gives up once the queue closes (or the second
    // signal ends the drain first — either way nothing was delivered, and it is counted).
    abort.notify_one();
    let report = stopping.await.expect("report");
    assert_eq!(report.undelivered, 7);
    assert!(w.out("a").lines().is_empty());
}

#[actix_rt::test]
async fn components_answer_report_pause_resume_and_stop_through_their_actors() {
    let w = World::new();
    let sup = started(&w, config(&[("d", &["a"])])).await;
    let comps = sup.send(Components).await.expect("components");
    assert_eq!(comps.len(), 2);
    let (source, dest) = (&comps[0], &comps[1]);
    let r = source.send(Report).await.expect("report");
    assert_eq!((r.driver_id.as_str(), r.state), ("s#0", State::Running));
    // A paused destination takes nothing from its queue; resumed, it writes it all.
    dest.send(Pause).await.expect("pause");
    w.send("q1");
    w.send("q2");
    received(&sup, 2).await;
    let r = dest.send(Report).await.expect("report");
    assert_eq!((r.state, r.queued), (State::Paused, Some((2, 0))), "{r}");
    dest.send(Resume).await.expect("resume");
    until("q1 q2", || w.out("a").lines() == ["q1", "q2"]).await;
    // A paused source takes no more credits: its reader finishes what it holds credits
    // for (p1), then waits, so p2 is not read until it is resumed.
    source.send(Pause).await.expect("pause");
    let r = source.send(Report).await.expect("report");
    assert_eq!(r.state, State::Paused);
    w.send("p1");
    until("p1", || w.out("a").lines().len() == 3).await;
    for _ in 0..500 {
        if source.send(Report).await.ok().and_then(|r| r.waiting) == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = source.send(Report).await.expect("report");
    assert_eq!((r.state, r.waiting), (State::Paused, Some(1)), "{r}");
    w.send("p2");
    // The reader is parked in its window: nothing can deliver p2 now.
    let r = source.send(Report).await.expect("report");
    assert_eq!(r.waiting, Some(1));
    assert_eq!(w.out("a").lines().len(), 3);
    source.send(Resume).await.expect("resume");
    until("p2", || w.out("a").lines().len() == 4).await;
    // A source stopped alone: the rest of the graph runs on.
    source.send(StopComponent).await.expect("stop");
    let r = source.send(Report).await.expect("report");
    assert_eq!(r.state, State::Stopped);
    let r = dest.send(Report).await.expect("report");
    assert_eq!(r.state, State::Running);
}

#[actix_rt::test]
async fn two_reloads_while_a_writer_is_stuck_start_one_writer_and_lose_nothing() {
    let w = World::new();
    let a = w.out("a");
    a.hold.store(true, Ordering::Release);
    let sup = started(&w, config_with(&[("d", &["a"])], "time-reopen(1)")).await;
    w.send("m0");
    until("a send under way", || {
        a.sending.load(Ordering::Acquire) == 1
    })
    .await;
    // Two reloads, each changing the driver's options, while its writer is stuck in a send.
    for opts in ["time-reopen(2)", "time-reopen(3)"] {
        let changes = reload(&sup, w.fake(config_with(&[("d", &["a"])], opts), false))
            .await
            .expect("reload");
        assert_eq!(changes.count(Fate::HandedOver), 1, "{changes}");
    }
    w.send("m1");
    w.send("m2");
    a.hold.store(false, Ordering::Release);
    until("all three once", || a.lines() == ["m0", "m1", "m2"]).await;
    w.send("m3");
    until("m3", || a.lines().len() == 4).await;
    assert_eq!(a.lines(), ["m0", "m1", "m2", "m3"]);
    // The first writer, then the last configuration's; the one in between never started.
    let started = a.started.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(started, [1, 3].map(Duration::from_secs));
}
