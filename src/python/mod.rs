//! The embedded Python interpreter, the built-in `syslogng` module ([`syslogng`]: the classes
//! plugins import; [`logmsg`]: `LogMessage`; [`source_classes`]: `LogSource`, `LogFetcher`), a configuration's Python code ([`code`]: the
//! `python {}` blocks and name lookup) and how the Python parts of a plan are bound to it
//! ([`binding`]). The Python drivers live with the other drivers and use this module.
//! The interpreter is started only when the configuration uses Python.

pub(crate) mod binding;
pub(crate) mod code;
pub mod error;
pub mod interpreter;
pub(crate) mod logmsg;
pub(crate) mod object;
pub(crate) mod parser;
pub(crate) mod persist;
pub(crate) mod source_classes;
pub(crate) mod syslogng;
pub(crate) mod template_fn;

#[cfg(test)]
mod syslogng_tests;

pub(crate) use binding::{BindError, Bindings, PythonPlan};
pub use error::PythonException;
pub use interpreter::{InterpreterInfo, PythonInitError, ensure_initialized};
