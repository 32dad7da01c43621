//! The socket file of a `unix-stream()` or `unix-dgram()` source: created as syslog-ng 3.38
//! does, and removed when the source stops for good.
//!
//! Checked against syslog-ng 3.38: a *socket* already at the path (left by a daemon that
//! died) is removed before binding; any other file there is left alone and binding fails
//! ("Address already in use"). Missing directories are created only with `create-dirs(yes)`
//! (the driver's, else the global one), each with `dir-perm()` or 0700 (the global
//! `dir-perm()` does not apply), owned by `dir-owner()`/`dir-group()`. The socket gets
//! `perm()` or 0666 (the global `perm()` does not apply) and `owner()`/`group()`, best effort
//! (only root may give files away).
//!
//! syslog-ng leaves the file behind when it exits; sluice removes it when the source stops
//! for good ([`SocketFile`]'s drop), but not on reload: the graph hands the open socket to the
//! next one, so clients never find the path missing or refused.

use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::global_options::FileMode;

/// How to create one socket file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketFilePlan {
    pub path: PathBuf,
    pub create_dirs: bool,
    pub owner: Option<u32>,
    pub group: Option<u32>,
    /// `perm()`; `None` (`perm()` given empty) leaves what `bind()` made.
    pub perm: Option<u32>,
    pub dir_owner: Option<u32>,
    pub dir_group: Option<u32>,
    pub dir_perm: u32,
    /// `so-rcvbuf()`.
    pub so_rcvbuf: Option<u32>,
    /// `optional(yes)`: a socket that cannot be created is reported, and the source skipped.
    pub optional: bool,
}

/// The mode of a socket file when `perm()` is not given.
pub const DEFAULT_SOCKET_PERM: u32 = 0o666;

/// The mode of directories `create-dirs()` makes when `dir-perm()` is not given.
pub const DEFAULT_DIR_PERM: u32 = 0o700;

/// `perm()` of a unix socket source: unset is 0666, empty (`perm()`) leaves it.
pub fn socket_perm(p: Option<&FileMode>) -> Option<u32> {
    match p {
        None => Some(DEFAULT_SOCKET_PERM),
        Some(FileMode::Mode(m)) => Some(*m),
        Some(FileMode::Unchanged) => None,
    }
}

pub use crate::actors::options::owner_id;

/// A bound unix socket and its file, removed when this is dropped (unless the path now holds
/// another file: the inode is checked).
#[derive(Debug)]
pub struct SocketFile<T: AsRawFd> {
    sock: T,
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl<T: AsRawFd> SocketFile<T> {
    /// The socket.
    pub fn socket(&self) -> &T {
        &self.sock
    }

    /// The path it is bound to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl<T: AsRawFd> Drop for SocketFile<T> {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path)
            && m.file_type().is_socket()
            && Some((m.dev(), m.ino())) == self.id
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds a listening `unix-stream()` socket.
pub fn bind_stream(
    plan: &SocketFilePlan,
    backlog: u32,
) -> std::io::Result<SocketFile<std::os::unix::net::UnixListener>> {
    prepare(plan)?;
    // std binds with a fixed backlog; `listen-backlog()` needs socket/bind/listen by hand.
    // SAFETY: plain socket(2); the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    set_rcvbuf(&fd, plan.so_rcvbuf);
    let (addr, len) = sockaddr_un(&plan.path)?;
    // SAFETY: `addr` is a sockaddr_un of `len` bytes.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_un).cast(),
            len,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: a valid, bound socket descriptor.
    if unsafe { libc::listen(fd.as_raw_fd(), backlog) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(finish(plan, std::os::unix::net::UnixListener::from(fd)))
}

fn sockaddr_un(path: &Path) -> std::io::Result<(libc::sockaddr_un, libc::socklen_t)> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain data, valid when zeroed.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() || bytes.len() >= addr.sun_path.len() || bytes.contains(&0) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "path must be shorter than 108 bytes and contain no NUL",
        ));
    }
    for (d, s) in addr.sun_path.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + bytes.len() + 1;
    Ok((addr, len as libc::socklen_t))
}

/// Binds a `unix-dgram()` socket.
pub fn bind_dgram(
    plan: &SocketFilePlan,
) -> std::io::Result<SocketFile<std::os::unix::net::UnixDatagram>> {
    prepare(plan)?;
    let sock = std::os::unix::net::UnixDatagram::bind(&plan.path)?;
    set_rcvbuf(&sock, plan.so_rcvbuf);
    Ok(finish(plan, sock))
}

/// Applies the plan's socket options and permissions to a socket taken over on reload (the
/// new configuration may have changed them).
pub fn refresh<T: AsRawFd>(plan: &SocketFilePlan, file: &SocketFile<T>) {
    set_rcvbuf(&file.sock, plan.so_rcvbuf);
    apply_perms(plan);
}

fn prepare(plan: &SocketFilePlan) -> std::io::Result<()> {
    if let Some(dir) = plan.path.parent()
        && !dir.as_os_str().is_empty()
        && plan.create_dirs
        && !dir.exists()
    {
        create_dirs(dir, plan)?;
    }
    // A stale socket (a daemon that died) is replaced; any other kind of file is kept and
    // makes the bind fail, as in syslog-ng.
    if let Ok(m) = std::fs::symlink_metadata(&plan.path)
        && m.file_type().is_socket()
    {
        std::fs::remove_file(&plan.path)?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents, each with the plan's directory mode and owner.
fn create_dirs(dir: &Path, plan: &SocketFilePlan) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d {
        if p.as_os_str().is_empty() || p.exists() {
            break;
        }
        missing.push(p);
        d = p.parent();
    }
    for p in missing.into_iter().rev() {
        match std::fs::DirBuilder::new().mode(plan.dir_perm).create(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        // mkdir() applies the umask; syslog-ng sets the mode it was asked for.
        let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(plan.dir_perm));
        chown_best_effort(p, plan.dir_owner, plan.dir_group);
    }
    Ok(())
}

fn finish<T: AsRawFd>(plan: &SocketFilePlan, sock: T) -> SocketFile<T> {
    apply_perms(plan);
    let id = std::fs::symlink_metadata(&plan.path)
        .ok()
        .map(|m| (m.dev(), m.ino()));
    SocketFile {
        sock,
        path: plan.path.clone(),
        id,
    }
}

fn apply_perms(plan: &SocketFilePlan) {
    if let Some(m) = plan.perm
        && let Err(e) = std::fs::set_permissions(&plan.path, std::fs::Permissions::from_mode(m))
    {
        tracing::warn!(path = %plan.path.display(), error = %e, "Error setting file permissions");
    }
    chown_best_effort(&plan.path, plan.owner, plan.group);
}

/// Changes owner and group, best effort, as syslog-ng does when not running as root.
fn chown_best_effort(path: &Path, owner: Option<u32>, group: Option<u32>) {
    if owner.is_none() && group.is_none() {
        return;
    }
    if let Err(e) = std::os::unix::fs::chown(path, owner, group) {
        tracing::warn!(path = %path.display(), error = %e, "Error setting file ownership");
    }
}

/// `SO_RCVBUF`, with syslog-ng's warning when the kernel grants less than asked (it caps
/// the value at `net.core.rmem_max`).
pub fn set_rcvbuf<T: AsRawFd>(sock: &T, size: Option<u32>) {
    let Some(size) = size else {
        return;
    };
    let fd = sock.as_raw_fd();
    let want = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    if setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, want).is_err() {
        return;
    }
    let mut got: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a valid descriptor, and pointers to an int and its length.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut got as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    // Linux reports twice the value granted (the doubling covers its bookkeeping); syslog-ng
    // compares and prints that value as it is.
    if rc == 0 && i64::from(got) < i64::from(want) {
        tracing::warn!(
            so_rcvbuf = size,
            so_rcvbuf_set = got,
            "The kernel refused to set the receive buffer (SO_RCVBUF) to the requested size, \
             you probably need to adjust buffer related kernel parameters"
        );
    }
}

/// `setsockopt` of an int option.
pub fn setsockopt_int(
    fd: std::os::fd::RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> std::io::Result<()> {
    // SAFETY: a valid descriptor and a pointer to an int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(path: PathBuf) -> SocketFilePlan {
        SocketFilePlan {
            path,
            create_dirs: true,
            owner: None,
            group: None,
            perm: Some(DEFAULT_SOCKET_PERM),
            dir_owner: None,
            dir_group: None,
            dir_perm: 0o711,
            so_rcvbuf: Some(65536),
            optional: false,
        }
    }

    #[test]
    fn creates_dirs_replaces_a_stale_socket_and_removes_its_file_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/b/log.sock");
        let p = plan(path.clone());
        let first = bind_dgram(&p).expect("bind");
        let meta = std::fs::metadata(&path).expect("socket file");
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o666);
        let a = std::fs::metadata(dir.path().join("a")).expect("dir");
        assert_eq!(a.permissions().mode() & 0o777, 0o711);
        // A second bind replaces the (now stale) socket; dropping the first must then leave
        // the new file alone.
        let second = bind_stream(&p, 16).expect("rebind");
        drop(first);
        assert!(path.exists());
        drop(second);
        assert!(!path.exists());
    }

    #[test]
    fn a_regular_file_is_not_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.sock");
        std::fs::write(&path, "data").expect("write");
        let e = bind_dgram(&plan(path.clone())).expect_err("must fail");
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
        assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "data");
    }

    #[test]
    fn missing_dirs_without_create_dirs_fail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = plan(dir.path().join("x/log.sock"));
        p.create_dirs = false;
        assert!(bind_dgram(&p).is_err());
    }

    #[test]
    fn perm_and_owner_rules() {
        use crate::config::global_options::FileOwner;
        assert_eq!(socket_perm(None), Some(0o666));
        assert_eq!(socket_perm(Some(&FileMode::Mode(0o600))), Some(0o600));
        assert_eq!(socket_perm(Some(&FileMode::Unchanged)), None);
        assert_eq!(
            owner_id(Some(&FileOwner::Name("root".into())), false),
            Ok(Some(0))
        );
        assert_eq!(owner_id(Some(&FileOwner::Id(7)), true), Ok(Some(7)));
        assert!(owner_id(Some(&FileOwner::Name("no-such-user-x".into())), false).is_err());
    }
}
