//! The `unix-stream()` and `unix-dgram()` destinations: send to a UNIX domain socket.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! socket buffer options, `keep-alive()` and `close-on-input()`; no permission or IP options.
//! `mark-mode()` defaults to `none`.

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::file::mark_mode_none;
use crate::actors::sources::socket::SocketOptions;
use crate::config::global_options::{MarkMode, yes};
use crate::driver_options;

/// The own options of `unix-stream()` and `unix-dgram()` destinations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct UnixDestination {
    /// Path of the socket to send to (positional, required).
    #[serde(rename = "0:path")]
    pub path: String,
    /// Keep the connection open across reloads. Default: yes.
    #[serde(default = "yes")]
    pub keep_alive: bool,
    /// Close the connection when the peer sends anything. Default: yes.
    #[serde(default = "yes")]
    pub close_on_input: bool,
    /// When MARK messages are sent. Default: none.
    #[serde(default = "mark_mode_none")]
    pub mark_mode: MarkMode,
}

driver_options! {
    /// Options of the `unix-stream()` and `unix-dgram()` destinations.
    pub struct UnixDestinationOptions {
        pub unix: UnixDestination,
        pub dest: DestDriverOptions,
        pub writer: WriterOptions,
        pub template: TemplateOptions,
        pub socket: SocketOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};

    #[test]
    fn defaults_and_example() {
        let o: UnixDestinationOptions = check(r#"unix-dgram("/dev/log")"#);
        assert_eq!(o.unix.path, "/dev/log");
        assert!(o.unix.keep_alive && o.unix.close_on_input);
        assert_eq!(o.unix.mark_mode, MarkMode::None);
        let o: UnixDestinationOptions = check(
            r#"unix-stream("/run/collector.sock" so-sndbuf(262144) flags(syslog-protocol)
                template("$MSG\n") keep-alive(no) time-reopen(5))"#,
        );
        assert_eq!(o.socket.so_sndbuf, Some(262144));
        assert!(!o.unix.keep_alive);
    }

    #[test]
    fn errors() {
        let e = err::<UnixDestinationOptions>(r#"unix-stream("/s" so-sndbuff(1))"#);
        assert_eq!(e.notes, vec!["did you mean `so-sndbuf`?"]);
        err::<UnixDestinationOptions>(r#"unix-stream("/s" perm(0600))"#);
        err::<UnixDestinationOptions>(r#"unix-stream("/s" ip-ttl(1))"#);
        err::<UnixDestinationOptions>(r#"unix-dgram("/s" so-passcred(yes))"#);
    }
}
