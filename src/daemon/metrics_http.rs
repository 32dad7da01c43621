//! `--metrics-listen ADDR:PORT`: the statistics as Prometheus text over HTTP, for scraping
//! (`GET /metrics`; `/` answers the same). The same text as `syslog-ng-ctl stats
//! prometheus`, with sluice's reload records. HTTP/1.x, one request per connection: a
//! scraper needs no more, and a client that sends nothing, or a head larger than 8 KiB,
//! is dropped without holding anything up.

use std::net::SocketAddr;
use std::time::Duration;

use actix::Addr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::actors::runtime::supervisor::ConfigSupervisor;

/// Longest request head read.
const MAX_HEAD: usize = 8192;

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the address (an error stops the start, like any other listener).
pub(super) async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Answers scrapes until the daemon stops.
pub(super) async fn serve(listener: TcpListener, sup: Addr<ConfigSupervisor>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, sup.clone()));
            }
            Err(e) => tracing::warn!(error = %e, "Error accepting a metrics connection"),
        }
    }
}

async fn answer(mut stream: TcpStream, sup: Addr<ConfigSupervisor>) {
    let Ok(Some(head)) = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut stream)).await else {
        return;
    };
    let mut words = head.split(' ');
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics" | "/") => match super::commands::prometheus(&sup).await {
            Some(text) => ("200 OK", text),
            None => (
                "503 Service Unavailable",
                "no configuration is running\n".into(),
            ),
        },
        ("GET" | "HEAD", _) => ("404 Not Found", "try /metrics\n".into()),
        _ => ("405 Method Not Allowed", "only GET\n".into()),
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        out.push_str(&body);
    }
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The request line, once the whole head (up to the blank line) has arrived; `None` when
/// the client closes first or sends too much.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > MAX_HEAD {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = buf.split(|&b| b == b'\n').next()?;
    Some(String::from_utf8_lossy(line).trim_end().to_string())
}
