//! The benchmark ceiling: a TCP server that only reads and discards, counting lines. On a
//! 2-core machine loggen itself limits what any daemon can show; running loggen into this
//! sink measures that limit in the same run as the daemons.
//!
//! Usage: bench_sink PORT — prints "lines=N" (the total so far) each time a connection
//! closes; the benchmark script kills it when loggen is done and reads the last line.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn main() {
    let port: u16 = match std::env::args().nth(1).and_then(|p| p.parse().ok()) {
        Some(p) => p,
        None => {
            eprintln!("usage: bench_sink PORT");
            std::process::exit(2);
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bench_sink: cannot listen on {port}: {e}");
            std::process::exit(2);
        }
    };
    let lines = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let lines = lines.clone();
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 256 * 1024];
            let mut n_lines = 0usize;
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                n_lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
            }
            let total = lines.fetch_add(n_lines, Ordering::SeqCst) + n_lines;
            println!("lines={total}");
        });
    }
}
