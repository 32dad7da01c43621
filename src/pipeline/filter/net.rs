//! `netmask()` and `netmask6()`: the sender's address (`$SOURCEIP`) against a network.
//!
//! As in syslog-ng's `filter-netmask.c`, the address is the peer's, not HOST: a message from
//! a local source (no peer address) counts as 127.0.0.1 for `netmask()`; `netmask()` never
//! matches an IPv6 peer and `netmask6()` never matches an IPv4 one. The network is written
//! `addr/bits`, `addr/dotted.mask` or a bare address (all bits).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::message::{Builtin, LogMessage};

/// A compiled `netmask()`/`netmask6()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Netmask {
    V4 {
        addr: u32,
        mask: u32,
    },
    V6 {
        addr: u128,
        mask: u128,
    },
    /// `netmask()` with an IPv6 network: syslog-ng 3.38 accepts it and matches nothing
    /// (recorded, from an IPv6 peer; `netmask6()` is the IPv6 filter).
    Nothing,
}

impl Netmask {
    /// Parses `netmask(...)`'s argument.
    pub fn parse_v4(text: &str) -> Result<Netmask, String> {
        let (a, m) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        let addr: Ipv4Addr = a
            .trim()
            .parse()
            .map_err(|_| format!("invalid IPv4 address in netmask(): `{a}`"))?;
        let mask = match m {
            None => u32::MAX,
            Some(m) if m.contains('.') => u32::from(
                m.trim()
                    .parse::<Ipv4Addr>()
                    .map_err(|_| format!("invalid netmask `{m}`"))?,
            ),
            Some(m) => {
                let bits: u32 = m
                    .trim()
                    .parse()
                    .ok()
                    .filter(|b| *b <= 32)
                    .ok_or_else(|| format!("invalid prefix length `{m}`"))?;
                if bits == 0 {
                    0
                } else {
                    u32::MAX << (32 - bits)
                }
            }
        };
        Ok(Netmask::V4 {
            addr: u32::from(addr) & mask,
            mask,
        })
    }

    /// Parses `netmask6(...)`'s argument.
    pub fn parse_v6(text: &str) -> Result<Netmask, String> {
        let (a, m) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        let addr: Ipv6Addr = a
            .trim()
            .parse()
            .map_err(|_| format!("invalid IPv6 address in netmask6(): `{a}`"))?;
        let bits: u32 = match m {
            None => 128,
            Some(m) => m
                .trim()
                .parse()
                .ok()
                .filter(|b| *b <= 128)
                .ok_or_else(|| format!("invalid prefix length `{m}`"))?,
        };
        let mask = if bits == 0 {
            0
        } else {
            u128::MAX << (128 - bits)
        };
        Ok(Netmask::V6 {
            addr: u128::from(addr) & mask,
            mask,
        })
    }

    pub fn eval(&self, msg: &LogMessage) -> bool {
        let peer = match msg.get_builtin(Builtin::SourceIp) {
            None => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            Some(s) => std::str::from_utf8(s).ok().and_then(|s| s.parse().ok()),
        };
        match (self, peer) {
            (Netmask::V4 { addr, mask }, Some(IpAddr::V4(ip))) => u32::from(ip) & mask == *addr,
            (Netmask::V6 { addr, mask }, Some(IpAddr::V6(ip))) => u128::from(ip) & mask == *addr,
            _ => false,
        }
    }
}

impl Netmask {
    /// `netmask()`'s argument: IPv4, or an IPv6 network that matches nothing.
    pub fn parse_netmask(text: &str) -> Result<Netmask, String> {
        if text.contains(':') {
            return Netmask::parse_v6(text).map(|_| Netmask::Nothing);
        }
        Netmask::parse_v4(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ip: Option<&str>) -> LogMessage {
        let mut m = LogMessage::new(Default::default());
        if let Some(ip) = ip {
            m.set("SOURCEIP", ip.as_bytes());
        }
        m
    }

    #[test]
    fn v4() {
        let n = Netmask::parse_v4("10.1.0.0/16").unwrap();
        assert!(n.eval(&msg(Some("10.1.2.3"))));
        assert!(!n.eval(&msg(Some("10.2.2.3"))));
        let n = Netmask::parse_v4("127.0.0.1/255.0.0.0").unwrap();
        assert!(n.eval(&msg(None)));
        assert!(!n.eval(&msg(Some("::1"))));
        assert!(Netmask::parse_v4("10.0.0.0/33").is_err());
        assert!(Netmask::parse_v4("x").is_err());
    }

    #[test]
    fn v6() {
        let n = Netmask::parse_v6("fe80::/10").unwrap();
        assert!(n.eval(&msg(Some("fe80::1"))));
        assert!(!n.eval(&msg(Some("10.0.0.1"))));
        assert!(!n.eval(&msg(None)));
    }
}
