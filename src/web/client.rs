//! Which address a request comes from: the key of the login throttle's
//! per-address bucket, and the address a session lists.
//!
//! The peer address of the connection, unless it is one of the configured
//! [`TrustedProxies`] (none by default): only then is
//! `X-Forwarded-For` read, from the right (the entry the nearest proxy
//! appended), skipping further trusted proxies, to the first address that
//! is not one. Any client can write that header, so trusting it from
//! anyone would let each guess claim a fresh address.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::session::SessionInfo;

/// The reverse proxies trusted to append the client's address to
/// `X-Forwarded-For`; none by default.
///
/// ```
/// use jwt_rotate::web::TrustedProxies;
///
/// let proxies: TrustedProxies = "10.0.0.1, ::1".parse()?;
/// let peer = "10.0.0.1".parse().ok();
/// let forwarded: [&[u8]; 1] = [b"203.0.113.9, 198.51.100.7"];
/// assert_eq!(proxies.client_address(peer, forwarded), "198.51.100.7".parse().ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpAddr>);

/// A `TrustedProxies` list entry that is not an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an IP address: {0:?}")]
pub struct InvalidProxy(pub String);

impl TrustedProxies {
    /// Trusts exactly these addresses.
    pub fn new(addresses: impl IntoIterator<Item = IpAddr>) -> Self {
        Self(addresses.into_iter().map(|ip| ip.to_canonical()).collect())
    }

    /// The client behind a connection from `peer` (`None` if unknown),
    /// given the request's `X-Forwarded-For` header values.
    pub fn client_address<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<IpAddr> {
        client_address(peer, forwarded_for, &self.0)
    }
}

impl FromStr for TrustedProxies {
    type Err = InvalidProxy;

    /// A comma-separated list of IP addresses; blanks and empty entries are
    /// skipped.
    fn from_str(list: &str) -> Result<Self, InvalidProxy> {
        parse_trusted(list).map(Self).map_err(InvalidProxy)
    }
}

fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl IntoIterator<Item = &'a [u8]>,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let mut client = peer?.to_canonical();
    if !trusted.contains(&client) {
        return Some(client);
    }
    let values: Vec<&[u8]> = forwarded_for.into_iter().collect();
    let hops = values
        .iter()
        .flat_map(|value| value.split(|&b| b == b','))
        .rev();
    for hop in hops {
        // A hop that is not an address: the proxy that wrote it is the
        // last address known, and the rest cannot be trusted.
        let Some(hop) = parse_hop(hop) else {
            break;
        };
        client = hop;
        if !trusted.contains(&hop) {
            break;
        }
    }
    Some(client)
}

/// `192.0.2.1`, `2001:db8::1`, or either with a port (`192.0.2.1:443`,
/// `[2001:db8::1]:443`), as proxies write them.
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim();
    let ip = hop
        .parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()?;
    Some(ip.to_canonical())
}

/// A comma-separated list of IP addresses; the first entry that is not one
/// on failure.
fn parse_trusted(list: &str) -> Result<Vec<IpAddr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpAddr>()
                .map(|ip| ip.to_canonical())
                .map_err(|_| entry.to_owned())
        })
        .collect()
}

/// What a login records about the device: its `User-Agent` (cut to 200
/// characters) and address.
pub fn session_info(user_agent: Option<&[u8]>, ip: Option<IpAddr>) -> SessionInfo {
    let mut info = SessionInfo::default();
    if let Some(agent) = user_agent {
        let agent: String = String::from_utf8_lossy(agent).chars().take(200).collect();
        info = info.with_user_agent(agent);
    }
    if let Some(ip) = ip {
        info = info.with_ip(ip);
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_peer_decides_unless_it_is_a_trusted_proxy() {
        let forged: [&[u8]; 1] = [b"203.0.113.9"];
        let peer = Some(ip("198.51.100.7"));
        assert_eq!(client_address(peer, forged, &[]), peer);
        assert_eq!(client_address(peer, forged, &[ip("10.0.0.1")]), peer);
        assert_eq!(client_address(None, forged, &[]), None);
        let mapped = Some(ip("::ffff:198.51.100.7"));
        assert_eq!(client_address(mapped, forged, &[]), peer);
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let proxy = ip("10.0.0.1");
        let inner = ip("10.0.0.2");
        let trusted = [proxy, inner];
        let from = |values: &[&[u8]]| client_address(Some(proxy), values.to_vec(), &trusted);
        // The client forged the first entry; the proxy appended the real one.
        assert_eq!(
            from(&[b"203.0.113.9, 198.51.100.7"]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            from(&[b"203.0.113.9", b"198.51.100.7, 10.0.0.2"]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(from(&[b"[2001:db8::1]:443"]), Some(ip("2001:db8::1")));
        assert_eq!(from(&[b"198.51.100.7:5000"]), Some(ip("198.51.100.7")));
        // Nothing usable: the nearest known hop.
        assert_eq!(from(&[]), Some(proxy));
        assert_eq!(from(&[b"10.0.0.2"]), Some(inner));
        assert_eq!(from(&[b"198.51.100.7, unknown"]), Some(proxy));
        assert_eq!(from(&[b"\xff"]), Some(proxy));
    }

    #[test]
    fn trusted_lists_parse_or_name_the_bad_entry() {
        assert_eq!(
            parse_trusted(" 127.0.0.1, ::1 ,"),
            Ok(vec![ip("127.0.0.1"), ip("::1")])
        );
        assert_eq!(parse_trusted(""), Ok(vec![]));
        assert_eq!(parse_trusted("127.0.0.1, nope"), Err("nope".to_owned()));
    }
}
