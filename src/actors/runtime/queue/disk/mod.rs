//! The disk-buffer: the second [`QueueStore`], keeping a destination's queue in files so that
//! it survives restarts, crashes (`kill -9`) and long outages of the destination.
//!
//! Records are appended to segment files (`segment.rs`; format in docs/disk-buffer.md); the
//! writer pops them in order and the store advances the *head* — the oldest unacknowledged
//! record, kept in the position file — only as the destination acknowledges them. A segment
//! wholly behind the head is deleted. At open, every segment from the head on is scanned:
//! the records are counted, a torn or damaged tail is moved aside into a `.damaged-*` file
//! (with an error naming it) and the segment cut there, so every readable record is
//! delivered and the daemon runs on.
//!
//! A pushed entry's acknowledgement (its flow-control credit, its source's bookmark) is
//! released once its record is written — with `reliable(yes)` once the batch is on disk
//! (one `fdatasync` per pushed batch). What a store cannot put on disk stays in memory with
//! its acknowledgement: when `disk-buf-size()` is reached, flow-controlled entries wait in an
//! overflow (so their sources stop), others are dropped and counted.
//!
//! Entries that are not records — the writer's own (suppression summaries) and those a sink
//! kept after they were acknowledged — come back through a rewind into a memory-only front.
//!
//! `reliable(no)` keeps up to `mem-buf-length()` entries in memory while nothing waits on
//! disk — a destination that keeps up never makes the buffer write — and acknowledges them
//! at once, as syslog-ng does. Once they do not fit, they are written out first and
//! everything after them goes to disk, so the order holds; a stop writes them out too. A
//! crash loses at most them.

pub mod inspect;
mod open;
mod read;
mod segment;

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use std::io::Write;

use super::{Entry, QueueStore};
use crate::message::serial;
pub use segment::DiskError;
use segment::{HEADER_LEN, Pos, io};

/// How a disk-buffer is set up (from the destination's `disk-buffer()`).
#[derive(Debug, Clone)]
pub struct DiskOptions {
    /// The directory of its files.
    pub dir: PathBuf,
    /// The files' common name (from the destination's persist name).
    pub base: String,
    /// `disk-buf-size()`: bytes of records at most.
    pub capacity: u64,
    /// `reliable(yes)`: each pushed batch is synced to disk before it is acknowledged.
    pub reliable: bool,
    /// `mem-buf-length()` of `reliable(no)`: entries kept in memory while nothing waits on
    /// disk (0 with `reliable(yes)`).
    pub mem_entries: usize,
}

/// The smallest `disk-buf-size()` (syslog-ng's: smaller values are raised to it).
pub const MIN_CAPACITY: u64 = 1024 * 1024;

/// The largest segment file.
const SEGMENT_MAX: u64 = 64 * 1024 * 1024;

/// A tail segment everything of which is acknowledged is replaced by a new one past this
/// size, so that a destination that keeps up holds little disk.
const RECLAIM_AT: u64 = 4 * 1024 * 1024;

/// Bytes read from a segment at a time.
const READ_CHUNK: usize = 256 * 1024;

impl DiskOptions {
    /// The file name base for a destination's persist name: its characters that are safe in
    /// a file name, and a checksum of the whole name so that two names never share files.
    pub fn base_for(persist_name: &str) -> String {
        let safe: String = persist_name
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
                _ => '_',
            })
            .take(80)
            .collect();
        format!("{safe}-{:08x}", crc32c::crc32c(persist_name.as_bytes()))
    }

    fn segment_max(&self) -> u64 {
        (self.capacity / 8).clamp(64 * 1024, SEGMENT_MAX)
    }
}

/// What the writer has in hand, oldest first.
#[derive(Debug)]
enum Hand {
    /// A record, ending at `end`, `len` bytes on disk.
    Record { msg: usize, len: u64, end: Pos },
    /// A record that could not be decoded (logged): acknowledged with the next.
    Skipped { len: u64, end: Pos },
    /// An entry of the overflow, not on disk.
    Overflow { msg: usize },
    /// An entry of the front, not on disk.
    Front,
    /// An entry of the memory part (`reliable(no)`), not on disk.
    Mem { msg: usize },
}

#[derive(Debug)]
struct Seg {
    id: u64,
    /// Bytes in the file (header included).
    len: u64,
}

/// A queue kept in segment files (see the module doc).
#[derive(Debug)]
pub struct DiskStore {
    opts: DiskOptions,
    segments: VecDeque<Seg>,
    tail: File,
    positions: File,
    head: Pos,
    read: Pos,
    /// Records from `read` to the end.
    unread: usize,
    /// Bytes of records from `head` to the end.
    used: u64,
    in_hand: VecDeque<Hand>,
    front: VecDeque<Entry>,
    /// `reliable(no)`'s memory part: newer than every record, older than the overflow.
    mem: VecDeque<Entry>,
    overflow: VecDeque<Entry>,
    /// A write failed: new entries stay in memory (the overflow) from now on.
    broken: bool,
    reader: Option<(u64, File)>,
    scratch: Vec<u8>,
    record: Vec<u8>,
}

/// The buffers open in this process (directory joined with base name).
fn open_buffers() -> std::sync::MutexGuard<'static, std::collections::HashSet<PathBuf>> {
    static OPEN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<PathBuf>>> =
        std::sync::OnceLock::new();
    OPEN.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

fn ptr(e: &Entry) -> usize {
    Arc::as_ptr(&e.msg) as usize
}

impl DiskStore {
    /// Opens (or creates) the buffer `opts` names, recovering what a previous run left. A
    /// buffer is open once per process at most.
    pub fn open(opts: DiskOptions) -> Result<DiskStore, DiskError> {
        let opts = DiskOptions {
            capacity: opts.capacity.max(MIN_CAPACITY),
            ..opts
        };
        let key = opts.dir.join(&opts.base);
        if !open_buffers().insert(key.clone()) {
            return Err(DiskError::InUse { path: key });
        }
        let opened = Self::open_files(opts);
        if opened.is_err() {
            open_buffers().remove(&key);
        }
        opened
    }

    /// Lets the buffer be opened again while this store lives on unused: a test's stand-in
    /// for the process dying (then the store is forgotten, not dropped).
    #[cfg(test)]
    fn release_for_test(&self) {
        open_buffers().remove(&self.opts.dir.join(&self.opts.base));
    }

    /// Bytes of records kept on disk (acknowledged ones excluded).
    pub fn disk_bytes(&self) -> u64 {
        self.used
    }

    fn path(&self, id: u64) -> PathBuf {
        segment::segment_path(&self.opts.dir, &self.opts.base, id)
    }

    fn tail_len(&self) -> u64 {
        self.segments.back().map_or(HEADER_LEN, |s| s.len)
    }

    /// Writes the pending bytes to the tail segment.
    fn write_pending(&mut self) -> Result<(), DiskError> {
        if self.scratch.is_empty() {
            return Ok(());
        }
        let path = self.path(self.segments.back().map_or(0, |s| s.id));
        self.tail.write_all(&self.scratch).map_err(io(&path))?;
        if let Some(s) = self.segments.back_mut() {
            s.len += self.scratch.len() as u64;
        }
        self.scratch.clear();
        Ok(())
    }

    fn sync(&mut self) -> Result<(), DiskError> {
        if self.opts.reliable {
            let path = self.path(self.segments.back().map_or(0, |s| s.id));
            self.tail.sync_data().map_err(io(&path))?;
        }
        Ok(())
    }

    /// Starts the next segment (the tail is synced first).
    fn roll(&mut self) -> Result<(), DiskError> {
        self.write_pending()?;
        self.sync()?;
        let id = self.segments.back().map_or(0, |s| s.id + 1);
        self.tail = segment::create_segment(&self.path(id))?;
        self.segments.push_back(Seg {
            id,
            len: HEADER_LEN,
        });
        Ok(())
    }

    /// Appends the records of `entries` (leaving it empty); entries that do not fit go to
    /// the overflow (flow-controlled) or are dropped. Returns (stored, dropped). Should a
    /// write fail, the store is broken: what was not written stays in memory, in order.
    fn append(&mut self, entries: &mut Vec<Entry>) -> (usize, usize) {
        let (mut stored, mut dropped) = (0, 0);
        let mut written: Vec<Entry> = Vec::with_capacity(entries.len());
        // The last of `written` have their records in `scratch`, not on disk yet.
        let (mut pending_records, mut pending_bytes) = (0, 0);
        let seg_max = self.opts.segment_max();
        let mut failure = None;
        let mut rest = entries.drain(..);
        for e in rest.by_ref() {
            if self.broken || !self.overflow.is_empty() {
                keep_or_drop(&mut self.overflow, e, &mut stored, &mut dropped);
                continue;
            }
            self.record.clear();
            serial::encode(&e.msg, &mut self.record);
            let len = (segment::RECORD_HEAD + self.record.len()) as u64;
            let pending = self.scratch.len() as u64;
            if self.used + len > self.opts.capacity {
                keep_or_drop(&mut self.overflow, e, &mut stored, &mut dropped);
                continue;
            }
            if self.tail_len() + pending + len > seg_max && self.tail_len() + pending > HEADER_LEN {
                if let Err(err) = self.roll() {
                    failure = Some(err);
                    self.overflow.push_back(e);
                    stored += 1;
                    break;
                }
                (pending_records, pending_bytes) = (0, 0);
            }
            let record = std::mem::take(&mut self.record);
            segment::put_record(&mut self.scratch, &record);
            self.record = record;
            pending_records += 1;
            pending_bytes += len;
            self.used += len;
            self.unread += 1;
            stored += 1;
            written.push(e);
        }
        if failure.is_none() {
            match self.write_pending().and_then(|()| self.sync()) {
                Ok(()) => (pending_records, pending_bytes) = (0, 0),
                Err(err) => failure = Some(err),
            }
        }
        if let Some(err) = failure {
            // What was not written stays in memory, before what waited already.
            self.fail(&err);
            self.scratch.clear();
            self.used -= pending_bytes;
            self.unread -= pending_records;
            let done = written.len() - pending_records;
            let unwritten: Vec<Entry> = written.drain(done..).collect();
            let tail: Vec<Entry> = self.overflow.drain(..).collect();
            self.overflow.extend(unwritten);
            self.overflow.extend(tail);
            for e in rest {
                self.overflow.push_back(e);
                stored += 1;
            }
        }
        // On disk: the entries' acknowledgements go back to their sources now.
        drop(written);
        (stored, dropped)
    }

    /// Moves overflow entries to disk while there is room.
    fn drain_overflow(&mut self) {
        if self.overflow.is_empty() || self.broken {
            return;
        }
        let mut batch: Vec<Entry> = self.overflow.drain(..).collect();
        // `append` puts entries in the overflow again from the first one that does not fit.
        self.append(&mut batch);
    }

    /// Writes the memory part out (before anything newer). Returns how many it held.
    fn spill(&mut self) -> usize {
        if self.mem.is_empty() {
            return 0;
        }
        let mut all: Vec<Entry> = self.mem.drain(..).collect();
        let n = all.len();
        self.append(&mut all);
        n
    }

    fn fail(&mut self, e: &DiskError) {
        tracing::error!(error = %e,
            "Error writing the disk-buffer; new messages are kept in memory from now on");
        self.broken = true;
    }

    /// Deletes segments wholly behind the head.
    fn reclaim(&mut self) {
        while self.segments.len() > 1 && self.segments.front().is_some_and(|s| s.id < self.head.seg)
        {
            if let Some(s) = self.segments.pop_front() {
                let path = self.path(s.id);
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(error = %e, segment = %path.display(),
                        "Error removing a finished disk-buffer segment");
                }
                if self.reader.as_ref().is_some_and(|(id, _)| *id == s.id) {
                    self.reader = None;
                }
            }
        }
    }
}

fn keep_or_drop(overflow: &mut VecDeque<Entry>, e: Entry, stored: &mut usize, dropped: &mut usize) {
    if e.ack.is_some() {
        overflow.push_back(e);
        *stored += 1;
    } else {
        *dropped += 1;
    }
}

impl QueueStore for DiskStore {
    fn push(&mut self, batch: &mut Vec<Entry>) -> (usize, usize) {
        let n = batch.len();
        if self.unread == 0
            && self.overflow.is_empty()
            && !self.broken
            && self.mem.len() + n <= self.opts.mem_entries
        {
            // Taken: acknowledged to the sources now, as syslog-ng's non-reliable buffer
            // does (flow control holds them back only once the buffer is full).
            self.mem.extend(batch.drain(..).map(|e| Entry {
                msg: e.msg,
                ack: None,
            }));
            return (n, 0);
        }
        // The memory part was counted when it came: only the batch's entries count now.
        self.spill();
        self.append(batch)
    }

    fn pop(&mut self, max: usize, out: &mut Vec<Entry>) -> usize {
        self.drain_overflow();
        let mut n = 0;
        while n < max {
            let Some(e) = self.front.pop_front() else {
                break;
            };
            self.in_hand.push_back(Hand::Front);
            out.push(e);
            n += 1;
        }
        n += self.read_records(max - n, out);
        while n < max && self.unread == 0 {
            let Some(e) = self.mem.pop_front() else {
                break;
            };
            self.in_hand.push_back(Hand::Mem { msg: ptr(&e) });
            out.push(e);
            n += 1;
        }
        while n < max && self.unread == 0 && self.mem.is_empty() {
            let Some(e) = self.overflow.pop_front() else {
                break;
            };
            self.in_hand.push_back(Hand::Overflow { msg: ptr(&e) });
            out.push(e);
            n += 1;
        }
        n
    }

    fn ack(&mut self, n: usize) {
        let mut left = n;
        let mut moved = false;
        while let Some(h) = self.in_hand.front() {
            let counted = !matches!(h, Hand::Skipped { .. });
            if counted && left == 0 {
                break;
            }
            let Some(h) = self.in_hand.pop_front() else {
                break;
            };
            match h {
                Hand::Record { len, end, .. } | Hand::Skipped { len, end } => {
                    self.head = end;
                    self.used = self.used.saturating_sub(len);
                    moved = true;
                }
                Hand::Overflow { .. } | Hand::Front | Hand::Mem { .. } => {}
            }
            if counted {
                left -= 1;
            }
        }
        if moved && self.unread == 0 && self.in_hand.is_empty() && self.tail_len() > RECLAIM_AT {
            let tail = self.segments.back().map(|s| (s.id, s.len));
            if tail == Some((self.head.seg, self.head.off)) {
                match self.roll() {
                    Ok(()) => {
                        let id = self.segments.back().map_or(0, |s| s.id);
                        self.head = Pos {
                            seg: id,
                            off: HEADER_LEN,
                        };
                        self.read = self.head;
                    }
                    Err(e) => self.fail(&e),
                }
            }
        }
        if moved {
            let path = segment::position_path(&self.opts.dir, &self.opts.base);
            if let Err(e) = segment::write_position(&self.positions, &path, self.head) {
                tracing::error!(error = %e, "Error saving the disk-buffer position");
            }
            self.reclaim();
        }
        self.drain_overflow();
    }

    fn rewind(&mut self, entries: &mut Vec<Entry>) {
        // Nothing comes back (a sink that kept nothing): what is in hand stays in hand.
        if entries.is_empty() {
            return;
        }
        let kinds: HashMap<usize, Kind> = self
            .in_hand
            .iter()
            .filter_map(|h| match h {
                Hand::Record { msg, .. } => Some((*msg, Kind::Record)),
                Hand::Overflow { msg } => Some((*msg, Kind::Overflow)),
                Hand::Mem { msg } => Some((*msg, Kind::Mem)),
                _ => None,
            })
            .collect();
        let records = self
            .in_hand
            .iter()
            .filter(|h| matches!(h, Hand::Record { .. } | Hand::Skipped { .. }))
            .count();
        self.in_hand.clear();
        // The records are read again from the head; the rest goes back in memory, in order.
        self.read = self.head;
        self.unread += records;
        let (mut overflow, mut mem, mut front) = (Vec::new(), Vec::new(), Vec::new());
        for e in entries.drain(..) {
            match kinds.get(&ptr(&e)) {
                Some(Kind::Record) => {}
                Some(Kind::Overflow) => overflow.push(e),
                Some(Kind::Mem) => mem.push(e),
                None => front.push(e),
            }
        }
        for e in overflow.into_iter().rev() {
            self.overflow.push_front(e);
        }
        for e in mem.into_iter().rev() {
            self.mem.push_front(e);
        }
        for e in front.into_iter().rev() {
            self.front.push_front(e);
        }
    }

    fn len(&self) -> usize {
        self.front.len() + self.unread + self.mem.len() + self.overflow.len()
    }

    fn take_all(&mut self) -> Vec<Entry> {
        // The records stay on disk for the next run, the memory part joins them; only what
        // cannot be written is taken.
        self.spill();
        let mut v: Vec<Entry> = self.front.drain(..).collect();
        v.extend(self.overflow.drain(..));
        v
    }

    fn on_disk(&self) -> usize {
        self.unread
    }

    fn persistent(&self) -> bool {
        true
    }

    fn in_hand_on_disk(&self) -> usize {
        self.in_hand
            .iter()
            .filter(|h| matches!(h, Hand::Record { .. }))
            .count()
    }
}

/// Where an entry in the writer's hand came from.
enum Kind {
    Record,
    Overflow,
    Mem,
}

impl Drop for DiskStore {
    fn drop(&mut self) {
        self.spill();
        let _ = self.write_pending();
        let _ = self.tail.flush();
        open_buffers().remove(&self.opts.dir.join(&self.opts.base));
    }
}

#[cfg(test)]
mod tests;
