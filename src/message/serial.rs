//! A compact, versioned byte form of [`LogMessage`], for records that outlive the process
//! (the disk-buffer). [`encode`] appends it to a buffer, [`decode`] reads it back; the
//! disk-buffer adds framing and checksums around it.
//!
//! Disk-buffer files are kept across upgrades, so the layout below is a file format: change
//! it only under a new version byte, and keep decoding every old version.
//!
//! # Layout, version 2
//!
//! Version 1 (below) followed by the value types, so that a typed value (`@version: 4.0`
//! Python code setting an `int`) reads back typed after the disk-buffer:
//!
//! | field                 | encoding                                                   |
//! |-----------------------|------------------------------------------------------------|
//! | version               | one byte, `0x02`                                           |
//! | ...                   | every field of version 1 after its version byte            |
//! | types                 | varint count, then per value that is not a string: varint key (wire slot 0 to 9 for a built-in, 10 + *i* for dynamic pair *i*), one byte [`ValueType`] code; keys ascending |
//!
//! Nothing follows the types. A version-1 encoding (what earlier builds wrote) decodes with
//! every value a string.
//!
//! # Layout, version 1
//!
//! *varint* is unsigned LEB128 (7 bits a byte, low group first, high bit set on every byte
//! but the last; at most 10 bytes for 64 bits). *zigzag* maps a signed integer to an unsigned
//! one first (0, -1, 1, -2... to 0, 1, 2, 3...) so that small negative numbers stay short.
//! *bytes* is a varint length followed by that many bytes.
//!
//! | field                 | encoding                                                   |
//! |-----------------------|------------------------------------------------------------|
//! | version               | one byte, `0x01`                                           |
//! | `pri`                 | varint, at most `u16::MAX`                                 |
//! | `flags`               | varint, at most `u16::MAX` (unknown bits are kept)         |
//! | `recvd.sec`           | zigzag varint (`i64`)                                      |
//! | `recvd.usec`          | varint, at most `u32::MAX`                                 |
//! | `recvd.gmtoff`        | zigzag varint, within `i32`                                |
//! | `stamp.sec`           | zigzag varint of `stamp.sec - recvd.sec` (wrapping `i64`)  |
//! | `stamp.usec`          | varint, at most `u32::MAX`                                 |
//! | `stamp.gmtoff`        | zigzag varint, within `i32`                                |
//! | built-ins present     | varint bitmap: bit *i* set when wire slot *i* has a value  |
//! | each present built-in | in slot order: varint *h*; *h* even: *h*/2 value bytes follow; *h* odd: the same value as slot *h*/2, an earlier present slot |
//! | dynamic pairs         | varint count, then per pair: name *bytes*, value *bytes*, in storage order |
//! | tags                  | varint count, then per tag: its name as *bytes* (UTF-8)     |
//!
//! In version 1 nothing follows the tags: trailing bytes are an error. Wire slots of the built-ins, 0 to
//! 9: HOST, HOST_FROM, MESSAGE, PROGRAM, PID, MSGID, SOURCE, LEGACY_MSGHDR, RAWMSG, SOURCEIP
//! (`WIRE_SLOTS`, fixed here rather than taken from [`Builtin`]'s order so that reordering
//! the enum cannot change the format). A set-but-empty value (length 0) is distinct from an
//! absent one. The stamp is written relative to the received time because the two are
//! normally seconds apart (one or two bytes instead of five).
//!
//! # What is not written
//!
//! * The ack token: it belongs to the running source; a message read back has none.
//! * The payload's storage layout: where values sit in the buffer, which built-ins share
//!   bytes (HOST and HOST_FROM, MESSAGE inside the raw message), dead bytes of overwritten
//!   values, the raw-message prefix that no value references. Only values are written;
//!   decoding lays them out afresh in one allocation. Built-ins with equal values are
//!   written once and share their bytes again after decoding.
//! * Tag ids: they are numbers of this process's tag registry, so tags are written by name
//!   and re-interned on decode (a tag id without a registered name cannot be written and is
//!   left out; [`TagId::intern`] never makes one).

use std::fmt;
use std::sync::Arc;

use super::message::{LogMessage, MsgFlags, TagId};
use super::nv::{Builtin, N_BUILTIN, Payload, ValueType};
use super::timestamp::UnixTime;

/// The version byte this build writes.
pub(crate) const VERSION: u8 = 2;

/// The version before value types: still read.
const VERSION_UNTYPED: u8 = 1;

/// Built-ins in wire slot order (see the module documentation). A new built-in takes the
/// next slot; version 1 data then stays readable, though older binaries reject the new bit.
pub(crate) const WIRE_SLOTS: [Builtin; N_BUILTIN] = [
    Builtin::Host,
    Builtin::HostFrom,
    Builtin::Message,
    Builtin::Program,
    Builtin::Pid,
    Builtin::MsgId,
    Builtin::Source,
    Builtin::LegacyMsgHdr,
    Builtin::RawMsg,
    Builtin::SourceIp,
];

/// Values of one message may not exceed what a payload's 32-bit spans address.
const MAX_PAYLOAD: usize = u32::MAX as usize - 1;

/// The part of an encoding a [`DecodeError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The leading version byte.
    Version,
    /// `pri`.
    Priority,
    /// `flags`.
    Flags,
    /// Received time, seconds.
    RecvdSec,
    /// Received time, microseconds.
    RecvdUsec,
    /// Received time, UTC offset.
    RecvdOffset,
    /// Stamp, seconds.
    StampSec,
    /// Stamp, microseconds.
    StampUsec,
    /// Stamp, UTC offset.
    StampOffset,
    /// The bitmap of present built-ins.
    BuiltinSet,
    /// One built-in value.
    Builtin(Builtin),
    /// The number of dynamic name-value pairs.
    PairCount,
    /// A dynamic pair's name.
    PairName,
    /// A dynamic pair's value.
    PairValue,
    /// The number of tags.
    TagCount,
    /// A tag name.
    TagName,
    /// The number of typed values.
    TypeCount,
    /// A typed value's key (which value).
    TypeKey,
    /// A typed value's type code.
    TypeCode,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Field::Version => "version",
            Field::Priority => "priority",
            Field::Flags => "flags",
            Field::RecvdSec => "received time",
            Field::RecvdUsec => "received time microseconds",
            Field::RecvdOffset => "received time offset",
            Field::StampSec => "stamp",
            Field::StampUsec => "stamp microseconds",
            Field::StampOffset => "stamp offset",
            Field::BuiltinSet => "built-in value set",
            Field::Builtin(b) => return write!(f, "value {}", b.name()),
            Field::PairCount => "name-value pair count",
            Field::PairName => "name-value pair name",
            Field::PairValue => "name-value pair value",
            Field::TagCount => "tag count",
            Field::TagName => "tag name",
            Field::TypeCount => "value type count",
            Field::TypeKey => "value type key",
            Field::TypeCode => "value type code",
        };
        f.write_str(s)
    }
}

/// Why bytes are not a serialised message. Decoding checks everything, so garbage (a
/// damaged record that slipped past its checksum, a file of another format) is an error,
/// never a panic or a half-read message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The version byte is not one this build reads (a newer format, or not a message).
    #[error(
        "unknown serialised message version {0} (this build reads versions \
         {VERSION_UNTYPED} and {VERSION})"
    )]
    UnknownVersion(u8),
    /// The input ends inside this field.
    #[error("serialised message truncated in its {0}")]
    Truncated(Field),
    /// This field holds a value out of its range (an overlong varint, a priority above
    /// 65535, an unknown built-in slot, a reference to a slot that is not present...).
    #[error("serialised message has a bad {0}")]
    BadField(Field),
    /// A tag name is not UTF-8.
    #[error("serialised message has a tag name that is not UTF-8")]
    InvalidTagName,
    /// A dynamic pair's name or a tag occurs twice (an encoding never repeats one).
    #[error("serialised message repeats a {0}")]
    Duplicate(Field),
    /// Bytes follow the last field.
    #[error("{0} bytes follow the serialised message")]
    TrailingBytes(usize),
    /// The values add up to more than a message can hold (4 GiB).
    #[error("serialised message values exceed a message's 4 GiB")]
    TooLarge,
}

/// Appends the version-2 encoding of `msg` to `out` (layout in the module documentation).
/// Everything but the ack token is written; tags go by name.
pub fn encode(msg: &LogMessage, out: &mut Vec<u8>) {
    let values: usize = msg.nv.iter().map(|(n, v)| n.len() + v.len()).sum();
    out.reserve(40 + values + 4 * msg.tags.len());
    out.push(VERSION);
    put_varint(out, u64::from(msg.pri));
    put_varint(out, u64::from(msg.flags.0));
    put_varint(out, zigzag(msg.recvd.sec));
    put_varint(out, u64::from(msg.recvd.usec));
    put_varint(out, zigzag(i64::from(msg.recvd.gmtoff)));
    put_varint(out, zigzag(msg.stamp.sec.wrapping_sub(msg.recvd.sec)));
    put_varint(out, u64::from(msg.stamp.usec));
    put_varint(out, zigzag(i64::from(msg.stamp.gmtoff)));

    let slots = WIRE_SLOTS.map(|b| msg.nv.builtin(b));
    let present = slots
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_some())
        .fold(0u64, |m, (i, _)| m | (1 << i));
    put_varint(out, present);
    for (i, value) in slots.iter().enumerate() {
        let Some(value) = value else { continue };
        match slots[..i].iter().position(|v| v == &Some(*value)) {
            Some(j) => put_varint(out, ((j as u64) << 1) | 1),
            None => {
                put_varint(out, (value.len() as u64) << 1);
                out.extend_from_slice(value);
            }
        }
    }

    let mut typed: smallvec::SmallVec<[(u64, ValueType); 4]> = smallvec::SmallVec::new();
    for (i, b) in WIRE_SLOTS.iter().enumerate() {
        let ty = msg.nv.builtin_types()[*b as usize];
        if slots[i].is_some() && ty != ValueType::String {
            typed.push((i as u64, ty));
        }
    }
    put_varint(out, msg.nv.extras().count() as u64);
    for (i, (name, value, ty)) in msg.nv.extras_typed().enumerate() {
        put_bytes(out, name);
        put_bytes(out, value);
        if ty != ValueType::String {
            typed.push(((N_BUILTIN + i) as u64, ty));
        }
    }

    let names: smallvec::SmallVec<[Arc<str>; 4]> =
        msg.tags.iter().filter_map(|t| t.name()).collect();
    put_varint(out, names.len() as u64);
    for name in &names {
        put_bytes(out, name.as_bytes());
    }

    put_varint(out, typed.len() as u64);
    for (key, ty) in typed {
        put_varint(out, key);
        out.push(ty as u8);
    }
}

/// Reads a message [`encode`] wrote. The whole of `bytes` must be one encoding. Tags are
/// re-interned by name (normally a lookup: the configuration that tags messages has
/// registered them already); the message has no ack token.
pub fn decode(bytes: &[u8]) -> Result<LogMessage, DecodeError> {
    let mut r = Reader { b: bytes, pos: 0 };
    let version = r.byte(Field::Version)?;
    if version != VERSION && version != VERSION_UNTYPED {
        return Err(DecodeError::UnknownVersion(version));
    }
    let pri = r.uint(Field::Priority, u64::from(u16::MAX))? as u16;
    let flags = r.uint(Field::Flags, u64::from(u16::MAX))? as u16;
    let recvd_sec = unzigzag(r.varint(Field::RecvdSec)?);
    let recvd = UnixTime::new(
        recvd_sec,
        r.uint(Field::RecvdUsec, u64::from(u32::MAX))? as u32,
        r.offset(Field::RecvdOffset)?,
    );
    let stamp = UnixTime::new(
        recvd_sec.wrapping_add(unzigzag(r.varint(Field::StampSec)?)),
        r.uint(Field::StampUsec, u64::from(u32::MAX))? as u32,
        r.offset(Field::StampOffset)?,
    );

    // First read and check everything, then build: the payload is allocated once, at its
    // final size, and no tag is interned for input that turns out to be bad (except for
    // the names before a repeated one, which is noticed while interning).
    let present = r.uint(Field::BuiltinSet, (1 << N_BUILTIN) - 1)?;
    let mut slots = [Slot::Absent; N_BUILTIN];
    let mut total = 0usize;
    for (i, b) in WIRE_SLOTS.iter().enumerate() {
        if present & (1 << i) == 0 {
            continue;
        }
        let field = Field::Builtin(*b);
        let h = r.varint(field)?;
        slots[i] = if h & 1 == 1 {
            match usize::try_from(h >> 1).ok().and_then(|j| slots[..i].get(j)) {
                Some(Slot::Value(_)) => Slot::SameAs((h >> 1) as usize),
                Some(Slot::SameAs(k)) => Slot::SameAs(*k),
                _ => return Err(DecodeError::BadField(field)),
            }
        } else {
            let v = r.take(h >> 1, field)?;
            total = total.saturating_add(v.len());
            Slot::Value(v)
        };
    }

    // Each pair takes at least two bytes (two lengths), each tag one: a count beyond that
    // cannot be satisfied, and must not size an allocation.
    let n_pairs = r.count(Field::PairCount, 2)?;
    let mut pairs = Vec::with_capacity(n_pairs);
    for _ in 0..n_pairs {
        let name = r.bytes(Field::PairName)?;
        let value = r.bytes(Field::PairValue)?;
        total = total.saturating_add(name.len() + value.len());
        pairs.push((name, value));
    }
    let n_tags = r.count(Field::TagCount, 1)?;
    let mut tags = Vec::with_capacity(n_tags);
    for _ in 0..n_tags {
        let name = r.bytes(Field::TagName)?;
        tags.push(std::str::from_utf8(name).map_err(|_| DecodeError::InvalidTagName)?);
    }
    let mut types = Vec::new();
    if version >= 2 {
        let n_types = r.count(Field::TypeCount, 2)?;
        types.reserve(n_types);
        let n_keys = (N_BUILTIN + pairs.len()) as u64;
        for _ in 0..n_types {
            let key = r.varint(Field::TypeKey)?;
            let last = types.last().map(|(k, _)| *k);
            let present = match usize::try_from(key) {
                Ok(k) if k < N_BUILTIN => present & (1 << k) != 0,
                _ => key < n_keys,
            };
            if !present || last.is_some_and(|l| key <= l) {
                return Err(DecodeError::BadField(Field::TypeKey));
            }
            let ty = ValueType::from_code(r.byte(Field::TypeCode)?)
                .ok_or(DecodeError::BadField(Field::TypeCode))?;
            types.push((key, ty));
        }
    }
    if r.pos != bytes.len() {
        return Err(DecodeError::TrailingBytes(bytes.len() - r.pos));
    }
    if total > MAX_PAYLOAD {
        return Err(DecodeError::TooLarge);
    }

    // Payload calls, not LogMessage::set: that one drops LEGACY_MSGHDR when PROGRAM is set
    // and regroups `.SDATA.` names, while here values and order come back as they were.
    let mut nv = Payload::with_raw(&[], total);
    for (i, slot) in slots.iter().enumerate() {
        match slot {
            Slot::Absent => {}
            Slot::Value(v) => nv.set_builtin(WIRE_SLOTS[i], v),
            Slot::SameAs(j) => nv.share_builtin(WIRE_SLOTS[*j], WIRE_SLOTS[i]),
        }
    }
    for (name, value) in pairs {
        let v = nv.append(value);
        if !nv.set_extra_span(name, v, None) {
            return Err(DecodeError::Duplicate(Field::PairName));
        }
    }
    // After every value is in place: sharing a built-in's bytes copies its type too.
    for (key, ty) in types {
        let key = key as usize;
        match WIRE_SLOTS.get(key) {
            Some(b) => nv.set_builtin_type(*b, ty),
            None => nv.set_extra_type(key - N_BUILTIN, ty),
        }
    }
    let mut msg = LogMessage::with_payload(nv, recvd);
    msg.stamp = stamp;
    msg.pri = pri;
    msg.flags = MsgFlags(flags);
    for name in tags {
        let id = TagId::intern(name);
        if msg.has_tag(id) {
            return Err(DecodeError::Duplicate(Field::TagName));
        }
        msg.set_tag(id);
    }
    Ok(msg)
}

/// A built-in slot while decoding.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Absent,
    Value(&'a [u8]),
    /// The same bytes as this (earlier, literal) slot.
    SameAs(usize),
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    (u >> 1) as i64 ^ -((u & 1) as i64)
}

/// A cursor over the input; every read checks the length and names the field it reads.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self, f: Field) -> Result<u8, DecodeError> {
        let c = *self.b.get(self.pos).ok_or(DecodeError::Truncated(f))?;
        self.pos += 1;
        Ok(c)
    }

    fn varint(&mut self, f: Field) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let c = self.byte(f)?;
            let part = u64::from(c & 0x7f);
            // The tenth byte carries only bit 63.
            if shift == 63 && part > 1 {
                return Err(DecodeError::BadField(f));
            }
            v |= part << shift;
            if c & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError::BadField(f))
    }

    fn uint(&mut self, f: Field, max: u64) -> Result<u64, DecodeError> {
        let v = self.varint(f)?;
        if v > max {
            return Err(DecodeError::BadField(f));
        }
        Ok(v)
    }

    fn offset(&mut self, f: Field) -> Result<i32, DecodeError> {
        i32::try_from(unzigzag(self.varint(f)?)).map_err(|_| DecodeError::BadField(f))
    }

    fn take(&mut self, len: u64, f: Field) -> Result<&'a [u8], DecodeError> {
        let rest = self.b.get(self.pos..).unwrap_or_default();
        let len = usize::try_from(len)
            .ok()
            .filter(|n| *n <= rest.len())
            .ok_or(DecodeError::Truncated(f))?;
        self.pos += len;
        Ok(&rest[..len])
    }

    fn bytes(&mut self, f: Field) -> Result<&'a [u8], DecodeError> {
        let len = self.varint(f)?;
        self.take(len, f)
    }

    /// A count of entries of at least `min_size` bytes each, checked against what is left.
    fn count(&mut self, f: Field, min_size: usize) -> Result<usize, DecodeError> {
        let n = self.varint(f)?;
        let left = self.b.len().saturating_sub(self.pos) / min_size;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= left)
            .ok_or(DecodeError::Truncated(f))
    }
}

/// The first observable difference between two messages, `None` when there is none: pri,
/// flags, both times, every built-in (set or not), every dynamic pair in order, `$SDATA`,
/// and the tags by name (ids differ between processes). The ack token is not compared: it
/// is runtime state that decoding does not restore.
#[cfg(test)]
pub(crate) fn difference(a: &LogMessage, b: &LogMessage) -> Option<String> {
    if (a.pri, a.flags, a.stamp, a.recvd) != (b.pri, b.flags, b.stamp, b.recvd) {
        return Some(format!(
            "pri/flags/stamp/recvd: {:?} vs {:?}",
            (a.pri, a.flags, a.stamp, a.recvd),
            (b.pri, b.flags, b.stamp, b.recvd)
        ));
    }
    for bi in Builtin::ALL {
        let (ta, tb) = (
            a.nv.builtin_types()[bi as usize],
            b.nv.builtin_types()[bi as usize],
        );
        if a.nv.builtin(bi).is_some() && ta != tb {
            return Some(format!("{} type: {ta:?} vs {tb:?}", bi.name()));
        }
        if a.nv.builtin(bi) != b.nv.builtin(bi) {
            return Some(format!(
                "{}: {:?} vs {:?}",
                bi.name(),
                a.nv.builtin(bi).map(String::from_utf8_lossy),
                b.nv.builtin(bi).map(String::from_utf8_lossy)
            ));
        }
    }
    let pairs = |m: &LogMessage| -> Vec<(Vec<u8>, Vec<u8>, ValueType)> {
        m.nv.extras_typed()
            .map(|(n, v, t)| (n.to_vec(), v.to_vec(), t))
            .collect()
    };
    if pairs(a) != pairs(b) {
        return Some(format!("pairs: {:?} vs {:?}", a.nv, b.nv));
    }
    let sdata = |m: &LogMessage| {
        let mut out = Vec::new();
        m.format_sdata(&mut out, 0);
        out
    };
    if sdata(a) != sdata(b) {
        return Some("$SDATA differs".into());
    }
    let tags = |m: &LogMessage| {
        let mut t: Vec<Option<Arc<str>>> = m.tags.iter().map(|t| t.name()).collect();
        t.sort();
        t
    };
    if tags(a) != tags(b) {
        return Some(format!("tags: {:?} vs {:?}", tags(a), tags(b)));
    }
    None
}

#[cfg(test)]
#[path = "serial_tests.rs"]
mod tests;
