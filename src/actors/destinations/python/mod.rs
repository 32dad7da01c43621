//! The `python()` destination: messages handed to a Python class (`send()`, optionally
//! batched with `flush()`). [`object`] holds the calls on the Python object, [`worker`]
//! the loop that makes them (syslog-ng's threaded-destination rules).
//!
//! At plan time the driver registers itself to be bound ([`crate::python::binding`]): at
//! start its class is looked up (a missing class or a class without `send()` is a
//! configuration error at the driver), the result constants and `persist_name` are set on
//! the class, the object is created and `init(options)` called (False stops the start).
//! A Python destination is never kept across a reload: the `python {}` code is new, so the
//! object is too; the queue (and what is in it) goes to the new object, whose `open()` is
//! called once the old one has closed and deinited.
//!
//! The persist name: `python.NAME` with `persist-name(NAME)`; else, when the class has a
//! static `generate_persist_name(options)`, `python.` and what it returns; else
//! `python(CLASS)`. Only Python can tell the second, so duplicates among Python drivers
//! are refused when the configuration is bound, not planned. The plan's own name (which
//! a reload matches queues by) stays `python(CLASS)` (numbered when repeated).
//!
//! With `value-pairs()`, `send()` gets a dict of the selected pairs ([`value_pairs`]).
//!
//! Option set checked against syslog-ng 3.38: `class()`, `options()`, `loaders()` (and the
//! obsolete `imports()`), `value-pairs()`, `batch-lines()`, `batch-timeout()`, `retries()`,
//! `time-reopen()`, the template options and the queue options; none of the writer options
//! (`template()`, `flags()`, `flush-lines()`...).

mod object;
mod value_pairs;
mod worker;
#[cfg(test)]
mod worker_tests;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyo3::prelude::*;
use serde::Deserialize;

use super::common::{DestDriverOptions, TemplateOptions, ValuePairs, WriterOptions};
use super::writer::{WriterOptionsRef, WriterPlan, plan_writer};
use crate::actors::options::{DriverOptions, option_span};
use crate::actors::python_options::PyOptions;
use crate::actors::runtime::driver::{DestStart, DestinationDriver};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::{GlobalOptions, MarkMode, Positive, nz};
use crate::driver_options;
use crate::pipeline::BuildEnv;
use crate::python::binding::{BindCx, Bindable};
use crate::python::object::{DriverObject, Role, Spec};
use crate::template::OutputFormat;
use object::DestObject;
use worker::WorkerPlan;

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
    /// Messages `send()` collects (returning `QUEUED`) before `flush()` is called; 0 (unset)
    /// calls `flush()` after every queued message, as syslog-ng does. Default: 0.
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

/// A planned `python()` destination.
pub struct PythonDestPlan {
    options: PythonDestinationOptions,
    worker: WorkerPlan,
    writer: WriterPlan,
    /// Which configuration generation planned it: a Python destination always restarts on
    /// reload (its class is the new configuration's).
    generation: u64,
    binding: Arc<Binding>,
    /// `value-pairs()`: `send()` gets a dict of these pairs instead of the message.
    value_pairs: Option<Arc<value_pairs::Selection>>,
}

/// The object, once bound.
#[derive(Default)]
struct Binding {
    /// Set before binding (the persist name needs the driver id).
    driver_id: OnceLock<String>,
    object: OnceLock<Arc<DestObject>>,
    /// `python.NAME` when `persist-name()` is set.
    configured_persist_name: Option<String>,
    /// The name it runs under, once bound (see the module doc).
    persist_name: OnceLock<String>,
    class: String,
    loaders: Vec<String>,
    options: PyOptions,
    span: crate::config::Span,
}

impl std::fmt::Debug for PythonDestPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonDestPlan")
            .field("options", &self.options)
            .field("worker", &self.worker)
            .field("generation", &self.generation)
            .finish()
    }
}

/// Plans a `python()` call and registers it to be bound at start.
pub fn plan_driver(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn DestinationDriver>, Diagnostic> {
    static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let o = PythonDestinationOptions::from_call(call)?;
    let value_pairs = match &o.python.value_pairs {
        Some(vp) => Some(Arc::new(value_pairs::Selection::compile(
            vp,
            env,
            option_span(call, &["value-pairs"]),
        )?)),
        None => None,
    };
    let writer_options = WriterOptions::default();
    let writer = plan_writer(
        WriterOptionsRef {
            dest: &o.dest,
            writer: &writer_options,
            template: &o.template,
            mark_mode: MarkMode::None,
            format: OutputFormat::File,
        },
        call,
        globals,
        env,
    )?;
    let worker = WorkerPlan {
        batch_lines: o.python.batch_lines as usize,
        batch_timeout: o
            .python
            .batch_timeout
            .map(|t| Duration::from_millis(u64::from(t.get()))),
        retries: o.python.retries.get(),
        time_reopen: Duration::from_secs(u64::from(o.python.time_reopen.get())),
        throttle: o.dest.throttle,
    };
    let binding = Arc::new(Binding {
        class: o.python.class.clone(),
        loaders: o.python.loaders.clone(),
        options: o.python.options.clone(),
        span: call.span(),
        configured_persist_name: o.dest.persist_name.as_ref().map(|p| format!("python.{p}")),
        ..Binding::default()
    });
    if let Some(b) = &env.python {
        b.add(binding.clone());
    }
    Ok(Box::new(PythonDestPlan {
        options: o,
        worker,
        writer,
        generation: GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        binding,
        value_pairs,
    }))
}

/// The constants syslog-ng sets on a destination class (so `self.QUEUED` works on a class
/// that derives from `object`).
const RESULT_CONSTANTS: [(&str, i64); 6] = [
    ("DROP", 0),
    ("ERROR", 1),
    ("SUCCESS", 3),
    ("QUEUED", 4),
    ("NOT_CONNECTED", 5),
    ("RETRY", 6),
];

impl Bindable for Binding {
    fn bind(&self, py: Python<'_>, cx: &BindCx<'_>) -> Result<(), Diagnostic> {
        let driver = self
            .driver_id
            .get()
            .cloned()
            .unwrap_or_else(|| "python".into());
        let persist = match &self.configured_persist_name {
            Some(p) => p.clone(),
            None => self.generated_persist_name(py, cx, &driver),
        };
        let _ = self.persist_name.set(persist.clone());
        // Converting an int or a str into Python cannot fail.
        let mut attrs: Vec<(&str, Py<PyAny>)> = Vec::new();
        for (name, value) in RESULT_CONSTANTS {
            let Ok(value) = value.into_pyobject(py);
            attrs.push((name, value.into_any().unbind()));
        }
        let Ok(persist) = persist.into_pyobject(py);
        attrs.push(("persist_name", persist.into_any().unbind()));
        let spec = Spec {
            role: Role::Destination,
            class: &self.class,
            loaders: &self.loaders,
            options: &self.options,
            driver: &driver,
            span: self.span,
            class_attrs: &attrs,
        };
        let object = DriverObject::create(py, cx, &spec, |instance| {
            match instance.getattr("send") {
                Ok(m) if m.is_callable() => Ok(()),
                _ => Err(format!(
                    "Error initializing Python destination, class `{}` does not have a send() method",
                    self.class
                )),
            }
        })?;
        let _ = self
            .object
            .set(Arc::new(DestObject::new(py, object, cx.compat_3x)));
        Ok(())
    }

    fn persist_name(&self) -> Option<(String, crate::config::Span)> {
        self.persist_name.get().map(|p| (p.clone(), self.span))
    }
}

impl Binding {
    /// The name without `persist-name()` or `generate_persist_name()`: `python(CLASS)`.
    fn class_persist_name(&self) -> String {
        format!("python({})", self.class)
    }

    /// `python.` + the class's `generate_persist_name(options)`, or `python(CLASS)`.
    fn generated_persist_name(&self, py: Python<'_>, cx: &BindCx<'_>, driver: &str) -> String {
        crate::python::object::generated_persist_name(
            py,
            cx,
            &self.class,
            &self.options,
            "python",
            driver,
        )
        .unwrap_or_else(|| self.class_persist_name())
    }
}

impl DestinationDriver for PythonDestPlan {
    fn persist_name(&self, driver_id: &str) -> String {
        let _ = self.binding.driver_id.set(driver_id.to_string());
        self.binding
            .configured_persist_name
            .clone()
            .unwrap_or_else(|| self.binding.class_persist_name())
    }

    fn writer(&self) -> &WriterPlan {
        &self.writer
    }

    /// Two Python destinations with one persist name are refused, as seed 001 says, but
    /// when the configuration is bound (only then is `generate_persist_name()` known; the
    /// start fails with exit 2, as in syslog-ng 3.38), not here.
    fn unique_persist_name(&self) -> bool {
        false
    }

    fn start(&self, cx: DestStart<'_>) {
        let queue = cx.writer.queue.clone();
        let done = cx.done;
        let Some(object) = self.binding.object.get().cloned() else {
            tracing::error!(driver = cx.driver_id, class = %self.options.python.class,
                "python-dest: the Python object was never initialised; not starting");
            let _ = done.send(());
            return;
        };
        if let Some(selection) = &self.value_pairs {
            object.send_value_pairs(value_pairs::DictBuilder::new(
                selection.clone(),
                cx.writer.plan.render.options.clone(),
                cx.writer.daemon.clone(),
            ));
        }
        let plan = self.worker.clone();
        cx.arbiter.spawn(async move {
            worker::run(object, plan, queue).await;
            let _ = done.send(());
        });
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn stats_rows(&self) -> Option<crate::actors::runtime::stats::DestRows> {
        Some(crate::actors::runtime::stats::DestRows {
            level: 0,
            instance: format!("python,{}", self.binding.class),
            writer: false,
            per_file: false,
        })
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
