//! The persist file (`-R FILE`, default `<state dir>/sluice.persist`): state that outlives a
//! configuration and a daemon run — file positions today; Python `Persist` dictionaries,
//! bookmarks and disk-buffer file names later.
//!
//! A sled database (a directory at the persist path), opened once per daemon run and shared
//! as an `Arc<Persist>` from graph to graph, so a reload keeps it. sled takes an exclusive lock
//! on the database: a second sluice started on the same file is refused with an error naming
//! the file, rather than two daemons overwriting each other's positions (syslog-ng does not
//! lock; sluice refuses).
//!
//! Entries are typed values under a *persist name* (syslog-ng's names, such as
//! `affile_sd_curpos(/var/log/app.log)`), encoded as JSON (`serde_json`): human-readable when
//! an operator dumps the file, tolerant of a struct growing a `#[serde(default)]` field between
//! versions, and the natural form of the Python `Persist` dictionaries that come later. Values
//! are small and written at most once per batch, so a denser encoding would buy nothing.
//!
//! Every write is appended to the journal beside the database ([`journal`]: one `write()`,
//! no `fsync`) before it goes to sled's memory, so a value written before a `kill -9` is there
//! after the restart; sled reaches the disk within its flush interval (500 ms), at
//! [`Persist::flush`] (the daemon calls it when it stops), or when the journal has grown, and
//! the journal is emptied then. [`Persist::apply`] writes several entries with one journal
//! record each and one write (a crash keeps a prefix of them: a torn last record is ignored).
//! This module knows no actors: the runtime decides *when* a value may be written (e.g. a
//! file position only once the destinations acknowledged the lines before it).

mod journal;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What can go wrong with the persist file. Messages follow syslog-ng's `text; key='value'`
/// style and name the file or the entry.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The database could not be opened (not a sluice persist file, damaged, no
    /// permission...).
    #[error("Error opening persist file; filename='{}', error='{reason}'", path.display())]
    Open { path: PathBuf, reason: String },
    /// Another process holds the database (another sluice with the same `-R`).
    #[error(
        "Error opening persist file; filename='{}', error='the file is locked by another \
         process (is another sluice running with it?)'",
        path.display()
    )]
    Locked { path: PathBuf },
    /// A value could not be encoded.
    #[error("Error encoding persist entry; name='{name}', error='{source}'")]
    Encode {
        name: String,
        #[source]
        source: serde_json::Error,
    },
    /// A stored value does not decode as the type asked for.
    #[error("Error decoding persist entry; name='{name}', error='{source}'")]
    Decode {
        name: String,
        #[source]
        source: serde_json::Error,
    },
    /// The database failed a read, write or flush.
    #[error("Error accessing persist file; filename='{}', error='{source}'", path.display())]
    Store {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    /// The journal could not be written.
    #[error("Error writing persist journal; filename='{}', error='{source}'", path.display())]
    Journal {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The persist file of one daemon run.
#[derive(Debug)]
pub struct Persist {
    db: sled::Db,
    path: PathBuf,
    /// Taken around each write to the journal and sled together, so that a checkpoint
    /// (sled flushed, journal emptied) never loses a write made between the two.
    journal: Mutex<journal::Journal>,
}

/// Several writes applied together by [`Persist::apply`].
#[derive(Debug, Default)]
pub struct PersistBatch {
    changes: Vec<journal::Change>,
}

impl PersistBatch {
    /// Sets `name` to `value` when the batch is applied.
    pub fn set<T: Serialize>(&mut self, name: &str, value: &T) -> Result<(), PersistError> {
        self.changes
            .push((name.as_bytes().to_vec(), Some(encode(name, value)?)));
        Ok(())
    }

    /// Removes `name` when the batch is applied.
    pub fn remove(&mut self, name: &str) {
        self.changes.push((name.as_bytes().to_vec(), None));
    }
}

fn encode<T: Serialize>(name: &str, value: &T) -> Result<Vec<u8>, PersistError> {
    serde_json::to_vec(value).map_err(|source| PersistError::Encode {
        name: name.to_string(),
        source,
    })
}

/// sled's open errors, said for an operator.
fn open_reason(path: &Path, e: &sled::Error) -> String {
    let text = e.to_string();
    if path.is_file() {
        return format!("not a sluice persist file (a sled database directory): {text}");
    }
    text
}

impl Persist {
    /// [`Persist::open`], except that a persist file that cannot be read (foreign or
    /// damaged) is moved aside — with its journal — with a warning saying where, and a new
    /// one is started, as syslog-ng starts afresh: file positions and Python `Persist`
    /// values begin again. Another sluice holding the file is still an error, and so is a
    /// file that cannot be moved.
    pub fn open_or_start_afresh(path: &Path) -> Result<Persist, PersistError> {
        let reason = match Persist::open(path) {
            Err(PersistError::Open { reason, .. }) if path.exists() => reason,
            other => return other,
        };
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let aside = |p: &Path| {
            let mut s = p.as_os_str().to_owned();
            s.push(format!(".unreadable-{stamp}"));
            PathBuf::from(s)
        };
        let moved = aside(path);
        std::fs::rename(path, &moved).map_err(|e| PersistError::Open {
            path: path.to_path_buf(),
            reason: format!("{reason}; moving it aside failed: {e}"),
        })?;
        let journal = journal::path_for(path);
        if journal.exists() {
            let _ = std::fs::rename(&journal, aside(&journal));
        }
        tracing::warn!(filename = %path.display(), moved_to = %moved.display(), error = %reason,
            "The persist file cannot be read; it is moved aside and a new one is started \
             (file positions and Python Persist values begin again)");
        Persist::open(path)
    }

    /// Opens (creating it and its parent directories if needed) the persist file at `path`.
    pub fn open(path: &Path) -> Result<Persist, PersistError> {
        let fail = |reason: String| PersistError::Open {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let db = sled::Config::new().path(path).open().map_err(|e| {
            if e.to_string().contains("could not acquire lock") {
                PersistError::Locked {
                    path: path.to_path_buf(),
                }
            } else {
                fail(open_reason(path, &e))
            }
        })?;
        // After sled: its lock keeps a second daemon away from the journal too.
        let journal_path = journal::path_for(path);
        let (journal, changes, damaged) = journal::Journal::open(&journal_path)
            .map_err(|e| fail(format!("journal {}: {e}", journal_path.display())))?;
        if damaged > 0 {
            tracing::warn!(
                filename = %journal_path.display(),
                bytes = damaged,
                "The persist journal ends with a damaged record (a write cut short by a \
                 crash); it is ignored, the records before it are kept"
            );
        }
        let p = Persist {
            db,
            path: path.to_path_buf(),
            journal: Mutex::new(journal),
        };
        if !changes.is_empty() {
            p.db.apply_batch(sled_batch(&changes))
                .map_err(|e| fail(e.to_string()))?;
        }
        p.checkpoint(&mut p.lock_journal())?;
        Ok(p)
    }

    fn lock_journal(&self) -> std::sync::MutexGuard<'_, journal::Journal> {
        // A panic mid-write leaves at worst a torn record, which replay ignores.
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes sled durable and empties the journal (the caller holds the journal lock).
    fn checkpoint(&self, j: &mut journal::Journal) -> Result<(), PersistError> {
        self.db.flush().map_err(|e| self.store_err(e))?;
        j.truncate().map_err(|source| PersistError::Journal {
            path: j.path().to_path_buf(),
            source,
        })
    }

    /// Journals `changes` (one write), then applies them to sled.
    fn write(&self, changes: &[journal::Change]) -> Result<(), PersistError> {
        let mut j = self.lock_journal();
        j.append(changes.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))
            .map_err(|source| PersistError::Journal {
                path: j.path().to_path_buf(),
                source,
            })?;
        match changes {
            [(k, Some(v))] => self.db.insert(k, v.as_slice()).map(drop),
            [(k, None)] => self.db.remove(k).map(drop),
            _ => self.db.apply_batch(sled_batch(changes)),
        }
        .map_err(|e| self.store_err(e))?;
        if j.wants_checkpoint() {
            self.checkpoint(&mut j)?;
        }
        Ok(())
    }

    /// Where the persist file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn store_err(&self, source: sled::Error) -> PersistError {
        PersistError::Store {
            path: self.path.clone(),
            source,
        }
    }

    /// The value stored under `name`, if any.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, PersistError> {
        let Some(bytes) = self.db.get(name).map_err(|e| self.store_err(e))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| PersistError::Decode {
                name: name.to_string(),
                source,
            })
    }

    /// Stores `value` under `name`, replacing what was there; on disk (the journal) when
    /// it returns.
    pub fn set<T: Serialize>(&self, name: &str, value: &T) -> Result<(), PersistError> {
        let bytes = encode(name, value)?;
        self.write(&[(name.as_bytes().to_vec(), Some(bytes))])
    }

    /// Removes `name`; whether it was there.
    pub fn remove(&self, name: &str) -> Result<bool, PersistError> {
        let was = self.db.contains_key(name).map_err(|e| self.store_err(e))?;
        if was {
            self.write(&[(name.as_bytes().to_vec(), None)])?;
        }
        Ok(was)
    }

    /// The names stored, in byte order (names that are not UTF-8 are skipped).
    pub fn names(&self) -> Result<Vec<String>, PersistError> {
        let mut out = Vec::new();
        for kv in self.db.iter() {
            let (k, _) = kv.map_err(|e| self.store_err(e))?;
            if let Ok(s) = std::str::from_utf8(&k) {
                out.push(s.to_string());
            }
        }
        Ok(out)
    }

    /// The names starting with `prefix`, in byte order.
    pub fn names_with_prefix(&self, prefix: &str) -> Result<Vec<String>, PersistError> {
        let mut out = Vec::new();
        for kv in self.db.scan_prefix(prefix) {
            let (k, _) = kv.map_err(|e| self.store_err(e))?;
            if let Ok(s) = std::str::from_utf8(&k) {
                out.push(s.to_string());
            }
        }
        Ok(out)
    }

    /// Applies every write of `batch` (one journal write).
    pub fn apply(&self, batch: PersistBatch) -> Result<(), PersistError> {
        if batch.changes.is_empty() {
            return Ok(());
        }
        self.write(&batch.changes)
    }

    /// Writes everything stored so far into the database files and waits for it.
    pub fn flush(&self) -> Result<(), PersistError> {
        self.checkpoint(&mut self.lock_journal())
    }
}

fn sled_batch(changes: &[journal::Change]) -> sled::Batch {
    let mut b = sled::Batch::default();
    for (k, v) in changes {
        match v {
            Some(v) => b.insert(k.as_slice(), v.as_slice()),
            None => b.remove(k.as_slice()),
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Pos {
        pos: u64,
        inode: u64,
    }

    #[test]
    fn values_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state/sluice.persist");
        {
            let p = Persist::open(&path).expect("open");
            p.set("affile_sd_curpos(/x)", &Pos { pos: 10, inode: 7 })
                .expect("set");
            p.set("py.dict", &serde_json::json!({"a": [1, 2]}))
                .expect("set");
            assert_eq!(
                p.get::<Pos>("affile_sd_curpos(/x)").expect("get"),
                Some(Pos { pos: 10, inode: 7 })
            );
            p.flush().expect("flush");
        }
        // sled releases its file lock when its background threads have finished, a moment
        // after the handle is dropped: wait for it (bounded).
        let mut reopened = Persist::open(&path);
        for _ in 0..500 {
            if reopened.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            reopened = Persist::open(&path);
        }
        let p = reopened.expect("reopen");
        assert_eq!(
            p.get::<Pos>("affile_sd_curpos(/x)").expect("get"),
            Some(Pos { pos: 10, inode: 7 })
        );
        assert_eq!(
            p.names().expect("names"),
            vec!["affile_sd_curpos(/x)", "py.dict"]
        );
        assert_eq!(p.get::<Pos>("missing").expect("get"), None);
        assert!(p.remove("py.dict").expect("remove"));
        assert!(!p.remove("py.dict").expect("remove"));
    }

    /// Opens `path`, waiting (bounded) for a dropped handle's sled threads to let it go.
    fn reopen(path: &Path) -> Persist {
        let mut reopened = Persist::open(path);
        for _ in 0..500 {
            if reopened.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            reopened = Persist::open(path);
        }
        reopened.expect("reopen")
    }

    #[test]
    fn what_the_journal_holds_is_replayed_at_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sluice.persist");
        drop(Persist::open(&path).expect("open"));
        // What a daemon killed before sled's flush leaves: records only in the journal,
        // the last one torn.
        {
            let (mut j, _, _) = journal::Journal::open(&journal::path_for(&path)).expect("journal");
            j.append([(&b"pos"[..], Some(&b"42"[..])), (&b"gone"[..], None)])
                .expect("append");
        }
        let torn = [9u8, 0, 0, 0, 1, 2];
        let mut data = std::fs::read(journal::path_for(&path)).expect("read");
        data.extend_from_slice(&torn);
        std::fs::write(journal::path_for(&path), &data).expect("write");
        let p = reopen(&path);
        assert_eq!(p.get::<u32>("pos").expect("get"), Some(42));
        assert_eq!(
            std::fs::metadata(journal::path_for(&path))
                .map(|m| m.len())
                .ok(),
            Some(0),
            "the journal is emptied once sled holds its records"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error_naming_the_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = Persist::open(&dir.path().join("p")).expect("open");
        p.set("n", &"text").expect("set");
        let e = p.get::<Pos>("n").err().map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.starts_with("Error decoding persist entry; name='n'")),
            "{e:?}"
        );
    }

    #[test]
    fn batches_apply_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = Persist::open(&dir.path().join("p")).expect("open");
        p.set("gone", &1).expect("set");
        let mut b = PersistBatch::default();
        b.set("a", &1).expect("batch set");
        b.set("b", &2).expect("batch set");
        b.remove("gone");
        p.apply(b).expect("apply");
        assert_eq!(p.names().expect("names"), vec!["a", "b"]);
        assert_eq!(p.get::<u32>("b").expect("get"), Some(2));
    }

    #[test]
    fn a_second_open_of_the_same_file_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sluice.persist");
        let _first = Persist::open(&path).expect("open");
        let e = Persist::open(&path).err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(e.contains(&format!("filename='{}'", path.display())), "{e}");
        assert!(e.contains("locked by another process"), "{e}");
    }

    #[test]
    fn a_plain_file_in_the_way_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("syslog-ng.persist");
        std::fs::write(&path, b"SLP4").expect("write");
        let e = Persist::open(&path).err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(
            e.starts_with("Error opening persist file; filename="),
            "{e}"
        );
        assert!(e.contains("not a sluice persist file"), "{e}");
    }

    #[test]
    fn an_unreadable_persist_file_is_moved_aside_and_a_new_one_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("syslog-ng.persist");
        std::fs::write(&path, b"SLP4").expect("write");
        let p = Persist::open_or_start_afresh(&path).expect("afresh");
        p.set("k", &1u32).expect("set");
        let moved: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("syslog-ng.persist.unreadable-"))
            .collect();
        assert_eq!(moved.len(), 1, "{moved:?}");
        let kept = std::fs::read(dir.path().join(&moved[0])).expect("kept");
        assert_eq!(kept, b"SLP4", "the old file is kept as it was");
        // A second daemon on the same file is still refused.
        assert!(matches!(
            Persist::open_or_start_afresh(&path),
            Err(PersistError::Locked { .. })
        ));
        drop(p);
    }
}
