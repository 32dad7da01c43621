//! The daemon's side of the control socket: accepts connections, reads one command line,
//! hands it to the daemon loop and writes the reply back.

use std::io;
use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::control::{Command, Reply};

/// A command waiting for the daemon loop, with the channel its reply goes back on.
pub struct Request {
    pub command: Command,
    pub reply: oneshot::Sender<Answer>,
}

/// The daemon's reply, and optionally a channel to tell it once the reply has been written
/// (a STOP must reach the client before the process exits).
pub struct Answer {
    pub reply: Reply,
    pub written: Option<oneshot::Sender<()>>,
}

impl Answer {
    /// A reply with nothing waiting for it to be written.
    pub fn now(reply: Reply) -> Answer {
        Answer {
            reply,
            written: None,
        }
    }
}

pub struct ControlServer {
    listener: UnixListener,
    requests: mpsc::Sender<Request>,
}

impl ControlServer {
    /// Binds the socket, replacing a stale one left by a daemon that did not exit cleanly.
    pub fn bind(path: &Path, requests: mpsc::Sender<Request>) -> io::Result<ControlServer> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    "another daemon is listening on it",
                ));
            }
            std::fs::remove_file(path)?;
        }
        // Whoever can connect can stop the daemon: owner only, whatever the umask. Bound under
        // a temporary name and renamed once its mode is set, so it is never reachable with
        // the umask's mode.
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".new");
        let tmp = std::path::PathBuf::from(tmp);
        let _ = std::fs::remove_file(&tmp);
        let listener = UnixListener::bind(&tmp)?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(ControlServer { listener, requests })
    }

    pub async fn serve(self) {
        loop {
            match self.listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(answer(stream, self.requests.clone()));
                }
                Err(e) => tracing::warn!("Error accepting a control connection: {e}"),
            }
        }
    }
}

/// How long a client may stay silent before its connection is closed.
const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Longest command line read; a client that sends more is disconnected (syslog-ng's limit).
const MAX_COMMAND: usize = 4096;

/// Serves one client: command after command until it closes, goes silent, or sends a line
/// too long.
async fn answer(stream: UnixStream, requests: mpsc::Sender<Request>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read).take(MAX_COMMAND as u64 + 1);
    loop {
        let mut raw = Vec::new();
        // A client that never sends its line holds nothing up for long.
        match tokio::time::timeout(COMMAND_TIMEOUT, reader.read_until(b'\n', &mut raw)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => {
                let r = Reply::fail("No command received in time, closing the connection");
                let _ = write.write_all(r.encode().as_bytes()).await;
                return;
            }
        }
        if raw.last() != Some(&b'\n') {
            if raw.len() > MAX_COMMAND {
                let r = Reply::fail(format!("Command longer than {MAX_COMMAND} bytes"));
                let _ = write.write_all(r.encode().as_bytes()).await;
            }
            return;
        }
        reader.set_limit(MAX_COMMAND as u64 + 1);
        let answer = match std::str::from_utf8(&raw) {
            Err(_) => Answer::now(Reply::fail("Command is not valid UTF-8")),
            Ok(line) => match Command::parse(line) {
                Err(e) => Answer::now(Reply::fail(e)),
                Ok(command) => {
                    let (tx, rx) = oneshot::channel();
                    let closing = || Answer::now(Reply::fail("The daemon is shutting down"));
                    let request = Request { command, reply: tx };
                    if requests.send(request).await.is_err() {
                        closing()
                    } else {
                        rx.await.unwrap_or_else(|_| closing())
                    }
                }
            },
        };
        let sent = write.write_all(answer.reply.encode().as_bytes()).await;
        if let Some(written) = answer.written {
            let _ = write.shutdown().await;
            let _ = written.send(());
            return;
        }
        if sent.is_err() {
            return;
        }
    }
}
