//! Bearer-token verification keys published by an identity provider as a JWKS: held in memory,
//! chosen by `kid`, refreshed on a schedule and when a token names a key we do not know (key
//! rotation), at most once per `min_refetch` so forged `kid`s cannot make us hammer the
//! provider. The HTTP fetch itself is the server's business, behind [`KeySetFetcher`].

use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Why a key set could not be obtained.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeySetError {
    /// The provider could not be reached or answered with an error.
    #[error("cannot fetch {url}: {reason}")]
    Fetch {
        /// What was asked.
        url: String,
        /// The cause.
        reason: String,
    },
    /// The provider answered with something that is not what we asked for.
    #[error("{url}: {reason}")]
    Invalid {
        /// What was asked.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Fetches the current JWKS (from a JWKS URL, or through OpenID Connect discovery).
#[async_trait::async_trait]
pub trait KeySetFetcher: Send + Sync {
    /// The key set as published right now.
    ///
    /// # Errors
    /// The provider is unreachable or its answer is not a JWKS.
    async fn fetch(&self) -> Result<JwkSet, KeySetError>;
}

/// How remote keys are obtained and refreshed.
#[derive(Clone)]
pub struct RemoteKeysConfig {
    /// The source.
    pub fetcher: Arc<dyn KeySetFetcher>,
    /// Interval of scheduled refreshes.
    pub refresh: Duration,
    /// Least time between two fetches caused by unknown `kid`s.
    pub min_refetch: Duration,
}

impl std::fmt::Debug for RemoteKeysConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKeysConfig")
            .field("refresh", &self.refresh)
            .field("min_refetch", &self.min_refetch)
            .finish_non_exhaustive()
    }
}

/// One usable verification key.
#[derive(Clone)]
pub(crate) struct RemoteKey {
    pub(crate) kid: Option<String>,
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// The algorithm a JWK verifies, if it is one of the pinned ones (RS256, ES256) and meant for
/// signatures. Keys for encryption or other algorithms are skipped, not errors: providers
/// publish them side by side.
fn usable(jwk: &Jwk) -> Option<(Algorithm, DecodingKey)> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let alg = match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(KeyAlgorithm::RS256), AlgorithmParameters::RSA(_))
        | (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (Some(KeyAlgorithm::ES256), AlgorithmParameters::EllipticCurve(p))
        | (None, AlgorithmParameters::EllipticCurve(p))
            if p.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    DecodingKey::from_jwk(jwk).ok().map(|key| (alg, key))
}

/// The keys in force and the fetch bookkeeping.
pub(crate) struct RemoteKeys {
    config: RemoteKeysConfig,
    keys: RwLock<Arc<Vec<RemoteKey>>>,
    /// Serialises fetches and remembers when the last one finished.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl RemoteKeys {
    pub(crate) fn new(config: RemoteKeysConfig) -> Self {
        RemoteKeys {
            config,
            keys: RwLock::new(Arc::new(Vec::new())),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    /// The keys in force (a snapshot; a refresh swaps the whole set).
    pub(crate) fn snapshot(&self) -> Arc<Vec<RemoteKey>> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            // A panic while swapping an `Arc` cannot leave it half-written.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn knows(&self, kid: &str) -> bool {
        self.snapshot()
            .iter()
            .any(|k| k.kid.as_deref() == Some(kid))
    }

    async fn fetch_locked(&self, last: &mut Option<Instant>) -> Result<usize, KeySetError> {
        let result = self.config.fetcher.fetch().await;
        // A failed fetch counts for the rate limit too: a provider that is down must not be
        // asked again by every request that arrives meanwhile.
        *last = Some(Instant::now());
        let set = result?;
        let keys: Vec<RemoteKey> = set
            .keys
            .iter()
            .filter_map(|jwk| {
                usable(jwk).map(|(alg, key)| RemoteKey {
                    kid: jwk.common.key_id.clone(),
                    alg,
                    key,
                })
            })
            .collect();
        let n = keys.len();
        // An empty or unusable answer keeps the previous keys: it is more likely a provider
        // hiccup than a deliberate revocation of every key.
        if n > 0 {
            match self.keys.write() {
                Ok(mut k) => *k = Arc::new(keys),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
            }
        }
        Ok(n)
    }

    /// Fetches now, whatever the rate limit (start-up and the schedule).
    pub(crate) async fn refresh(&self) -> Result<usize, KeySetError> {
        let mut last = self.last_fetch.lock().await;
        self.fetch_locked(&mut last).await
    }

    /// A token names `kid`, which is not in the set: fetch again unless the last fetch was less
    /// than `min_refetch` ago. Concurrent callers wait for one fetch instead of each making
    /// their own.
    pub(crate) async fn refetch_for(&self, kid: &str) {
        let mut last = self.last_fetch.lock().await;
        if self.knows(kid) {
            return; // another request's fetch brought it meanwhile
        }
        if last.is_some_and(|t| t.elapsed() < self.config.min_refetch) {
            return;
        }
        if let Err(e) = self.fetch_locked(&mut last).await {
            tracing::warn!(error = %e, "refreshing the JWKS for an unknown kid failed");
        }
    }

    pub(crate) fn refresh_interval(&self) -> Duration {
        self.config.refresh
    }
}

/// Refreshes the keys on their schedule for as long as the services exist.
#[derive(Clone)]
pub struct KeyRefresher {
    pub(crate) keys: Weak<RemoteKeys>,
    pub(crate) interval: Duration,
}

impl std::fmt::Debug for KeyRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRefresher")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl KeyRefresher {
    /// Loops until the services are dropped; a failed refresh is logged and the old keys stay.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        // The first tick completes at once; start-up has just fetched.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let Some(keys) = self.keys.upgrade() else {
                return;
            };
            match keys.refresh().await {
                Ok(n) => tracing::debug!(keys = n, "JWKS refreshed"),
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled JWKS refresh failed; keeping the previous keys")
                }
            }
        }
    }
}
