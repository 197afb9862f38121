//! Dispatch targets, app attestations and FIDO UAF credentials.

use async_trait::async_trait;
use idm_domain::model::{AppAttestation, DispatchTarget, FidoUafCredential};

use crate::{Page, PageRequest, RepoResult};

/// A dispatch target together with its app attestation, if it has one.
pub type TargetWithAttestation = (DispatchTarget, Option<AppAttestation>);

/// Persistence of the mobile-authentication model.
#[async_trait]
pub trait DeviceRepo {
    /// One keyset page of the user's dispatch targets in (created, extId) order, each with its
    /// attestation.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_dispatch_targets(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<TargetWithAttestation>>;

    /// Stores a new dispatch target and, if given, its app attestation in one transaction.
    /// Ids and the attestation's `dispatch_target_id` are assigned by the adapter.
    ///
    /// # Errors
    /// `Conflict { "unique:dispatch_targets..." }` on a duplicate extId,
    /// `Conflict { "unique:app_attestations...name..." }` on a duplicate attestation name of the
    /// user; nothing is stored then.
    async fn create_dispatch_target(
        &self,
        target: DispatchTarget,
        attestation: Option<AppAttestation>,
    ) -> RepoResult<TargetWithAttestation>;

    /// Deletes a dispatch target in one transaction: every FIDO UAF credential pointing at it
    /// loses the link (the credential stays, its version is bumped), its app attestation is
    /// deleted, then the target itself. Any failure leaves every row as it was.
    ///
    /// # Errors
    /// `NotFound` if the target is already gone; any database failure rolls everything back.
    async fn delete_dispatch_target(&self, dispatch_target_id: i64) -> RepoResult<()>;

    /// Stores a new app attestation (`id` assigned by the adapter).
    ///
    /// # Errors
    /// `Conflict` on a second attestation for the same target (`dispatch_target_id`) or a
    /// duplicate name of the user (`name`).
    async fn create_app_attestation(
        &self,
        attestation: AppAttestation,
    ) -> RepoResult<AppAttestation>;

    /// Writes the mutable fields if the stored version still equals `attestation.meta.version`;
    /// bumps the version and `last_modified`.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone; `Conflict` on a duplicate
    /// name.
    async fn update_app_attestation(
        &self,
        attestation: &AppAttestation,
    ) -> RepoResult<AppAttestation>;

    /// Deletes an app attestation.
    ///
    /// # Errors
    /// `NotFound` if it is already gone.
    async fn delete_app_attestation(&self, id: i64) -> RepoResult<()>;

    /// One keyset page of the user's FIDO UAF credentials in (created, extId) order.
    ///
    /// # Errors
    /// `Unavailable` / `Other` on database failure.
    async fn list_fido_uaf(
        &self,
        user_id: i64,
        page: PageRequest,
    ) -> RepoResult<Page<FidoUafCredential>>;

    /// Stores a new FIDO UAF credential (`id` assigned by the adapter; the link is taken from
    /// `dispatch_target_id`).
    ///
    /// # Errors
    /// `Conflict { "unique:...aaid...key_id..." }` on a duplicate (aaid, keyId),
    /// `Conflict { "unique:...ext_id..." }` on a duplicate extId.
    async fn create_fido_uaf(&self, credential: FidoUafCredential)
        -> RepoResult<FidoUafCredential>;

    /// Deletes a FIDO UAF credential.
    ///
    /// # Errors
    /// `NotFound` if it is already gone.
    async fn delete_fido_uaf(&self, id: i64) -> RepoResult<()>;

    /// Removes the credential's dispatch-target link if the stored version still equals
    /// `credential.meta.version`; bumps the version.
    ///
    /// # Errors
    /// `StaleVersion` if another write came first or the row is gone.
    async fn unlink_fido_uaf(
        &self,
        credential: &FidoUafCredential,
    ) -> RepoResult<FidoUafCredential>;
}
