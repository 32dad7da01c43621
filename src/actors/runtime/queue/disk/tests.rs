use std::sync::Arc;

use proptest::prelude::*;

use std::path::Path;

use super::segment::Next;
use super::*;
use crate::actors::runtime::ack::{BatchAck, Window};
use crate::message::{LogMessage, UnixTime};

fn opts(dir: &Path, capacity: u64) -> DiskOptions {
    DiskOptions {
        dir: dir.to_path_buf(),
        base: DiskOptions::base_for("d_test"),
        capacity,
        reliable: true,
        mem_entries: 0,
    }
}

fn entry(n: u64, ack: Option<Arc<BatchAck>>) -> Entry {
    let mut m = LogMessage::new(UnixTime::default());
    m.set("n", n.to_string().as_bytes());
    m.set("MESSAGE", &[b'x'; 100]);
    Entry {
        msg: Arc::new(m),
        ack,
    }
}

fn numbers(v: &[Entry]) -> Vec<u64> {
    v.iter()
        .map(|e| {
            e.msg
                .get("n")
                .and_then(|n| std::str::from_utf8(n).ok()?.parse().ok())
                .unwrap_or(u64::MAX)
        })
        .collect()
}

fn push(s: &mut DiskStore, range: std::ops::Range<u64>) -> (usize, usize) {
    let mut b: Vec<Entry> = range.map(|n| entry(n, None)).collect();
    s.push(&mut b)
}

fn pop(s: &mut DiskStore, max: usize) -> Vec<Entry> {
    let mut out = Vec::new();
    s.pop(max, &mut out);
    out
}

#[test]
fn records_come_back_in_order_across_segments_and_finished_segments_go() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = DiskStore::open(opts(dir.path(), 4 * 1024 * 1024)).expect("open");
    assert_eq!(push(&mut s, 0..12_000), (12_000, 0));
    assert_eq!(s.len(), 12_000);
    let segments = segment::list_segments(dir.path(), &s.opts.base).expect("list");
    assert!(segments.len() > 2, "{segments:?}");
    let mut got = Vec::new();
    while got.len() < 12_000 {
        let b = pop(&mut s, 700);
        assert!(!b.is_empty());
        s.ack(b.len());
        got.extend(numbers(&b));
    }
    assert_eq!(got, (0..12_000).collect::<Vec<_>>());
    assert_eq!(s.len(), 0);
    assert_eq!(s.disk_bytes(), 0);
    let left = segment::list_segments(dir.path(), &s.opts.base).expect("list");
    assert_eq!(left.len(), 1, "finished segments are deleted: {left:?}");
}

#[test]
fn a_reopened_buffer_resumes_at_the_oldest_unacknowledged_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = DiskStore::open(opts(dir.path(), 4 * 1024 * 1024)).expect("open");
    push(&mut s, 0..100);
    let b = pop(&mut s, 30);
    s.ack(20);
    drop(b);
    // A crash: no Drop, nothing flushed beyond what each call wrote.
    s.release_for_test();
    std::mem::forget(s);
    let mut s = DiskStore::open(opts(dir.path(), 4 * 1024 * 1024)).expect("reopen");
    assert_eq!(s.len(), 80);
    assert_eq!(numbers(&pop(&mut s, 5)), vec![20, 21, 22, 23, 24]);
}

#[test]
fn a_rewind_reads_the_records_again_and_keeps_other_entries_in_front() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = DiskStore::open(opts(dir.path(), 4 * 1024 * 1024)).expect("open");
    push(&mut s, 0..10);
    let mut b = pop(&mut s, 10);
    s.ack(3);
    b.drain(..3);
    // The writer's own entry (a suppression summary) goes back with the records.
    b.insert(0, entry(999, None));
    s.rewind(&mut b);
    assert_eq!(s.len(), 8);
    assert_eq!(
        numbers(&pop(&mut s, 20)),
        vec![999, 3, 4, 5, 6, 7, 8, 9],
        "front first, then the records from the head"
    );
}

#[test]
fn a_torn_tail_is_cut_and_a_damaged_record_moves_the_rest_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = opts(dir.path(), 4 * 1024 * 1024);
    let mut s = DiskStore::open(o.clone()).expect("open");
    push(&mut s, 0..10);
    drop(s);
    let seg = segment::segment_path(dir.path(), &o.base, 0);
    // Half a record at the end: a write the crash cut.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&seg)
        .expect("seg");
    f.write_all(&[50, 0, 0, 0, 1, 2]).expect("torn");
    drop(f);
    let mut s = DiskStore::open(o.clone()).expect("reopen torn");
    assert_eq!(s.len(), 10);
    assert_eq!(numbers(&pop(&mut s, 3)), vec![0, 1, 2]);
    drop(s);
    // Now damage the 6th record's payload.
    let bytes = std::fs::read(&seg).expect("read");
    let mut at = HEADER_LEN as usize;
    for _ in 0..5 {
        let Next::Record(_, len) = segment::next_record(&bytes[at..]) else {
            panic!("record")
        };
        at += len;
    }
    let mut damaged = bytes.clone();
    damaged[at + 20] ^= 0xff;
    std::fs::write(&seg, &damaged).expect("damage");
    let mut s = DiskStore::open(o).expect("reopen damaged");
    assert_eq!(s.len(), 5, "every readable record before the damage");
    assert_eq!(numbers(&pop(&mut s, 10)), vec![0, 1, 2, 3, 4]);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
}

#[test]
fn a_segment_of_another_version_is_moved_aside() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = opts(dir.path(), 4 * 1024 * 1024);
    let mut s = DiskStore::open(o.clone()).expect("open");
    push(&mut s, 0..3);
    drop(s);
    let seg = segment::segment_path(dir.path(), &o.base, 0);
    let mut bytes = std::fs::read(&seg).expect("read");
    bytes[8] = 9;
    std::fs::write(&seg, &bytes).expect("write");
    let s = DiskStore::open(o).expect("reopen");
    assert_eq!(s.len(), 0);
    assert!(!seg.exists() || std::fs::read(&seg).is_ok_and(|b| b[8] == 1));
}

#[test]
fn a_full_buffer_drops_without_flow_control_and_holds_flow_controlled_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = DiskStore::open(opts(dir.path(), 1)).expect("open");
    // The capacity is raised to 1 MiB: ~7,000 records of ~150 bytes.
    let (stored, dropped) = push(&mut s, 0..10_000);
    assert!(
        dropped > 0 && stored + dropped == 10_000,
        "{stored} {dropped}"
    );
    assert!(s.disk_bytes() <= MIN_CAPACITY);
    let w = Window::new(100);
    let n = w.try_acquire();
    let ack = BatchAck::new(w.clone(), n);
    let mut b: Vec<Entry> = (20_000..20_100)
        .map(|i| entry(i, Some(ack.clone())))
        .collect();
    drop(ack);
    assert_eq!(
        s.push(&mut b),
        (100, 0),
        "flow-controlled entries wait in memory"
    );
    assert_eq!(w.available(), 0, "their credits are held while they wait");
    // Reading and acknowledging makes room: they go to disk, and the credits return.
    let mut seen = Vec::new();
    loop {
        let b = pop(&mut s, 1000);
        if b.is_empty() {
            break;
        }
        s.ack(b.len());
        seen.extend(numbers(&b));
    }
    assert_eq!(w.available(), 100);
    assert_eq!(
        &seen[seen.len() - 100..],
        &(20_000..20_100).collect::<Vec<_>>()[..]
    );
    assert!(seen.windows(2).all(|p| p[0] < p[1]), "in order");
}

/// `reliable(no)`: a destination that keeps up makes the buffer write nothing; once the
/// memory part is full it goes to disk first, in order; a stop writes it out.
#[test]
fn the_memory_part_of_a_non_reliable_buffer_keeps_the_order_and_is_written_at_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = DiskOptions {
        reliable: false,
        mem_entries: 100,
        ..opts(dir.path(), 4 * 1024 * 1024)
    };
    let mut s = DiskStore::open(o.clone()).expect("open");
    push(&mut s, 0..60);
    assert_eq!(s.disk_bytes(), 0, "in memory only");
    let b = pop(&mut s, 10);
    assert_eq!(numbers(&b), (0..10).collect::<Vec<_>>());
    s.ack(10);
    push(&mut s, 60..200);
    assert!(s.disk_bytes() > 0, "spilled");
    assert_eq!(s.len(), 190);
    let b = pop(&mut s, 20);
    assert_eq!(numbers(&b), (10..30).collect::<Vec<_>>());
    s.ack(20);
    push(&mut s, 200..210);
    assert!(s.take_all().is_empty());
    drop(s);
    let mut s = DiskStore::open(o).expect("reopen");
    assert_eq!(s.len(), 180);
    let mut got = Vec::new();
    loop {
        let b = pop(&mut s, 50);
        if b.is_empty() {
            break;
        }
        s.ack(b.len());
        got.extend(numbers(&b));
    }
    assert_eq!(got, (30..210).collect::<Vec<_>>());
}

/// A destination that keeps up holds little disk: a fully acknowledged tail segment past
/// `RECLAIM_AT` is replaced by an empty one.
#[test]
fn a_drained_tail_segment_is_replaced_once_large() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = DiskStore::open(opts(dir.path(), 512 * 1024 * 1024)).expect("open");
    for round in 0..40u64 {
        push(&mut s, round * 1000..(round + 1) * 1000);
        let b = pop(&mut s, 1000);
        s.ack(b.len());
    }
    let left = segment::list_segments(dir.path(), &s.opts.base).expect("list");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0] > 0, "the first tail was replaced");
    let len = std::fs::metadata(segment::segment_path(dir.path(), &s.opts.base, left[0]))
        .expect("tail")
        .len();
    assert!(len <= RECLAIM_AT + 200 * 1000, "{len}");
}

#[test]
fn a_buffer_is_open_once_per_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = DiskStore::open(opts(dir.path(), 0)).expect("open");
    assert!(matches!(
        DiskStore::open(opts(dir.path(), 0)),
        Err(DiskError::InUse { .. })
    ));
    drop(s);
    assert!(DiskStore::open(opts(dir.path(), 0)).is_ok());
}

#[derive(Debug, Clone)]
enum Op {
    Push(u8),
    Pop(u8),
    Ack(u8),
    Rewind,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u8..50).prop_map(Op::Push),
        (1u8..50).prop_map(Op::Pop),
        (1u8..50).prop_map(Op::Ack),
        Just(Op::Rewind),
        Just(Op::Crash),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Against a model: what was pushed comes out in order; after a rewind or a crash the
    /// reading starts again at the oldest unacknowledged record, so no acknowledged record
    /// is read again and none that was pushed is lost.
    #[test]
    fn no_acknowledged_record_is_lost_or_read_again(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let o = DiskOptions { capacity: 64 * 1024 * 1024, ..opts(dir.path(), 0) };
        let mut s = DiskStore::open(o.clone()).expect("open");
        let (mut pushed, mut acked, mut next_read) = (0u64, 0u64, 0u64);
        let mut hand: Vec<Entry> = Vec::new();
        for op in ops {
            match op {
                Op::Push(k) => {
                    let k = u64::from(k);
                    push(&mut s, pushed..pushed + k);
                    pushed += k;
                }
                Op::Pop(k) => {
                    let b = pop(&mut s, usize::from(k));
                    let want: Vec<u64> = (next_read..pushed).take(usize::from(k)).collect();
                    prop_assert_eq!(numbers(&b), want);
                    next_read += b.len() as u64;
                    hand.extend(b);
                }
                Op::Ack(k) => {
                    let k = usize::from(k).min(hand.len());
                    s.ack(k);
                    hand.drain(..k);
                    acked += k as u64;
                }
                Op::Rewind => {
                    s.rewind(&mut hand);
                    next_read = acked;
                }
                Op::Crash => {
                    // The old store vanishes without its Drop, as in kill -9.
                    s.release_for_test();
                    let old = std::mem::replace(&mut s, DiskStore::open(o.clone()).expect("reopen"));
                    std::mem::forget(old);
                    hand.clear();
                    next_read = acked;
                }
            }
            prop_assert_eq!(s.len() as u64, pushed - next_read);
        }
    }
}

/// A rewind of nothing (a sink that kept nothing gives back an empty list) leaves the
/// writer's hand as it is: the records it then rewinds are read again, once.
#[test]
fn an_empty_rewind_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = DiskStore::open(opts(dir.path(), 1 << 24)).expect("open");
    push(&mut s, 0..100);
    let mut b = pop(&mut s, 2048);
    s.rewind(&mut Vec::new());
    s.rewind(&mut b);
    push(&mut s, 100..300);
    let b = pop(&mut s, 2048);
    assert_eq!(numbers(&b), (0..300).collect::<Vec<_>>());
    s.ack(300);
    assert_eq!(pop(&mut s, 2048).len(), 0);
    assert_eq!(s.len(), 0);
}
