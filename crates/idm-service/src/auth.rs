//! Who is calling: bearer-JWT verification, caller resolution, X-Tokens and password hashing.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use idm_domain::access::{Caller, CallerIdentity, Grant};
use idm_domain::roles::role_rights;
use idm_domain::values::UserState;
use idm_domain::{DomainError, ErrorCode};
use idm_ports::revocation::Reach;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

use crate::remote_keys::{KeyRefresher, KeySetError, RemoteKeys, RemoteKeysConfig};
use crate::{AppError, AppResult, Services};

/// A public key for RS256 or ES256 bearer tokens, as PEM bytes.
#[derive(Clone)]
pub enum KeySource {
    /// RSA public key (RS256).
    Rsa(Vec<u8>),
    /// EC P-256 public key (ES256).
    Ec(Vec<u8>),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeySource::Rsa(_) => "KeySource::Rsa(..)",
            KeySource::Ec(_) => "KeySource::Ec(..)",
        })
    }
}

/// How tokens are checked and issued.
#[derive(Clone)]
pub struct AuthConfig {
    /// HS256 secret for bearer tokens (development); also signs `idm token` output.
    pub hs256_secret: Option<String>,
    /// RS256/ES256 public keys.
    pub public_keys: Vec<KeySource>,
    /// Accepted algorithms (`HS256`, `RS256`, `ES256`); empty = derived from the keys.
    pub algorithms: Vec<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Clock leeway in seconds (at most 30).
    pub leeway_seconds: u64,
    /// How long a resolved caller is reused for the same bearer token (0 = never). Bounds how
    /// late another instance sees a revoked right or a disabled caller; this instance forgets
    /// cached callers at the end of every write use case (see `Services::writing`).
    pub caller_cache_ttl_ms: u64,
    /// HS256 secret of X-Tokens.
    pub xtoken_secret: String,
    /// X-Token lifetime in seconds.
    pub xtoken_ttl_seconds: u64,
    /// RS256/ES256 keys published by an identity provider (JWKS), if configured.
    pub remote_keys: Option<RemoteKeysConfig>,
    /// Claim holding the caller's user extId (`sub` by default).
    pub user_claim: String,
    /// Claim holding the caller's client extId (`clientExtId` by default).
    pub client_claim: String,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "***"))
            .field("public_keys", &self.public_keys)
            .field("algorithms", &self.algorithms)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_seconds", &self.leeway_seconds)
            .field("caller_cache_ttl_ms", &self.caller_cache_ttl_ms)
            .field("xtoken_ttl_seconds", &self.xtoken_ttl_seconds)
            .field("remote_keys", &self.remote_keys)
            .field("user_claim", &self.user_claim)
            .field("client_claim", &self.client_claim)
            .finish_non_exhaustive()
    }
}

/// Claims of a bearer token.
#[derive(Debug, Serialize, Deserialize)]
pub struct BearerClaims {
    /// The caller's user extId.
    pub sub: String,
    /// The caller's client extId.
    #[serde(rename = "clientExtId")]
    pub client_ext_id: String,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Issuer, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct XTokenClaims {
    sub: String,
    /// The client of `sub`: a user extId is unique per client only, so an X-Token of `twin`
    /// in one client must not serve `twin` in another.
    cli: String,
    /// The user's credential epoch when the token was issued: admission refuses the token
    /// once the epoch is another (a credential change since). Required, so a token from
    /// before this claim existed is refused too.
    #[serde(rename = "gen")]
    epoch: i64,
    exp: u64,
    iat: u64,
}

/// Who a verified bearer token names, read from the configured claims.
#[derive(Debug)]
struct Verified {
    user_ext_id: String,
    client_ext_id: String,
    exp: u64,
}

/// Verifies bearer tokens against the configured keys with a pinned algorithm list.
pub(crate) struct TokenVerifier {
    keys: Vec<(Algorithm, DecodingKey)>,
    remote: Option<Arc<RemoteKeys>>,
    allowed: HashSet<Algorithm>,
    validation_base: Validation,
    user_claim: String,
    client_claim: String,
    xtoken_key: DecodingKey,
}

fn parse_alg(name: &str) -> AppResult<Algorithm> {
    match name {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(AppError::Internal(format!("unsupported algorithm {other}"))),
    }
}

impl TokenVerifier {
    pub(crate) fn new(config: &AuthConfig) -> AppResult<Self> {
        let mut keys = Vec::new();
        if let Some(secret) = &config.hs256_secret {
            keys.push((
                Algorithm::HS256,
                DecodingKey::from_secret(secret.as_bytes()),
            ));
        }
        for key in &config.public_keys {
            match key {
                KeySource::Rsa(pem) => keys.push((
                    Algorithm::RS256,
                    DecodingKey::from_rsa_pem(pem)
                        .map_err(|e| AppError::Internal(format!("bad RSA public key: {e}")))?,
                )),
                KeySource::Ec(pem) => keys.push((
                    Algorithm::ES256,
                    DecodingKey::from_ec_pem(pem)
                        .map_err(|e| AppError::Internal(format!("bad EC public key: {e}")))?,
                )),
            }
        }
        // The accepted algorithms are pinned: configured explicitly, or exactly those of the
        // configured keys. A key is only ever used with its own algorithm, so an HS secret can
        // never verify a token that claims RS256 or ES256.
        let remote = config
            .remote_keys
            .clone()
            .map(|c| Arc::new(RemoteKeys::new(c)));
        let allowed: HashSet<Algorithm> = if config.algorithms.is_empty() {
            let mut algs: HashSet<Algorithm> = keys.iter().map(|(a, _)| *a).collect();
            // A JWKS may hold either kind, and only its keys say which; each key is still used
            // with its own algorithm only.
            if remote.is_some() {
                algs.extend([Algorithm::RS256, Algorithm::ES256]);
            }
            algs
        } else {
            config
                .algorithms
                .iter()
                .map(|a| parse_alg(a))
                .collect::<AppResult<_>>()?
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = config.leeway_seconds.min(30);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // jsonwebtoken checks `iss`/`aud` only when the token carries them, so a configured
        // issuer or audience must also be a required claim or a token could simply omit it.
        // The user claim (by default `sub`) is required too, checked when it is read.
        let mut required = vec!["exp"];
        match &config.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &config.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok(TokenVerifier {
            keys,
            remote,
            allowed,
            validation_base: validation,
            user_claim: config.user_claim.clone(),
            client_claim: config.client_claim.clone(),
            xtoken_key: DecodingKey::from_secret(config.xtoken_secret.as_bytes()),
        })
    }

    /// Checks the signature, the algorithm pin and the time and `iss`/`aud` claims, then reads
    /// the configured user and client claims (both must be strings).
    async fn verify(&self, token: &str) -> Option<Verified> {
        let header = decode_header(token).ok()?;
        if !self.allowed.contains(&header.alg) {
            return None;
        }
        let mut validation = self.validation_base.clone();
        validation.algorithms = vec![header.alg];
        let check = |key: &DecodingKey| self.decode(token, key, &validation);
        if let Some(v) = self
            .keys
            .iter()
            .filter(|(alg, _)| *alg == header.alg)
            .find_map(|(_, key)| check(key))
        {
            return Some(v);
        }
        let remote = self.remote.as_ref()?;
        let try_remote = |keys: &[crate::remote_keys::RemoteKey]| {
            keys.iter()
                .filter(|k| k.alg == header.alg)
                // With a `kid`, only that key: a token cannot pick another key of the set.
                .filter(|k| header.kid.is_none() || k.kid == header.kid)
                .find_map(|k| check(&k.key))
        };
        let keys = remote.snapshot();
        if let Some(v) = try_remote(&keys) {
            return Some(v);
        }
        // An unknown `kid` may be a key the provider has just rotated in.
        let kid = header.kid.as_deref()?;
        if keys.iter().any(|k| k.kid.as_deref() == Some(kid)) {
            return None; // a known key and a bad signature: nothing to refresh
        }
        remote.refetch_for(kid).await;
        try_remote(&remote.snapshot())
    }

    fn decode(&self, token: &str, key: &DecodingKey, validation: &Validation) -> Option<Verified> {
        let claims = decode::<serde_json::Map<String, serde_json::Value>>(token, key, validation)
            .ok()?
            .claims;
        let text = |name: &str| claims.get(name)?.as_str().map(str::to_owned);
        Some(Verified {
            user_ext_id: text(&self.user_claim)?,
            client_ext_id: text(&self.client_claim)?,
            exp: claims.get("exp")?.as_u64()?,
        })
    }
}

fn unauthenticated(why: &str) -> AppError {
    AppError::Domain(DomainError::Unauthenticated(why.to_owned()))
}

fn invalid_jwt() -> AppError {
    AppError::Domain(DomainError::unprocessable(
        ErrorCode::InvalidJWTToken,
        "Invalid JWT token.",
    ))
}

fn now_secs() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// An issued X-Token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

impl Services {
    /// Authenticates a bearer token and resolves the caller (user, client, grants) with one
    /// repository round trip.
    ///
    /// # Errors
    /// 401 for a bad token or an unknown, disabled or archived caller; 503/500 on database
    /// failure.
    pub async fn resolve_caller(&self, bearer: &str) -> AppResult<Caller> {
        if let Some(caller) = self.callers.get(bearer) {
            return Ok(caller);
        }
        let claims = self
            .verifier
            .verify(bearer)
            .await
            .ok_or_else(|| unauthenticated("token rejected"))?;
        // Taken before the look-up: if a revocation lands while it runs, the (possibly
        // pre-revocation) answer is used for this request only and never cached.
        let generation = self.callers.start_load();
        let (caller, valid_until) = self.load_caller(&claims).await?;
        self.callers
            .put(bearer, &caller, claims.exp, generation, valid_until);
        Ok(caller)
    }

    /// Fetches the identity provider's keys now (start-up). `None` when no JWKS is configured.
    ///
    /// # Errors
    /// The provider is unreachable or its answer is unusable; the keys in force stay.
    pub async fn refresh_signing_keys(&self) -> Option<Result<usize, KeySetError>> {
        let remote = self.verifier.remote.as_ref()?;
        Some(remote.refresh().await)
    }

    /// The scheduled refresh of the identity provider's keys, to be spawned by the server;
    /// `None` when no JWKS is configured. It ends when the services are dropped.
    pub fn key_refresher(&self) -> Option<KeyRefresher> {
        let remote = self.verifier.remote.as_ref()?;
        Some(KeyRefresher {
            keys: Arc::downgrade(remote),
            interval: remote.refresh_interval(),
        })
    }

    /// The caller and the instant its record stops being true (the earliest validity end).
    async fn load_caller(
        &self,
        claims: &Verified,
    ) -> AppResult<(Caller, Option<chrono::DateTime<chrono::Utc>>)> {
        let record = self
            .repo
            .load_caller(&claims.client_ext_id, &claims.user_ext_id)
            .await?
            .ok_or_else(|| unauthenticated("unknown caller"))?;
        if record.state != UserState::Active {
            return Err(unauthenticated("caller not active"));
        }
        let grants = record
            .grants
            .iter()
            .map(|g| Grant {
                rights: role_rights(&g.application_name, &g.role_name),
                client_id: g.client_id,
                unit_path: g.unit_path.clone(),
                client_global: g.client_global,
                unit_global: g.unit_global,
            })
            .collect();
        let valid_until = record.valid_until;
        let caller = Caller::new(
            CallerIdentity {
                user_id: record.user_id,
                user_ext_id: record.user_ext_id,
                login_id: record.login_id,
                client_id: record.client_id,
                client_ext_id: record.client_ext_id,
                client_name: record.client_name,
                profile_ext_id: record.profile_ext_id,
                unit_ext_id: record.unit_ext_id,
            },
            grants,
        );
        Ok((caller, valid_until))
    }

    /// Signs a bearer token with the HS256 secret (`idm token`, test harnesses).
    ///
    /// # Errors
    /// When no HS256 secret is configured.
    pub fn mint_bearer(
        &self,
        client_ext_id: &str,
        user_ext_id: &str,
        ttl_seconds: u64,
    ) -> AppResult<String> {
        let secret = self.config.auth.hs256_secret.as_ref().ok_or_else(|| {
            AppError::Internal("no HS256 key configured (set auth.hs256_secret)".into())
        })?;
        let now = now_secs();
        let auth = &self.config.auth;
        let mut claims = serde_json::Map::new();
        // Under the configured claim names, so a minted token verifies whatever they are.
        claims.insert(auth.user_claim.clone(), user_ext_id.into());
        claims.insert(auth.client_claim.clone(), client_ext_id.into());
        claims.insert("exp".into(), (now + ttl_seconds).into());
        claims.insert("iat".into(), now.into());
        if let Some(iss) = &auth.issuer {
            claims.insert("iss".into(), iss.as_str().into());
        }
        if let Some(aud) = &auth.audience {
            claims.insert("aud".into(), aud.as_str().into());
        }
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .map_err(|e| AppError::Internal(format!("signing failed: {e}")))
    }

    /// Issues an X-Token after checking the caller's own password (`principal/token`).
    ///
    /// # Errors
    /// 422 `errors.userLoginFailed` for a wrong grant type, another user's loginId or a wrong
    /// password (one message for all, so the endpoint reveals nothing).
    pub async fn issue_xtoken(
        &self,
        caller: &Caller,
        username: &str,
        password: &str,
        grant_type: &str,
    ) -> AppResult<IssuedToken> {
        let failed = || {
            AppError::Domain(DomainError::unprocessable(
                ErrorCode::UserLoginFailed,
                "Login failed: wrong username or password.",
            ))
        };
        if grant_type != "password" || username != caller.login_id {
            return Err(failed());
        }
        // The same login rules as `auth/v1/.../password/login`: a failure counts, a locked
        // or disabled password mints nothing, and the answer never says which rule refused.
        let _write = self.writing();
        // Read before the password is checked: a change landing in between then ends this
        // token at once, instead of the token outliving the password it was issued for.
        let epoch = self.repo.credential_epoch(caller.user_id).await?;
        match self.password_attempt(caller.user_id, password).await {
            Ok(crate::credentials::Attempt::Recorded(idm_domain::credential::LoginStatus::Ok)) => {}
            Ok(_) | Err(AppError::Domain(_)) => return Err(failed()),
            Err(e) => return Err(e),
        }
        let now = now_secs();
        let ttl = self.config.auth.xtoken_ttl_seconds;
        let token = encode(
            &Header::new(Algorithm::HS256),
            &XTokenClaims {
                sub: caller.user_ext_id.clone(),
                cli: caller.client_ext_id.clone(),
                epoch,
                exp: now + ttl,
                iat: now,
            },
            &EncodingKey::from_secret(self.config.auth.xtoken_secret.as_bytes()),
        )
        .map_err(|e| AppError::Internal(format!("signing failed: {e}")))?;
        Ok(IssuedToken {
            access_token: token,
            expires_in: ttl,
        })
    }

    /// Checks the `X-Token` header of a self-admin call: HS256 with the X-Token secret, not
    /// expired, `sub` and `cli` = the caller's user and client. Answers the credential epoch
    /// the token was issued at, for [`Services::check_xtoken_epoch`] (this check is pure, the
    /// epoch needs a read).
    ///
    /// # Errors
    /// 422 `errors.invalidJWTToken` / `Invalid JWT token.` for anything else.
    // Crate-only: on its own this is not the whole check (the epoch is still to be read).
    pub(crate) fn check_xtoken(&self, caller: &Caller, header: Option<&str>) -> AppResult<i64> {
        let token = header.ok_or_else(invalid_jwt)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = decode::<XTokenClaims>(token, &self.verifier.xtoken_key, &validation)
            .map_err(|_| invalid_jwt())?;
        if data.claims.sub != caller.user_ext_id || data.claims.cli != caller.client_ext_id {
            return Err(invalid_jwt());
        }
        Ok(data.claims.epoch)
    }

    /// The whole X-Token check outside admission: [`Services::check_xtoken`], then
    /// [`Services::check_xtoken_epoch`].
    ///
    /// # Errors
    /// 422 `errors.invalidJWTToken` / `Invalid JWT token.`; database failures.
    pub(crate) async fn verify_xtoken(
        &self,
        caller: &Caller,
        header: Option<&str>,
    ) -> AppResult<()> {
        let issued_at = self.check_xtoken(caller, header)?;
        self.check_xtoken_epoch(caller, issued_at).await
    }

    /// Refuses an X-Token issued before the caller's latest credential change: one read of
    /// the caller's credential epoch, by primary key. The token must carry exactly the current
    /// epoch: one from "the future" exists only after a database was restored behind the
    /// token, and the password it confirmed may not be the restored one.
    ///
    /// # Errors
    /// 422 `errors.invalidJWTToken` / `Invalid JWT token.` when the epoch is not `issued_at`;
    /// database failures.
    pub(crate) async fn check_xtoken_epoch(
        &self,
        caller: &Caller,
        issued_at: i64,
    ) -> AppResult<()> {
        if self.repo.credential_epoch(caller.user_id).await? != issued_at {
            return Err(invalid_jwt());
        }
        Ok(())
    }
}

/// argon2id cost parameters of password hashes (`[credentials] argon2_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashingParams {
    fn default() -> Self {
        HashingParams {
            memory_kib: argon2::Params::DEFAULT_M_COST,
            iterations: argon2::Params::DEFAULT_T_COST,
            parallelism: argon2::Params::DEFAULT_P_COST,
        }
    }
}

impl HashingParams {
    fn argon2(&self) -> Result<Argon2<'static>, argon2::Error> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, None)?;
        Ok(Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            params,
        ))
    }

    /// Whether argon2 accepts these parameters.
    ///
    /// # Errors
    /// argon2's description of the first bad parameter.
    pub fn validate(&self) -> Result<(), String> {
        self.argon2().map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Hashes secrets with the configured argon2id parameters, and holds a dummy hash of the same
/// cost: a login for a user without a password verifies against it, so it takes as long as
/// a wrong password and the answer time does not tell which users have one.
#[derive(Clone)]
pub(crate) struct Hasher {
    params: HashingParams,
    dummy: String,
}

impl Hasher {
    pub(crate) fn new(params: HashingParams) -> AppResult<Self> {
        let argon = params
            .argon2()
            .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
        let salt = SaltString::generate(&mut OsRng);
        let dummy = argon
            .hash_password(crate::credentials::random_secret(24).as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))?;
        Ok(Hasher { params, dummy })
    }

    /// Hashes a secret with the configured parameters, off the async workers.
    pub(crate) async fn hash(&self, secret: String) -> AppResult<String> {
        let params = self.params;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            let argon = params
                .argon2()
                .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
            argon
                .hash_password(secret.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
        })
        .await
        .map_err(|e| AppError::Internal(format!("hashing task failed: {e}")))?
    }

    /// Spends the time of one verification and answers nothing.
    pub(crate) async fn verify_dummy(&self, secret: &str) -> AppResult<()> {
        verify_password(secret.to_owned(), self.dummy.clone()).await?;
        Ok(())
    }
}

/// Hashes a password with argon2id on the blocking pool (it is deliberately slow).
///
/// # Errors
/// 500 if hashing fails.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("hashing task failed: {e}")))?
}

/// Verifies a password against a stored PHC string, off the async workers.
///
/// # Errors
/// 500 if the stored hash is unreadable.
pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| AppError::Internal(format!("stored password hash unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AppError::Internal(format!("verification task failed: {e}")))?
}

/// Resolved callers by bearer token, for `caller_cache_ttl_ms`. The hot read path otherwise pays
/// a six-table join per request for the same answer. Entries never outlive the token's `exp`.
///
/// `moka` rather than a map behind a mutex: look-ups from all workers run without a shared lock,
/// the size is bounded by eviction of the least used tokens instead of emptying everything, and
/// each entry expires on its own.
///
/// A narrowed revocation evicts through [`Owners`], not moka's `invalidate_entries_if`: moka
/// keeps every such predicate until a housekeeping pass retires it and evaluates all pending
/// ones on every `get`, so with one predicate per write the cache hit itself became the most
/// expensive part of a request under a write load (measured 2026-11-26, `perf` on the
/// client-PATCH scenario: ~70 % of the server's CPU in moka's predicate scan).
pub(crate) struct CallerCache {
    ttl: std::time::Duration,
    /// `None` when the TTL is 0: no cache at all.
    entries: Option<moka::sync::Cache<String, CachedCaller>>,
    /// Which cached tokens belong to which user and client. Taken by puts (misses) and
    /// revocations (writes) only, never by a hit.
    owners: Mutex<Owners>,
    /// Bumped by every invalidation; a look-up that saw another value when it started does not
    /// leave its answer in the cache (the refill race).
    generation: AtomicU64,
    /// Caller look-ups that went to the database (cache misses), for `/metrics` and tests.
    loads: AtomicU64,
}

/// The tokens cached per user and per client (internal ids). It may name tokens moka has
/// already dropped (expired, evicted): evicting those again is harmless, and past
/// [`OWNERS_MAX`] names the index is rebuilt from the live entries.
#[derive(Default)]
struct Owners {
    by_user: HashMap<i64, HashSet<String>>,
    by_client: HashMap<i64, HashSet<String>>,
    /// Tokens named in `by_user` (each token has one user).
    named: usize,
}

/// Tokens the owner index may name before it is rebuilt from the cache's live entries.
const OWNERS_MAX: usize = 2 * CALLER_CACHE_MAX as usize;

impl Owners {
    fn add(&mut self, token: &str, caller: &Caller) {
        if self
            .by_user
            .entry(caller.user_id)
            .or_default()
            .insert(token.to_owned())
        {
            self.named += 1;
        }
        self.by_client
            .entry(caller.client_id)
            .or_default()
            .insert(token.to_owned());
    }

    /// The tokens a revocation of `reach` must evict (`None`: all of them).
    fn take(&mut self, reach: Reach) -> Option<HashSet<String>> {
        match reach {
            Reach::Everyone => {
                *self = Owners::default();
                None
            }
            Reach::User(id) => {
                let tokens = self.by_user.remove(&id).unwrap_or_default();
                self.named = self.named.saturating_sub(tokens.len());
                Some(tokens)
            }
            Reach::Client(id) => Some(self.by_client.remove(&id).unwrap_or_default()),
        }
    }
}

#[derive(Clone)]
struct CachedCaller {
    caller: Caller,
    /// How long this entry lives: the configured TTL, or less when the token expires sooner.
    ttl: std::time::Duration,
}

/// Per-entry expiry: each entry carries its own lifetime, fixed when it was inserted.
struct UntilTokenExpiry;

impl moka::Expiry<String, CachedCaller> for UntilTokenExpiry {
    fn expire_after_create(
        &self,
        _token: &String,
        value: &CachedCaller,
        _created_at: std::time::Instant,
    ) -> Option<std::time::Duration> {
        Some(value.ttl)
    }
}

/// Upper bound on cached tokens; past it the least recently used are evicted.
const CALLER_CACHE_MAX: u64 = 10_000;

impl CallerCache {
    pub(crate) fn new(ttl_ms: u64) -> Self {
        let ttl = std::time::Duration::from_millis(ttl_ms);
        let entries = (!ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(CALLER_CACHE_MAX)
                .expire_after(UntilTokenExpiry)
                .build()
        });
        CallerCache {
            ttl,
            entries,
            owners: Mutex::new(Owners::default()),
            generation: AtomicU64::new(0),
            loads: AtomicU64::new(0),
        }
    }

    /// A caller look-up starts: counts it and returns the generation its answer must still
    /// match to be cached.
    pub(crate) fn start_load(&self) -> u64 {
        self.loads.fetch_add(1, Ordering::Relaxed);
        self.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    fn get(&self, token: &str) -> Option<Caller> {
        self.entries.as_ref()?.get(token).map(|c| c.caller)
    }

    /// Caches `caller` for at most the TTL, the token's `exp` and `valid_until` (the earliest
    /// validity end of its user, profiles and authorizations), whichever comes first — and not
    /// at all if a revocation happened since `generation` was taken.
    fn put(
        &self,
        token: &str,
        caller: &Caller,
        exp: u64,
        generation: u64,
        valid_until: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        let Some(entries) = &self.entries else {
            return;
        };
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        let left = std::time::Duration::from_secs(exp.saturating_sub(now_secs()));
        let mut ttl = self.ttl.min(left);
        if let Some(until) = valid_until {
            let valid_for = (until - chrono::Utc::now()).to_std().unwrap_or_default();
            ttl = ttl.min(valid_for);
        }
        if ttl.is_zero() {
            return;
        }
        {
            // Index and insert under one lock, so a revocation either finds the token in the
            // index or comes after the insert (and then the check below sees its generation).
            let Ok(mut owners) = self.owners.lock() else {
                return; // poisoned: cache nothing rather than an entry no revocation can find
            };
            if owners.named >= OWNERS_MAX {
                *owners = Owners::default();
                for (t, c) in entries.iter() {
                    owners.add(&t, &c.caller);
                }
            }
            owners.add(token, caller);
            entries.insert(
                token.to_owned(),
                CachedCaller {
                    caller: caller.clone(),
                    ttl,
                },
            );
        }
        // An invalidation between the check above and the insert may have run before the
        // entry existed; the second check catches it (the invalidation bumps the generation
        // before it invalidates).
        if self.generation.load(Ordering::SeqCst) != generation {
            entries.invalidate(token);
        }
    }

    /// Drops the cached callers a committed write may have changed. Entries inserted before
    /// this call are never returned again, even before moka has actually dropped them.
    pub(crate) fn invalidate(&self, reach: Reach) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let Some(entries) = &self.entries else {
            return;
        };
        let Ok(mut owners) = self.owners.lock() else {
            // Poisoned: the index cannot say who is reached; widen rather than keep a stale
            // caller.
            entries.invalidate_all();
            return;
        };
        match owners.take(reach) {
            None => entries.invalidate_all(),
            Some(tokens) => {
                for token in &tokens {
                    entries.invalidate(token);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use idm_domain::access::CallerIdentity;

    #[test]
    fn an_entry_does_not_outlive_the_validity_it_was_resolved_under() {
        let cache = CallerCache::new(60_000);
        let soon = chrono::Utc::now() + chrono::Duration::milliseconds(150);
        cache.put(
            "t",
            &caller(),
            now_secs() + 3600,
            cache.start_load(),
            Some(soon),
        );
        assert!(cache.get("t").is_some());
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(cache.get("t").is_none());
        let ended = chrono::Utc::now() - chrono::Duration::seconds(1);
        cache.put(
            "t",
            &caller(),
            now_secs() + 3600,
            cache.start_load(),
            Some(ended),
        );
        assert!(cache.get("t").is_none());
    }

    fn caller() -> Caller {
        Caller::new(
            CallerIdentity {
                user_id: 1,
                user_ext_id: "u".into(),
                login_id: "u".into(),
                client_id: 1,
                client_ext_id: "c".into(),
                client_name: "c".into(),
                profile_ext_id: None,
                unit_ext_id: None,
            },
            Vec::new(),
        )
    }

    #[test]
    fn a_cached_caller_is_returned_until_cleared() {
        let cache = CallerCache::new(60_000);
        cache.put("t", &caller(), now_secs() + 3600, cache.start_load(), None);
        assert_eq!(cache.get("t").unwrap().user_ext_id, "u");
        cache.invalidate(Reach::Everyone);
        assert!(cache.get("t").is_none());
    }

    fn caller_of(user_id: i64, client_id: i64) -> Caller {
        let identity = CallerIdentity {
            user_id,
            user_ext_id: format!("u{user_id}"),
            login_id: format!("u{user_id}"),
            client_id,
            client_ext_id: format!("c{client_id}"),
            client_name: format!("c{client_id}"),
            profile_ext_id: None,
            unit_ext_id: None,
        };
        Caller::new(identity, Vec::new())
    }

    #[test]
    fn a_write_on_one_user_evicts_that_user_only_and_a_client_write_its_client_only() {
        let cache = CallerCache::new(60_000);
        let exp = now_secs() + 3600;
        cache.put("a", &caller_of(1, 10), exp, cache.start_load(), None);
        cache.put("b", &caller_of(2, 10), exp, cache.start_load(), None);
        cache.put("c", &caller_of(3, 20), exp, cache.start_load(), None);
        cache.invalidate(Reach::User(1));
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some() && cache.get("c").is_some());
        cache.invalidate(Reach::Client(10));
        assert!(cache.get("b").is_none());
        assert!(cache.get("c").is_some());
    }

    #[test]
    fn a_look_up_that_started_before_a_revocation_does_not_refill_the_cache() {
        let cache = CallerCache::new(60_000);
        let started = cache.start_load();
        // The write commits and revokes while the look-up is still reading the old row.
        cache.invalidate(Reach::User(1));
        cache.put("a", &caller_of(1, 10), now_secs() + 3600, started, None);
        assert!(cache.get("a").is_none());
        // Even an unrelated revocation in between keeps the answer out: correctness over hits.
        let started = cache.start_load();
        cache.invalidate(Reach::User(99));
        cache.put("a", &caller_of(1, 10), now_secs() + 3600, started, None);
        assert!(cache.get("a").is_none());
        let started = cache.start_load();
        cache.put("a", &caller_of(1, 10), now_secs() + 3600, started, None);
        assert!(cache.get("a").is_some());
        assert_eq!(cache.loads(), 3);
    }

    #[test]
    fn a_revocation_still_finds_its_tokens_after_the_owner_index_was_rebuilt() {
        let cache = CallerCache::new(60_000);
        let exp = now_secs() + 3600;
        // More tokens than the index may name: it is rebuilt from the live entries on the way.
        for n in 0..=(OWNERS_MAX as i64) {
            cache.put(
                &format!("t{n}"),
                &caller_of(n, 10),
                exp,
                cache.start_load(),
                None,
            );
        }
        cache.put("mine", &caller_of(-1, 20), exp, cache.start_load(), None);
        cache.put("other", &caller_of(-2, 30), exp, cache.start_load(), None);
        assert!(cache.get("mine").is_some());
        cache.invalidate(Reach::User(-1));
        assert!(cache.get("mine").is_none());
        assert!(cache.get("other").is_some());
        cache.invalidate(Reach::Client(30));
        assert!(cache.get("other").is_none());
        // A token cached again after an eviction is found by the next revocation too.
        cache.put("mine", &caller_of(-1, 20), exp, cache.start_load(), None);
        assert!(cache.get("mine").is_some());
        cache.invalidate(Reach::Client(20));
        assert!(cache.get("mine").is_none());
    }

    #[test]
    fn a_ttl_of_zero_caches_nothing() {
        let cache = CallerCache::new(0);
        cache.put("t", &caller(), now_secs() + 3600, cache.start_load(), None);
        assert!(cache.get("t").is_none());
    }

    #[test]
    fn an_entry_does_not_outlive_its_token() {
        let cache = CallerCache::new(60_000);
        // Expiring within the second: the entry lives at most until then.
        cache.put("t", &caller(), now_secs(), cache.start_load(), None);
        assert!(cache.get("t").is_none());
        cache.put("t", &caller(), now_secs() + 1, cache.start_load(), None);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(cache.get("t").is_none());
    }
}
