//! Dispatch targets (★ DELETE, seed 000), app attestations and FIDO UAF authenticators: the
//! mobile-authentication part of a user.

use idm_domain::access::{Access, Caller, Requirement};
use idm_domain::model::{AppAttestation, Client, DispatchTarget, FidoUafCredential, Meta, User};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis, DispatchTargetState};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::devices::TargetWithAttestation;
use idm_ports::{Page, PageRequest, RepoError};

use crate::clients::{check_version, precheck};
use crate::lookup::user_target;
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
const KEY_ID: usize = 2732;
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
    let now = now_millis();
    Meta {
        id: 0,
        ext_id,
        created: now,
        last_modified: now,
        version: 1,
    }
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

/// What self-admin mode must additionally prove for an operation.
#[derive(Debug, Clone, Copy)]
enum Proof<'a> {
    /// Nothing beyond the self-admin role (reads of own FIDO credentials; operations without
    /// a self-admin path).
    None,
    /// A valid `X-Token` (the header as sent, if any).
    XToken(Option<&'a str>),
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

impl Services {
    /// The common start of every use case here: rights precheck, client and user 404s, the
    /// dataroom/self-admin decision on the user, and the X-Token when self-admin mode demands
    /// it.
    async fn device_owner(
        &self,
        caller: &Caller,
        req: &Requirement,
        client_ext_id: &str,
        user_ext_id: &str,
        proof: Proof<'_>,
    ) -> AppResult<(Client, User)> {
        precheck(caller, req)?;
        let client = self.require_client(client_ext_id).await?;
        let user = self.require_user(&client, user_ext_id, "").await?;
        let paths = self.user_unit_paths(&user).await?;
        let access = Self::authorize(caller, req, &user_target(&user, &paths))?;
        if let (Access::SelfAdmin, Proof::XToken(xtoken)) = (access, proof) {
            self.check_xtoken(caller, xtoken)?;
        }
        Ok((client, user))
    }

    /// The user's dispatch target, or the seed 404 `No DispatchTarget found with extId '...'
    /// for user with extId '...' on client with name '...'`.
    async fn require_dispatch_target(
        &self,
        client: &Client,
        user: &User,
        ext_id: &str,
    ) -> AppResult<DispatchTarget> {
        // PostgreSQL refuses text containing NUL outright; such an extId cannot exist anyway.
        let found = if ext_id.contains('\0') {
            None
        } else {
            self.repo
                .dispatch_target_by_ext_id(client.meta.id, user.meta.id, ext_id)
                .await?
        };
        found.ok_or_else(|| {
                DomainError::NotFound(format!(
                    "No DispatchTarget found with extId '{ext_id}' for user with extId '{}' on client with name '{}'",
                    user.meta.ext_id, client.name
                ))
                .into()
            })
    }

    async fn require_attestation(
        &self,
        client: &Client,
        user: &User,
        target: &DispatchTarget,
    ) -> AppResult<AppAttestation> {
        self.repo
            .app_attestation_of(target.meta.id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound(format!(
                    "No AppAttestation found for DispatchTarget with extId '{}' for user with extId '{}' on client with name '{}'",
                    target.meta.ext_id, user.meta.ext_id, client.name
                ))
                .into()
            })
    }

    async fn require_fido_uaf(
        &self,
        client: &Client,
        user: &User,
        ext_id: &str,
    ) -> AppResult<FidoUafCredential> {
        // See `require_dispatch_target`: NUL never reaches the database.
        let found = if ext_id.contains('\0') {
            None
        } else {
            self.repo
                .fido_uaf_by_ext_id(client.meta.id, user.meta.id, ext_id)
                .await?
        };
        found.ok_or_else(|| {
                DomainError::NotFound(format!(
                    "No FidoUafCredential found with extId '{ext_id}' for user with extId '{}' on client with name '{}'",
                    user.meta.ext_id, client.name
                ))
                .into()
            })
    }

    /// Creates a dispatch target and, if given, its app attestation in one transaction.
    ///
    /// # Errors
    /// 403, 404 (client, user), 422 on invalid or missing fields or a duplicate extId or
    /// attestation name.
    pub async fn create_dispatch_target(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        input: NewDispatchTarget,
    ) -> AppResult<TargetWithAttestation> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &TARGET_CREATE,
                client_ext_id,
                user_ext_id,
                Proof::None,
            )
            .await?;
        let mut f = Fields::default();
        if input
            .target_type
            .as_deref()
            .is_some_and(|t| t != FIDO_UAF_TYPE)
        {
            f.0.push("type".into());
        }
        f.required("deviceId", &input.device_id, NAME);
        f.required("target", &input.target, TEXT);
        f.optional("dispatcher", &input.dispatcher, SHORT);
        f.optional("userAgent", &input.user_agent, NAME);
        f.optional("encryptionKey", &input.encryption_key, TEXT);
        f.required("signingKey", &input.signing_key, TEXT);
        f.required("appId", &input.app_id, APP_ID);
        f.required("name", &input.name, NAME);
        if let Some(a) = &input.app_attestation {
            fields_of_attestation(&mut f, "appAttestation.", a);
        }
        f.check()?;
        let state = match input.state.as_deref() {
            None => DispatchTargetState::Active,
            Some(s) => s.parse()?,
        };
        let ext_id = ext_id_or_new(input.ext_id)?;
        let target = DispatchTarget {
            meta: new_meta(ext_id.clone()),
            client_id: client.meta.id,
            user_id: user.meta.id,
            target_type: FIDO_UAF_TYPE.to_owned(),
            device_id: input.device_id.unwrap_or_default(),
            target: input.target.unwrap_or_default(),
            dispatcher: input.dispatcher,
            user_agent: input.user_agent,
            encryption_key: input.encryption_key,
            signing_key: input.signing_key.unwrap_or_default(),
            app_id: input.app_id.unwrap_or_default(),
            name: input.name.unwrap_or_default(),
            state,
        };
        let attestation = input
            .app_attestation
            .map(|a| build_attestation(&client, &user, a));
        let attestation_name = attestation.as_ref().and_then(|a| a.name.clone());
        match self.repo.create_dispatch_target(target, attestation).await {
            Ok(created) => Ok(created),
            Err(e) if e.is_unique_on("app_attestations") => Err(duplicate(format!(
                "An AppAttestation with name '{}' already exists for user with extId '{}'.",
                attestation_name.unwrap_or_default(),
                user.meta.ext_id
            ))),
            Err(e) if e.is_unique() => Err(duplicate(format!(
                "A DispatchTarget with extId '{ext_id}' already exists."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the user's dispatch targets with their attestations.
    ///
    /// # Errors
    /// 403, 404; 422 in self-admin mode without a valid X-Token.
    pub async fn list_dispatch_targets(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        xtoken: Option<&str>,
        page: PageRequest,
    ) -> AppResult<Page<TargetWithAttestation>> {
        let (_, user) = self
            .device_owner(
                caller,
                &TARGET_VIEW,
                client_ext_id,
                user_ext_id,
                Proof::XToken(xtoken),
            )
            .await?;
        Ok(self.repo.list_dispatch_targets(user.meta.id, page).await?)
    }

    /// Reads one dispatch target with its attestation.
    ///
    /// # Errors
    /// 403, 404; 422 in self-admin mode without a valid X-Token.
    pub async fn get_dispatch_target(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<TargetWithAttestation> {
        let (client, user) = self
            .device_owner(
                caller,
                &TARGET_VIEW,
                client_ext_id,
                user_ext_id,
                Proof::XToken(xtoken),
            )
            .await?;
        let target = self.require_dispatch_target(&client, &user, ext_id).await?;
        let attestation = self.repo.app_attestation_of(target.meta.id).await?;
        Ok((target, attestation))
    }

    /// ★ Deletes a dispatch target (seed 000): in one transaction its FIDO UAF credentials lose
    /// the link, its app attestation is deleted, and the target is deleted.
    ///
    /// # Errors
    /// 403 (rights, dataroom, another user's target in self-admin mode), 404 (client, user,
    /// dispatch target, with the seed's messages), 422 `errors.invalidJWTToken` in self-admin
    /// mode without a valid X-Token.
    pub async fn delete_dispatch_target(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &TARGET_DELETE,
                client_ext_id,
                user_ext_id,
                Proof::XToken(xtoken),
            )
            .await?;
        let target = self.require_dispatch_target(&client, &user, ext_id).await?;
        match self.repo.delete_dispatch_target(target.meta.id).await {
            // Someone else deleted it in between: the outcome the caller asked for.
            Ok(()) | Err(RepoError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the app attestation of a dispatch target.
    ///
    /// # Errors
    /// 403, 404, 422 on invalid fields, when the target already has one, or a duplicate name.
    pub async fn create_app_attestation(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        target_ext_id: &str,
        input: NewAppAttestation,
    ) -> AppResult<AppAttestation> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &ATTESTATION_CREATE,
                client_ext_id,
                user_ext_id,
                Proof::None,
            )
            .await?;
        let target = self
            .require_dispatch_target(&client, &user, target_ext_id)
            .await?;
        let mut f = Fields::default();
        fields_of_attestation(&mut f, "", &input);
        f.check()?;
        let exists = || {
            duplicate(format!(
                "An AppAttestation already exists for DispatchTarget with extId '{target_ext_id}'."
            ))
        };
        if self
            .repo
            .app_attestation_of(target.meta.id)
            .await?
            .is_some()
        {
            return Err(exists());
        }
        let name = input.name.clone().unwrap_or_default();
        let attestation = AppAttestation {
            dispatch_target_id: target.meta.id,
            ..build_attestation(&client, &user, input)
        };
        match self.repo.create_app_attestation(attestation).await {
            Ok(a) => Ok(a),
            Err(e) if e.is_unique_on("dispatch_target_id") => Err(exists()),
            Err(e) if e.is_unique_on("name") => Err(duplicate(format!(
                "An AppAttestation with name '{name}' already exists for user with extId '{}'.",
                user.meta.ext_id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the app attestation of a dispatch target.
    ///
    /// # Errors
    /// 403, 404; 422 in self-admin mode without a valid X-Token.
    pub async fn get_app_attestation(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        target_ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<AppAttestation> {
        let (client, user) = self
            .device_owner(
                caller,
                &ATTESTATION_VIEW,
                client_ext_id,
                user_ext_id,
                Proof::XToken(xtoken),
            )
            .await?;
        let target = self
            .require_dispatch_target(&client, &user, target_ext_id)
            .await?;
        self.require_attestation(&client, &user, &target).await
    }

    /// Partially updates the app attestation of a dispatch target with optimistic locking.
    ///
    /// # Errors
    /// 403, 404, 409 on a stale or racing version, 422 on invalid fields, a duplicate name or
    /// (self-admin mode) a missing X-Token.
    pub async fn patch_app_attestation(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        target_ext_id: &str,
        xtoken: Option<&str>,
        patch: AppAttestationPatch,
    ) -> AppResult<AppAttestation> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &ATTESTATION_MODIFY,
                client_ext_id,
                user_ext_id,
                Proof::XToken(xtoken),
            )
            .await?;
        let target = self
            .require_dispatch_target(&client, &user, target_ext_id)
            .await?;
        let mut a = self.require_attestation(&client, &user, &target).await?;
        let mut f = Fields::default();
        f.non_blank("name", &patch.name, NAME);
        f.counter("counter", patch.counter);
        f.non_blank("receipt", &patch.receipt, TEXT);
        f.non_blank("publicKey", &patch.public_key, TEXT);
        f.non_blank("deviceId", &patch.device_id, NAME);
        f.optional("environment", &patch.environment, SHORT);
        f.check()?;
        check_version(patch.version, a.meta.version)?;
        if let Some(n) = patch.name {
            a.name = Some(n);
        }
        if let Some(c) = patch.counter {
            a.counter = c;
        }
        if let Some(r) = patch.receipt {
            a.receipt = r;
        }
        if let Some(k) = patch.public_key {
            a.public_key = k;
        }
        if let Some(d) = patch.device_id {
            a.device_id = d;
        }
        if let Some(e) = patch.environment {
            a.environment = Some(e);
        }
        match self.repo.update_app_attestation(&a).await {
            Ok(a) => Ok(a),
            Err(e) if e.is_unique_on("name") => Err(duplicate(format!(
                "An AppAttestation with name '{}' already exists for user with extId '{}'.",
                a.name.unwrap_or_default(),
                user.meta.ext_id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the app attestation of a dispatch target (the target stays).
    ///
    /// # Errors
    /// 403, 404; 422 in self-admin mode without a valid X-Token.
    pub async fn delete_app_attestation(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        target_ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &ATTESTATION_DELETE,
                client_ext_id,
                user_ext_id,
                Proof::XToken(xtoken),
            )
            .await?;
        let target = self
            .require_dispatch_target(&client, &user, target_ext_id)
            .await?;
        let a = self.require_attestation(&client, &user, &target).await?;
        match self.repo.delete_app_attestation(a.meta.id).await {
            Ok(()) | Err(RepoError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Registers a FIDO UAF authenticator of the user, optionally linked to one of the user's
    /// dispatch targets.
    ///
    /// # Errors
    /// 403, 404 (client, user, dispatch target), 422 on missing fields, the specific
    /// `errors.credentialFidoUaf.*` format errors, a duplicate (aaid, keyId) or extId.
    pub async fn create_fido_uaf(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        input: NewFidoUaf,
    ) -> AppResult<FidoUafCredential> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &FIDO_CREATE,
                client_ext_id,
                user_ext_id,
                Proof::None,
            )
            .await?;
        let mut f = Fields::default();
        f.required("aaid", &input.aaid, NAME);
        f.required("keyId", &input.key_id, TEXT);
        f.required("authenticatorVersion", &input.authenticator_version, SHORT);
        f.required("publicKey", &input.public_key, PUBLIC_KEY);
        f.required("publicKeyAlgorithm", &input.public_key_algorithm, NAME);
        if input.app_id.is_none() {
            f.0.push("appId".into());
        }
        f.optional("appId", &input.app_id, APP_ID);
        f.optional("deviceId", &input.device_id, NAME);
        if input
            .state_name
            .as_deref()
            .is_some_and(|s| s != "active" && s != "disabled")
        {
            f.0.push("stateName".into());
        }
        f.check()?;
        let aaid = input.aaid.unwrap_or_default();
        let key_id = input.key_id.unwrap_or_default();
        let version = input.authenticator_version.unwrap_or_default();
        let algorithm = input.public_key_algorithm.unwrap_or_default();
        let app_id = input.app_id.unwrap_or_default();
        if !is_valid_aaid(&aaid) {
            return Err(fido_error(
                ErrorCode::CredentialFidoUafInvalidAaidFormat,
                format!("Invalid AAID format '{aaid}': expected 4 hex digits, '#', 4 hex digits"),
            ));
        }
        if key_id.len() > KEY_ID || !is_valid_key_id(&key_id) {
            return Err(fido_error(
                ErrorCode::CredentialFidoUafInvalidKeyIdFormat,
                "Invalid keyId format: expected base64url".to_owned(),
            ));
        }
        if !is_valid_authenticator_version(&version) {
            return Err(fido_error(
                ErrorCode::CredentialFidoUafInvalidAuthVersionFormat,
                format!("Invalid authenticatorVersion format '{version}': expected major.minor"),
            ));
        }
        if !FIDO_UAF_ALGORITHMS.contains(&algorithm.as_str()) {
            return Err(fido_error(
                ErrorCode::CredentialFidoUafInvalidPublicKeyAlgorithm,
                format!("Invalid publicKeyAlgorithm '{algorithm}'"),
            ));
        }
        if app_id.trim().is_empty() {
            return Err(fido_error(
                ErrorCode::CredentialFidoUafEmptyAppId,
                "The appId must not be empty".to_owned(),
            ));
        }
        let target = match input.dispatch_target_ext_id.as_deref() {
            Some(dt) => Some(self.require_dispatch_target(&client, &user, dt).await?),
            None => None,
        };
        let ext_id = ext_id_or_new(input.ext_id)?;
        let credential = FidoUafCredential {
            meta: new_meta(ext_id.clone()),
            client_id: client.meta.id,
            user_id: user.meta.id,
            dispatch_target_id: target.as_ref().map(|t| t.meta.id),
            dispatch_target_ext_id: target.map(|t| t.meta.ext_id),
            aaid: aaid.clone(),
            key_id: key_id.clone(),
            authenticator_version: version,
            public_key: input.public_key.unwrap_or_default(),
            public_key_algorithm: algorithm,
            app_id,
            device_id: input.device_id,
            state: input.state_name.unwrap_or_else(|| "active".to_owned()),
        };
        match self.repo.create_fido_uaf(credential).await {
            Ok(c) => Ok(c),
            Err(e) if e.is_unique_on("aaid") => Err(fido_error(
                ErrorCode::CredentialFidoUafNotUnique,
                format!(
                    "A FIDO UAF credential with aaid '{aaid}' and keyId '{key_id}' already exists."
                ),
            )),
            Err(e) if e.is_unique() => Err(duplicate(format!(
                "A FIDO UAF credential with extId '{ext_id}' already exists."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Lists the user's FIDO UAF credentials.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn list_fido_uaf(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<FidoUafCredential>> {
        let (_, user) = self
            .device_owner(caller, &FIDO_VIEW, client_ext_id, user_ext_id, Proof::None)
            .await?;
        Ok(self.repo.list_fido_uaf(user.meta.id, page).await?)
    }

    /// Reads one FIDO UAF credential.
    ///
    /// # Errors
    /// 403, 404.
    pub async fn get_fido_uaf(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<FidoUafCredential> {
        let (client, user) = self
            .device_owner(caller, &FIDO_VIEW, client_ext_id, user_ext_id, Proof::None)
            .await?;
        self.require_fido_uaf(&client, &user, ext_id).await
    }

    /// Deletes one FIDO UAF credential.
    ///
    /// # Errors
    /// 403, 404; 422 in self-admin mode without a valid X-Token.
    pub async fn delete_fido_uaf(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        xtoken: Option<&str>,
    ) -> AppResult<()> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &FIDO_DELETE,
                client_ext_id,
                user_ext_id,
                Proof::XToken(xtoken),
            )
            .await?;
        let c = self.require_fido_uaf(&client, &user, ext_id).await?;
        match self.repo.delete_fido_uaf(c.meta.id).await {
            Ok(()) | Err(RepoError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the link between a FIDO UAF credential and a dispatch target.
    ///
    /// # Errors
    /// 403, 404 (client, user, credential, dispatch target, or the two are not linked), 409
    /// when a concurrent write changed the credential.
    pub async fn unlink_fido_uaf(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        user_ext_id: &str,
        ext_id: &str,
        target_ext_id: &str,
    ) -> AppResult<()> {
        let _write = self.writing();
        let (client, user) = self
            .device_owner(
                caller,
                &FIDO_UNLINK,
                client_ext_id,
                user_ext_id,
                Proof::None,
            )
            .await?;
        let c = self.require_fido_uaf(&client, &user, ext_id).await?;
        let target = self
            .require_dispatch_target(&client, &user, target_ext_id)
            .await?;
        if c.dispatch_target_id != Some(target.meta.id) {
            return Err(DomainError::NotFound(format!(
                "FidoUafCredential with extId '{ext_id}' is not linked to DispatchTarget with extId '{target_ext_id}'"
            ))
            .into());
        }
        self.repo.unlink_fido_uaf(&c).await?;
        Ok(())
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
