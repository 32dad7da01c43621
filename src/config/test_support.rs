//! Helpers shared by the unit tests that run over the recorded configuration corpus.

use std::path::{Path, PathBuf};

/// The `.conf` files directly inside `dir`, sorted; empty if `dir` cannot be read.
pub fn conf_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "conf"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The `.conf` files of `tests/corpus/<dir>`.
pub fn corpus(dir: &str) -> Vec<PathBuf> {
    conf_files_in(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(dir),
    )
}

/// The `.conf` files of `examples/`.
pub fn examples() -> Vec<PathBuf> {
    conf_files_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
}
