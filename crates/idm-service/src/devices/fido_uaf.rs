//! FIDO UAF authenticators of a user.

use idm_domain::access::Caller;
use idm_ports::locate::{Address, ItemKey};

use super::*;
use crate::admit::Gate;
use idm_ports::locate::Item;

impl Services {
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let mut address = Address::client(client_ext_id).with_user(user_ext_id);
        if let Some(dt) = &input.dispatch_target_ext_id {
            address = address.with_item(ItemKey::DispatchTarget(dt.clone()));
        }
        let admitted = self.admit(caller, Gate::new(&FIDO_CREATE), address).await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
        let target = match &admitted.found.item {
            Some(Item::DispatchTarget(t, _)) => Some(t),
            _ => None,
        };
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
        let ext_id = ext_id_or_new(input.ext_id)?;
        let credential = FidoUafCredential {
            meta: new_meta(ext_id.clone()),
            client_id: client.meta.id,
            user_id: user.meta.id,
            dispatch_target_id: target.as_ref().map(|t| t.meta.id),
            dispatch_target_ext_id: target.map(|t| t.meta.ext_id.clone()),
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
        let admitted = self
            .admit(
                caller,
                Gate::new(&FIDO_VIEW),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
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
        let admitted = self
            .admit(
                caller,
                Gate::new(&FIDO_VIEW),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::FidoUaf(ext_id.to_owned())),
            )
            .await?;
        admitted.into_fido_uaf()
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&FIDO_DELETE).xtoken(xtoken),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::FidoUaf(ext_id.to_owned())),
            )
            .await?;
        let c = admitted.into_fido_uaf()?;
        crate::error::deleted(self.repo.delete_fido_uaf(c.meta.id).await)
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&FIDO_UNLINK),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::FidoUaf(ext_id.to_owned())),
            )
            .await?;
        let c = admitted.into_fido_uaf()?;
        if c.dispatch_target_ext_id.as_deref() != Some(target_ext_id) {
            // Not linked to it: say whether the target exists at all (404 either way).
            let target = Address::client(client_ext_id)
                .with_user(user_ext_id)
                .with_item(ItemKey::DispatchTarget(target_ext_id.to_owned()));
            self.admit(caller, Gate::new(&FIDO_UNLINK), target).await?;
            return Err(DomainError::NotFound(format!(
                "FidoUafCredential with extId '{ext_id}' is not linked to DispatchTarget with extId '{target_ext_id}'"
            ))
            .into());
        }
        self.repo.unlink_fido_uaf(&c).await?;
        Ok(())
    }
}
