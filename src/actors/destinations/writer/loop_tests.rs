//! The writer loop with fake sinks, on paused time: a sink's own timer (`deadline`/`tick`),
//! entries a sink keeps for later (`take_kept`), a stop while the sink is down, the
//! `time-reopen()` retry, `throttle()`, MARKs and the suppression timer. The clock moves only
//! when every task waits for a timer (then straight to the next one), so each event happens
//! at an exact time: the tests assert those times, and never sleep on the wall clock.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::*;
use crate::config::global_options::MarkMode;
use crate::message::{Builtin, LogMessage, UnixTime};
use crate::template::TemplateOptions as RenderOptions;

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

fn plan() -> WriterPlan {
    WriterPlan {
        render: RenderPlan::with_format(OutputFormat::File, RenderOptions::default()),
        batch_lines: 16,
        time_reopen: Duration::from_secs(60),
        fifo_size: 100,
        throttle: 0,
        suppress: None,
        mark: MarkPlan {
            mode: MarkMode::None,
            every: None,
        },
        ignore_errors: false,
        disk: None,
    }
}

fn cx(queue: &Arc<Queue>, plan: WriterPlan) -> WriterCx {
    WriterCx {
        plan,
        queue: queue.clone(),
        daemon: Arc::new(DaemonInfo::default()),
        local_host: LocalHost::new("host"),
        control: Default::default(),
    }
}

fn message(text: &str) -> Entry {
    let mut m = LogMessage::new(UnixTime::new(0, 0, 0));
    m.nv.set_builtin(Builtin::Message, text.as_bytes());
    test_entry(m)
}

fn entries(n: usize) -> Vec<Entry> {
    (0..n).map(|i| message(&format!("m{i}"))).collect()
}

/// What the sink saw, and when (from the test's start).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// A successful send: the MESSAGE of each entry.
    Sent(Duration, Vec<String>),
    Failed(Duration),
    Tick(Duration),
}

/// Reports every send and tick; keeps `keep` entries of each batch; fails the first `fail`
/// sends; ticks once at `at`.
struct FakeSink {
    t0: Instant,
    events: mpsc::UnboundedSender<Event>,
    at: Option<Instant>,
    keep: usize,
    kept: usize,
    fail: usize,
}

/// A sink and what it reports.
fn sink() -> (FakeSink, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let s = FakeSink {
        t0: Instant::now(),
        events: tx,
        at: None,
        keep: 0,
        kept: 0,
        fail: 0,
    };
    (s, rx)
}

impl FakeSink {
    fn report(&self, e: impl FnOnce(Duration) -> Event) {
        let _ = self.events.send(e(self.t0.elapsed()));
    }
}

impl Sink for FakeSink {
    fn describe(&self) -> String {
        "fake".into()
    }
    fn is_open(&self) -> bool {
        true
    }
    async fn send(&mut self, batch: &[Entry], _r: &mut Renderer) -> Result<(), SendError> {
        if self.fail > 0 {
            self.fail -= 1;
            self.report(Event::Failed);
            return Err(SendError::none(std::io::Error::other("down")));
        }
        self.kept = self.keep.min(batch.len());
        let texts = batch
            .iter()
            .map(|e| String::from_utf8_lossy(e.msg.message()).into_owned())
            .collect();
        self.report(|t| Event::Sent(t, texts));
        Ok(())
    }
    async fn close(&mut self) {}
    fn deadline(&self) -> Option<Instant> {
        self.at
    }
    async fn tick(&mut self, _r: &mut Renderer) {
        self.at = None;
        self.report(Event::Tick);
    }
    fn take_kept(&mut self) -> usize {
        std::mem::take(&mut self.kept)
    }
}

/// Every event reported, once the sender is gone (the loop ended).
async fn all(mut rx: mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = rx.recv().await {
        out.push(e);
    }
    out
}

fn sent(at: Duration, texts: &[&str]) -> Event {
    Event::Sent(at, texts.iter().map(|s| s.to_string()).collect())
}

#[tokio::test(start_paused = true)]
async fn a_sink_deadline_wakes_the_idle_loop() {
    let q = Queue::new("d", 100);
    let (mut s, mut rx) = sink();
    s.at = Some(Instant::now() + 30 * MS);
    let task = tokio::spawn(run(s, cx(&q, plan())));
    assert_eq!(rx.recv().await, Some(Event::Tick(30 * MS)));
    q.close();
    assert!(task.await.is_ok());
    assert_eq!(all(rx).await, vec![]);
}

#[tokio::test(start_paused = true)]
async fn kept_entries_are_not_counted_written() {
    let q = Queue::new("d", 100);
    let (mut s, rx) = sink();
    s.keep = 2;
    q.push_batch(&mut entries(5));
    q.close();
    run(s, cx(&q, plan())).await;
    assert_eq!(
        all(rx).await,
        vec![sent(Duration::ZERO, &["m0", "m1", "m2", "m3", "m4"])]
    );
    assert_eq!(Counters::get(&q.counters.written), 3);
}

#[tokio::test(start_paused = true)]
async fn a_stop_while_the_sink_is_down_leaves_the_entries_queued() {
    let q = Queue::new("d", 100);
    let (mut s, rx) = sink();
    s.fail = usize::MAX;
    q.push_batch(&mut entries(3));
    q.close();
    let started = Instant::now();
    run(s, cx(&q, plan())).await;
    // One try and no time-reopen() wait: the clock did not move at all.
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(all(rx).await, vec![Event::Failed(Duration::ZERO)]);
    assert_eq!(q.len(), 3);
    assert_eq!(Counters::get(&q.counters.written), 0);
}

#[tokio::test(start_paused = true)]
async fn a_failed_send_is_retried_after_time_reopen() {
    let q = Queue::new("d", 100);
    let (mut s, mut rx) = sink();
    s.fail = 1;
    q.push_batch(&mut entries(2));
    let task = tokio::spawn(run(s, cx(&q, plan())));
    assert_eq!(rx.recv().await, Some(Event::Failed(Duration::ZERO)));
    assert_eq!(rx.recv().await, Some(sent(60 * SEC, &["m0", "m1"])));
    q.close();
    assert!(task.await.is_ok());
    assert_eq!(Counters::get(&q.counters.written), 2);
}

#[tokio::test(start_paused = true)]
async fn throttle_writes_a_second_worth_then_one_per_interval() {
    let q = Queue::new("d", 100);
    let (s, rx) = sink();
    let mut p = plan();
    p.throttle = 10;
    q.push_batch(&mut entries(25));
    q.close();
    let started = Instant::now();
    run(s, cx(&q, p)).await;
    let events = all(rx).await;
    let first: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    let mut want = vec![Event::Sent(Duration::ZERO, first)];
    for k in 1..=15u32 {
        want.push(Event::Sent(100 * MS * k, vec![format!("m{}", 9 + k)]));
    }
    assert_eq!(events, want);
    assert_eq!(started.elapsed(), 1500 * MS);
}

#[tokio::test(start_paused = true)]
async fn periodical_marks_come_every_mark_freq() {
    let q = Queue::new("d", 100);
    let (s, mut rx) = sink();
    let mut p = plan();
    p.mark = MarkPlan {
        mode: MarkMode::Periodical,
        every: Some(10 * SEC),
    };
    let task = tokio::spawn(run(s, cx(&q, p)));
    assert_eq!(rx.recv().await, Some(sent(10 * SEC, &["-- MARK --"])));
    // A message in between does not move the periodical timer.
    tokio::time::advance(3 * SEC).await;
    q.push_batch(&mut entries(1));
    assert_eq!(rx.recv().await, Some(sent(13 * SEC, &["m0"])));
    assert_eq!(rx.recv().await, Some(sent(20 * SEC, &["-- MARK --"])));
    q.close();
    assert!(task.await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn dst_idle_marks_follow_mark_freq_of_silence() {
    let q = Queue::new("d", 100);
    let (s, mut rx) = sink();
    let mut p = plan();
    p.mark = MarkPlan {
        mode: MarkMode::DstIdle,
        every: Some(10 * SEC),
    };
    q.push_batch(&mut entries(1));
    let task = tokio::spawn(run(s, cx(&q, p)));
    assert_eq!(rx.recv().await, Some(sent(Duration::ZERO, &["m0"])));
    tokio::time::advance(4 * SEC).await;
    q.push_batch(&mut vec![message("m1")]);
    assert_eq!(rx.recv().await, Some(sent(4 * SEC, &["m1"])));
    // Ten seconds after the last write, and again ten after the MARK.
    assert_eq!(rx.recv().await, Some(sent(14 * SEC, &["-- MARK --"])));
    assert_eq!(rx.recv().await, Some(sent(24 * SEC, &["-- MARK --"])));
    q.close();
    assert!(task.await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn the_suppression_summary_comes_suppress_seconds_after_the_first_repetition() {
    let q = Queue::new("d", 100);
    let (s, mut rx) = sink();
    let mut p = plan();
    p.suppress = Some(5 * SEC);
    let task = tokio::spawn(run(s, cx(&q, p)));
    q.push_batch(&mut vec![message("same")]);
    assert_eq!(rx.recv().await, Some(sent(Duration::ZERO, &["same"])));
    tokio::time::advance(2 * SEC).await;
    q.push_batch(&mut vec![message("same"), message("same")]);
    assert_eq!(
        rx.recv().await,
        Some(sent(
            7 * SEC,
            &["Last message 'same' repeated 2 times, suppressed by syslog-ng on host"]
        ))
    );
    q.close();
    assert!(task.await.is_ok());
    assert_eq!(all(rx).await, vec![]);
    assert_eq!(Counters::get(&q.counters.suppressed), 2);
}
