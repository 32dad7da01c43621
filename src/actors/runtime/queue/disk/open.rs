//! Opening a disk-buffer: the segments from the saved position on are scanned, a damaged
//! or torn rest is moved aside, and the store starts where the previous run stopped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use super::inspect;
use super::segment::{self, DiskError, HEADER_LEN, Pos, io};
use super::{DiskOptions, DiskStore, Seg};

impl DiskStore {
    pub(super) fn open_files(opts: DiskOptions) -> Result<DiskStore, DiskError> {
        let (dir, base) = (opts.dir.clone(), opts.base.clone());
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let ids = segment::list_segments(&dir, &base)?;
        let pos_path = segment::position_path(&dir, &base);
        let saved = segment::read_position(&pos_path);
        let first = ids.first().copied().unwrap_or(0);
        let mut head = saved.filter(|p| ids.contains(&p.seg)).unwrap_or(Pos {
            seg: first,
            off: HEADER_LEN,
        });
        let mut segments = VecDeque::new();
        let (mut unread, mut used) = (0, 0);
        for &id in &ids {
            let path = segment::segment_path(&dir, &base, id);
            if id < head.seg {
                // Wholly acknowledged before the last run ended.
                std::fs::remove_file(&path).map_err(io(&path))?;
                continue;
            }
            let start = if id == head.seg { head.off } else { HEADER_LEN };
            match scan(&path, start) {
                Ok((count, good)) => {
                    if id == head.seg && head.off > good {
                        head.off = good;
                    }
                    unread += count;
                    used += good.saturating_sub(start);
                    segments.push_back(Seg { id, len: good });
                }
                Err(e) => {
                    let aside = set_aside(&path);
                    tracing::error!(error = %e, moved_to = %aside.display(),
                        "Error opening a disk-buffer segment, moved aside");
                    if id == head.seg {
                        head = Pos {
                            seg: id + 1,
                            off: HEADER_LEN,
                        };
                    }
                }
            }
        }
        let tail = match segments.back() {
            Some(s) => segment::open_segment(&segment::segment_path(&dir, &base, s.id))?,
            None => {
                let id = ids.last().map_or(0, |l| l + 1).max(head.seg);
                head = Pos {
                    seg: id,
                    off: HEADER_LEN,
                };
                segments.push_back(Seg {
                    id,
                    len: HEADER_LEN,
                });
                segment::create_segment(&segment::segment_path(&dir, &base, id))?
            }
        };
        if head.seg < segments.front().map_or(head.seg, |s| s.id) {
            head = Pos {
                seg: segments.front().map_or(0, |s| s.id),
                off: HEADER_LEN,
            };
        }
        let positions = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&pos_path)
            .map_err(io(&pos_path))?;
        segment::write_position(&positions, &pos_path, head)?;
        if unread > 0 {
            tracing::info!(buffer = %segment::segment_path(&dir, &base, head.seg).display(),
                messages = unread, "Disk-buffer opened with messages from the previous run");
        }
        Ok(DiskStore {
            opts,
            segments,
            tail,
            positions,
            head,
            read: head,
            unread,
            used,
            in_hand: VecDeque::new(),
            front: VecDeque::new(),
            mem: VecDeque::new(),
            overflow: VecDeque::new(),
            broken: false,
            reader: None,
            scratch: Vec::new(),
            record: Vec::new(),
        })
    }
}

/// Counts the whole records of segment `path` from `start`; returns (records, end of the
/// last whole one). A damaged or torn rest is moved aside and the segment cut there.
fn scan(path: &Path, start: u64) -> Result<(usize, u64), DiskError> {
    let f = segment::open_segment(path)?;
    let bytes = std::fs::read(path).map_err(io(path))?;
    let (count, good, health) = inspect::walk(&bytes, start, |_| {});
    if health != inspect::Health::Ok {
        let aside = damaged_path(path);
        let saved = std::fs::write(&aside, &bytes[good as usize..]);
        tracing::error!(segment = %path.display(), moved_to = %aside.display(),
            bytes = bytes.len() as u64 - good, records_kept = count, saved = saved.is_ok(),
            "Disk-buffer segment damaged: the readable records are delivered, the rest is moved aside");
        f.set_len(good).map_err(io(path))?;
    }
    Ok((count, good))
}

fn damaged_path(path: &Path) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".damaged-{stamp}"));
    PathBuf::from(p)
}

/// Renames a segment that cannot be used out of the buffer's way.
fn set_aside(path: &Path) -> PathBuf {
    let aside = damaged_path(path);
    if let Err(e) = std::fs::rename(path, &aside) {
        tracing::error!(error = %e, segment = %path.display(), "Error moving a segment aside");
    }
    aside
}
