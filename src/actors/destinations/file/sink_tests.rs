//! The file sink with times passed in: grouping per file, a file that cannot be opened
//! holding up only its own messages, counters, reaping, rotation, the end.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::actors::destinations::file::OpenPlan;
use crate::actors::destinations::writer::{MarkPlan, RenderPlan, WriterPlan, test_entry};
use crate::actors::runtime::ack::{BatchAck, Window};
use crate::config::global_options::MarkMode;
use crate::message::{Builtin, LogMessage, UnixTime};
use crate::template::{DaemonInfo, OutputFormat, TemplateOptions};

const REOPEN: Duration = Duration::from_secs(10);

fn plan(path: &str) -> FileDestPlan {
    let mut render = RenderPlan::with_format(OutputFormat::File, TemplateOptions::default());
    render.template = Template::new("$MSG\n").ok().map(Arc::new);
    FileDestPlan {
        path: path.into(),
        persist_name: None,
        name_template: path
            .contains('$')
            .then(|| Template::new(path).ok().map(Arc::new))
            .flatten(),
        name_options: TemplateOptions::default(),
        writer: WriterPlan {
            render,
            batch_lines: 16,
            time_reopen: REOPEN,
            fifo_size: 3,
            throttle: 0,
            suppress: None,
            mark: MarkPlan {
                mode: MarkMode::None,
                every: None,
            },
            ignore_errors: false,
            disk: None,
        },
        open: OpenPlan {
            create_dirs: true,
            ..OpenPlan::default()
        },
        fsync: false,
        time_reap: Duration::from_secs(60),
    }
}

struct T {
    dir: tempfile::TempDir,
    queue: Arc<Queue>,
    sink: FileSink,
    r: Renderer,
}

fn setup(name: &str, tweak: impl FnOnce(&mut FileDestPlan)) -> T {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("{}/{name}", dir.path().display())
    };
    let mut p = plan(&path);
    tweak(&mut p);
    let queue = Queue::new("d", 100);
    let r = Renderer::new(p.writer.render.clone(), Arc::new(DaemonInfo::default()));
    T {
        dir,
        sink: FileSink::new(p, queue.clone()),
        queue,
        r,
    }
}

fn msg(host: &str, text: &str) -> Entry {
    let mut m = LogMessage::new(UnixTime::new(0, 0, 0));
    m.nv.set_builtin(Builtin::Host, host.as_bytes());
    m.nv.set_builtin(Builtin::Message, text.as_bytes());
    test_entry(m)
}

impl T {
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
    fn send(&mut self, batch: &[Entry], now: Instant) -> usize {
        self.sink.send_at(batch, &mut self.r, now);
        self.sink.take_kept()
    }
    fn counter(&self, c: &std::sync::atomic::AtomicU64) -> u64 {
        Counters::get(c)
    }
}

#[test]
fn a_batch_is_grouped_per_file_in_order() {
    let mut t = setup("$HOST/x.log", |_| {});
    let now = Instant::now();
    let batch = [msg("a", "1"), msg("b", "2"), msg("a", "3"), msg("a/c", "4")];
    assert_eq!(t.send(&batch, now), 0);
    assert_eq!(t.read("a/x.log"), "1\n3\n");
    assert_eq!(t.read("b/x.log"), "2\n");
    // A `/` inside a value makes a subdirectory, as in syslog-ng 3.38.
    assert_eq!(t.read("a/c/x.log"), "4\n");
    assert!(t.sink.is_open());
}

#[test]
fn a_file_that_cannot_be_opened_holds_up_only_its_messages() {
    let mut t = setup("$HOST.log", |_| {});
    let now = Instant::now();
    // `..` makes a spurious path; `b` is fine.
    let batch = [msg("..", "1"), msg("b", "2"), msg("..", "3")];
    assert_eq!(t.send(&batch, now), 2);
    assert_eq!(t.read("b.log"), "2\n");
    assert_eq!(t.counter(&t.queue.counters.queued), 2);
    assert_eq!(t.sink.deadline(), Some(now + REOPEN));
    // A later message for the same file waits behind them, without a new try.
    assert_eq!(t.send(&[msg("..", "5"), msg("b", "6")], now), 1);
    assert_eq!(t.read("b.log"), "2\n6\n");
    // fifo_size 3 for all files together: the fourth message without flow control is
    // dropped, whichever file it is for.
    assert_eq!(t.send(&[msg("../x", "7")], now), 1);
    assert_eq!(t.counter(&t.queue.counters.dropped), 1);
    assert_eq!(t.counter(&t.queue.counters.queued), 3);
    // At the end, what is kept goes back to the queue.
    t.sink.close_now();
    assert_eq!(t.queue.len(), 3);
    assert_eq!(t.counter(&t.queue.counters.queued), 3);
}

#[test]
fn kept_messages_are_written_when_the_file_opens_on_retry() {
    let mut t = setup("sub/f.log", |p| p.open.create_dirs = false);
    let now = Instant::now();
    let window = Window::new(10);
    let _ = window.try_acquire();
    let ack = BatchAck::new(window.clone(), 5);
    let batch: Vec<Entry> = (0..5)
        .map(|i| Entry {
            ack: Some(ack.clone()),
            ..msg("h", &i.to_string())
        })
        .collect();
    drop(ack);
    // Flow-controlled entries are all kept, whatever log-fifo-size() says.
    assert_eq!(t.send(&batch, now), 5);
    drop(batch);
    assert!(!t.sink.is_open());
    assert_eq!(window.available(), 0);
    std::fs::create_dir(t.dir.path().join("sub")).expect("mkdir");
    // Not before time-reopen().
    t.sink.tick_at(&mut t.r, now + REOPEN / 2);
    assert_eq!(t.read("sub/f.log"), "");
    t.sink.tick_at(&mut t.r, now + REOPEN);
    assert_eq!(t.read("sub/f.log"), "0\n1\n2\n3\n4\n");
    assert_eq!(t.counter(&t.queue.counters.written), 5);
    assert_eq!(t.counter(&t.queue.counters.queued), 0);
    // Written: the acks went back to the source's window.
    assert_eq!(window.available(), 5);
}

#[test]
fn idle_files_of_a_templated_name_are_reaped() {
    let mut t = setup("$HOST.log", |p| p.time_reap = Duration::from_secs(5));
    let now = Instant::now();
    t.send(&[msg("a", "1")], now);
    t.send(&[msg("b", "2")], now + Duration::from_secs(3));
    t.sink.tick_at(&mut t.r, now + Duration::from_secs(5));
    let Mode::Templated { targets, .. } = &t.sink.mode else {
        panic!("templated");
    };
    let open: Vec<_> = targets.iter().map(|t| t.key.clone()).collect();
    assert_eq!(open.len(), 1);
    assert!(open[0].ends_with(b"b.log"));
    assert_eq!(
        t.sink.deadline(),
        Some(now + Duration::from_secs(8)),
        "the next reap"
    );
    t.sink.tick_at(&mut t.r, now + Duration::from_secs(8));
    assert!(!t.sink.is_open());
    // Writing again reopens (appending).
    t.send(&[msg("a", "3")], now + Duration::from_secs(9));
    assert_eq!(t.read("a.log"), "1\n3\n");
}

#[test]
fn a_fixed_name_reopens_after_rotation_within_a_second() {
    let mut t = setup("f.log", |_| {});
    let now = Instant::now();
    t.send(&[msg("h", "1")], now);
    std::fs::rename(t.dir.path().join("f.log"), t.dir.path().join("f.log.1")).expect("mv");
    // Within the second the open file is still used.
    t.send(&[msg("h", "2")], now + Duration::from_millis(500));
    t.send(&[msg("h", "3")], now + Duration::from_secs(1));
    assert_eq!(t.read("f.log.1"), "1\n2\n");
    assert_eq!(t.read("f.log"), "3\n");
    // Deleted: noticed at once, whatever the time.
    std::fs::remove_file(t.dir.path().join("f.log")).expect("rm");
    t.send(&[msg("h", "4")], now + Duration::from_millis(1100));
    assert_eq!(t.read("f.log"), "4\n");
    // A fixed name is never reaped.
    t.sink.tick_at(&mut t.r, now + Duration::from_secs(3600));
    assert!(t.sink.is_open());
}

#[test]
fn a_write_error_keeps_the_messages_or_drops_them_with_ignore_errors() {
    // /dev/full opens but every write fails (ENOSPC); under /dev nothing is chmod-ed.
    let mut t = setup("/dev/full", |_| {});
    let now = Instant::now();
    assert_eq!(t.send(&[msg("h", "1"), msg("h", "2")], now), 2);
    assert_eq!(t.counter(&t.queue.counters.queued), 2);
    assert_eq!(t.sink.deadline(), Some(now + REOPEN));
    assert!(!t.sink.is_open());
    t.sink.tick_at(&mut t.r, now + REOPEN);
    assert_eq!(t.counter(&t.queue.counters.queued), 2);

    let mut t = setup("/dev/full", |p| p.writer.ignore_errors = true);
    assert_eq!(t.send(&[msg("h", "1"), msg("h", "2")], now), 2);
    assert_eq!(t.counter(&t.queue.counters.dropped), 2);
    assert_eq!(t.counter(&t.queue.counters.queued), 0);
}

#[test]
fn opening_errors_keep_the_messages_even_with_ignore_errors() {
    let mut t = setup("f.log", |p| p.writer.ignore_errors = true);
    std::fs::create_dir(t.dir.path().join("f.log")).expect("mkdir");
    // A directory: as syslog-ng, messages of a file that cannot be opened wait for it
    // (ignore-errors is about write errors).
    assert_eq!(t.send(&[msg("h", "1")], Instant::now()), 1);
    assert_eq!(t.counter(&t.queue.counters.queued), 1);
}

#[test]
fn symlink_as_points_at_the_last_opened_file() {
    let mut t = setup("$HOST.log", |_| {});
    let link = t.dir.path().join("current");
    t.sink.sh.plan.open.symlink_as = Some(link.clone());
    let now = Instant::now();
    t.send(&[msg("a", "1")], now);
    let a = t.dir.path().join("a.log");
    assert_eq!(std::fs::read_link(&link).ok(), Some(a.clone()));
    t.send(&[msg("b", "2"), msg("a", "3")], now);
    // b was opened last; writing to a (already open) does not move the link.
    assert_eq!(
        std::fs::read_link(&link).ok(),
        Some(t.dir.path().join("b.log"))
    );
}
