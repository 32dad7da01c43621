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
//! Writes go to sled's memory at once and reach the disk within its flush interval (500 ms) or
//! at [`Persist::flush`], which the daemon calls when it stops. [`Persist::apply`] writes several
//! entries atomically (all or none survive a crash). This module knows no actors: the runtime
//! decides *when* a value may be written (e.g. a file position only once the destinations
//! acknowledged the lines before it).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What can go wrong with the persist file. Messages follow syslog-ng's `text; key='value'`
/// style and name the file or the entry.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The database could not be opened (locked by another process, not a sluice persist
    /// file, no permission...).
    #[error("Error opening persist file; filename='{}', error='{reason}'", path.display())]
    Open { path: PathBuf, reason: String },
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
}

/// The persist file of one daemon run.
#[derive(Debug)]
pub struct Persist {
    db: sled::Db,
    path: PathBuf,
}

/// Several writes applied together by [`Persist::apply`].
#[derive(Debug, Default)]
pub struct PersistBatch {
    batch: sled::Batch,
}

impl PersistBatch {
    /// Sets `name` to `value` when the batch is applied.
    pub fn set<T: Serialize>(&mut self, name: &str, value: &T) -> Result<(), PersistError> {
        self.batch.insert(name.as_bytes(), encode(name, value)?);
        Ok(())
    }

    /// Removes `name` when the batch is applied.
    pub fn remove(&mut self, name: &str) {
        self.batch.remove(name.as_bytes());
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
    if text.contains("could not acquire lock") {
        return "the file is locked by another process (is another sluice running with it?)"
            .to_string();
    }
    if path.is_file() {
        return format!("not a sluice persist file (a sled database directory): {text}");
    }
    text
}

impl Persist {
    /// Opens (creating it and its parent directories if needed) the persist file at `path`.
    pub fn open(path: &Path) -> Result<Persist, PersistError> {
        let fail = |reason: String| PersistError::Open {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let db = sled::Config::new()
            .path(path)
            .open()
            .map_err(|e| fail(open_reason(path, &e)))?;
        Ok(Persist {
            db,
            path: path.to_path_buf(),
        })
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

    /// Stores `value` under `name`, replacing what was there.
    pub fn set<T: Serialize>(&self, name: &str, value: &T) -> Result<(), PersistError> {
        let bytes = encode(name, value)?;
        self.db
            .insert(name, bytes)
            .map(drop)
            .map_err(|e| self.store_err(e))
    }

    /// Removes `name`; whether it was there.
    pub fn remove(&self, name: &str) -> Result<bool, PersistError> {
        self.db
            .remove(name)
            .map(|old| old.is_some())
            .map_err(|e| self.store_err(e))
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

    /// Applies every write of `batch` atomically.
    pub fn apply(&self, batch: PersistBatch) -> Result<(), PersistError> {
        self.db
            .apply_batch(batch.batch)
            .map_err(|e| self.store_err(e))
    }

    /// Writes everything stored so far to disk and waits for it.
    pub fn flush(&self) -> Result<(), PersistError> {
        self.db.flush().map(drop).map_err(|e| self.store_err(e))
    }
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
}
