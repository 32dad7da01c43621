//! From a checked configuration to a [`Plan`]: every source and destination driver with the
//! options it runs with, the compiled log paths, and which deliveries are flow-controlled.
//!
//! Planning has no side effects (no socket is bound, no file opened), so the daemon plans
//! before it goes to the background — an unsupported driver or option is a configuration
//! error at `file:line:col` with exit code 1 — and a reload plans the new configuration while
//! the old graph keeps running. Anything the runtime cannot do yet is refused here, by name:
//! nothing in a configuration is silently ignored.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use super::driver::{DestinationDriver, SourceDriver};
use super::hooks::DriverHooks;
use crate::actors::destinations::common::TemplateOptions as DestTemplateOptions;
use crate::actors::options::{HookCommands, option_node};
use crate::actors::registry::{Registry, Runs};
use crate::config::ast::Node;
use crate::config::catalog::ObjectKind;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;
use crate::config::model::{LogItem, Model, ObjectItem};
use crate::config::span::{SourceMap, Span};
use crate::message::LocalHost;
use crate::pipeline::{BuildEnv, Router, SourceId};
use crate::template::DaemonInfo;

use super::settings;

/// One source driver of a source object.
#[derive(Debug)]
pub struct SourcePlan {
    pub object: String,
    /// The name `$SOURCE` and the `.source.NAME` tag carry: the object's own, or for an
    /// inline source inside another source's channel (`source s { channel { source {...};
    /// rewrite {...}; }; };`, what `system()` expands to) the enclosing named source's, as in
    /// syslog-ng.
    pub group: String,
    /// syslog-ng's driver id, `OBJECT#INDEX`: its counters go on under it across reloads.
    pub driver_id: String,
    /// The driver's name as stats spell it (`tcp`, `unix-stream`; a fetcher is `python`).
    pub driver_name: String,
    /// Where the driver is written, and that as `file:line:col` once located.
    pub span: Span,
    pub location: String,
    pub id: SourceId,
    /// [`SourceDriver::persist_name`]: what it is matched by on reload.
    pub persist_name: String,
    /// Everything the source runs with, hashed (see [`DestPlan::fingerprint`]).
    pub fingerprint: u64,
    pub driver: Box<dyn SourceDriver>,
}

impl SourcePlan {
    /// Its fingerprint when a running source of its persist name and plan may go on running
    /// across a reload (`SourceDriver::keeps_running_on_reload`); `None` when it must restart.
    pub fn keep_key(&self) -> Option<u64> {
        self.driver
            .keeps_running_on_reload()
            .then_some(self.fingerprint)
    }
}

/// One destination driver of a destination object (a queue slot).
#[derive(Debug)]
pub struct DestPlan {
    pub object: String,
    /// syslog-ng's driver id, `OBJECT#INDEX` (`d#0`: the first driver of destination `d`).
    pub driver_id: String,
    /// The driver's name as stats spell it (`file`, `tcp6`).
    pub driver_name: String,
    /// Where the driver is written, and that as `file:line:col` once located.
    pub span: Span,
    pub location: String,
    /// syslog-ng's persist name ([`DestinationDriver::persist_name`]): on reload the driver
    /// of the next configuration with the same name takes its queue. A name two drivers
    /// share (two `file("/x")`, which syslog-ng allows) gets `#2`, `#3`... after the first.
    pub persist_name: String,
    /// Everything the driver runs with, hashed: equal fingerprints under one persist name
    /// mean the running driver can stay as it is across a reload.
    pub fingerprint: u64,
    /// Shared: a handed-over driver starts once its predecessor has finished.
    pub driver: Arc<dyn DestinationDriver>,
}

/// A configuration, ready to run.
pub struct Plan {
    pub globals: GlobalOptions,
    pub router: Router,
    pub sources: Vec<SourcePlan>,
    /// Destination drivers; their index is their queue slot.
    pub dests: Vec<DestPlan>,
    /// Slots of each destination object, by the router's `DestId`.
    pub slots: Vec<Vec<usize>>,
    pub local_host: LocalHost,
    pub daemon: Arc<DaemonInfo>,
    /// `hook-commands()` of every driver, sources first, in configuration order.
    pub hooks: Vec<PlannedHooks>,
    /// The `python {}` blocks and every part that needs them, bound once the daemon runs
    /// ([`crate::python::binding`]).
    pub(crate) python: crate::python::PythonPlan,
    /// Where disk-buffers without `dir()` keep their files: the persist file's directory
    /// (the daemon sets it; the state directory until then).
    pub disk_dir: std::path::PathBuf,
}

/// A driver's `hook-commands()` and where the driver is (rendered into a location once the
/// source map is at hand: [`Plan::locate`]).
#[derive(Debug, Clone)]
pub struct PlannedHooks {
    pub hooks: DriverHooks,
    pub span: Span,
}

impl Plan {
    /// Fills in the `file:line:col` of every driver: of those with hooks (syslog-ng names it
    /// when a hook fails) and of every driver (`export-config-graph`).
    pub fn locate(&mut self, map: &SourceMap) {
        for h in &mut self.hooks {
            if let Some(at) = map.location(h.span) {
                h.hooks.location = at;
            }
        }
        for s in &mut self.sources {
            s.location = map.location(s.span).unwrap_or_default();
        }
        for d in &mut self.dests {
            d.location = map.location(d.span).unwrap_or_default();
        }
    }

    /// Whether a component keeps state in the persist file (a `file()` source's position).
    pub fn needs_persist(&self) -> bool {
        self.sources.iter().any(|s| s.driver.needs_persist())
    }

    /// The hooks to run, in order.
    pub fn driver_hooks(&self) -> Vec<DriverHooks> {
        self.hooks.iter().map(|h| h.hooks.clone()).collect()
    }
}

/// Two socket destinations with the same persist name would take each other's connection on
/// reload: refused, as syslog-ng 3.38 refuses to start ("Automatic assignment of persist
/// names failed, as conflicting persist names were found").
fn conflicting_persist_name(name: &str, first: &str, call: &Node) -> Diagnostic {
    Diagnostic::new(
        format!(
            "conflicting persist names: `{name}` is used by two destinations; give one of \
             them a persist-name()"
        ),
        call.span(),
    )
    .with_context("destination")
    .with_note(format!("the other one is in destination `{first}`"))
}

/// The `hook-commands()` of a driver call, if any.
fn hooks_of(call: &Node, object: &str, index: usize) -> Option<PlannedHooks> {
    let node = option_node(call, &["hook-commands"])?;
    let commands: HookCommands = crate::config::de::from_call(node).ok()?;
    Some(PlannedHooks {
        hooks: DriverHooks {
            driver: format!("{object}#{index}"),
            location: String::new(),
            commands,
        },
        span: call.span(),
    })
}

fn unsupported_driver(name: &crate::config::span::Spanned<String>) -> Diagnostic {
    Diagnostic::new(
        format!(
            "driver `{}` is not supported by the runtime yet",
            name.value
        ),
        name.span,
    )
}

/// The Python side of `model` before any driver registered into it: its `python {}` blocks
/// (also what `sluice -s` runs).
pub(crate) fn python_plan(model: &Model) -> crate::python::PythonPlan {
    crate::python::PythonPlan::new(
        model
            .python_blocks
            .iter()
            .map(|b| (b.code.clone(), b.span))
            .collect(),
        compat_3x(model),
    )
}

/// Plans `model` (which passed the configuration checks).
pub fn plan(model: &Model) -> Result<Plan, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let globals = Registry::global_options(&model.global_options).map_err(|d| vec![d])?;
    let mut python = python_plan(model);
    let mut functions = crate::template::FunctionRegistry::with_builtins();
    functions.register(
        "python",
        Arc::new(crate::python::template_fn::PythonFunction::new(
            python.bindings.clone(),
        )),
    );
    register_template_functions(model, &mut functions).map_err(|d| vec![d])?;
    let mut env = BuildEnv::with_functions(model, Arc::new(functions));
    env.python = Some(python.bindings.clone());
    let mut router = Router::build(model, &env)?;
    router.count_filters(globals.stats_level >= 1);
    let local_host = LocalHost::detect();
    let daemon = Arc::new(DaemonInfo {
        local_host: local_host.clone(),
        run_id: 1,
        host_id: 0,
        started: Instant::now(),
        local_zone: jiff::tz::TimeZone::system(),
    });
    // The global template options: what the log paths and Python's macros render with.
    let render_options = settings::template_options(&DestTemplateOptions::default(), &globals);
    python.render_macros_with(render_options.clone(), daemon.clone());
    router.set_render_options(render_options, daemon.clone());

    let globals_hash = fingerprint(&globals);
    let groups = source_groups(model);
    let mut driver_index: HashMap<String, usize> = HashMap::new();
    let mut sources = Vec::new();
    let mut hooks = Vec::new();
    for o in &model.sources {
        // A source no log path uses is not started (syslog-ng does not initialise it).
        let Some(id) = router
            .source_id(&o.name.value)
            .filter(|id| router.source_is_used(*id))
        else {
            continue;
        };
        let group = groups
            .get(o.name.value.as_str())
            .map_or_else(|| o.name.value.clone(), |g| g.to_string());
        for call in o.drivers() {
            // Drivers are numbered within their group, nested ones included (`s#1`).
            let index = driver_index.entry(group.clone()).or_insert(0usize);
            let i = *index;
            *index += 1;
            hooks.extend(hooks_of(call, &group, i));
            match plan_source(call, &globals, &env) {
                Ok(driver) => {
                    let driver_id = format!("{group}#{i}");
                    driver.set_driver_id(&driver_id);
                    sources.push(SourcePlan {
                        object: o.name.value.clone(),
                        group: group.clone(),
                        driver_id,
                        driver_name: stats_name(call),
                        span: call.span(),
                        location: String::new(),
                        id,
                        persist_name: driver.persist_name(),
                        fingerprint: fingerprint(&(format!("{driver:?}"), globals_hash)),
                        driver,
                    });
                }
                Err(d) => errors.push(d),
            }
        }
    }
    errors.extend(duplicate_source_states(&sources));

    let mut dests = Vec::new();
    // Which destination first used a persist name, and how many use it.
    let mut names: HashMap<String, (String, usize)> = HashMap::new();
    let mut slots = vec![Vec::new(); router.destinations().len()];
    for o in &model.destinations {
        let Some(id) = router
            .dest_id(&o.name.value)
            .filter(|id| router.dest_is_used(*id))
        else {
            continue;
        };
        for (i, call) in o.drivers().enumerate() {
            hooks.extend(hooks_of(call, &o.name.value, i));
            let driver = match plan_dest(call, &globals, &env) {
                Ok(d) => d,
                Err(d) => {
                    errors.push(d);
                    continue;
                }
            };
            let driver_id = format!("{}#{i}", o.name.value);
            let mut persist_name = driver.persist_name(&driver_id);
            match names.get_mut(&persist_name) {
                Some((first, n)) => {
                    if driver.unique_persist_name() {
                        errors.push(conflicting_persist_name(&persist_name, first, call));
                    }
                    *n += 1;
                    persist_name = format!("{persist_name}#{n}");
                }
                None => {
                    names.insert(persist_name.clone(), (o.name.value.clone(), 1));
                }
            }
            if let Some(s) = slots.get_mut(id.0 as usize) {
                s.push(dests.len());
            }
            dests.push(DestPlan {
                object: o.name.value.clone(),
                driver_id,
                driver_name: stats_name(call),
                span: call.span(),
                location: String::new(),
                persist_name,
                fingerprint: fingerprint(&(format!("{driver:?}"), globals_hash)),
                driver: Arc::from(driver),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Plan {
        globals,
        router,
        sources,
        dests,
        slots,
        local_host,
        daemon,
        hooks,
        python,
        disk_dir: crate::paths::state_dir(),
    })
}

/// The enclosing named source of every inline source written inside a source object's
/// channels (at any depth).
fn source_groups(model: &Model) -> HashMap<&str, &str> {
    let mut groups = HashMap::new();
    for o in model.sources.iter().filter(|o| !o.inline) {
        let mut pending = vec![o];
        while let Some(obj) = pending.pop() {
            for item in &obj.items {
                let ObjectItem::Channel(p) = item else {
                    continue;
                };
                p.walk(&mut |i| {
                    if let LogItem::Source(r) = i {
                        if r.inline && !groups.contains_key(r.name.value.as_str()) {
                            groups.insert(r.name.value.as_str(), o.name.value.as_str());
                            if let Some(inner) = model.object(ObjectKind::Source, &r.name.value) {
                                pending.push(inner);
                            }
                        }
                    }
                });
            }
        }
    }
    groups
}

/// Adds the configuration's `template-function`s to `functions`, in configuration order,
/// each compiled with the functions defined before it (syslog-ng compiles a definition as it
/// reads it; see `template::functions::user`). A definition that does not compile is an
/// error at its template.
///
/// Calls are resolved when the templates that make them are compiled, after every
/// definition: a template may call a function defined below it (syslog-ng 3.38 refuses
/// that), and one redefined later calls the last definition (3.38: the one above the call).
pub(crate) fn register_template_functions(
    model: &Model,
    functions: &mut crate::template::FunctionRegistry,
) -> Result<(), Diagnostic> {
    use crate::template::functions::user::UserFunction;
    for def in &model.template_functions {
        let Some(content) = &def.content else {
            continue;
        };
        let env = BuildEnv::with_functions(model, Arc::new(functions.clone()));
        let template = env
            .template(&content.value, content.span)
            .map_err(|d| d.with_context("template-function"))?;
        let f = UserFunction::new(&def.name.value, Arc::new(template));
        functions.register(&def.name.value, Arc::new(f));
    }
    Ok(())
}

/// Whether the configuration's `@version` is below 4.0 (values reach Python as bytes, as
/// in syslog-ng 3.x). Without `@version` syslog-ng assumes its own version: 3.38 here.
fn compat_3x(model: &Model) -> bool {
    let Some(v) = &model.version else {
        return true;
    };
    let major = v
        .value
        .trim()
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    major.is_none_or(|m| m < 4)
}

/// A hash of everything `value`'s `Debug` shows (plans derive `Debug` over all their
/// fields). Two equal hashes mean two equal plans; a `Debug` that varies for equal plans
/// (a `HashMap`'s order) only costs a restart of a driver that could have stayed.
fn fingerprint<T: std::fmt::Debug>(value: &T) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    format!("{value:?}").hash(&mut h);
    h.finish()
}

/// Two sources keeping state under one persist name would overwrite each other's: refused,
/// as syslog-ng refuses to start ("Automatic assignment of persist names failed...").
fn duplicate_source_states(sources: &[SourcePlan]) -> Vec<Diagnostic> {
    let mut seen: Vec<super::driver::StateKey> = Vec::new();
    let mut errors = Vec::new();
    for k in sources.iter().filter_map(|s| s.driver.state_key()) {
        match seen.iter().find(|f| f.name == k.name) {
            Some(first) => errors.push(
                Diagnostic::new(
                    format!(
                        "conflicting persist names: `{}` is used by two sources; give one of \
                         them a persist-name()",
                        k.name
                    ),
                    k.span,
                )
                .with_context("source")
                .with_note(format!("the other one {}", first.describe)),
            ),
            None => seen.push(k),
        }
    }
    errors
}

/// A driver's name as syslog-ng's stats spell it: dashes, and the fetcher counted as
/// `python` (`src.python;s#0;python-fetcher,Class`).
fn stats_name(call: &Node) -> String {
    let name = driver_name(call).map_or(String::new(), |n| n.value.replace('_', "-"));
    match name.as_str() {
        "python-fetcher" => "python".to_string(),
        _ => name,
    }
}

fn driver_name(call: &Node) -> Option<&crate::config::span::Spanned<String>> {
    match call {
        Node::Call { name, .. } => Some(name),
        _ => None,
    }
}

fn plan_source(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn SourceDriver>, Diagnostic> {
    let ctx = |d: Diagnostic| d.with_context("source");
    let Some(name) = driver_name(call) else {
        return Err(ctx(Diagnostic::new("expected a driver", call.span())));
    };
    match Registry::runs(ObjectKind::Source, &name.value) {
        Some(Runs::Source(plan)) => plan(call, globals, env).map_err(ctx),
        _ => Err(ctx(unsupported_driver(name))),
    }
}

fn plan_dest(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<Box<dyn DestinationDriver>, Diagnostic> {
    let ctx = |d: Diagnostic| d.with_context("destination");
    let Some(name) = driver_name(call) else {
        return Err(ctx(Diagnostic::new("expected a driver", call.span())));
    };
    match Registry::runs(ObjectKind::Destination, &name.value) {
        Some(Runs::Destination(plan)) => plan(call, globals, env).map_err(ctx),
        _ => Err(ctx(unsupported_driver(name))),
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
