//! The user's current usage of their plan, as the gateway's limiter holds it (the gateway's admin
//! port answers `/usage`): read, never counted. With Redis it is the count every replica shares;
//! with in-memory limits, the count of the gateway asked.

use std::time::Duration;

use gateway::snapshot::{LimitBy, PlanSpec};
use serde::Deserialize;

use crate::error::PortalError;

/// Asks one gateway's admin port.
#[derive(Clone)]
pub struct UsageReader {
    client: reqwest::Client,
    admin_url: Option<reqwest::Url>,
}

/// What the gateway said of one key's usage.
#[derive(Debug, Clone, Deserialize)]
pub struct Usage {
    pub rate_limit: Option<RateUsage>,
    pub quota: Option<QuotaUsage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RateUsage {
    pub limit: u64,
    pub remaining: u64,
    pub reset_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QuotaUsage {
    pub limit: u64,
    pub used: u64,
    pub period: String,
    pub reset_seconds: u64,
}

impl UsageReader {
    pub fn new(admin_url: Option<&str>) -> Result<UsageReader, PortalError> {
        let admin_url = admin_url
            .map(|url| {
                reqwest::Url::parse(url)
                    .ok()
                    .filter(|url| matches!(url.scheme(), "http" | "https"))
                    .ok_or_else(|| PortalError::Invalid(format!("gateway_admin_url: `{url}` is not an http(s) URL")))
            })
            .transpose()?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|error| PortalError::Internal(format!("usage client: {error}")))?;
        Ok(UsageReader { client, admin_url })
    }

    /// Usage of `plan` by the user, or by each of `applications` (`owner/name`) when the plan
    /// counts per application: (whose, usage) pairs. Empty when no admin URL is configured;
    /// `Err` when the gateway does not answer.
    pub async fn read(
        &self,
        plan: &PlanSpec,
        user: &str,
        applications: &[String],
    ) -> Result<Vec<(String, Usage)>, String> {
        let Some(base) = &self.admin_url else {
            return Ok(Vec::new());
        };
        let whose: Vec<(String, Option<&str>)> = match plan.limit_by {
            LimitBy::Consumer => vec![("you".to_owned(), None)],
            LimitBy::Application => applications
                .iter()
                .map(|app| (app.clone(), Some(app.as_str())))
                .collect(),
        };
        let mut read = Vec::new();
        for (label, application) in whose {
            let mut url = base.join("/usage").map_err(|error| error.to_string())?;
            url.query_pairs_mut()
                .append_pair("plan", &plan.name)
                .append_pair("user", user);
            if let Some(application) = application {
                url.query_pairs_mut().append_pair("application", application);
            }
            let response = self.client.get(url).send().await.map_err(|error| error.to_string())?;
            if !response.status().is_success() {
                return Err(format!("the gateway answered {}", response.status()));
            }
            read.push((label, response.json().await.map_err(|error| error.to_string())?));
        }
        Ok(read)
    }
}

impl UsageReader {
    /// When the gateway last saw each of these keys used (Unix seconds). Empty without an
    /// admin URL or when the gateway does not answer: a page shows "not seen" then, not an error.
    pub async fn last_used(&self, ids: &[&str]) -> std::collections::HashMap<String, i64> {
        #[derive(Deserialize)]
        struct Answer {
            last_used: std::collections::HashMap<String, i64>,
        }
        let Some(base) = &self.admin_url else {
            return Default::default();
        };
        let Ok(mut url) = base.join("/keys/last-used") else {
            return Default::default();
        };
        for id in ids {
            url.query_pairs_mut().append_pair("id", id);
        }
        match self.client.get(url).send().await {
            Ok(response) if response.status().is_success() => response
                .json::<Answer>()
                .await
                .map(|answer| answer.last_used)
                .unwrap_or_default(),
            Ok(response) => {
                tracing::warn!(status = %response.status(), "the gateway did not tell when keys were last used");
                Default::default()
            }
            Err(error) => {
                tracing::warn!(%error, "the gateway did not tell when keys were last used");
                Default::default()
            }
        }
    }
}

impl Usage {
    /// "1,997 of 2,000 requests left in this window (full again in 3 s); 3 of 100,000 used this month".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(rate) = &self.rate_limit {
            let mut text = format!(
                "{} of {} requests left in this window",
                crate::catalog::thousands(rate.remaining),
                crate::catalog::thousands(rate.limit)
            );
            if rate.reset_seconds > 0 {
                text.push_str(&format!(" (full again in {} s)", rate.reset_seconds));
            }
            parts.push(text);
        }
        if let Some(quota) = &self.quota {
            parts.push(format!(
                "{} of {} used this {}",
                crate::catalog::thousands(quota.used),
                crate::catalog::thousands(quota.limit),
                quota.period
            ));
        }
        parts.join("; ")
    }
}
