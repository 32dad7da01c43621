//! What the file-like sources — `file()`, `pipe()`, `stdin()` — share: the options they honour
//! (and the ones refused by name), a newline-framed read buffer that knows its offset in the
//! input, and the loop that turns what is buffered into batches under the reader's
//! flow-control window.
//!
//! Each driver's own part lives beside it: following, rotation and the saved position in
//! [`super::file_reader`], the kernel's log (`file("/dev/kmsg")`, `file("/proc/kmsg")`) in
//! [`super::kmsg_reader`], the FIFO in [`super::pipe_reader`], standard input and the exit at
//! its end in [`super::stdin_reader`].
//!
//! Every message gets FILE_NAME: the path read (`-` for `stdin()`), as syslog-ng's file
//! reader sets it (recorded for all three drivers).
//!
//! Parsing: syslog-ng's file readers set `LP_LOCAL` (a kernel-facility line without a stamp gets
//! PROGRAM=kernel) and keep `expect-hostname`; `pipe()` also clears `expect-hostname` after the
//! user's flags (recorded from 3.38: with `keep-hostname(yes)` a piped
//! `<13>Nov 24 10:00:00 myhost prog: x` has PROGRAM `myhost`, a file's has HOST `myhost`).
//! Framing is the socket text protocol's: `\n` or NUL ends a message, trailing `\r` are removed,
//! empty lines skipped unless `flags(empty-lines)`, lines longer than `log-msg-size()` split.
//! A partial last line waits for the rest (files, pipes); only the end of `stdin()` makes it a
//! message. `multi-line-mode()` joins lines into messages instead ([`super::multiline`]; the
//! default path pays nothing for it: the choice is made once per batch, not per line).
//! `format(linux-kmsg)` is accepted (`format("syslog")` is the default; others are
//! refused by name): with newline framing each line is one record, and the byte that ended
//! the line goes to the parser with it ([`crate::message::kmsg::with_terminator`]).

use std::os::fd::OwnedFd;
use std::sync::Arc;

use actix_rt::ArbiterHandle;
use tokio::sync::{Notify, oneshot, watch};

use super::common::{
    DriverOptions, LineOptions, ReaderOptions, SourceFlag, SourceOptions, option_span,
};
use super::file::FileSourceOptions;
use super::file_reader::{FilePlan, FilePosition};
use super::kmsg_reader::KmsgPlan;
pub use super::multiline::LineFraming;
use super::multiline::{Splitter, multi_batch};
use super::pipe::PipeSourceOptions;
use super::pipe_reader::PipePlan;
use super::stdin::StdinSourceOptions;
use crate::actors::runtime::ack::{Bookmark, Window};
use crate::actors::runtime::bookmark::ConsecutiveTracker;
use crate::actors::runtime::driver::{
    IngestOptions, Leftovers, Resources, SourceDriver, SourceStart, StateKey,
};
use crate::actors::runtime::error::RuntimeError;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::actors::runtime::settings;
use crate::actors::runtime::stats::SourceRows;
use crate::config::Node;
use crate::config::ast::keyword_eq;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;
use crate::message::framing::{Frame, Newline};
use crate::message::{MsgFormat, UnixTime};
use crate::persist::Persist;

/// Bytes asked of the input per read.
pub const READ_SIZE: usize = 256 * 1024;

/// A file-like source, ready to start.
#[derive(Debug, Clone)]
pub struct LinesPlan {
    pub kind: LinesKind,
    pub framing: LineFraming,
    /// `log-iw-size()`: messages in flight before the reader stops reading.
    pub window: u32,
}

/// Which file-like source.
#[derive(Debug, Clone)]
pub enum LinesKind {
    File(FilePlan),
    /// `file("/dev/kmsg")`, `file("/proc/kmsg")`.
    Kmsg(KmsgPlan),
    Pipe(PipePlan),
    Stdin,
}

/// What a reader needs from the running graph.
pub struct StartCx {
    /// The arbiter the reader task runs on (a network arbiter), or the current one.
    pub home: Option<ArbiterHandle>,
    pub stop: watch::Receiver<bool>,
    /// The persist file (file positions), when the daemon opened one.
    pub persist: Option<Arc<Persist>>,
    /// Where the reader leaves its state for the next graph when it stops (by its key, a
    /// [`Resume`]).
    pub handover: Leftovers,
    /// Raised to stop the daemon (the end of `stdin()`).
    pub exit: Arc<Notify>,
    /// The kernel log's descriptor, opened when the graph was acquired.
    pub device: Option<OwnedFd>,
}

/// A reader's state taken over from the previous graph (a reload).
pub enum Resume {
    /// A file's tracker — the old graph's batches may still be in the (handed over) queues,
    /// and their positions must commit in order with the new reader's — and where the old
    /// reader stopped (`None`: no file was open).
    File {
        tracker: Arc<ConsecutiveTracker<FilePosition>>,
        at: Option<FilePosition>,
    },
    /// A FIFO's open descriptor (closing it would throw away what writers put in the pipe
    /// and nobody read yet) and its partial last line.
    Pipe { fd: OwnedFd, tail: Vec<u8> },
    /// What a /proc/kmsg reader read and did not parse (reading it consumed it).
    Proc { tail: Vec<u8> },
}

impl std::fmt::Debug for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resume::File { at, .. } => write!(f, "Resume::File({at:?})"),
            Resume::Pipe { fd, tail } => write!(f, "Resume::Pipe({fd:?}, {} bytes)", tail.len()),
            Resume::Proc { tail } => write!(f, "Resume::Proc({} bytes)", tail.len()),
        }
    }
}

/// A file-like source, ready to start: `file()`, `pipe()`, `stdin()`.
#[derive(Debug, Clone)]
pub struct LinesSource {
    pub lines: LinesPlan,
    pub source: SourceOptions,
    pub reader: ReaderOptions,
}

impl SourceDriver for LinesSource {
    fn persist_name(&self) -> String {
        self.lines.key()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn stats_rows(&self) -> SourceRows {
        let instance = match &self.lines.kind {
            LinesKind::File(p) => p.path.display().to_string(),
            LinesKind::Kmsg(p) => p.path.display().to_string(),
            LinesKind::Pipe(p) => p.path.display().to_string(),
            LinesKind::Stdin => return SourceRows::None,
        };
        SourceRows::Driver {
            level: 1,
            instance,
            reader: true,
        }
    }

    /// syslog-ng's file readers set `LP_LOCAL` (see the module's notes).
    fn ingest_options(&self) -> IngestOptions<'_> {
        IngestOptions {
            source: &self.source,
            reader: Some(&self.reader),
            set_flags: crate::message::ParseFlags::LOCAL,
            clear_flags: 0,
        }
    }

    /// Work that must succeed before anything of the graph runs, so that a failure stops
    /// the start like a port that cannot be bound: creating the FIFO of a `pipe()` (the
    /// running graph's reader keeps its own descriptor, handed over at the swap), opening the
    /// kernel's log (or taking the running graph's descriptor of it).
    fn acquire(
        &self,
        _: &str,
        lent: &mut Resources,
        mine: &mut Resources,
    ) -> Result<(), RuntimeError> {
        match &self.lines.kind {
            LinesKind::Pipe(p) => p.prepare().map_err(RuntimeError::Open),
            LinesKind::Kmsg(p) => p.acquire(lent, mine),
            LinesKind::File(_) | LinesKind::Stdin => Ok(()),
        }
    }

    fn start(&self, ingest: Arc<Ingest>, cx: &mut SourceStart<'_>) {
        let start = StartCx {
            home: cx.next_home(),
            stop: cx.stop.clone(),
            persist: cx.persist.clone(),
            handover: cx.leftovers.clone(),
            exit: cx.exit.clone(),
            device: match &self.lines.kind {
                LinesKind::Kmsg(p) => p.descriptor(cx.resources),
                _ => None,
            },
        };
        cx.done.push(self.lines.clone().start(ingest, start));
    }

    fn state_key(&self) -> Option<StateKey> {
        match &self.lines.kind {
            LinesKind::File(f) => Some(StateKey {
                name: f.persist_key.clone(),
                span: f.span,
                describe: format!("reads {}", f.path.display()),
            }),
            // No position is kept, but syslog-ng still refuses two sources of one name.
            LinesKind::Kmsg(k) => Some(StateKey {
                name: k.persist_key.clone(),
                span: k.span,
                describe: format!("reads {}", k.path.display()),
            }),
            LinesKind::Pipe(_) | LinesKind::Stdin => None,
        }
    }

    fn needs_persist(&self) -> bool {
        matches!(self.lines.kind, LinesKind::File(_))
    }
}

impl LinesPlan {
    /// The key of its reader's state in a reload's `Leftovers` (a file's persist name,
    /// `pipe(PATH)`, `stdin`).
    pub fn key(&self) -> String {
        match &self.kind {
            LinesKind::File(p) => p.persist_key.clone(),
            LinesKind::Kmsg(p) => p.persist_key.clone(),
            LinesKind::Pipe(p) => p.key(),
            LinesKind::Stdin => "stdin".to_string(),
        }
    }

    /// Starts the reader; the receiver resolves once it has flushed its last batch and left
    /// its state in `cx.handover`.
    pub fn start(self, ingest: Arc<Ingest>, mut cx: StartCx) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let home = cx.home.clone();
        // Taken now, while the graph starts, so that `Leftovers::clear` after the start
        // drops only what no reader claimed.
        let resume = match &self.kind {
            LinesKind::File(_) | LinesKind::Pipe(_) | LinesKind::Kmsg(_) => {
                cx.handover.take::<Resume>(&self.key())
            }
            LinesKind::Stdin => None,
        };
        let file_name = match &self.kind {
            LinesKind::File(p) => p.path.as_os_str().as_encoded_bytes().to_vec(),
            LinesKind::Kmsg(p) => p.path.as_os_str().as_encoded_bytes().to_vec(),
            LinesKind::Pipe(p) => p.path.as_os_str().as_encoded_bytes().to_vec(),
            LinesKind::Stdin => b"-".to_vec(),
        };
        let task = async move {
            let window = ingest.window(self.window);
            let mut lines = LineReader::new(self.framing);
            lines.set_file_name(file_name);
            match self.kind {
                LinesKind::File(p) => {
                    super::file_reader::follow(p, resume, &mut lines, &ingest, window, cx).await
                }
                LinesKind::Kmsg(p) => {
                    let fd = cx.device.take();
                    p.read(fd, resume, &mut lines, &ingest, window, cx).await
                }
                LinesKind::Pipe(p) => p.read(resume, &mut lines, &ingest, window, cx).await,
                LinesKind::Stdin => {
                    super::stdin_reader::read(&mut lines, &ingest, window, cx).await
                }
            }
            let _ = tx.send(());
        };
        match home {
            Some(h) => {
                h.spawn(task);
            }
            None => {
                actix_rt::spawn(task);
            }
        }
        rx
    }
}

/// Plans a `file()`, `pipe()` or `stdin()` driver call.
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    _env: &crate::pipeline::BuildEnv<'_>,
) -> Result<Box<dyn SourceDriver>, Diagnostic> {
    let name = match call {
        Node::Call { name, .. } => name.value.as_str(),
        _ => "",
    };
    if keyword_eq(name, "file") {
        let o = FileSourceOptions::from_call(call)?;
        let lines = super::file_reader::plan_file_source(&o, call, globals)?;
        return Ok(Box::new(LinesSource {
            lines,
            source: o.source,
            reader: o.reader,
        }));
    }
    if keyword_eq(name, "pipe") {
        let mut o = PipeSourceOptions::from_call(call)?;
        let lines = super::pipe_reader::plan_pipe_source(&mut o, call, globals)?;
        return Ok(Box::new(LinesSource {
            lines,
            source: o.source,
            reader: o.reader,
        }));
    }
    let o = StdinSourceOptions::from_call(call)?;
    let lines = super::stdin_reader::plan_stdin_source(&o, call, globals)?;
    Ok(Box::new(LinesSource {
        lines,
        source: o.source,
        reader: o.reader,
    }))
}

/// Checks what the runtime honours of a file-like source's shared options; returns its
/// framing.
pub fn plan_lines(
    call: &Node,
    source: &SourceOptions,
    reader: &ReaderOptions,
    lines: &LineOptions,
    globals: &GlobalOptions,
) -> Result<LineFraming, Diagnostic> {
    let refuse = |what: &str, names: &[&str]| {
        Err(Diagnostic::new(
            format!("{what} is not supported by the runtime yet"),
            option_span(call, names),
        ))
    };
    if lines.pad_size > 0 {
        return refuse("pad-size()", &["pad-size"]);
    }
    if let Some(e) = &reader.encoding {
        let n = e.0.to_ascii_lowercase().replace(['-', '_'], "");
        if n != "utf8" {
            return refuse(&format!("encoding(\"{}\")", e.0), &["encoding"]);
        }
    }
    if let Some(f) = &reader.format
        && f != "syslog"
        && !crate::message::kmsg::is_linux_kmsg(f)
    {
        return refuse(&format!("format(\"{f}\")"), &["format"]);
    }
    if reader
        .trim_large_messages
        .unwrap_or(globals.trim_large_messages)
    {
        return refuse("trim-large-messages(yes)", &["trim-large-messages"]);
    }
    if source.log_prefix.is_some() {
        return refuse("log-prefix()", &["log-prefix"]);
    }
    if source.use_syslogng_pid {
        return refuse("use-syslogng-pid(yes)", &["use-syslogng-pid"]);
    }
    let multi = super::multiline::plan(call, lines)?;
    if multi.is_some()
        && let Some(f) = &reader.format
        && crate::message::kmsg::is_linux_kmsg(f)
    {
        // 3.38's linux-kmsg format builds its own reader, which has no multi-line modes.
        return refuse(
            "multi-line-mode() with format(linux-kmsg)",
            &["multi-line-mode"],
        );
    }
    let empty = reader.flags.contains(&SourceFlag::EmptyLines);
    Ok(LineFraming {
        newline: Newline::new(settings::log_msg_size(reader, globals), empty),
        multi,
    })
}

/// A newline-framed read buffer that knows where it stands in its input: `base` is the
/// input offset of `buf[0]`, so [`LineReader::offset`] is the offset just after the last
/// message taken out (what a file saves as its position).
pub struct LineReader {
    buf: Vec<u8>,
    pos: usize,
    base: u64,
    framing: Newline,
    /// `multi-line-mode()`: joins lines; `buf[pos..]` starts with the pending message, so the
    /// offset never passes a message not yet made.
    multi: Option<Splitter>,
    /// Values set on every message: FILE_NAME.
    aux: Vec<(&'static str, Vec<u8>)>,
}

impl LineReader {
    /// An empty buffer at offset 0.
    pub fn new(framing: LineFraming) -> Self {
        let LineFraming { newline, multi } = framing;
        let multi = multi.map(|rule| {
            Splitter::new(
                rule,
                newline.max_msg_size,
                newline.empty_lines,
                newline.nul_terminates,
            )
        });
        LineReader {
            buf: Vec::new(),
            pos: 0,
            base: 0,
            framing: newline,
            multi,
            aux: Vec::new(),
        }
    }

    /// Whether lines are joined into messages (`multi-line-mode()`).
    pub fn is_multi_line(&self) -> bool {
        self.multi.is_some()
    }

    /// Makes the next batch send what is pending as a message, complete or not (a
    /// `multi-line-timeout()` that expired). Nothing without `multi-line-mode()`.
    pub fn cue_flush(&mut self) {
        if let Some(m) = &mut self.multi
            && self.pos < self.buf.len()
        {
            m.cue_flush();
        }
    }

    /// The FILE_NAME every message gets.
    pub fn set_file_name(&mut self, name: Vec<u8>) {
        self.aux = vec![("FILE_NAME", name)];
    }

    /// Parses and routes one message that came whole (a /dev/kmsg record) into `batch`.
    pub fn parse_record(&self, ingest: &Ingest, batch: &mut Batcher, raw: &[u8], now: UnixTime) {
        ingest.parse_into_with(batch, raw, None, now, &self.aux);
    }

    /// The input offset after the last message (or skipped bytes) taken out.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The input offset just after everything buffered.
    pub fn read_offset(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    /// Bytes buffered and not taken out.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Drops everything buffered; the next byte read is at `offset`.
    pub fn reset(&mut self, offset: u64) {
        self.buf.clear();
        self.pos = 0;
        self.base = offset;
        if let Some(m) = &mut self.multi {
            m.reset();
        }
    }

    /// The buffer to read into (the consumed head dropped, room for a large read made).
    pub fn spare(&mut self) -> &mut Vec<u8> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        if self.buf.capacity() - self.buf.len() < READ_SIZE / 4 {
            self.buf.reserve(READ_SIZE);
        }
        &mut self.buf
    }

    /// Frames, parses and routes up to `credits` messages into `batch` (begun by the
    /// caller). Returns how many messages it made and whether complete ones may remain.
    pub fn parse_batch(
        &mut self,
        ingest: &Ingest,
        batch: &mut Batcher,
        credits: u32,
        eof: bool,
    ) -> (u32, bool) {
        let now = UnixTime::now(&ingest.parse.local_time_zone);
        if let Some(multi) = &mut self.multi {
            return multi_batch(
                multi,
                &self.buf,
                &mut self.pos,
                &self.aux,
                ingest,
                batch,
                credits,
                eof,
                now,
            );
        }
        let kmsg = matches!(ingest.parse.format, MsgFormat::LinuxKmsg(_));
        let mut used = 0;
        while used < credits {
            let rest = &self.buf[self.pos..];
            match self.framing.next(rest, eof) {
                Frame::Message(m, n) => {
                    let raw = if kmsg {
                        crate::message::kmsg::with_terminator(rest, m.len())
                    } else {
                        m
                    };
                    ingest.parse_into_with(batch, raw, None, now, &self.aux);
                    self.pos += n;
                    used += 1;
                }
                Frame::Skip(n) => self.pos += n,
                // Newline framing has no errors; treat one like the end of the buffer.
                Frame::Incomplete | Frame::Error(_) => return (used, false),
            }
        }
        (used, true)
    }
}

/// Bookmarks of a reader whose position is saved (files): one per batch, closed with the
/// offset where the batch ends.
pub trait Marks: Sync {
    fn open(&self) -> Bookmark;
    fn close(&self, seq: u64, end: u64);
}

/// Waits until `stop` is raised (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Whether `stop` is raised.
pub fn is_stopped(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow()
}

/// Waits for `d` unless `stop` is raised first; `false` when stopped.
pub async fn pause(d: std::time::Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = stopped(stop) => false,
    }
}

/// Turns everything complete in `lines` into batches, each taking what credits the window
/// has (waiting for some when it is empty). With `eof`, a partial last line is a message.
/// Returns `false` when `stop` was raised while waiting for credits.
pub async fn drain(
    lines: &mut LineReader,
    ingest: &Ingest,
    window: &Arc<Window>,
    batch: &mut Batcher,
    eof: bool,
    stop: &mut watch::Receiver<bool>,
    marks: Option<&dyn Marks>,
) -> bool {
    while !lines.pending().is_empty() {
        let mut credits = window.try_acquire();
        if credits == 0 {
            tokio::select! {
                c = window.acquire() => credits = c,
                _ = stopped(stop) => return false,
            }
        }
        let bookmark = marks.map(Marks::open);
        let seq = bookmark.as_ref().map(|b| b.seq);
        ingest.begin_with_bookmark(batch, window, credits, bookmark);
        let (used, more) = lines.parse_batch(ingest, batch, credits, eof);
        if let (Some(m), Some(seq)) = (marks, seq) {
            m.close(seq, lines.offset());
        }
        ingest.flush(batch);
        window.put_back(credits - used);
        if !more {
            break;
        }
    }
    true
}

#[cfg(test)]
#[path = "line_source_tests.rs"]
mod tests;
