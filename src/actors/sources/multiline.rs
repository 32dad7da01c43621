//! `multi-line-mode()`: joining lines into messages, as syslog-ng 3.38's multi-line text
//! servers do (`lib/logproto/logproto-text-server.c` with the `accumulate_line` rules of
//! `logproto-indented-multiline-server.c` and `logproto-regexp-multiline-server.c`).
//!
//! 3.38 takes the multi-line options on `file()`, `wildcard-file()`, `pipe()` and `stdin()`
//! only (`affile-grammar.ym`); its socket sources reject them as a syntax error, and so does
//! sluice (they are not among those drivers' options).
//!
//! A message is the input from its first line up to the end of its last one, as it was read:
//! continuation lines are joined by the `\n` (or `\r\n`, or NUL) that ended the line before —
//! nothing is rewritten, so a CRLF input keeps its `\r`s inside the message. Only the end of
//! the message loses its trailing `\r`, `\n` and NUL. `flags(no-multi-line)` later turns the
//! line breaks into spaces (the parser's job).
//!
//! The rules, line by line (a line ends at `\n` or NUL; the *first* line of a message is the
//! one after the previous message, whatever it looks like):
//!
//! * **indented**: a line that starts with a space or a tab continues the message; any other
//!   non-empty line ends it and starts the next one. An empty line continues the message.
//! * **regexp** / **prefix-garbage** (the same in 3.38): a line in which
//!   `multi-line-garbage()` matches ends the message just before the match (the rest of that
//!   line is dropped); otherwise a continuation line matching `multi-line-prefix()` ends the
//!   message and starts the next one. Lines before the first prefix are a message of their
//!   own. The garbage is looked for first, also in a line that matches the prefix.
//! * **prefix-suffix**: the same, but `multi-line-suffix()` ends the message *after* the
//!   match.
//! * Quirk kept: an empty continuation line is checked as if it were a first line — the
//!   garbage/suffix pattern runs over the whole message so far.
//!
//! Whether a line ends the message is known only once the *next* line is complete, so a
//! message waits for the line after it. What else ends one:
//!
//! * `log-msg-size()`: the message and the line being looked at must fit in log-msg-size
//!   bytes from the message's start; when they do not, those log-msg-size bytes are the
//!   message, and what follows starts a new one (3.38's read buffer is log-msg-size bytes).
//! * The end of the input (`stdin()`): the complete lines are judged as usual, then what is
//!   left — the pending message and a last line without its newline — is one message.
//! * A flush ([`Splitter::cue_flush`]: `multi-line-timeout()` of a followed file): everything
//!   buffered is one message as it is (the parser then drops trailing `\n`/NUL but keeps a
//!   `\r`, as 3.38's flush does).
//!
//! The splitter never moves the reader's position past a message it has not produced: its
//! state is only how far into the pending message it has judged lines, relative to the
//! message's start, so a file's saved position stays at the start of a pending message and a
//! reader that takes over (reload, restart) reads it again whole.

use std::sync::Arc;
use std::time::{Duration, Instant};

use regex::bytes::{Regex, RegexBuilder};

use super::common::{LineOptions, MultiLineMode, option_node, option_span};
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::message::UnixTime;
use crate::message::framing::{Frame, Newline};

/// A compiled `multi-line-prefix()`, `-garbage()` or `-suffix()` pattern: PCRE without
/// options, as 3.38 compiles it — byte mode (`.` is a byte, classes are ASCII). Patterns with
/// look-around or back-references run on `fancy-regex`, over the line read as UTF-8.
#[derive(Debug)]
pub(crate) enum Pattern {
    Plain(Regex),
    Fancy(Box<fancy_regex::Regex>),
}

impl Pattern {
    /// Compiles `pattern`; the error is the regex engine's reason.
    pub(crate) fn compile(pattern: &str) -> Result<Pattern, String> {
        match RegexBuilder::new(pattern)
            .unicode(false)
            .size_limit(1 << 24)
            .build()
        {
            Ok(re) => Ok(Pattern::Plain(re)),
            Err(e) => {
                let detail = match &e {
                    regex::Error::Syntax(s) => s.lines().last().unwrap_or("").trim().to_string(),
                    other => other.to_string(),
                };
                if detail.contains("look-around") || detail.contains("backreferences") {
                    return fancy_regex::Regex::new(pattern)
                        .map(|re| Pattern::Fancy(Box::new(re)))
                        .map_err(|e| e.to_string());
                }
                Err(detail)
            }
        }
    }

    /// Start and end of the first match in `hay`.
    pub(crate) fn find(&self, hay: &[u8]) -> Option<(usize, usize)> {
        match self {
            Pattern::Plain(re) => re.find(hay).map(|m| (m.start(), m.end())),
            Pattern::Fancy(re) => {
                // Offsets are the line's own when it is UTF-8; otherwise those of its lossy
                // reading, kept within the line.
                let text = String::from_utf8_lossy(hay);
                let m = re.find(text.as_ref()).ok()??;
                Some((m.start().min(hay.len()), m.end().min(hay.len())))
            }
        }
    }
}

/// How lines are joined (the plan of a source's `multi-line-mode()`).
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    Indented,
    /// `regexp`, `prefix-garbage` (`keep_end: false`: the message ends before the garbage) and
    /// `prefix-suffix` (`keep_end: true`: it ends after the suffix).
    Regexp {
        prefix: Option<Arc<Pattern>>,
        end: Option<Arc<Pattern>>,
        keep_end: bool,
    },
}

/// Checks a source's multi-line options as 3.38 does (the patterns when the configuration is
/// read, the combinations when the source starts) and compiles them; `None` for
/// `multi-line-mode(none)`.
pub(crate) fn plan(call: &Node, lines: &LineOptions) -> Result<Option<Rule>, Diagnostic> {
    let compile = |pattern: &Option<String>, names: &[&str]| match pattern {
        None => Ok(None),
        Some(p) => Pattern::compile(p)
            .map(|re| Some(Arc::new(re)))
            .map_err(|e| {
                Diagnostic::new(
                    format!(
                        "error compiling multi-line regexp, error=Error while compiling multi-line \
                     regexp as a PCRE expression, error={e}"
                    ),
                    option_span(call, names),
                )
            }),
    };
    let prefix = compile(&lines.multi_line_prefix, &["multi-line-prefix"])?;
    let end = compile(
        &lines.multi_line_garbage,
        &["multi-line-garbage", "multi-line-suffix"],
    )?;
    let keep_end = match lines.multi_line_mode {
        MultiLineMode::Regexp | MultiLineMode::PrefixGarbage => false,
        MultiLineMode::PrefixSuffix => true,
        MultiLineMode::None | MultiLineMode::Indented => {
            if prefix.is_some() || end.is_some() {
                let names = if option_node(call, &["multi-line-prefix"]).is_some() {
                    &["multi-line-prefix"][..]
                } else {
                    &["multi-line-garbage", "multi-line-suffix"][..]
                };
                return Err(Diagnostic::new(
                    "multi-line-prefix() and/or multi-line-garbage() specified but \
                     multi-line-mode() is not regexp based (prefix-garbage or prefix-suffix), \
                     please set multi-line-mode() properly",
                    option_span(call, names),
                ));
            }
            return Ok((lines.multi_line_mode == MultiLineMode::Indented).then_some(Rule::Indented));
        }
    };
    if prefix.is_none() && end.is_none() {
        return Err(Diagnostic::new(
            "To follow files in multi-line-mode() 'regexp', 'prefix-garbage', 'prefix-suffix', \
             please also specify regexps using the multi-line-prefix/garbage options",
            option_span(call, &["multi-line-mode"]),
        ));
    }
    Ok(Some(Rule::Regexp {
        prefix,
        end,
        keep_end,
    }))
}

/// What a judged line means for the pending message.
enum Verdict {
    /// It belongs to the message, which goes on.
    Waiting,
    /// The message ends at this offset (from its start); the line is consumed.
    Extract(usize),
    /// The line starts the next message: the pending one ends before it.
    Rewind,
}

/// One reader's multi-line state: the rule and how far into the pending message lines were
/// judged.
#[derive(Debug, Clone)]
pub(crate) struct Splitter {
    rule: Rule,
    /// `log-msg-size()`.
    max: usize,
    /// `flags(empty-lines)`: an empty message is kept.
    empty_lines: bool,
    /// A NUL ends a line too (not for `text-with-nuls`; always for the file-like sources).
    nul_terminates: bool,
    /// Offset, from the pending message's start, just past the last line judged part of it;
    /// 0 when none was (syslog-ng's `consumed_len + 1`).
    consumed: usize,
    /// The next step yields everything pending as one message.
    flush: bool,
}

impl Splitter {
    pub(crate) fn new(rule: Rule, max: usize, empty_lines: bool, nul_terminates: bool) -> Self {
        Splitter {
            rule,
            max: max.max(1),
            empty_lines,
            nul_terminates,
            consumed: 0,
            flush: false,
        }
    }

    /// Forgets the pending message (the buffer it was in was dropped).
    pub(crate) fn reset(&mut self) {
        self.consumed = 0;
        self.flush = false;
    }

    /// Makes the next step yield what is pending, complete or not.
    pub(crate) fn cue_flush(&mut self) {
        self.flush = true;
    }

    fn find_eol(&self, hay: &[u8]) -> Option<usize> {
        if self.nul_terminates {
            memchr::memchr2(b'\n', 0, hay)
        } else {
            memchr::memchr(b'\n', hay)
        }
    }

    /// The next step over `buf`, the input from the pending message's start. With `eof` no
    /// more input will come.
    pub(crate) fn next<'a>(&mut self, buf: &'a [u8], eof: bool) -> Frame<'a> {
        let window = &buf[..buf.len().min(self.max)];
        if self.flush {
            self.reset();
            if window.is_empty() {
                return Frame::Incomplete;
            }
            return Frame::Message(window, window.len());
        }
        loop {
            let from = self.consumed;
            let Some(i) = self.find_eol(&window[from..]) else {
                if window.is_empty() || (window.len() < self.max && !eof) {
                    return Frame::Incomplete;
                }
                // The buffer is full, or the input ended: all of it is the message.
                return self.extracted(window, window.len(), window.len());
            };
            let eol = from + i;
            match self.judge(window, from, eol) {
                Verdict::Waiting => self.consumed = eol + 1,
                Verdict::Extract(end) => return self.extracted(window, end, eol + 1),
                // `from` > 0: only a continuation line can start the next message.
                Verdict::Rewind => return self.extracted(window, from - 1, from),
            }
        }
    }

    /// The message `buf[..end]` (without its trailing line ends), `used` bytes consumed.
    fn extracted<'a>(&mut self, buf: &'a [u8], end: usize, used: usize) -> Frame<'a> {
        self.consumed = 0;
        let mut end = end;
        while end > 0 && matches!(buf[end - 1], b'\r' | b'\n' | 0) {
            end -= 1;
        }
        if end == 0 && !self.empty_lines {
            return Frame::Skip(used);
        }
        Frame::Message(&buf[..end], used)
    }

    /// What the line `buf[from..eol]` means; `buf[..from]` are the lines judged before.
    fn judge(&self, buf: &[u8], from: usize, eol: usize) -> Verdict {
        let continuation = from > 0 && eol > from;
        match &self.rule {
            Rule::Indented => {
                if continuation && !matches!(buf[from], b' ' | b'\t') {
                    Verdict::Rewind
                } else {
                    Verdict::Waiting
                }
            }
            Rule::Regexp {
                prefix,
                end,
                keep_end,
            } => {
                // A first line — or an empty one — is checked with the whole message so far.
                let start = if continuation { from } else { 0 };
                let line = &buf[start..eol];
                if let Some((s, e)) = end.as_ref().and_then(|p| p.find(line)) {
                    return Verdict::Extract(start + if *keep_end { e } else { s });
                }
                if continuation && prefix.as_ref().is_some_and(|p| p.find(line).is_some()) {
                    return Verdict::Rewind;
                }
                Verdict::Waiting
            }
        }
    }
}

/// How a file-like source cuts its input: newline framing (`log-msg-size()`,
/// `flags(empty-lines)`) and, with `multi-line-mode()`, the rule that joins lines.
#[derive(Debug, Clone)]
pub struct LineFraming {
    pub newline: Newline,
    pub(crate) multi: Option<Rule>,
}

impl LineFraming {
    /// Whether lines are joined (`multi-line-mode()` other than `none`).
    pub fn is_multi_line(&self) -> bool {
        self.multi.is_some()
    }
}

impl From<Newline> for LineFraming {
    fn from(newline: Newline) -> Self {
        LineFraming {
            newline,
            multi: None,
        }
    }
}

/// [`LineReader::parse_batch`] with `multi-line-mode()`: the splitter cuts the messages.
#[allow(clippy::too_many_arguments)]
pub(crate) fn multi_batch(
    multi: &mut Splitter,
    buf: &[u8],
    pos: &mut usize,
    aux: &[(&'static str, Vec<u8>)],
    ingest: &Ingest,
    batch: &mut Batcher,
    credits: u32,
    eof: bool,
    now: UnixTime,
) -> (u32, bool) {
    let mut used = 0;
    while used < credits {
        match multi.next(&buf[*pos..], eof) {
            Frame::Message(m, n) => {
                ingest.parse_into_with(batch, m, None, now, aux);
                *pos += n;
                used += 1;
            }
            Frame::Skip(n) => *pos += n,
            Frame::Incomplete | Frame::Error(_) => return (used, false),
        }
    }
    (used, true)
}

/// `multi-line-timeout()`'s clock (3.38's `poll-multiline-file-changes.c`): started by the
/// first poll that finds the file at its end, stopped by a read; once it has run longer than
/// the timeout the partial message is flushed, and not again until something is read.
#[derive(Debug, Default)]
pub(crate) struct QuietSpell {
    since: Option<Instant>,
    flushed: bool,
}

impl QuietSpell {
    /// A poll at the end of the file at `now`; whether to flush.
    pub(crate) fn at_end(&mut self, timeout: Duration, now: Instant) -> bool {
        if self.flushed {
            return false;
        }
        match self.since {
            None => {
                self.since = Some(now);
                false
            }
            Some(t) if now.saturating_duration_since(t) > timeout => {
                self.since = None;
                self.flushed = true;
                true
            }
            Some(_) => false,
        }
    }
}

#[cfg(test)]
#[path = "multiline_tests.rs"]
mod tests;
