//! The control protocol between `sluice-ctl` and the daemon: one command line in, a reply
//! out, over a unix stream socket (the `-c` path). Like syslog-ng-ctl's, the reply starts
//! with `OK` or `FAIL` and ends with a line holding a single `.`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The commands the daemon understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Reload,
    Stop,
    Healthcheck,
    Stats,
    Query,
    Graph,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Reload => "RELOAD",
            Command::Stop => "STOP",
            Command::Healthcheck => "HEALTHCHECK",
            Command::Stats => "STATS",
            Command::Query => "QUERY",
            Command::Graph => "GRAPH",
        }
    }

    pub fn parse(line: &str) -> Option<Command> {
        let word = line.split_whitespace().next()?;
        [
            Command::Reload,
            Command::Stop,
            Command::Healthcheck,
            Command::Stats,
            Command::Query,
            Command::Graph,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(word))
    }
}

/// A reply: success or failure and the text the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub ok: bool,
    pub text: String,
}

impl Reply {
    pub fn ok(text: impl Into<String>) -> Self {
        Reply {
            ok: true,
            text: text.into(),
        }
    }

    pub fn fail(text: impl Into<String>) -> Self {
        Reply {
            ok: false,
            text: text.into(),
        }
    }

    /// The bytes sent on the wire.
    pub fn encode(&self) -> String {
        let mut out = String::from(if self.ok { "OK " } else { "FAIL " });
        out.push_str(self.text.trim_end_matches('\n'));
        out.push_str("\n.\n");
        out
    }
}

/// Errors of the client side.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("cannot connect to the control socket {path}: {source} (is sluice running?)")]
    Connect {
        path: String,
        source: std::io::Error,
    },
    #[error("control socket I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the daemon sent a malformed reply")]
    Malformed,
}

/// Sends one command and reads the reply (client side, used by sluice-ctl and the tests).
pub fn send(path: &Path, command: Command, timeout: Duration) -> Result<Reply, ControlError> {
    send_with(path, command, "", timeout)
}

/// Sends one command with arguments (`RELOAD --check FILE`) and reads the reply.
pub fn send_with(
    path: &Path,
    command: Command,
    args: &str,
    timeout: Duration,
) -> Result<Reply, ControlError> {
    let mut stream = UnixStream::connect(path).map_err(|source| ControlError::Connect {
        path: path.display().to_string(),
        source,
    })?;
    stream.set_read_timeout(Some(timeout))?;
    let line = if args.is_empty() {
        format!("{}\n", command.as_str())
    } else {
        format!("{} {args}\n", command.as_str())
    };
    stream.write_all(line.as_bytes())?;
    let mut lines = Vec::new();
    for line in BufReader::new(stream).lines() {
        let line = line?;
        if line == "." {
            break;
        }
        lines.push(line);
    }
    let text = lines.join("\n");
    if let Some(rest) = text.strip_prefix("OK") {
        Ok(Reply::ok(rest.trim_start()))
    } else if let Some(rest) = text.strip_prefix("FAIL") {
        Ok(Reply::fail(rest.trim_start()))
    } else {
        Err(ControlError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        for c in ["reload", "STOP", "healthcheck", "stats", "query x", "graph"] {
            let cmd = Command::parse(c).expect("known command");
            assert_eq!(Command::parse(cmd.as_str()), Some(cmd));
        }
        assert_eq!(Command::parse("bogus"), None);
        assert_eq!(Command::parse(""), None);
        assert_eq!(Reply::fail("x\n").encode(), "FAIL x\n.\n");
    }
}
