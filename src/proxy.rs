//! What keyward trusts about the requests that reach it.
//!
//! Two things a request cannot tell about itself, so keyward is told instead:
//! - **which proxy reports the original request line** to forward-auth
//!   (`--proxy`). Each proxy names the method and URI in its own headers, and
//!   Caddy and Traefik pass the client's own headers along, so a header of
//!   another proxy's kind may come from the client: only the configured
//!   proxy's headers are read, the others are ignored.
//! - **which peers may name the client's address** (`--trusted-proxy`). The
//!   address is the TCP peer, unless that peer is a trusted proxy; then it is
//!   the nearest untrusted address in `X-Forwarded-For` (or, without that
//!   header, `Forwarded`), read from the right, where each proxy appends.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The proxy in front of forward-auth, and so the headers that carry the
/// original request's method and URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proxy {
    /// `auth_request`, with `X-Original-Method` / `X-Original-URI` set by the
    /// configuration (`examples/nginx.conf`).
    Nginx,
    /// ForwardAuth, which sets `X-Forwarded-Method` / `X-Forwarded-Uri`.
    Traefik,
    /// `forward_auth`, which sets `X-Forwarded-Method` / `X-Forwarded-Uri`.
    Caddy,
}

impl Proxy {
    pub const ALL: [Proxy; 3] = [Proxy::Nginx, Proxy::Traefik, Proxy::Caddy];

    pub fn as_str(self) -> &'static str {
        match self {
            Proxy::Nginx => "nginx",
            Proxy::Traefik => "traefik",
            Proxy::Caddy => "caddy",
        }
    }

    pub fn parse(input: &str) -> Result<Proxy, String> {
        Proxy::ALL
            .into_iter()
            .find(|proxy| proxy.as_str().eq_ignore_ascii_case(input.trim()))
            .ok_or_else(|| format!("must be one of nginx, traefik or caddy, got {input:?}"))
    }

    /// The header this proxy puts the original method in.
    pub fn method_header(self) -> &'static str {
        match self {
            Proxy::Nginx => "X-Original-Method",
            Proxy::Traefik | Proxy::Caddy => "X-Forwarded-Method",
        }
    }

    /// The header this proxy puts the original URI (path and query) in.
    pub fn uri_header(self) -> &'static str {
        match self {
            Proxy::Nginx => "X-Original-URI",
            Proxy::Traefik | Proxy::Caddy => "X-Forwarded-Uri",
        }
    }
}

/// The peers whose forwarding headers name the client (`--trusted-proxy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma- or space-separated list of addresses and CIDR ranges
    /// (`10.0.0.0/8, 127.0.0.1, ::1`); empty trusts no one.
    pub fn parse(input: &str) -> Result<TrustedProxies, String> {
        input
            .split([',', ' '])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                IpNet::from_str(part)
                    .or_else(|_| IpAddr::from_str(part).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!("must be IP addresses or CIDR ranges like 10.0.0.0/8, got {part:?}")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the TCP peer, or, when the peer is trusted, the
    /// nearest address the trusted proxies report that is not one of them.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_for(headers);
        let mut client = peer;
        // Right to left: each trusted proxy appended the address it saw.
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) => {
                    client = canonical(*ip);
                    if !self.trusts(client) {
                        break;
                    }
                }
                // Not an address (`unknown`, an obfuscated name, garbage):
                // nothing to its left can be believed, so the nearest proxy
                // that could be named stands for the client.
                None => break,
            }
        }
        client
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let nets: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&nets.join(","))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The hops of `X-Forwarded-For` (every such header, in order), or else of
/// `Forwarded`'s `for=` parameters; `None` for a hop that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .map(|v| v.to_str().map(str::to_owned).unwrap_or_default())
            .collect()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff
            .iter()
            .flat_map(|value| value.split(','))
            .map(parse_hop)
            .collect();
    }
    values("forwarded")
        .iter()
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value))
            })
        })
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `"[2001:db8::1]:4711"`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = IpAddr::from_str(hop) {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return IpAddr::from_str(ip).ok();
    }
    let (ip, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    std::net::Ipv4Addr::from_str(ip).ok().map(IpAddr::V4)
}

/// The client's address for this request, by the instance's trusted proxies.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    Some(
        match req.app_data::<actix_web::web::Data<TrustedProxies>>() {
            Some(trusted) => trusted.client_ip(peer, req.headers()),
            None => canonical(peer),
        },
    )
}

/// [`client_ip`] as the audit log writes it.
pub fn client_address(req: &HttpRequest) -> String {
    client_ip(req).map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn proxies_parse_by_name() {
        assert_eq!(Proxy::parse("nginx"), Ok(Proxy::Nginx));
        assert_eq!(Proxy::parse(" Caddy "), Ok(Proxy::Caddy));
        assert_eq!(Proxy::parse("traefik"), Ok(Proxy::Traefik));
        assert_eq!(
            Proxy::parse("haproxy").unwrap_err(),
            "must be one of nginx, traefik or caddy, got \"haproxy\""
        );
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_ranges() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1 ::1,2001:db8::/32").unwrap();
        assert_eq!(
            trusted.to_string(),
            "10.0.0.0/8,127.0.0.1/32,::1/128,2001:db8::/32"
        );
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(
            TrustedProxies::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("\"10.0.0.0/33\"")
        );
        assert!(TrustedProxies::parse("proxy.internal").is_err());
    }

    #[test]
    fn the_client_address_by_who_is_trusted() {
        let trusted = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        let none = TrustedProxies::default();
        let proxy = ip("127.0.0.1");
        // (who is trusted, peer, headers, client, why)
        let cases: Vec<(&TrustedProxies, IpAddr, HeaderMap, &str, &str)> = vec![
            (
                &none,
                proxy,
                headers(&[("x-forwarded-for", "203.0.113.7")]),
                "127.0.0.1",
                "no trusted proxy: the header is ignored",
            ),
            (
                &trusted,
                ip("198.51.100.1"),
                headers(&[("x-forwarded-for", "203.0.113.7")]),
                "198.51.100.1",
                "an untrusted peer cannot name another client",
            ),
            (
                &trusted,
                proxy,
                headers(&[("x-forwarded-for", "203.0.113.7")]),
                "203.0.113.7",
                "a trusted proxy names the client",
            ),
            (
                &trusted,
                proxy,
                headers(&[("x-forwarded-for", "192.0.2.66, 203.0.113.7, 10.1.2.3")]),
                "203.0.113.7",
                "the nearest untrusted hop; what the client wrote to its left is not read",
            ),
            (
                &trusted,
                proxy,
                headers(&[
                    ("x-forwarded-for", "192.0.2.66"),
                    ("x-forwarded-for", "203.0.113.7"),
                ]),
                "203.0.113.7",
                "repeated headers are one list",
            ),
            (
                &trusted,
                proxy,
                headers(&[("x-forwarded-for", "10.0.0.1, 10.0.0.2")]),
                "10.0.0.1",
                "all hops trusted: the farthest one",
            ),
            (
                &trusted,
                proxy,
                headers(&[("x-forwarded-for", "203.0.113.7, garbage")]),
                "127.0.0.1",
                "garbage to the right: nothing beyond it is believed",
            ),
            (
                &trusted,
                proxy,
                headers(&[]),
                "127.0.0.1",
                "no header: the proxy itself",
            ),
            (
                &trusted,
                proxy,
                headers(&[(
                    "forwarded",
                    "for=192.0.2.60;proto=http, for=\"[2001:db8::7]:4711\"",
                )]),
                "2001:db8::7",
                "Forwarded, when there is no X-Forwarded-For",
            ),
            (
                &trusted,
                proxy,
                headers(&[
                    ("forwarded", "for=192.0.2.60"),
                    ("x-forwarded-for", "203.0.113.7"),
                ]),
                "203.0.113.7",
                "X-Forwarded-For wins over Forwarded",
            ),
            (
                &trusted,
                proxy,
                headers(&[("x-forwarded-for", "203.0.113.7:51000")]),
                "203.0.113.7",
                "an IPv4 hop with a port",
            ),
            (
                &trusted,
                ip("::ffff:127.0.0.1"),
                headers(&[("x-forwarded-for", "::ffff:203.0.113.7")]),
                "203.0.113.7",
                "IPv4-mapped addresses are IPv4",
            ),
        ];
        for (trusted, peer, headers, client, why) in cases {
            assert_eq!(trusted.client_ip(peer, &headers), ip(client), "{why}");
        }
    }
}
