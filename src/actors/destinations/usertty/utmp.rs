//! A reader of the utmp file (`/var/run/utmp`): the records of who is logged in on which
//! terminal, as glibc's `getutxent()` returns them to syslog-ng's `usertty()`.
//!
//! The file is an array of fixed-size `struct utmp` records in the machine's byte order;
//! glibc's layout is the same on every Linux architecture (384 bytes, 32-bit times even on
//! 64-bit machines), and a test checks the offsets used here against the `libc` crate's
//! `utmpx`. Parsing the bytes ourselves keeps `getutxent()`'s process-wide cursor (and the
//! lock syslog-ng needs around it) out of the daemon, and lets tests use a file of their own.

use std::path::Path;

/// Size of one record.
pub(crate) const RECORD: usize = 384;
/// `ut_type` of a logged-in user's session.
pub(crate) const USER_PROCESS: i16 = 7;

const TYPE_AT: usize = 0;
const LINE_AT: usize = 8;
const USER_AT: usize = 44;
/// Length of `ut_line` and of `ut_user` (neither is NUL-terminated when full).
pub(crate) const FIELD: usize = 32;

/// One record: what `usertty()` looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    pub ut_type: i16,
    /// `ut_line`, all 32 bytes: the terminal, `pts/3` (under `/dev/`) or an absolute path.
    pub line: [u8; FIELD],
    /// `ut_user`, all 32 bytes.
    pub user: [u8; FIELD],
}

fn field(rec: &[u8], at: usize) -> [u8; FIELD] {
    let mut f = [0u8; FIELD];
    if let Some(src) = rec.get(at..at + FIELD) {
        f.copy_from_slice(src);
    }
    f
}

/// The records of a utmp file's bytes. A short record at the end (a file being written) is
/// not a record, as for `getutxent()`, which stops at a short read.
pub(crate) fn parse(bytes: &[u8]) -> impl Iterator<Item = Record> + '_ {
    bytes.chunks_exact(RECORD).map(|rec| Record {
        ut_type: i16::from_ne_bytes([rec[TYPE_AT], rec[TYPE_AT + 1]]),
        line: field(rec, LINE_AT),
        user: field(rec, USER_AT),
    })
}

/// The records of the utmp file at `path`; none when it cannot be read (`getutxent()`
/// then returns nothing either, and syslog-ng writes to no terminal).
pub(crate) fn read(path: &Path) -> Vec<Record> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes).collect(),
        Err(e) => {
            tracing::debug!(file = %path.display(), error = %e, "Cannot read the utmp file");
            Vec::new()
        }
    }
}

/// The bytes of a fixed-size field up to its first NUL.
pub(crate) fn c_str(f: &[u8]) -> &[u8] {
    let end = memchr::memchr(0, f).unwrap_or(f.len());
    &f[..end]
}

impl Record {
    /// Whether the record is a session of `user` (`*`: of anyone), as syslog-ng compares
    /// them: `USER_PROCESS` records only, `strncmp(user, ut_user, 32)` (so a name longer than
    /// 32 bytes matches a full `ut_user` that is its first 32 bytes).
    pub fn matches(&self, user: &[u8]) -> bool {
        if self.ut_type != USER_PROCESS {
            return false;
        }
        if user == b"*" {
            return true;
        }
        for i in 0..FIELD {
            let a = user.get(i).copied().unwrap_or(0);
            if a != self.user[i] {
                return false;
            }
            if a == 0 {
                return true;
            }
        }
        true
    }

    /// The terminal's path: `ut_line` itself when it starts with `/`, else under `/dev/`.
    pub fn device(&self) -> std::path::PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let line = c_str(&self.line);
        let mut p = Vec::with_capacity(5 + line.len());
        if line.first() != Some(&b'/') {
            p.extend_from_slice(b"/dev/");
        }
        p.extend_from_slice(line);
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&p))
    }

    /// `ut_user` as syslog-ng names it in its messages: all 32 bytes, a NUL or any other
    /// unprintable byte shown as `.` (`user='alice...........................'`).
    pub fn user_tag(&self) -> String {
        self.user
            .iter()
            .map(|&c| {
                if (0x20..0x7f).contains(&c) {
                    c as char
                } else {
                    '.'
                }
            })
            .collect()
    }
}

/// One record's bytes (for tests here and in the driver).
#[cfg(test)]
pub(crate) fn record(ut_type: i16, user: &str, line: &str) -> Vec<u8> {
    let mut r = vec![0u8; RECORD];
    r[TYPE_AT..TYPE_AT + 2].copy_from_slice(&ut_type.to_ne_bytes());
    r[4..8].copy_from_slice(&4242i32.to_ne_bytes());
    let put = |r: &mut Vec<u8>, at: usize, s: &str| {
        let b = &s.as_bytes()[..s.len().min(FIELD)];
        r[at..at + b.len()].copy_from_slice(b);
    };
    put(&mut r, LINE_AT, line);
    put(&mut r, USER_AT, user);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn offsets_are_glibcs() {
        assert_eq!(std::mem::size_of::<libc::utmpx>(), RECORD);
        assert_eq!(std::mem::offset_of!(libc::utmpx, ut_type), TYPE_AT);
        assert_eq!(std::mem::offset_of!(libc::utmpx, ut_line), LINE_AT);
        assert_eq!(std::mem::offset_of!(libc::utmpx, ut_user), USER_AT);
        assert_eq!(std::mem::size_of::<[libc::c_char; FIELD]>(), FIELD);
    }

    #[test]
    fn reads_records_and_ignores_a_short_tail() {
        let mut bytes = record(USER_PROCESS, "root", "pts/3");
        bytes.extend(record(8, "bob", "/tmp/x"));
        bytes.extend(&[1, 2, 3]);
        let recs: Vec<Record> = parse(&bytes).collect();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].ut_type, USER_PROCESS);
        assert_eq!(c_str(&recs[0].user), b"root");
        assert_eq!(recs[0].device(), std::path::Path::new("/dev/pts/3"));
        assert_eq!(recs[1].device(), std::path::Path::new("/tmp/x"));
        assert!(read(Path::new("/nonexistent/utmp")).is_empty());
    }

    #[test]
    fn matches_as_syslog_ng() {
        let r = parse(&record(USER_PROCESS, "alice", "pts/1")).next();
        let Some(r) = r else { panic!("no record") };
        assert!(r.matches(b"alice"));
        assert!(r.matches(b"*"));
        assert!(!r.matches(b"alic"));
        assert!(!r.matches(b"alice2"));
        assert_eq!(r.user_tag(), format!("alice{}", ".".repeat(27)));
        let dead = parse(&record(8, "alice", "pts/1")).next();
        assert!(dead.is_some_and(|d| !d.matches(b"alice") && !d.matches(b"*")));
        // A full 32-byte ut_user is matched by any name that starts with it.
        let long = "a".repeat(32);
        let r = parse(&record(USER_PROCESS, &long, "pts/1")).next();
        assert!(r.is_some_and(|r| r.matches(format!("{long}xyz").as_bytes())));
    }
}
