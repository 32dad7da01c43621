//! The pid file: written once the daemon runs, removed when it exits.

use std::io;
use std::path::{Path, PathBuf};

/// Removes the pid file when dropped.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Writes the current process id, creating the directory if needed.
    pub fn create(path: &Path) -> io::Result<PidFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, format!("{}\n", std::process::id()))?;
        Ok(PidFile {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/sluice.pid");
        let pid = PidFile::create(&path).expect("pidfile");
        let text = std::fs::read_to_string(&path).expect("readable");
        assert_eq!(text.trim(), std::process::id().to_string());
        drop(pid);
        assert!(!path.exists());
    }
}
