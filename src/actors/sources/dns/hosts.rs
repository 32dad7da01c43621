//! `dns-cache-hosts()`: a hosts-format file whose names are used before DNS is asked, read
//! again when it changes. As syslog-ng: the file is looked at (a `stat`) at most once a
//! second, re-read when its modification time changed, and a file that is gone takes its
//! names with it; each line is an address and a name (further names, aliases, are ignored).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// How often the file is looked at.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// The hosts file could not be read (logged; its names are dropped).
#[derive(Debug, thiserror::Error)]
#[error("Error loading dns cache hosts file; filename='{}', error='{source}'", path.display())]
pub struct HostsError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The names of a hosts file's text: `address name [alias...]` per line, `#` to the end of
/// the line a comment. A line whose address does not parse is skipped; for an address given
/// twice the last line wins (syslog-ng replaces as it reads).
pub fn parse(text: &str) -> HashMap<IpAddr, Arc<str>> {
    let mut names = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(addr), Some(name)) = (words.next(), words.next()) else {
            continue;
        };
        if let Ok(ip) = addr.parse::<IpAddr>() {
            names.insert(ip, Arc::from(name));
        }
    }
    names
}

/// What to do with the cache's hosts names after a look at the file.
#[derive(Debug)]
pub enum Refresh {
    /// Same file as last time.
    Unchanged,
    /// New names (empty when the file is gone or unreadable).
    Replace(HashMap<IpAddr, Arc<str>>),
}

/// When the hosts file was last looked at, and what it was like.
#[derive(Debug, Default)]
pub struct HostsFile {
    path: Option<PathBuf>,
    checked: Option<Instant>,
    /// Modification time of the file last read; `None` when none was read.
    mtime: Option<SystemTime>,
}

impl HostsFile {
    /// Uses `path` from now on (a configuration started). Another path is read at the next
    /// lookup; the same path is kept as it is.
    pub fn set_path(&mut self, path: Option<PathBuf>) -> bool {
        if self.path == path {
            return false;
        }
        *self = HostsFile {
            path,
            ..HostsFile::default()
        };
        true
    }

    /// Whether the file is due a look at `now`; if so, it counts as looked at, and the path
    /// and the modification time it was read with are returned for [`look`].
    pub fn due(&mut self, now: Instant) -> Option<(Option<PathBuf>, Option<SystemTime>)> {
        if self.checked.is_some_and(|t| now < t + CHECK_EVERY) {
            return None;
        }
        self.checked = Some(now);
        Some((self.path.clone(), self.mtime))
    }

    /// Records what [`look`] read from `path`, unless the path changed meanwhile.
    pub fn read(&mut self, path: Option<&Path>, mtime: Option<SystemTime>) -> bool {
        if self.path.as_deref() != path {
            return false;
        }
        self.mtime = mtime;
        true
    }
}

/// Looks at the file at `path` (read last with modification time `known`): the new
/// modification time and what to do with the names. Blocking, but cheap unless the file
/// changed (one `stat`).
pub fn look(
    path: Option<&Path>,
    known: Option<SystemTime>,
) -> (Option<SystemTime>, Refresh, Option<HostsError>) {
    let Some(path) = path else {
        return (None, Refresh::Unchanged, None);
    };
    let Ok(mtime) = std::fs::metadata(path).and_then(|m| m.modified()) else {
        // Gone (or not ours to see): its names go, and it is read again once it is back.
        let refresh = if known.is_some() {
            Refresh::Replace(HashMap::new())
        } else {
            Refresh::Unchanged
        };
        return (None, refresh, None);
    };
    if known == Some(mtime) {
        return (known, Refresh::Unchanged, None);
    }
    match std::fs::read(path) {
        Ok(bytes) => (
            Some(mtime),
            Refresh::Replace(parse(&String::from_utf8_lossy(&bytes))),
            None,
        ),
        Err(source) => (
            Some(mtime),
            Refresh::Replace(HashMap::new()),
            Some(HostsError {
                path: path.to_path_buf(),
                source,
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_give_an_address_and_its_first_name() {
        let names = parse(
            "# comment\n\n127.0.0.1\tlocalhost loopback\n::1 ip6-localhost # trailing\n\
             not-an-address name\n10.0.0.1\n10.0.0.2 first\n10.0.0.2 second\n",
        );
        let get = |a: &str| {
            a.parse::<IpAddr>()
                .ok()
                .and_then(|ip| names.get(&ip))
                .map(|n| n.to_string())
        };
        assert_eq!(names.len(), 3);
        assert_eq!(get("127.0.0.1").as_deref(), Some("localhost"));
        assert_eq!(get("::1").as_deref(), Some("ip6-localhost"));
        assert_eq!(get("10.0.0.2").as_deref(), Some("second"));
    }

    #[tokio::test(start_paused = true)]
    async fn the_file_is_looked_at_once_a_second_and_read_when_it_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hosts");
        let mut h = HostsFile::default();
        assert!(h.set_path(Some(path.clone())));
        assert!(!h.set_path(Some(path.clone())));
        let t0 = Instant::now();
        // Not there yet: nothing to replace.
        let (p, known) = h.due(t0).expect("first look");
        let (mtime, r, e) = look(p.as_deref(), known);
        assert!(matches!(r, Refresh::Unchanged) && e.is_none() && mtime.is_none());
        assert!(h.read(p.as_deref(), mtime));
        std::fs::write(&path, "10.0.0.1 one\n").expect("write");
        assert!(h.due(t0 + Duration::from_millis(999)).is_none());
        let (p, known) = h.due(t0 + CHECK_EVERY).expect("a second later");
        let (mtime, r, _) = look(p.as_deref(), known);
        assert!(matches!(&r, Refresh::Replace(n) if n.len() == 1));
        h.read(p.as_deref(), mtime);
        // Unchanged file: not read again.
        let (p, known) = h.due(t0 + CHECK_EVERY * 2).expect("again");
        assert!(matches!(look(p.as_deref(), known).1, Refresh::Unchanged));
        // Gone: its names go.
        std::fs::remove_file(&path).expect("remove");
        let (p, known) = h.due(t0 + CHECK_EVERY * 3).expect("again");
        assert!(matches!(look(p.as_deref(), known).1, Refresh::Replace(n) if n.is_empty()));
    }
}
