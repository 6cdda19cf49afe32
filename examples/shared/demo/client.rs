//! Which address a request comes from: the key of the login throttle's
//! per-address bucket, and the address a session lists.
//!
//! The peer address of the connection, unless it is one of the configured
//! trusted proxies (`TRUSTED_PROXIES`, none by default): only then is
//! `X-Forwarded-For` read, from the right (the entry the nearest proxy
//! appended), skipping further trusted proxies, to the first address that
//! is not one. Any client can write that header, so trusting it from
//! anyone would let each guess claim a fresh address.

use std::net::{IpAddr, SocketAddr};

/// The client behind a connection from `peer` (`None` if unknown), given
/// the `X-Forwarded-For` header values and the proxies trusted to append
/// to them.
pub fn client_address<'a>(
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

/// A comma-separated list of IP addresses (`TRUSTED_PROXIES`).
///
/// # Errors
/// The first entry that is not an IP address.
pub fn parse_trusted(list: &str) -> Result<Vec<IpAddr>, String> {
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
