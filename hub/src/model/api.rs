//! An API: a named service exposed through the gateway, its route and its upstream targets.
//! An external API is the same object with `external: true` (its upstream is outside the platform).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Kind, UniqueClaim};
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN, MAX_TEXT_LEN};

/// A named service exposed through the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Unique, immutable name (a slug).
    #[schema(example = "petstore")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Free labels for search and grouping (slugs).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The team or person responsible for it.
    #[serde(default)]
    pub owner: String,
    pub route: Route,
    pub upstream: Upstream,
    /// Whether the upstream lives outside the platform (a third party's URL).
    #[serde(default)]
    pub external: bool,
    /// CORS, IP lists, body limit, header transforms and path rewrite; absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<super::EdgeRules>,
    /// Answer plain-HTTP requests with a 308 to the same URL over https (the gateways' TLS
    /// listener).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub https_redirect: bool,
    /// The credentials it takes beyond API keys; absent for keys (and tokens) only.
    #[serde(default, skip_serializing_if = "Authentication::is_default")]
    pub authentication: Authentication,
}

/// The credentials an API takes beyond API keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authentication {
    /// Accept client certificates registered to applications, presented to the gateways' TLS
    /// listener (mTLS), as the application's credential. Needs a client CA.
    #[serde(default)]
    pub client_certificate: bool,
}

impl Authentication {
    pub fn is_default(&self) -> bool {
        *self == Authentication::default()
    }
}

/// The requests an API claims: an optional host and a path prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Host to match (`api.example.com`, `*.example.com`); absent matches any host.
    #[serde(default)]
    pub host: Option<String>,
    /// Path prefix to match; the longest matching prefix wins at the gateway.
    #[schema(example = "/pets")]
    pub path_prefix: String,
    /// Remove the prefix before forwarding upstream.
    #[serde(default)]
    pub strip_prefix: bool,
}

/// Where the gateway sends an API's traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// Targets chosen by weight; a canary is a target with a small weight.
    pub targets: Vec<Target>,
    /// TLS to its `https://` targets; absent for the webpki roots and no client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<super::upstream_tls::UpstreamTls>,
}

/// One upstream server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Base URL, `http://` or `https://`.
    #[schema(example = "http://127.0.0.1:9000")]
    pub url: String,
    /// Share of traffic relative to the other targets; 0 drains the target.
    #[serde(default = "default_weight")]
    #[schema(default = 100, maximum = 10000)]
    pub weight: u32,
}

fn default_weight() -> u32 {
    100
}

/// Most targets one upstream may list.
pub const MAX_TARGETS: usize = 64;
/// Largest target weight.
pub const MAX_WEIGHT: u32 = 10_000;

impl Kind for Api {
    const KIND: &'static str = "api";
    const LABEL: &'static str = "API";
    type Input = Api;
    type View = Api;

    fn key(&self) -> String {
        self.name.clone()
    }

    fn from_input(mut api: Api, previous: Option<&Api>) -> Result<Api, Vec<FieldError>> {
        api.upstream.keep_secrets(previous.map(|previous| &previous.upstream));
        let mut checker = Checker::new();
        checker.name("name", &api.name);
        checker.text("description", &api.description, MAX_TEXT_LEN);
        checker.text("owner", &api.owner, MAX_SHORT_TEXT_LEN);
        check_tags(&mut checker, &api.tags);
        api.route.host = api.route.host.filter(|host| !host.is_empty());
        if let Some(host) = &api.route.host {
            match gateway::route::normalize_host(host) {
                Ok(normalized) => api.route.host = Some(normalized),
                Err(error) => checker.push("route.host", error.to_string()),
            }
        }
        match gateway::route::normalize_path_prefix(&api.route.path_prefix) {
            Ok(normalized) => api.route.path_prefix = normalized,
            Err(error) => checker.push("route.path_prefix", error.to_string()),
        }
        check_upstream(&mut checker, "upstream", &api.upstream);
        // Rules that change nothing are no rules: the gateway then skips the edge step entirely.
        api.edge = api.edge.filter(|edge| !edge.is_empty());
        if let Some(edge) = &api.edge {
            edge.check(&mut checker);
        }
        checker.finish().map(|()| api)
    }

    fn view(&self) -> Api {
        let mut api = self.clone();
        api.upstream = api.upstream.redacted();
        api
    }

    fn keep_secrets(&mut self, previous: &Api) {
        self.upstream.keep_secrets(Some(&previous.upstream));
    }

    fn unique_claims(&self) -> Vec<UniqueClaim> {
        let route = gateway::route::RouteKey {
            host: self.route.host.clone(),
            path_prefix: self.route.path_prefix.clone(),
        };
        vec![UniqueClaim {
            scope: "route",
            value: route.to_string(),
            field: "route",
        }]
    }

    fn labels(&self) -> Vec<String> {
        let mut labels: Vec<String> = self.tags.iter().map(|tag| format!("tag:{tag}")).collect();
        labels.push(format!("external:{}", self.external));
        labels
    }

    fn search_text(&self) -> String {
        format!("{}\n{}\n{}", self.description, self.owner, self.tags.join(" "))
    }
}

/// Tags are slugs, at most 32 of them, no duplicates.
pub(crate) fn check_tags(checker: &mut Checker, tags: &[String]) {
    checker.ensure(tags.len() <= 32, "tags", "must list at most 32 tags");
    for (index, tag) in tags.iter().enumerate() {
        checker.name(&format!("tags[{index}]"), tag);
    }
    checker.unique("tags", tags.iter().map(String::as_str));
}

/// An upstream lists 1 to 64 absolute `http(s)` URLs, and at least one has traffic.
pub(crate) fn check_upstream(checker: &mut Checker, field: &str, upstream: &Upstream) {
    let targets = &upstream.targets;
    checker.ensure(
        (1..=MAX_TARGETS).contains(&targets.len()),
        format!("{field}.targets"),
        format!("must list 1 to {MAX_TARGETS} targets"),
    );
    for (index, target) in targets.iter().enumerate() {
        let url_ok = target.url.len() <= 2048
            && target.url.parse::<axum::http::Uri>().is_ok_and(|uri| {
                matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.host().is_some_and(|host| !host.is_empty())
                    && uri.query().is_none()
            });
        checker.ensure(
            url_ok,
            format!("{field}.targets[{index}].url"),
            "must be an absolute http:// or https:// URL with a host and no query",
        );
        checker.ensure(
            target.weight <= MAX_WEIGHT,
            format!("{field}.targets[{index}].weight"),
            format!("must be at most {MAX_WEIGHT}"),
        );
    }
    checker.ensure(
        targets.is_empty() || targets.iter().any(|target| target.weight > 0),
        format!("{field}.targets"),
        "at least one target must have a weight above 0",
    );
    checker.unique(
        &format!("{field}.targets"),
        targets.iter().map(|target| target.url.as_str()),
    );
    if let Some(tls) = &upstream.tls {
        tls.check(checker, field);
    }
}
