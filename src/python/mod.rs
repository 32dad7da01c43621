//! The embedded Python interpreter and, in later issues, the `syslogng` module and the Python
//! drivers. Nothing outside this module touches the interpreter, and it is started only when
//! the configuration uses Python.

pub mod error;
pub mod interpreter;
pub(crate) mod logmsg;
pub(crate) mod syslogng;

#[cfg(test)]
mod syslogng_tests;

pub use error::PythonException;
pub use interpreter::{InterpreterInfo, PythonInitError, ensure_initialized};
