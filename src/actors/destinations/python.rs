//! The `python()` destination: messages handed to a Python class (`send()`, optionally
//! batched with `flush()`).
//!
//! Option set checked against syslog-ng 3.38: `class()`, `options()`, `loaders()` (and the
//! obsolete `imports()`), `value-pairs()`, `batch-lines()`, `batch-timeout()`, `retries()`,
//! `time-reopen()`, the template options and the queue options; none of the writer options
//! (`template()`, `flags()`, `flush-lines()`...).

use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, ValuePairs};
use crate::actors::python_options::PyOptions;
use crate::config::global_options::{Positive, nz};
use crate::driver_options;

fn default_retries() -> Positive {
    nz(3)
}

fn default_time_reopen() -> Positive {
    nz(1)
}

/// The `python()` destination's own options.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PythonDestination {
    /// The Python class implementing the destination: a name defined in a `python {}` block,
    /// or `module.Class`, imported on demand (required).
    pub class: String,
    /// Options passed to the class's `init(options)` as a dict. Default: empty.
    #[serde(default)]
    pub options: PyOptions,
    /// Modules imported before the class is looked up. Obsolete alias `imports()`.
    /// Default: none.
    #[serde(default, alias = "imports")]
    pub loaders: Vec<String>,
    /// The name-value pairs of the message visible to Python. Default: all of them.
    #[serde(default)]
    pub value_pairs: Option<ValuePairs>,
    /// Messages `send()` collects (returning `QUEUED`) before `flush()` is called; 0 calls
    /// `flush()` only when the queue is empty. Default: 0.
    #[serde(default)]
    pub batch_lines: u32,
    /// Milliseconds after which a partial batch is flushed. Default: none (wait for
    /// `batch-lines()` or an empty queue).
    #[serde(default)]
    pub batch_timeout: Option<Positive>,
    /// Attempts to send a message (`ERROR`/`RETRY` results) before it is dropped.
    /// Default: 3.
    #[serde(default = "default_retries")]
    pub retries: Positive,
    /// Seconds to wait before calling `open()` again after a failure. Not inherited from the
    /// global option. Default: 1.
    #[serde(default = "default_time_reopen")]
    pub time_reopen: Positive,
}

driver_options! {
    /// Options of the `python()` destination.
    pub struct PythonDestinationOptions {
        pub python: PythonDestination,
        pub dest: DestDriverOptions,
        pub template: TemplateOptions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::python_options::PyOptionValue;
    use crate::actors::registry::testing::{check, err};

    #[test]
    fn defaults() {
        let o: PythonDestinationOptions = check(r#"python(class("TextDestination"))"#);
        assert_eq!(o.python.class, "TextDestination");
        assert_eq!(o.python.batch_lines, 0);
        assert_eq!(o.python.batch_timeout, None);
        assert_eq!(o.python.retries.get(), 3);
        assert_eq!(o.python.time_reopen.get(), 1);
        assert_eq!(o.python.value_pairs, None);
        assert_eq!(o.dest, DestDriverOptions::default());
    }

    #[test]
    fn full_example() {
        let o: PythonDestinationOptions = check(
            r#"python(class("mqtt.MqttDestination") options(host => "broker" "port" 1883)
                imports("mqtt") batch-lines(100) batch-timeout(500) retries(10)
                time-reopen(30) persist-name("mqtt1") log-fifo-size(50000)
                value-pairs(scope(rfc5424) exclude("R_*")) frac-digits(3)
                disk-buffer(disk-buf-size(104857600)))"#,
        );
        assert_eq!(o.python.loaders, vec!["mqtt"]);
        assert_eq!(o.python.options["port"], PyOptionValue::Int(1883));
        assert_eq!(o.python.batch_lines, 100);
        assert_eq!(o.python.batch_timeout.map(|n| n.get()), Some(500));
        assert_eq!(o.python.retries.get(), 10);
        assert_eq!(o.dest.persist_name.as_deref(), Some("mqtt1"));
        assert!(o.python.value_pairs.is_some());
    }

    #[test]
    fn errors() {
        let e = err::<PythonDestinationOptions>("python(class(X) batch-line(10))");
        assert_eq!(e.notes, vec!["did you mean `batch-lines`?"]);
        err::<PythonDestinationOptions>(r#"python(class(X) template("$MSG"))"#);
        err::<PythonDestinationOptions>("python(class(X) flush-lines(1))");
        err::<PythonDestinationOptions>("python(class(X) retries(0))");
        err::<PythonDestinationOptions>("python(class(X) workers(4))");
        let e = err::<PythonDestinationOptions>("python(options(a => b))");
        assert!(e.message.contains("class"), "{}", e.message);
    }
}
