//! sluice: a log daemon that runs syslog-ng configurations and Python plugins unchanged.
//!
//! Layering (see docs/ARCHITECTURE.md): `message` depends on nothing of ours; `template` on
//! `message`; `pipeline` on both; `config` knows no runtime; `persist` knows no actors;
//! `python` plugs into `template` and uses `message` and `persist`; only `actors` ties them
//! together, and the binaries sit on top.

pub mod actors;
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod message;
pub mod paths;
pub mod persist;
pub mod pipeline;
pub mod python;
pub mod template;
