//! The runtime: drivers (sources and destinations) and the catalog the configuration layer
//! checks driver calls against.
//!
//! Each driver has a file of its own under [`sources`] or [`destinations`] holding its
//! options struct (syslog-ng's option names and defaults), its runtime part when the runtime
//! has it, and its unit tests. [`runtime`] plans a configuration, starts it as a graph of
//! actors, moves batches between them with flow control, and stops it. [`registry`] maps driver names to their options and implements
//! [`crate::config::catalog::DriverCatalog`].

pub mod destinations;
pub mod options;
pub mod python_options;
pub mod registry;
pub mod runtime;
pub mod socket_options;
pub mod sources;
