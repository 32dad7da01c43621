//! How a configuration's Python parts come to life.
//!
//! Planning has no side effects (it runs before the daemon forks, and for `reload --check`),
//! so it only collects what uses Python: every `python()` destination, `python()` parser
//! and `$(python ...)` call site registers a [`Bindable`] in the plan's [`Bindings`]. Once
//! the daemon runs (after the fork: CPython is never started in a process that then
//! forks), [`PythonPlan::bind`] starts the interpreter, runs the `python {}` blocks in a
//! fresh module ([`ConfigCode`]) and binds each registered part: classes and functions are
//! looked up, objects created and their `init(options)` called. Any failure is a
//! configuration error at the driver's `file:line:col`: at start the daemon exits, on
//! reload the running configuration stays untouched (the new objects are dropped, which
//! calls their `deinit()`).
//!
//! This runs while the previous configuration's objects still run (syslog-ng deinits
//! the old configuration first and re-inits it when the new one fails): a new object's
//! `init()` may therefore overlap with the old one's last messages; `open()` of a new
//! destination is only called once its predecessor has closed.

use std::path::Path;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

use super::code::{Block, ConfigCode};
use super::error::PythonException;
use crate::config::diagnostic::Diagnostic;
use crate::config::span::{SourceMap, Span};
use crate::template::{DaemonInfo, TemplateOptions};

/// What binding runs with.
pub(crate) struct BindCx<'a> {
    pub(crate) code: &'a Arc<ConfigCode>,
    /// `@version` below 4.0: values reach Python as bytes, options as strings.
    pub(crate) compat_3x: bool,
}

/// A part of a plan that needs the configuration's Python code.
pub(crate) trait Bindable: Send + Sync {
    /// Looks up what it names and creates its objects; the error says what is missing and
    /// where the driver is.
    fn bind(&self, py: Python<'_>, cx: &BindCx<'_>) -> Result<(), Diagnostic>;

    /// Once bound: the persist name it keeps state under and where it is configured, for
    /// parts whose name only Python can tell (`generate_persist_name()`); two with one name
    /// are refused.
    fn persist_name(&self) -> Option<(String, Span)> {
        None
    }
}

/// The Python parts a plan collected (shared by everything that registers into it).
#[derive(Clone, Default)]
pub(crate) struct Bindings {
    items: Arc<Mutex<Vec<Arc<dyn Bindable>>>>,
}

impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bindings({})", self.len())
    }
}

impl Bindings {
    /// Registers a part to bind.
    pub(crate) fn add(&self, item: Arc<dyn Bindable>) {
        match self.items.lock() {
            Ok(mut v) => v.push(item),
            Err(p) => p.into_inner().push(item),
        }
    }

    fn all(&self) -> Vec<Arc<dyn Bindable>> {
        match self.items.lock() {
            Ok(v) => v.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// How many parts are registered.
    pub(crate) fn len(&self) -> usize {
        self.all().len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The Python side of a plan: its `python {}` blocks and its registered parts.
#[derive(Debug)]
pub(crate) struct PythonPlan {
    blocks: Vec<(String, Span)>,
    compat_3x: bool,
    pub(crate) bindings: Bindings,
    /// What macros read from Python (`msg["DATE"]`) are rendered with: the configuration's
    /// global template options and its daemon facts (defaults until the planner sets them).
    macro_env: Option<(TemplateOptions, Arc<DaemonInfo>)>,
    /// The loaded code, once bound (kept alive as long as the plan's objects).
    code: Option<Arc<ConfigCode>>,
}

/// Why binding failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BindError {
    #[error(transparent)]
    Interpreter(#[from] super::PythonInitError),
    /// A `python {}` block did not compile or raised: an error in the configuration
    /// itself (syslog-ng finds it while parsing, `-s` included).
    #[error("Error processing a global python block")]
    Block(Vec<Diagnostic>),
    /// A driver could not be bound (a class that is missing, `init()` failing), with its
    /// span: syslog-ng finds these when it starts the configuration.
    #[error("Error initializing the Python parts of the configuration")]
    Config(Vec<Diagnostic>),
}

impl PythonPlan {
    /// `blocks`: the `python {}` blocks (code and span) in configuration order.
    pub(crate) fn new(blocks: Vec<(String, Span)>, compat_3x: bool) -> PythonPlan {
        PythonPlan {
            blocks,
            compat_3x,
            bindings: Bindings::default(),
            macro_env: None,
            code: None,
        }
    }

    /// Sets what macros read from Python are rendered with (the `macro_env` field).
    pub(crate) fn render_macros_with(&mut self, options: TemplateOptions, daemon: Arc<DaemonInfo>) {
        self.macro_env = Some((options, daemon));
    }

    /// Whether the configuration uses Python at all.
    pub(crate) fn is_used(&self) -> bool {
        !self.blocks.is_empty() || !self.bindings.is_empty()
    }

    /// Starts the interpreter (once per process), runs the blocks and binds every part.
    /// `map` locates the blocks (their file and line); `config_dir` is where the
    /// configuration file is (its `python/` directory goes on the import path).
    pub(crate) fn bind(
        &mut self,
        map: &SourceMap,
        config_dir: Option<&Path>,
    ) -> Result<(), BindError> {
        if !self.is_used() || self.code.is_some() {
            return Ok(());
        }
        super::ensure_initialized()?;
        let compat_3x = self.compat_3x;
        let items = self.bindings.all();
        let code = Python::attach(|py| -> Result<Arc<ConfigCode>, BindError> {
            let code = Arc::new(
                self.load_blocks(py, map, config_dir)
                    .map_err(BindError::Block)?,
            );
            let cx = BindCx {
                code: &code,
                compat_3x,
            };
            let mut errors: Vec<Diagnostic> = items
                .iter()
                .filter_map(|item| item.bind(py, &cx).err())
                .collect();
            if errors.is_empty() {
                errors = conflicting_persist_names(&items, map);
            }
            if errors.is_empty() {
                Ok(code)
            } else {
                Err(BindError::Config(errors))
            }
        })?;
        self.code = Some(code);
        Ok(())
    }

    /// What `sluice -s` runs: the `python {}` blocks only, as syslog-ng runs them while it
    /// parses the configuration (so a block that does not compile or raises is reported by
    /// a syntax check); classes are looked up and `init()` called only by a start.
    pub(crate) fn check_blocks(
        &self,
        map: &SourceMap,
        config_dir: Option<&Path>,
    ) -> Result<(), BindError> {
        if self.blocks.is_empty() {
            return Ok(());
        }
        super::ensure_initialized()?;
        Python::attach(|py| self.load_blocks(py, map, config_dir).map(drop))
            .map_err(BindError::Block)
    }

    /// Runs the blocks in a fresh `_syslogng_main`; a failure is reported at the block it
    /// happened in.
    fn load_blocks(
        &self,
        py: Python<'_>,
        map: &SourceMap,
        config_dir: Option<&Path>,
    ) -> Result<ConfigCode, Vec<Diagnostic>> {
        let blocks: Vec<Block> = self
            .blocks
            .iter()
            .map(|(code, span)| {
                let (file, line) = match map.file(span.file) {
                    Some(f) => (f.path.clone(), f.line_col(span.start as usize).0),
                    None => (Default::default(), 1),
                };
                Block {
                    code: code.clone(),
                    file,
                    line,
                }
            })
            .collect();
        super::syslogng::set_compat_3x(self.compat_3x);
        if let Some((options, daemon)) = &self.macro_env {
            super::syslogng::set_macro_env(options.clone(), daemon.clone());
        }
        let first_span = self.blocks.first().map(|(_, s)| *s);
        ConfigCode::load(py, config_dir, &blocks)
            .map_err(|e| vec![block_error(&e, first_span, &self.blocks, map)])
    }
}

/// Two Python drivers under one persist name would share their state (and syslog-ng 3.38
/// refuses to start): each later one is an error that names the first.
fn conflicting_persist_names(items: &[Arc<dyn Bindable>], map: &SourceMap) -> Vec<Diagnostic> {
    let mut seen: Vec<(String, Span)> = Vec::new();
    let mut errors = Vec::new();
    for (name, span) in items.iter().filter_map(|i| i.persist_name()) {
        match seen.iter().find(|(n, _)| *n == name) {
            Some((_, first)) => {
                let at = map.location(*first).unwrap_or_default();
                errors.push(
                    Diagnostic::new(
                        format!(
                            "conflicting persist names: `{name}` is used by two Python \
                             drivers; give one of them a persist-name() (or its class a \
                             generate_persist_name() that tells them apart)"
                        ),
                        span,
                    )
                    .with_note(format!("the other one is at {at}")),
                );
            }
            None => seen.push((name, span)),
        }
    }
    errors
}

/// A block that failed: reported at the block the traceback points into (the first one
/// when it cannot be told).
fn block_error(
    e: &PythonException,
    first: Option<Span>,
    blocks: &[(String, Span)],
    map: &SourceMap,
) -> Diagnostic {
    let span = blocks
        .iter()
        .rev()
        .find(|(_, s)| {
            map.file(s.file).is_some_and(|f| {
                e.traceback
                    .contains(&format!("\"{}\"", f.path.to_string_lossy()))
            })
        })
        .map(|(_, s)| *s)
        .or(first)
        .unwrap_or_default();
    Diagnostic::new(
        format!(
            "Error evaluating global Python block: {}: {}",
            e.kind, e.message
        ),
        span,
    )
    .with_note(e.traceback.trim_end().to_string())
}

/// Logs a Python exception raised by a driver method through the daemon's log (and so
/// `internal()`), with its traceback, as syslog-ng does: `what` says what failed
/// ("Exception while calling a Python function"), the driver and class name it.
pub(crate) fn log_exception(py: Python<'_>, err: &PyErr, what: &str, driver: &str, class: &str) {
    let e = PythonException::from_err(py, err);
    tracing::error!(
        driver = driver,
        class = class,
        exception = %format!("{}: {}", e.kind, e.message),
        "{what}\n{}",
        e.traceback.trim_end()
    );
}
