//! The `python()` and `python-fetcher()` sources: messages produced by a Python class
//! (`syslogng.LogSource` with `run()`/`post_message()`, or `syslogng.LogFetcher` with
//! `fetch()`). The `options()` value type all Python drivers share is in
//! `actors::python_options`.
//!
//! Option sets checked against syslog-ng 3.38: `class()`, `options()`, `loaders()` (not the
//! obsolete `imports()`, which 3.38 rejects in sources), `persist-name()`, `hook-commands()`,
//! the options of every source and the parsing options (`flags()` takes parsing flags only).
//! `python-fetcher()` adds `fetch-no-data-delay()` and `time-reopen()`.

use serde::Deserialize;

use super::common::{ParseOptions, SourceDriverOptions, SourceOptions, default_log_iw_size};
use crate::config::global_options::{Positive, nz};
use crate::driver_options;

pub use crate::actors::python_options::{PyOptionValue, PyOptions, PythonParserOptions};

/// The `python()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PythonSource {
    /// The Python class implementing the source (a `syslogng.LogSource`): a name defined in a
    /// `python {}` block, or `module.Class`, imported on demand (required).
    pub class: String,
    /// Options passed to the class's `init(options)` as a dict. Default: empty.
    #[serde(default)]
    pub options: PyOptions,
    /// Modules imported before the class is looked up. Default: none.
    #[serde(default)]
    pub loaders: Vec<String>,
    /// Messages posted and not yet acknowledged before `suspend()` is called. Must be
    /// positive. Default: 100.
    #[serde(default = "default_log_iw_size")]
    pub log_iw_size: Positive,
}

driver_options! {
    /// Options of the `python()` source.
    pub struct PythonSourceOptions {
        pub python: PythonSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub parse: ParseOptions,
    }
}

fn default_time_reopen() -> Positive {
    nz(1)
}

/// The `python-fetcher()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PythonFetcherSource {
    /// The Python class implementing the fetcher (a `syslogng.LogFetcher`) (required).
    pub class: String,
    /// Options passed to the class's `init(options)` as a dict. Default: empty.
    #[serde(default)]
    pub options: PyOptions,
    /// Modules imported before the class is looked up. Default: none.
    #[serde(default)]
    pub loaders: Vec<String>,
    /// Messages fetched and not yet acknowledged before fetching pauses. Must be positive.
    /// Default: 100.
    #[serde(default = "default_log_iw_size")]
    pub log_iw_size: Positive,
    /// Seconds to wait after `fetch()` returns `FETCH_NO_DATA` (fractions allowed). Default:
    /// `time-reopen()`.
    #[serde(default)]
    pub fetch_no_data_delay: Option<f64>,
    /// Seconds to wait before calling `open()` again after an error or `FETCH_NOT_CONNECTED`.
    /// Not inherited from the global option. Default: 1.
    #[serde(default = "default_time_reopen")]
    pub time_reopen: Positive,
}

driver_options! {
    /// Options of the `python-fetcher()` source.
    pub struct PythonFetcherSourceOptions {
        pub fetcher: PythonFetcherSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub parse: ParseOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, check_de, err, err_de};
    use crate::actors::sources::common::ParseFlag;

    #[test]
    fn defaults() {
        let o: PythonSourceOptions = check("python(class(MySource))");
        assert_eq!(o.python.class, "MySource");
        assert!(o.python.options.is_empty() && o.python.loaders.is_empty());
        assert_eq!(o.python.log_iw_size.get(), 100);
        assert_eq!(o.parse, ParseOptions::default());
        let o: PythonFetcherSourceOptions = check(r#"python-fetcher(class("mod.Fetcher"))"#);
        assert_eq!(o.fetcher.time_reopen.get(), 1);
        assert_eq!(o.fetcher.fetch_no_data_delay, None);
    }

    #[test]
    fn full_example() {
        let o: PythonSourceOptions = check(
            r#"python(class("PyNetworkSource") options("port" "8080" "limit" 10 ratio => 0.5)
                loaders("mymodule") persist-name("src8080") flags(no-parse) tags(py)
                log-iw-size(10000))"#,
        );
        assert_eq!(o.python.options.len(), 3);
        assert_eq!(o.python.options["port"], PyOptionValue::Str("8080".into()));
        assert_eq!(o.python.options["limit"], PyOptionValue::Int(10));
        assert_eq!(o.python.options["ratio"], PyOptionValue::Float(0.5));
        assert_eq!(o.python.loaders, vec!["mymodule"]);
        assert_eq!(o.driver.persist_name.as_deref(), Some("src8080"));
        assert_eq!(o.parse.flags, vec![ParseFlag::NoParse]);
        let o: PythonFetcherSourceOptions = check(
            r#"python-fetcher(class(MyFetcher) fetch-no-data-delay(0.25) time-reopen(5)
                options(url => "https://x"))"#,
        );
        assert_eq!(o.fetcher.fetch_no_data_delay, Some(0.25));
        assert_eq!(o.fetcher.time_reopen.get(), 5);
    }

    #[test]
    fn errors() {
        let e = err::<PythonSourceOptions>("python(clas(X))");
        assert_eq!(e.notes, vec!["did you mean `class`?"]);
        let e = err::<PythonSourceOptions>(r#"python(options("a" "b"))"#);
        assert!(e.message.contains("class"), "{}", e.message);
        err::<PythonSourceOptions>("python(class(X) flags(kernel))");
        err::<PythonSourceOptions>("python(class(X) fetch-no-data-delay(1))");
        err::<PythonSourceOptions>(r#"python(class(X) imports("os"))"#);
        let e = err::<PythonFetcherSourceOptions>("python-fetcher(class(X) time-reopen(soon))");
        assert!(e.message.contains("whole number"), "{}", e.message);
    }

    #[test]
    fn parser() {
        let o: PythonParserOptions =
            check_de(r#"python(class("parsers.Kv") options("sep" "=") imports("parsers"))"#);
        assert_eq!(o.class, "parsers.Kv");
        assert_eq!(o.loaders, vec!["parsers"]);
        let e = err_de::<PythonParserOptions>(r#"python(class(X) template("$MSG"))"#);
        assert_eq!(e.message, "unknown option `template`");
    }
}
