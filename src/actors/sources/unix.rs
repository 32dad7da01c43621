//! The `unix-stream()` and `unix-dgram()` sources: listen on a UNIX domain socket such as
//! `/dev/log`.
//!
//! Option sets checked against syslog-ng 3.38: both take the same options (the reader and
//! source options, the socket buffer options, the listener options, the permission options of
//! the socket file, `optional()`, `create-dirs()`, `so-passcred()` and the deprecated
//! `pass-unix-credentials()`); no IP options and no `tls()`. Defaults checked against
//! syslog-ng's window warnings: `unix-stream()` allows 256 connections and a window of 25600
//! (100 per connection); `unix-dgram()` has one reader with a window of 100.

use serde::Deserialize;

use super::common::{
    FilePermOptions, ReaderOptions, SourceDriverOptions, SourceOptions, default_log_iw_size,
};
use crate::actors::socket_options::{SocketOptions, default_listen_backlog};
use crate::config::global_options::{Positive, nz, yes};
use crate::driver_options;

fn default_stream_max_connections() -> Positive {
    nz(256)
}

fn default_stream_log_iw_size() -> Positive {
    nz(25600)
}

/// Declares the own options struct of a UNIX socket source; the two drivers differ only in
/// the defaults of `max-connections()` and `log-iw-size()`.
macro_rules! unix_source {
    ($(#[$meta:meta])* $name:ident, $max_conn:literal, $max_conn_fn:literal, $iw:literal, $iw_fn:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub struct $name {
            /// Path of the socket to create (positional, required), e.g. `/dev/log`.
            #[serde(rename = "0:path")]
            pub path: String,
            /// Start even if the socket cannot be created. Default: no.
            #[serde(default)]
            pub optional: bool,
            /// Create the missing directories of the socket's path. Default: the global
            /// `create-dirs()` (no).
            #[serde(default)]
            pub create_dirs: Option<bool>,
            /// Read the sender's credentials (PID, UID, GID) with every message
            /// (`SO_PASSCRED`). Default: the global `pass-unix-credentials()` (yes).
            #[serde(default)]
            pub so_passcred: Option<bool>,
            /// Deprecated since 3.35, same as `so-passcred()`.
            #[serde(default)]
            pub pass_unix_credentials: Option<bool>,
            #[doc = concat!("Maximum number of simultaneous connections. Default: ", $max_conn, ".")]
            #[serde(default = $max_conn_fn)]
            pub max_connections: Positive,
            /// Length of the queue of connections not yet accepted. Default: 255.
            #[serde(default = "default_listen_backlog")]
            pub listen_backlog: Positive,
            /// Keep connections open across reloads. Default: yes.
            #[serde(default = "yes")]
            pub keep_alive: bool,
            /// Extra window shared by all connections; 0 disables it. Default: 0.
            #[serde(default)]
            pub dynamic_window_size: u64,
            /// Seconds between two rebalancings of the dynamic window. Default: 1.
            #[serde(default)]
            pub dynamic_window_stats_freq: Option<f64>,
            /// Statistics periods after which the dynamic window is redistributed.
            /// Default: 10.
            #[serde(default)]
            pub dynamic_window_realloc_ticks: Option<u32>,
            #[doc = concat!("Messages in flight for all connections together. Default: ", $iw, ".")]
            #[serde(default = $iw_fn)]
            pub log_iw_size: Positive,
        }
    };
}

unix_source!(
    /// The own options of `unix-stream()`.
    UnixStreamSource,
    "256",
    "default_stream_max_connections",
    "25600",
    "default_stream_log_iw_size"
);

unix_source!(
    /// The own options of `unix-dgram()`.
    UnixDgramSource,
    "256",
    "default_stream_max_connections",
    "100",
    "default_log_iw_size"
);

driver_options! {
    /// Options of the `unix-stream()` source. The permission options apply to the socket
    /// file; unset, it is created with mode 0666 and the daemon's owner and group.
    pub struct UnixStreamSourceOptions {
        pub unix: UnixStreamSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub perm: FilePermOptions,
        pub socket: SocketOptions,
    }
}

driver_options! {
    /// Options of the `unix-dgram()` source. The permission options apply to the socket
    /// file; unset, it is created with mode 0666 and the daemon's owner and group.
    pub struct UnixDgramSourceOptions {
        pub unix: UnixDgramSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub perm: FilePermOptions,
        pub socket: SocketOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};
    use crate::config::global_options::{FileMode, FileOwner};

    #[test]
    fn defaults() {
        let o: UnixStreamSourceOptions = check(r#"unix-stream("/dev/log")"#);
        assert_eq!(o.unix.path, "/dev/log");
        assert_eq!(o.unix.max_connections.get(), 256);
        assert_eq!(o.unix.log_iw_size.get(), 25600);
        assert_eq!(o.unix.listen_backlog.get(), 255);
        assert!(o.unix.keep_alive && !o.unix.optional);
        assert_eq!(o.unix.so_passcred, None);
        assert_eq!(o.perm, FilePermOptions::default());
        let o: UnixDgramSourceOptions = check(r#"unix-dgram("/dev/log")"#);
        assert_eq!(o.unix.log_iw_size.get(), 100);
    }

    #[test]
    fn full_example() {
        let o: UnixStreamSourceOptions = check(
            r#"unix-stream("/run/app/log" owner("syslog") group(adm) perm(0660) create-dirs(yes)
                optional(yes) max-connections(10) so-passcred(no) so-rcvbuf(65536)
                keep-alive(no) flags(no-hostname))"#,
        );
        assert_eq!(o.perm.owner, Some(FileOwner::Name("syslog".into())));
        assert_eq!(o.perm.perm, Some(FileMode::Mode(0o660)));
        assert_eq!(o.unix.create_dirs, Some(true));
        assert_eq!(o.unix.so_passcred, Some(false));
        assert_eq!(o.socket.so_rcvbuf, Some(65536));
        let o: UnixStreamSourceOptions = check(r#"unix-stream("/x" owner() perm())"#);
        assert_eq!(o.perm.owner, Some(FileOwner::Unchanged));
        assert_eq!(o.perm.perm, Some(FileMode::Unchanged));
    }

    #[test]
    fn errors() {
        let e = err::<UnixDgramSourceOptions>(r#"unix-dgram("/dev/log" so-pascred(yes))"#);
        assert_eq!(e.notes, vec!["did you mean `so-passcred`?"]);
        err::<UnixDgramSourceOptions>(r#"unix-dgram("/dev/log" ip-ttl(1))"#);
        err::<UnixStreamSourceOptions>(r#"unix-stream("/dev/log" tls(ca-dir("/x")))"#);
        err::<UnixStreamSourceOptions>(r#"unix-stream("/dev/log" perm("0666"))"#);
        let e = err::<UnixStreamSourceOptions>("unix-stream(max-connections(1))");
        assert!(e.message.contains("path"), "{}", e.message);
    }
}
