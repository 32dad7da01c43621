//! RFC 5424 (`flags(syslog-protocol)`, the `syslog()` driver's default) as syslog-ng 3.38's
//! `log_msg_parse_syslog_proto` parses it: `<pri>1 STAMP HOST APP PROCID MSGID SD [MSG]`,
//! nil values `-`, structured data with `\"`, `\\`, `\]` escapes (any other backslash is
//! kept), several elements, a BOM marking UTF-8. Without `<pri>1` it falls back to RFC 3164
//! (unless `no-rfc3164-fallback`).

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take_while;
use nom::character::complete::char as ch;

use super::message::LogMessage;
use super::nv::Builtin;
use super::options::{ParseFlags, ParseOptions};
use super::parse::{Ctx, parse_pri, set_message_checked};
use super::rfc3164::{parse_date, parse_hostname, parse_legacy};

/// Parses `data` into `msg`; `Err(pos)` is syslog-ng's problem position.
pub(crate) fn parse_syslog_proto(
    msg: &mut LogMessage,
    data: &[u8],
    opts: &ParseOptions,
    ctx: &Ctx,
) -> Result<(), usize> {
    let mut pos = 0;
    let header = parse_pri(data, &mut pos, opts).and_then(|pri| {
        let (_, n) = version(&data[pos..]).ok()?;
        Some((pri, n))
    });
    let Some((pri, vlen)) = header else {
        if !opts.flags.has(ParseFlags::NO_RFC3164_FALLBACK) {
            return parse_legacy(msg, data, opts, ctx);
        }
        return Err(0);
    };
    msg.pri = pri;
    pos += vlen;

    skip_space(data, &mut pos)?;
    if !parse_date(msg, data, &mut pos, opts, ctx, true) {
        return Err(pos);
    }
    skip_space(data, &mut pos)?;

    let host = parse_hostname(data, &mut pos, opts.flags, None);
    if skip_space(data, &mut pos).is_err() {
        return Err(pos + 1);
    }
    if let Some((start, len)) = host {
        if !(len == 1 && data[start] == b'-') {
            let s = msg.nv.raw_span(start, start + len);
            msg.nv.set_builtin_span(Builtin::Host, s);
        }
    }

    column(msg, Builtin::Program, data, &mut pos, 48);
    skip_space(data, &mut pos)?;
    column(msg, Builtin::Pid, data, &mut pos, 128);
    skip_space(data, &mut pos)?;
    column(msg, Builtin::MsgId, data, &mut pos, 32);
    skip_space(data, &mut pos)?;

    parse_sd(msg, data, &mut pos, opts.sdata_param_value_max)?;

    if pos < data.len() {
        skip_space(data, &mut pos)?;
        if data[pos..].starts_with(b"\xEF\xBB\xBF") {
            msg.flags.set(super::message::MsgFlags::UTF8);
            pos += 3;
        } else {
            set_message_checked(msg, data, pos, opts, false);
            return Ok(());
        }
    }
    let s = msg.nv.raw_span(pos, data.len());
    msg.nv.set_builtin_span(Builtin::Message, s);
    Ok(())
}

/// The version: digits up to a space (or the end), which must make 1.
fn version(input: &[u8]) -> IResult<&[u8], usize> {
    let (rest, digits) = take_while(|c: u8| c != b' ')(input)?;
    let mut v: u32 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(nom::Err::Error(nom::error::Error::new(
                input,
                nom::error::ErrorKind::Digit,
            )));
        }
        v = v.wrapping_mul(10).wrapping_add(u32::from(c - b'0'));
    }
    if v != 1 {
        return Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Verify,
        )));
    }
    Ok((rest, digits.len()))
}

fn skip_space(data: &[u8], pos: &mut usize) -> Result<(), usize> {
    match ch::<&[u8], nom::error::Error<&[u8]>>(' ').parse(data.get(*pos..).unwrap_or(&[])) {
        Ok(_) => {
            *pos += 1;
            Ok(())
        }
        Err(_) => Err(*pos),
    }
}

/// A header field up to the next space: `-` alone is nil; the value is cut at `max`; with no
/// space left the field is not stored (and the caller's space check fails).
fn column(msg: &mut LogMessage, b: Builtin, data: &[u8], pos: &mut usize, max: usize) {
    let rest = data.get(*pos..).unwrap_or(&[]);
    match memchr::memchr(b' ', rest) {
        Some(n) => {
            if n > 1 || rest.first() != Some(&b'-') {
                let s = msg.nv.raw_span(*pos, *pos + n.min(max));
                msg.nv.set_builtin_span(b, s);
            }
            *pos += n;
        }
        None => *pos = data.len(),
    }
}

fn name_char(c: u8) -> bool {
    c.is_ascii() && !matches!(c, b'=' | b' ' | b']' | b'"')
}

/// Structured data: `-` or one or more `[id param="value" ...]`. Values are set as
/// `.SDATA.id.param` (an element without parameters as `.SDATA.id` = ""), zero-copy when the
/// value has no escapes. On error the position where syslog-ng stopped is returned.
fn parse_sd(
    msg: &mut LogMessage,
    data: &[u8],
    pos: &mut usize,
    value_max: usize,
) -> Result<(), usize> {
    let n = data.len();
    let mut p = *pos;
    let res = (|| -> Result<(), ()> {
        if p < n && data[p] == b'-' {
            p += 1;
            return Ok(());
        }
        if !(p < n && data[p] == b'[') {
            return Ok(());
        }
        p += 1;
        let mut open = 1u32;
        let mut name: Vec<u8> = Vec::with_capacity(64);
        let mut value: Vec<u8> = Vec::new();
        loop {
            if !(p < n && name_char(data[p])) {
                return Err(());
            }
            let id_start = p;
            while p < n && data[p] != b' ' && data[p] != b']' {
                if p - id_start >= 255 - 7 || !name_char(data[p]) {
                    return Err(());
                }
                p += 1;
            }
            let id = &data[id_start..p];
            name.clear();
            name.extend_from_slice(b".SDATA.");
            name.extend_from_slice(id);
            if p < n && data[p] == b']' {
                let v = msg.nv.append(b"");
                msg.nv.set_extra_span(&name, v, None);
            } else {
                name.push(b'.');
            }
            let prefix_len = name.len();
            while p < n && data[p] != b']' {
                if data[p] == b' ' {
                    p += 1;
                } else {
                    return Err(());
                }
                if !(p < n && name_char(data[p])) {
                    return Err(());
                }
                let pn_start = p;
                while p < n && data[p] != b'=' {
                    if p - pn_start >= 255 - id.len() || !name_char(data[p]) {
                        return Err(());
                    }
                    p += 1;
                }
                name.truncate(prefix_len);
                name.extend_from_slice(&data[pn_start..p]);
                name.truncate(255);
                if p < n && data[p] == b'=' {
                    p += 1;
                } else {
                    return Err(());
                }
                if !(p < n && data[p] == b'"') {
                    return Err(());
                }
                p += 1;
                let v_start = p;
                let mut quote = false;
                let mut escaped = false;
                value.clear();
                while p < n && (data[p] != b'"' || quote) {
                    let c = data[p];
                    if !quote && c == b'\\' {
                        quote = true;
                        escaped = true;
                    } else {
                        if quote && c != b'"' && c != b']' && c != b'\\' && value.len() < value_max
                        {
                            value.push(b'\\');
                        } else if !quote && c == b']' {
                            p += 1;
                            return Err(());
                        }
                        if value.len() < value_max {
                            value.push(c);
                        }
                        quote = false;
                    }
                    p += 1;
                }
                if !(p < n && data[p] == b'"') {
                    return Err(());
                }
                let v = if escaped || p - v_start > value_max {
                    msg.nv.append(&value)
                } else {
                    msg.nv.raw_span(v_start, p)
                };
                p += 1;
                msg.nv.set_extra_span(&name, v, None);
            }
            if p < n && data[p] == b']' {
                p += 1;
                open -= 1;
            } else {
                return Err(());
            }
            if p < n && data[p] == b'[' {
                p += 1;
                open += 1;
            }
            if !(p < n && open != 0) {
                return Ok(());
            }
        }
    })();
    *pos = p;
    res.map_err(|_| p)
}
