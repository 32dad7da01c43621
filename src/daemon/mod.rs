//! The daemon's life cycle around the configuration: check it, go to the background, write
//! the pid file, start what the configuration needs, serve the control socket, and react to
//! signals (SIGHUP reloads, SIGTERM/SIGINT stop).
//!
//! The message graph (sources, queues, destinations as actors) is built by the runtime issue;
//! until then a valid configuration is held and reloaded, but no messages flow.

pub mod config_load;
mod control_server;
mod detach;
mod pidfile;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

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
    if !args.foreground {
        if let Err(e) = detach::detach() {
            eprintln!("Error going to the background: {e}");
            return EXIT_RUNTIME_FAILURE;
        }
    }
    init_logging(&args);
    match Daemon::start(args, paths, config) {
        Ok(daemon) => daemon.run(),
        Err(message) => {
            tracing::error!("{message}");
            EXIT_RUNTIME_FAILURE
        }
    }
}

fn init_logging(args: &Args) {
    let to_stderr = args.foreground || args.stderr;
    let level = args.log_level();
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if to_stderr {
        let _ = builder.try_init();
    }
}

/// A running daemon: the current configuration and what it owns.
struct Daemon {
    args: Args,
    paths: DaemonPaths,
    config: Arc<Mutex<CheckedConfig>>,
    _pidfile: pidfile::PidFile,
}

impl Daemon {
    fn start(args: Args, paths: DaemonPaths, config: CheckedConfig) -> Result<Daemon, String> {
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
            _pidfile: pid,
        })
    }

    fn run(self) -> i32 {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::error!("Error starting the runtime: {e}");
                return EXIT_RUNTIME_FAILURE;
            }
        };
        runtime.block_on(self.serve())
    }

    async fn serve(self) -> i32 {
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
        tracing::warn!(
            "the message runtime is not built yet: the configuration is checked and held, \
             but its sources and destinations are not started"
        );
        loop {
            tokio::select! {
                _ = hup.recv() => { self.reload(); }
                _ = term.recv() => break,
                _ = int.recv() => break,
                Some(req) = rx.recv() => {
                    let reply = self.handle(req.command);
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
        server_task.abort();
        let _ = std::fs::remove_file(&self.paths.control);
        EXIT_OK
    }

    fn handle(&self, command: Command) -> Reply {
        match command {
            Command::Reload => self.reload(),
            Command::Stop => Reply::ok("Shutting down"),
            Command::Healthcheck => Reply::ok("healthy"),
            Command::Stats | Command::Query | Command::Graph => Reply::fail(format!(
                "{} is not supported yet: the message runtime does not exist yet",
                command.as_str()
            )),
        }
    }

    /// Reads and checks the configuration again; on any error the running one stays.
    fn reload(&self) -> Reply {
        let opts = load_options(&self.args.include_path);
        match load_and_check(&self.paths.config, &opts) {
            Ok(new) => {
                if new.uses_python()
                    && let Err(e) = crate::python::ensure_initialized()
                {
                    tracing::error!("Error reloading configuration: {e}");
                    return Reply::fail(e.to_string());
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
