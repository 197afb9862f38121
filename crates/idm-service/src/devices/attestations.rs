//! The app attestation of a dispatch target.

use idm_domain::access::Caller;
use idm_ports::locate::{Address, ItemKey};

use super::*;
use crate::admit::Admitted;
use crate::admit::Gate;

/// The attestation of an admitted `ItemKey::AppAttestation` address (admission answered 404
/// when there is none).
fn attestation_of(admitted: Admitted) -> AppResult<AppAttestation> {
    match admitted.into_dispatch_target()? {
        (_, Some(a)) => Ok(a),
        (t, None) => Err(AppError::Internal(format!(
            "admitted without the attestation of {}",
            t.meta.ext_id
        ))),
    }
}

impl Services {
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&ATTESTATION_CREATE),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::DispatchTarget(target_ext_id.to_owned())),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let (target, existing) = admitted.dispatch_target()?;
        let mut f = Fields::default();
        fields_of_attestation(&mut f, "", &input);
        f.check()?;
        let exists = || {
            duplicate(format!(
                "An AppAttestation already exists for DispatchTarget with extId '{target_ext_id}'."
            ))
        };
        if existing.is_some() {
            return Err(exists());
        }
        let name = input.name.clone().unwrap_or_default();
        let attestation = AppAttestation {
            dispatch_target_id: target.meta.id,
            ..build_attestation(client, user, input)
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
        let admitted = self
            .admit(
                caller,
                Gate::new(&ATTESTATION_VIEW).xtoken(xtoken),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::AppAttestation(target_ext_id.to_owned())),
            )
            .await?;
        attestation_of(admitted)
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&ATTESTATION_MODIFY).xtoken(xtoken),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::AppAttestation(target_ext_id.to_owned())),
            )
            .await?;
        let owner = admitted.user()?.meta.ext_id.clone();
        let mut a = attestation_of(admitted)?;
        let mut f = Fields::default();
        f.non_blank("name", &patch.name, NAME);
        f.counter("counter", patch.counter);
        f.non_blank("receipt", &patch.receipt, TEXT);
        f.non_blank("publicKey", &patch.public_key, TEXT);
        f.non_blank("deviceId", &patch.device_id, NAME);
        f.optional("environment", &patch.environment, SHORT);
        f.check()?;
        check_version(patch.version, a.meta.version)?;
        patch_fields!(a, patch, {
            name: Some,
            counter,
            receipt,
            public_key,
            device_id,
            environment: Some,
        });
        match self.repo.update_app_attestation(&a).await {
            Ok(a) => Ok(a),
            Err(e) if e.is_unique_on("name") => Err(duplicate(format!(
                "An AppAttestation with name '{}' already exists for user with extId '{}'.",
                a.name.unwrap_or_default(),
                owner
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&ATTESTATION_DELETE).xtoken(xtoken),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::AppAttestation(target_ext_id.to_owned())),
            )
            .await?;
        let a = attestation_of(admitted)?;
        crate::error::deleted(self.repo.delete_app_attestation(a.meta.id).await)
    }
}
