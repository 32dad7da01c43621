//! The token stream the parser reads: a stack of texts (the main file, included files and
//! block expansions), with pragmas, includes and `@define`s handled on the way, so that
//! the parser never sees them. Like syslog-ng, an `@include` may appear anywhere a line
//! can start, even in the middle of a statement, and a block expansion is spliced into the
//! stream exactly where the block was referenced.

mod capture;
mod include;
mod pragma;
mod reader;
pub mod subst;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ast::{ModulePragma, normalize_keyword};
use super::diagnostic::Diagnostic;
use super::load::LoadOptions;
use super::span::{ExpansionId, FileId, SourceMap, Span, Spanned};

use reader::Reader;
pub use reader::{Captured, Token};
use subst::SegMap;

/// How deep includes may nest (syslog-ng allows 256; a deeper chain is a mistake).
pub const MAX_INCLUDE_DEPTH: usize = 64;
/// How deep block expansions may nest before we call it runaway recursion.
pub const MAX_EXPANSION_DEPTH: usize = 64;
/// How many block expansions a whole configuration may perform (guards against blocks
/// that double at every level).
pub const MAX_EXPANSIONS: usize = 50_000;
/// How much text all block expansions together may produce.
pub const MAX_EXPANDED_BYTES: usize = 64 << 20;
/// Included files larger than this are refused (a config file, not a disk image).
const MAX_FILE_SIZE: u64 = 64 << 20;

/// The stub read for `@include "scl.conf"` when no scl.conf exists: sluice has no SCL.
const SCL_STUB: &str = include_str!("../scl_stub.conf");

enum FrameKind {
    /// A file, by canonical path (for cycle detection).
    File(PathBuf),
    Expansion,
}

struct Frame {
    reader: Reader,
    kind: FrameKind,
    /// The directory relative includes in this text start from.
    dir: PathBuf,
    /// Further files of the same `@include` (a directory or glob), read after this one.
    queue: Vec<PathBuf>,
    /// The `@include` path string that brought this frame in.
    include_site: Option<Span>,
}

pub struct Preprocessor<'o> {
    pub map: SourceMap,
    opts: &'o LoadOptions,
    frames: Vec<Frame>,
    /// `@define`d and built-in globals, by normalized name.
    globals: HashMap<String, String>,
    pushback: Vec<Token>,
    next_reader: u32,
    eof: Span,
    expansions: usize,
    expanded_bytes: usize,
    pub version: Option<Spanned<String>>,
    pub modules: Vec<ModulePragma>,
}

fn global_key(name: &str) -> String {
    normalize_keyword(name)
}

impl<'o> Preprocessor<'o> {
    /// Starts reading `text` as the main file `path`.
    pub fn new(path: &Path, text: String, opts: &'o LoadOptions) -> Self {
        let mut map = SourceMap::new();
        let len = text.len();
        let file = map.add_file(path, text.clone());
        let dir = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut pp = Preprocessor {
            map,
            opts,
            frames: Vec::new(),
            globals: HashMap::new(),
            pushback: Vec::new(),
            next_reader: 1,
            eof: Span::new(file, len, len),
            expansions: 0,
            expanded_bytes: 0,
            version: None,
            modules: Vec::new(),
        };
        pp.define_builtins();
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        pp.push_reader(
            file,
            ExpansionId(0),
            text,
            None,
            FrameKind::File(canonical),
            dir,
            None,
        );
        pp
    }

    /// The globals syslog-ng defines itself (Debian's paths), so that stock configs that
    /// use e.g. `` `scl-root` `` read the same.
    fn define_builtins(&mut self) {
        let include_path = self
            .opts
            .include_path
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        let builtins = [
            ("syslog-ng-root", "/usr".to_string()),
            ("syslog-ng-data", "/usr/share".to_string()),
            ("module-path", "/usr/lib/syslog-ng/3.38".to_string()),
            ("module-install-dir", "/usr/lib/syslog-ng/3.38".to_string()),
            ("scl-root", "/usr/share/syslog-ng/include/scl".to_string()),
            ("include-path", include_path),
        ];
        for (name, value) in builtins {
            self.globals.insert(global_key(name), value);
        }
    }

    pub fn define(&mut self, name: &str, value: String) {
        self.globals.insert(global_key(name), value);
    }

    /// A global's value, else the environment variable of that exact name.
    /// Hands the final globals over (called once, after parsing).
    pub fn take_globals(&mut self) -> HashMap<String, String> {
        std::mem::take(&mut self.globals)
    }

    pub fn lookup_global(&self, name: &str) -> Option<String> {
        lookup_in(&self.globals, name)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_reader(
        &mut self,
        file: FileId,
        expansion: ExpansionId,
        text: String,
        map: Option<SegMap>,
        kind: FrameKind,
        dir: PathBuf,
        include_site: Option<Span>,
    ) {
        let substitute = map.is_none();
        let map = map.unwrap_or_else(|| SegMap::identity(0, text.len()));
        let reader = Reader::new(self.next_reader, file, expansion, text, map, substitute);
        self.next_reader += 1;
        self.frames.push(Frame {
            reader,
            kind,
            dir,
            queue: Vec::new(),
            include_site,
        });
    }

    /// Splices a block expansion into the stream: `text` (already substituted) is read
    /// next, its tokens located through `map` in `file` and marked with `expansion`.
    pub fn push_expansion(
        &mut self,
        file: FileId,
        dir: PathBuf,
        text: String,
        map: SegMap,
        expansion: ExpansionId,
        call_site: Span,
    ) -> Result<(), Diagnostic> {
        self.expansions += 1;
        self.expanded_bytes += text.len();
        if self.expanded_bytes > MAX_EXPANDED_BYTES {
            return Err(Diagnostic::new(
                format!("block expansions produce more than {MAX_EXPANDED_BYTES} bytes"),
                call_site,
            ));
        }
        if self.expansions > MAX_EXPANSIONS {
            return Err(Diagnostic::new(
                format!("too many block expansions (more than {MAX_EXPANSIONS})"),
                call_site,
            ));
        }
        if !self.pushback.is_empty() {
            return Err(Diagnostic::new(
                "internal error: block expanded after a lookahead",
                call_site,
            ));
        }
        self.push_reader(
            file,
            expansion,
            text,
            Some(map),
            FrameKind::Expansion,
            dir,
            None,
        );
        Ok(())
    }

    /// How many block expansions are open around the current position.
    pub fn expansion_depth(&self) -> usize {
        self.frames
            .iter()
            .filter(|f| matches!(f.kind, FrameKind::Expansion))
            .count()
    }

    /// The directory relative includes of the current text start from.
    pub fn current_dir(&self) -> PathBuf {
        self.frames
            .last()
            .map_or_else(|| PathBuf::from("."), |f| f.dir.clone())
    }

    /// "included from file:line:col" notes for an error in an included file: the
    /// `@include`s that are open around the current position, innermost first.
    pub fn include_notes(&self, error: Span) -> Vec<String> {
        let in_include = self
            .frames
            .iter()
            .any(|f| f.include_site.is_some() && f.reader.file == error.file);
        if !in_include {
            return Vec::new();
        }
        self.frames
            .iter()
            .rev()
            .filter(|f| matches!(f.kind, FrameKind::File(_)))
            .filter_map(|f| f.include_site)
            .filter_map(|site| Diagnostic::new("", site).location(&self.map))
            .map(|at| format!("included from {at}"))
            .collect()
    }

    /// Where "unexpected end of file" points: the end of the main file.
    pub fn eof_span(&self) -> Span {
        self.eof
    }

    pub fn push_back(&mut self, tok: Token) {
        self.pushback.push(tok);
    }

    pub fn peek(&mut self) -> Result<Option<&Token>, Diagnostic> {
        if self.pushback.is_empty() {
            if let Some(tok) = self.next_token()? {
                self.pushback.push(tok);
            }
        }
        Ok(self.pushback.last())
    }

    /// The next token of the whole configuration, `None` at its end.
    pub fn next_token(&mut self) -> Result<Option<Token>, Diagnostic> {
        if let Some(tok) = self.pushback.pop() {
            return Ok(Some(tok));
        }
        loop {
            let globals = &self.globals;
            let Some(frame) = self.frames.last_mut() else {
                return Ok(None);
            };
            let lookup = |name: &str| lookup_in(globals, name);
            match frame.reader.next_token(false, &lookup)? {
                Some(tok) if tok.kind == super::lexer::TokKind::Pragma => self.pragma(&tok)?,
                Some(tok) => return Ok(Some(tok)),
                None => self.finish_frame()?,
            }
        }
    }

    /// The next token of the current pragma line; `None` at its end.
    fn next_in_line(&mut self) -> Result<Option<Token>, Diagnostic> {
        let globals = &self.globals;
        let Some(frame) = self.frames.last_mut() else {
            return Ok(None);
        };
        let lookup = |name: &str| lookup_in(globals, name);
        match frame.reader.next_token(true, &lookup)? {
            Some(tok) if tok.kind == super::lexer::TokKind::Newline => Ok(None),
            other => Ok(other),
        }
    }

    /// The end of a text: the next file of the same include, or back to the includer.
    fn finish_frame(&mut self) -> Result<(), Diagnostic> {
        let Some(frame) = self.frames.pop() else {
            return Ok(());
        };
        self.open_include(frame.queue, frame.include_site)
    }

    /// Reads the files of an `@include` (the first now, the rest when it ends).
    fn open_include(
        &mut self,
        mut files: Vec<PathBuf>,
        site: Option<Span>,
    ) -> Result<(), Diagnostic> {
        if files.is_empty() {
            return Ok(());
        }
        let first = files.remove(0);
        let at = site.unwrap_or(self.eof);
        let depth = self
            .frames
            .iter()
            .filter(|f| matches!(f.kind, FrameKind::File(_)))
            .count();
        if depth >= MAX_INCLUDE_DEPTH {
            return Err(Diagnostic::new(
                format!(
                    "include depth limit ({MAX_INCLUDE_DEPTH}) reached including `{}`",
                    first.display()
                ),
                at,
            ));
        }
        let canonical = std::fs::canonicalize(&first).unwrap_or_else(|_| first.clone());
        if self
            .frames
            .iter()
            .any(|f| matches!(&f.kind, FrameKind::File(p) if *p == canonical))
        {
            return Err(Diagnostic::new(
                format!(
                    "include cycle: `{}` is already being included",
                    first.display()
                ),
                at,
            ));
        }
        let text = read_config_file(&first).map_err(|e| {
            Diagnostic::new(format!("error including `{}`: {e}", first.display()), at)
        })?;
        let file = self.map.add_file(&first, text.clone());
        let dir = first
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        self.push_reader(
            file,
            ExpansionId(0),
            text,
            None,
            FrameKind::File(canonical),
            dir,
            site,
        );
        if let Some(frame) = self.frames.last_mut() {
            frame.queue = files;
        }
        Ok(())
    }

    /// Reads the bundled empty SCL in place of a missing scl.conf.
    fn open_scl_stub(&mut self) {
        let file = self
            .map
            .add_file("<sluice: bundled empty scl.conf>", SCL_STUB.to_string());
        let dir = self.current_dir();
        let kind = FrameKind::File(PathBuf::from("<scl-stub>"));
        self.push_reader(
            file,
            ExpansionId(0),
            SCL_STUB.to_string(),
            None,
            kind,
            dir,
            None,
        );
    }

    /// Captures a verbatim region right after the bracket token `open` (just read).
    pub fn capture(&mut self, open: &Token, python: bool) -> Result<Captured, Diagnostic> {
        let unbalanced = || {
            Diagnostic::new(
                format!(
                    "syntax error, unexpected end of file: this {} is never closed",
                    open.kind.describe()
                ),
                open.span,
            )
        };
        if !self.pushback.is_empty() {
            return Err(Diagnostic::new(
                "internal error: capture after a lookahead",
                open.span,
            ));
        }
        let Some(frame) = self
            .frames
            .last_mut()
            .filter(|f| f.reader.id == open.reader)
        else {
            return Err(unbalanced());
        };
        let captured = match (python, &open.kind) {
            (true, _) => frame.reader.capture_python(),
            (false, super::lexer::TokKind::LParen) => frame.reader.capture_config('(', ')'),
            (false, _) => frame.reader.capture_config('{', '}'),
        };
        captured.ok_or_else(unbalanced)
    }

    /// The text between two tokens of the same reader, as read (after substitution).
    pub fn text_between(&self, open: &Token, close: &Token) -> String {
        self.frames
            .iter()
            .rev()
            .find(|f| f.reader.id == open.reader && open.reader == close.reader)
            .and_then(|f| f.reader.text(open.end, close.start))
            .unwrap_or("")
            .to_string()
    }

    /// A token's own text, as read.
    pub fn token_text(&self, tok: &Token) -> String {
        self.frames
            .iter()
            .rev()
            .find(|f| f.reader.id == tok.reader)
            .and_then(|f| f.reader.text(tok.start, tok.end))
            .unwrap_or("")
            .to_string()
    }

    fn include_path_global(&self) -> String {
        self.lookup_global("include-path").unwrap_or_default()
    }

    /// Runs `@include name`, `name` written at `site`.
    fn include(&mut self, name: &str, site: Span) -> Result<(), Diagnostic> {
        let dirs = include::search_dirs(&self.current_dir(), &self.include_path_global());
        match include::resolve(name, &dirs) {
            include::Resolved::Files(files) => self.open_include(files, Some(site)),
            include::Resolved::NotFound(_) if name == "scl.conf" => {
                self.open_scl_stub();
                Ok(())
            }
            include::Resolved::NotFound(searched) => {
                let mut d = Diagnostic::new(format!("include file `{name}` not found"), site);
                if !searched.is_empty() {
                    let list: Vec<String> =
                        searched.iter().map(|p| p.display().to_string()).collect();
                    d = d.with_note(format!("searched in: {}", list.join(", ")));
                }
                Err(d)
            }
        }
    }
}

fn lookup_in(globals: &HashMap<String, String>, name: &str) -> Option<String> {
    globals
        .get(&global_key(name))
        .cloned()
        .or_else(|| std::env::var(name).ok())
}

/// Reads a configuration file as text (invalid UTF-8 replaced, as bytes are all syslog-ng
/// sees), refusing what is not a regular file of reasonable size.
pub fn read_config_file(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(format!("file too large ({} bytes)", meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
