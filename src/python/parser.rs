//! The `python()` parser: `parser p { python(class(MyParser) options(...)); };`.
//!
//! `parse(msg)` gets a writable `LogMessage` and may change it; a true result keeps the
//! message on its log path, anything else (False, None, an exception — logged with its
//! traceback) drops it from that path, as a failing native parser does. `init(options)` as
//! for destinations; `deinit()` is called when the parser is dropped with its router. The
//! parser runs inline on the source's thread, taking the GIL per message (as syslog-ng
//! does); the thread keeps its Python thread state between messages.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;

use super::binding::{BindCx, Bindable, Bindings};
use super::logmsg::PyLogMessage;
use super::object::{DriverObject, Role, Spec};
use crate::actors::python_options::PythonParserOptions;
use crate::config::ast::Node;
use crate::config::de;
use crate::config::diagnostic::Diagnostic;
use crate::message::LogMessage;

/// A compiled `python()` parser: its options now, its object once bound.
pub(crate) struct PythonParser {
    options: PythonParserOptions,
    span: crate::config::span::Span,
    driver: String,
    bound: OnceLock<(DriverObject, bool)>,
}

impl std::fmt::Debug for PythonParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "python-parser({})", self.options.class)
    }
}

/// Compiles a `python()` parser call; with `bindings` (a plan) it is registered to be bound
/// when the configuration starts. `name` names it in logs.
pub(crate) fn compile(
    call: &Node,
    name: &str,
    bindings: Option<&Bindings>,
) -> Result<Arc<PythonParser>, Diagnostic> {
    let options: PythonParserOptions = de::from_call(call)?;
    let parser = Arc::new(PythonParser {
        options,
        span: call.span(),
        driver: name.to_string(),
        bound: OnceLock::new(),
    });
    if let Some(b) = bindings {
        b.add(parser.clone());
    }
    Ok(parser)
}

impl Bindable for PythonParser {
    fn bind(&self, py: Python<'_>, cx: &BindCx<'_>) -> Result<(), Diagnostic> {
        let spec = Spec {
            role: Role::Parser,
            class: &self.options.class,
            loaders: &self.options.loaders,
            options: &self.options.options,
            driver: &self.driver,
            span: self.span,
            class_attrs: &[],
        };
        let object =
            DriverObject::create(py, cx, &spec, |instance| match instance.getattr("parse") {
                Ok(m) if m.is_callable() => Ok(()),
                _ => Err(format!(
                    "Error initializing Python parser, class `{}` does not have a parse() method",
                    self.options.class
                )),
            })?;
        let _ = self.bound.set((object, cx.compat_3x));
        Ok(())
    }
}

impl PythonParser {
    /// Runs `parse(msg)`; false drops the message from the path.
    pub(crate) fn process(&self, msg: &mut Arc<LogMessage>) -> bool {
        let Some((object, compat_3x)) = self.bound.get() else {
            return false;
        };
        super::interpreter::keep_thread_state();
        Python::attach(|py| {
            // The view takes the message over (so writing to it copies nothing unless
            // another path shares it) and gives it back below, changed or not.
            let taken = std::mem::replace(msg, placeholder());
            let view = PyLogMessage::new_wrapped(taken).with_compat_3x(*compat_3x);
            let view = match Bound::new(py, view) {
                Ok(v) => v,
                Err(e) => {
                    object.log(py, &e);
                    return false;
                }
            };
            let parse = pyo3::intern!(py, "parse");
            let keep = match object.instance.bind(py).call_method1(parse, (&view,)) {
                Ok(r) => r.is_truthy().unwrap_or(false),
                Err(e) => {
                    object.log(py, &e);
                    false
                }
            };
            *msg = view.borrow().message().clone();
            keep
        })
    }
}

/// What a message slot holds while Python has the message.
fn placeholder() -> Arc<LogMessage> {
    static EMPTY: std::sync::LazyLock<Arc<LogMessage>> =
        std::sync::LazyLock::new(|| Arc::new(LogMessage::new(crate::message::UnixTime::default())));
    EMPTY.clone()
}
