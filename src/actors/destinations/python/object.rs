//! The Python object of a `python()` destination and the calls the worker makes on it,
//! with syslog-ng's rules for each: `open()` returning None counts as success (with
//! syslog-ng's warning); with `is_opened()` defined, `open()` succeeds only if `is_opened()`
//! then says so, `close()` is only called while `is_opened()` is true, and `send()` is
//! preceded by an `is_opened()` check that re-opens; results of `send()`/`flush()` map bools
//! to SUCCESS/ERROR and anything that is not one of the constants to ERROR (logged).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt};

use super::value_pairs::DictBuilder;
use super::worker::Outcome;
use crate::message::LogMessage;
use crate::python::logmsg::PyLogMessage;
use crate::python::object::DriverObject;

/// A bound destination object.
#[derive(Debug)]
pub(crate) struct DestObject {
    pub(crate) object: DriverObject,
    pub(crate) compat_3x: bool,
    has_is_opened: bool,
    has_flush: bool,
    warned_open_none: std::sync::atomic::AtomicBool,
    /// With `value-pairs()`: what `send()` gets instead of the message (set at start).
    value_pairs: std::sync::OnceLock<DictBuilder>,
}

impl DestObject {
    pub(crate) fn new(py: Python<'_>, object: DriverObject, compat_3x: bool) -> DestObject {
        let has = |m: &str| object.method(py, m).is_some();
        DestObject {
            has_is_opened: has("is_opened"),
            has_flush: has("flush"),
            compat_3x,
            object,
            warned_open_none: Default::default(),
            value_pairs: Default::default(),
        }
    }

    /// From now on `send()` gets the dict `builder` makes of each message.
    pub(crate) fn send_value_pairs(&self, builder: DictBuilder) {
        let _ = self.value_pairs.set(builder);
    }

    fn describe(&self) -> (&str, &str) {
        (&self.object.driver, &self.object.class)
    }

    fn is_opened(&self, py: Python<'_>) -> bool {
        if !self.has_is_opened {
            return true;
        }
        self.object
            .call_optional(py, "is_opened")
            .is_some_and(|v| v.is_truthy().unwrap_or(false))
    }

    /// `open()`: true when the destination can take messages.
    pub(crate) fn open(&self, py: Python<'_>) -> bool {
        let ok = match self.object.method(py, "open") {
            None => true,
            Some(m) => match m.call0() {
                Ok(v) if v.is_none() => {
                    if !self
                        .warned_open_none
                        .swap(true, std::sync::atomic::Ordering::Relaxed)
                    {
                        let (driver, class) = self.describe();
                        tracing::warn!(
                            driver,
                            class,
                            "python-dest: Since 3.25, the return value of the open() method is \
                             used as success/failure indicator. Please use return True or \
                             return False explicitly"
                        );
                    }
                    true
                }
                Ok(v) => v.is_truthy().unwrap_or(false),
                Err(e) => {
                    self.object.log(py, &e);
                    false
                }
            },
        };
        if self.has_is_opened {
            ok && self.is_opened(py)
        } else {
            ok
        }
    }

    /// `close()` (only while `is_opened()` says it is open, when the class defines it).
    pub(crate) fn close(&self, py: Python<'_>) {
        if !self.has_is_opened || self.is_opened(py) {
            self.object.call_optional(py, "close");
        }
    }

    /// `send(msg)`.
    pub(crate) fn send(&self, py: Python<'_>, msg: &Arc<LogMessage>) -> Outcome {
        if self.has_is_opened && !self.is_opened(py) && !self.open(py) {
            return Outcome::NotConnected;
        }
        let arg = match self.value_pairs.get() {
            Some(builder) => match builder.dict(py, msg) {
                Ok(dict) => Ok(dict.into_any()),
                Err(e) => {
                    let (driver, class) = self.describe();
                    tracing::error!(
                        driver,
                        class,
                        value = %e.value,
                        type_hint = e.hint.name(),
                        "Casting error"
                    );
                    return Outcome::Error;
                }
            },
            None => Bound::new(
                py,
                PyLogMessage::new_wrapped(msg.clone()).with_compat_3x(self.compat_3x),
            )
            .map(Bound::into_any),
        };
        let ret = arg.and_then(|v| self.object.instance.bind(py).call_method1("send", (v,)));
        match ret {
            Ok(v) => self.outcome(&v, "send"),
            Err(e) => {
                self.object.log(py, &e);
                Outcome::Error
            }
        }
    }

    /// `flush()`; SUCCESS without one.
    pub(crate) fn flush(&self, py: Python<'_>) -> Outcome {
        if !self.has_flush {
            return Outcome::Success;
        }
        match self.object.instance.bind(py).call_method0("flush") {
            Ok(v) => self.outcome(&v, "flush"),
            Err(e) => {
                self.object.log(py, &e);
                Outcome::Error
            }
        }
    }

    /// A method's result as syslog-ng reads it (`pyobject_to_worker_insert_result`).
    fn outcome(&self, v: &Bound<'_, PyAny>, method: &str) -> Outcome {
        let (driver, class) = self.describe();
        if v.is_instance_of::<PyBool>() {
            return if v.is_truthy().unwrap_or(false) {
                Outcome::Success
            } else {
                Outcome::Error
            };
        }
        let n = if v.is_instance_of::<PyInt>() {
            v.extract::<i64>().ok()
        } else {
            None
        };
        match n.and_then(Outcome::from_code) {
            Some(o) => o,
            None if n.is_some() => {
                tracing::error!(
                    driver,
                    class,
                    result = n.unwrap_or_default(),
                    "python-dest: The result of {method}() is out of range, please use the \
                     LogDestinationResult enum (or a bool) as return value. Retrying message \
                     later"
                );
                Outcome::Error
            }
            None => {
                // syslog-ng 3.38's wording (recorded: `return None` from send()).
                let exception = match v.extract::<i64>() {
                    Err(e) => Python::attach(|py| {
                        let e = crate::python::PythonException::from_err(py, &e);
                        format!("{}: {}", e.kind, e.message)
                    }),
                    Ok(_) => String::new(),
                };
                tracing::error!(
                    driver,
                    class,
                    method,
                    exception = %exception,
                    "Error converting PyObject to int. Retrying message later"
                );
                Outcome::Error
            }
        }
    }

    /// `deinit()`, once.
    pub(crate) fn deinit(&self, py: Python<'_>) {
        self.object.deinit(py);
    }
}
