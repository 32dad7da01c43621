//! Binding a `python()` or `python-fetcher()` source to its object, after the fork (see
//! `python::binding`): the persist name, the class checked (a `LogSource` with `run()` and
//! `request_exit()`, `wakeup()` beside `suspend()`; a `LogFetcher` with `fetch()`),
//! `persist_name`, `flags` and `parse_options` set before `init(options)`, and the
//! `ack_tracker` the object set in `init()` read back. Any failure is a configuration error
//! at the driver (exit 2 at start, the running configuration kept on reload), as syslog-ng
//! 3.38 fails the driver's init.

use std::sync::{Arc, OnceLock};

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::actors::python_options::PyOptions;
use crate::config::diagnostic::Diagnostic;
use crate::config::span::Span;
use crate::message::{ParseFlags, ParseOptions};
use crate::python::binding::{BindCx, Bindable};
use crate::python::logmsg::PyParseOptions;
use crate::python::object::{DriverObject, Role, Spec, generated_persist_name};
use crate::python::source_classes::{PyAckTracker, PyLogFetcher, PyLogSource, TrackerKind};

/// Which of the two drivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Source,
    Fetcher,
}

impl Kind {
    /// syslog-ng's module name: the prefix of persist names and messages.
    pub(super) fn module(self) -> &'static str {
        match self {
            Kind::Source => "python-source",
            Kind::Fetcher => "python-fetcher",
        }
    }

    fn base(self) -> &'static str {
        match self {
            Kind::Source => "LogSource",
            Kind::Fetcher => "LogFetcher",
        }
    }
}

/// The object of a bound source.
pub(super) struct BoundSource {
    pub(super) object: Arc<DriverObject>,
    /// What `init()` set as `self.ack_tracker`.
    pub(super) tracker: Option<(TrackerKind, Py<PyAny>)>,
    /// The class defines `suspend()` and `wakeup()`: posting never blocks.
    pub(super) suspends: bool,
}

/// A Python source's part of the plan's bindings.
pub(super) struct Binding {
    pub(super) kind: Kind,
    pub(super) class: String,
    pub(super) loaders: Vec<String>,
    pub(super) options: PyOptions,
    pub(super) span: Span,
    /// `MODULE.NAME` with `persist-name()`.
    pub(super) configured_persist_name: Option<String>,
    /// `OBJECT#INDEX`, set when the graph is planned.
    pub(super) driver_id: OnceLock<String>,
    /// What `self.parse_options` holds and `self.flags` shows.
    pub(super) parse: Arc<ParseOptions>,
    pub(super) persist_name: OnceLock<String>,
    pub(super) bound: OnceLock<BoundSource>,
}

impl Binding {
    /// `MODULE(CLASS)`: the name without `persist-name()` or `generate_persist_name()`.
    pub(super) fn class_persist_name(&self) -> String {
        format!("{}({})", self.kind.module(), self.class)
    }

    pub(super) fn driver(&self) -> String {
        self.driver_id
            .get()
            .cloned()
            .unwrap_or_else(|| self.kind.module().to_string())
    }
}

/// `self.flags`: the parsing flags by syslog-ng's names (seed 003, "Accessing the flags()
/// option").
fn flags_dict<'py>(py: Python<'py>, f: ParseFlags) -> PyResult<Bound<'py, PyDict>> {
    let on = |bit: u32| f.0 & bit != 0;
    let d = PyDict::new(py);
    d.set_item("parse", !on(ParseFlags::NO_PARSE))?;
    d.set_item("check-hostname", on(ParseFlags::CHECK_HOSTNAME))?;
    d.set_item("syslog-protocol", on(ParseFlags::SYSLOG_PROTOCOL))?;
    d.set_item("assume-utf8", on(ParseFlags::ASSUME_UTF8))?;
    d.set_item("validate-utf8", on(ParseFlags::VALIDATE_UTF8))?;
    d.set_item("sanitize-utf8", on(ParseFlags::SANITIZE_UTF8))?;
    d.set_item("multi-line", !on(ParseFlags::NO_MULTI_LINE))?;
    d.set_item("store-legacy-msghdr", on(ParseFlags::STORE_LEGACY_MSGHDR))?;
    d.set_item("store-raw-message", on(ParseFlags::STORE_RAW_MESSAGE))?;
    d.set_item("expect-hostname", on(ParseFlags::EXPECT_HOSTNAME))?;
    d.set_item("guess-timezone", on(ParseFlags::GUESS_TIMEZONE))?;
    d.set_item("header", !on(ParseFlags::NO_HEADER))?;
    d.set_item("rfc3164-fallback", !on(ParseFlags::NO_RFC3164_FALLBACK))?;
    Ok(d)
}

impl Bindable for Binding {
    fn bind(&self, py: Python<'_>, cx: &BindCx<'_>) -> Result<(), Diagnostic> {
        let driver = self.driver();
        let module = self.kind.module();
        let persist = match &self.configured_persist_name {
            Some(p) => p.clone(),
            None => generated_persist_name(py, cx, &self.class, &self.options, module, &driver)
                .unwrap_or_else(|| self.class_persist_name()),
        };
        let _ = self.persist_name.set(persist.clone());
        let Ok(persist) = persist.into_pyobject(py);
        let attrs = [("persist_name", persist.into_any().unbind())];
        let spec = Spec {
            role: match self.kind {
                Kind::Source => Role::Source,
                Kind::Fetcher => Role::Fetcher,
            },
            class: &self.class,
            loaders: &self.loaders,
            options: &self.options,
            driver: &driver,
            span: self.span,
            class_attrs: &attrs,
        };
        let mut suspends = false;
        let object = DriverObject::create(py, cx, &spec, |instance| {
            let is_kind = match self.kind {
                Kind::Source => instance.cast::<PyLogSource>().is_ok(),
                Kind::Fetcher => instance.cast::<PyLogFetcher>().is_ok(),
            };
            if !is_kind {
                return Err(format!(
                    "Error instantiating Python driver class, class is not a subclass of {} \
                     (class `{}`)",
                    self.kind.base(),
                    self.class
                ));
            }
            let has = |name: &str| instance.getattr(name).is_ok_and(|m| m.is_callable());
            let required: &[&str] = match self.kind {
                Kind::Source => &["run", "request_exit"],
                Kind::Fetcher => &["fetch"],
            };
            for m in required {
                if !has(m) {
                    return Err(format!(
                        "Error initializing Python {}, class does not have a {m}() method \
                         (class `{}`)",
                        match self.kind {
                            Kind::Source => "source",
                            Kind::Fetcher => "fetcher",
                        },
                        self.class
                    ));
                }
            }
            if self.kind == Kind::Source && has("suspend") {
                if !has("wakeup") {
                    return Err(format!(
                        "Error initializing Python source, class implements suspend() but \
                         wakeup() is missing (class `{}`)",
                        self.class
                    ));
                }
                suspends = true;
            }
            let set = |name: &str, value: Bound<'_, PyAny>| {
                instance
                    .setattr(name, value)
                    .map_err(|e| format!("Error setting the {name} attribute: {e}"))
            };
            let flags = flags_dict(instance.py(), self.parse.flags)
                .map_err(|e| format!("Error creating flags attribute: {e}"))?;
            set("flags", flags.into_any())?;
            let options = Bound::new(instance.py(), PyParseOptions(self.parse.clone()))
                .map_err(|e| format!("Error creating the parse options: {e}"))?;
            set("parse_options", options.into_any())
        })?;
        let tracker = match object.instance.bind(py).getattr("ack_tracker") {
            Err(_) => None,
            Ok(t) if t.is_none() => None,
            Ok(t) => match t.cast::<PyAckTracker>() {
                Ok(t) => {
                    let t = t.get();
                    Some((t.kind, t.callback.clone_ref(py)))
                }
                Err(_) => {
                    object.deinit(py);
                    return Err(Diagnostic::new(
                        format!(
                            "{module}: Python source attribute ack_tracker needs to be an \
                             AckTracker subtype (class `{}`)",
                            self.class
                        ),
                        self.span,
                    ));
                }
            },
        };
        let _ = self.bound.set(BoundSource {
            object: Arc::new(object),
            tracker,
            suspends,
        });
        Ok(())
    }

    fn persist_name(&self) -> Option<(String, Span)> {
        self.persist_name.get().map(|p| (p.clone(), self.span))
    }
}
