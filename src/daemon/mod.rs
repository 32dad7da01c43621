//! The daemon's life cycle around the configuration: check it, go to the background, write
//! the pid file, start what the configuration needs, serve the control socket, and react to
//! signals (SIGHUP reloads, SIGTERM/SIGINT stop).
//!
//! The configuration runs as a graph of actors ([`crate::actors::runtime`]): planned before
//! the daemon detaches (so an unsupported driver is a configuration error on the terminal),
//! started inside the actix system, rebuilt on reload with the listening sockets handed over,
//! and drained on shutdown.

pub mod config_load;
mod control_server;
mod detach;
mod pidfile;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::actors::runtime::graph::{Graph, Handover};
use crate::actors::runtime::plan::{Plan, plan};
use crate::cli::{Args, EXIT_CONFIG_ERROR, EXIT_OK, EXIT_RUNTIME_FAILURE};
use crate::control::{Command, Reply};
use crate::paths::DaemonPaths;
use config_load::{CheckedConfig, load_and_check, load_options};

/// Runs the `sluice` command line and returns the process exit code.
pub fn run(args: Args) -> i32 {
    let paths = DaemonPaths::resolve(
        args.cfgfile.as_deref(),
        args.persist_file.as_deref(),
        args.control.as_deref(),
        args.pidfile.as_deref(),
    );
    let opts = load_options(&args.include_path);
    let config = match load_and_check(&paths.config, &opts) {
        Ok(config) => config,
        Err(err) => {
            eprint!("{}", err.rendered);
            return EXIT_CONFIG_ERROR;
        }
    };
    if let Some(out) = &args.preprocess_into {
        return match std::fs::write(out, config.preprocessed()) {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!(
                    "Error writing preprocessed configuration to {}: {e}",
                    out.display()
                );
                EXIT_RUNTIME_FAILURE
            }
        };
    }
    if args.syntax_only {
        return EXIT_OK;
    }
    let plan = match plan_config(&config) {
        Ok(plan) => plan,
        Err(rendered) => {
            eprint!("{rendered}");
            return EXIT_CONFIG_ERROR;
        }
    };
    if !args.foreground {
        if let Err(e) = detach::detach() {
            eprintln!("Error going to the background: {e}");
            return EXIT_RUNTIME_FAILURE;
        }
    }
    init_logging(&args);
    match Daemon::start(args, paths, config, plan.needs_persist()) {
        Ok(daemon) => daemon.run(plan),
        Err(message) => {
            tracing::error!("{message}");
            EXIT_RUNTIME_FAILURE
        }
    }
}

/// How long each shutdown phase may take: sources stopping, then queues draining.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Plans a checked configuration for the runtime; errors come rendered, with file:line:col.
fn plan_config(config: &CheckedConfig) -> Result<Plan, String> {
    let mut p = plan(&config.model)
        .map_err(|d| crate::config::diagnostic::render_all(&d, &config.loaded.map))?;
    p.locate_hooks(&config.loaded.map);
    Ok(p)
}

/// The daemon's own log: to stderr with `-F`/`-e`, and always into `internal()` (the tracing
/// layer feeding it), as syslog-ng's messages go to its internal() source.
fn init_logging(args: &Args) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, filter::LevelFilter};
    let to_stderr = args.foreground || args.stderr;
    let level = LevelFilter::from_level(args.log_level());
    let fmt = to_stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .with_filter(level)
    });
    let internal = crate::actors::sources::internal::InternalLayer.with_filter(level);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(internal)
        .try_init();
}

/// A running daemon: the current configuration and what it owns.
struct Daemon {
    args: Args,
    paths: DaemonPaths,
    config: Arc<Mutex<CheckedConfig>>,
    /// The persist file, kept from graph to graph (reloads) and flushed at exit. Opened when
    /// a configuration first needs it (a `file()` source's position): sled costs threads and
    /// about a megabyte of memory a daemon without such state should not pay.
    persist: Option<Arc<crate::persist::Persist>>,
    _pidfile: pidfile::PidFile,
}

impl Daemon {
    fn start(
        args: Args,
        paths: DaemonPaths,
        config: CheckedConfig,
        needs_persist: bool,
    ) -> Result<Daemon, String> {
        // Before the pid file: a second sluice on the same persist file must not touch the
        // first one's pid file.
        let persist = if needs_persist {
            Some(Arc::new(
                crate::persist::Persist::open(&paths.persist).map_err(|e| e.to_string())?,
            ))
        } else {
            None
        };
        let pid = pidfile::PidFile::create(&paths.pidfile)
            .map_err(|e| format!("Error creating pid file {}: {e}", paths.pidfile.display()))?;
        if config.uses_python() {
            let info = crate::python::ensure_initialized().map_err(|e| e.to_string())?;
            tracing::info!(
                version = %info.version,
                prefix = %info.prefix,
                "Python interpreter started"
            );
        }
        Ok(Daemon {
            args,
            paths,
            config: Arc::new(Mutex::new(config)),
            persist,
            _pidfile: pid,
        })
    }

    fn run(self, plan: Plan) -> i32 {
        let system = actix_rt::System::new();
        system.block_on(self.serve(plan))
    }

    async fn serve(mut self, plan: Plan) -> i32 {
        let mut handover = Handover {
            persist: self.persist.clone(),
            ..Handover::default()
        };
        let mut graph = match Graph::start(plan, &mut handover) {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::error!("{e}");
                return EXIT_RUNTIME_FAILURE;
            }
        };
        let (tx, mut rx) = mpsc::channel::<control_server::Request>(16);
        let server = match control_server::ControlServer::bind(&self.paths.control, tx) {
            Ok(server) => server,
            Err(e) => {
                tracing::error!(
                    "Error opening control socket {}: {e}",
                    self.paths.control.display()
                );
                return EXIT_RUNTIME_FAILURE;
            }
        };
        let server_task = tokio::spawn(server.serve());
        let signals = (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        let (mut hup, mut term, mut int) = match signals {
            (Ok(h), Ok(t), Ok(i)) => (h, t, i),
            _ => {
                tracing::error!("Error installing signal handlers");
                return EXIT_RUNTIME_FAILURE;
            }
        };
        tracing::info!(version = env!("CARGO_PKG_VERSION"), "sluice starting up");
        loop {
            let exit = graph.as_ref().map(Graph::exit_requested);
            let exit_requested = async {
                match exit {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = exit_requested => break,
                _ = hup.recv() => { self.reload(&mut graph).await; }
                _ = term.recv() => break,
                _ = int.recv() => break,
                Some(req) = rx.recv() => {
                    let reply = match req.command {
                        Command::Reload => self.reload(&mut graph).await,
                        Command::Stats => match &graph {
                            Some(g) => Reply::ok(g.stats()),
                            None => Reply::fail("no configuration is running"),
                        },
                        other => self.handle(other),
                    };
                    if req.command != Command::Stop {
                        let _ = req.reply.send(control_server::Answer { reply, written: None });
                        continue;
                    }
                    let (written, done) = tokio::sync::oneshot::channel();
                    let answer = control_server::Answer { reply, written: Some(written) };
                    if req.reply.send(answer).is_ok() {
                        let _ = tokio::time::timeout(Duration::from_secs(5), done).await;
                    }
                    break;
                }
            }
        }
        tracing::info!("sluice shutting down");
        if let Some(g) = graph.take() {
            drop(g.stop(DRAIN_TIMEOUT, true, &Default::default()).await);
        }
        if let Some(p) = &self.persist
            && let Err(e) = p.flush()
        {
            tracing::error!("{e}");
        }
        server_task.abort();
        let _ = std::fs::remove_file(&self.paths.control);
        EXIT_OK
    }

    fn handle(&self, command: Command) -> Reply {
        match command {
            Command::Stop => Reply::ok("Shutting down"),
            Command::Healthcheck => Reply::ok("healthy"),
            Command::Reload | Command::Stats | Command::Query | Command::Graph => {
                Reply::fail(format!("{} is not supported yet", command.as_str()))
            }
        }
    }

    /// Reads, checks and plans the configuration again; on any error the running graph
    /// stays. Otherwise the old graph is stopped (drained) and the new one started with the
    /// listening sockets handed over. (The ConfigSupervisor will swap only what changed and
    /// keep connections and queue contents: see `actors::runtime::graph`.)
    async fn reload(&mut self, graph: &mut Option<Graph>) -> Reply {
        let opts = load_options(&self.args.include_path);
        let checked = load_and_check(&self.paths.config, &opts).and_then(|new| {
            plan_config(&new)
                .map(|p| (new, p))
                .map_err(|rendered| config_load::ConfigError { rendered })
        });
        match checked {
            Ok((new, new_plan)) => {
                if new.uses_python()
                    && let Err(e) = crate::python::ensure_initialized()
                {
                    tracing::error!("Error reloading configuration: {e}");
                    return Reply::fail(e.to_string());
                }
                if new_plan.needs_persist() && self.persist.is_none() {
                    match crate::persist::Persist::open(&self.paths.persist) {
                        Ok(p) => self.persist = Some(Arc::new(p)),
                        Err(e) => {
                            tracing::error!("Error reloading configuration: {e}");
                            return Reply::fail(e.to_string());
                        }
                    }
                }
                let keep = new_plan.dest_keys();
                let mut handover = match graph.take() {
                    Some(old) => old.stop(DRAIN_TIMEOUT, false, &keep).await,
                    None => Handover::default(),
                };
                handover.persist = self.persist.clone();
                match Graph::start(new_plan, &mut handover) {
                    Ok(g) => *graph = Some(g),
                    Err(e) => {
                        tracing::error!("Error starting the new configuration: {e}");
                        *graph = self
                            .config
                            .lock()
                            .ok()
                            .and_then(|c| plan_config(&c).ok())
                            .and_then(|p| Graph::start(p, &mut handover).ok());
                        return Reply::fail(format!(
                            "Config reload failed, the running configuration is kept: {e}"
                        ));
                    }
                }
                if let Ok(mut current) = self.config.lock() {
                    *current = new;
                }
                tracing::info!("Configuration reload finished");
                Reply::ok("Config reload successful")
            }
            Err(err) => {
                tracing::error!(
                    "Error reloading configuration, keeping the running one:\n{}",
                    err.rendered
                );
                Reply::fail(format!(
                    "Config reload failed, the running configuration is kept:\n{}",
                    err.rendered
                ))
            }
        }
    }
}
