//! The writer loop with fake sinks: a sink's own timer (`deadline`/`tick`), entries a sink
//! keeps for later (`take_kept`), and a stop while the sink is down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::config::global_options::MarkMode;
use crate::message::{LogMessage, UnixTime};
use crate::template::TemplateOptions as RenderOptions;

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
    }
}

fn cx(queue: &Arc<Queue>) -> WriterCx {
    WriterCx {
        plan: plan(),
        queue: queue.clone(),
        daemon: Arc::new(DaemonInfo::default()),
        local_host: LocalHost::new("host"),
    }
}

fn entries(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|_| test_entry(LogMessage::new(UnixTime::new(0, 0, 0))))
        .collect()
}

#[derive(Default)]
struct Seen {
    sent: usize,
    ticks: usize,
}

/// Writes everything but keeps `keep` entries of each batch; ticks once at `at`.
struct FakeSink {
    seen: Arc<Mutex<Seen>>,
    at: Option<Instant>,
    keep: usize,
    kept: usize,
    fail: bool,
}

impl FakeSink {
    fn new(seen: &Arc<Mutex<Seen>>) -> FakeSink {
        FakeSink {
            seen: seen.clone(),
            at: None,
            keep: 0,
            kept: 0,
            fail: false,
        }
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
        if self.fail {
            return Err(SendError::none(std::io::Error::other("down")));
        }
        self.kept = self.keep.min(batch.len());
        if let Ok(mut s) = self.seen.lock() {
            s.sent += batch.len();
        }
        Ok(())
    }
    async fn close(&mut self) {}
    fn deadline(&self) -> Option<Instant> {
        self.at
    }
    async fn tick(&mut self, _r: &mut Renderer) {
        self.at = None;
        if let Ok(mut s) = self.seen.lock() {
            s.ticks += 1;
        }
    }
    fn take_kept(&mut self) -> usize {
        std::mem::take(&mut self.kept)
    }
}

fn ticks(seen: &Arc<Mutex<Seen>>) -> usize {
    seen.lock().map(|s| s.ticks).unwrap_or(0)
}

#[tokio::test]
async fn a_sink_deadline_wakes_the_idle_loop() {
    let q = Queue::new("d", 100);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut sink = FakeSink::new(&seen);
    sink.at = Some(Instant::now() + Duration::from_millis(30));
    let task = tokio::spawn(run(sink, cx(&q)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while ticks(&seen) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(ticks(&seen), 1);
    q.close();
    assert!(task.await.is_ok());
}

#[tokio::test]
async fn kept_entries_are_not_counted_written() {
    let q = Queue::new("d", 100);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut sink = FakeSink::new(&seen);
    sink.keep = 2;
    q.push_batch(&mut entries(5));
    q.close();
    run(sink, cx(&q)).await;
    assert_eq!(seen.lock().map(|s| s.sent).unwrap_or(0), 5);
    assert_eq!(Counters::get(&q.counters.written), 3);
}

#[tokio::test]
async fn a_stop_while_the_sink_is_down_leaves_the_entries_queued() {
    let q = Queue::new("d", 100);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut sink = FakeSink::new(&seen);
    sink.fail = true;
    q.push_batch(&mut entries(3));
    q.close();
    let started = Instant::now();
    run(sink, cx(&q)).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(q.len(), 3);
    assert_eq!(Counters::get(&q.counters.written), 0);
}
