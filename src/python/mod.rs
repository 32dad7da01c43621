//! The embedded Python interpreter, the built-in `syslogng` module ([`syslogng`]: the classes
//! plugins import; [`logmsg`]: `LogMessage`) and, in later issues, the Python drivers.
//! Nothing outside this module touches the interpreter, and it is started only when the
//! configuration uses Python.

pub mod error;
pub mod interpreter;
pub(crate) mod logmsg;
pub(crate) mod syslogng;

#[cfg(test)]
mod syslogng_tests;

pub use error::PythonException;
pub use interpreter::{InterpreterInfo, PythonInitError, ensure_initialized};
