//! What a destination writes when it has no `template()`, and the framing around what it
//! writes: syslog-ng 3.38's `log_writer_format_log`.
//!
//! * [`OutputFormat::File`]: `file()`, `pipe()`, `program()`... — `DATE HOST MSGHDRMSG\n`, the
//!   date in `ts-format()` (rfc3164 by default);
//! * [`OutputFormat::Network`]: `network()`, `tcp()`, `udp()`, `unix-*()` — `<PRI>DATE HOST
//!   MSGHDRMSG\n`, the date always BSD;
//! * [`OutputFormat::SyslogProtocol`]: `flags(syslog-protocol)` and the `syslog()` driver —
//!   `<PRI>1 ISODATE HOST PROGRAM PID MSGID SDATA MSG\n` (RFC 5424); a `template()` only replaces
//!   the MSG part. The `syslog()` driver adds octet counting around it
//!   ([`push_octet_counted`]).

use crate::message::{Builtin, LogMessage, MsgFlags};

use super::date;
use super::macros;
use super::options::{RenderContext, TsFormat};
use super::template::Template;

/// Which built-in format a destination uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// File-like destinations.
    File,
    /// Network destinations speaking RFC 3164.
    Network,
    /// RFC 5424 (`flags(syslog-protocol)`, `syslog()`).
    SyslogProtocol,
}

/// Destination flags that change the formatted bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterFlags {
    /// `flags(no-multi-line)`: CR and LF (but the last byte) become spaces.
    pub no_multi_line: bool,
}

/// `$SEQNUM` for a message at a destination: a local message gets the destination's own
/// counter (`local_counter`), a relayed one its `meta.sequenceId` (0, printed as nothing,
/// when it has none).
pub fn seq_num_for(msg: &LogMessage, local_counter: u32) -> u32 {
    if msg.flags.has(MsgFlags::LOCAL) {
        return local_counter;
    }
    let Some(v) = msg.get(".SDATA.meta.sequenceId") else {
        return 0;
    };
    // strtol(v, NULL, 10) stored in a 32-bit counter.
    let mut i = 0;
    while i < v.len() && matches!(v[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = v.get(i) == Some(&b'-');
    if matches!(v.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut n: i64 = 0;
    while let Some(c) = v.get(i).filter(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
        i += 1;
    }
    (if neg { -n } else { n }) as u32
}

/// A destination's counter for local messages' `$SEQNUM`: starts at 1, steps after each
/// local message written, wraps back to 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceCounter(u32);

impl Default for SequenceCounter {
    fn default() -> Self {
        SequenceCounter(1)
    }
}

impl SequenceCounter {
    /// The number the next local message gets.
    pub fn current(&self) -> u32 {
        self.0
    }

    /// Moves on after a local message was written.
    pub fn step(&mut self) {
        self.0 = if self.0 >= i32::MAX as u32 {
            1
        } else {
            self.0 + 1
        };
    }
}

/// `value` up to its first space (or `-` when empty and `nil`), as RFC 5424 header fields.
fn push_header_field(out: &mut Vec<u8>, value: Option<&[u8]>, nil: bool) {
    let v = value.unwrap_or(&[]);
    let v = match memchr::memchr(0, v) {
        Some(p) => &v[..p],
        None => v,
    };
    if nil && v.is_empty() {
        out.push(b'-');
    } else {
        let end = memchr::memchr(b' ', v).unwrap_or(v.len());
        out.extend_from_slice(&v[..end]);
    }
    out.push(b' ');
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Appends what a destination writes for `msg`: `template` when given (inside the RFC 5424
/// header for [`OutputFormat::SyslogProtocol`]), else the built-in format. `ctx.seq_num`
/// should come from [`seq_num_for`].
pub fn format_message(
    format: OutputFormat,
    template: Option<&Template>,
    flags: WriterFlags,
    msg: &LogMessage,
    ctx: &RenderContext<'_>,
    out: &mut Vec<u8>,
) {
    let start = out.len();
    let opts = ctx.options;
    match (format, template) {
        (OutputFormat::SyslogProtocol, _) => {
            out.push(b'<');
            date::push_padded(out, u64::from(msg.pri), 0, b'0');
            out.extend_from_slice(b">1 ");
            let off = opts.offset_for(&msg.stamp);
            date::push_stamp(out, &msg.stamp, off, TsFormat::Iso, opts.frac_digits);
            out.push(b' ');
            push_header_field(out, msg.get_builtin(Builtin::Host), true);
            push_header_field(out, msg.get_builtin(Builtin::Program), true);
            push_header_field(out, msg.get_builtin(Builtin::Pid), true);
            push_header_field(out, msg.get_builtin(Builtin::MsgId), true);
            let sd = out.len();
            msg.format_sdata(out, ctx.seq_num);
            if out.len() == sd {
                out.push(b'-');
            }
            out.push(b' ');
            let utf8 = msg.flags.has(MsgFlags::UTF8);
            match template {
                Some(t) => {
                    if utf8 {
                        out.extend_from_slice(BOM);
                    }
                    t.render(msg, ctx, out);
                }
                None => {
                    let m = msg.message();
                    if !m.is_empty() {
                        if utf8 {
                            out.extend_from_slice(BOM);
                        }
                        out.extend_from_slice(m);
                    }
                }
            }
            out.push(b'\n');
        }
        (_, Some(t)) => t.render(msg, ctx, out),
        (OutputFormat::File, None) => {
            let off = opts.offset_for(&msg.stamp);
            date::push_stamp(out, &msg.stamp, off, opts.ts_format, opts.frac_digits);
            push_legacy_body(out, msg);
        }
        (OutputFormat::Network, None) => {
            out.push(b'<');
            date::push_padded(out, u64::from(msg.pri), 0, b'0');
            out.push(b'>');
            let off = opts.offset_for(&msg.stamp);
            date::push_stamp(out, &msg.stamp, off, TsFormat::Bsd, opts.frac_digits);
            push_legacy_body(out, msg);
        }
    }
    if flags.no_multi_line {
        no_multi_line(&mut out[start..]);
    }
}

/// ` HOST MSGHDRMSG\n` (HOST as stored, not `$HOST`'s first link of a chain).
fn push_legacy_body(out: &mut Vec<u8>, msg: &LogMessage) {
    out.push(b' ');
    out.extend_from_slice(msg.get_builtin(Builtin::Host).unwrap_or(&[]));
    out.push(b' ');
    macros::push_msghdr(out, msg, false);
    out.extend_from_slice(msg.message());
    out.push(b'\n');
}

/// Replaces CR and LF with spaces in all but the last byte.
pub fn no_multi_line(buf: &mut [u8]) {
    let n = buf.len().saturating_sub(1);
    for c in &mut buf[..n] {
        if *c == b'\r' || *c == b'\n' {
            *c = b' ';
        }
    }
}

/// Appends `payload` with RFC 6587 octet counting (`LEN SP payload`), as the `syslog()`
/// driver sends it over stream transports.
pub fn push_octet_counted(out: &mut Vec<u8>, payload: &[u8]) {
    date::push_padded(out, payload.len() as u64, 0, b'0');
    out.push(b' ');
    out.extend_from_slice(payload);
}

/// syslog-ng's default `file()` template written as a template:
/// `${DATE} ${HOST} ${MSGHDR}${MSG}\n` (with `ts-format()` applied to the date, so `$STAMP`).
/// [`format_message`] with [`OutputFormat::File`] produces the same bytes faster.
pub const DEFAULT_FILE_TEMPLATE: &str = "${STAMP} ${FULLHOST} ${MSGHDR}${MSG}\n";

/// The RFC 3164 line a network destination sends, as a template.
pub const DEFAULT_NETWORK_TEMPLATE: &str = "<${PRI}>${DATE} ${FULLHOST} ${MSGHDR}${MSG}\n";
