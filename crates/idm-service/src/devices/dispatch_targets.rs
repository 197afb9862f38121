//! Dispatch targets of a user (★ DELETE, seed 000).

use idm_domain::access::Caller;
use idm_ports::locate::{Address, ItemKey};

use super::*;
use crate::admit::Gate;

impl Services {
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&TARGET_CREATE),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let (client, user) = (admitted.client()?, admitted.user()?);
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
            .map(|a| build_attestation(client, user, a));
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
        let admitted = self
            .admit(
                caller,
                Gate::new(&TARGET_VIEW).xtoken(xtoken),
                Address::client(client_ext_id).with_user(user_ext_id),
            )
            .await?;
        let user = admitted.user()?;
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
        let admitted = self
            .admit(
                caller,
                Gate::new(&TARGET_VIEW).xtoken(xtoken),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::DispatchTarget(ext_id.to_owned())),
            )
            .await?;
        admitted.into_dispatch_target()
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
        let write = self.writing();
        write.reaches_nobody(); // callers are not resolved from these rows
        let admitted = self
            .admit(
                caller,
                Gate::new(&TARGET_DELETE).xtoken(xtoken),
                Address::client(client_ext_id)
                    .with_user(user_ext_id)
                    .with_item(ItemKey::DispatchTarget(ext_id.to_owned())),
            )
            .await?;
        let (target, _) = admitted.dispatch_target()?;
        crate::error::deleted(self.repo.delete_dispatch_target(target.meta.id).await)
    }
}
