//! `hook-commands()`: external commands run at a driver's life-cycle points.
//!
//! As syslog-ng 3.38 runs them (checked by running it): when a graph starts, every driver in
//! configuration order (sources, then destinations) runs `startup()` — only on the daemon's
//! first start — then `setup()`; when a graph stops, every driver runs `teardown()`, then —
//! only when the daemon exits — `shutdown()`. A reload is a teardown of the old graph and a
//! setup of the new one. Commands run through `/bin/sh -c`, one at a time, and are waited
//! for. A failing `startup()`/`setup()` aborts the start (so a reload keeps the running
//! configuration); a failing `teardown()`/`shutdown()` is only reported. The error message
//! is syslog-ng's.

use std::process::Command;

use crate::actors::options::HookCommands;

/// The hooks of one driver, with what names it in messages.
#[derive(Debug, Clone)]
pub struct DriverHooks {
    /// syslog-ng's driver id: `d#0` (the object's name and the driver's index).
    pub driver: String,
    /// `file:line:col` of the driver in the configuration.
    pub location: String,
    pub commands: HookCommands,
}

/// A life-cycle point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Startup,
    Setup,
    Teardown,
    Shutdown,
}

impl Hook {
    fn name(self) -> &'static str {
        match self {
            Hook::Startup => "startup",
            Hook::Setup => "setup",
            Hook::Teardown => "teardown",
            Hook::Shutdown => "shutdown",
        }
    }
}

/// A hook that failed: the message syslog-ng logs.
#[derive(Debug, thiserror::Error)]
#[error(
    "Hook command returned with failure, aborting initialization; driver='{driver}', \
     location='{location}', hook='{hook}', command='{command}', rc='{rc}'"
)]
pub struct HookFailed {
    pub driver: String,
    pub location: String,
    pub hook: &'static str,
    pub command: String,
    /// The wait status as syslog-ng prints it (exit code × 256), or -1 when it did not run.
    pub rc: i32,
}

impl DriverHooks {
    fn command(&self, hook: Hook) -> Option<&str> {
        let c = &self.commands;
        match hook {
            Hook::Startup => c.startup.as_deref(),
            Hook::Setup => c.setup.as_deref(),
            Hook::Teardown => c.teardown.as_deref(),
            Hook::Shutdown => c.shutdown.as_deref(),
        }
    }

    /// Runs the command of `hook`, if the driver has one, and waits for it.
    pub fn run(&self, hook: Hook) -> Result<(), HookFailed> {
        let Some(cmd) = self.command(hook) else {
            return Ok(());
        };
        tracing::debug!(driver = %self.driver, hook = hook.name(), command = %cmd,
            "Running hook command");
        let failed = |rc: i32| HookFailed {
            driver: self.driver.clone(),
            location: self.location.clone(),
            hook: hook.name(),
            command: cmd.to_string(),
            rc,
        };
        match Command::new("/bin/sh").arg("-c").arg(cmd).status() {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                Err(failed(s.into_raw()))
            }
            Err(e) => {
                tracing::error!(command = %cmd, error = %e, "Error starting hook command");
                Err(failed(-1))
            }
        }
    }
}

/// Runs the start hooks of every driver in order — `startup()` (when `first`) then
/// `setup()` of one driver before the next driver's — stopping at the first failure.
pub fn run_start(hooks: &[DriverHooks], first: bool) -> Result<(), HookFailed> {
    for h in hooks {
        if first {
            h.run(Hook::Startup)?;
        }
        h.run(Hook::Setup)?;
    }
    Ok(())
}

/// Runs the stop hooks of every driver in order — `teardown()` then (when `exiting`)
/// `shutdown()` of one driver before the next driver's — reporting failures and going on.
pub async fn run_stop(hooks: &[DriverHooks], exiting: bool) {
    let wanted = |h: &DriverHooks| {
        h.command(Hook::Teardown).is_some() || (exiting && h.command(Hook::Shutdown).is_some())
    };
    if !hooks.iter().any(wanted) {
        return;
    }
    let hooks = hooks.to_vec();
    // The commands block: run them off the actor threads.
    let _ = tokio::task::spawn_blocking(move || {
        for h in &hooks {
            let mut points = vec![Hook::Teardown];
            if exiting {
                points.push(Hook::Shutdown);
            }
            for p in points {
                if let Err(e) = h.run(p) {
                    tracing::error!("{e}");
                }
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks(setup: &str) -> DriverHooks {
        DriverHooks {
            driver: "d#0".into(),
            location: "t.conf:3:17".into(),
            commands: HookCommands {
                setup: Some(setup.into()),
                ..HookCommands::default()
            },
        }
    }

    #[test]
    fn a_failing_command_reports_like_syslog_ng() {
        let e = hooks("exit 3").run(Hook::Setup).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some(
                "Hook command returned with failure, aborting initialization; driver='d#0', \
                 location='t.conf:3:17', hook='setup', command='exit 3', rc='768'"
            )
        );
        assert!(hooks("true").run(Hook::Setup).is_ok());
        assert!(
            hooks("exit 3").run(Hook::Teardown).is_ok(),
            "no teardown command"
        );
    }
}
