//! The daemon's life cycle around the configuration: check it, go to the background, write
//! the pid file, start what the configuration needs, serve the control socket, and react to
//! signals (SIGHUP reloads, SIGTERM/SIGINT stop).
//!
//! The configuration runs as a graph of components owned by the ConfigSupervisor actor
//! ([`crate::actors::runtime::supervisor`]): planned before the daemon detaches (so an
//! unsupported driver is a configuration error on the terminal), started inside the actix
//! system. This module reads and checks configurations and hands plans to the supervisor;
//! the supervisor decides what a reload keeps, hands over and drains.

mod commands;
pub mod config_load;
mod control_server;
mod detach;
mod log_flags;
mod metrics_http;
mod pidfile;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use std::path::PathBuf;

use actix::Actor;
use tokio::sync::Notify;

use crate::actors::runtime::plan::{Plan, plan, python_plan};
use crate::actors::runtime::supervisor::{ConfigSupervisor, ExitSignal, Reload, Shutdown, Start};
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
    let config_dir = paths.config.parent().map(PathBuf::from);
    if args.syntax_only {
        // A syntax check predicts the start: what the runtime would refuse (a driver or an
        // option it cannot run, a port that is no number) is refused here too. Planning has
        // no side effects. Like syslog-ng, it then runs the `python {}` blocks.
        if let Err(rendered) = plan_config(&config, &paths.persist) {
            eprint!("{rendered}");
            return EXIT_CONFIG_ERROR;
        }
        return match python_plan(&config.model)
            .check_blocks(&config.loaded.map, config_dir.as_deref())
        {
            Ok(()) => EXIT_OK,
            Err(e) => {
                let e = python_start_error(e, &config);
                eprintln!("{e}");
                e.exit_code()
            }
        };
    }
    let mut plan = match plan_config(&config, &paths.persist) {
        Ok(plan) => plan,
        Err(rendered) => {
            eprint!("{rendered}");
            return EXIT_CONFIG_ERROR;
        }
    };
    let mut startup = if args.foreground {
        detach::Startup::foreground()
    } else {
        match detach::detach() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("Error going to the background: {e}");
                return EXIT_RUNTIME_FAILURE;
            }
        }
    };
    init_logging(&args);
    let needs_persist = wants_persist(&plan, &config);
    let started = Daemon::start(args, paths, config, needs_persist).and_then(|daemon| {
        let bound = match daemon.config.lock() {
            Ok(c) => bind_python(&mut plan, &c, config_dir.as_deref()),
            Err(p) => bind_python(&mut plan, &p.into_inner(), config_dir.as_deref()),
        };
        bound.map(|()| daemon)
    });
    match started {
        Ok(daemon) => daemon.run(plan, startup),
        Err(e) => {
            let message = e.to_string();
            tracing::error!("{message}");
            startup.fail(&message, e.exit_code());
            e.exit_code()
        }
    }
}

/// Why the daemon could not start (after the configuration was accepted).
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Persist(#[from] crate::persist::PersistError),
    #[error("Error creating pid file {}: {error}", path.display())]
    PidFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Python(#[from] crate::python::PythonInitError),
    /// The Python parts of the configuration did not bind (rendered diagnostics).
    #[error("Error initializing the Python parts of the configuration:\n{0}")]
    PythonConfig(String),
    /// A `python {}` block failed (rendered diagnostics): a configuration error.
    #[error("{}", .0.trim_end())]
    PythonBlock(String),
}

impl StartError {
    /// syslog-ng's exit codes: an error in the configuration's text (a `python {}` block
    /// that fails, which syslog-ng finds while parsing) is 1, any other failure to start 2.
    fn exit_code(&self) -> i32 {
        match self {
            StartError::PythonBlock(_) => EXIT_CONFIG_ERROR,
            _ => EXIT_RUNTIME_FAILURE,
        }
    }
}

/// Whether a configuration needs the persist file: a driver keeps state there, or its Python
/// code may (`syslogng.Persist`, usable from any `init()` on).
fn wants_persist(plan: &Plan, config: &CheckedConfig) -> bool {
    plan.needs_persist() || config.uses_python()
}

/// Runs the configuration's `python {}` blocks and binds its Python drivers, parsers and
/// template functions (after the fork: see [`crate::python::binding`]).
fn bind_python(
    plan: &mut Plan,
    config: &CheckedConfig,
    config_dir: Option<&std::path::Path>,
) -> Result<(), StartError> {
    plan.python
        .bind(&config.loaded.map, config_dir)
        .map_err(|e| python_start_error(e, config))
}

/// A binding failure as the daemon reports it (diagnostics rendered against `config`).
fn python_start_error(e: crate::python::BindError, config: &CheckedConfig) -> StartError {
    use crate::python::BindError;
    let render = |d: &[crate::config::diagnostic::Diagnostic]| {
        crate::config::diagnostic::render_all(d, &config.loaded.map)
    };
    match e {
        BindError::Interpreter(e) => StartError::Python(e),
        BindError::Block(diags) => StartError::PythonBlock(render(&diags)),
        BindError::Config(diags) => StartError::PythonConfig(render(&diags)),
    }
}

/// How long each shutdown phase may take: sources stopping, then queues draining.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Plans a checked configuration for the runtime; errors come rendered, with file:line:col.
/// Disk-buffers without `dir()` go next to the persist file (`persist`).
fn plan_config(config: &CheckedConfig, persist: &std::path::Path) -> Result<Plan, String> {
    let mut p = plan(&config.model)
        .map_err(|d| crate::config::diagnostic::render_all(&d, &config.loaded.map))?;
    p.locate(&config.loaded.map);
    p.disk_dir = match persist.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    Ok(p)
}

/// The daemon's own log: to stderr with `-F`/`-e`, and always into `internal()` (the tracing
/// layer feeding it), as syslog-ng's messages go to its internal() source.
fn init_logging(args: &Args) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let to_stderr = args.foreground || args.stderr;
    let level = log_flags::install(args.verbose, args.debug, args.trace);
    let fmt = to_stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
    });
    let _ = tracing_subscriber::registry()
        .with(level)
        .with(fmt)
        .with(crate::actors::sources::internal::InternalLayer)
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
    ) -> Result<Daemon, StartError> {
        // Before the pid file: a second sluice on the same persist file must not touch the
        // first one's pid file.
        let persist = if needs_persist {
            Some(Arc::new(crate::persist::Persist::open_or_start_afresh(
                &paths.persist,
            )?))
        } else {
            None
        };
        crate::python::persist::set_store(persist.clone());
        let pid =
            pidfile::PidFile::create(&paths.pidfile).map_err(|error| StartError::PidFile {
                path: paths.pidfile.clone(),
                error,
            })?;
        if config.uses_python() {
            let info = crate::python::ensure_initialized()?;
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

    fn run(self, plan: Plan, startup: detach::Startup) -> i32 {
        let system = actix_rt::System::new();
        system.block_on(self.serve(plan, startup))
    }

    async fn serve(mut self, plan: Plan, mut startup: detach::Startup) -> i32 {
        // A start that fails is logged and, in the background, reported to the waiting parent.
        let mut failed = |message: String| {
            tracing::error!("{message}");
            startup.fail(&message, EXIT_RUNTIME_FAILURE);
            EXIT_RUNTIME_FAILURE
        };
        let sup = ConfigSupervisor::default().start();
        let started = sup
            .send(Start {
                plan,
                persist: self.persist.clone(),
            })
            .await;
        match started {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return failed(e.to_string()),
            Err(e) => return failed(format!("Error starting the configuration: {e}")),
        }
        let (tx, mut rx) = mpsc::channel::<control_server::Request>(16);
        let server = match control_server::ControlServer::bind(&self.paths.control, tx) {
            Ok(server) => server,
            Err(e) => {
                return failed(format!(
                    "Error opening control socket {}: {e}",
                    self.paths.control.display()
                ));
            }
        };
        let server_task = tokio::spawn(server.serve());
        let metrics_task = match self.args.metrics_listen {
            None => None,
            Some(addr) => match metrics_http::bind(addr).await {
                Ok(l) => Some(tokio::spawn(metrics_http::serve(l, sup.clone()))),
                Err(e) => return failed(format!("Error binding the metrics address {addr}: {e}")),
            },
        };
        let signals = (
            signal(SignalKind::hangup()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        let (mut hup, mut term, mut int) = match signals {
            (Ok(h), Ok(t), Ok(i)) => (h, t, i),
            _ => return failed("Error installing signal handlers".to_string()),
        };
        startup.ok();
        let exit = sup.send(ExitSignal).await.ok();
        tracing::info!(version = env!("CARGO_PKG_VERSION"), "sluice starting up");
        loop {
            let exit_requested = async {
                match &exit {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = exit_requested => break,
                _ = hup.recv() => self.reload(&sup, false, None, None),
                _ = term.recv() => break,
                _ = int.recv() => break,
                Some(req) = rx.recv() => {
                    let reply = match req.command {
                        Command::Reload { check, file } => {
                            self.reload(&sup, check, file, Some(req.reply));
                            continue;
                        }
                        Command::Stop => Reply::ok("Shutdown initiated"),
                        other => {
                            let cx = commands::Cx { sup: &sup, config: &self.config, stopping: false };
                            let reply = commands::answer(&cx, &other).await;
                            let _ = req.reply.send(control_server::Answer::now(reply));
                            continue;
                        }
                    };
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
        // The drain runs in the supervisor; the control socket keeps answering (stats show
        // the drain progress) and a second SIGTERM/SIGINT (or STOP) ends it at once.
        let abort = Arc::new(Notify::new());
        let mut stopping = std::pin::pin!(sup.send(Shutdown {
            drain: DRAIN_TIMEOUT,
            abort: abort.clone(),
        }));
        let report = loop {
            tokio::select! {
                r = &mut stopping => break r.unwrap_or_default(),
                _ = term.recv() => abort.notify_one(),
                _ = int.recv() => abort.notify_one(),
                _ = hup.recv() => tracing::warn!("Shutting down, the reload is ignored"),
                Some(req) = rx.recv() => {
                    let reply = match req.command {
                        Command::Stop => {
                            abort.notify_one();
                            Reply::ok("Shutdown initiated, the drain is cut short")
                        }
                        Command::Reload { .. } => Reply::fail("The daemon is shutting down"),
                        other => {
                            let cx = commands::Cx { sup: &sup, config: &self.config, stopping: true };
                            commands::answer(&cx, &other).await
                        }
                    };
                    let _ = req.reply.send(control_server::Answer::now(reply));
                }
            }
        };
        if let Some(p) = &self.persist
            && let Err(e) = p.flush()
        {
            tracing::error!("{e}");
        }
        tracing::info!(undelivered = report.undelivered, "sluice stopped");
        server_task.abort();
        if let Some(t) = metrics_task {
            t.abort();
        }
        let _ = std::fs::remove_file(&self.paths.control);
        EXIT_OK
    }

    /// Reads, checks and plans the configuration (`file`, else the daemon's own), then — on
    /// a task of its own, so the daemon loop goes on answering the control socket — binds
    /// its Python code and hands it to the supervisor; any error keeps the running graph as
    /// it is, and `reply` gets the outcome. With `check`, the supervisor only says what the
    /// reload would do to each component.
    fn reload(
        &mut self,
        sup: &actix::Addr<ConfigSupervisor>,
        check: bool,
        file: Option<PathBuf>,
        reply: Option<tokio::sync::oneshot::Sender<control_server::Answer>>,
    ) {
        let answer = |reply: Option<tokio::sync::oneshot::Sender<control_server::Answer>>,
                      r: Reply| {
            if let Some(tx) = reply {
                let _ = tx.send(control_server::Answer {
                    reply: r,
                    written: None,
                });
            }
        };
        match self.prepare_reload(check, file) {
            Err(r) => answer(reply, r),
            Ok((new, plan, dir)) => {
                let (sup, config, persist) =
                    (sup.clone(), self.config.clone(), self.persist.clone());
                actix_rt::spawn(async move {
                    let mut plan = plan;
                    // Python sources with ack trackers hand over first (their bookmarks
                    // reported), so that the new objects' init() reads the final positions.
                    let paused = match check {
                        false => Some(crate::actors::sources::python::pause_for_reload().await),
                        true => None,
                    };
                    let r = match check {
                        false => bind_for_reload(&mut plan, &new, dir.as_deref()),
                        true => Ok(()),
                    };
                    let r = match r {
                        Ok(()) => apply_reload(&sup, new, plan, persist, check, &config).await,
                        Err(r) => r,
                    };
                    drop(paused);
                    answer(reply, r);
                });
            }
        }
    }

    /// The checks of a reload that need the daemon: the configuration, Python, the persist
    /// file. Errors come as the reply, the running graph untouched.
    fn prepare_reload(
        &mut self,
        check: bool,
        file: Option<PathBuf>,
    ) -> Result<(CheckedConfig, Plan, Option<PathBuf>), Reply> {
        let opts = load_options(&self.args.include_path);
        let path = file.unwrap_or_else(|| self.paths.config.clone());
        let checked = load_and_check(&path, &opts).and_then(|new| {
            plan_config(&new, &self.paths.persist)
                .map(|p| (new, p))
                .map_err(|rendered| config_load::ConfigError { rendered })
        });
        let (new, new_plan) = match checked {
            Ok(v) => v,
            Err(err) => {
                tracing::error!(
                    "Error reloading configuration, keeping the running one:\n{}",
                    err.rendered
                );
                // syslog-ng's reply, then the diagnostic it only logs.
                return Err(Reply::fail(format!(
                    "Syntax error parsing configuration file, previous config remained \
                     intact\n{}",
                    err.rendered
                )));
            }
        };
        if !check {
            // Before binding: the new Python objects' init() may use Persist.
            if wants_persist(&new_plan, &new) && self.persist.is_none() {
                match crate::persist::Persist::open_or_start_afresh(&self.paths.persist) {
                    Ok(p) => {
                        let p = Arc::new(p);
                        crate::python::persist::set_store(Some(p.clone()));
                        self.persist = Some(p);
                    }
                    Err(e) => {
                        tracing::error!("Error reloading configuration: {e}");
                        return Err(Reply::fail(e.to_string()));
                    }
                }
            }
        }
        Ok((new, new_plan, path.parent().map(PathBuf::from)))
    }
}

/// Binds a reload's Python code; an error is the reload's reply.
fn bind_for_reload(
    plan: &mut Plan,
    new: &CheckedConfig,
    dir: Option<&std::path::Path>,
) -> Result<(), Reply> {
    bind_python(plan, new, dir).map_err(|e| {
        tracing::error!("Error reloading configuration, keeping the running one: {e}");
        Reply::fail(format!(
            "Error initializing new configuration, previous config remained intact\n{e}"
        ))
    })
}

/// Hands a checked plan to the supervisor (which applies one reload at a time) and says how
/// it went; on success the configuration becomes the daemon's.
async fn apply_reload(
    sup: &actix::Addr<ConfigSupervisor>,
    new: CheckedConfig,
    plan: Plan,
    persist: Option<Arc<crate::persist::Persist>>,
    check: bool,
    config: &Mutex<CheckedConfig>,
) -> Reply {
    let sent = sup
        .send(Reload {
            plan,
            persist,
            check_only: check,
        })
        .await;
    match sent {
        Ok(Ok(changes)) if check => Reply::ok(format!("{changes}")),
        Ok(Ok(_)) => {
            if let Ok(mut current) = config.lock() {
                *current = new;
            }
            Reply::ok("Config reload successful")
        }
        Ok(Err(e)) => {
            tracing::error!("Error reloading configuration, keeping the running one: {e}");
            Reply::fail(format!(
                "Config reload failed, reverted to previous config\n{e}"
            ))
        }
        Err(e) => Reply::fail(format!("Config reload failed: {e}")),
    }
}
