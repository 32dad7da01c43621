//! Source drivers: one file per driver (or family of drivers sharing their options), and the
//! option groups they share in [`common`] and [`socket`].

pub mod common;
pub mod dgram;
pub mod dns;
pub mod file;
pub mod file_reader;
pub mod internal;
pub mod kmsg_reader;
pub mod line_source;
pub mod listener;
mod multiline;
pub mod net_plan;
mod net_start;
pub mod network;
pub mod pipe;
pub mod pipe_reader;
pub mod python;
pub mod stdin;
pub mod stdin_reader;
pub mod stream;
pub mod unix;
pub mod unix_creds;
pub mod unix_socket;
pub mod unix_stream;
