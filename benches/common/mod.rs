//! Inputs shared by the micro-benchmarks, so that parse, template and filter figures are
//! measured on the same messages.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use sluice::message::{LocalHost, ParseOptions, PeerInfo, UnixTime};

pub const RFC3164: &[u8] = b"<38>Nov 24 08:07:15 web-01 sshd[21345]: Accepted publickey for deploy from 192.0.2.17 port 51234 ssh2: ED25519 SHA256:3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
pub const RFC5424: &[u8] = b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] An application event log entry with some text";

/// When the benchmark messages were "received".
pub const RECEIVED: UnixTime = UnixTime::new(1_795_507_700, 0, 3600);

/// A relay's parse options in a DST zone (so the stamp conversion is exercised).
pub fn parse_options() -> ParseOptions {
    ParseOptions {
        local_time_zone: jiff::tz::TimeZone::get("Europe/Budapest")
            .unwrap_or(jiff::tz::TimeZone::UTC),
        local_host: LocalHost::new("relay"),
        ..ParseOptions::default()
    }
}

/// The sending peer, with its reverse-DNS name already known.
pub fn peer() -> PeerInfo {
    PeerInfo {
        addr: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))),
        dns_name: Some(Arc::from("web-01.example.com")),
    }
}
