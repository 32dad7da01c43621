//! Resolving `@include "name"` to the files to read, like syslog-ng's
//! `cfg_lexer_include_file`: an absolute path, or a name searched along the include path;
//! a directory includes its files; a glob includes its matches, sorted, and matching
//! nothing is not an error. sluice also looks next to the including file first.

use std::fs;
use std::path::{Path, PathBuf};

/// What an include names.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    /// These files, in this order (possibly none, for a glob that matched nothing).
    Files(Vec<PathBuf>),
    /// Nothing of that name exists in any of these directories.
    NotFound(Vec<PathBuf>),
}

fn is_glob(name: &str) -> bool {
    name.contains(['*', '?', '['])
}

/// Where a relative include is looked for: the including file's directory, then each
/// include-path entry, without duplicates.
pub fn search_dirs(including_dir: &Path, include_path: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let candidates = std::iter::once(including_dir.to_path_buf()).chain(
        include_path
            .split(':')
            .filter(|d| !d.is_empty())
            .map(PathBuf::from),
    );
    for dir in candidates {
        let same = |d: &PathBuf| {
            d == &dir
                || matches!((fs::canonicalize(d), fs::canonicalize(&dir)), (Ok(a), Ok(b)) if a == b)
        };
        if !dirs.iter().any(same) {
            dirs.push(dir);
        }
    }
    dirs
}

pub fn resolve(name: &str, dirs: &[PathBuf]) -> Resolved {
    let path = Path::new(name);
    let bases: Vec<PathBuf> = if path.is_absolute() {
        vec![path.to_path_buf()]
    } else {
        dirs.iter().map(|d| d.join(path)).collect()
    };
    for base in &bases {
        match fs::metadata(base) {
            Ok(meta) if meta.is_dir() => return Resolved::Files(directory_files(base)),
            Ok(_) => return Resolved::Files(vec![base.clone()]),
            Err(_) => {}
        }
    }
    if !is_glob(name) {
        return Resolved::NotFound(if path.is_absolute() {
            Vec::new()
        } else {
            dirs.to_vec()
        });
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for base in &bases {
        let Some(pattern) = base.to_str() else {
            continue;
        };
        // Like libc's glob(3): wildcards do not match a leading dot.
        let options = glob::MatchOptions {
            require_literal_leading_dot: true,
            ..glob::MatchOptions::new()
        };
        let Ok(matches) = glob::glob_with(pattern, options) else {
            continue;
        };
        for found in matches.flatten() {
            if found.is_file() && !files.contains(&found) {
                files.push(found);
            }
        }
    }
    files.sort();
    Resolved::Files(files)
}

/// The files of an included directory: not hidden, named only with `[-_.a-zA-Z0-9]`
/// (which skips editor backups like `x.conf~`), not directories, sorted.
fn directory_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let Some(name) = name.to_str() else {
                return false;
            };
            !name.starts_with('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                && !e.path().is_dir()
        })
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_files_directories_and_globs() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::create_dir_all(d.join("conf.d/sub")).unwrap();
        for f in [
            "conf.d/b.conf",
            "conf.d/a.conf",
            "conf.d/.hidden",
            "conf.d/c.conf~",
            "x.conf",
        ] {
            fs::write(d.join(f), "").unwrap();
        }
        let dirs = vec![d.to_path_buf()];
        assert_eq!(
            resolve("x.conf", &dirs),
            Resolved::Files(vec![d.join("x.conf")])
        );
        assert_eq!(
            resolve("conf.d", &dirs),
            Resolved::Files(vec![d.join("conf.d/a.conf"), d.join("conf.d/b.conf")])
        );
        assert_eq!(
            resolve("conf.d/*.conf", &dirs),
            Resolved::Files(vec![d.join("conf.d/a.conf"), d.join("conf.d/b.conf")])
        );
        assert_eq!(resolve("none/*.conf", &dirs), Resolved::Files(vec![]));
        assert_eq!(
            resolve("missing.conf", &dirs),
            Resolved::NotFound(dirs.clone())
        );
        let abs = d.join("x.conf");
        assert_eq!(
            resolve(abs.to_str().unwrap(), &[]),
            Resolved::Files(vec![abs.clone()])
        );
        assert_eq!(
            search_dirs(d, &format!("{}:/nonexistent", d.display())).len(),
            2
        );
    }
}
