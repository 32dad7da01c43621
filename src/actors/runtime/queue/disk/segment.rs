//! The disk-buffer's files (format in docs/disk-buffer.md): segments of length-prefixed,
//! checksummed records, and a small position file saying where the oldest unacknowledged
//! record starts.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A segment starts with these bytes, then the format version (u32 LE) and 4 reserved ones.
pub(super) const SEGMENT_MAGIC: &[u8; 8] = b"SLUICEQS";
/// The position file starts with these bytes.
const POSITION_MAGIC: &[u8; 8] = b"SLUICEQP";
/// The format version this build writes and reads.
pub(super) const VERSION: u32 = 1;
/// Bytes before a segment's first record.
pub(super) const HEADER_LEN: u64 = 16;
/// Bytes before a record's payload: its length and its crc32c (both u32 LE).
pub(super) const RECORD_HEAD: usize = 8;
/// A record larger than this is not one (a damaged length).
pub(super) const MAX_RECORD: usize = 256 * 1024 * 1024;
/// Bytes of the position file.
const POSITION_LEN: usize = 36;

/// What went wrong with a disk-buffer file.
#[derive(Debug, Error)]
pub enum DiskError {
    #[error("disk-buffer file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("disk-buffer file {path} is not a sluice disk-buffer segment (bad magic)")]
    NotASegment { path: PathBuf },
    #[error("disk-buffer file {path} has format version {found}; this build reads {VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error(
        "disk-buffer {path} is open already (a destination of the same persist name still drains)"
    )]
    InUse { path: PathBuf },
}

/// An I/O error on `path`, for `map_err`.
pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DiskError + '_ {
    move |source| DiskError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Appends `payload` as one record to `out`.
pub(super) fn put_record(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What starts at some offset of a buffer of records.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next<'a> {
    /// A whole record: its payload and its length on disk.
    Record(&'a [u8], usize),
    /// The buffer ends inside the record (read more, or: a torn tail).
    Partial,
    /// The bytes there are no record (bad length or checksum).
    Damaged,
}

/// Reads the record at the start of `buf`.
pub(super) fn next_record(buf: &[u8]) -> Next<'_> {
    let Some(head) = buf.get(..RECORD_HEAD) else {
        return Next::Partial;
    };
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len == 0 || len > MAX_RECORD {
        return Next::Damaged;
    }
    let Some(payload) = buf.get(RECORD_HEAD..RECORD_HEAD + len) else {
        return Next::Partial;
    };
    if crc32c::crc32c(payload) != crc {
        return Next::Damaged;
    }
    Next::Record(payload, RECORD_HEAD + len)
}

/// The path of segment `id` of buffer `base` in `dir`.
pub(super) fn segment_path(dir: &Path, base: &str, id: u64) -> PathBuf {
    dir.join(format!("{base}.{id:08}.sqd"))
}

/// The position file of buffer `base`.
pub(super) fn position_path(dir: &Path, base: &str) -> PathBuf {
    dir.join(format!("{base}.pos"))
}

/// The ids of `base`'s segments in `dir`, in order.
pub(super) fn list_segments(dir: &Path, base: &str) -> Result<Vec<u64>, DiskError> {
    let mut ids = Vec::new();
    let prefix = format!("{base}.");
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".sqd"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Creates segment `path` with its header.
pub(super) fn create_segment(path: &Path) -> Result<File, DiskError> {
    let mut f = OpenOptions::new()
        .create_new(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    header.extend_from_slice(SEGMENT_MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&[0; 4]);
    f.write_all(&header).map_err(io(path))?;
    Ok(f)
}

/// Opens segment `path` for appending after checking its header.
pub(super) fn open_segment(path: &Path) -> Result<File, DiskError> {
    let f = OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(io(path))?;
    let mut header = [0u8; HEADER_LEN as usize];
    f.read_exact_at(&mut header, 0)
        .map_err(|_| DiskError::NotASegment {
            path: path.to_path_buf(),
        })?;
    if &header[..8] != SEGMENT_MAGIC {
        return Err(DiskError::NotASegment {
            path: path.to_path_buf(),
        });
    }
    let found = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if found != VERSION {
        return Err(DiskError::Version {
            path: path.to_path_buf(),
            found,
        });
    }
    Ok(f)
}

/// Where the oldest unacknowledged record starts: a segment id and an offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(super) struct Pos {
    pub(super) seg: u64,
    pub(super) off: u64,
}

/// Reads the position file; `None` when it is missing or damaged (then the buffer is read
/// from its first segment: messages may come twice, none is lost).
pub(super) fn read_position(path: &Path) -> Option<Pos> {
    let b = std::fs::read(path).ok()?;
    if b.len() != POSITION_LEN || &b[..8] != POSITION_MAGIC {
        return None;
    }
    let crc = u32::from_le_bytes(b[32..36].try_into().ok()?);
    if crc32c::crc32c(&b[..32]) != crc {
        return None;
    }
    let seg = u64::from_le_bytes(b[16..24].try_into().ok()?);
    let off = u64::from_le_bytes(b[24..32].try_into().ok()?);
    Some(Pos { seg, off })
}

/// Writes `pos` into the (open) position file, in place: one small write, which the page
/// cache keeps across a crash of the process.
pub(super) fn write_position(f: &File, path: &Path, pos: Pos) -> Result<(), DiskError> {
    let mut b = Vec::with_capacity(POSITION_LEN);
    b.extend_from_slice(POSITION_MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&pos.seg.to_le_bytes());
    b.extend_from_slice(&pos.off.to_le_bytes());
    let crc = crc32c::crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    f.write_all_at(&b, 0).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_told_from_a_torn_tail() {
        let mut buf = Vec::new();
        put_record(&mut buf, b"hello");
        put_record(&mut buf, b"world!");
        let Next::Record(p, n) = next_record(&buf) else {
            panic!("first")
        };
        assert_eq!((p, n), (&b"hello"[..], 13));
        assert_eq!(next_record(&buf[13..]), Next::Record(b"world!", 14));
        assert_eq!(next_record(&buf[13..20]), Next::Partial);
        let mut bad = buf.clone();
        bad[10] ^= 1;
        assert_eq!(next_record(&bad), Next::Damaged);
        assert_eq!(next_record(&[0; 8]), Next::Damaged);
    }

    #[test]
    fn the_position_file_round_trips_and_a_damaged_one_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = position_path(dir.path(), "q");
        let f = File::create(&path).expect("create");
        let pos = Pos { seg: 7, off: 1234 };
        write_position(&f, &path, pos).expect("write");
        assert_eq!(read_position(&path), Some(pos));
        f.write_all_at(b"x", 20).expect("damage");
        assert_eq!(read_position(&path), None);
    }
}
