//! The entry point: one received line (or datagram, or frame) to a [`LogMessage`], the way
//! syslog-ng's `msg_format_parse_into` + `log_source_mangle_hostname` do it.

use super::kmsg::parse_kmsg;
use super::message::{LogMessage, MsgFlags};
use super::nv::{Builtin, Payload};
use super::options::{MsgFormat, ParseFlags, ParseOptions, PeerInfo, format_ip, resolve_host_from};
use super::rfc3164::{parse_legacy, validates};
use super::rfc5424::parse_syslog_proto;
use super::timestamp::UnixTime;

/// Per-call facts shared by the header parsers.
pub(crate) struct Ctx {
    /// "Now" for the year rule, guess-timezone and the nil RFC 5424 stamp: the received time.
    pub now: UnixTime,
    /// The source's `time-zone()` offset now (syslog-ng takes it at the current time, not at
    /// the stamp's).
    pub tz_hint: Option<i32>,
    /// `keep-timestamp(yes)`.
    pub parse_date: bool,
}

/// What went wrong, for counters. The message is still produced (as syslog-ng does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte position syslog-ng reports (`>@<` in MESSAGE marks it).
    pub position: usize,
}

/// Parses one message with the source's `format()` (syslog, or `linux-kmsg`: see
/// [`super::kmsg`]). Never panics; a malformed message is parsed as far as syslog-ng
/// would, and a hard failure yields syslog-ng's error message (MESSAGE = `Error processing
/// log message: ...`, PROGRAM = `syslog-ng`, priority syslog.err) with
/// [`MsgFlags::PARSE_ERROR`] set. `received` is the received time with the local offset.
pub fn parse(
    raw: &[u8],
    opts: &ParseOptions,
    peer: Option<&PeerInfo>,
    received: UnixTime,
) -> LogMessage {
    parse_with_status(raw, opts, peer, received).0
}

/// [`parse`], also returning the parse error (for the source's error counter).
pub fn parse_with_status(
    raw: &[u8],
    opts: &ParseOptions,
    peer: Option<&PeerInfo>,
    received: UnixTime,
) -> (LogMessage, Option<ParseError>) {
    let data = rstrip(raw);
    let flags = opts.flags;
    // Room for HOST_FROM, SOURCEIP and a few synthesized values without reallocating; RFC
    // 5424 structured data adds a `.SDATA.id.param` name per parameter.
    let extra = if flags.has(ParseFlags::SYSLOG_PROTOCOL) && memchr::memchr(b'[', data).is_some() {
        48 + data.len() / 2
    } else {
        48
    };
    let payload = Payload::with_raw(data, extra);
    let mut msg = LogMessage::with_payload(payload, received);
    let ctx = Ctx {
        now: received,
        tz_hint: opts
            .recv_time_zone
            .as_ref()
            .map(|z| z.offset_at(received.sec)),
        parse_date: opts.keep_timestamp,
    };
    let len = data.len();

    if flags.has(ParseFlags::STORE_RAW_MESSAGE) {
        let s = msg.nv.raw_span(0, len);
        msg.nv.set_builtin_span(Builtin::RawMsg, s);
    }

    let mut error = None;
    if flags.has(ParseFlags::NO_PARSE) {
        let s = msg.nv.raw_span(0, len);
        msg.nv.set_builtin_span(Builtin::Message, s);
        msg.pri = opts.effective_default_pri();
    } else {
        // The header parsers read the caller's slice; the payload buffer starts with a copy
        // of the same bytes, so positions in one are spans in the other.
        let res = match opts.format {
            // The kmsg format reads past the stripped record (see `kmsg`): it gets `raw`.
            MsgFormat::LinuxKmsg(boot) => parse_kmsg(&mut msg, raw, data.len(), boot, opts),
            MsgFormat::Syslog if flags.has(ParseFlags::SYSLOG_PROTOCOL) => {
                parse_syslog_proto(&mut msg, data, opts, &ctx)
            }
            MsgFormat::Syslog => parse_legacy(&mut msg, data, opts, &ctx),
        };
        if let Err(position) = res {
            inject_parse_error(&mut msg, data, position);
            error = Some(ParseError { position });
        }
    }

    postprocess(&mut msg, opts, &ctx);
    mangle_hostname(&mut msg, opts, peer);
    (msg, error)
}

/// Trailing `\n` and `\0` are not part of the message.
fn rstrip(raw: &[u8]) -> &[u8] {
    let mut n = raw.len();
    while n > 0 && (raw[n - 1] == b'\n' || raw[n - 1] == 0) {
        n -= 1;
    }
    &raw[..n]
}

/// `<digits>`: the priority, or the default when the message does not start with `<`.
/// `None` when a non-digit appears before `>` (a parse error in syslog-ng).
pub(crate) fn parse_pri(data: &[u8], pos: &mut usize, opts: &ParseOptions) -> Option<u16> {
    if data.get(*pos) != Some(&b'<') {
        return Some(opts.default_pri.unwrap_or(super::message::DEFAULT_PRI));
    }
    let mut p = *pos + 1;
    let mut pri: i32 = 0;
    while p < data.len() && data[p] != b'>' {
        if !data[p].is_ascii_digit() {
            return None;
        }
        pri = pri.wrapping_mul(10).wrapping_add(i32::from(data[p] - b'0'));
        p += 1;
    }
    if p < data.len() {
        p += 1;
    }
    *pos = p;
    Some(pri as u16)
}

/// GLib's `g_utf8_validate` with a length: valid UTF-8 *and* no NUL byte.
pub(crate) fn is_valid_utf8(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok() && memchr::memchr(0, b).is_none()
}

/// Sets MESSAGE to `data[pos..]`, applying sanitize-utf8 (RFC 3164 only) or validate-utf8.
pub(crate) fn set_message_checked(
    msg: &mut LogMessage,
    data: &[u8],
    pos: usize,
    opts: &ParseOptions,
    may_sanitize: bool,
) {
    let text = data.get(pos..).unwrap_or(&[]);
    if may_sanitize && opts.flags.has(ParseFlags::SANITIZE_UTF8) && !is_valid_utf8(text) {
        let mut out = Vec::with_capacity(text.len() + 16);
        escape_binary(text, &mut out);
        msg.nv.set_builtin(Builtin::Message, &out);
        msg.flags.set(MsgFlags::UTF8);
        return;
    }
    let s = msg.nv.raw_span(pos, data.len());
    msg.nv.set_builtin_span(Builtin::Message, s);
    let skip_validate = may_sanitize && opts.flags.has(ParseFlags::SANITIZE_UTF8);
    if !skip_validate && validates(opts.flags, text) {
        msg.flags.set(MsgFlags::UTF8);
    }
}

/// syslog-ng's `append_unsafe_utf8_as_escaped_binary`: invalid bytes and control characters
/// as `\xhh`, the usual C escapes for `\b \f \n \r \t`, backslash doubled.
pub fn escape_binary(text: &[u8], out: &mut Vec<u8>) {
    for chunk in text.utf8_chunks() {
        for c in chunk.valid().chars() {
            let u = c as u32;
            if u < 32 || c == '\\' {
                match c {
                    '\u{8}' => out.extend_from_slice(b"\\b"),
                    '\u{c}' => out.extend_from_slice(b"\\f"),
                    '\n' => out.extend_from_slice(b"\\n"),
                    '\r' => out.extend_from_slice(b"\\r"),
                    '\t' => out.extend_from_slice(b"\\t"),
                    '\\' => out.extend_from_slice(b"\\\\"),
                    _ => out.extend_from_slice(format!("\\x{u:02x}").as_bytes()),
                }
            } else {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
        for &b in chunk.invalid() {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
}

/// syslog-ng's `msg_format_inject_parse_error`: everything parsed so far is dropped.
fn inject_parse_error(msg: &mut LogMessage, data: &[u8], position: usize) {
    let recvd = msg.recvd;
    let mut text = Vec::with_capacity(data.len() + 40);
    text.extend_from_slice(b"Error processing log message: ");
    if position > 0 {
        let cut = (position - 1).min(data.len());
        text.extend_from_slice(&data[..cut]);
        text.extend_from_slice(b">@<");
        text.extend_from_slice(&data[cut..]);
    } else {
        text.extend_from_slice(data);
    }
    let mut fresh = LogMessage::with_payload(Payload::with_raw(&[], text.len() + 64), recvd);
    fresh.ack = msg.ack.take();
    fresh.tags = std::mem::take(&mut msg.tags);
    fresh.nv.set_builtin(Builtin::Host, b"");
    fresh.nv.set_builtin(Builtin::Message, &text);
    fresh.nv.set_builtin(Builtin::Program, b"syslog-ng");
    fresh
        .nv
        .set_builtin(Builtin::Pid, std::process::id().to_string().as_bytes());
    fresh.flags.set(MsgFlags::LOCAL);
    fresh.flags.set(MsgFlags::PARSE_ERROR);
    fresh.pri = 5 * 8 + 3; // syslog.err
    *msg = fresh;
}

/// syslog-ng's `msg_format_postprocess_message`.
fn postprocess(msg: &mut LogMessage, opts: &ParseOptions, ctx: &Ctx) {
    let flags = opts.flags;
    if !ctx.parse_date {
        msg.stamp = msg.recvd;
        if let Some(z) = &opts.recv_time_zone {
            msg.stamp.gmtoff = z.offset_at(msg.recvd.sec);
        }
    }
    if flags.has(ParseFlags::NO_MULTI_LINE) {
        let m = msg.message();
        if memchr::memchr3(b'\r', b'\n', 0, m).is_some() {
            let fixed: Vec<u8> = m
                .iter()
                .map(|&c| {
                    if matches!(c, b'\r' | b'\n' | 0) {
                        b' '
                    } else {
                        c
                    }
                })
                .collect();
            msg.nv.set_builtin(Builtin::Message, &fixed);
        }
    }
    if flags.has(ParseFlags::LOCAL) {
        msg.flags.set(MsgFlags::LOCAL);
    }
    if flags.has(ParseFlags::ASSUME_UTF8) {
        msg.flags.set(MsgFlags::UTF8);
    }
}

/// syslog-ng's `log_source_mangle_hostname`: HOST_FROM is the peer's name; HOST keeps the
/// name from the message only with keep-hostname(yes) (and when it is not empty), otherwise
/// it becomes the peer's name, or a chain (`orig/peer`, `peer/peer`, `group@peer`) with
/// chain-hostnames(yes). SOURCEIP is the peer's address.
pub fn mangle_hostname(msg: &mut LogMessage, opts: &ParseOptions, peer: Option<&PeerInfo>) {
    let resolved = resolve_host_from(peer, opts);
    msg.nv.set_builtin(Builtin::HostFrom, resolved.as_bytes());
    if let Some(addr) = peer.and_then(|p| p.addr) {
        msg.nv
            .set_builtin(Builtin::SourceIp, format_ip(addr).as_str().as_bytes());
    }
    let orig_empty = msg.nv.builtin(Builtin::Host).is_none_or(<[u8]>::is_empty);
    if opts.host.keep_hostname && !orig_empty {
        return;
    }
    if opts.host.chain_hostnames {
        msg.flags.set(MsgFlags::CHAINED_HOSTNAME);
        let mut host: Vec<u8> = if msg.flags.has(MsgFlags::SIMPLE_HOSTNAME) {
            resolved.as_bytes().to_vec()
        } else if msg.flags.has(MsgFlags::LOCAL) {
            format!("{}@{}", opts.host.group_name, resolved).into_bytes()
        } else if orig_empty {
            format!("{resolved}/{resolved}").into_bytes()
        } else {
            let mut h = msg.nv.builtin(Builtin::Host).unwrap_or(&[]).to_vec();
            h.push(b'/');
            h.extend_from_slice(resolved.as_bytes());
            h
        };
        host.truncate(255);
        msg.nv.set_builtin(Builtin::Host, &host);
    } else {
        msg.nv.share_builtin(Builtin::HostFrom, Builtin::Host);
    }
}
