//! `sluice-ctl`: the control client, like syslog-ng-ctl. It sends one command to the daemon's
//! control socket (`-c`, the same path the daemon was given) and prints the reply.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sluice::control::{self, Command, GraphForm, LogFlag, QueryKind, StatsFormat};
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
    #[arg(long = "reply-timeout", default_value_t = 30, global = true)]
    timeout: u64,

    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Clone, Subcommand)]
enum Cmd {
    /// Print the statistics (syslog-ng's CSV, or Prometheus text).
    Stats {
        /// `csv` (default), `kv` or `prometheus` (the older way to name the format).
        format_word: Option<String>,
        /// Reset the counters to 0 instead.
        #[arg(short, long)]
        reset: bool,
        /// Remove the statistics of components a reload removed, instead.
        #[arg(short = 'o', long)]
        remove_orphans: bool,
        /// Leave out the statistics of removed components.
        #[arg(short = 'a', long = "without-orphaned-metrics")]
        without_orphaned: bool,
        /// No CSV header line.
        #[arg(short = 'n', long = "no-header")]
        no_header: bool,
        /// Output format: csv, kv or prometheus.
        #[arg(short = 'm', long, value_name = "csv|kv|prometheus")]
        format: Option<String>,
        /// Accepted for syslog-ng-ctl compatibility: sluice's Prometheus text is the legacy
        /// form already.
        #[arg(short = 'l', long = "with-legacy-metrics")]
        legacy: bool,
    },
    /// Query counters by name (`query list`, `query get [--sum] [--reset] PATTERN`).
    Query {
        /// `list` or `get`.
        what: String,
        /// A glob over counter names (`src.tcp.*`); default `*`.
        pattern: Option<String>,
        /// With `get`: print the sum of the matching counters.
        #[arg(long)]
        sum: bool,
        /// Reset the matching counters after printing them.
        #[arg(long)]
        reset: bool,
    },
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
    /// Reopen the destination files (after log rotation).
    Reopen,
    /// Show or set the verbose flag.
    Verbose(FlagArgs),
    /// Show or set the debug flag.
    Debug(FlagArgs),
    /// Show or set the trace flag.
    Trace(FlagArgs),
    /// Print the files the configuration refers to.
    ListFiles,
    /// Print the running configuration.
    Config {
        /// With includes, definitions and blocks expanded.
        #[arg(short, long)]
        preprocessed: bool,
    },
    /// syslog-ng's export of the configuration graph (JSON).
    ExportConfigGraph,
    /// Check that the daemon answers, with its latencies.
    Healthcheck {
        /// Seconds to wait for the answer.
        #[arg(short, long, default_value_t = 15)]
        timeout: u64,
    },
    /// Print the license information.
    ShowLicenseInfo,
    /// The store of key passphrases (always empty: no driver sluice runs takes one).
    Credentials {
        #[command(subcommand)]
        what: CredentialsCmd,
    },
    /// Print the live graph: sources, log paths, destinations, with state, rate and queues.
    Graph {
        #[arg(long, conflicts_with = "dot")]
        json: bool,
        /// Graphviz dot.
        #[arg(long)]
        dot: bool,
    },
    /// Read a disk-buffer without the daemon (like syslog-ng's dqtool).
    Dq {
        #[command(subcommand)]
        what: DqCmd,
    },
}

/// `credentials status|add`.
#[derive(Debug, Clone, Subcommand)]
enum CredentialsCmd {
    /// List the stored credentials.
    Status,
    /// Store a passphrase (refused: nothing sluice runs would read it).
    Add {
        #[arg(short, long)]
        id: String,
        secret: String,
    },
}

/// `verbose|debug|trace [--set=on|off]`.
#[derive(Debug, Clone, clap::Args)]
struct FlagArgs {
    /// on or off.
    #[arg(short, long, value_name = "on|off")]
    set: Option<String>,
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
    let (command, timeout) = match command_of(&args.command) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error parsing command line arguments: {e}");
            std::process::exit(1);
        }
    };
    let timeout = Duration::from_secs(timeout.unwrap_or(args.timeout));
    let socket = DaemonPaths::resolve(None, None, args.control.as_deref(), None).control;
    match control::send(&socket, &command, timeout) {
        Ok(reply) => {
            let body = reply.body();
            if !body.is_empty() {
                println!("{body}");
            }
            std::process::exit(if reply.succeeded() { 0 } else { 1 });
        }
        Err(e) => {
            eprintln!("sluice-ctl: {e}");
            std::process::exit(1);
        }
    }
}

/// The control command a command line asks for, and its own timeout if it has one.
fn command_of(cmd: &Cmd) -> Result<(Command, Option<u64>), String> {
    let flag = |flag, a: &FlagArgs| -> Result<Command, String> {
        let set = match a.set.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("on" | "1" | "yes") => Some(true),
            Some("off" | "0" | "no") => Some(false),
            Some(other) => return Err(format!("--set takes on or off, not {other}")),
        };
        Ok(Command::Log { flag, set })
    };
    let c = match cmd {
        Cmd::Stats {
            format_word,
            reset,
            remove_orphans,
            without_orphaned,
            no_header,
            format,
            legacy: _,
        } => {
            if *reset {
                Command::ResetStats
            } else if *remove_orphans {
                Command::RemoveOrphans
            } else {
                let format = match (format_word.as_deref(), format.as_deref()) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(format!("Colliding stats format received: {b} <-> {a}"));
                    }
                    (Some(f), _) | (None, Some(f)) => f,
                    (None, None) => "csv",
                };
                let format = match format {
                    "csv" => StatsFormat::Csv { header: !no_header },
                    "kv" => StatsFormat::Kv,
                    "prometheus" => StatsFormat::Prometheus,
                    other => return Err(format!("Unknown stats format, {other}")),
                };
                Command::Stats {
                    format,
                    without_orphaned: *without_orphaned,
                }
            }
        }
        Cmd::Query {
            what,
            pattern,
            sum,
            reset,
        } => {
            let kind = match (what.as_str(), sum) {
                ("list", false) => QueryKind::List,
                ("get", false) => QueryKind::Get,
                ("get", true) => QueryKind::GetSum,
                ("list", true) => return Err("--sum goes with query get".to_string()),
                (other, _) => return Err(format!("Unknown query command: {other}")),
            };
            Command::Query {
                kind,
                pattern: pattern.clone().unwrap_or_default(),
                reset: *reset,
            }
        }
        Cmd::Reload { check, file } => Command::Reload {
            check: *check,
            // The daemon reads the file: give it a path it can resolve.
            file: file
                .as_ref()
                .map(|f| std::path::absolute(f).unwrap_or_else(|_| f.clone())),
        },
        Cmd::Stop => Command::Stop,
        Cmd::Reopen => Command::Reopen,
        Cmd::Verbose(a) => flag(LogFlag::Verbose, a)?,
        Cmd::Debug(a) => flag(LogFlag::Debug, a)?,
        Cmd::Trace(a) => flag(LogFlag::Trace, a)?,
        Cmd::ListFiles => Command::ListFiles,
        Cmd::Config { preprocessed } => Command::Config {
            preprocessed: *preprocessed,
        },
        Cmd::ExportConfigGraph => Command::ExportConfigGraph,
        Cmd::Healthcheck { timeout } => return Ok((Command::Healthcheck, Some(*timeout))),
        Cmd::ShowLicenseInfo => Command::License,
        Cmd::Credentials { what } => Command::Credentials {
            add: matches!(what, CredentialsCmd::Add { .. }),
        },
        Cmd::Graph { json, dot } => Command::Graph(match (json, dot) {
            (true, _) => GraphForm::Json,
            (_, true) => GraphForm::Dot,
            _ => GraphForm::Text,
        }),
        Cmd::Dq { .. } => return Err("dq runs without the daemon".to_string()),
    };
    Ok((c, None))
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
