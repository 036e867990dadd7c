//! IP lists, of access policies and of APIs' edge rules: an allow list whose every network a
//! deny list covers admits no address at all (`ip-allow-all-denied`), and a deny entry outside
//! every allowed network refuses nothing the allow list would admit (`ip-deny-outside-allow`).
//! Networks are read with the gateway's own parser; an entry it refuses is already an
//! `invalid-value` finding, and is left out here.

use gateway::edge::cidr::Cidr;

use super::index::Index;
use super::{Finding, finding};
use crate::manifest::LocatedDocument;

/// Finds both rules on every access policy and every API.
pub(super) fn check(index: &Index<'_>, findings: &mut Vec<Finding>) {
    for policy in &index.policies {
        let Some(spec) = &policy.spec else { continue };
        let lists = Lists {
            document: policy.document,
            prefix: "",
            whose: format!("access policy `{}`", policy.document.name),
        };
        lists.check(&spec.ip_allow, &spec.ip_deny, findings);
    }
    for api in &index.apis {
        let Some(edge) = api.spec.as_ref().and_then(|spec| spec.edge.as_ref()) else {
            continue;
        };
        let lists = Lists {
            document: api.document,
            prefix: "edge.",
            whose: format!("API `{}`", api.document.name),
        };
        lists.check(&edge.ip_allow, &edge.ip_deny, findings);
    }
}

/// Where a pair of lists is: its document, the fields' prefix (`edge.`) and whose they are.
struct Lists<'d> {
    document: &'d LocatedDocument,
    prefix: &'static str,
    whose: String,
}

impl Lists<'_> {
    fn check(&self, allow: &[String], deny: &[String], findings: &mut Vec<Finding>) {
        let (allowed, denied) = (networks(allow), networks(deny));
        // Without an allow list every address is allowed, and any deny entry narrows that.
        if allowed.is_empty() {
            return;
        }
        let covered = |network: &Cidr| denied.iter().any(|(_, deny)| deny.covers(network));
        if allowed.iter().all(|(_, network)| covered(network)) {
            findings.push(finding(
                "ip-allow-all-denied",
                self.document.locate(&format!("{}ip_allow", self.prefix)),
                format!(
                    "{} allows only {} and denies all of it in ip_deny: no address is ever allowed",
                    self.whose,
                    quoted(allow)
                ),
            ));
            return;
        }
        for (position, network) in &denied {
            // Two networks overlap exactly when one covers the other.
            let overlaps = allowed
                .iter()
                .any(|(_, allow)| allow.covers(network) || network.covers(allow));
            if !overlaps {
                findings.push(finding(
                    "ip-deny-outside-allow",
                    self.document.locate(&format!("{}ip_deny[{position}]", self.prefix)),
                    format!(
                        "{}'s ip_deny entry `{}` is outside every ip_allow network, so it refuses nothing the allow list admits",
                        self.whose, deny[*position]
                    ),
                ));
            }
        }
    }
}

/// The entries the gateway parses, with their positions.
fn networks(entries: &[String]) -> Vec<(usize, Cidr)> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(position, entry)| Cidr::parse(entry).ok().map(|cidr| (position, cidr)))
        .collect()
}

fn quoted(entries: &[String]) -> String {
    entries
        .iter()
        .map(|entry| format!("`{entry}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
