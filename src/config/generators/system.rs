//! `system()`: the local log sources of the machine sluice runs on, as the text syslog-ng
//! 3.38's system-source module generates (modules/system-source/system-source.c), so that
//! `source s_src { system(); internal(); };` (Debian's stock configuration) reads the same
//! sockets and devices.
//!
//! On Linux without systemd: `/dev/log` (a unix-dgram socket, with the sender's pid from its
//! credentials as `$PID`) and the kernel log (`/dev/kmsg` in its record format when it can
//! be read, sought and polled, else `/proc/kmsg`, else none). Then the messages go through
//! `app-parser(topic(syslog))` (the SCL's applications), or on unchanged when none matches.
//!
//! One difference, on purpose: with systemd running, syslog-ng reads the journal
//! (`systemd-journal()`), which sluice does not have; sluice reads the socket journald
//! forwards every message to (`/run/systemd/journal/syslog`, journald's
//! `ForwardToSyslog=yes`) instead, with the same channel as `/dev/log`.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::Path;

use super::format_varargs;
use crate::config::ast::keyword_eq;
use crate::config::blocks::Arg;

/// Where the kernel's messages can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kmsg {
    /// `/dev/kmsg`, one record per read (`format(linux-kmsg)`).
    Dev,
    /// `/proc/kmsg`, lines.
    Proc,
    None,
}

/// What `system()` depends on, detected once per reference (as syslog-ng does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Host {
    pub systemd: bool,
    pub kmsg: Kmsg,
}

impl Host {
    /// syslog-ng's checks: systemd runs when `/run/systemd/system/` is a directory;
    /// `/dev/kmsg` is used when it opens read-only, seeks to its end and can be polled.
    pub(crate) fn detect() -> Host {
        let systemd = std::fs::symlink_metadata("/run/systemd/system/").is_ok_and(|m| m.is_dir());
        let kmsg = if readable_device(Path::new("/dev/kmsg"), true) {
            Kmsg::Dev
        } else if readable_device(Path::new("/proc/kmsg"), false) {
            Kmsg::Proc
        } else {
            tracing::info!(
                "system(): Neither of the Linux kernel log devices was detected, continuing \
                 without polling either /proc/kmsg or /dev/kmsg"
            );
            Kmsg::None
        };
        Host { systemd, kmsg }
    }
}

fn readable_device(path: &Path, must_seek: bool) -> bool {
    let Ok(mut f) = File::open(path) else {
        return false;
    };
    if must_seek && f.seek(SeekFrom::End(0)).is_err() {
        return false;
    }
    pollable(&f)
}

/// Whether epoll takes the file (regular files and some devices it refuses).
fn pollable(f: &File) -> bool {
    // SAFETY: plain syscalls on descriptors this function owns or borrows; the epoll
    // descriptor is closed before returning.
    unsafe {
        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        if ep < 0 {
            return false;
        }
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 0,
        };
        let ok = libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, f.as_raw_fd(), &mut ev) == 0;
        libc::close(ep);
        ok
    }
}

/// The text of `system(ARGS)` on `host`. The arguments go to its `app-parser()`
/// (`exclude-kmsg()`, an option syslog-ng removed, is dropped as it does).
pub(crate) fn generate(host: &Host, args: &[Arg]) -> String {
    let mut text = String::from("channel {\n    source {\n");
    if host.systemd {
        push_local_socket(&mut text, "/run/systemd/journal/syslog");
    } else {
        push_local_socket(&mut text, "/dev/log");
        match host.kmsg {
            Kmsg::Dev => text.push_str(
                "file(\"/dev/kmsg\" program-override(\"kernel\") flags(kernel) \
                 format(linux-kmsg) keep-timestamp(no));\n",
            ),
            Kmsg::Proc => text.push_str(
                "file(\"/proc/kmsg\" program-override(\"kernel\") flags(kernel) \
                 keep-timestamp(no));\n",
            ),
            Kmsg::None => {}
        }
    }
    text.push_str("\n    }; # source\n");
    let passed = format_varargs(
        args.iter()
            .filter(|a| !keyword_eq(&a.name.value, "exclude-kmsg")),
    );
    text.push_str(&format!(
        "channel {{\n  channel {{\n    parser {{\n      app-parser(topic(syslog) {passed});\n    }};\n    \
         flags(final);\n  }};\n  channel {{ flags(final); }};\n}};\n}}; # channel\n"
    ));
    text
}

/// A local syslog socket, its sender's pid (from the socket credentials) as `$PID`.
fn push_local_socket(text: &mut String, path: &str) {
    text.push_str(&format!(
        "channel {{\n    source {{ unix-dgram(\"{path}\" so_rcvbuf(8192) flags(syslog-protocol));\n }};\n    \
         rewrite {{ set(\"${{.unix.pid}}\" value(\"PID\") condition(\"${{.unix.pid}}\" ne \"\")); }};\n}};\n"
    ));
}
