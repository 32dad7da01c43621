//! `sluice-ctl`: the control client, like syslog-ng-ctl. It sends one command to the daemon's
//! control socket (`-c`, the same path the daemon was given) and prints the reply.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sluice::control::{self, Command};
use sluice::paths::DaemonPaths;

#[derive(Debug, Parser)]
#[command(
    name = "sluice-ctl",
    version,
    about = "Control a running sluice daemon"
)]
struct Args {
    /// Control socket of the daemon [default: <state dir>/sluice.ctl].
    #[arg(short = 'c', long = "control", value_name = "SOCKET", global = true)]
    control: Option<PathBuf>,

    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 30, global = true)]
    timeout: u64,

    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Clone, Subcommand)]
enum Cmd {
    /// Re-read the configuration; on error the running one is kept.
    Reload {
        /// Only print what the reload would do to each component (kept, handed over,
        /// replaced, added, removed), without applying it.
        #[arg(long)]
        check: bool,
        /// With --check: the configuration file to compare (default: the daemon's own).
        #[arg(requires = "check")]
        file: Option<PathBuf>,
    },
    /// Stop the daemon.
    Stop,
    /// Check that the daemon answers.
    Healthcheck,
    /// Print the counters of every source, queue and destination.
    Stats,
    /// Query counters by name.
    Query,
    /// Print the live graph of actors with queue depths.
    Graph,
}

fn main() {
    let args = Args::parse();
    let mut extra = String::new();
    let command = match &args.command {
        Cmd::Reload { check, file } => {
            if *check {
                extra.push_str("--check");
                if let Some(f) = file {
                    // The daemon reads the file: give it a path it can resolve.
                    let f = std::path::absolute(f).unwrap_or_else(|_| f.clone());
                    extra.push(' ');
                    extra.push_str(&f.to_string_lossy());
                }
            }
            Command::Reload
        }
        Cmd::Stop => Command::Stop,
        Cmd::Healthcheck => Command::Healthcheck,
        Cmd::Stats => Command::Stats,
        Cmd::Query => Command::Query,
        Cmd::Graph => Command::Graph,
    };
    let socket = DaemonPaths::resolve(None, None, args.control.as_deref(), None).control;
    match control::send_with(&socket, command, &extra, Duration::from_secs(args.timeout)) {
        Ok(reply) => {
            println!("{}", reply.text);
            std::process::exit(if reply.ok { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("sluice-ctl: {e}");
            std::process::exit(2);
        }
    }
}
