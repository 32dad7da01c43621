//! The `stdin()` source at run time: read standard input to its end, then stop the daemon.
//!
//! Behaviour recorded from syslog-ng 3.38: `seq 3 | syslog-ng -F -f stdin.conf` delivers the
//! three messages and exits 0 ("syslog-ng shutting down", no other message); a last line
//! without a newline is a message too; parsing is a file's (host names expected). sluice
//! does the same: at the end of input the last batch is flushed into the queues, then the
//! daemon is asked to stop, and its ordinary stop drains the queues into the destinations —
//! nothing read is lost.
//!
//! (Where syslog-ng 3.38 refuses to start when standard input is a regular file and
//! `follow-freq()` is not set — an ivykis polling limitation — sluice reads the file to its end
//! like a pipe.)
//!
//! Standard input belongs to the process, not to a configuration: one thread reads it for the
//! whole run and hands chunks over a small channel, which a reload passes from the old reader
//! to the new one together with any partial line. A full window stops taking chunks, the
//! channel fills, and the thread stops reading: flow control reaches the writer.

use std::io::Read;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;

use super::line_source::{LineReader, LinesKind, LinesPlan, StartCx, drain, plan_lines, stopped};
use super::stdin::StdinSourceOptions;
use crate::actors::runtime::ack::Window;
use crate::actors::runtime::ingest::{Batcher, Ingest};
use crate::config::Node;
use crate::config::diagnostic::Diagnostic;
use crate::config::global_options::GlobalOptions;

/// Bytes per read of standard input.
const CHUNK: usize = 64 * 1024;

/// Checks what the runtime honours of a `stdin()` source and derives its plan.
pub fn plan_stdin_source(
    o: &StdinSourceOptions,
    call: &Node,
    globals: &GlobalOptions,
) -> Result<LinesPlan, Diagnostic> {
    let framing = plan_lines(call, &o.source, &o.reader, &o.lines, globals)?;
    Ok(LinesPlan {
        kind: LinesKind::Stdin,
        framing,
        window: o.stdin.log_iw_size.get(),
    })
}

/// The process's standard input, between two readers.
struct Pump {
    rx: mpsc::Receiver<Vec<u8>>,
    /// A partial line the previous reader had not finished.
    tail: Vec<u8>,
    /// The end was reached.
    eof: bool,
}

static PUMP: Mutex<Option<Pump>> = Mutex::new(None);
static STARTED: std::sync::Once = std::sync::Once::new();

fn lock() -> std::sync::MutexGuard<'static, Option<Pump>> {
    PUMP.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes standard input for one reader, starting the reading thread the first time.
fn take() -> Option<Pump> {
    STARTED.call_once(|| {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(2);
        let spawned = std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || {
                let mut input = std::io::stdin().lock();
                loop {
                    let mut chunk = vec![0u8; CHUNK];
                    match input.read(&mut chunk) {
                        Ok(0) => return,
                        Ok(n) => {
                            chunk.truncate(n);
                            if tx.blocking_send(chunk).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            tracing::error!(error = %e, "Error reading standard input");
                            return;
                        }
                    }
                }
            });
        let eof = spawned.is_err();
        if let Err(e) = spawned {
            tracing::error!(error = %e, "Error starting the standard input reader");
        }
        *lock() = Some(Pump {
            rx,
            tail: Vec::new(),
            eof,
        });
    });
    lock().take()
}

/// Reads standard input to its end (then asks the daemon to stop) or until the graph stops.
pub async fn read(lines: &mut LineReader, ingest: &Ingest, window: Arc<Window>, mut cx: StartCx) {
    let Some(mut pump) = take() else {
        tracing::error!(source = %ingest.name, "Standard input is read by another stdin() source");
        return;
    };
    let stop = &mut cx.stop;
    let mut batch = Batcher::default();
    lines.reset(0);
    lines.spare().append(&mut pump.tail);
    let mut ok = !pump.eof;
    while ok {
        let chunk = tokio::select! {
            c = pump.rx.recv() => c,
            _ = stopped(stop) => { ok = false; continue; }
        };
        match chunk {
            Some(c) => {
                lines.spare().extend_from_slice(&c);
                ok = drain(lines, ingest, &window, &mut batch, false, stop, None).await;
            }
            None => {
                pump.eof = true;
                if drain(lines, ingest, &window, &mut batch, true, stop, None).await {
                    tracing::debug!("End of standard input, shutting down");
                    cx.exit.notify_one();
                }
                break;
            }
        }
    }
    pump.tail = lines.pending().to_vec();
    *lock() = Some(pump);
}
