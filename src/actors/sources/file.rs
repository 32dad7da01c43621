//! The `file()` and `wildcard-file()` sources: follow files as they grow.
//!
//! Option sets checked against syslog-ng 3.38 (`syslog-ng -s`): `file()` takes the reader and
//! source options, `follow-freq()`, `pad-size()`, the multi-line options,
//! `multi-line-timeout()` and the file permission options (accepted, unused by a source);
//! `wildcard-file()` adds the directory options and takes no positional path.

use serde::Deserialize;

use super::common::{
    FilePermOptions, LineOptions, ReaderOptions, SourceDriverOptions, SourceOptions,
    default_log_iw_size,
};
use crate::config::global_options::{Positive, nz};
use crate::driver_options;

fn default_follow_freq() -> f64 {
    1.0
}

/// The `file()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileSource {
    /// The file to read (positional, required). `/dev/kmsg` (a device) and `/proc/kmsg` are
    /// the kernel's log: read as they become readable instead of being polled, `/dev/kmsg`
    /// from its end on, one record per read (normally with `format(linux-kmsg)`).
    #[serde(rename = "0:path")]
    pub path: String,
    /// Seconds between two checks of the file for new data (fractions allowed). Default: 1;
    /// for `/dev/kmsg` and `/proc/kmsg` 0 (they are not polled, and only 0 is accepted).
    #[serde(default = "default_follow_freq")]
    pub follow_freq: f64,
    /// Seconds after which a partial multi-line message is sent even without its end; 0
    /// waits forever. Default: 0.
    #[serde(default)]
    pub multi_line_timeout: u32,
    /// Messages the source may have in flight (not yet acknowledged by every destination)
    /// before it stops reading. Must be positive. Default: 100.
    #[serde(default = "default_log_iw_size")]
    pub log_iw_size: Positive,
}

driver_options! {
    /// Options of the `file()` source.
    pub struct FileSourceOptions {
        pub file: FileSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub lines: LineOptions,
        pub perm: FilePermOptions,
    }
}

/// How `wildcard-file()` learns about new and deleted files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum MonitorMethod {
    /// inotify where available, polling otherwise.
    #[default]
    Auto,
    /// inotify only.
    Inotify,
    /// Poll the directory every `follow-freq()` seconds.
    Poll,
}

fn default_max_files() -> Positive {
    nz(100)
}

fn default_wildcard_log_iw_size() -> Positive {
    nz(10000)
}

/// The `wildcard-file()` source's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WildcardFileSource {
    /// The directory to watch (required).
    pub base_dir: String,
    /// Glob pattern of the file names to read, e.g. `*.log` (required).
    pub filename_pattern: String,
    /// Also watch the subdirectories of `base-dir()`. Default: no.
    #[serde(default)]
    pub recursive: bool,
    /// Maximum number of files read at the same time; `log-iw-size()` is divided among them.
    /// Default: 100.
    #[serde(default = "default_max_files")]
    pub max_files: Positive,
    /// How new and deleted files are noticed. Default: auto.
    #[serde(default)]
    pub monitor_method: MonitorMethod,
    /// Seconds between two checks of a file (and of the directory with `poll`) for new data.
    /// Default: 1.
    #[serde(default = "default_follow_freq")]
    pub follow_freq: f64,
    /// Seconds after which a partial multi-line message is sent; 0 waits forever. Default: 0.
    #[serde(default)]
    pub multi_line_timeout: u32,
    /// Messages in flight for all files together, divided by `max-files()` (never below the
    /// global `min-iw-size-per-reader()`). Must be positive. Default: 10000.
    #[serde(default = "default_wildcard_log_iw_size")]
    pub log_iw_size: Positive,
}

driver_options! {
    /// Options of the `wildcard-file()` source.
    pub struct WildcardFileSourceOptions {
        pub wildcard: WildcardFileSource,
        pub driver: SourceDriverOptions,
        pub source: SourceOptions,
        pub reader: ReaderOptions,
        pub lines: LineOptions,
        pub perm: FilePermOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, err};
    use crate::actors::sources::common::{Encoding, MultiLineMode, SourceFlag};

    #[test]
    fn file_defaults() {
        let o: FileSourceOptions = check(r#"file("/var/log/app.log")"#);
        assert_eq!(o.file.path, "/var/log/app.log");
        assert_eq!(o.file.follow_freq, 1.0);
        assert_eq!(o.file.multi_line_timeout, 0);
        assert_eq!(o.file.log_iw_size.get(), 100);
        assert_eq!(o.reader, ReaderOptions::default());
        assert_eq!(o.reader.log_fetch_limit.get(), 10);
        assert_eq!(o.source, SourceOptions::default());
        assert!(o.source.read_old_records);
        assert_eq!(o.lines, LineOptions::default());
        assert_eq!(o.driver, SourceDriverOptions::default());
        assert_eq!(o.perm, FilePermOptions::default());
    }

    #[test]
    fn file_full_example() {
        let o: FileSourceOptions = check(
            r#"file("/tmp/in/app.log" follow-freq(0.5) program-override("app")
                flags(no-parse, store-raw-message) multi-line-mode(prefix-garbage)
                multi-line-prefix("^\\S") multi-line-garbage("^$") multi_line_timeout(10)
                log-iw-size(1000) log-fetch-limit(100) keep-timestamp(no) tags("a" "b")
                default-facility(local3) default-priority(warn) encoding("latin1")
                persist-name("app") hook-commands(setup("true") teardown("false")))"#,
        );
        assert_eq!(o.file.follow_freq, 0.5);
        assert_eq!(o.file.multi_line_timeout, 10);
        assert_eq!(o.file.log_iw_size.get(), 1000);
        assert_eq!(o.source.program_override.as_deref(), Some("app"));
        assert_eq!(o.source.keep_timestamp, Some(false));
        assert_eq!(o.source.tags, vec!["a", "b"]);
        assert_eq!(
            o.reader.flags,
            vec![SourceFlag::NoParse, SourceFlag::StoreRawMessage]
        );
        assert_eq!(o.reader.log_fetch_limit.get(), 100);
        assert_eq!(o.reader.encoding, Some(Encoding("latin1".into())));
        assert_eq!(o.lines.multi_line_mode, MultiLineMode::PrefixGarbage);
        assert_eq!(o.lines.multi_line_garbage.as_deref(), Some("^$"));
        assert_eq!(o.driver.persist_name.as_deref(), Some("app"));
        let hooks = o.driver.hook_commands.unwrap_or_default();
        assert_eq!(hooks.setup.as_deref(), Some("true"));
        assert_eq!(hooks.teardown.as_deref(), Some("false"));
    }

    #[test]
    fn file_errors() {
        let e = err::<FileSourceOptions>(r#"file("/x" folow-freq(1))"#);
        assert_eq!(e.message, "unknown option `folow-freq`");
        assert_eq!(e.notes, vec!["did you mean `follow-freq`?"]);
        let e = err::<FileSourceOptions>(r#"file("/x" follow-freq(often))"#);
        assert!(e.message.contains("expected a number"), "{}", e.message);
        let e = err::<FileSourceOptions>(r#"file("/x" flags(no-parse, no-prase))"#);
        assert_eq!(e.message, "unknown value `no-prase`");
        let e = err::<FileSourceOptions>(r#"file(follow-freq(1))"#);
        assert!(e.message.contains("path"), "{}", e.message);
        let e = err::<FileSourceOptions>(r#"file("/x" encoding("klingon-8"))"#);
        assert!(e.message.contains("iconv"), "{}", e.message);
        let e = err::<FileSourceOptions>(r#"file("/x" log-iw-size(0))"#);
        assert!(e.message.contains("positive"), "{}", e.message);
        // Destination options are not source options.
        err::<FileSourceOptions>(r#"file("/x" create-dirs(yes))"#);
        err::<FileSourceOptions>(r#"file("/x" template("$MSG"))"#);
    }

    #[test]
    fn wildcard_defaults_and_example() {
        let o: WildcardFileSourceOptions =
            check(r#"wildcard-file(base-dir("/var/log") filename-pattern("*.log"))"#);
        assert!(!o.wildcard.recursive);
        assert_eq!(o.wildcard.max_files.get(), 100);
        assert_eq!(o.wildcard.monitor_method, MonitorMethod::Auto);
        assert_eq!(o.wildcard.log_iw_size.get(), 10000);
        let o: WildcardFileSourceOptions = check(
            r#"wildcard-file(base-dir("/in") filename-pattern("*.log") recursive(yes)
                max-files(10) monitor-method(poll) follow-freq(2) flags(no-parse))"#,
        );
        assert!(o.wildcard.recursive);
        assert_eq!(o.wildcard.max_files.get(), 10);
        assert_eq!(o.wildcard.monitor_method, MonitorMethod::Poll);
        let e = err::<WildcardFileSourceOptions>(r#"wildcard-file(base-dir("/in"))"#);
        assert!(e.message.contains("filename-pattern"), "{}", e.message);
        let e = err::<WildcardFileSourceOptions>(
            r#"wildcard-file(base-dir("/in") filename-pattern("*") monitor-method(fanotify))"#,
        );
        assert_eq!(e.message, "unknown value `fanotify`");
        let e = err::<WildcardFileSourceOptions>(
            r#"wildcard-file(base-dir("/in") filename-pattern("*") recursive(maybe))"#,
        );
        assert!(e.message.contains("yes or no"), "{}", e.message);
        // No positional path.
        err::<WildcardFileSourceOptions>(r#"wildcard-file("/in/*.log")"#);
    }
}
