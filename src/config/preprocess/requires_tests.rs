//! `@requires` of a module sluice has and of one it has not, in the main file, in an
//! included file and in a block's body: what syslog-ng 3.38 does in each case.

use std::path::Path;

use crate::config::load::{LoadOptions, Loaded, load_file, load_str};

fn opts() -> LoadOptions {
    LoadOptions {
        include_path: Vec::new(),
    }
}

fn render_err(r: Result<Loaded, crate::config::load::LoadFailure>) -> String {
    match r {
        Ok(l) => panic!("loaded: {:#?}", l.ast),
        Err(f) => f.render(),
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write test file");
}

#[test]
fn a_module_sluice_has_is_fine_with_or_without_a_message() {
    let text = "@version: 3.38\n@requires json-plugin \"install json\"\n@requires afsocket\n";
    let loaded = load_str("test.conf", text, &opts()).map_err(|f| f.render());
    assert!(loaded.is_ok(), "{loaded:?}");
}

#[test]
fn a_missing_module_in_the_main_file_is_an_error() {
    let got = render_err(load_str(
        "test.conf",
        "@version: 3.38\n@requires http\n",
        &opts(),
    ));
    assert!(
        got.contains("Cannot load required module; module='http', details='none'"),
        "{got}"
    );
    assert!(got.contains("test.conf:2:1"), "{got}");
    let got = render_err(load_str(
        "test.conf",
        "@version: 3.38\n@requires mod-java \"install syslog-ng-mod-java\"\n",
        &opts(),
    ));
    assert!(
        got.contains("module='mod-java', details='install syslog-ng-mod-java'"),
        "{got}"
    );
}

/// Module names are library file names: `json_plugin` is not `json-plugin`.
#[test]
fn module_names_are_compared_exactly() {
    let got = render_err(load_str(
        "test.conf",
        "@version: 3.38\n@requires json_plugin\n",
        &opts(),
    ));
    assert!(got.contains("module='json_plugin'"), "{got}");
}

/// Without a message, an included file stops at the `@requires` (what it defined before
/// stays defined) and the next file of the same `@include` is read.
#[test]
fn a_missing_module_skips_the_rest_of_an_included_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("inc")).expect("mkdir");
    write(
        &dir.path().join("inc"),
        "a.conf",
        "@define before \"1\"\n@requires mod-java\n@define after \"1\"\nthis is not a config\n",
    );
    write(&dir.path().join("inc"), "b.conf", "@define next \"1\"\n");
    let main = dir.path().join("main.conf");
    let inc = dir.path().join("inc");
    write(
        dir.path(),
        "main.conf",
        &format!(
            "@version: 3.38\n@include \"{}/*.conf\"\n@define last \"1\"\n",
            inc.display()
        ),
    );
    let loaded = match load_file(&main, &opts()) {
        Ok(l) => l,
        Err(f) => panic!("{}", f.render()),
    };
    assert_eq!(loaded.global("before"), Some("1"));
    assert_eq!(loaded.global("after"), None);
    assert_eq!(loaded.global("next"), Some("1"));
    assert_eq!(loaded.global("last"), Some("1"));
}

/// With a message, a missing module is an error even in an included file.
#[test]
fn a_message_makes_it_an_error_in_an_included_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "inc.conf",
        "@requires http \"install syslog-ng-mod-http\"\n",
    );
    let main = dir.path().join("main.conf");
    write(
        dir.path(),
        "main.conf",
        &format!(
            "@version: 3.38\n@include \"{}/inc.conf\"\n",
            dir.path().display()
        ),
    );
    let got = render_err(load_file(&main, &opts()));
    assert!(
        got.contains("module='http', details='install syslog-ng-mod-http'"),
        "{got}"
    );
}

/// The SCL's http-based blocks have `@requires http "..."` in their body: defining them
/// is fine, using one is the error, shown at the block's use.
#[test]
fn a_requires_in_a_block_body_fires_where_the_block_is_used() {
    let def = "@version: 3.38\nblock destination web(url()) {\n@requires http \"install syslog-ng-mod-http\"\n  http(url(`url`));\n};\n";
    let loaded = load_str("test.conf", def, &opts()).map_err(|f| f.render());
    assert!(loaded.is_ok(), "{loaded:?}");
    let used = format!(
        "{def}log {{ source {{ internal(); }}; destination {{ web(url(\"http://localhost/\")); }}; }};\n"
    );
    let got = render_err(load_str("test.conf", &used, &opts()));
    assert!(
        got.contains(
            "Cannot load required module; module='http', details='install syslog-ng-mod-http'"
        ),
        "{got}"
    );
    assert!(got.contains("block `web` used at test.conf:6:"), "{got}");
}

/// Without a message, a `@requires` in a block body ends that expansion (syslog-ng skips
/// the rest of the buffer the block expanded into).
#[test]
fn a_requires_without_message_ends_the_block_expansion() {
    let text = "@version: 3.38\nblock root defs() {\n@define before \"1\"\n@requires mod-java\n@define after \"1\"\n};\ndefs();\n";
    let loaded = match load_str("test.conf", text, &opts()) {
        Ok(l) => l,
        Err(f) => panic!("{}", f.render()),
    };
    assert_eq!(loaded.global("before"), Some("1"));
    assert_eq!(loaded.global("after"), None);
}
