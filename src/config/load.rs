//! The entry points of the syntax layer: text or file in, preprocessed generic tree out
//! (includes read, `@define`s and backticks substituted, blocks expanded), or the
//! diagnostics that stopped it, with the source map needed to render them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ast::Ast;
use super::diagnostic::{Diagnostic, render_all};
use super::parser;
use super::preprocess::{Preprocessor, read_config_file};
use super::span::SourceMap;

/// How to load a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Where `@include` looks for relative names, after the including file's directory.
    /// Also the value of the `include-path` global, which a config may `@define` anew.
    pub include_path: Vec<PathBuf>,
}

impl Default for LoadOptions {
    /// syslog-ng's default include path.
    fn default() -> Self {
        LoadOptions {
            include_path: vec![
                PathBuf::from("/etc/syslog-ng"),
                PathBuf::from("/usr/share/syslog-ng/include"),
            ],
        }
    }
}

/// A configuration that parsed, and every file it was read from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub map: SourceMap,
    pub ast: Ast,
    /// The `@define`d (and built-in) globals as they stood at the end of the file, keyed by
    /// normalized name. Some change behaviour, e.g. `allow-config-dups`.
    pub globals: HashMap<String, String>,
}

impl Loaded {
    /// The value of a global (`-` and `_` are the same in its name).
    pub fn global(&self, name: &str) -> Option<&str> {
        self.globals
            .get(&name.replace('_', "-"))
            .map(String::as_str)
    }

    /// syslog-ng's `@define allow-config-dups 1`: a later object definition replaces an
    /// earlier one of the same name instead of being an error.
    pub fn allow_config_dups(&self) -> bool {
        self.global("allow-config-dups")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .is_some_and(|n| n != 0)
    }
}

/// A configuration that did not parse: what went wrong, and the files read so far.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    pub map: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadFailure {
    /// Every diagnostic rendered the way syslog-ng renders errors.
    pub fn render(&self) -> String {
        render_all(&self.diagnostics, &self.map)
    }
}

/// Loads the configuration file at `path`.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Loaded, LoadFailure> {
    match read_config_file(path) {
        Ok(text) => load_text(path, text, opts),
        Err(e) => Err(LoadFailure {
            map: SourceMap::new(),
            diagnostics: vec![Diagnostic::global(format!(
                "cannot read configuration file `{}`: {e}",
                path.display()
            ))],
        }),
    }
}

/// Loads a configuration from memory; `name` is the path shown in diagnostics, and its
/// directory is where relative includes are looked for first.
pub fn load_str(name: &str, text: &str, opts: &LoadOptions) -> Result<Loaded, LoadFailure> {
    load_text(Path::new(name), text.to_string(), opts)
}

fn load_text(path: &Path, text: String, opts: &LoadOptions) -> Result<Loaded, LoadFailure> {
    let mut pp = Preprocessor::new(path, text, opts);
    let result = parser::parse(&mut pp).map_err(|mut d| {
        if let Some(span) = d.span {
            d.notes.extend(pp.include_notes(span));
        }
        d
    });
    let map = std::mem::take(&mut pp.map);
    match result {
        Ok(ast) => Ok(Loaded {
            map,
            ast,
            globals: pp.take_globals(),
        }),
        Err(d) => Err(LoadFailure {
            map,
            diagnostics: vec![d],
        }),
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
