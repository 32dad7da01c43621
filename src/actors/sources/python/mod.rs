//! The `python()` and `python-fetcher()` sources: messages produced by a Python class
//! (`syslogng.LogSource` with `run()`/`post_message()`, or `syslogng.LogFetcher` with
//! `fetch()`). The `options()` value type all Python drivers share is in
//! `actors::python_options`.
//!
//! Option sets checked against syslog-ng 3.38: `class()`, `options()`, `loaders()` (not the
//! obsolete `imports()`, which 3.38 rejects in sources), `persist-name()`, `hook-commands()`,
//! the options of every source and the parsing options (`flags()` takes parsing flags only).
//! `python-fetcher()` adds `fetch-no-data-delay()` and `time-reopen()`.
//!
//! At run time ([`bind`]: the object; [`fetcher`] and [`source`]: the threads; [`emit`]:
//! sending; [`tracker`]: the ack trackers) a Python source is a source driver like any
//! other: its messages take credits of its window (`log-iw-size()`), get the source's
//! touches and go through the log paths in batches with ack tokens. It is never kept across
//! a reload (its class is the new configuration's): a source with an ack tracker is first
//! paused until its bookmarks are reported ([`handoff`]), so that the new object's `init()`
//! reads the final position; then the old one gets `request_exit()`, its thread ends,
//! `deinit()`; the new one, initialised when the configuration was bound, starts. Persist names: `python-source.NAME` / `python-fetcher.NAME` with
//! `persist-name()` or a static `generate_persist_name(options)`, else
//! `python-source(CLASS)` / `python-fetcher(CLASS)` (syslog-ng 3.38's); two Python drivers
//! with one name are refused when the configuration is bound.

mod bind;
mod emit;
mod fetcher;
mod handoff;
mod source;
mod tracker;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyo3::prelude::*;
use serde::Deserialize;

use super::common::{
    ParseFlag, ParseOptions, ReaderOptions, SourceDriverOptions, SourceFlag, SourceOptions,
    default_log_iw_size,
};
use crate::actors::options::DriverOptions;
use crate::actors::runtime::driver::{IngestOptions, Resources, SourceDriver, SourceStart};
use crate::actors::runtime::error::RuntimeError;
use crate::actors::runtime::ingest::Ingest;
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, Positive, nz};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use bind::{Binding, Kind};

pub use crate::actors::python_options::{PyOptionValue, PyOptions, PythonParserOptions};
pub(crate) use handoff::pause_for_reload;

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

/// Most messages a Python source keeps in flight, whatever its `log-iw-size()` allows.
///
/// Socket readers stop at `READER_IN_FLIGHT_CAP` (384: the kernel buffers the rest, and a
/// listener has many windows). A Python source has one window and nothing behind it, and
/// refilling a small window costs its thread a wake-up per few hundred messages: measured
/// with bench/python-source.conf (log-iw-size(10000)), 2M messages, posts batched by 256:
/// 384 → 0.90–0.95M msg/s, 1024 → 0.87–1.10M, 2048 → 1.09–1.25M, 4096 → 1.26–1.41M,
/// 10000 → 1.39–1.41M. 4096 keeps most of it for at most ~2 MB of messages in flight.
const IN_FLIGHT_CAP: u32 = 4096;

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

/// A planned `python()` or `python-fetcher()` source.
pub struct PythonSourcePlan {
    kind: Kind,
    source: SourceOptions,
    reader: ReaderOptions,
    window: u32,
    fetch: fetcher::FetchPlan,
    binding: Arc<Binding>,
    /// Which configuration planned it: never "unchanged" across a reload.
    generation: u64,
}

impl std::fmt::Debug for PythonSourcePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonSourcePlan")
            .field("kind", &self.kind)
            .field("class", &self.binding.class)
            .field("window", &self.window)
            .field("fetch", &self.fetch)
            .field("generation", &self.generation)
            .finish()
    }
}

/// The reader flag of a threaded source's parsing flag.
fn source_flag(f: ParseFlag) -> SourceFlag {
    match f {
        ParseFlag::NoParse => SourceFlag::NoParse,
        ParseFlag::SyslogProtocol => SourceFlag::SyslogProtocol,
        ParseFlag::NoMultiLine => SourceFlag::NoMultiLine,
        ParseFlag::StoreRawMessage => SourceFlag::StoreRawMessage,
        ParseFlag::ExpectHostname => SourceFlag::ExpectHostname,
        ParseFlag::AssumeUtf8 => SourceFlag::AssumeUtf8,
        ParseFlag::ValidateUtf8 => SourceFlag::ValidateUtf8,
        ParseFlag::SanitizeUtf8 => SourceFlag::SanitizeUtf8,
        ParseFlag::CheckHostname => SourceFlag::CheckHostname,
        ParseFlag::GuessTimezone => SourceFlag::GuessTimezone,
        ParseFlag::NoHeader => SourceFlag::NoHeader,
        ParseFlag::StoreLegacyMsghdr => SourceFlag::StoreLegacyMsghdr,
        ParseFlag::DontStoreLegacyMsghdr => SourceFlag::DontStoreLegacyMsghdr,
        ParseFlag::NoHostname => SourceFlag::NoHostname,
        ParseFlag::NoRfc3164Fallback => SourceFlag::NoRfc3164Fallback,
    }
}

/// The reader options of a threaded source's parsing group (what the graph parses with).
fn reader_options(p: &ParseOptions) -> ReaderOptions {
    ReaderOptions {
        flags: p.flags.iter().map(|f| source_flag(*f)).collect(),
        format: p.format.clone(),
        time_zone: p.time_zone.clone(),
        default_severity: p.default_severity,
        default_facility: p.default_facility,
        ..ReaderOptions::default()
    }
}

/// Plans a `python()` or `python-fetcher()` call and registers it to be bound at start.
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn SourceDriver>, Diagnostic> {
    static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let fetcher = matches!(call, Node::Call { name, .. } if name.value == "python-fetcher");
    let (kind, class, options, loaders, window, driver, source, parse, fetch) = if fetcher {
        let o = PythonFetcherSourceOptions::from_call(call)?;
        let reopen = Duration::from_secs(u64::from(o.fetcher.time_reopen.get()));
        let no_data = match o.fetcher.fetch_no_data_delay {
            Some(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s),
            _ => reopen,
        };
        let fetch = fetcher::FetchPlan {
            time_reopen: reopen,
            no_data_delay: no_data,
        };
        let f = o.fetcher;
        (
            Kind::Fetcher,
            f.class,
            f.options,
            f.loaders,
            f.log_iw_size.get(),
            o.driver,
            o.source,
            o.parse,
            fetch,
        )
    } else {
        let o = PythonSourceOptions::from_call(call)?;
        let p = o.python;
        let fetch = fetcher::FetchPlan {
            time_reopen: Duration::from_secs(1),
            no_data_delay: Duration::from_secs(1),
        };
        (
            Kind::Source,
            p.class,
            p.options,
            p.loaders,
            p.log_iw_size.get(),
            o.driver,
            o.source,
            o.parse,
            fetch,
        )
    };
    let reader = reader_options(&parse);
    let mut parse_options = crate::actors::runtime::settings::parse_options(
        "",
        &source,
        Some(&reader),
        globals,
        &crate::message::LocalHost::detect(),
    );
    // What the messages `LogMessage.parse(raw, self.parse_options)` makes keep the HOST of
    // the text: the host-name rules apply when the source posts them.
    parse_options.host.keep_hostname = true;
    let binding = Arc::new(Binding {
        kind,
        class,
        loaders,
        options,
        span: call.span(),
        configured_persist_name: driver
            .persist_name
            .as_ref()
            .map(|p| format!("{}.{p}", kind.module())),
        driver_id: OnceLock::new(),
        parse: Arc::new(parse_options),
        persist_name: OnceLock::new(),
        bound: OnceLock::new(),
    });
    if let Some(b) = &env.python {
        b.add(binding.clone());
    }
    Ok(Box::new(PythonSourcePlan {
        kind,
        source,
        reader,
        window,
        fetch,
        binding,
        generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    }))
}

impl SourceDriver for PythonSourcePlan {
    fn persist_name(&self) -> String {
        self.binding
            .configured_persist_name
            .clone()
            .unwrap_or_else(|| self.binding.class_persist_name())
    }

    fn set_driver_id(&self, driver_id: &str) {
        let _ = self.binding.driver_id.set(driver_id.to_string());
    }

    fn ingest_options(&self) -> IngestOptions<'_> {
        IngestOptions {
            source: &self.source,
            reader: Some(&self.reader),
            set_flags: 0,
            clear_flags: 0,
        }
    }

    fn acquire(&self, _: &str, _: &mut Resources, _: &mut Resources) -> Result<(), RuntimeError> {
        Ok(())
    }

    fn start(&self, ingest: Arc<Ingest>, cx: &mut SourceStart<'_>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        cx.done.push(rx);
        let driver = self.binding.driver();
        let Some(bound) = self.binding.bound.get() else {
            tracing::error!(driver = %driver, class = %self.binding.class,
                "{}: the Python object was never initialised; not starting", self.kind.module());
            let _ = tx.send(());
            return;
        };
        let object = bound.object.clone();
        let tracker = match &bound.tracker {
            Some((kind, callback)) => {
                let callback = Python::attach(|py| callback.clone_ref(py));
                match tracker::Tracker::start(*kind, callback, &driver) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        tracing::error!(driver = %driver, error = %e,
                            "Error starting the ack tracker's thread; not starting");
                        let _ = tx.send(());
                        return;
                    }
                }
            }
            None => None,
        };
        let window = ingest.window_up_to(self.window, IN_FLIGHT_CAP);
        let emitter = emit::Emitter::new(ingest, window, tracker, &driver);
        let stop = cx.stop.clone();
        let done = move || {
            let _ = tx.send(());
        };
        let exit_requested = Arc::new(ExitRequested::default());
        let started = match self.kind {
            Kind::Fetcher => fetcher::spawn(
                object.clone(),
                emitter,
                self.fetch.clone(),
                stop.clone(),
                exit_requested.clone(),
                done,
            ),
            Kind::Source => {
                let poster = source::SourcePoster::new(
                    object.clone(),
                    emitter,
                    bound.suspends,
                    stop.clone(),
                );
                Python::attach(|py| {
                    if let Some(link) =
                        crate::python::source_classes::link_of(object.instance.bind(py))
                    {
                        link.attach(poster.clone());
                    }
                });
                source::spawn(poster, done)
            }
        };
        if let Err(e) = started {
            tracing::error!(driver = %driver, error = %e, "Error starting the source's thread");
            return;
        }
        spawn_exit_request(object, stop, exit_requested);
    }

    fn keeps_running_on_reload(&self) -> bool {
        false
    }

    fn needs_persist(&self) -> bool {
        true
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    /// `src.python;OBJECT#N;python,CLASS` (`python-fetcher,CLASS` for a fetcher).
    fn stats_rows(&self) -> crate::actors::runtime::stats::SourceRows {
        let driver = match self.kind {
            Kind::Fetcher => "python-fetcher",
            Kind::Source => "python",
        };
        crate::actors::runtime::stats::SourceRows::Driver {
            level: 0,
            instance: format!("{driver},{}", self.binding.class),
            reader: false,
        }
    }
}

/// Calls `request_exit()` (when the class has one) from a thread of its own once the graph
/// stops: it must make a blocking `run()` or `fetch()` return.
fn spawn_exit_request(
    object: Arc<crate::python::object::DriverObject>,
    stop: tokio::sync::watch::Receiver<bool>,
    requested: Arc<ExitRequested>,
) {
    let on_thread = requested.clone();
    let spawned = std::thread::Builder::new()
        .name("py-src-exit".into())
        .spawn(move || {
            let mut stop = stop;
            emit::run_until(super::line_source::stopped(&mut stop), None);
            crate::python::interpreter::keep_thread_state();
            Python::attach(|py| drop(object.call_optional(py, "request_exit")));
            on_thread.set();
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "Error starting the thread that stops a Python source");
        requested.set();
    }
}

/// Raised once `request_exit()` has returned: a fetcher stopping calls `close()` and
/// `deinit()` only then, in syslog-ng 3.38's order (request_exit, close, deinit).
#[derive(Debug, Default)]
pub(super) struct ExitRequested {
    done: std::sync::Mutex<bool>,
    returned: std::sync::Condvar,
}

impl ExitRequested {
    fn set(&self) {
        *self.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.returned.notify_all();
    }

    /// Waits until `request_exit()` has returned.
    pub(super) fn wait(&self) {
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        while !*done {
            done = self.returned.wait(done).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::registry::testing::{check, check_de, err, err_de};

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
