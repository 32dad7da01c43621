//! The embedded Python interpreter.
