//! From a checked configuration to a [`Plan`]: every source and destination driver with the
//! options it runs with, the compiled log paths, and which deliveries are flow-controlled.
//!
//! Planning has no side effects (no socket is bound, no file opened), so the daemon plans
//! before it goes to the background — an unsupported driver or option is a configuration
//! error at `file:line:col` with exit code 1 — and a reload plans the new configuration while
//! the old graph keeps running. Anything the runtime cannot do yet is refused here, by name:
//! nothing in a configuration is silently ignored.

use std::sync::Arc;
use std::time::Instant;

use super::hooks::DriverHooks;
use crate::actors::destinations::common::TemplateOptions as DestTemplateOptions;
use crate::actors::destinations::file::{FileDestPlan, FileDestinationOptions, plan_file};
use crate::actors::destinations::pipe::{PipeDestPlan, PipeDestinationOptions, plan_pipe};
use crate::actors::destinations::program::{
    ProgramDestPlan, ProgramDestinationOptions, plan_program,
};
use crate::actors::destinations::pseudofile::{
    PseudofileDestPlan, PseudofileDestinationOptions, plan_pseudofile,
};
use crate::actors::destinations::socket::{self, SocketDestPlan};
use crate::actors::destinations::writer::WriterPlan;
use crate::actors::registry::Registry;
use crate::actors::sources::common::{
    DriverOptions, HookCommands, ReaderOptions, SourceOptions, option_node,
};
use crate::actors::sources::internal::InternalSourceOptions;
use crate::actors::sources::line_source::{self, LinesPlan};
use crate::actors::sources::listener::StreamListenPlan;
use crate::actors::sources::net_plan::{NetSource, plan_net_source};
use crate::actors::sources::network::{
    NetworkSourceOptions, TcpSourceOptions, listen_plan_network, listen_plan_tcp,
};
use crate::config::ast::{Node, keyword_eq};
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;
use crate::config::model::{Model, Object, ObjectItem};
use crate::config::span::{SourceMap, Span};
use crate::message::LocalHost;
use crate::pipeline::{BuildEnv, Router, SourceId};
use crate::template::DaemonInfo;

use super::settings;

/// A source driver, ready to start. (Built once per configuration, so the size difference
/// between variants costs nothing.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum SourceDriver {
    /// A stream listener (`network()`, `syslog()`, `tcp()`, `tcp6()` over TCP).
    Stream {
        listen: StreamListenPlan,
        /// Parse flags the driver itself sets (`syslog()`: RFC 5424).
        extra_flags: u32,
        source: SourceOptions,
        reader: ReaderOptions,
    },
    /// `internal()`.
    Internal { source: SourceOptions },
    /// A datagram source (`udp()`, `udp6()`, `network()`/`syslog()` over UDP, `unix-dgram()`)
    /// or `unix-stream()`: see `actors::sources::net_plan` and `runtime::net`.
    Net(NetSource),
    /// A file-like source: `file()`, `pipe()`, `stdin()` (see `sources::line_source`).
    Lines {
        lines: LinesPlan,
        source: SourceOptions,
        reader: ReaderOptions,
    },
}

/// One source driver of a source object.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    pub object: String,
    pub id: SourceId,
    pub driver: SourceDriver,
}

/// A destination driver, ready to start: its sink's plan (the writer settings are inside).
#[derive(Debug, Clone)]
pub enum DestDriver {
    File(FileDestPlan),
    Program(ProgramDestPlan),
    Pipe(PipeDestPlan),
    Pseudofile(PseudofileDestPlan),
    /// `network()`, `syslog()`, `tcp()`, `tcp6()`, `udp()`, `udp6()`, `unix-stream()`,
    /// `unix-dgram()`.
    Socket(SocketDestPlan),
}

impl DestDriver {
    /// The settings of its writer loop.
    pub fn writer(&self) -> &WriterPlan {
        match self {
            DestDriver::File(p) => &p.writer,
            DestDriver::Program(p) => &p.writer,
            DestDriver::Pipe(p) => &p.writer,
            DestDriver::Pseudofile(p) => &p.writer,
            DestDriver::Socket(p) => &p.writer,
        }
    }

    /// `log-fifo-size()`.
    pub fn fifo_size(&self) -> usize {
        self.writer().fifo_size
    }
}

/// One destination driver of a destination object (a queue slot).
#[derive(Debug, Clone)]
pub struct DestPlan {
    pub object: String,
    /// syslog-ng's driver id, `OBJECT#INDEX` (`d#0`: the first driver of destination `d`);
    /// it also matches this driver with the same one in the next configuration on reload,
    /// so its queued messages move over.
    pub key: String,
    pub driver: DestDriver,
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
}

/// A driver's `hook-commands()` and where the driver is (rendered into a location once the
/// source map is at hand: [`Plan::locate_hooks`]).
#[derive(Debug, Clone)]
pub struct PlannedHooks {
    pub hooks: DriverHooks,
    pub span: Span,
}

impl Plan {
    /// Fills in the `file:line:col` of every driver with hooks (syslog-ng names it when a
    /// hook fails).
    pub fn locate_hooks(&mut self, map: &SourceMap) {
        for h in &mut self.hooks {
            if let Some(f) = map.file(h.span.file) {
                let (line, col) = f.line_col(h.span.start as usize);
                h.hooks.location = format!("{}:{line}:{col}", f.path.display());
            }
        }
    }

    /// Whether a component keeps state in the persist file (a `file()` source's position).
    pub fn needs_persist(&self) -> bool {
        self.sources
            .iter()
            .any(|s| matches!(s.driver, SourceDriver::Lines { .. }))
    }

    /// The keys of the destination drivers (see [`DestPlan::key`]).
    pub fn dest_keys(&self) -> std::collections::HashSet<String> {
        self.dests.iter().map(|d| d.key.clone()).collect()
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

fn check_object(o: &Object, errors: &mut Vec<Diagnostic>) {
    for item in &o.items {
        if let ObjectItem::Channel(p) = item {
            errors.push(Diagnostic::new(
                format!(
                    "channels inside {} objects are not supported by the runtime yet",
                    o.kind.keyword()
                ),
                p.span,
            ));
        }
    }
}

/// Plans `model` (which passed the configuration checks).
pub fn plan(model: &Model) -> Result<Plan, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let globals = Registry::global_options(&model.global_options).map_err(|d| vec![d])?;
    let env = BuildEnv::new(model);
    let mut router = Router::build(model, &env)?;
    let local_host = LocalHost::detect();
    let daemon = Arc::new(DaemonInfo {
        local_host: local_host.clone(),
        run_id: 1,
        host_id: 0,
        started: Instant::now(),
        local_zone: jiff::tz::TimeZone::system(),
    });
    router.set_render_options(
        settings::template_options(&DestTemplateOptions::default(), &globals),
        daemon.clone(),
    );

    let mut sources = Vec::new();
    let mut hooks = Vec::new();
    for o in &model.sources {
        check_object(o, &mut errors);
        let Some(id) = router.source_id(&o.name.value) else {
            continue;
        };
        for (i, call) in o.drivers().enumerate() {
            hooks.extend(hooks_of(call, &o.name.value, i));
            match plan_source(call, &globals) {
                Ok(driver) => sources.push(SourcePlan {
                    object: o.name.value.clone(),
                    id,
                    driver,
                }),
                Err(d) => errors.push(d),
            }
        }
    }

    errors.extend(line_source::duplicate_persist_names(&sources));

    let mut dests = Vec::new();
    // Persist names of socket destinations: their kept connections are handed over by it.
    let mut socket_names: std::collections::HashMap<String, String> = Default::default();
    let mut slots = vec![Vec::new(); router.destinations().len()];
    for o in &model.destinations {
        check_object(o, &mut errors);
        let Some(id) = router.dest_id(&o.name.value) else {
            continue;
        };
        for (i, call) in o.drivers().enumerate() {
            hooks.extend(hooks_of(call, &o.name.value, i));
            match plan_dest(call, &globals, &env) {
                Ok(driver) => {
                    if let DestDriver::Socket(p) = &driver {
                        if let Some(first) = socket_names.get(&p.persist_name) {
                            errors.push(conflicting_persist_name(&p.persist_name, first, call));
                        } else {
                            socket_names.insert(p.persist_name.clone(), o.name.value.clone());
                        }
                    }
                    if let Some(s) = slots.get_mut(id.0 as usize) {
                        s.push(dests.len());
                    }
                    dests.push(DestPlan {
                        object: o.name.value.clone(),
                        key: format!("{}#{i}", o.name.value),
                        driver,
                    });
                }
                Err(d) => errors.push(d),
            }
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
    })
}

fn plan_source(call: &Node, globals: &GlobalOptions) -> Result<SourceDriver, Diagnostic> {
    let Node::Call { name, .. } = call else {
        return Err(Diagnostic::new("expected a driver", call.span()));
    };
    let n = name.value.as_str();
    let ctx = |d: Diagnostic| d.with_context("source");
    if let Some(net) = plan_net_source(call, globals).map_err(ctx)? {
        return Ok(SourceDriver::Net(net));
    }
    if keyword_eq(n, "network") || keyword_eq(n, "syslog") {
        let o = NetworkSourceOptions::from_call(call).map_err(ctx)?;
        let (listen, extra_flags) =
            listen_plan_network(&o, keyword_eq(n, "syslog"), call, globals).map_err(ctx)?;
        return Ok(SourceDriver::Stream {
            listen,
            extra_flags,
            source: o.source,
            reader: o.reader,
        });
    }
    if keyword_eq(n, "tcp") || keyword_eq(n, "tcp6") {
        let o = TcpSourceOptions::from_call(call).map_err(ctx)?;
        let listen = listen_plan_tcp(&o, keyword_eq(n, "tcp6"), call, globals).map_err(ctx)?;
        return Ok(SourceDriver::Stream {
            listen,
            extra_flags: 0,
            source: o.source,
            reader: o.reader,
        });
    }
    if keyword_eq(n, "internal") {
        let o = InternalSourceOptions::from_call(call).map_err(ctx)?;
        return Ok(SourceDriver::Internal { source: o.source });
    }
    if ["file", "pipe", "stdin"].iter().any(|k| keyword_eq(n, k)) {
        return line_source::plan_driver(call, globals).map_err(ctx);
    }
    Err(ctx(unsupported_driver(name)))
}

fn plan_dest(
    call: &Node,
    globals: &GlobalOptions,
    env: &BuildEnv<'_>,
) -> Result<DestDriver, Diagnostic> {
    let Node::Call { name, .. } = call else {
        return Err(Diagnostic::new("expected a driver", call.span()));
    };
    let ctx = |d: Diagnostic| d.with_context("destination");
    if keyword_eq(&name.value, "file") {
        let o = FileDestinationOptions::from_call(call).map_err(ctx)?;
        return Ok(DestDriver::File(
            plan_file(&o, call, globals, env).map_err(ctx)?,
        ));
    }
    if keyword_eq(&name.value, "program") {
        let o = ProgramDestinationOptions::from_call(call).map_err(ctx)?;
        let p = plan_program(&o, call, globals, env).map_err(ctx)?;
        return Ok(DestDriver::Program(p));
    }
    if keyword_eq(&name.value, "pipe") {
        let o = PipeDestinationOptions::from_call(call).map_err(ctx)?;
        return Ok(DestDriver::Pipe(
            plan_pipe(&o, call, globals, env).map_err(ctx)?,
        ));
    }
    if keyword_eq(&name.value, "pseudofile") {
        let o = PseudofileDestinationOptions::from_call(call).map_err(ctx)?;
        let p = plan_pseudofile(&o, call, globals, env).map_err(ctx)?;
        return Ok(DestDriver::Pseudofile(p));
    }
    if let Some(p) = socket::plan(call, globals, env) {
        return p.map(DestDriver::Socket).map_err(ctx);
    }
    Err(ctx(unsupported_driver(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::{LoadOptions, load_str};

    fn try_plan(body: &str) -> Result<Plan, Vec<Diagnostic>> {
        let text = format!("@version: 3.38\n{body}");
        let loaded = load_str("t.conf", &text, &LoadOptions::default()).expect("config");
        let model = crate::config::model::build(&loaded.ast).expect("model");
        plan(&model)
    }

    #[test]
    fn plans_tcp_to_file() {
        let p = try_plan(
            "source s { network(port(5140)); internal(); };\n\
             destination d { file(\"/tmp/x\"); file(\"/tmp/y\"); };\n\
             log { source(s); destination(d); flags(flow-control); };\n",
        )
        .map_err(|e| format!("{e:?}"))
        .expect("plan");
        assert_eq!(p.sources.len(), 2);
        assert_eq!(p.dests.len(), 2);
        assert_eq!(p.slots, vec![vec![0, 1]]);
    }

    #[test]
    fn refuses_what_the_runtime_lacks_by_name() {
        let e = try_plan(
            "source s { python-fetcher(class(\"a.B\")); };\ndestination d { usertty(\"root\"); };\n\
             log { source(s); destination(d); };\n",
        )
        .err()
        .unwrap_or_default();
        let msgs: Vec<_> = e.iter().map(|d| d.message.as_str()).collect();
        assert!(msgs.contains(&"driver `python-fetcher` is not supported by the runtime yet"));
        assert!(msgs.contains(&"driver `usertty` is not supported by the runtime yet"));
        let e = try_plan(
            "source s { network(transport(proxied-tcp)); };\n\
             destination d { file(\"/var/x\"); };\nlog { source(s); destination(d); };\n",
        )
        .err()
        .unwrap_or_default();
        let msgs: Vec<_> = e.iter().map(|d| d.message.as_str()).collect();
        assert!(msgs.contains(&"transport(proxied-tcp) is not supported by the runtime yet"));
    }

    #[test]
    fn two_socket_destinations_with_one_persist_name_are_refused() {
        let body = "source s { internal(); };\n\
             destination a { network(\"127.0.0.1\" port(5999)); };\n\
             destination b { network(\"127.0.0.1\" port(5999)); };\n\
             destination c { network(\"127.0.0.1\" port(5999) persist-name(\"c\")); };\n\
             log { source(s); destination(a); destination(b); destination(c); };\n";
        let e = try_plan(body).err().unwrap_or_default();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            e[0].message,
            "conflicting persist names: `afsocket_dd.(stream,127.0.0.1:5999)` is used by two \
             destinations; give one of them a persist-name()"
        );
        assert_eq!(e[0].notes, vec!["the other one is in destination `a`"]);
    }
}
