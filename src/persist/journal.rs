//! The persist file's journal: every write is appended here before `set` returns, so a
//! value survives a `kill -9` of the daemon (sled alone keeps recent writes in memory until
//! its next flush, up to 500 ms later: the 18,200 duplicates of issue 11 after a SIGKILL).
//!
//! One `write()` per change (or per batch of changes), no `fsync`: a process that dies
//! leaves its written data in the kernel, which writes it out — as syslog-ng's `mmap()`ed
//! persist file does. (Power loss is another matter for both.) The journal is replayed into
//! sled when the file is opened, and emptied whenever sled has flushed what it holds: at
//! open, when it grows past [`COMPACT_AT`], and at [`Journal::checkpoint`].
//!
//! Record: `len: u32 LE`, `crc32c(payload): u32 LE`, payload = `op: u8` (1 set, 2 remove),
//! `key_len: u32 LE`, key, value (the rest). A record that is cut short or fails its
//! checksum ends the replay (a write torn by a crash); what came before it is kept.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The journal is emptied (after a sled flush) once it holds this many bytes.
const COMPACT_AT: u64 = 1 << 20;

const OP_SET: u8 = 1;
const OP_REMOVE: u8 = 2;

/// One change: a key and its new value (`None`: removed).
pub(super) type Change = (Vec<u8>, Option<Vec<u8>>);

/// The open journal of one persist file.
#[derive(Debug)]
pub(super) struct Journal {
    file: File,
    path: PathBuf,
    len: u64,
    buf: Vec<u8>,
}

/// Where the journal of the persist file at `persist` lives: beside it (sled owns its
/// directory).
pub(super) fn path_for(persist: &Path) -> PathBuf {
    let mut p = persist.as_os_str().to_owned();
    p.push(".journal");
    PathBuf::from(p)
}

fn encode(buf: &mut Vec<u8>, key: &[u8], value: Option<&[u8]>) {
    let start = buf.len();
    buf.extend_from_slice(&[0; 8]);
    buf.push(if value.is_some() { OP_SET } else { OP_REMOVE });
    buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
    buf.extend_from_slice(key);
    if let Some(v) = value {
        buf.extend_from_slice(v);
    }
    let payload = &buf[start + 8..];
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc32c::crc32c(payload).to_le_bytes();
    buf[start..start + 4].copy_from_slice(&len);
    buf[start + 4..start + 8].copy_from_slice(&crc);
}

/// The changes in `data`, and how many bytes at its end were not a whole, valid record.
pub(super) fn decode(data: &[u8]) -> (Vec<Change>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(header) = data.get(at..at + 8) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let Some(payload) = data.get(at + 8..at + 8 + len) else {
            break;
        };
        if crc32c::crc32c(payload) != crc || payload.len() < 5 {
            break;
        }
        let op = payload[0];
        let key_len = u32::from_le_bytes([payload[1], payload[2], payload[3], payload[4]]) as usize;
        let Some(key) = payload.get(5..5 + key_len) else {
            break;
        };
        let rest = &payload[5 + key_len..];
        match op {
            OP_SET => out.push((key.to_vec(), Some(rest.to_vec()))),
            OP_REMOVE => out.push((key.to_vec(), None)),
            _ => break,
        }
        at += 8 + len;
    }
    (out, data.len() - at)
}

impl Journal {
    /// Opens (creating) the journal at `path`; returns it with the changes it holds, and
    /// the bytes of a damaged tail that were ignored.
    pub(super) fn open(path: &Path) -> std::io::Result<(Journal, Vec<Change>, usize)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let (changes, damaged) = decode(&data);
        let j = Journal {
            file,
            path: path.to_path_buf(),
            len: data.len() as u64,
            buf: Vec::new(),
        };
        Ok((j, changes, damaged))
    }

    /// Where the journal is.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `changes` with one write.
    pub(super) fn append<'a>(
        &mut self,
        changes: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    ) -> std::io::Result<()> {
        self.buf.clear();
        for (k, v) in changes {
            encode(&mut self.buf, k, v);
        }
        self.file.write_all(&self.buf)?;
        self.len += self.buf.len() as u64;
        Ok(())
    }

    /// Whether it has grown enough to be emptied.
    pub(super) fn wants_checkpoint(&self) -> bool {
        self.len >= COMPACT_AT
    }

    /// Empties the journal; the caller has made sled durable first.
    pub(super) fn truncate(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.len = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_ignored() {
        let mut buf = Vec::new();
        encode(&mut buf, b"a", Some(b"{\"int\":\"1\"}"));
        encode(&mut buf, b"gone", None);
        encode(&mut buf, b"b", Some(b""));
        let whole = buf.len();
        encode(&mut buf, b"torn", Some(b"value"));
        let (changes, damaged) = decode(&buf[..buf.len() - 3]);
        assert_eq!(
            changes,
            vec![
                (b"a".to_vec(), Some(b"{\"int\":\"1\"}".to_vec())),
                (b"gone".to_vec(), None),
                (b"b".to_vec(), Some(Vec::new())),
            ]
        );
        assert_eq!(damaged, buf.len() - 3 - whole);
    }

    #[test]
    fn a_bad_checksum_ends_the_replay() {
        let mut buf = Vec::new();
        encode(&mut buf, b"a", Some(b"1"));
        let first = buf.len();
        encode(&mut buf, b"b", Some(b"2"));
        encode(&mut buf, b"c", Some(b"3"));
        buf[first + 10] ^= 0xff;
        let (changes, damaged) = decode(&buf);
        assert_eq!(changes.len(), 1);
        assert_eq!(damaged, buf.len() - first);
    }

    proptest::proptest! {
        #[test]
        fn any_prefix_decodes_to_a_prefix_of_the_changes(
            changes in proptest::collection::vec(
                (proptest::collection::vec(0u8..=255, 0..20),
                 proptest::option::of(proptest::collection::vec(0u8..=255, 0..40))),
                0..8),
            cut in 0usize..400,
        ) {
            let mut buf = Vec::new();
            for (k, v) in &changes {
                encode(&mut buf, k, v.as_deref());
            }
            let cut = cut.min(buf.len());
            let (got, _) = decode(&buf[..cut]);
            proptest::prop_assert!(got.len() <= changes.len());
            proptest::prop_assert_eq!(&got[..], &changes[..got.len()]);
        }
    }
}
