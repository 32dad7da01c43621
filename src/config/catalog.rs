//! What the configuration layer needs to know about drivers without depending on the runtime:
//! the runtime (`actors::registry`) implements [`DriverCatalog`], and the semantic checks
//! call it for every driver reference and for the global `options {}`.

use super::ast::Node;
use super::diagnostic::Diagnostic;

/// The kind of object a driver is used in. A name means different drivers in different
/// kinds (`file()` the source is not `file()` the destination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Source,
    Destination,
    Parser,
    Rewrite,
    Filter,
}

impl ObjectKind {
    /// The keyword that declares such an object, which is also syslog-ng's name for the
    /// context in "Error parsing within source".
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Source => "source",
            ObjectKind::Destination => "destination",
            ObjectKind::Parser => "parser",
            ObjectKind::Rewrite => "rewrite",
            ObjectKind::Filter => "filter",
        }
    }
}

/// Validates driver calls and global options against the drivers sluice has.
pub trait DriverCatalog {
    /// Checks one driver call (a [`Node::Call`]) used in an object of `kind`: the driver must
    /// exist and be supported, and its options must deserialize into its options struct.
    /// Returns the first problem, located at its own span.
    fn check_driver(&self, kind: ObjectKind, call: &Node) -> Result<(), Diagnostic>;

    /// Checks the merged contents of every top-level `options {}` statement.
    fn check_global_options(&self, options: &[Node]) -> Vec<Diagnostic>;
}
