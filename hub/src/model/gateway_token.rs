//! A gateway token: the credential a gateway opens its stream to the hub with. Shown once;
//! only its hash is kept. Revoking it (deleting it) closes the gateway's stream.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Gateway, Kind, Reference, UniqueClaim};
use crate::validate::{Checker, FieldError, MAX_SHORT_TEXT_LEN};

/// A gateway token as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayToken {
    pub id: String,
    /// The gateway it authenticates.
    pub gateway: String,
    pub name: String,
    pub prefix: String,
    /// Hex SHA-256 of the token.
    pub hash: String,
}

/// What the API shows of a gateway token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GatewayTokenView {
    pub id: String,
    pub gateway: String,
    pub name: String,
    /// The first characters of the token, to recognise it by.
    pub prefix: String,
}

impl Kind for GatewayToken {
    const KIND: &'static str = "gateway_token";
    const LABEL: &'static str = "gateway token";
    type Input = GatewayToken;
    type View = GatewayTokenView;

    fn key(&self) -> String {
        self.id.clone()
    }

    fn from_input(token: GatewayToken, _previous: Option<&Self>) -> Result<Self, Vec<FieldError>> {
        let mut checker = Checker::new();
        checker.ensure(!token.name.trim().is_empty(), "name", "must not be empty");
        checker.text("name", &token.name, MAX_SHORT_TEXT_LEN);
        checker.finish().map(|()| token)
    }

    fn view(&self) -> GatewayTokenView {
        GatewayTokenView {
            id: self.id.clone(),
            gateway: self.gateway.clone(),
            name: self.name.clone(),
            prefix: self.prefix.clone(),
        }
    }

    fn references(&self) -> Vec<Reference> {
        vec![Reference::owner("gateway", Gateway::KIND, &self.gateway)]
    }

    fn unique_claims(&self) -> Vec<UniqueClaim> {
        vec![UniqueClaim {
            scope: "gateway_token_hash",
            value: self.hash.clone(),
            field: "token",
        }]
    }
}
