//! The model over real configurations: every config of `tests/corpus/valid/` (and the
//! system's `/etc/syslog-ng/syslog-ng.conf`, when present) loads, builds and passes the
//! checks; every config of `tests/corpus/errors/` whose error is the model's or the checks'
//! business is reported where its `.expect` file says.

use std::path::Path;

use crate::config::ast::Node;
use crate::config::catalog::{DriverCatalog, ObjectKind};
use crate::config::check::check;
use crate::config::diagnostic::{Diagnostic, render_all};
use crate::config::load::{LoadOptions, load_file};
use crate::config::model::{Model, build};
use crate::config::test_support::corpus;

/// Accepts every driver: these tests are about the model, not about drivers.
struct AnyDriver;

impl DriverCatalog for AnyDriver {
    fn check_driver(&self, _kind: ObjectKind, _call: &Node) -> Result<(), Diagnostic> {
        Ok(())
    }

    fn check_global_options(&self, _options: &[Node]) -> Vec<Diagnostic> {
        Vec::new()
    }
}

fn options() -> LoadOptions {
    LoadOptions::default()
}

/// Loads, builds and checks; `Err` carries the rendered problems.
fn model_of(path: &Path) -> Result<Model, String> {
    let loaded = load_file(path, &options()).map_err(|f| format!("load: {}", f.render()))?;
    let model = build(&loaded.ast).map_err(|d| render_all(&d, &loaded.map))?;
    let problems = check(&model, &AnyDriver);
    if problems.is_empty() {
        Ok(model)
    } else {
        Err(render_all(&problems, &loaded.map))
    }
}

#[test]
fn every_valid_corpus_config_builds_and_checks() {
    let files = corpus("valid");
    let mut failures = Vec::new();
    for path in &files {
        if let Err(e) = model_of(path) {
            failures.push(format!("{}:\n{e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_system_config_builds() {
    let path = Path::new("/etc/syslog-ng/syslog-ng.conf");
    if !path.exists() {
        return;
    }
    let model = model_of(path).unwrap_or_else(|e| panic!("{e}"));
    assert!(model.log_paths.len() > 10);
    assert!(model.filter("f_messages").is_some());
}

/// `location=FILE:LINE:COL` and `contains=TEXT` lines of an `.expect` file.
fn expectation(conf: &Path) -> Option<(String, Vec<String>)> {
    let text = std::fs::read_to_string(conf.with_extension("expect")).ok()?;
    let mut location = None;
    let mut contains = Vec::new();
    for line in text.lines() {
        if let Some(l) = line.strip_prefix("location=") {
            location = Some(l.to_string());
        } else if let Some(c) = line.strip_prefix("contains=") {
            contains.push(c.to_string());
        }
    }
    Some((location?, contains))
}

#[test]
fn corpus_errors_found_by_the_model_are_located_as_expected() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in corpus("errors") {
        let Ok(loaded) = load_file(&path, &options()) else {
            continue; // a syntax error: the parser's business
        };
        let Some((location, contains)) = expectation(&path) else {
            continue;
        };
        let diags = match build(&loaded.ast) {
            Err(d) => d,
            Ok(model) => check(&model, &AnyDriver),
        };
        let Some(first) = diags.first() else {
            continue; // found later (drivers, runtime)
        };
        checked += 1;
        let got = first.location(&loaded.map).unwrap_or_default();
        let rendered = first.render(&loaded.map);
        let name = path.file_name().map(|n| n.to_string_lossy().to_string());
        let name = name.unwrap_or_default();
        if !got.ends_with(&location) {
            failures.push(format!("{name}: at {got}, expected {location}\n{rendered}"));
        }
        for c in &contains {
            if !rendered.contains(c.as_str()) {
                failures.push(format!("{name}: missing `{c}` in\n{rendered}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked >= 2,
        "expected the model to find some corpus errors"
    );
}
