//! The worker loop in-process, with paused time: a real Python class (the interpreter runs
//! in the test process) records the calls it gets; the clock shows the waits.

use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::time::Instant;

use super::object::DestObject;
use super::worker::{WorkerPlan, run};
use crate::actors::destinations::writer::test_entry;
use crate::actors::runtime::counters::Counters;
use crate::actors::runtime::queue::{Entry, Queue};
use crate::message::{Builtin, LogMessage, UnixTime};
use crate::python::binding::BindCx;
use crate::python::code::{Block, ConfigCode};
use crate::python::object::{DriverObject, Role, Spec};

fn entries(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| {
            let mut m = LogMessage::new(UnixTime::new(0, 0, 0));
            m.nv.set_builtin(Builtin::Message, format!("m{i}").as_bytes());
            test_entry(m)
        })
        .collect()
}

/// Loads `code` (which defines `calls` and class `D`) and binds `D`.
fn object(code: &str) -> (Arc<ConfigCode>, Arc<DestObject>) {
    crate::python::ensure_initialized().expect("interpreter");
    Python::attach(|py| {
        let block = Block {
            code: code.to_string(),
            file: "/test/worker.conf".into(),
            line: 1,
        };
        let code = Arc::new(ConfigCode::load(py, None, &[block]).expect("code loads"));
        let consts: Vec<(&str, Py<PyAny>)> =
            [("ERROR", 1i64), ("SUCCESS", 3), ("QUEUED", 4), ("RETRY", 6)]
                .into_iter()
                .map(|(n, v)| (n, v.into_pyobject(py).expect("int").into_any().unbind()))
                .collect();
        let spec = Spec {
            role: Role::Destination,
            class: "D",
            loaders: &[],
            options: &Default::default(),
            driver: "d#0",
            span: Default::default(),
            class_attrs: &consts,
        };
        let cx = BindCx {
            code: &code,
            compat_3x: true,
        };
        let o = DriverObject::create(py, &cx, &spec, |_| Ok(())).expect("binds");
        let d = Arc::new(DestObject::new(py, o, true));
        (code, d)
    })
}

fn calls(code: &ConfigCode) -> Vec<String> {
    Python::attach(|py| {
        code.resolve(py, "calls")
            .and_then(|c| c.extract())
            .expect("calls")
    })
}

/// Runs the worker until the Python side has made `n` calls, then closes the queue and
/// waits for the end; returns the (paused) time that had passed when the `n`th call came.
/// The queue is closed only then: a worker that cannot deliver gives up once it is stopping.
async fn run_until(
    code: &ConfigCode,
    obj: Arc<DestObject>,
    p: WorkerPlan,
    q: &Arc<Queue>,
    n: usize,
) -> Duration {
    let start = Instant::now();
    let task = tokio::spawn(run(obj, p, q.clone()));
    while calls(code).len() < n {
        // Paused time runs ahead while the worker waits: an hour of it means the calls
        // will not come (a test that would otherwise spin for ever).
        assert!(
            start.elapsed() < Duration::from_secs(3600),
            "{} calls, want {n}: {:?}",
            calls(code).len(),
            calls(code)
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let at = start.elapsed();
    q.close();
    task.await.expect("worker ends");
    at
}

/// `at` is `want`, give or take the 1 ms the test polls with.
fn about(at: Duration, want: Duration) {
    assert!(
        at >= want && at <= want + Duration::from_millis(2),
        "{at:?}, want {want:?}"
    );
}

fn plan() -> WorkerPlan {
    WorkerPlan {
        batch_lines: 0,
        batch_timeout: None,
        retries: 3,
        time_reopen: Duration::from_secs(1),
        throttle: 0,
    }
}

const RECORDER: &str = "
calls = []
class D(object):
    def open(self):
        calls.append('open')
        return True
    def close(self):
        calls.append('close')
    def deinit(self):
        calls.append('deinit')
";

#[tokio::test(start_paused = true)]
async fn an_error_closes_waits_time_reopen_reopens_and_resends() {
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        m = msg['MESSAGE'].decode()
        calls.append('send ' + m)
        if m == 'm0' and calls.count('send m0') < 3:
            return self.ERROR
        return True
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(2));
    let at = run_until(&code, obj, plan(), &q, 9).await;
    about(at, Duration::from_secs(2));
    assert_eq!(
        calls(&code),
        [
            "open", "send m0", "close", "open", "send m0", "close", "open", "send m0", "send m1",
            "close", "deinit"
        ]
    );
    assert_eq!(Counters::get(&q.counters.written), 2);
    assert_eq!(Counters::get(&q.counters.dropped), 0);
}

#[tokio::test(start_paused = true)]
async fn retries_failures_drop_the_message_and_the_next_goes_on() {
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        m = msg['MESSAGE'].decode()
        calls.append('send ' + m)
        return self.ERROR if m == 'm0' else self.SUCCESS
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(2));
    // open, send m0 ×3 with close/open between, then send m1.
    run_until(&code, obj, plan(), &q, 9).await;
    let c = calls(&code);
    assert_eq!(c.iter().filter(|x| *x == "send m0").count(), 3, "{c:?}");
    assert_eq!(Counters::get(&q.counters.dropped), 1);
    assert_eq!(Counters::get(&q.counters.written), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_resends_at_once_then_counts_as_not_connected() {
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        calls.append('send')
        return self.RETRY if calls.count('send') <= 3 else self.SUCCESS
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(1));
    let at = run_until(&code, obj, plan(), &q, 7).await;
    // Three RETRYs: resent at once twice, the third is NOT_CONNECTED (close, wait, open).
    assert_eq!(
        calls(&code),
        [
            "open", "send", "send", "send", "close", "open", "send", "close", "deinit"
        ]
    );
    about(at, Duration::from_secs(1));
    assert_eq!(Counters::get(&q.counters.written), 1);
}

#[tokio::test(start_paused = true)]
async fn a_partial_batch_is_flushed_batch_timeout_after_its_first_message() {
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        calls.append('send')
        return self.QUEUED
    def flush(self):
        calls.append('flush')
        return self.SUCCESS
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(3));
    let p = WorkerPlan {
        batch_lines: 100,
        batch_timeout: Some(Duration::from_millis(500)),
        ..plan()
    };
    let at = run_until(&code, obj, p, &q, 5).await;
    about(at, Duration::from_millis(500));
    assert_eq!(Counters::get(&q.counters.written), 3);
    assert_eq!(
        calls(&code),
        [
            "open", "send", "send", "send", "flush", "flush", "close", "deinit"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn drop_drops_the_message_closes_and_waits_time_reopen() {
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        m = msg['MESSAGE'].decode()
        calls.append('send ' + m)
        return 0 if m == 'm0' else self.SUCCESS
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(2));
    let at = run_until(&code, obj, plan(), &q, 5).await;
    about(at, Duration::from_secs(1));
    assert_eq!(
        calls(&code),
        [
            "open", "send m0", "close", "open", "send m1", "close", "deinit"
        ]
    );
    assert_eq!(Counters::get(&q.counters.dropped), 1);
    assert_eq!(Counters::get(&q.counters.written), 1);
}

#[tokio::test(start_paused = true)]
async fn not_connected_resends_after_time_reopen_and_never_drops() {
    // Five NOT_CONNECTED in a row, more than retries(3): the message is still delivered.
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        calls.append('send')
        return 5 if calls.count('send') <= 5 else self.SUCCESS
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(1));
    let at = run_until(&code, obj, plan(), &q, 17).await;
    about(at, Duration::from_secs(5));
    let c = calls(&code);
    assert_eq!(c.iter().filter(|x| *x == "send").count(), 6, "{c:?}");
    assert_eq!(c[..4], ["open", "send", "close", "open"]);
    assert_eq!(Counters::get(&q.counters.dropped), 0);
    assert_eq!(Counters::get(&q.counters.written), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_flush_sends_the_whole_batch_again() {
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        calls.append('send ' + msg['MESSAGE'].decode())
        return self.QUEUED
    def flush(self):
        calls.append('flush')
        if calls.count('flush') == 1:
            return self.ERROR
        return self.SUCCESS
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(2));
    let p = WorkerPlan {
        batch_lines: 2,
        ..plan()
    };
    let at = run_until(&code, obj, p, &q, 9).await;
    about(at, Duration::from_secs(1));
    assert_eq!(
        calls(&code),
        [
            "open", "send m0", "send m1", "flush", "close", "open", "send m0", "send m1", "flush",
            // the loop's final flush at stop (syslog-ng calls it with nothing in hand)
            "flush", "close", "deinit"
        ]
    );
    assert_eq!(Counters::get(&q.counters.written), 2);
    assert_eq!(Counters::get(&q.counters.dropped), 0);
}

#[tokio::test(start_paused = true)]
async fn open_is_retried_every_time_reopen_until_it_succeeds() {
    // False, then an exception (logged, a failed open too), then True.
    let (code, obj) = object(
        "
calls = []
class D(object):
    def open(self):
        calls.append('open')
        n = calls.count('open')
        if n == 2:
            raise OSError('connection refused')
        return n >= 3
    def send(self, msg):
        calls.append('send')
        return True
    def close(self):
        calls.append('close')
",
    );
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(1));
    let at = run_until(&code, obj, plan(), &q, 4).await;
    about(at, Duration::from_secs(2));
    assert_eq!(calls(&code), ["open", "open", "open", "send", "close"]);
    assert_eq!(Counters::get(&q.counters.written), 1);
}

#[tokio::test(start_paused = true)]
async fn exceptions_count_as_errors_and_close_and_deinit_exceptions_change_nothing() {
    // send() raises once (ERROR: resent after time-reopen), flush() raises once (ERROR for
    // its batch), close() and deinit() always raise: logged, the loop goes on and ends.
    let (code, obj) = object(
        "
calls = []
class D(object):
    def open(self):
        calls.append('open')
        return True
    def send(self, msg):
        calls.append('send')
        if calls.count('send') == 1:
            raise ValueError('boom in send')
        return True
    def flush(self):
        calls.append('flush')
        if calls.count('flush') == 1:
            raise ValueError('boom in flush')
        return True
    def close(self):
        calls.append('close')
        raise RuntimeError('boom in close')
    def deinit(self):
        calls.append('deinit')
        raise RuntimeError('boom in deinit')
",
    );
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(1));
    let at = run_until(&code, obj, plan(), &q, 4).await;
    about(at, Duration::from_secs(1));
    assert_eq!(
        calls(&code),
        [
            "open", "send", "close", "open", "send", "flush", "close", "open", "flush", "close",
            "deinit"
        ]
    );
    assert_eq!(Counters::get(&q.counters.written), 1);
}

#[tokio::test(start_paused = true)]
async fn results_that_are_not_constants_are_errors() {
    // None, a str and an out-of-range int are ERROR (resent), as in syslog-ng 3.38.
    let (code, obj) = object(&format!(
        "{RECORDER}    def send(self, msg):
        calls.append('send')
        return [None, 'yes', 42][calls.count('send') - 1] if calls.count('send') <= 3 else True
"
    ));
    let q = Queue::new("d", 100);
    q.push_batch(&mut entries(1));
    let p = WorkerPlan {
        retries: 5,
        ..plan()
    };
    run_until(&code, obj, p, &q, 11).await;
    let c = calls(&code);
    assert_eq!(c.iter().filter(|x| *x == "send").count(), 4, "{c:?}");
    assert_eq!(Counters::get(&q.counters.written), 1);
    assert_eq!(Counters::get(&q.counters.dropped), 0);
}
