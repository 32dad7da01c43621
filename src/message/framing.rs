//! Splitting a byte stream into messages, as syslog-ng's log-proto servers do, with
//! `log-msg-size()` applied:
//!
//! * [`OctetCounted`]: RFC 6587 octet counting (`LEN SP MSG`), the `syslog()` driver over
//!   TCP/TLS. A frame longer than log-msg-size is an error that closes the connection, or is
//!   cut to log-msg-size with `trim-large-messages(yes)` (the rest skipped).
//! * [`Newline`]: newline-terminated lines (`network()`, files, unix sockets). A line longer
//!   than log-msg-size is split into log-msg-size pieces; trailing `\r`, `\n` and `\0` are
//!   removed; empty lines are skipped unless `flags(empty-lines)`. syslog-ng's stream sockets
//!   also end a message at a NUL byte (`find_eom`), which [`Newline::nul_terminates`] mirrors:
//!   `a\0b\n` is two messages there.
//!
//! Both are push parsers over the caller's buffer: give them everything read so far, take
//! out whole messages (borrowed, no copy), and keep the unconsumed tail for the next read.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::char as ch;

/// syslog-ng's default `log-msg-size()`.
pub const DEFAULT_LOG_MSG_SIZE: usize = 65536;

/// One step of a framer.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete message and how many input bytes it consumed.
    Message(&'a [u8], usize),
    /// `n` bytes to drop without a message (an empty line, the rest of a trimmed frame).
    Skip(usize),
    /// Not enough input yet.
    Incomplete,
    /// The stream is broken (bad frame header, oversized frame): close the connection.
    Error(FrameError),
}

/// Why a stream cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The frame header was not `digits SP` (syslog-ng: "Invalid frame header").
    InvalidHeader,
    /// A frame longer than log-msg-size without trim-large-messages.
    TooLarge {
        /// The announced frame length.
        frame_len: usize,
    },
}

/// RFC 6587 octet-counted framing.
#[derive(Clone, Debug)]
pub struct OctetCounted {
    /// `log-msg-size()`.
    pub max_msg_size: usize,
    /// `trim-large-messages()`.
    pub trim_large_messages: bool,
    /// Bytes of a trimmed frame still to skip.
    skip_remaining: usize,
}

/// At most 10 digits, then a space (syslog-ng's `MAX_FRAME_LEN_DIGITS`).
fn frame_header(input: &[u8]) -> IResult<&[u8], &[u8]> {
    let (rest, digits) = take_while_m_n(0, 10, |c: u8| c.is_ascii_digit()).parse(input)?;
    let (rest, _) = ch(' ').parse(rest)?;
    Ok((rest, digits))
}

impl OctetCounted {
    /// A framer with the given limits.
    pub fn new(max_msg_size: usize, trim_large_messages: bool) -> Self {
        OctetCounted {
            max_msg_size,
            trim_large_messages,
            skip_remaining: 0,
        }
    }

    /// The next step over `buf` (all unconsumed input).
    pub fn next<'a>(&mut self, buf: &'a [u8]) -> Frame<'a> {
        if self.skip_remaining > 0 {
            if buf.is_empty() {
                return Frame::Incomplete;
            }
            let n = self.skip_remaining.min(buf.len());
            self.skip_remaining -= n;
            return Frame::Skip(n);
        }
        let (rest, digits) = match frame_header(buf) {
            Ok(v) => v,
            Err(_) => {
                // Still reading digits (up to 10) is not an error yet.
                let d = buf.iter().take_while(|c| c.is_ascii_digit()).count();
                if d == buf.len() && d <= 10 {
                    return Frame::Incomplete;
                }
                return Frame::Error(FrameError::InvalidHeader);
            }
        };
        let frame_len = digits
            .iter()
            .fold(0u64, |a, &c| a * 10 + u64::from(c - b'0'))
            .min(u64::from(u32::MAX)) as usize;
        let header = buf.len() - rest.len();
        // An empty frame (`0 `) carries no message: syslog-ng 3.38 writes nothing for it.
        if frame_len == 0 && !digits.is_empty() {
            return Frame::Skip(header);
        }
        if frame_len > self.max_msg_size {
            if !self.trim_large_messages {
                return Frame::Error(FrameError::TooLarge { frame_len });
            }
            if rest.len() < self.max_msg_size {
                return Frame::Incomplete;
            }
            self.skip_remaining = frame_len - self.max_msg_size;
            return Frame::Message(&rest[..self.max_msg_size], header + self.max_msg_size);
        }
        if rest.len() < frame_len {
            return Frame::Incomplete;
        }
        Frame::Message(&rest[..frame_len], header + frame_len)
    }
}

/// Newline framing.
#[derive(Clone, Debug)]
pub struct Newline {
    /// `log-msg-size()`.
    pub max_msg_size: usize,
    /// `flags(empty-lines)`.
    pub empty_lines: bool,
    /// A NUL byte ends a message too (syslog-ng's text protocol on sockets; set to `false`
    /// for its "text with NULs" variant).
    pub nul_terminates: bool,
}

impl Newline {
    /// A framer with the given limit.
    pub fn new(max_msg_size: usize, empty_lines: bool) -> Self {
        Newline {
            max_msg_size,
            empty_lines,
            nul_terminates: true,
        }
    }

    /// The next step over `buf`. `eof` says no more input will come (the tail is a message).
    pub fn next<'a>(&self, buf: &'a [u8], eof: bool) -> Frame<'a> {
        if buf.is_empty() {
            return Frame::Incomplete;
        }
        let max = self.max_msg_size.max(1);
        let window = &buf[..buf.len().min(max)];
        let eol = if self.nul_terminates {
            memchr::memchr2(b'\n', 0, window)
        } else {
            memchr::memchr(b'\n', window)
        };
        let (line, consumed) = match eol {
            Some(i) => (&buf[..i], i + 1),
            None if buf.len() >= max => (&buf[..max], max),
            None if eof => (buf, buf.len()),
            None => return Frame::Incomplete,
        };
        let mut end = line.len();
        while end > 0 && matches!(line[end - 1], b'\r' | b'\n' | 0) {
            end -= 1;
        }
        if end == 0 && !self.empty_lines {
            return Frame::Skip(consumed);
        }
        Frame::Message(&line[..end], consumed)
    }
}

/// Splits a whole buffer into newline-framed messages (tests, files read at once).
pub fn split_lines(buf: &[u8], max_msg_size: usize) -> Vec<&[u8]> {
    let f = Newline::new(max_msg_size, false);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        match f.next(&buf[pos..], true) {
            Frame::Message(m, n) => {
                out.push(m);
                pos += n;
            }
            Frame::Skip(n) => pos += n,
            Frame::Incomplete | Frame::Error(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_counted() {
        let mut f = OctetCounted::new(100, false);
        assert_eq!(f.next(b"5 hello3 abc"), Frame::Message(b"hello", 7));
        assert_eq!(f.next(b"3 abc"), Frame::Message(b"abc", 5));
        assert_eq!(f.next(b"12"), Frame::Incomplete);
        assert_eq!(f.next(b"5 hel"), Frame::Incomplete);
        assert_eq!(f.next(b"x5 hello"), Frame::Error(FrameError::InvalidHeader));
        assert_eq!(
            f.next(b"12345678901 x"),
            Frame::Error(FrameError::InvalidHeader)
        );
        assert_eq!(
            f.next(b"101 x"),
            Frame::Error(FrameError::TooLarge { frame_len: 101 })
        );
    }

    #[test]
    fn octet_counted_trim() {
        let mut f = OctetCounted::new(3, true);
        assert_eq!(f.next(b"5 hello2 ab"), Frame::Message(b"hel", 5));
        assert_eq!(f.next(b"lo2 ab"), Frame::Skip(2));
        assert_eq!(f.next(b"2 ab"), Frame::Message(b"ab", 4));
        // `0 ` is a frame without a message (recorded against 3.38: nothing is written).
        let mut f = OctetCounted::new(100, false);
        assert_eq!(f.next(b"0 5 hello"), Frame::Skip(2));
        assert_eq!(f.next(b"5 hello"), Frame::Message(b"hello", 7));
    }

    #[test]
    fn newline() {
        let f = Newline::new(5, false);
        assert_eq!(f.next(b"ab\r\ncd", false), Frame::Message(b"ab", 4));
        assert_eq!(f.next(b"cd", false), Frame::Incomplete);
        assert_eq!(f.next(b"cd", true), Frame::Message(b"cd", 2));
        assert_eq!(f.next(b"\nx", false), Frame::Skip(1));
        assert_eq!(f.next(b"abcdefg\n", false), Frame::Message(b"abcde", 5));
        assert_eq!(
            split_lines(b"a\n\nbb\nccc", 64),
            vec![&b"a"[..], b"bb", b"ccc"]
        );
        assert_eq!(split_lines(b"a\0b\nc\0\n", 64), vec![&b"a"[..], b"b", b"c"]);
    }
}
