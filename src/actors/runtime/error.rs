//! The runtime's errors, typed so the supervisor can tell a port in use from a failing hook,
//! rendered for people at the edge (the daemon's log, `sluice-ctl`).

use super::hooks::HookFailed;

/// Why a graph could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A listening socket could not be bound (syslog-ng's message).
    #[error(
        "Error binding socket; addr='{addr}', source='{source_name}', error='{}'",
        crate::actors::os_error::os_error(error)
    )]
    Bind {
        addr: String,
        source_name: String,
        #[source]
        error: std::io::Error,
    },
    /// Two sources of one configuration listen on the same address or path.
    #[error("{0} is listened on twice")]
    ListenedTwice(String),
    /// A `hook-commands()` command failed.
    #[error(transparent)]
    Hook(#[from] HookFailed),
    /// A file-like source could not be prepared (a `pipe()` whose FIFO cannot be created).
    #[error("{0}")]
    Open(String),
    /// What a driver's start failed on, and the driver, as syslog-ng reports it in a second
    /// line: `Error initializing message pipeline; plugin_name='tcp', location='f:2:12'`.
    #[error(
        "{error}\nError initializing message pipeline; plugin_name='{plugin}', location='{location}'"
    )]
    Driver {
        error: Box<RuntimeError>,
        plugin: String,
        location: String,
    },
}
