//! The HTTP side of the audit trail: which requests are audited, and what their records say
//! about the route and the body. The adapter appends the record in the write's transaction
//! (`idm_diesel::audit`); here the draft is opened per request ([`open`]) and filled in by the
//! extractors as they learn the route and caller ([`note_caller`]) and the body
//! ([`note_body`]).

use std::sync::{Arc, Mutex};

use actix_web::http::Method;
use actix_web::HttpRequest;
use idm_domain::access::Caller;
use idm_ports::audit::AuditDraft;

/// The API whose writes are audited. Logins (`auth`, `principal/v1/token`) are not object
/// writes: their counters are credential state, reported by the credential itself.
const CORE: &str = "/nevisidm/api/core/";

/// Most field names one record keeps: bounds the record of a body with many map keys.
const MAX_FIELDS: usize = 64;

/// A new draft for a request that writes through the core API, `None` for every other request.
pub fn open(
    enabled: bool,
    method: &Method,
    path: &str,
    request_id: &str,
) -> Option<idm_diesel::audit::DraftCell> {
    let writes = matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    (enabled && writes && path.starts_with(CORE)).then(|| {
        Arc::new(Mutex::new(AuditDraft {
            request_id: request_id.to_owned(),
            ..AuditDraft::default()
        }))
    })
}

/// Records the caller and what the matched route addresses (called once the caller is
/// resolved; a request that never gets that far writes nothing).
pub fn note_caller(req: &HttpRequest, caller: &Caller) {
    // Everything is computed inside: outside an audited request this is one task-local probe.
    idm_diesel::audit::update(|draft| {
        let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
        let params: Vec<(String, String)> = req
            .match_info()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let route = describe(&pattern, &params);
        draft.operation = format!("{} {pattern}", req.method());
        draft.chain = route.chain;
        draft.object_type = route.object_type;
        draft.object_ext_id = route.object_ext_id;
        draft.collection = route.collection;
        draft.caller_client = Some(caller.client_ext_id.clone());
        draft.caller_user = Some(caller.user_ext_id.clone());
    });
}

/// Records the names of the fields a JSON body sets and, for a create, the new object's extId.
pub fn note_body(req: &HttpRequest, body: &serde_json::Value) {
    idm_diesel::audit::update(|draft| {
        let mut fields = Vec::new();
        field_names(body, "", 0, &mut fields);
        fields.sort();
        fields.dedup();
        fields.truncate(MAX_FIELDS);
        draft.fields = fields;
        draft.created_ext_id = (req.method() == Method::POST)
            .then(|| {
                body.get("extId")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .flatten();
    });
}

/// Field paths of a JSON object, two levels deep (`name.firstName`); values are never read.
fn field_names(value: &serde_json::Value, prefix: &str, depth: usize, out: &mut Vec<String>) {
    let Some(map) = value.as_object() else {
        return;
    };
    for (key, inner) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if depth == 0 && inner.as_object().is_some_and(|m| !m.is_empty()) {
            field_names(inner, &path, depth + 1, out);
        } else {
            out.push(path);
        }
    }
}

/// What a route addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    chain: Option<String>,
    object_type: String,
    object_ext_id: Option<String>,
    /// The literal the route ends in after its last parameter (a collection or an action).
    collection: Option<String>,
}

/// Reads a route pattern (`/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password`)
/// with its parameter values: the client it belongs to (`{clientExtId}`, or the `{extId}`
/// after `clients`), and the addressed object — the last parameter with the literal before
/// it (so `users/u1` for the user's password, archive or properties: everything done to u1
/// shares one object), or, when no parameter comes first, the last literal (a collection).
fn describe(pattern: &str, params: &[(String, String)]) -> Route {
    let value = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let segments: Vec<&str> = pattern
        .trim_start_matches(CORE)
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1) // the API version
        .collect();
    let param = |s: &str| {
        s.strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .map(str::to_owned)
    };
    let mut chain = value("clientExtId");
    let mut object: Option<(String, Option<String>)> = None;
    let mut last_literal = "";
    let mut collection = None;
    for (i, segment) in segments.iter().enumerate() {
        match param(segment) {
            Some(name) => {
                if name == "clientExtId" && i == 0 {
                    continue;
                }
                if last_literal == "clients" && chain.is_none() {
                    chain = value(&name);
                }
                object = Some((last_literal.to_owned(), value(&name)));
                collection = None;
            }
            None => {
                last_literal = segment;
                collection = Some((*segment).to_owned());
            }
        }
    }
    let (object_type, object_ext_id) = match object {
        Some(found) => found,
        None => (last_literal.to_owned(), None),
    };
    Route {
        chain,
        object_type,
        object_ext_id,
        collection,
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn route(pattern: &str, params: &[(&str, &str)]) -> Route {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        describe(pattern, &params)
    }

    #[test]
    fn the_addressed_object_is_the_last_parameter_with_the_segment_before_it() {
        let r = route(
            "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}",
            &[("clientExtId", "acme"), ("userExtId", "u1")],
        );
        assert_eq!(r.chain.as_deref(), Some("acme"));
        assert_eq!(r.object_type, "users");
        assert_eq!(r.object_ext_id.as_deref(), Some("u1"));
        assert_eq!(r.collection, None);
        // An action on a user is recorded against the user.
        let r = route(
            "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/password/reset",
            &[("clientExtId", "acme"), ("userExtId", "u1")],
        );
        assert_eq!(
            (r.object_type.as_str(), r.object_ext_id.as_deref()),
            ("users", Some("u1"))
        );
        assert_eq!(r.collection.as_deref(), Some("reset"));
    }

    #[test]
    fn client_routes_name_their_chain_by_the_client_they_address() {
        let r = route(
            "/nevisidm/api/core/v1/clients/{extId}",
            &[("extId", "acme")],
        );
        assert_eq!(r.chain.as_deref(), Some("acme"));
        assert_eq!(
            (r.object_type.as_str(), r.object_ext_id.as_deref()),
            ("clients", Some("acme"))
        );
        // A create of a global object has no client in its path: the caller's chain takes it.
        let r = route("/nevisidm/api/core/v1/clients", &[]);
        assert_eq!(r.chain, None);
        assert_eq!((r.object_type.as_str(), r.object_ext_id), ("clients", None));
        let r = route("/nevisidm/api/core/v1/terms/{extId}", &[("extId", "tos")]);
        assert_eq!(r.chain, None);
        assert_eq!(
            (r.object_type.as_str(), r.object_ext_id.as_deref()),
            ("terms", Some("tos"))
        );
    }

    #[test]
    fn field_names_are_paths_without_values() {
        let body = serde_json::json!({
            "name": {"firstName": "A", "familyName": "B"},
            "password": "secret",
            "properties": {},
            "roles": ["x"]
        });
        let mut out = Vec::new();
        field_names(&body, "", 0, &mut out);
        out.sort();
        assert_eq!(
            out,
            [
                "name.familyName",
                "name.firstName",
                "password",
                "properties",
                "roles"
            ]
        );
        assert!(!out.iter().any(|f| f.contains("secret")));
    }
}
