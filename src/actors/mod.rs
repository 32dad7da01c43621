//! The runtime: drivers (sources and destinations) and the catalog the configuration layer
//! checks driver calls against.
//!
//! Each driver has a file of its own under [`sources`] or [`destinations`] holding its
//! options struct (syslog-ng's option names and defaults), its runtime part when the runtime
//! has it (an implementation of `runtime::driver`'s traits), and its unit tests. Option
//! groups every driver shares are in [`options`], [`socket_options`] and [`python_options`].
//! [`runtime`] plans a configuration, starts it as a graph of components under the
//! ConfigSupervisor, moves batches between them with flow control, reloads and stops it.
//! [`registry`] maps driver names to their options and plan functions, and implements
//! [`crate::config::catalog::DriverCatalog`].

pub mod destinations;
pub mod options;
pub mod os_error;
pub mod python_options;
pub mod registry;
pub mod runtime;
pub mod socket_options;
pub mod sources;
