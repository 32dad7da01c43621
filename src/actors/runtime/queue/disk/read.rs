//! The disk-buffer's read side: records from the read position, decoded in chunks.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::segment::{self, HEADER_LEN, Next, Pos};
use super::{DiskStore, Entry, Hand, READ_CHUNK, ptr};
use crate::message::serial;

impl DiskStore {
    /// Reads up to `max` records at `self.read` into `out`.
    pub(super) fn read_records(&mut self, max: usize, out: &mut Vec<Entry>) -> usize {
        let mut n = 0;
        let mut buf = Vec::new();
        while n < max && self.unread > 0 {
            let Some(seg_len) = self
                .segments
                .iter()
                .find(|s| s.id == self.read.seg)
                .map(|s| s.len)
            else {
                tracing::error!(segment = self.read.seg, "Disk-buffer segment missing");
                self.unread = 0;
                break;
            };
            if self.read.off >= seg_len {
                match self.segments.iter().find(|s| s.id > self.read.seg) {
                    Some(next) => {
                        self.read = Pos {
                            seg: next.id,
                            off: HEADER_LEN,
                        };
                        continue;
                    }
                    None => {
                        self.unread = 0;
                        break;
                    }
                }
            }
            let want = ((seg_len - self.read.off) as usize).min(READ_CHUNK);
            if !self.read_at(self.read, want, &mut buf) {
                break;
            }
            let mut at = 0;
            while n < max && self.unread > 0 {
                match segment::next_record(&buf[at..]) {
                    Next::Record(payload, len) => {
                        let len = len as u64;
                        let end = Pos {
                            seg: self.read.seg,
                            off: self.read.off + len,
                        };
                        match serial::decode(payload) {
                            Ok(msg) => {
                                let e = Entry {
                                    msg: Arc::new(msg),
                                    ack: None,
                                };
                                self.in_hand.push_back(Hand::Record {
                                    msg: ptr(&e),
                                    len,
                                    end,
                                });
                                out.push(e);
                                n += 1;
                            }
                            Err(err) => {
                                tracing::error!(error = %err, segment = %self.path(self.read.seg).display(),
                                    "Disk-buffer record cannot be read, skipped");
                                self.in_hand.push_back(Hand::Skipped { len, end });
                            }
                        }
                        self.read = end;
                        self.unread -= 1;
                        at += len as usize;
                    }
                    Next::Partial if at > 0 => break,
                    Next::Partial | Next::Damaged => {
                        // Checked at open and written whole since: only a file changed under
                        // us gets here.
                        tracing::error!(segment = %self.path(self.read.seg).display(),
                            "Disk-buffer segment damaged while running; skipping its rest");
                        self.read.off = seg_len;
                        break;
                    }
                }
            }
        }
        n
    }

    fn read_at(&mut self, at: Pos, len: usize, buf: &mut Vec<u8>) -> bool {
        if self.reader.as_ref().is_none_or(|(id, _)| *id != at.seg) {
            let path = self.path(at.seg);
            match File::open(&path) {
                Ok(f) => self.reader = Some((at.seg, f)),
                Err(e) => {
                    tracing::error!(error = %e, segment = %path.display(),
                        "Error opening a disk-buffer segment for reading");
                    return false;
                }
            }
        }
        let Some((_, f)) = &self.reader else {
            return false;
        };
        buf.resize(len, 0);
        match f.read_exact_at(buf, at.off) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "Error reading the disk-buffer");
                false
            }
        }
    }
}
