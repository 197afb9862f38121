//! Policy configurations of a client (`core/:c/policies`) and the effective policies the other
//! use cases apply: the configured values are the built-in defaults, a client's policy of the
//! same kind overrides them key by key.

use idm_domain::access::{Caller, Requirement};
use idm_domain::model::{Meta, PolicyConfig};
use idm_domain::policy::{IdentifierPolicy, PasswordPolicy};
use idm_domain::policy_config::{self, validate_parameters, ClientRules, Parameters, PolicyType};
use idm_domain::rights::Right;
use idm_domain::values::{check_ext_id, new_ext_id, now_millis};
use idm_domain::{DomainError, ErrorCode};
use idm_ports::locate::Address;
use idm_ports::{Page, PageRequest};

use crate::admit::Gate;
use crate::clients::{check_same_ext_id, check_version};
use crate::{AppError, AppResult, Services};

const CREATE: Requirement = Requirement::all(&[&[Right::PolicyCreate]]);
const LIST: Requirement =
    Requirement::all(&[&[Right::ClientView], &[Right::PolicyConfigurationView]]);
const VIEW: Requirement = Requirement::all(&[&[Right::PolicyView]]);
const MODIFY: Requirement = Requirement::all(&[&[Right::PolicyView], &[Right::PolicyModify]]);
const DELETE: Requirement = Requirement::all(&[&[Right::PolicyDelete]]);

/// Policy fields a client sends on create or patch; `None` = not sent.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    /// extId: optional on create; on patch must equal the addressed one.
    pub ext_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Type name (required on create; on patch must equal the stored one).
    pub policy_type: Option<String>,
    /// The default policy of its type in the client.
    pub default_policy: Option<bool>,
    /// The whole parameter map (on patch: replaces the stored one).
    pub parameters: Option<Parameters>,
    /// The version the client read (patch only).
    pub version: Option<i64>,
}

fn policy_not_found(ext_id: &str) -> AppError {
    DomainError::NotFound(format!("Policy doesn't exist with extId '{ext_id}'")).into()
}

fn multiple_client_policy(client_ext_id: &str) -> AppError {
    DomainError::unprocessable(
        ErrorCode::PcyconfMultipleClientPolicy,
        format!("The client with extId '{client_ext_id}' already has a ClientPolicy."),
    )
    .into()
}

/// Free texts may not carry NUL: PostgreSQL cannot store it.
fn check_texts(input: &PolicyInput) -> AppResult<()> {
    let nul = |s: &Option<String>| s.as_deref().is_some_and(|s| s.contains('\0'));
    let mut bad: Vec<String> = Vec::new();
    if nul(&input.name) {
        bad.push("name".into());
    }
    if nul(&input.description) {
        bad.push("description".into());
    }
    if let Some(p) = &input.parameters {
        bad.extend(
            p.iter()
                .filter(|(k, v)| k.contains('\0') || v.contains('\0'))
                .map(|(k, _)| format!("parameters.{}", k.replace('\0', ""))),
        );
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(DomainError::invalid_fields(&bad).into())
    }
}

impl Services {
    /// Creates a policy configuration.
    ///
    /// # Errors
    /// 403, 404 (client), 422 (`policyType` missing or unknown, invalid parameter,
    /// `errors.policyInconsistency`, `errors.pcyconf.multipleClientPolicy`, duplicate extId).
    pub async fn create_policy(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        input: PolicyInput,
    ) -> AppResult<PolicyConfig> {
        let write = self.writing();
        write.reaches_nobody(); // caller resolution reads no policy
        let admitted = self
            .admit(caller, Gate::new(&CREATE), Address::client(client_ext_id))
            .await?;
        let client = admitted.client()?;
        let policy_type: PolicyType = match input.policy_type.as_deref().map(str::trim) {
            None | Some("") => return Err(DomainError::invalid_fields(&["policyType"]).into()),
            Some(t) => t.parse()?,
        };
        if let Some(e) = &input.ext_id {
            check_ext_id(e)?;
        }
        check_texts(&input)?;
        let parameters = input.parameters.unwrap_or_default();
        validate_parameters(policy_type, &parameters, &self.config.password_policy)?;
        if policy_type == PolicyType::ClientPolicy
            && self
                .repo
                .effective_policy(client.meta.id, PolicyType::ClientPolicy)
                .await?
                .is_some()
        {
            return Err(multiple_client_policy(&client.meta.ext_id));
        }
        let now = now_millis();
        let ext_id = input.ext_id.unwrap_or_else(new_ext_id);
        let policy = PolicyConfig {
            meta: Meta::new(ext_id.clone(), now),
            client_id: client.meta.id,
            client_ext_id: client.meta.ext_id.clone(),
            name: input.name,
            description: input.description,
            policy_type,
            default_policy: input.default_policy.unwrap_or(false),
            parameters,
        };
        match self.repo.create_policy(policy).await {
            Ok(p) => Ok(p),
            Err(e) if e.is_unique_on("ext_id") => Err(DomainError::unprocessable(
                ErrorCode::DuplicateValue,
                format!("A policy with extId '{ext_id}' already exists."),
            )
            .into()),
            // The only other unique rule: one ClientPolicy per client (a racing create).
            Err(e) if e.is_unique() => Err(multiple_client_policy(&client.meta.ext_id)),
            Err(e) => Err(e.into()),
        }
    }

    /// One page of the client's policies.
    ///
    /// # Errors
    /// 403, 404 (client).
    pub async fn list_policies(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        page: PageRequest,
    ) -> AppResult<Page<PolicyConfig>> {
        let admitted = self
            .admit(caller, Gate::new(&LIST), Address::client(client_ext_id))
            .await?;
        Ok(self
            .repo
            .list_policies(admitted.client()?.meta.id, page)
            .await?)
    }

    async fn admitted_policy(
        &self,
        caller: &Caller,
        req: &Requirement,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<PolicyConfig> {
        let admitted = self
            .admit(caller, Gate::new(req), Address::client(client_ext_id))
            .await?;
        self.repo
            .policy_by_ext_id(admitted.client()?.meta.id, ext_id)
            .await?
            .ok_or_else(|| policy_not_found(ext_id))
    }

    /// Reads one policy.
    ///
    /// # Errors
    /// 403, 404 (client, policy).
    pub async fn get_policy(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
    ) -> AppResult<PolicyConfig> {
        self.admitted_policy(caller, &VIEW, client_ext_id, ext_id)
            .await
    }

    /// Changes name, description, defaultPolicy and replaces the whole parameter map.
    ///
    /// # Errors
    /// 403, 404, 409 (stale version), 422 (`errors.modifyExtId`, a different `policyType`,
    /// invalid parameter, `errors.policyInconsistency`).
    pub async fn patch_policy(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        input: PolicyInput,
    ) -> AppResult<PolicyConfig> {
        let write = self.writing();
        write.reaches_nobody(); // caller resolution reads no policy
        let mut policy = self
            .admitted_policy(caller, &MODIFY, client_ext_id, ext_id)
            .await?;
        check_same_ext_id(input.ext_id.as_deref(), ext_id)?;
        check_version(input.version, policy.meta.version)?;
        if let Some(t) = input.policy_type.as_deref() {
            if t.trim() != policy.policy_type.as_str() {
                return Err(DomainError::invalid_fields(&["policyType"]).into());
            }
        }
        check_texts(&input)?;
        if let Some(p) = &input.parameters {
            validate_parameters(policy.policy_type, p, &self.config.password_policy)?;
        }
        patch_fields!(policy, input, {
            name: Some,
            description: Some,
            default_policy,
            parameters,
        });
        Ok(self.repo.update_policy(&policy).await?)
    }

    /// Deletes a policy no credential references.
    ///
    /// # Errors
    /// 403, 404, 409 (stale version), 422 `errors.undeletedDependencies` while credentials
    /// reference it.
    pub async fn delete_policy(
        &self,
        caller: &Caller,
        client_ext_id: &str,
        ext_id: &str,
        version: Option<i64>,
    ) -> AppResult<()> {
        let write = self.writing();
        write.reaches_nobody(); // caller resolution reads no policy
        let policy = self
            .admitted_policy(caller, &DELETE, client_ext_id, ext_id)
            .await?;
        check_version(version, policy.meta.version)?;
        let n = self.repo.policy_references(policy.meta.id).await?;
        if n > 0 {
            return Err(DomainError::unprocessable(
                ErrorCode::UndeletedDependencies,
                format!(
                    "The policy with extId '{ext_id}' is still referenced by {n} credential(s)."
                ),
            )
            .into());
        }
        Ok(self
            .repo
            .delete_policy(policy.meta.id, policy.meta.version)
            .await?)
    }

    /// The password policy in force in a client: the configured one, overridden by the
    /// client's (default) `PwdPolicy`.
    ///
    /// # Errors
    /// A repository failure, or stored parameters that no longer parse (a server fault).
    pub async fn password_policy_for(&self, client_id: i64) -> AppResult<PasswordPolicy> {
        let base = &self.config.password_policy;
        match self
            .repo
            .effective_policy(client_id, PolicyType::PwdPolicy)
            .await?
        {
            None => Ok(base.clone()),
            Some(p) => policy_config::password_policy(base, &p.parameters).map_err(stored),
        }
    }

    /// The identifier naming policy in force in a client: the configured one, overridden by
    /// the client's `IdentifierPolicy`.
    ///
    /// # Errors
    /// A repository failure, or stored parameters that no longer parse (a server fault).
    pub async fn identifier_policy_for(&self, client_id: i64) -> AppResult<IdentifierPolicy> {
        let base = &self.config.identifier_policy;
        match self
            .repo
            .effective_policy(client_id, PolicyType::IdentifierPolicy)
            .await?
        {
            None => Ok(base.clone()),
            Some(p) => policy_config::identifier_policy(base, &p.parameters).map_err(stored),
        }
    }
}

/// The rules of a client's `ClientPolicy` parameters (`None`: the client has none).
///
/// # Errors
/// Stored parameters that no longer parse (a server fault).
pub(crate) fn client_rules_of(parameters: Option<&Parameters>) -> AppResult<ClientRules> {
    parameters.map_or_else(
        || Ok(ClientRules::default()),
        |p| policy_config::client_policy(p).map_err(stored),
    )
}

/// Parameters were validated when stored; failing now means the data changed underneath.
fn stored(e: DomainError) -> AppError {
    AppError::Internal(format!("stored policy parameters no longer valid: {e}"))
}
