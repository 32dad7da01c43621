//! Default locations of the daemon's files.
//!
//! As root, sluice keeps syslog-ng's layout (/var/lib/sluice, /run). As an ordinary user it
//! must work without any setup, so its state goes under `$XDG_STATE_HOME/sluice` or, when
//! that is not set, `./var` beside where it was started.

use std::path::{Path, PathBuf};

/// The configuration syslog-ng reads by default: sluice reads the same file, unchanged.
pub const DEFAULT_CONFIG: &str = "/etc/syslog-ng/syslog-ng.conf";

/// Where the persist file, control socket and pid file live unless given on the command line.
pub fn state_dir() -> PathBuf {
    state_dir_for(
        is_root(),
        std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
    )
}

fn state_dir_for(root: bool, xdg_state_home: Option<PathBuf>) -> PathBuf {
    if root {
        return PathBuf::from("/var/lib/sluice");
    }
    match xdg_state_home {
        Some(dir) if dir.is_absolute() => dir.join("sluice"),
        _ => PathBuf::from("var"),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The resolved file locations of one daemon instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonPaths {
    pub config: PathBuf,
    pub persist: PathBuf,
    pub control: PathBuf,
    pub pidfile: PathBuf,
}

impl DaemonPaths {
    /// Fills in every path not given explicitly from the state directory.
    pub fn resolve(
        config: Option<&Path>,
        persist: Option<&Path>,
        control: Option<&Path>,
        pidfile: Option<&Path>,
    ) -> Self {
        let state = state_dir();
        let pid_default = if is_root() {
            PathBuf::from("/run/sluice.pid")
        } else {
            state.join("sluice.pid")
        };
        DaemonPaths {
            config: config.map_or_else(|| PathBuf::from(DEFAULT_CONFIG), Path::to_path_buf),
            persist: persist.map_or_else(|| state.join("sluice.persist"), Path::to_path_buf),
            control: control.map_or_else(|| state.join("sluice.ctl"), Path::to_path_buf),
            pidfile: pidfile.map_or(pid_default, Path::to_path_buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_without_root() {
        assert_eq!(state_dir_for(true, None), PathBuf::from("/var/lib/sluice"));
        assert_eq!(
            state_dir_for(false, Some("/home/u/.local/state".into())),
            PathBuf::from("/home/u/.local/state/sluice")
        );
        assert_eq!(
            state_dir_for(false, Some("relative".into())),
            PathBuf::from("var")
        );
        assert_eq!(state_dir_for(false, None), PathBuf::from("var"));
    }

    #[test]
    fn explicit_paths_win() {
        let p = DaemonPaths::resolve(
            Some(Path::new("a.conf")),
            Some(Path::new("p")),
            Some(Path::new("c")),
            Some(Path::new("pid")),
        );
        assert_eq!(p.config, PathBuf::from("a.conf"));
        assert_eq!(p.persist, PathBuf::from("p"));
        assert_eq!(p.control, PathBuf::from("c"));
        assert_eq!(p.pidfile, PathBuf::from("pid"));
    }
}
