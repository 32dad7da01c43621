//! Messages: [`LogMessage`] (name-value pairs, priority, timestamps, tags, ack token) and
//! parsing what arrives (RFC 3164, RFC 5424, framing), matching syslog-ng 3.38 byte for byte.
//!
//! This module depends on nothing else of ours (see docs/ARCHITECTURE.md).
//!
//! * [`message`]: the message, tags, `$SDATA` rendering;
//! * [`nv`]: name-value storage (one buffer per message, values as spans into it);
//! * [`timestamp`]: stamps, stamp scanners, year and zone rules;
//! * [`options`]: what a source's configuration tells the parser (`flags()`, zones, host rules);
//! * [`parse()`] with [`rfc3164`] and [`rfc5424`]: bytes to message;
//! * [`kmsg`]: `format(linux-kmsg)`, the records of `/dev/kmsg`;
//! * [`framing`]: RFC 6587 octet counting and newline framing with `log-msg-size()`;
//! * [`serial`]: a message to versioned bytes and back, for records kept on disk.

pub mod framing;
pub mod kmsg;
#[allow(clippy::module_inception)]
pub mod message;
pub mod nv;
pub mod options;
pub mod parse;
pub mod rfc3164;
pub mod rfc5424;
pub mod serial;
pub mod timestamp;

pub use message::{AckToken, DEFAULT_PRI, LogMessage, MsgFlags, TagId};
pub use nv::{Builtin, Payload, ValueType};
pub use options::{HostOptions, LocalHost, MsgFormat, ParseFlags, ParseOptions, PeerInfo, UseDns};
pub use parse::{ParseError, escape_binary, mangle_hostname, parse, parse_with_status};
pub use serial::{DecodeError, decode, encode};
pub use timestamp::{UnixTime, ZoneSpec};
