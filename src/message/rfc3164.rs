//! RFC 3164 ("BSD") headers in all the shapes devices send, parsed the way syslog-ng 3.38's
//! `log_msg_parse_legacy` does — including its quirks, because users diff the output:
//!
//! * `<pri>` optional (default-priority when absent); a non-digit inside `<...>` is a parse
//!   error; `<13` with no `>` is accepted;
//! * Cisco sequence numbers `123: ` (stored as `.SDATA.meta.sequenceId`), and `*`/`.` before the
//!   stamp (`.SDATA.timeQuality.isSynced` 0/1);
//! * stamps: BSD, BSD with fraction, ISO 8601, PIX/ASA `Mmm dd yyyy hh:mm:ss:`, LinkSys
//!   `Mmm dd hh:mm:ss yyyy`, one trailing colon skipped;
//! * AIX `Message forwarded from host:`, `last message repeated` (no host/program);
//! * host name: up to a space, not containing `[`, stopping at a `:` unless it looks like IPv6;
//! * `program[pid]: ` with every part optional; without a stamp the header is just the
//!   program (or `kernel` for local kernel messages).

use super::message::LogMessage;
use super::nv::Builtin;
use super::options::{BadHostname, ParseFlags, ParseOptions};
use super::parse::{Ctx, is_valid_utf8, parse_pri, set_message_checked};
use super::timestamp::{self, UnixTime};

const AIX_FWD: &[u8] = b"Message forwarded from ";
const REPEAT: &[u8] = b"last message repeated";

/// Parses `data` (the buffer's raw region, already stripped of trailing `\n`/`\0`) into `msg`.
/// `Err(pos)` is the problem position syslog-ng reports.
pub(crate) fn parse_legacy(
    msg: &mut LogMessage,
    data: &[u8],
    opts: &ParseOptions,
    ctx: &Ctx,
) -> Result<(), usize> {
    let mut pos = 0;
    msg.pri = parse_pri(data, &mut pos, opts).ok_or(0usize)?;
    if !opts.flags.has(ParseFlags::NO_HEADER) {
        legacy_header(msg, data, &mut pos, opts, ctx);
    }
    set_message_checked(msg, data, pos, opts, true);
    Ok(())
}

fn skip_spaces(data: &[u8], pos: &mut usize) {
    while data.get(*pos) == Some(&b' ') {
        *pos += 1;
    }
}

fn cisco_sequence_id(msg: &mut LogMessage, data: &[u8], pos: &mut usize) {
    let start = *pos;
    let mut p = start;
    while p < data.len() && data[p] != b':' {
        if !data[p].is_ascii_digit() {
            return;
        }
        p += 1;
    }
    if p >= data.len() {
        return;
    }
    p += 1;
    if data.get(p) != Some(&b' ') {
        return;
    }
    let v = msg.nv.raw_span(start, p - 1);
    msg.nv.set_extra_span(b".SDATA.meta.sequenceId", v, None);
    *pos = p;
}

/// Parses the stamp at `pos` (syslog-ng's `log_msg_parse_date`). On failure the stamp is the
/// received time in the source's zone and `false` is returned.
pub(crate) fn parse_date(
    msg: &mut LogMessage,
    data: &[u8],
    pos: &mut usize,
    opts: &ParseOptions,
    ctx: &Ctx,
    rfc5424: bool,
) -> bool {
    let rest = data.get(*pos..).unwrap_or(&[]);
    if rfc5424 && rest.first() == Some(&b'-') {
        // The nil stamp means "now" in the local zone.
        let off = timestamp::offset_at(&opts.local_time_zone, ctx.now.sec);
        msg.stamp = UnixTime::new(ctx.now.sec, ctx.now.usec, off);
        *pos += 1;
        return true;
    }
    let scanned = if rfc5424 {
        timestamp::scan_rfc5424(rest)
    } else {
        timestamp::scan_rfc3164(rest)
    };
    let Some((w, n)) = scanned else {
        msg.stamp = msg.recvd;
        if let Some(h) = ctx.tz_hint {
            msg.stamp.gmtoff = h;
        }
        return false;
    };
    *pos += n;
    if ctx.parse_date {
        let year = w
            .year
            .unwrap_or_else(|| timestamp::guess_year(w.mon, ctx.now.sec, &opts.local_time_zone));
        msg.stamp = timestamp::to_unix(&w, year, ctx.tz_hint, &opts.local_time_zone);
        if opts.flags.has(ParseFlags::GUESS_TIMEZONE) {
            timestamp::guess_timezone(&mut msg.stamp, ctx.now.sec);
        }
    }
    true
}

fn legacy_header(
    msg: &mut LogMessage,
    data: &[u8],
    pos: &mut usize,
    opts: &ParseOptions,
    ctx: &Ctx,
) {
    cisco_sequence_id(msg, data, pos);
    skip_spaces(data, pos);
    match data.get(*pos) {
        Some(b'*') => {
            if ctx.parse_date {
                let v = msg.nv.append(b"0");
                msg.nv
                    .set_extra_span(b".SDATA.timeQuality.isSynced", v, None);
            }
            *pos += 1;
        }
        Some(b'.') => {
            if ctx.parse_date {
                let v = msg.nv.append(b"1");
                msg.nv
                    .set_extra_span(b".SDATA.timeQuality.isSynced", v, None);
            }
            *pos += 1;
        }
        _ => {}
    }

    if parse_date(msg, data, pos, opts, ctx, false) {
        let mut host: Option<(usize, usize)> = None;
        skip_spaces(data, pos);
        let rest = data.get(*pos..).unwrap_or(&[]);
        if rest.starts_with(AIX_FWD) {
            *pos += AIX_FWD.len();
            let start = *pos;
            while *pos < data.len() && data[*pos] != b':' {
                *pos += 1;
            }
            host = Some((start, *pos - start));
            while *pos < data.len() && (data[*pos] == b' ' || data[*pos] == b':') {
                *pos += 1;
            }
        }
        let rest = data.get(*pos..).unwrap_or(&[]);
        // syslog-ng compares with sizeof() here, which counts the NUL: one more byte is needed.
        if rest.len() > REPEAT.len() && rest.starts_with(REPEAT) {
            // "last message repeated N times": no host, no program.
        } else {
            if host.is_none() && opts.flags.has(ParseFlags::EXPECT_HOSTNAME) {
                host = parse_hostname(data, pos, opts.flags, opts.bad_hostname.as_deref());
                skip_spaces(data, pos);
            }
            legacy_program_name(msg, data, pos, opts.flags);
        }
        if let Some((start, len)) = host {
            let s = msg.nv.raw_span(start, start + len.min(255));
            msg.nv.set_builtin_span(Builtin::Host, s);
        }
    } else if (msg.pri & 0x03f8) == 0 && opts.flags.has(ParseFlags::LOCAL) {
        msg.nv.set_builtin(Builtin::Program, b"kernel");
    } else {
        legacy_program_name(msg, data, pos, opts.flags);
    }
}

/// `program[pid]: `; PROGRAM is set even when empty, as in syslog-ng.
pub(crate) fn legacy_program_name(
    msg: &mut LogMessage,
    data: &[u8],
    pos: &mut usize,
    flags: ParseFlags,
) {
    let start = *pos;
    let n = data.len();
    let mut p = start;
    while p < n && !matches!(data[p], b' ' | b'[' | b':') {
        p += 1;
    }
    let prog = msg.nv.raw_span(start, p);
    msg.nv.set_builtin_span(Builtin::Program, prog);
    if p < n && data[p] == b'[' {
        let pid_start = p + 1;
        while p < n && !matches!(data[p], b' ' | b']' | b':') {
            p += 1;
        }
        if p < n {
            let pid = msg.nv.raw_span(pid_start, p);
            msg.nv.set_builtin_span(Builtin::Pid, pid);
        }
        if p < n && data[p] == b']' {
            p += 1;
        }
    }
    if p < n && data[p] == b':' {
        p += 1;
    }
    if p < n && data[p] == b' ' {
        p += 1;
    }
    if flags.has(ParseFlags::STORE_LEGACY_MSGHDR) {
        let hdr = msg.nv.raw_span(start, p);
        msg.nv.set_builtin_span(Builtin::LegacyMsgHdr, hdr);
    }
    *pos = p;
}

/// Characters check-hostname accepts.
fn valid_hostname_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':' | b'@' | b'/')
}

/// A host-name candidate at `pos`: it must end in a space. A `:` ends it unless what came
/// so far could be an IPv6 address (hex digits and colons, at most 4 digits per group, fewer
/// than 8 groups). Returns `(start, len)` and moves `pos` past it, or leaves `pos` alone.
pub(crate) fn parse_hostname(
    data: &[u8],
    pos: &mut usize,
    flags: ParseFlags,
    bad_hostname: Option<&BadHostname>,
) -> Option<(usize, usize)> {
    let start = *pos;
    let n = data.len();
    let mut p = start;
    let mut failed = false;
    let mut segment = 0u8;
    let mut digits = 0u8;
    while p < n && data[p] != b' ' && data[p] != b'[' && p - start < 255 {
        let c = data[p];
        if !failed {
            if c != b':' && !c.is_ascii_hexdigit() {
                failed = true;
            } else if c.is_ascii_hexdigit() {
                digits += 1;
                if digits > 4 {
                    failed = true;
                }
            } else {
                digits = 0;
                segment += 1;
                if segment >= 8 {
                    failed = true;
                }
            }
        }
        if c == b':' && failed {
            break;
        }
        if flags.has(ParseFlags::CHECK_HOSTNAME) && !valid_hostname_char(c) {
            break;
        }
        p += 1;
    }
    if p < n && data[p] == b' ' && !bad_hostname.is_some_and(|bad| bad(&data[start..p])) {
        *pos = p;
        Some((start, (p - start).min(255)))
    } else {
        None
    }
}

/// Whether MESSAGE should be flagged UTF-8 after validate-utf8.
pub(crate) fn validates(flags: ParseFlags, text: &[u8]) -> bool {
    flags.has(ParseFlags::VALIDATE_UTF8) && is_valid_utf8(text)
}
