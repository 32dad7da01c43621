//! The `unix-stream()` and `unix-dgram()` destinations: send to a UNIX domain socket.
//!
//! Option set checked against syslog-ng 3.38: the writer, template and queue options, the
//! socket buffer options, `keep-alive()` and `close-on-input()`; no permission or IP options.
//! `mark-mode()` defaults to `none`.

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, WriterOptions};
use super::file::mark_mode_none;
use super::socket::{SockKind, SockOpts, SocketDestPlan, Target};
use super::writer::{WriterOptionsRef, plan_writer};
use crate::actors::socket_options::SocketOptions;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, MarkMode, yes};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use crate::template::OutputFormat;

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

// ---------------------------------------------------------------------------------------
// Runtime: a socket destination (see `super::socket`). Both send RFC 3164 `<PRI>` lines
// ending in a newline (one datagram each for `unix-dgram()`), as syslog-ng 3.38 does.

/// Plans `unix-stream()` or `unix-dgram()` (`dgram`).
pub fn plan_unix(
    o: &UnixDestinationOptions,
    driver: &str,
    dgram: bool,
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<SocketDestPlan, Diagnostic> {
    let writer = plan_writer(
        WriterOptionsRef {
            dest: &o.dest,
            writer: &o.writer,
            template: &o.template,
            mark_mode: o.unix.mark_mode,
            format: OutputFormat::Network,
        },
        call,
        globals,
        env,
    )?;
    let kind = if dgram {
        SockKind::Dgram
    } else {
        SockKind::Stream
    };
    let target = Target::Unix(o.unix.path.clone().into());
    let s = &o.socket;
    Ok(SocketDestPlan {
        driver: driver.to_string(),
        persist_name: SocketDestPlan::persist_name(o.dest.persist_name.as_deref(), kind, &target),
        writer,
        target,
        kind,
        octet_counted: false,
        local_ip: None,
        local_port: 0,
        opts: SockOpts {
            rcvbuf: s.so_rcvbuf,
            sndbuf: s.so_sndbuf,
            broadcast: s.so_broadcast,
            keepalive: s.so_keepalive,
            reuseport: s.so_reuseport,
            ..SockOpts::default()
        },
        keep_alive: o.unix.keep_alive,
        close_on_input: o.unix.close_on_input,
    })
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
