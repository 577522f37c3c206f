//! "Allowed addresses": the IPv4 and IPv6 addresses and CIDR ranges a key may
//! be used from. None set: from anywhere.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// Most entries one key may list.
pub const MAX_ALLOWED_IPS: usize = 100;

/// The addresses and ranges a key may be used from, in the order typed,
/// each once; empty means from anywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedIps(Vec<IpNet>);

impl AllowedIps {
    /// No list: any address.
    pub const NONE: AllowedIps = AllowedIps(Vec::new());

    /// Entries separated by line breaks, commas or spaces, each an address
    /// (`10.1.2.3`, `2001:db8::1`) or a range (`10.0.0.0/8`, `2001:db8::/32`).
    /// A range with bits set past its prefix is refused with the range meant,
    /// since it most likely is a typing mistake.
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut nets: Vec<IpNet> = Vec::new();
        for entry in input
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
        {
            let net = parse_entry(entry)?;
            if !nets.contains(&net) {
                nets.push(net);
            }
            if nets.len() > MAX_ALLOWED_IPS {
                return Err(format!(
                    "List at most {MAX_ALLOWED_IPS} addresses or ranges (combine them into wider ranges)"
                ));
            }
        }
        Ok(AllowedIps(nets))
    }

    /// The list as it is stored: `None` when empty (from anywhere).
    pub fn stored(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.to_string())
    }

    /// A stored list; entries this build cannot read are skipped (they were
    /// validated on the way in).
    pub fn from_stored(stored: Option<&str>) -> Self {
        AllowedIps(
            stored
                .unwrap_or_default()
                .split(',')
                .filter_map(|entry| parse_entry(entry.trim()).ok())
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each entry as written back: an address alone, a range with its prefix.
    pub fn entries(&self) -> Vec<String> {
        self.0.iter().map(entry_text).collect()
    }

    /// Whether a request from `ip` may use the key. An IPv4 address written
    /// as IPv6 (`::ffff:10.1.2.3`, as a dual-stack socket reports it) is
    /// judged as the IPv4 address it is.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.is_empty() || self.0.iter().any(|net| net.contains(&ip))
    }
}

/// One entry: an address (a range of one) or a range.
fn parse_entry(entry: &str) -> Result<IpNet, String> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    let net: IpNet = entry.parse().map_err(|_| {
        format!(
            "“{}” is not an IP address or a CIDR range like 10.0.0.0/8 or 2001:db8::/32",
            crate::text::shown(entry, 50)
        )
    })?;
    if net.trunc() != net {
        return Err(format!(
            "{net} has bits set past its /{}: did you mean {}?",
            net.prefix_len(),
            net.trunc()
        ));
    }
    Ok(net)
}

/// An entry as an error message quotes it: at most 50 characters, no
/// control characters.
fn entry_text(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

impl fmt::Display for AllowedIps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.entries().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_ranges_are_read_as_typed_and_each_kept_once() {
        let list =
            AllowedIps::parse(" 10.0.0.0/8,192.168.1.7\n2001:db8::/32  10.0.0.0/8 ").unwrap();
        assert_eq!(
            list.entries(),
            ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]
        );
        assert_eq!(
            list.stored().as_deref(),
            Some("10.0.0.0/8, 192.168.1.7, 2001:db8::/32")
        );
        assert_eq!(AllowedIps::from_stored(list.stored().as_deref()), list);
    }

    #[test]
    fn nothing_listed_allows_any_address_and_is_stored_as_nothing() {
        let list = AllowedIps::parse(" \n ,").unwrap();
        assert!(list.is_empty());
        assert_eq!(list.stored(), None);
        assert!(list.allows(ip("203.0.113.9")));
        assert!(list.allows(ip("2001:db8::1")));
    }

    #[test]
    fn only_listed_addresses_are_allowed() {
        let list = AllowedIps::parse("10.0.0.0/8, 192.168.1.7, 2001:db8::/32").unwrap();
        for (address, allowed) in [
            ("10.255.0.1", true),
            ("11.0.0.1", false),
            ("192.168.1.7", true),
            ("192.168.1.8", false),
            ("2001:db8:ffff::1", true),
            ("2001:db9::1", false),
            // IPv4 as a dual-stack socket reports it.
            ("::ffff:10.1.2.3", true),
            ("::ffff:11.1.2.3", false),
        ] {
            assert_eq!(list.allows(ip(address)), allowed, "{address}");
        }
    }

    #[test]
    fn a_mapped_ipv4_entry_is_the_ipv4_address() {
        let list = AllowedIps::parse("::ffff:10.1.2.3").unwrap();
        assert_eq!(list.entries(), ["10.1.2.3"]);
        assert!(list.allows(ip("10.1.2.3")));
    }

    #[test]
    fn what_is_not_an_address_or_range_is_refused_with_what_was_meant() {
        for (input, message) in [
            (
                "10.0.0.300",
                "“10.0.0.300” is not an IP address or a CIDR range",
            ),
            ("example.com", "“example.com” is not an IP address"),
            ("10.0.0.0/33", "“10.0.0.0/33” is not an IP address"),
            (
                "10.0.0.1/8",
                "10.0.0.1/8 has bits set past its /8: did you mean 10.0.0.0/8?",
            ),
            ("2001:db8::1/32", "did you mean 2001:db8::/32?"),
        ] {
            let error = AllowedIps::parse(input).unwrap_err();
            assert!(error.contains(message), "{input}: {error}");
        }
    }

    #[test]
    fn a_list_has_a_bound() {
        let many: Vec<String> = (0..=MAX_ALLOWED_IPS)
            .map(|i| format!("10.0.{}.{}", i / 256, i % 256))
            .collect();
        assert!(AllowedIps::parse(&many[..MAX_ALLOWED_IPS].join(",")).is_ok());
        assert!(
            AllowedIps::parse(&many.join(","))
                .unwrap_err()
                .contains("at most 100")
        );
    }
}
