//! Production bearer tokens (issue 16): keys from an identity provider's JWKS, chosen by `kid`,
//! rotated without a restart, found through OpenID Connect discovery; configurable claim names.
//! A tiny HTTP server on 127.0.0.1 plays the provider; each test has its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use idm_server::settings::Settings;
use idm_tests::{dual_test, json, Backend, TestApp};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROTECTED: &str = "/nevisidm/api/core/v1/clients/Default";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn jwk(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A stand-in identity provider: serves `/.well-known/openid-configuration` (issuer = its own
/// base URL) and the current key set at every other path, and counts key-set requests.
#[derive(Clone)]
struct Provider {
    base: String,
    keys: Arc<Mutex<Vec<Value>>>,
    jwks_requests: Arc<AtomicUsize>,
}

impl Provider {
    async fn start(keys: Vec<Value>) -> Provider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let provider = Provider {
            base,
            keys: Arc::new(Mutex::new(keys)),
            jwks_requests: Arc::new(AtomicUsize::new(0)),
        };
        let p = provider.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let p = p.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let body = if path == "/.well-known/openid-configuration" {
                        json!({"issuer": p.base, "jwks_uri": format!("{}/keys", p.base)})
                    } else {
                        p.jwks_requests.fetch_add(1, Ordering::SeqCst);
                        json!({"keys": *p.keys.lock().unwrap()})
                    }
                    .to_string();
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(reply.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        provider
    }

    fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.base)
    }

    fn publish(&self, keys: Vec<Value>) {
        *self.keys.lock().unwrap() = keys;
    }

    fn fetches(&self) -> usize {
        self.jwks_requests.load(Ordering::SeqCst)
    }
}

/// An idm server whose only bearer keys come from `provider` (no HS256 secret).
struct Fixture {
    app: TestApp,
    provider: Provider,
}

async fn with_provider(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings, &Provider),
) -> Option<Fixture> {
    let provider = Provider::start(vec![jwk("jwk_rsa_1.json"), jwk("jwk_ec_1.json")]).await;
    let p = provider.clone();
    let app = idm_tests::spawn_with(backend, move |s| {
        s.auth.hs256_secret = None;
        s.auth.jwks_url = Some(p.jwks_url());
        // Every unknown kid may refetch at once, so rotation is visible without waiting.
        s.auth.jwks_min_refetch_seconds = 0;
        adjust(s, &p);
    })
    .await?;
    Some(Fixture { app, provider })
}

async fn jwks_app(backend: Backend) -> Option<Fixture> {
    with_provider(backend, |_, _| {}).await
}

fn admin_claims() -> Value {
    json!({"sub": "admin", "clientExtId": "Default", "iat": now(), "exp": now() + 600})
}

fn sign(claims: &Value, alg: Algorithm, kid: &str, private_pem: &str) -> String {
    let pem = std::fs::read(fixture(private_pem)).unwrap();
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &key).unwrap()
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    app.send(app.req_as(token, Method::GET, PROTECTED))
        .await
        .status
}

dual_test!(
    a_token_signed_with_a_jwks_key_and_its_kid_is_accepted,
    setup = jwks_app,
    |f: Fixture| {
        let rs = sign(
            &admin_claims(),
            Algorithm::RS256,
            "rsa-1",
            "rsa_private.pem",
        );
        assert_eq!(status_with(&f.app, &rs).await, 200);
        let es = sign(&admin_claims(), Algorithm::ES256, "ec-1", "ec_private.pem");
        assert_eq!(status_with(&f.app, &es).await, 200);
    }
);

dual_test!(
    a_token_with_an_unknown_kid_returns_401,
    setup = jwks_app,
    |f: Fixture| {
        let t = sign(
            &admin_claims(),
            Algorithm::RS256,
            "nobody",
            "rsa_private.pem",
        );
        assert_eq!(status_with(&f.app, &t).await, 401);
    }
);

dual_test!(
    a_token_signed_with_another_key_than_its_kid_names_returns_401,
    setup = jwks_app,
    |f: Fixture| {
        let t = sign(
            &admin_claims(),
            Algorithm::RS256,
            "rsa-1",
            "rsa_other_private.pem",
        );
        assert_eq!(status_with(&f.app, &t).await, 401);
    }
);

dual_test!(
    a_rotated_key_is_accepted_without_restarting_idm,
    setup = jwks_app,
    |f: Fixture| {
        let new = sign(
            &admin_claims(),
            Algorithm::RS256,
            "rsa-2",
            "rsa_other_private.pem",
        );
        assert_eq!(status_with(&f.app, &new).await, 401, "not published yet");
        f.provider.publish(vec![jwk("jwk_rsa_2.json")]);
        assert_eq!(
            status_with(&f.app, &new).await,
            200,
            "fetched on the unknown kid"
        );
        let old = sign(
            &admin_claims(),
            Algorithm::RS256,
            "rsa-1",
            "rsa_private.pem",
        );
        assert_eq!(
            status_with(&f.app, &old).await,
            401,
            "the retired key is gone"
        );
    }
);

async fn rate_limited_app(backend: Backend) -> Option<Fixture> {
    with_provider(backend, |s, _| s.auth.jwks_min_refetch_seconds = 60).await
}

dual_test!(
    unknown_kids_refetch_the_jwks_at_most_once_per_interval,
    setup = rate_limited_app,
    |f: Fixture| {
        assert_eq!(f.provider.fetches(), 1, "fetched once at start");
        for i in 0..5 {
            let t = sign(
                &admin_claims(),
                Algorithm::RS256,
                &format!("forged-{i}"),
                "rsa_private.pem",
            );
            assert_eq!(status_with(&f.app, &t).await, 401);
        }
        assert_eq!(f.provider.fetches(), 1, "no fetch within the interval");
    }
);

async fn oidc_app(backend: Backend) -> Option<Fixture> {
    with_provider(backend, |s, p| {
        s.auth.jwks_url = None;
        s.auth.oidc_issuer = Some(p.base.clone());
    })
    .await
}

dual_test!(
    an_oidc_issuers_keys_are_found_by_discovery_and_its_iss_is_required,
    setup = oidc_app,
    |f: Fixture| {
        let mut claims = admin_claims();
        claims["iss"] = json!(f.provider.base);
        let t = sign(&claims, Algorithm::RS256, "rsa-1", "rsa_private.pem");
        assert_eq!(status_with(&f.app, &t).await, 200);

        let t = sign(
            &admin_claims(),
            Algorithm::RS256,
            "rsa-1",
            "rsa_private.pem",
        );
        assert_eq!(status_with(&f.app, &t).await, 401, "no iss");
        claims["iss"] = json!("https://someone-else.example");
        let t = sign(&claims, Algorithm::RS256, "rsa-1", "rsa_private.pem");
        assert_eq!(status_with(&f.app, &t).await, 401, "another iss");
    }
);

async fn custom_claims_app(backend: Backend) -> Option<Fixture> {
    with_provider(backend, |s, _| {
        s.auth.user_claim = "preferred_username".into();
        s.auth.client_claim = "tenant".into();
    })
    .await
}

dual_test!(
    configured_claim_names_say_who_the_caller_is,
    setup = custom_claims_app,
    |f: Fixture| {
        let claims = json!({
            "sub": "f3a1c2-opaque-idp-subject",
            "preferred_username": "admin",
            "tenant": "Default",
            "exp": now() + 600,
        });
        let t = sign(&claims, Algorithm::RS256, "rsa-1", "rsa_private.pem");
        assert_eq!(status_with(&f.app, &t).await, 200);

        // The default claim names no longer identify anyone.
        let t = sign(
            &admin_claims(),
            Algorithm::RS256,
            "rsa-1",
            "rsa_private.pem",
        );
        assert_eq!(status_with(&f.app, &t).await, 401);
    }
);

async fn fast_refresh_app(backend: Backend) -> Option<Fixture> {
    with_provider(backend, |s, _| {
        s.auth.jwks_refresh_seconds = 1;
        s.auth.jwks_min_refetch_seconds = 60;
    })
    .await
}

dual_test!(
    the_jwks_is_refreshed_on_its_schedule,
    setup = fast_refresh_app,
    |f: Fixture| {
        f.provider.publish(vec![jwk("jwk_rsa_2.json")]);
        let start = std::time::Instant::now();
        while f.provider.fetches() < 2 {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "no scheduled refresh"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // Past the rate limit, so only the scheduled refresh can have brought the new key.
        let new = sign(
            &admin_claims(),
            Algorithm::RS256,
            "rsa-2",
            "rsa_other_private.pem",
        );
        let start = std::time::Instant::now();
        while status_with(&f.app, &new).await != 200 {
            assert!(start.elapsed() < std::time::Duration::from_secs(10));
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
);
