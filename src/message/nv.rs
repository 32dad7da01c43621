//! Name-value storage for one message.
//!
//! Layout: one byte buffer per message holds the raw message first and every value written
//! later after it. Values are `(offset, len)` spans into that buffer, so parsing sets
//! `PROGRAM`, `HOST`, `MESSAGE`... without copying a byte, and the whole message costs one heap
//! allocation for its bytes (plus one for the side store when it has non-built-in names).
//!
//! Why not `bytes::Bytes` slices of the socket's read buffer: a queued message would then pin
//! the whole 64 KiB read chunk it came from, which is far worse for memory than the one
//! ~200-byte copy a message costs here (syslog-ng copies too: its payload is `len * 2`).
//!
//! Measured (tests/message_memory.rs): `size_of::<LogMessage>()` is 232 bytes; a typical
//! 200-byte RFC 3164 message from a network peer holds 248 heap bytes in one allocation (the
//! 200 raw bytes plus a 48-byte reserve that HOST_FROM and SOURCEIP fit in), about 500 bytes
//! in all inside its `Arc`. HOST shares HOST_FROM's bytes when it is the peer's name.
//!
//! Built-in names live in a fixed array indexed by [`Builtin`]; any other name (`.SDATA.x.y`,
//! `.json.user`, `custom.field`) lives in a small vector in insertion order, which is also the
//! order `$SDATA` renders structured data in. Names there are short and few, so a linear scan
//! beats hashing.

use std::fmt;

/// The built-in names with a fast slot. `MSG`/`MSGONLY` are aliases of `MESSAGE` and
/// `FULLHOST`/`FULLHOST_FROM` of `HOST`/`HOST_FROM`, as in syslog-ng.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Builtin {
    /// `HOST`: the host the message is about (after keep-hostname/chain-hostnames).
    Host = 0,
    /// `HOST_FROM`: the name of the peer that sent it.
    HostFrom,
    /// `MESSAGE` (`MSG`): the text after the header.
    Message,
    /// `PROGRAM`.
    Program,
    /// `PID`.
    Pid,
    /// `MSGID` (RFC 5424).
    MsgId,
    /// `SOURCE`: the name of the source statement (set by the runtime).
    Source,
    /// `LEGACY_MSGHDR`: the `program[pid]: ` header as received (store-legacy-msghdr).
    LegacyMsgHdr,
    /// `RAWMSG`: the message as received (store-raw-message).
    RawMsg,
    /// `SOURCEIP`: the sender's address as text; unset for local sources (the template layer
    /// renders `127.0.0.1` then, as syslog-ng does).
    SourceIp,
}

/// Number of built-in slots.
pub const N_BUILTIN: usize = 10;

impl Builtin {
    /// All built-ins, in slot order.
    pub const ALL: [Builtin; N_BUILTIN] = [
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

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Host => "HOST",
            Builtin::HostFrom => "HOST_FROM",
            Builtin::Message => "MESSAGE",
            Builtin::Program => "PROGRAM",
            Builtin::Pid => "PID",
            Builtin::MsgId => "MSGID",
            Builtin::Source => "SOURCE",
            Builtin::LegacyMsgHdr => "LEGACY_MSGHDR",
            Builtin::RawMsg => "RAWMSG",
            Builtin::SourceIp => "SOURCEIP",
        }
    }

    /// Looks a name (or alias) up; `None` for names kept in the side store.
    pub fn from_name(name: &[u8]) -> Option<Builtin> {
        Some(match name {
            b"HOST" | b"FULLHOST" => Builtin::Host,
            b"HOST_FROM" | b"FULLHOST_FROM" => Builtin::HostFrom,
            b"MESSAGE" | b"MSG" | b"MSGONLY" => Builtin::Message,
            b"PROGRAM" => Builtin::Program,
            b"PID" => Builtin::Pid,
            b"MSGID" => Builtin::MsgId,
            b"SOURCE" => Builtin::Source,
            b"LEGACY_MSGHDR" => Builtin::LegacyMsgHdr,
            b"RAWMSG" => Builtin::RawMsg,
            b"SOURCEIP" => Builtin::SourceIp,
            _ => return None,
        })
    }
}

/// A value's place in the buffer. `len == u32::MAX` means unset.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    off: u32,
    len: u32,
}

impl Span {
    pub(crate) const UNSET: Span = Span {
        off: 0,
        len: u32::MAX,
    };

    pub(crate) fn new(off: usize, len: usize) -> Span {
        // Messages are capped far below 4 GiB by log-msg-size(); clamp rather than panic.
        let off = u32::try_from(off).unwrap_or(u32::MAX - 1);
        let len = u32::try_from(len).unwrap_or(u32::MAX - 1).min(u32::MAX - 1);
        Span { off, len }
    }

    fn is_set(self) -> bool {
        self.len != u32::MAX
    }

    fn range(self) -> std::ops::Range<usize> {
        let s = self.off as usize;
        s..s + self.len as usize
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_set() {
            write!(f, "{}..{}", self.off, self.off as u64 + self.len as u64)
        } else {
            f.write_str("unset")
        }
    }
}

/// A value's type, as syslog-ng 4 keeps it beside the bytes (`LogMessageValueType`). The
/// bytes are always the value's text form (`5`, `1.500000`, `true`, a syslog-ng list); the
/// type says how a typed consumer (a Python `@version: 4.0` plugin) reads them back. Every
/// value set without a type — parsing, rewrites, parsers — is a string.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValueType {
    /// Text (read as `bytes` by Python).
    #[default]
    String = 0,
    /// A JSON fragment.
    Json = 1,
    /// `true` / `false`.
    Boolean = 2,
    /// A decimal 64-bit integer.
    Integer = 3,
    /// A decimal floating point number.
    Double = 4,
    /// Seconds since the epoch with milliseconds (`sec.msec`).
    DateTime = 5,
    /// A syslog-ng list (comma-separated, quoted where needed).
    List = 6,
    /// No value (empty bytes).
    Null = 7,
    /// Binary data no typed consumer reads.
    Bytes = 8,
    /// A protobuf message (binary).
    Protobuf = 9,
}

impl ValueType {
    /// The type with wire code `code` (the `repr(u8)` value), if there is one.
    pub fn from_code(code: u8) -> Option<ValueType> {
        use ValueType::*;
        [
            String, Json, Boolean, Integer, Double, DateTime, List, Null, Bytes, Protobuf,
        ]
        .get(usize::from(code))
        .copied()
    }
}

#[derive(Clone, Copy, Debug)]
struct Extra {
    name: Span,
    value: Span,
    ty: ValueType,
}

/// The name-value pairs of one message. See the module documentation for the layout.
#[derive(Clone, Default)]
pub struct Payload {
    buf: Vec<u8>,
    builtin: [Span; N_BUILTIN],
    /// The type of each built-in value (`String` unless set typed).
    builtin_ty: [ValueType; N_BUILTIN],
    extra: Vec<Extra>,
    /// Bytes of `buf` no longer referenced by any span; compacted when it dominates.
    garbage: u32,
    /// Length of the raw message at the start of `buf`: spans below it overlap each other,
    /// so replacing one frees nothing.
    raw_len: u32,
}

impl Default for Span {
    fn default() -> Self {
        Span::UNSET
    }
}

impl Payload {
    /// A payload whose buffer starts with `raw` (spans into it are made with
    /// [`Payload::raw_span`]) and has room for `extra` more bytes.
    /// Makes room for `n` more bytes of values (a message that will be given values
    /// soon: one allocation instead of several).
    pub fn reserve(&mut self, n: usize) {
        self.buf.reserve(n);
    }

    pub fn with_raw(raw: &[u8], extra: usize) -> Payload {
        let mut buf = Vec::with_capacity(raw.len() + extra);
        buf.extend_from_slice(raw);
        let raw_len = u32::try_from(raw.len()).unwrap_or(u32::MAX);
        Payload {
            buf,
            builtin: [Span::UNSET; N_BUILTIN],
            builtin_ty: [ValueType::String; N_BUILTIN],
            extra: Vec::new(),
            garbage: 0,
            raw_len,
        }
    }

    /// A span over `start..end` of the buffer (normally the raw message at its start).
    pub(crate) fn raw_span(&self, start: usize, end: usize) -> Span {
        let end = end.min(self.buf.len());
        let start = start.min(end);
        Span::new(start, end - start)
    }

    fn push(&mut self, bytes: &[u8]) -> Span {
        let off = self.buf.len();
        self.buf.extend_from_slice(bytes);
        Span::new(off, bytes.len())
    }

    fn get_span(&self, s: Span) -> Option<&[u8]> {
        if s.is_set() {
            self.buf.get(s.range())
        } else {
            None
        }
    }

    fn retire(&mut self, s: Span) {
        if s.is_set() {
            self.garbage = self.garbage.saturating_add(s.len);
        }
    }

    /// Sets a built-in to a span already in the buffer (zero-copy).
    pub(crate) fn set_builtin_span(&mut self, b: Builtin, s: Span) {
        let old = self.builtin[b as usize];
        self.retire_appended(old);
        self.builtin[b as usize] = s;
        self.builtin_ty[b as usize] = ValueType::String;
    }

    /// Sets a built-in value, copying `value` into the buffer. (No in-place overwrite: two
    /// slots may share a span, e.g. HOST and HOST_FROM.)
    pub fn set_builtin(&mut self, b: Builtin, value: &[u8]) {
        let old = self.builtin[b as usize];
        self.retire_appended(old);
        let s = self.push(value);
        self.builtin[b as usize] = s;
        self.builtin_ty[b as usize] = ValueType::String;
        self.maybe_compact();
    }

    /// Makes `to` hold the same bytes (and type) as `from` without copying them.
    pub fn share_builtin(&mut self, from: Builtin, to: Builtin) {
        self.builtin[to as usize] = self.builtin[from as usize];
        self.builtin_ty[to as usize] = self.builtin_ty[from as usize];
    }

    /// The value of a built-in, `None` when unset.
    pub fn builtin(&self, b: Builtin) -> Option<&[u8]> {
        self.get_span(self.builtin[b as usize])
    }

    /// Unsets a built-in.
    pub fn unset_builtin(&mut self, b: Builtin) {
        let old = self.builtin[b as usize];
        self.retire_appended(old);
        self.builtin[b as usize] = Span::UNSET;
        self.builtin_ty[b as usize] = ValueType::String;
    }

    /// End of the raw message region (see `raw_len`).
    fn raw_end(&self) -> usize {
        self.raw_len as usize
    }

    fn retire_appended(&mut self, s: Span) {
        if s.is_set() && s.off as usize >= self.raw_end() {
            self.retire(s);
        }
    }

    fn find_extra(&self, name: &[u8]) -> Option<usize> {
        self.extra
            .iter()
            .position(|e| self.get_span(e.name) == Some(name))
    }

    /// The value of any name (built-in names and aliases included).
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        if let Some(b) = Builtin::from_name(name) {
            return self.builtin(b);
        }
        let i = self.find_extra(name)?;
        self.get_span(self.extra[i].value)
    }

    /// Sets any name to a string, copying the value. Returns `true` when the name was not set
    /// before.
    pub fn set(&mut self, name: &[u8], value: &[u8]) -> bool {
        if let Some(b) = Builtin::from_name(name) {
            let new = self.builtin(b).is_none();
            self.set_builtin(b, value);
            return new;
        }
        let v = self.push(value);
        self.set_extra_span(name, v, None)
    }

    /// Sets any name to `value` (its text form) of type `ty`. Returns `true` when the name
    /// was not set before.
    pub fn set_typed(&mut self, name: &[u8], value: &[u8], ty: ValueType) -> bool {
        let new = self.set(name, value);
        self.set_type(name, ty);
        new
    }

    /// Gives the value of `name`, when set, the type `ty` (its bytes stay as they are).
    pub fn set_type(&mut self, name: &[u8], ty: ValueType) {
        if let Some(b) = Builtin::from_name(name) {
            self.set_builtin_type(b, ty);
        } else if let Some(i) = self.find_extra(name) {
            self.extra[i].ty = ty;
        }
    }

    /// The value of any name with its type, `None` when unset.
    pub fn get_typed(&self, name: &[u8]) -> Option<(&[u8], ValueType)> {
        if let Some(b) = Builtin::from_name(name) {
            return Some((self.builtin(b)?, self.builtin_ty[b as usize]));
        }
        let e = &self.extra[self.find_extra(name)?];
        Some((self.get_span(e.value)?, e.ty))
    }

    /// Types of the built-in slots, in slot order (for the disk format).
    pub(crate) fn builtin_types(&self) -> &[ValueType; N_BUILTIN] {
        &self.builtin_ty
    }

    /// Sets the type of a built-in slot that holds a value (decoding).
    pub(crate) fn set_builtin_type(&mut self, b: Builtin, ty: ValueType) {
        if self.builtin(b).is_some() {
            self.builtin_ty[b as usize] = ty;
        }
    }

    /// Every non-built-in pair with its type, in insertion order (what [`Payload::extras`]
    /// yields, typed).
    pub(crate) fn extras_typed(&self) -> impl Iterator<Item = (&[u8], &[u8], ValueType)> {
        self.extra
            .iter()
            .filter_map(|e| Some((self.get_span(e.name)?, self.get_span(e.value)?, e.ty)))
    }

    /// Sets the type of the side store's entry `i` (decoding).
    pub(crate) fn set_extra_type(&mut self, i: usize, ty: ValueType) {
        if let Some(e) = self.extra.get_mut(i) {
            e.ty = ty;
        }
    }

    /// Sets a non-built-in name to a span already in the buffer. `insert_at` places a new
    /// entry at that index of the side store instead of at its end (SDATA grouping).
    pub(crate) fn set_extra_span(
        &mut self,
        name: &[u8],
        v: Span,
        insert_at: Option<usize>,
    ) -> bool {
        if let Some(i) = self.find_extra(name) {
            let old = self.extra[i].value;
            self.retire_appended(old);
            self.extra[i].value = v;
            self.extra[i].ty = ValueType::String;
            self.maybe_compact();
            return false;
        }
        let n = self.push(name);
        let e = Extra {
            name: n,
            value: v,
            ty: ValueType::String,
        };
        match insert_at {
            Some(i) if i <= self.extra.len() => self.extra.insert(i, e),
            _ => self.extra.push(e),
        }
        true
    }

    /// Appends bytes to the buffer and returns their span (for values built piecewise).
    pub(crate) fn append(&mut self, bytes: &[u8]) -> Span {
        self.push(bytes)
    }

    /// Unsets any name; returns whether it was set.
    pub fn unset(&mut self, name: &[u8]) -> bool {
        if let Some(b) = Builtin::from_name(name) {
            let was = self.builtin(b).is_some();
            self.unset_builtin(b);
            return was;
        }
        match self.find_extra(name) {
            Some(i) => {
                let e = self.extra.remove(i);
                self.retire_appended(e.name);
                self.retire_appended(e.value);
                true
            }
            None => false,
        }
    }

    /// Every set non-built-in pair in insertion order.
    pub fn extras(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.extra
            .iter()
            .filter_map(|e| Some((self.get_span(e.name)?, self.get_span(e.value)?)))
    }

    /// Names of the side store in order (for SDATA insertion decisions).
    pub(crate) fn extra_names(&self) -> impl Iterator<Item = &[u8]> {
        self.extra.iter().filter_map(|e| self.get_span(e.name))
    }

    /// Every set pair: built-ins first (canonical names), then the side store.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        Builtin::ALL
            .iter()
            .filter_map(|b| Some((b.name().as_bytes(), self.builtin(*b)?)))
            .chain(self.extras())
    }

    /// Heap bytes this payload holds (buffer capacity and side store capacity).
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity() + self.extra.capacity() * std::mem::size_of::<Extra>()
    }

    /// Rewrites the buffer when more than half of it is dead values (after many rewrites).
    fn maybe_compact(&mut self) {
        let len = self.buf.len();
        if (self.garbage as usize) < 256 || (self.garbage as usize) * 2 < len {
            return;
        }
        let raw_end = self.raw_end();
        let mut buf = Vec::with_capacity(len - self.garbage as usize);
        buf.extend_from_slice(self.buf.get(..raw_end).unwrap_or(&[]));
        let old = std::mem::take(&mut self.buf);
        let mut move_span = |s: &mut Span| {
            if s.is_set() && s.off as usize >= raw_end {
                let off = buf.len();
                buf.extend_from_slice(old.get(s.range()).unwrap_or(&[]));
                *s = Span::new(off, s.len as usize);
            }
        };
        for s in self.builtin.iter_mut() {
            move_span(s);
        }
        for e in self.extra.iter_mut() {
            move_span(&mut e.name);
            move_span(&mut e.value);
        }
        self.buf = buf;
        self.garbage = 0;
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.iter() {
            m.entry(&String::from_utf8_lossy(k), &String::from_utf8_lossy(v));
        }
        m.finish()
    }
}
