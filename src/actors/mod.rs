//! The runtime: drivers (sources and destinations) and the catalog the configuration layer
//! checks driver calls against.
//!
//! Each driver has a file of its own under [`sources`] or [`destinations`] holding its
//! options struct (syslog-ng's option names and defaults), later its actor, and its unit
//! tests. [`registry`] maps driver names to their options and implements
//! [`crate::config::catalog::DriverCatalog`].

pub mod destinations;
pub mod registry;
pub mod sources;
