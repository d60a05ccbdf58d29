//! What a rate limit is keyed by.

use std::borrow::Cow;
use std::net::IpAddr;

use http::{HeaderName, Request};

use crate::marker::{PeerAddr, Principal};

/// Picks the key a request is counted under.
///
/// Returning `None` counts the request under the shared key `-`, so
/// requests without a key are limited together rather than not at all.
pub trait KeyExtractor<B>: Clone + Send + Sync + 'static {
    /// The key of `request`.
    fn key<'a>(&self, request: &'a Request<B>) -> Option<Cow<'a, str>>;
}

/// The [`Principal`]'s user, set by an authenticating layer outside the
/// rate limit: the default key.
#[derive(Clone, Copy, Debug, Default)]
pub struct UserKey;

impl<B> KeyExtractor<B> for UserKey {
    fn key<'a>(&self, request: &'a Request<B>) -> Option<Cow<'a, str>> {
        Principal::from_extensions(request.extensions()).map(|p| Cow::Borrowed(p.user()))
    }
}

/// The value of a request header (for a trusted front end that names the
/// caller). Values that are not visible ASCII count as no key.
#[derive(Clone, Debug)]
pub struct HeaderKey(HeaderName);

impl HeaderKey {
    /// Keys by the header `name`.
    pub fn new(name: HeaderName) -> Self {
        Self(name)
    }
}

impl<B> KeyExtractor<B> for HeaderKey {
    fn key<'a>(&self, request: &'a Request<B>) -> Option<Cow<'a, str>> {
        let value = request.headers().get(&self.0)?.to_str().ok()?;
        (!value.is_empty()).then_some(Cow::Borrowed(value))
    }
}

/// The client's IP address: the connection's peer ([`PeerAddr`]), or,
/// only when that peer is a proxy you trust, the nearest address in
/// `X-Forwarded-For` that is not one of your proxies.
///
/// `X-Forwarded-For` is never trusted by default: any client can write
/// it.
///
/// ```
/// use spark_tower::rate_limit::ClientIpKey;
///
/// let key = ClientIpKey::new().trust_proxy("10.0.0.0/8".parse().unwrap());
/// # let _ = key;
/// ```
#[derive(Clone, Debug, Default)]
pub struct ClientIpKey {
    trusted: Vec<IpNet>,
}

impl ClientIpKey {
    /// Keys by the connection's peer address alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts proxies in `net` to report the client in `X-Forwarded-For`.
    pub fn trust_proxy(mut self, net: IpNet) -> Self {
        self.trusted.push(net);
        self
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(ip))
    }
}

impl<B> KeyExtractor<B> for ClientIpKey {
    fn key<'a>(&self, request: &'a Request<B>) -> Option<Cow<'a, str>> {
        let peer = request.extensions().get::<PeerAddr>()?.0.ip();
        let mut client = peer;
        if self.trusts(peer) {
            // Walk back from the nearest hop; the first untrusted address
            // is the client as our own proxies saw it.
            let hops = request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect::<Vec<_>>();
            for hop in hops.iter().rev() {
                match hop.parse::<IpAddr>() {
                    Ok(ip) if self.trusts(ip) => client = ip,
                    Ok(ip) => {
                        client = ip;
                        break;
                    }
                    // A malformed hop ends the trusted chain.
                    Err(_) => break,
                }
            }
        }
        Some(Cow::Owned(client.to_canonical().to_string()))
    }
}

/// An IP network, such as `10.0.0.0/8` or `fd00::/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not an IP network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an IP network looks like 10.0.0.0/8 or fd00::/8")]
pub struct IpNetError;

impl std::str::FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(text: &str) -> Result<Self, IpNetError> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| IpNetError)?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| IpNetError)?,
            None => max,
        };
        if prefix > max {
            return Err(IpNetError);
        }
        Ok(Self { addr, prefix })
    }
}

impl IpNet {
    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses count
    /// as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: &[&str]) -> Request<()> {
        let mut request = Request::new(());
        request
            .extensions_mut()
            .insert(PeerAddr(format!("{peer}:4000").parse().unwrap()));
        for value in forwarded {
            request
                .headers_mut()
                .append("x-forwarded-for", value.parse().unwrap());
        }
        request
    }

    fn key(extractor: &ClientIpKey, request: &Request<()>) -> String {
        extractor.key(request).unwrap().into_owned()
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_trusted() {
        let plain = ClientIpKey::new();
        let trusting = ClientIpKey::new()
            .trust_proxy("10.0.0.0/8".parse().unwrap())
            .trust_proxy("192.168.1.1".parse().unwrap());
        let cases = [
            (
                "spoofed by a client",
                "203.0.113.9",
                &["1.2.3.4"][..],
                "203.0.113.9",
                "203.0.113.9",
            ),
            (
                "one trusted proxy",
                "10.1.2.3",
                &["198.51.100.7"],
                "10.1.2.3",
                "198.51.100.7",
            ),
            (
                "a chain of trusted proxies",
                "10.1.2.3",
                &["198.51.100.7, 192.168.1.1", "10.9.9.9"],
                "10.1.2.3",
                "198.51.100.7",
            ),
            (
                "a forged left part",
                "10.1.2.3",
                &["6.6.6.6, 198.51.100.7"],
                "10.1.2.3",
                "198.51.100.7",
            ),
            (
                "a malformed hop",
                "10.1.2.3",
                &["198.51.100.7, junk"],
                "10.1.2.3",
                "10.1.2.3",
            ),
            ("no header", "10.1.2.3", &[], "10.1.2.3", "10.1.2.3"),
        ];
        for (name, peer, forwarded, without, with) in cases {
            let request = request(peer, forwarded);
            assert_eq!(key(&plain, &request), without, "{name}");
            assert_eq!(key(&trusting, &request), with, "{name}");
        }
        assert!(KeyExtractor::<()>::key(&plain, &Request::new(())).is_none());
    }

    #[test]
    fn networks_parse_and_match() {
        let net: IpNet = "fd00::/8".parse().unwrap();
        assert!(net.contains("fd12::1".parse().unwrap()));
        assert!(!net.contains("fe80::1".parse().unwrap()));
        let v4: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(v4.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(
            "0.0.0.0/0"
                .parse::<IpNet>()
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "::/129", "nonsense", "10.0.0.0/x", ""] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn user_and_header_keys() {
        let mut request = Request::new(());
        assert!(UserKey.key(&request).is_none());
        request
            .extensions_mut()
            .insert(Principal::new("alice", "k", "pro", Vec::<String>::new()));
        assert_eq!(UserKey.key(&request).unwrap(), "alice");
        let header = HeaderKey::new(HeaderName::from_static("x-tenant"));
        assert!(header.key(&request).is_none());
        request
            .headers_mut()
            .insert("x-tenant", "acme".parse().unwrap());
        assert_eq!(header.key(&request).unwrap(), "acme");
    }
}
