//! `sluice`: the daemon. See `sluice --help`; the flags mirror syslog-ng's.

use clap::Parser;
use sluice::cli::{Args, EXIT_CONFIG_ERROR, EXIT_OK};

fn main() {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_CONFIG_ERROR
            } else {
                EXIT_OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(sluice::daemon::run(args));
}
