//! The catalog over the configuration corpus: every config of `tests/corpus/valid/` and
//! `examples/` passes the real driver checks, and the corpus errors that are the catalog's business (unknown driver,
//! unknown option, wrong value) are reported where their `.expect` files say.

use std::path::Path;

use super::Registry;
use crate::config::check::check;
use crate::config::diagnostic::render_all;
use crate::config::load::{LoadOptions, load_file};
use crate::config::model::build;
use crate::config::test_support::{corpus, examples};

#[test]
fn every_valid_corpus_config_passes_the_catalog() {
    let mut failures = Vec::new();
    let mut files = corpus("valid");
    files.extend(examples());
    for path in &files {
        let loaded = match load_file(path, &LoadOptions::default()) {
            Ok(l) => l,
            Err(f) => {
                failures.push(format!("{}: load: {}", path.display(), f.render()));
                continue;
            }
        };
        let problems = match build(&loaded.ast) {
            Ok(model) => check(&model, &Registry),
            Err(d) => d,
        };
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n{}",
                path.display(),
                render_all(&problems, &loaded.map)
            ));
        }
    }
    assert!(files.len() > 10, "corpus not found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_driver_errors_are_located_as_expected() {
    for name in [
        "unknown-driver",
        "unknown-option",
        "wrong-value-type",
        "error-in-included-file",
        "error-in-block-expansion",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus/errors")
            .join(format!("{name}.conf"));
        let loaded = load_file(&path, &LoadOptions::default())
            .unwrap_or_else(|f| panic!("{name}: {}", f.render()));
        let model = build(&loaded.ast).unwrap_or_else(|d| panic!("{name}: {d:?}"));
        let problems = check(&model, &Registry);
        let first = problems
            .first()
            .unwrap_or_else(|| panic!("{name}: no error found"));
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap_or_default();
        let rendered = first.render(&loaded.map);
        let location = first.location(&loaded.map).unwrap_or_default();
        for line in expect.lines() {
            if let Some(l) = line.strip_prefix("location=") {
                // Inside a block expansion, the call site is on a `used at` line.
                assert!(
                    location.ends_with(l) || rendered.contains(&format!("/{l}")),
                    "{name}: at {location}, expected {l}\n{rendered}"
                );
            } else if let Some(c) = line.strip_prefix("contains=") {
                assert!(
                    rendered.to_lowercase().contains(&c.to_lowercase()),
                    "{name}: missing `{c}` in\n{rendered}"
                );
            }
        }
    }
}
