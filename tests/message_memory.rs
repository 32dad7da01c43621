//! Memory per message, measured (the figures are quoted in src/message/nv.rs and the
//! README): a typical 200-byte RFC 3164 message from a network peer.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use sluice::message::{LocalHost, LogMessage, ParseOptions, PeerInfo, UnixTime, parse};

fn typical() -> Vec<u8> {
    let mut raw = b"<38>Nov 24 08:07:15 web-01.example.com sshd[21345]: Accepted publickey for deploy from 192.0.2.17 port 51234 ssh2: ED25519 SHA256:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_vec();
    while raw.len() < 200 {
        raw.push(b'x');
    }
    raw
}

#[test]
fn memory_per_message() {
    let opts = ParseOptions {
        local_host: LocalHost::new("relay"),
        ..ParseOptions::default()
    };
    let peer = PeerInfo {
        addr: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))),
        dns_name: Some(Arc::from("web-01.example.com")),
    };
    let raw = typical();
    assert_eq!(raw.len(), 200);
    let m = parse(&raw, &opts, Some(&peer), UnixTime::new(1_700_000_000, 0, 0));
    let inline = std::mem::size_of::<LogMessage>();
    let heap = m.heap_bytes();
    // In an Arc: two counters more, and the allocator rounds up.
    println!(
        "size_of::<LogMessage>() = {inline}, heap = {heap}, total ≈ {}",
        inline + 16 + heap
    );
    assert!(inline <= 256, "LogMessage grew to {inline} bytes");
    assert!(
        heap <= raw.len() + 64,
        "heap {heap} for a {}-byte message",
        raw.len()
    );
    // Fan-out to five destinations costs five pointers, not five copies.
    let shared = Arc::new(m);
    let copies: Vec<Arc<LogMessage>> = (0..5).map(|_| shared.clone()).collect();
    assert_eq!(Arc::strong_count(&shared), 6);
    drop(copies);
}
