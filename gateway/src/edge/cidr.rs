//! CIDR lists (IPv4 and IPv6), the allow-and-deny rule over them that an API's edge and an
//! access policy share ([`IpLists`]), and which address a request comes from. Parsed once when
//! the snapshot loads; a lookup is a mask and a compare per entry.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use http::HeaderMap;
use http::header::HeaderName;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// One network: an address and how many leading bits count. IPv4 is kept apart from IPv6, and
/// IPv4-mapped IPv6 addresses are compared as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    v4: bool,
    network: u128,
    mask: u128,
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (one host). Host bits must be zero, so
    /// that `10.1.2.3/8` (probably a typo) is refused rather than silently widened.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (address, bits) = match text.split_once('/') {
            Some((address, bits)) => (address, Some(bits)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("`{text}` is not an IPv4 or IPv6 address or CIDR"))?;
        let (v4, value, width) = match address.to_canonical() {
            IpAddr::V4(v4) => (true, u128::from(u32::from(v4)), 32),
            IpAddr::V6(v6) => (false, u128::from(v6), 128),
        };
        let bits: u32 = match bits {
            None => width,
            // Digits only: `u32::parse` would also take a leading `+`.
            Some(bits) => Some(bits)
                .filter(|bits| !bits.is_empty() && bits.len() <= 3 && bits.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|bits| bits.parse().ok())
                .filter(|bits| *bits <= width)
                .ok_or_else(|| format!("`{text}`: the prefix length must be 0 to {width}"))?,
        };
        let mask = if bits == 0 {
            0
        } else {
            (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width))
        };
        if value & !mask != 0 {
            return Err(format!("`{text}` has host bits set; write the network address"));
        }
        Ok(Cidr {
            v4,
            network: value,
            mask,
        })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match address.to_canonical() {
            IpAddr::V4(v4) => self.v4 && u128::from(u32::from(v4)) & self.mask == self.network,
            IpAddr::V6(v6) => !self.v4 && u128::from(v6) & self.mask == self.network,
        }
    }

    /// Whether every address of `other` is in this network (for the hub's lint).
    pub fn covers(&self, other: &Cidr) -> bool {
        self.v4 == other.v4 && self.mask & other.mask == self.mask && other.network & self.mask == self.network
    }

    /// How many leading bits count.
    fn prefix_len(&self) -> u32 {
        self.mask.count_ones()
    }
}

/// As written in a snapshot: `10.0.0.0/8`, or a bare address for one host.
impl fmt::Display for Cidr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (address, width) = if self.v4 {
            // The network of an IPv4 CIDR holds 32 bits.
            (IpAddr::V4(Ipv4Addr::from(self.network as u32)), 32)
        } else {
            (IpAddr::V6(Ipv6Addr::from(self.network)), 128)
        };
        match self.prefix_len() {
            bits if bits == width => write!(formatter, "{address}"),
            bits => write!(formatter, "{address}/{bits}"),
        }
    }
}

/// A list of networks.
#[derive(Debug, Clone, Default)]
pub struct CidrSet(Box<[Cidr]>);

impl CidrSet {
    /// Parses every entry; the errors name the entry's index.
    pub fn parse(entries: &[String]) -> (CidrSet, Vec<(usize, String)>) {
        let mut networks = Vec::with_capacity(entries.len());
        let mut problems = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match Cidr::parse(entry) {
                Ok(cidr) => networks.push(cidr),
                Err(problem) => problems.push((index, problem)),
            }
        }
        (CidrSet(networks.into()), problems)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|cidr| cidr.contains(address))
    }

    /// The first network holding the address, to name it in a refusal.
    pub fn containing(&self, address: IpAddr) -> Option<&Cidr> {
        self.0.iter().find(|cidr| cidr.contains(address))
    }

    pub fn networks(&self) -> &[Cidr] {
        &self.0
    }
}

/// Which of the two lists refused an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpList {
    Allow,
    Deny,
}

impl IpList {
    /// The list's field name: `ip_allow` or `ip_deny`.
    pub fn field(self) -> &'static str {
        match self {
            IpList::Allow => "ip_allow",
            IpList::Deny => "ip_deny",
        }
    }
}

/// An allow list and a deny list: the one IP rule, for an API's edge and for an access policy.
#[derive(Debug, Clone, Default)]
pub struct IpLists {
    /// Empty allows every address.
    pub allow: CidrSet,
    /// Refused even inside `allow`.
    pub deny: CidrSet,
}

impl IpLists {
    /// `None` when the lists take the address, else the list that refuses it: `ip_deny` wins
    /// over `ip_allow`. An unknown address (an unreadable forwarded hop) is refused, by the allow
    /// list when there is one.
    pub fn refusing(&self, client: Option<IpAddr>) -> Option<IpList> {
        let Some(address) = client else {
            return Some(if self.allow.is_empty() {
                IpList::Deny
            } else {
                IpList::Allow
            });
        };
        if self.deny.contains(address) {
            return Some(IpList::Deny);
        }
        if !self.allow.is_empty() && !self.allow.contains(address) {
            return Some(IpList::Allow);
        }
        None
    }

    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// The networks of one list in words, for refusals and the hub's views: `10.0.0.0/8,
    /// 192.168.0.0/16`, the first few and a count when it is long.
    pub fn describe(&self, list: IpList) -> String {
        const SHOWN: usize = 4;
        let networks = match list {
            IpList::Allow => self.allow.networks(),
            IpList::Deny => self.deny.networks(),
        };
        let mut text = networks
            .iter()
            .take(SHOWN)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if networks.len() > SHOWN {
            text.push_str(&format!(" and {} more", networks.len() - SHOWN));
        }
        text
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the right-most
/// `X-Forwarded-For` hop that is not a trusted proxy (each proxy appends the address it saw, so
/// everything left of the first untrusted hop may be forged by the client). `None` when a hop
/// that would decide cannot be read, which every IP rule then refuses.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &CidrSet) -> Option<IpAddr> {
    let peer = peer.to_canonical();
    if trusted.is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    let mut client = peer;
    for value in headers.get_all(X_FORWARDED_FOR).iter().rev() {
        let text = value.to_str().ok()?;
        for hop in text.rsplit(',') {
            let hop = parse_hop(hop.trim())?;
            client = hop;
            if !trusted.contains(hop) {
                return Some(hop);
            }
        }
    }
    // Every hop is a trusted proxy: the left-most is as close to the client as anyone saw.
    Some(client)
}

/// A hop is an address, possibly with a port (`203.0.113.7:4711`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|address| address.to_canonical())
}
