//! Command-line interface of the `sluice` daemon. The flags mirror syslog-ng's, so that init
//! scripts and habits carry over: `sluice -F -f /etc/syslog-ng/syslog-ng.conf` does what
//! `syslog-ng -F -f ...` does.

use std::path::PathBuf;

use clap::Parser;

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code when the configuration is invalid (syslog-ng uses 1 too).
pub const EXIT_CONFIG_ERROR: i32 = 1;
/// Exit code when the daemon could not start or failed while running.
pub const EXIT_RUNTIME_FAILURE: i32 = 2;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "sluice",
    version,
    about = "A log daemon that runs syslog-ng configurations and Python plugins unchanged"
)]
pub struct Args {
    /// Configuration file to read [default: /etc/syslog-ng/syslog-ng.conf].
    #[arg(short = 'f', long = "cfgfile", value_name = "CONFIG")]
    pub cfgfile: Option<PathBuf>,

    /// Do not go into the background after initialisation.
    #[arg(short = 'F', long)]
    pub foreground: bool,

    /// Only read and check the configuration file, then exit (0 if valid, 1 if not).
    #[arg(short = 's', long = "syntax-only")]
    pub syntax_only: bool,

    /// Persist file (file positions, Python Persist data, disk-buffer names)
    /// [default: <state dir>/sluice.persist].
    #[arg(short = 'R', long = "persist-file", value_name = "FILE")]
    pub persist_file: Option<PathBuf>,

    /// Control socket used by sluice-ctl [default: <state dir>/sluice.ctl].
    #[arg(short = 'c', long = "control", value_name = "SOCKET")]
    pub control: Option<PathBuf>,

    /// File to write the daemon's process id to [default: <state dir>/sluice.pid].
    #[arg(short = 'p', long = "pidfile", value_name = "FILE")]
    pub pidfile: Option<PathBuf>,

    /// Write the configuration with includes, definitions and blocks expanded, then exit.
    #[arg(long = "preprocess-into", value_name = "FILE")]
    pub preprocess_into: Option<PathBuf>,

    /// Directories searched for relative `@include` files, after the including file's own
    /// directory (may be repeated) [default: /etc/syslog-ng, /usr/share/syslog-ng/include].
    #[arg(long = "include-path", value_name = "DIR")]
    pub include_path: Vec<PathBuf>,

    /// Be a bit more verbose.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Enable debug messages.
    #[arg(short = 'd', long)]
    pub debug: bool,

    /// Enable trace messages.
    #[arg(short = 't', long)]
    pub trace: bool,

    /// Log the daemon's own messages to stderr (implied by --foreground).
    #[arg(short = 'e', long)]
    pub stderr: bool,

    /// Serve the statistics as Prometheus text over HTTP on this address (`GET /metrics`),
    /// for scraping. A command-line flag, so that configurations stay syslog-ng's.
    #[arg(long = "metrics-listen", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_syslog_ng_style_flags() {
        let args = Args::try_parse_from([
            "sluice", "-F", "-f", "x.conf", "-R", "p", "-c", "c", "-p", "pid", "-s", "-d", "-e",
        ])
        .expect("valid flags");
        assert!(args.foreground && args.syntax_only && args.debug && args.stderr);
        assert_eq!(args.cfgfile, Some(PathBuf::from("x.conf")));
        assert_eq!(args.persist_file, Some(PathBuf::from("p")));
        assert_eq!(args.control, Some(PathBuf::from("c")));
        assert_eq!(args.pidfile, Some(PathBuf::from("pid")));
        let args =
            Args::try_parse_from(["sluice", "--preprocess-into", "out.conf"]).expect("valid flags");
        assert_eq!(args.preprocess_into, Some(PathBuf::from("out.conf")));
    }
}
