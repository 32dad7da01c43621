//! Destination drivers: one file per driver (or family of drivers sharing their options), and
//! the option groups they share in [`common`].

pub mod common;
pub mod file;
pub mod network;
pub mod pipe;
pub mod program;
pub mod pseudofile;
pub mod python;
pub mod socket;
pub mod unix;
pub mod usertty;
pub mod writer;
