//! The type-specific parts of second-factor credentials (recovery codes, OATH, FIDO2) on top
//! of the common rows of [`crate::credentials::CredentialRepo`].

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDateTime;
use idm_domain::credential::{Credential, CredentialType};
use idm_domain::fido2::Fido2Details;
use idm_domain::model::FidoUafCredential;
use idm_domain::otp::OtpParams;

use crate::credentials::NewCredential;
use crate::{Page, PageRequest, RepoResult};

/// The stored OATH parameters and replay guard of one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OathDetail {
    /// Method, algorithm, digits, period.
    pub params: OtpParams,
    /// The last accepted time step (TOTP) or counter (HOTP); `None` = never used.
    pub last_used: Option<u64>,
}

/// Whose credentials a typed list covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// One user's.
    User(i64),
    /// Every user's of a client.
    Client(i64),
}

/// Persistence of the second-factor details.
#[async_trait]
pub trait MfaRepo {
    /// Stores a recovery-code credential (common row, `secret` = the salt) and one row per
    /// code hash, in one transaction.
    ///
    /// # Errors
    /// `Conflict { "unique:..." }` on a duplicate extId or a second recovery-code credential
    /// of the user (`credentials_one_recovery_code`).
    async fn create_recovery_codes(
        &self,
        new: NewCredential,
        hashes: &[String],
    ) -> RepoResult<Credential>;

    /// Stores an OATH credential (common row, `secret` = the sealed secret, `context` = the
    /// label) and its parameters, in one transaction.
    ///
    /// # Errors
    /// `Conflict { "unique:..." }` on a duplicate extId.
    async fn create_oath(&self, new: NewCredential, detail: OathDetail) -> RepoResult<Credential>;

    /// Stores a FIDO2 credential and its details, in one transaction.
    ///
    /// # Errors
    /// `Conflict { "unique:..." }` on a duplicate extId or `hashedCredentialId` in the client
    /// (`hashed_credential_id` in the constraint text).
    async fn create_fido2(
        &self,
        new: NewCredential,
        details: &Fido2Details,
    ) -> RepoResult<Credential>;

    /// Replaces every code of a recovery-code credential with `hashes` under a new `salt`
    /// (stored as the credential's secret), if its version is still the one read; bumps the
    /// version. One transaction.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn replace_recovery_codes(
        &self,
        credential: &Credential,
        salt: &str,
        hashes: &[String],
    ) -> RepoResult<Credential>;

    /// How many codes of the credential are unused.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn unused_recovery_codes(&self, credential_id: i64) -> RepoResult<i64>;

    /// Consumes the code with this hash if it exists and is unused, in one conditional
    /// UPDATE; `true` only for the one caller whose UPDATE changed the row.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn use_recovery_code(
        &self,
        credential_id: i64,
        code_hash: &str,
        now: NaiveDateTime,
    ) -> RepoResult<bool>;

    /// The OATH detail of a credential.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn oath_detail(&self, credential_id: i64) -> RepoResult<Option<OathDetail>>;

    /// Moves the replay guard from `read` to `next` (> `read`) in one conditional UPDATE;
    /// `false` when another login moved it first (the code must then be refused).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn advance_oath(
        &self,
        credential_id: i64,
        read: Option<u64>,
        next: u64,
    ) -> RepoResult<bool>;

    /// The FIDO2 details of the given credentials, by credential id (missing ids are absent).
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn fido2_details(&self, credential_ids: &[i64])
        -> RepoResult<HashMap<i64, Fido2Details>>;

    /// Writes the common fields of a FIDO2 credential (versioned, as
    /// [`crate::credentials::CredentialRepo::update_credential`]) and its details, in one
    /// transaction.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn update_fido2(
        &self,
        credential: &Credential,
        details: &Fido2Details,
    ) -> RepoResult<Credential>;

    /// One keyset page, in (created, extId) order, of the credentials of `kind` that `owner`
    /// holds.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_credentials_of_type(
        &self,
        owner: Owner,
        kind: CredentialType,
        page: PageRequest,
    ) -> RepoResult<Page<Credential>>;

    /// One keyset page of every FIDO UAF registration of a client, in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_client_fido_uaf(
        &self,
        client_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<FidoUafCredential>>;
}
