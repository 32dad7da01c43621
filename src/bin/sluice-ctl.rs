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
    /// Read a disk-buffer without the daemon (like syslog-ng's dqtool).
    Dq {
        #[command(subcommand)]
        what: DqCmd,
    },
}

#[derive(Debug, Clone, Subcommand)]
enum DqCmd {
    /// Records, bytes, the saved position and the health of each segment.
    Info {
        /// A segment (`….sqd`) or position (`….pos`) file of the buffer.
        file: PathBuf,
    },
    /// The messages not yet acknowledged, oldest first, one line each.
    Cat {
        /// A segment (`….sqd`) or position (`….pos`) file of the buffer.
        file: PathBuf,
        /// How to print each message (a syslog-ng template).
        #[arg(long, default_value = "$DATE $HOST $MSGHDR$MSG")]
        template: String,
    },
}

fn main() {
    let args = Args::parse();
    if let Cmd::Dq { what } = &args.command {
        std::process::exit(dq::run(what));
    }
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
        Cmd::Dq { .. } => return,
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

/// `sluice-ctl dq`: the disk-buffer files, read without the daemon.
mod dq {
    use std::io::Write;

    use sluice::actors::runtime::queue::disk::inspect::{self, Health};
    use sluice::template::{DaemonInfo, RenderContext, Template, TemplateOptions};

    use super::DqCmd;

    pub(super) fn run(what: &DqCmd) -> i32 {
        match what {
            DqCmd::Info { file } => match inspect::info(file) {
                Ok(i) => {
                    println!("buffer: {}/{}", i.dir.display(), i.base);
                    match i.position {
                        Some((seg, off)) => println!("position: segment {seg}, offset {off}"),
                        None => println!("position: none (read from the first segment)"),
                    }
                    for s in &i.segments {
                        let health = match &s.health {
                            Health::Ok => "ok".to_string(),
                            Health::TornAt(at) => format!("torn tail at offset {at}"),
                            Health::DamagedAt(at) => format!("damaged at offset {at}"),
                            Health::BadHeader(e) => format!("unusable: {e}"),
                        };
                        println!(
                            "segment: {} bytes={} records={} health={health}",
                            s.path.display(),
                            s.bytes,
                            s.records
                        );
                    }
                    println!(
                        "records: {} health: {}",
                        i.records(),
                        if i.healthy() { "ok" } else { "damaged" }
                    );
                    if i.healthy() { 0 } else { 1 }
                }
                Err(e) => {
                    eprintln!("sluice-ctl: {e}");
                    2
                }
            },
            DqCmd::Cat { file, template } => {
                let t = match Template::new(&format!("{template}\n")) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("sluice-ctl: bad template: {e}");
                        return 2;
                    }
                };
                let (options, daemon) = (TemplateOptions::default(), DaemonInfo::default());
                let ctx = RenderContext::new(&options, &daemon);
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                let mut bad = 0;
                let mut line = Vec::new();
                let read = inspect::messages(file, |m| match m {
                    Ok(m) => {
                        line.clear();
                        t.render(&m, &ctx, &mut line);
                        let _ = out.write_all(&line);
                    }
                    Err(e) => {
                        bad += 1;
                        eprintln!("sluice-ctl: a record does not decode: {e}");
                    }
                });
                let _ = out.flush();
                match read {
                    Ok(i) if i.healthy() && bad == 0 => 0,
                    Ok(_) => 1,
                    Err(e) => {
                        eprintln!("sluice-ctl: {e}");
                        2
                    }
                }
            }
        }
    }
}
