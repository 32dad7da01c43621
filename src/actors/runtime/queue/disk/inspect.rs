//! Reading a disk-buffer without the daemon (`sluice-ctl dq info|cat`, like syslog-ng's
//! `dqtool`): nothing is changed — a damaged segment is reported, not cut or moved aside.

use std::path::{Path, PathBuf};

use super::segment::{self, DiskError, HEADER_LEN, Next, Pos};
use crate::message::{LogMessage, serial};

/// How a segment reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Every byte is a whole, checked record.
    Ok,
    /// The last record is incomplete from this offset on (a write a crash cut short).
    TornAt(u64),
    /// The bytes from this offset on are no record (bad length or checksum).
    DamagedAt(u64),
    /// The header is not a sluice segment of this version.
    BadHeader(String),
}

/// One segment of a buffer.
#[derive(Debug, Clone)]
pub struct SegmentInfo {
    pub path: PathBuf,
    /// Bytes in the file.
    pub bytes: u64,
    /// Whole records not yet acknowledged (from the saved position on).
    pub records: usize,
    pub health: Health,
}

/// A whole buffer.
#[derive(Debug, Clone)]
pub struct BufferInfo {
    pub dir: PathBuf,
    pub base: String,
    /// The oldest unacknowledged record (segment, offset), if the position file reads.
    pub position: Option<(u64, u64)>,
    pub segments: Vec<SegmentInfo>,
}

impl BufferInfo {
    /// Unacknowledged records in all segments.
    pub fn records(&self) -> usize {
        self.segments.iter().map(|s| s.records).sum()
    }

    /// Whether every segment reads whole.
    pub fn healthy(&self) -> bool {
        self.segments.iter().all(|s| s.health == Health::Ok)
    }
}

/// The buffer `file` belongs to: a segment (`BASE.NNNNNNNN.sqd`) or position file
/// (`BASE.pos`).
fn locate(file: &Path) -> Option<(PathBuf, String)> {
    let name = file.file_name()?.to_str()?;
    let base = if let Some(b) = name.strip_suffix(".pos") {
        b.to_string()
    } else {
        let stem = name.strip_suffix(".sqd")?;
        let (b, n) = stem.rsplit_once('.')?;
        n.parse::<u64>().ok()?;
        b.to_string()
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some((dir, base))
}

/// Reads what the buffer `file` belongs to holds.
pub fn info(file: &Path) -> Result<BufferInfo, DiskError> {
    read_buffer(file, |_| {})
}

/// Calls `each` with every unacknowledged message of the buffer `file` belongs to, oldest
/// first; a record that does not decode is reported through `each` as an error.
pub fn messages(
    file: &Path,
    mut each: impl FnMut(Result<LogMessage, String>),
) -> Result<BufferInfo, DiskError> {
    read_buffer(file, |payload| {
        each(serial::decode(payload).map_err(|e| e.to_string()));
    })
}

/// Reads every segment of the buffer `file` belongs to once, calling `each` with the
/// payload of every unacknowledged record, oldest first.
fn read_buffer(file: &Path, mut each: impl FnMut(&[u8])) -> Result<BufferInfo, DiskError> {
    let Some((dir, base)) = locate(file) else {
        return Err(DiskError::NotASegment {
            path: file.to_path_buf(),
        });
    };
    let position = segment::read_position(&segment::position_path(&dir, &base));
    let mut segments = Vec::new();
    for id in segment::list_segments(&dir, &base)? {
        let path = segment::segment_path(&dir, &base, id);
        let bytes = std::fs::read(&path).map_err(segment::io(&path))?;
        let start = match position {
            Some(p) if p.seg == id => p.off,
            Some(p) if p.seg > id => bytes.len() as u64,
            _ => HEADER_LEN,
        };
        let (records, health) = match segment::open_segment(&path) {
            Err(e) => (0, Health::BadHeader(e.to_string())),
            Ok(_) => {
                let (records, _, health) = walk(&bytes, start, &mut each);
                (records, health)
            }
        };
        segments.push(SegmentInfo {
            path,
            bytes: bytes.len() as u64,
            records,
            health,
        });
    }
    Ok(BufferInfo {
        dir,
        base,
        position: position.map(|Pos { seg, off }| (seg, off)),
        segments,
    })
}

/// Walks the records of a segment's `bytes` from `start`: (records, end of the last whole
/// one, health), calling `each` with every payload.
pub(super) fn walk(bytes: &[u8], start: u64, mut each: impl FnMut(&[u8])) -> (usize, u64, Health) {
    let mut at = (start as usize).min(bytes.len());
    let mut count = 0;
    loop {
        match segment::next_record(&bytes[at..]) {
            Next::Record(payload, len) => {
                each(payload);
                at += len;
                count += 1;
            }
            Next::Partial if at == bytes.len() => return (count, at as u64, Health::Ok),
            Next::Partial => return (count, at as u64, Health::TornAt(at as u64)),
            Next::Damaged => return (count, at as u64, Health::DamagedAt(at as u64)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::runtime::queue::Entry;
    use crate::actors::runtime::queue::QueueStore;
    use crate::actors::runtime::queue::disk::{DiskOptions, DiskStore};
    use crate::message::UnixTime;
    use std::sync::Arc;

    #[test]
    fn info_and_messages_read_a_buffer_without_changing_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = DiskOptions {
            dir: dir.path().to_path_buf(),
            base: DiskOptions::base_for("d"),
            capacity: 1 << 22,
            reliable: false,
            mem_entries: 0,
        };
        let mut s = DiskStore::open(opts.clone()).expect("open");
        let mut batch: Vec<Entry> = (0..5)
            .map(|i| {
                let mut m = LogMessage::new(UnixTime::default());
                m.set("MESSAGE", format!("m{i}").as_bytes());
                Entry {
                    msg: Arc::new(m),
                    ack: None,
                }
            })
            .collect();
        s.push(&mut batch);
        let mut out = Vec::new();
        s.pop(2, &mut out);
        s.ack(2);
        drop(s);
        let seg = segment::segment_path(dir.path(), &opts.base, 0);
        let before = std::fs::read(&seg).expect("seg");
        let i = info(&seg).expect("info");
        assert_eq!(i.records(), 3);
        assert!(i.healthy());
        let mut got = Vec::new();
        messages(&seg, |m| {
            got.push(m.ok().and_then(|m| m.get("MESSAGE").map(<[u8]>::to_vec)));
        })
        .expect("messages");
        assert_eq!(got, ["m2", "m3", "m4"].map(|m| Some(m.as_bytes().to_vec())));
        let mut torn = before.clone();
        torn.extend_from_slice(&[9, 0, 0, 0]);
        std::fs::write(&seg, &torn).expect("torn");
        let i = info(&seg).expect("info");
        assert_eq!(i.segments[0].health, Health::TornAt(before.len() as u64));
        assert_eq!(std::fs::read(&seg).expect("seg"), torn, "unchanged");
    }
}
