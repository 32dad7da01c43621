//! Opening a destination file as syslog-ng 3.38 does (its `file-opener.c`, `file-perms.c`,
//! `affile-dest.c`; every rule below was checked by running it):
//!
//! - a name containing `../` or `/..` is refused ("Spurious path, logfile not created"), so
//!   a macro value such as a HOST of `..` cannot climb out of the directory; nothing else is
//!   changed in a rendered name (a `/` inside a value makes a subdirectory);
//! - `overwrite-if-older(N)`: a file last modified more than N seconds ago is deleted first;
//! - `create-dirs(yes)`: each missing directory is made with `dir-perm()` and then given
//!   `dir-owner()`/`dir-group()`/`dir-perm()` explicitly (so the umask does not matter);
//! - the file is opened for appending, created with `perm()` (0600 when unset), and then —
//!   every time it is opened, created or not — given `owner()`, `group()` and `perm()`, except
//!   under `/dev`. Changing the owner is best effort: only root may, and syslog-ng run as a
//!   user silently goes on;
//! - `symlink-as()`: after each open the link is pointed at the file (left alone when it
//!   already is; a name that exists and is not a symlink is an error and left alone).
//!
//! Errors are logged with syslog-ng's messages; the caller retries after `time-reopen()`.

use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How files (and their directories and symlink) are opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenPlan {
    pub create_dirs: bool,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    /// `perm()`; `None` (`perm()` empty) creates with 0600 and changes nothing.
    pub perm: Option<u32>,
    pub dir_owner: Option<u32>,
    pub dir_group: Option<u32>,
    /// `dir-perm()`; `None` creates with 0700 and changes nothing.
    pub dir_perm: Option<u32>,
    /// Seconds; 0 off.
    pub overwrite_if_older: u32,
    pub symlink_as: Option<PathBuf>,
}

/// A file opened for writing, with what identifies it on disk (to notice when the name
/// comes to mean another file, or none: rotation).
#[derive(Debug)]
pub struct Opened {
    pub file: File,
    pub id: FileId,
}

/// Device and inode.
pub type FileId = (u64, u64);

/// Why a file could not be opened (already logged).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("spurious path")]
    Spurious,
    #[error("{}", os_error(.0))]
    Io(#[from] io::Error),
}

pub use crate::actors::os_error::os_error;

/// syslog-ng's check: a name with `../` or `/..` in it is not opened.
pub fn is_spurious(name: &[u8]) -> bool {
    memchr::memmem::find(name, b"../").is_some() || memchr::memmem::find(name, b"/..").is_some()
}

impl OpenPlan {
    /// Opens `name` for appending (see the module doc for every step); `template` is the
    /// configured name, for the log.
    pub fn open(&self, name: &Path, template: &str) -> Result<Opened, OpenError> {
        let shown = name.display();
        if is_spurious(name.as_os_str().as_bytes()) {
            tracing::error!(path = %shown, "Spurious path, logfile not created");
            return Err(OpenError::Spurious);
        }
        tracing::debug!(template = %template, filename = %shown,
            symlink_as = %self.symlink_as.as_deref().map_or("(null)".into(), |p| p.display().to_string()),
            "Initializing destination file writer");
        if self.overwrite_if_older > 0 && self.is_older(name) {
            tracing::info!(filename = %shown, overwrite_if_older = self.overwrite_if_older,
                "Destination file is older than overwrite_if_older(), overwriting");
            let _ = std::fs::remove_file(name);
        }
        let opened = self
            .create_containing_dir(name)
            .and_then(|()| self.open_file(name));
        opened.map_err(|e| {
            tracing::error!(filename = %shown, error = %os_error(&e),
                "Error opening file for writing");
            OpenError::Io(e)
        })
    }

    fn is_older(&self, name: &Path) -> bool {
        let limit = Duration::from_secs(u64::from(self.overwrite_if_older));
        std::fs::metadata(name)
            .and_then(|m| m.modified())
            .is_ok_and(|mtime| {
                SystemTime::now()
                    .duration_since(mtime)
                    .is_ok_and(|age| age > limit)
            })
    }

    fn open_file(&self, name: &Path) -> io::Result<Opened> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(self.perm.unwrap_or(0o600))
            .custom_flags(libc::O_NOCTTY)
            .open(name)?;
        if !name.as_os_str().as_bytes().starts_with(b"/dev") {
            // Best effort, as syslog-ng: the results are not checked.
            let _ = std::os::unix::fs::fchown(&file, self.owner, None);
            let _ = std::os::unix::fs::fchown(&file, None, self.group);
            if let Some(perm) = self.perm {
                use std::os::unix::fs::PermissionsExt;
                let _ = file.set_permissions(std::fs::Permissions::from_mode(perm));
            }
        }
        let m = file.metadata()?;
        Ok(Opened {
            file,
            id: (m.dev(), m.ino()),
        })
    }

    /// With `create-dirs(yes)`, makes the missing directories leading to `name`, each given
    /// the directory owner, group and mode.
    fn create_containing_dir(&self, name: &Path) -> io::Result<()> {
        if !self.create_dirs {
            return Ok(());
        }
        let Some(parent) = name.parent().filter(|p| !p.as_os_str().is_empty()) else {
            return Ok(());
        };
        match std::fs::metadata(parent) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => {}
        }
        let bytes = name.as_os_str().as_bytes();
        // Every prefix ending before a `/` (not the leading one), as syslog-ng walks them.
        for (i, _) in bytes
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, c)| **c == b'/')
        {
            let dir = Path::new(std::ffi::OsStr::from_bytes(&bytes[..i]));
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => continue,
                Ok(_) => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                Err(_) => {}
            }
            let mut b = std::fs::DirBuilder::new();
            std::os::unix::fs::DirBuilderExt::mode(&mut b, self.dir_perm.unwrap_or(0o700));
            match b.create(dir) {
                Ok(()) => {}
                // Made meanwhile (another destination): fine.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            let _ = std::os::unix::fs::chown(dir, self.dir_owner, None);
            let _ = std::os::unix::fs::chown(dir, None, self.dir_group);
            if let Some(perm) = self.dir_perm {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(perm));
            }
        }
        Ok(())
    }

    /// Points the `symlink-as()` link at `target` (just opened), as syslog-ng does after
    /// every open.
    pub fn update_symlink(&self, target: &Path) {
        let Some(link) = self.symlink_as.as_deref() else {
            return;
        };
        match std::fs::read_link(link) {
            Ok(old) if old == target => return,
            Ok(_) => {
                if let Err(e) = std::fs::remove_file(link) {
                    tracing::error!(filename = %link.display(), error = %os_error(&e),
                        "Error removing symlink");
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                // GLib's g_file_read_link() wording, which syslog-ng prints.
                let message = format!(
                    "Failed to read the symbolic link \u{201c}{}\u{201d}: {}",
                    link.display(),
                    strerror(&e)
                );
                tracing::error!(filename = %link.display(), message = %message,
                    "Error checking symlink");
                return;
            }
        }
        if let Err(e) = self.create_containing_dir(link) {
            tracing::error!(filename = %link.display(), error = %os_error(&e),
                "Error creating symlink");
            return;
        }
        tracing::info!(filename = %link.display(), target = %target.display(),
            "Creating symlink");
        if let Err(e) = std::os::unix::fs::symlink(target, link) {
            tracing::error!(filename = %link.display(), error = %os_error(&e),
                "Error creating symlink");
            return;
        }
        if self.owner.is_some() || self.group.is_some() {
            match std::os::unix::fs::lchown(link, self.owner, self.group) {
                // A user may not give a link away; syslog-ng run as one says nothing either.
                Err(e) if e.raw_os_error() != Some(libc::EPERM) => {
                    tracing::error!(filename = %link.display(), error = %os_error(&e),
                        "Error setting symlink ownership");
                }
                _ => {}
            }
        }
    }
}

/// The text of an OS error without its number.
fn strerror(e: &io::Error) -> String {
    let s = os_error(e);
    match (e.raw_os_error(), s.rfind(" (")) {
        (Some(_), Some(i)) => s[..i].to_string(),
        _ => s,
    }
}

/// The identity of whatever `name` names now (`None`: nothing, or it cannot be told).
pub fn current_id(name: &Path) -> Option<FileId> {
    std::fs::metadata(name).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode_of(p: &Path) -> u32 {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0)
    }

    #[test]
    fn spurious_names_as_syslog_ng() {
        for bad in ["/a/../b", "../x", "/a/..", "/a/...log", "a/../../x"] {
            assert!(is_spurious(bad.as_bytes()), "{bad}");
        }
        for good in ["/a/b..c", "/a/.hidden", "/a/b/c.log", "a..b", "/a/x.."] {
            assert!(!is_spurious(good.as_bytes()), "{good}");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let name = dir.path().join("x/../y.log");
        let e = OpenPlan::default().open(&name, "t").err();
        assert!(matches!(e, Some(OpenError::Spurious)));
        assert!(!dir.path().join("y.log").exists());
    }

    #[test]
    fn errors_print_like_errno() {
        let e = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(os_error(&e), "Permission denied (13)");
        assert_eq!(strerror(&e), "Permission denied");
        let e = io::Error::from_raw_os_error(libc::EISDIR);
        assert_eq!(os_error(&e), "Is a directory (21)");
    }

    #[test]
    fn creates_dirs_and_file_with_exact_modes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plan = OpenPlan {
            create_dirs: true,
            perm: Some(0o666),
            dir_perm: Some(0o777),
            ..OpenPlan::default()
        };
        let name = dir.path().join("a/b/c.log");
        let mut o = plan.open(&name, "t").expect("opens");
        o.file.write_all(b"x\n").expect("write");
        // The umask does not apply: modes are set explicitly.
        assert_eq!(mode_of(&name), 0o666);
        assert_eq!(mode_of(&dir.path().join("a")), 0o777);
        assert_eq!(mode_of(&dir.path().join("a/b")), 0o777);
        assert_eq!(current_id(&name), Some(o.id));
    }

    #[test]
    fn perm_applies_to_an_existing_file_too_and_empty_perm_keeps_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = dir.path().join("f.log");
        std::fs::write(&name, b"old\n").expect("write");
        std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let keep = OpenPlan::default();
        drop(keep.open(&name, "t").expect("opens"));
        assert_eq!(mode_of(&name), 0o644);
        let plan = OpenPlan {
            perm: Some(0o640),
            ..OpenPlan::default()
        };
        drop(plan.open(&name, "t").expect("opens"));
        assert_eq!(mode_of(&name), 0o640);
        assert_eq!(std::fs::read(&name).unwrap_or_default(), b"old\n");
    }

    #[test]
    fn without_create_dirs_a_missing_dir_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = OpenPlan::default()
            .open(&dir.path().join("no/f.log"), "t")
            .err();
        match e {
            Some(OpenError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("{other:?}"),
        }
        let e = OpenPlan::default().open(dir.path(), "t").err();
        assert!(matches!(e, Some(OpenError::Io(e)) if e.raw_os_error() == Some(libc::EISDIR)));
    }

    #[test]
    fn permission_denied_as_a_user() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            return; // root may write anywhere
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500))
            .expect("chmod");
        let e = OpenPlan::default()
            .open(&dir.path().join("f.log"), "t")
            .err();
        // syslog-ng 3.38 run as a user prints a clobbered errno here ("No such file or
        // directory (2)"); the real one is more use.
        assert!(
            matches!(&e, Some(OpenError::Io(e)) if os_error(e) == "Permission denied (13)"),
            "{e:?}"
        );
        let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700));
    }

    #[test]
    fn overwrite_if_older_deletes_an_old_file_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = dir.path().join("f.log");
        std::fs::write(&name, b"old\n").expect("write");
        let plan = OpenPlan {
            overwrite_if_older: 3600,
            ..OpenPlan::default()
        };
        drop(plan.open(&name, "t").expect("opens"));
        assert_eq!(std::fs::read(&name).unwrap_or_default(), b"old\n");
        let f = File::options().write(true).open(&name).expect("open");
        f.set_modified(SystemTime::now() - Duration::from_secs(7200))
            .expect("mtime");
        drop(f);
        drop(plan.open(&name, "t").expect("opens"));
        assert_eq!(std::fs::read(&name).unwrap_or_default(), b"");
    }

    #[test]
    fn symlink_follows_the_opened_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("links/current");
        let plan = OpenPlan {
            create_dirs: true,
            symlink_as: Some(link.clone()),
            ..OpenPlan::default()
        };
        let a = dir.path().join("a.log");
        plan.update_symlink(&a);
        assert_eq!(std::fs::read_link(&link).ok(), Some(a.clone()));
        let b = dir.path().join("b.log");
        plan.update_symlink(&b);
        assert_eq!(std::fs::read_link(&link).ok(), Some(b));
        // A regular file of that name is left alone.
        let reg = dir.path().join("reg");
        std::fs::write(&reg, b"x").expect("write");
        let plan = OpenPlan {
            symlink_as: Some(reg.clone()),
            ..OpenPlan::default()
        };
        plan.update_symlink(&a);
        assert_eq!(std::fs::read(&reg).unwrap_or_default(), b"x");
    }
}
