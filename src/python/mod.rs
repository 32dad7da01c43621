//! The embedded Python interpreter and, in later issues, the `syslogng` module and the Python
//! drivers. Nothing outside this module touches the interpreter, and it is started only when
//! the configuration uses Python.

pub mod interpreter;

pub use interpreter::{InterpreterInfo, PythonInitError, ensure_initialized};
