//! Round trips of parsed and generated messages; the version-1 and -2 bytes of one message
//! pinned;
//! bad input of every kind an error, and random bytes, truncations and bit flips never a
//! panic.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;

use super::*;
use crate::message::{ParseFlags, ParseOptions, parse, parse_with_status};

const RECVD: UnixTime = UnixTime::new(1_700_000_000, 123_456, 3600);

fn enc(m: &LogMessage) -> Vec<u8> {
    let mut out = Vec::new();
    encode(m, &mut out);
    out
}

/// Encodes, decodes, requires the same message back and the same bytes when encoded again;
/// returns the encoding.
fn round_trip(m: &LogMessage) -> Vec<u8> {
    let bytes = enc(m);
    let back = match decode(&bytes) {
        Ok(back) => back,
        Err(e) => panic!("{e}: {bytes:?}"),
    };
    if let Some(d) = difference(m, &back) {
        panic!("{d}\n{m:?}\n{back:?}");
    }
    assert_eq!(enc(&back), bytes, "re-encoding differs");
    bytes
}

fn with_flags(bits: u32) -> ParseOptions {
    ParseOptions {
        flags: ParseFlags(bits),
        ..ParseOptions::default()
    }
}

#[test]
fn rfc3164_round_trip() {
    let m = parse(
        b"<34>Oct 11 22:14:15 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8",
        &ParseOptions::default(),
        None,
        RECVD,
    );
    // The header values, LEGACY_MSGHDR among them: decoding must not drop it the way
    // LogMessage::set does when PROGRAM or PID is set after it.
    for b in [
        Builtin::Host,
        Builtin::Program,
        Builtin::Pid,
        Builtin::LegacyMsgHdr,
    ] {
        assert!(m.get_builtin(b).is_some(), "{}", b.name());
    }
    assert_ne!(m.stamp, m.recvd);
    round_trip(&m);
}

#[test]
fn rfc5424_sdata_round_trip() {
    let opts = with_flags(
        ParseFlags::DEFAULT.0 | ParseFlags::SYSLOG_PROTOCOL | ParseFlags::STORE_RAW_MESSAGE,
    );
    let m = parse(
        b"<165>1 2003-10-11T22:14:15.003-07:00 mymachine.example.com evntslog 99 ID47 \
          [exampleSDID@32473 iut=\"3\" eventSource=\"App\"][examplePriority@32473 class=\"high\" \
          esc=\"a\\\"b\\]c\"] \xef\xbb\xbfAn application event",
        &opts,
        None,
        RECVD,
    );
    assert_eq!(m.get(".SDATA.exampleSDID@32473.iut"), Some(&b"3"[..]));
    assert!(m.get_builtin(Builtin::RawMsg).is_some());
    assert!(m.get_builtin(Builtin::MsgId).is_some());
    assert_eq!((m.stamp.usec, m.stamp.gmtoff), (3000, -7 * 3600));
    round_trip(&m);
}

#[test]
fn parse_error_round_trip() {
    let (m, err) = parse_with_status(b"<1a>bad priority", &ParseOptions::default(), None, RECVD);
    assert!(err.is_some());
    assert!(m.flags.has(MsgFlags::PARSE_ERROR));
    round_trip(&m);
}

#[test]
fn many_values_and_tags_round_trip() {
    let mut m = parse(
        b"<13>Mar  1 10:00:00 host prog: text",
        &ParseOptions::default(),
        None,
        RECVD,
    );
    for i in 0..200 {
        m.set(&format!("custom.{i}"), format!("value {i}").as_bytes());
    }
    // Interleaved SDATA names are grouped by element at insertion: the order to keep.
    m.set(".SDATA.a@1.x", b"1");
    m.set(".SDATA.b@1.y", b"2");
    m.set(".SDATA.a@1.z", b"3");
    m.set("custom.7", b"rewritten");
    m.unset("custom.8");
    m.set("SOURCE", b"s_net");
    m.set("SOURCEIP", b"");
    m.nv.share_builtin(Builtin::Host, Builtin::HostFrom);
    for i in 0..40 {
        m.set_tag(TagId::intern(&format!("serial.test.{i}")));
    }
    m.set_tag(TagId::intern(""));
    m.pri = 999;
    m.flags = MsgFlags(u16::MAX);
    round_trip(&m);
}

#[test]
fn non_utf8_round_trip() {
    let mut m = parse(
        b"<13>Mar  1 10:00:00 h\xff st\x00x[\xfe]: \xc3\x28 \x00 \xff\xfe",
        &ParseOptions::default(),
        None,
        RECVD,
    );
    m.nv.set(b"\xffname\x00", b"\x80\x81");
    m.nv.set(b"", b"empty name");
    round_trip(&m);
}

#[test]
fn empty_message_and_extreme_times() {
    let mut m = LogMessage::new(UnixTime::new(i64::MIN, u32::MAX, i32::MIN));
    m.stamp = UnixTime::new(i64::MAX, 0, i32::MAX);
    m.pri = 0;
    round_trip(&m);
    m.recvd = UnixTime::new(i64::MAX, 0, 0);
    m.stamp = UnixTime::new(i64::MIN, 999_999, 0);
    round_trip(&m);
}

#[test]
fn appends_to_the_buffer() {
    let m = LogMessage::new(RECVD);
    let mut out = b"prefix".to_vec();
    encode(&m, &mut out);
    assert_eq!(&out[..6], b"prefix");
    assert_eq!(out[6..], enc(&m));
}

#[test]
fn ack_token_and_unnamed_tags_are_not_written() {
    let mut m = LogMessage::new(RECVD);
    m.ack = Some(Arc::new(7u8));
    m.set_tag(TagId(u32::MAX));
    m.set_tag(TagId::intern("serial.named"));
    let Ok(back) = decode(&enc(&m)) else {
        panic!("decode failed")
    };
    assert!(back.ack.is_none());
    assert_eq!(back.tags.as_slice(), &[TagId::intern("serial.named")]);
}

#[test]
fn wire_slots_name_every_builtin_once() {
    for b in Builtin::ALL {
        assert_eq!(WIRE_SLOTS.iter().filter(|w| **w == b).count(), 1, "{b:?}");
    }
}

/// The version-1 bytes of one message, written out by hand: a change here breaks every
/// disk-buffer file already written.
#[test]
fn version_1_bytes() {
    let mut m = LogMessage::new(UnixTime::new(1_700_000_000, 5, 3600));
    m.stamp = UnixTime::new(1_699_999_998, 0, -18000);
    m.flags = MsgFlags(MsgFlags::UTF8 | MsgFlags::LOCAL);
    m.set("HOST", b"h");
    m.set("HOST_FROM", b"h");
    m.set("MSG", b"hi");
    m.set("PROGRAM", b"p");
    m.set(".SDATA.a.b", b"c");
    m.set_tag(TagId::intern("t"));
    let want: &[&[u8]] = &[
        b"\x01",                    // version
        b"\x0d",                    // pri 13
        b"\x03",                    // flags UTF8 | LOCAL
        b"\x80\xc4\x9f\xd5\x0c",    // recvd.sec 1700000000, zigzag
        b"\x05",                    // recvd.usec
        b"\xa0\x38",                // recvd.gmtoff 3600, zigzag
        b"\x03",                    // stamp.sec: -2 from recvd, zigzag
        b"\x00",                    // stamp.usec
        b"\x9f\x99\x02",            // stamp.gmtoff -18000, zigzag
        b"\x0f",                    // HOST, HOST_FROM, MESSAGE, PROGRAM present
        b"\x02h",                   // HOST: 1 byte
        b"\x01",                    // HOST_FROM: same as slot 0
        b"\x04hi",                  // MESSAGE: 2 bytes
        b"\x02p",                   // PROGRAM: 1 byte
        b"\x01\x0a.SDATA.a.b\x01c", // one pair
        b"\x01\x01t",               // one tag
    ];
    let v1 = want.concat();
    let back = decode(&v1).expect("version 1 decodes");
    assert_eq!(difference(&m, &back), None);
    // Version 2: the same fields, then an empty types section.
    let v2 = [b"\x02", &v1[1..], b"\x00"].concat();
    assert_eq!(round_trip(&m), v2);
}

/// Typed values (set by `@version: 4.0` Python code) keep their type: the version-2 types
/// section, pinned.
#[test]
fn version_2_bytes_with_types() {
    let mut m = LogMessage::new(UnixTime::new(0, 0, 0));
    m.pri = 0;
    m.nv.set_typed(b"PID", b"5", ValueType::Integer);
    m.nv.set_typed(b"n", b"1.500000", ValueType::Double);
    m.nv.set(b"s", b"x");
    m.nv.set_typed(b"b", b"true", ValueType::Boolean);
    let want: &[&[u8]] = &[
        b"\x02\x00\x00\x00\x00\x00\x00\x00\x00", // version 2, pri 0, times zero
        b"\x10\x025",                            // PID present: "5"
        b"\x03\x01n\x081.500000\x01s\x01x\x01b\x04true",
        b"\x00",     // no tags
        b"\x03",     // three typed values
        b"\x04\x03", // wire slot 4 (PID): integer
        b"\x0a\x04", // pair 0 (n): double
        b"\x0c\x02", // pair 2 (b): boolean
    ];
    assert_eq!(round_trip(&m), want.concat());
    let back = decode(&want.concat()).expect("decodes");
    assert_eq!(
        back.nv.get_typed(b"PID"),
        Some((&b"5"[..], ValueType::Integer))
    );
    assert_eq!(
        back.nv.get_typed(b"s"),
        Some((&b"x"[..], ValueType::String))
    );
}

#[test]
fn bad_type_sections_are_named() {
    let m = {
        let mut m = LogMessage::new(UnixTime::new(0, 0, 0));
        m.pri = 0;
        m.nv.set(b"n", b"1");
        m
    };
    let base = enc(&m);
    let body = &base[..base.len() - 1];
    let with = |t: &[u8]| [body, t].concat();
    let bad = |t: &[u8], f: Field| {
        assert_eq!(
            decode(&with(t)).err(),
            Some(DecodeError::BadField(f)),
            "{t:?}"
        )
    };
    bad(b"\x01\x00\x03", Field::TypeKey); // HOST is not set
    bad(b"\x01\x0b\x03", Field::TypeKey); // pair 1 does not exist
    bad(b"\x01\x0a\x63", Field::TypeCode); // no type 99
    bad(b"\x02\x0a\x03\x0a\x03", Field::TypeKey); // repeated key
    // A count that the bytes left cannot hold (two bytes an entry) is a truncation.
    assert_eq!(
        decode(&with(b"\x01\x0a")).err(),
        Some(DecodeError::Truncated(Field::TypeCount))
    );
    assert!(decode(&with(b"\x01\x0a\x03")).is_ok());
}

#[test]
fn unknown_version() {
    let mut bytes = enc(&LogMessage::new(RECVD));
    for v in [0, 3, 0xff] {
        bytes[0] = v;
        assert_eq!(decode(&bytes).err(), Some(DecodeError::UnknownVersion(v)));
    }
    assert_eq!(
        decode(&[]).err(),
        Some(DecodeError::Truncated(Field::Version))
    );
}

/// Version byte, pri 13, no flags, both times zero.
const HEAD: &[u8] = b"\x01\x0d\x00\x00\x00\x00\x00\x00\x00";

fn head(rest: &[u8]) -> Vec<u8> {
    [HEAD, rest].concat()
}

#[test]
fn bad_input_is_named() {
    use DecodeError::*;
    let cases: &[(Vec<u8>, DecodeError)] = &[
        (
            b"\x01\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00".to_vec(),
            BadField(Field::Priority),
        ),
        (
            b"\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02".to_vec(),
            BadField(Field::Priority),
        ),
        (b"\x01\x80\x80\x04".to_vec(), BadField(Field::Priority)),
        (b"\x01\x0d\x80".to_vec(), Truncated(Field::Flags)),
        (
            b"\x01\x0d\x00\x00\x00\x80\x80\x80\x80\x10".to_vec(),
            BadField(Field::RecvdOffset),
        ),
        (
            b"\x01\x0d\x00\x00\x80\x80\x80\x80\x10".to_vec(),
            BadField(Field::RecvdUsec),
        ),
        (head(b"\x80\x08"), BadField(Field::BuiltinSet)),
        (
            head(b"\x02\x01"),
            BadField(Field::Builtin(Builtin::HostFrom)),
        ),
        (head(b"\x01\x01"), BadField(Field::Builtin(Builtin::Host))),
        (
            head(b"\x05\x02h\x03"),
            BadField(Field::Builtin(Builtin::Message)),
        ),
        (
            head(b"\x01\x06ab"),
            Truncated(Field::Builtin(Builtin::Host)),
        ),
        (head(b"\x00\x02\x01a\x00"), Truncated(Field::PairCount)),
        (head(b"\x00\x01\x01a\x05b"), Truncated(Field::PairValue)),
        (
            head(b"\x00\x02\x01a\x00\x01a\x01b\x00"),
            Duplicate(Field::PairName),
        ),
        (head(b"\x00\x00\x01\x02\xff\xfe"), InvalidTagName),
        (head(b"\x00\x00\x02\x01t\x01t"), Duplicate(Field::TagName)),
        (head(b"\x00\x00\x00\x00"), TrailingBytes(1)),
        (
            head(b"\x00\x00\xff\xff\xff\xff\x0f"),
            Truncated(Field::TagCount),
        ),
    ];
    assert!(decode(&head(b"\x00\x00\x00")).is_ok());
    for (bytes, want) in cases {
        assert_eq!(decode(bytes).err().as_ref(), Some(want), "{bytes:x?}");
    }
    assert_eq!(
        Truncated(Field::Builtin(Builtin::Host)).to_string(),
        "serialised message truncated in its value HOST"
    );
}

// ---- property tests ----

const SEEDS: &[&[u8]] = &[
    b"",
    b"<34>Oct 11 22:14:15 mymachine su: ",
    b"<13>Mar  1 00:01:02.345 host prog[42]: ",
    b"<13>2024-03-10T01:59:59.123456+02:00 host1 prog[123]: ",
    b"<165>1 2003-10-11T22:14:15.003Z host app 1 ID47 [a@1 x=\"1\" y=\"2\"][b@2 z=\"3\"] ",
    b"<13>1 - - - - - - ",
    b"<1x>",
];

/// Parse options the generated messages are parsed with: the default, RFC 5424 with the
/// raw message kept, no-parse, sanitize-utf8 (built once: the default reads the system).
fn option_sets() -> &'static [ParseOptions] {
    static SETS: OnceLock<Vec<ParseOptions>> = OnceLock::new();
    SETS.get_or_init(|| {
        let d = ParseFlags::DEFAULT.0;
        vec![
            ParseOptions::default(),
            with_flags(d | ParseFlags::SYSLOG_PROTOCOL | ParseFlags::STORE_RAW_MESSAGE),
            with_flags(d | ParseFlags::NO_PARSE),
            with_flags(d | ParseFlags::SANITIZE_UTF8 | ParseFlags::STORE_RAW_MESSAGE),
        ]
    })
}

#[derive(Clone, Debug)]
enum Edit {
    Set(String, Vec<u8>),
    RawSet(Vec<u8>, Vec<u8>),
    TypedSet(String, Vec<u8>, u8),
    Unset(String),
    Tag(String),
    ClearTag(String),
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "HOST",
                "FULLHOST",
                "HOST_FROM",
                "MSG",
                "MESSAGE",
                "PROGRAM",
                "PID",
                "MSGID",
                "SOURCE",
                "LEGACY_MSGHDR",
                "RAWMSG",
                "SOURCEIP",
            ][..]
        )
        .prop_map(String::from),
        "\\.SDATA\\.[a-c@1]{0,3}(\\.[x-z]{0,2})?",
        "[a-z0-9._]{0,10}",
        "\\PC{0,6}",
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let value = prop::collection::vec(any::<u8>(), 0..48);
    prop_oneof![
        4 => (name(), value.clone()).prop_map(|(n, v)| Edit::Set(n, v)),
        1 => (prop::collection::vec(any::<u8>(), 0..8), value.clone()).prop_map(|(n, v)| Edit::RawSet(n, v)),
        2 => (name(), value, 0u8..10).prop_map(|(n, v, t)| Edit::TypedSet(n, v, t)),
        1 => name().prop_map(Edit::Unset),
        2 => "[a-e.]{0,4}".prop_map(Edit::Tag),
        1 => "[a-e.]{0,4}".prop_map(Edit::ClearTag),
    ]
}

fn time() -> impl Strategy<Value = UnixTime> {
    prop_oneof![
        (
            1_500_000_000i64..1_900_000_000,
            0u32..1_000_000,
            -50_400i32..=50_400
        )
            .prop_map(|(s, u, o)| UnixTime::new(s, u, o)),
        any::<(i64, u32, i32)>().prop_map(|(s, u, o)| UnixTime::new(s, u, o)),
    ]
}

prop_compose! {
    fn message()(
        seed in prop::sample::select(SEEDS),
        tail in prop::collection::vec(any::<u8>(), 0..64),
        opts in 0..4usize,
        recvd in time(),
        edits in prop::collection::vec(edit(), 0..24),
        stamp in prop::option::of(time()),
        pri in prop::option::of(any::<u16>()),
        flags in prop::option::of(any::<u16>()),
    ) -> LogMessage {
        let raw = [seed, &tail[..]].concat();
        let mut m = parse(&raw, &option_sets()[opts], None, recvd);
        for e in edits {
            match e {
                Edit::Set(n, v) => m.set(&n, &v),
                Edit::RawSet(n, v) => {
                    m.nv.set(&n, &v);
                }
                Edit::TypedSet(n, v, t) => {
                    let ty = ValueType::from_code(t).unwrap_or_default();
                    m.nv.set_typed(n.as_bytes(), &v, ty);
                }
                Edit::Unset(n) => m.unset(&n),
                Edit::Tag(t) => m.set_tag(TagId::intern(&t)),
                Edit::ClearTag(t) => m.clear_tag(TagId::intern(&t)),
            }
        }
        if let Some(s) = stamp {
            m.stamp = s;
        }
        if let Some(p) = pri {
            m.pri = p;
        }
        if let Some(f) = flags {
            m.flags = MsgFlags(f);
        }
        m
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_messages_round_trip(m in message()) {
        round_trip(&m);
    }

    /// Every strict prefix of an encoding is truncated (the format is self-delimiting), a
    /// byte more is trailing, and a changed byte is whatever it is, but no panic.
    #[test]
    fn damaged_encodings_are_errors(
        m in message(),
        at in any::<prop::sample::Index>(),
        xor in 1..=255u8,
    ) {
        let bytes = enc(&m);
        for n in 0..bytes.len() {
            let r = decode(&bytes[..n]);
            prop_assert!(matches!(r, Err(DecodeError::Truncated(_))), "{n}: {:?}", r.err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        prop_assert_eq!(decode(&longer).err(), Some(DecodeError::TrailingBytes(1)));
        let mut flipped = bytes;
        let i = at.index(flipped.len());
        flipped[i] ^= xor;
        let _ = decode(&flipped);
    }

    #[test]
    fn random_bytes_never_panic(
        versioned in any::<bool>(),
        mut bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        if versioned {
            bytes.insert(0, VERSION);
        }
        let _ = decode(&bytes);
    }
}
