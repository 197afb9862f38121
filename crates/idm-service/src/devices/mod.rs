//! The mobile-authentication part of a user: dispatch targets (★ DELETE, seed 000), their app
//! attestations, FIDO UAF authenticators — one module each; this one holds their inputs and
//! the field checks they share.

mod attestations;
mod dispatch_targets;
mod fido_uaf;

use idm_domain::access::Requirement;
use idm_domain::model::{AppAttestation, Client, DispatchTarget, FidoUafCredential, Meta, User};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, DispatchTargetState};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::devices::TargetWithAttestation;
use idm_ports::{Page, PageRequest};

use crate::clients::check_version;

use crate::{AppError, AppResult, Services};

const TARGET_CREATE: Requirement =
    Requirement::all(&[&[Right::CredentialCreate, Right::DispatchTargetCreate]]);
const TARGET_VIEW: Requirement =
    Requirement::all(&[&[Right::CredentialView, Right::DispatchTargetView]]).or_self_admin();
const TARGET_DELETE: Requirement =
    Requirement::all(&[&[Right::CredentialDelete, Right::DispatchTargetDelete]]).or_self_admin();

const ATTESTATION_CREATE: Requirement = TARGET_CREATE;
const ATTESTATION_VIEW: Requirement = TARGET_VIEW;
const ATTESTATION_MODIFY: Requirement = Requirement::all(&[
    &[Right::CredentialModify, Right::DispatchTargetModify],
    &[Right::CredentialView, Right::DispatchTargetView],
])
.or_self_admin();
const ATTESTATION_DELETE: Requirement = Requirement::all(&[
    &[Right::CredentialDelete, Right::DispatchTargetDelete],
    &[Right::CredentialView, Right::DispatchTargetView],
])
.or_self_admin();

const FIDO_CREATE: Requirement = Requirement::all(&[
    &[Right::CredentialCreate],
    &[Right::CredentialChangeState],
    &[Right::CredentialView],
]);
const FIDO_VIEW: Requirement = Requirement::all(&[&[Right::CredentialView]]).or_self_admin();
const FIDO_DELETE: Requirement = Requirement::all(&[&[Right::CredentialDelete]]).or_self_admin();
const FIDO_UNLINK: Requirement = Requirement::all(&[
    &[Right::CredentialModify, Right::DispatchTargetModify],
    &[Right::CredentialView, Right::DispatchTargetView],
]);

/// The only dispatch-target type nevisIDM knows.
pub const FIDO_UAF_TYPE: &str = "fido-uaf";

/// Public-key algorithms accepted for FIDO UAF credentials: the `UAF_ALG_SIGN_*` names of the
/// FIDO Registry of Predefined Values (v1.2). Anything else is
/// `errors.credentialFidoUaf.invalidPublicKeyAlgorithm`.
pub const FIDO_UAF_ALGORITHMS: &[&str] = &[
    "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_RAW",
    "UAF_ALG_SIGN_SECP256R1_ECDSA_SHA256_DER",
    "UAF_ALG_SIGN_RSASSA_PSS_SHA256_RAW",
    "UAF_ALG_SIGN_RSASSA_PSS_SHA256_DER",
    "UAF_ALG_SIGN_SECP256K1_ECDSA_SHA256_RAW",
    "UAF_ALG_SIGN_SECP256K1_ECDSA_SHA256_DER",
    "UAF_ALG_SIGN_SM2_SM3_RAW",
    "UAF_ALG_SIGN_RSA_EMSA_PKCS1_SHA256_RAW",
    "UAF_ALG_SIGN_RSA_EMSA_PKCS1_SHA256_DER",
    "UAF_ALG_SIGN_RSASSA_PSS_SHA384_RAW",
    "UAF_ALG_SIGN_RSASSA_PSS_SHA512_RAW",
    "UAF_ALG_SIGN_RSASSA_PKCSV15_SHA256_RAW",
    "UAF_ALG_SIGN_RSASSA_PKCSV15_SHA384_RAW",
    "UAF_ALG_SIGN_RSASSA_PKCSV15_SHA512_RAW",
    "UAF_ALG_SIGN_RSASSA_PKCSV15_SHA1_RAW",
    "UAF_ALG_SIGN_SECP384R1_ECDSA_SHA384_RAW",
    "UAF_ALG_SIGN_SECP521R1_ECDSA_SHA512_RAW",
    "UAF_ALG_SIGN_ED25519_EDDSA_SHA512_RAW",
];

// Column sizes of the schema; longer values are refused as invalid fields instead of
// surfacing as a database error.
const SHORT: usize = 100;
const NAME: usize = 255;
const APP_ID: usize = 1000;
const PUBLIC_KEY: usize = 4000;
// Not the 2732 of a 2048-byte key in base64: `(aaid, key_id)` is a unique B-tree index, and
// PostgreSQL refuses index entries over ~2700 bytes (a 500 instead of a 422).
const KEY_ID: usize = 2600;
const TEXT: usize = 65_536;

/// Input of dispatch-target creation (every field as sent; validated by the use case).
#[derive(Debug, Clone, Default)]
pub struct NewDispatchTarget {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// `fido-uaf` (default).
    pub target_type: Option<String>,
    /// Required device id.
    pub device_id: Option<String>,
    /// Required channel target.
    pub target: Option<String>,
    /// Optional dispatcher.
    pub dispatcher: Option<String>,
    /// Optional user agent.
    pub user_agent: Option<String>,
    /// Optional encryption key.
    pub encryption_key: Option<String>,
    /// Required signing key.
    pub signing_key: Option<String>,
    /// Required app id.
    pub app_id: Option<String>,
    /// Required device name.
    pub name: Option<String>,
    /// `active` (default) or `disabled`.
    pub state: Option<String>,
    /// Optional attestation created in the same transaction.
    pub app_attestation: Option<NewAppAttestation>,
}

/// Input of app-attestation creation.
#[derive(Debug, Clone, Default)]
pub struct NewAppAttestation {
    /// Optional name, unique per user.
    pub name: Option<String>,
    /// Validated assertions so far (default 0).
    pub counter: Option<i64>,
    /// Required receipt.
    pub receipt: Option<String>,
    /// Required public key.
    pub public_key: Option<String>,
    /// Required device id.
    pub device_id: Option<String>,
    /// Optional environment.
    pub environment: Option<String>,
}

/// A partial update of an app attestation: only present fields change.
#[derive(Debug, Clone, Default)]
pub struct AppAttestationPatch {
    /// New name.
    pub name: Option<String>,
    /// New counter.
    pub counter: Option<i64>,
    /// New receipt.
    pub receipt: Option<String>,
    /// New public key.
    pub public_key: Option<String>,
    /// New device id.
    pub device_id: Option<String>,
    /// New environment.
    pub environment: Option<String>,
    /// The version the client read (body `version` or `If-Match`).
    pub version: Option<i64>,
}

/// Input of FIDO UAF credential creation.
#[derive(Debug, Clone, Default)]
pub struct NewFidoUaf {
    /// Optional extId; generated when absent.
    pub ext_id: Option<String>,
    /// Required, `XXXX#XXXX` (hex).
    pub aaid: Option<String>,
    /// Required, base64url.
    pub key_id: Option<String>,
    /// Required, `major.minor`.
    pub authenticator_version: Option<String>,
    /// Required public key.
    pub public_key: Option<String>,
    /// Required, one of [`FIDO_UAF_ALGORITHMS`].
    pub public_key_algorithm: Option<String>,
    /// Required, non-empty.
    pub app_id: Option<String>,
    /// Optional push-service device id.
    pub device_id: Option<String>,
    /// `active` (default) or `disabled`.
    pub state_name: Option<String>,
    /// Optional dispatch target of the same user to link.
    pub dispatch_target_ext_id: Option<String>,
}

/// Collects the names of invalid body fields so one 422 names all of them.
#[derive(Debug, Default)]
struct Fields(Vec<String>);

impl Fields {
    fn bad(v: &str, max: usize) -> bool {
        v.chars().count() > max || v.contains('\0')
    }

    /// Present, not blank, not longer than `max`.
    fn required(&mut self, name: &str, v: &Option<String>, max: usize) {
        match v {
            Some(s) if !s.trim().is_empty() && !Self::bad(s, max) => {}
            _ => self.0.push(name.to_owned()),
        }
    }

    /// Absent, or not longer than `max`.
    fn optional(&mut self, name: &str, v: &Option<String>, max: usize) {
        if v.as_deref().is_some_and(|s| Self::bad(s, max)) {
            self.0.push(name.to_owned());
        }
    }

    /// Absent, or a non-blank value not longer than `max`.
    fn non_blank(&mut self, name: &str, v: &Option<String>, max: usize) {
        if v.is_some() {
            self.required(name, v, max);
        }
    }

    fn counter(&mut self, name: &str, v: Option<i64>) {
        if v.is_some_and(|c| !(0..=i64::from(i32::MAX)).contains(&c)) {
            self.0.push(name.to_owned());
        }
    }

    fn check(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::invalid_fields(&self.0).into())
        }
    }
}

fn fields_of_attestation(f: &mut Fields, prefix: &str, a: &NewAppAttestation) {
    let n = |s: &str| format!("{prefix}{s}");
    f.non_blank(&n("name"), &a.name, NAME);
    f.counter(&n("counter"), a.counter);
    f.required(&n("receipt"), &a.receipt, TEXT);
    f.required(&n("publicKey"), &a.public_key, TEXT);
    f.required(&n("deviceId"), &a.device_id, NAME);
    f.optional(&n("environment"), &a.environment, SHORT);
}

fn duplicate(message: String) -> AppError {
    DomainError::unprocessable(ErrorCode::DuplicateValue, message).into()
}

fn fido_error(code: ErrorCode, message: String) -> AppError {
    DomainError::unprocessable(code, message).into()
}

/// `XXXX#XXXX` with hexadecimal digits (the FIDO AAID format).
pub fn is_valid_aaid(aaid: &str) -> bool {
    let b = aaid.as_bytes();
    b.len() == 9
        && b[4] == b'#'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_hexdigit())
}

/// Base64url text (RFC 4648 §5), padding optional: what FIDO UAF key ids are sent as.
pub fn is_valid_key_id(key_id: &str) -> bool {
    let body = key_id.trim_end_matches('=');
    let padding = key_id.len() - body.len();
    !body.is_empty()
        && padding <= 2
        && body.len() % 4 != 1
        && (padding == 0 || (body.len() + padding).is_multiple_of(4))
        && body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// `major.minor`, both decimal numbers that fit the 16-bit fields of the UAF protocol.
pub fn is_valid_authenticator_version(version: &str) -> bool {
    let Some((major, minor)) = version.split_once('.') else {
        return false;
    };
    [major, minor]
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok())
}

fn new_meta(ext_id: String) -> Meta {
    Meta::new(ext_id, now_millis())
}

fn ext_id_or_new(ext_id: Option<String>) -> AppResult<String> {
    match ext_id {
        Some(e) => {
            check_ext_id(&e)?;
            Ok(e)
        }
        None => Ok(new_ext_id()),
    }
}

fn build_attestation(client: &Client, user: &User, a: NewAppAttestation) -> AppAttestation {
    AppAttestation {
        meta: new_meta(new_ext_id()),
        client_id: client.meta.id,
        user_id: user.meta.id,
        dispatch_target_id: 0,
        name: a.name,
        counter: a.counter.unwrap_or(0),
        receipt: a.receipt.unwrap_or_default(),
        public_key: a.public_key.unwrap_or_default(),
        device_id: a.device_id.unwrap_or_default(),
        environment: a.environment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aaids_are_four_hex_digits_a_hash_and_four_hex_digits() {
        for ok in ["4e4e#4005", "ABCD#0001", "0000#ffff"] {
            assert!(is_valid_aaid(ok), "{ok}");
        }
        for bad in [
            "",
            "4e4e4005",
            "4e4e#400",
            "4e4e#40051",
            "4g4e#4005",
            "4e4e-4005",
        ] {
            assert!(!is_valid_aaid(bad), "{bad}");
        }
    }

    #[test]
    fn key_ids_must_be_base64url() {
        for ok in ["YWJj", "YWJjZA", "YWJjZA==", "a-_Z09", "Zm9vYmFy"] {
            assert!(is_valid_key_id(ok), "{ok}");
        }
        for bad in [
            "", "a", "ab+c", "ab/c", "YWJjZ===", "YWJ=jZA", "ab c", "====",
        ] {
            assert!(!is_valid_key_id(bad), "{bad}");
        }
    }

    #[test]
    fn authenticator_versions_are_major_dot_minor() {
        for ok in ["1.0", "0.1", "12.34"] {
            assert!(is_valid_authenticator_version(ok), "{ok}");
        }
        for bad in [
            "", "1", "1.", ".1", "1.0.0", "a.b", "1.-1", "+1.0", "99999.0",
        ] {
            assert!(!is_valid_authenticator_version(bad), "{bad}");
        }
    }

    #[test]
    fn field_collection_names_every_invalid_field_in_order() {
        let mut f = Fields::default();
        f.required("deviceId", &None, NAME);
        f.required("target", &Some("  ".into()), NAME);
        f.required("name", &Some("ok".into()), NAME);
        f.optional("dispatcher", &Some("x".repeat(SHORT + 1)), SHORT);
        f.counter("counter", Some(-1));
        let err = f.check().unwrap_err();
        assert_eq!(
            err,
            AppError::Domain(DomainError::invalid_fields(&[
                "deviceId",
                "target",
                "dispatcher",
                "counter"
            ]))
        );
    }
}
