//! The HTTP side of remote verification keys: fetches a JWKS from `auth.jwks_url`, or finds it
//! through OpenID Connect discovery of `auth.oidc_issuer`. Caching, `kid` selection and rate
//! limits live in `idm_service::remote_keys`; this module only talks HTTP.

use std::time::Duration;

use idm_service::{KeySetError, KeySetFetcher};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

/// Where the key set is published.
#[derive(Debug, Clone)]
pub enum KeySetSource {
    /// A JWKS document.
    Jwks(String),
    /// An OpenID Connect issuer; its discovery document names the JWKS (`jwks_uri`).
    OidcIssuer(String),
}

/// Fetches the key set over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpKeySetFetcher {
    client: reqwest::Client,
    source: KeySetSource,
}

/// The part of an OpenID Provider Configuration we use.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// The discovery URL of an issuer (OpenID Connect Discovery 1.0, section 4).
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

impl HttpKeySetFetcher {
    /// A fetcher with a bounded request time: a hanging provider must not hold start-up or a
    /// request that waits for a key refresh.
    ///
    /// # Errors
    /// The HTTP client cannot be built (TLS set-up).
    pub fn new(source: KeySetSource, timeout: Duration) -> Result<Self, KeySetError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("idm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KeySetError::Fetch {
                url: String::new(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(HttpKeySetFetcher { client, source })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, KeySetError> {
        let fetch = |e: reqwest::Error| KeySetError::Fetch {
            url: url.to_owned(),
            reason: e.to_string(),
        };
        let response = self
            .client
            .get(url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(fetch)?
            .error_for_status()
            .map_err(fetch)?;
        let body = response.bytes().await.map_err(fetch)?;
        serde_json::from_slice(&body).map_err(|e| KeySetError::Invalid {
            url: url.to_owned(),
            reason: format!("not the expected JSON: {e}"),
        })
    }
}

#[async_trait::async_trait]
impl KeySetFetcher for HttpKeySetFetcher {
    async fn fetch(&self) -> Result<JwkSet, KeySetError> {
        match &self.source {
            KeySetSource::Jwks(url) => self.get_json(url).await,
            KeySetSource::OidcIssuer(issuer) => {
                let url = discovery_url(issuer);
                let discovery: Discovery = self.get_json(&url).await?;
                // Discovery requires the document to name exactly the issuer it was fetched
                // for; anything else could hand us another provider's keys.
                if discovery.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
                    return Err(KeySetError::Invalid {
                        url,
                        reason: format!("issuer is {:?}, expected {issuer:?}", discovery.issuer),
                    });
                }
                self.get_json(&discovery.jwks_uri).await
            }
        }
    }
}
