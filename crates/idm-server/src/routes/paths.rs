//! The path parameters of the routes, one struct per URL shape.
//!
//! Each struct is both the actix extractor (`web::Path<UserPath>`, deserialized by name) and
//! the OpenAPI documentation of the same parameters (`params(UserPath)`), so a parameter's wire
//! name, type and description are written once. Fields are `camelCase` on the wire, the names
//! of the `{param}` segments in the route templates.

use serde::Deserialize;
use utoipa::IntoParams;

/// `.../{clientExtId}/...`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ClientPath {
    /// extId of the client
    pub client_ext_id: String,
}

/// `core/clients/{extId}` and `core/clients/{extId}/users` (the client addressed as `extId`).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ClientItemPath {
    /// extId of the client
    pub ext_id: String,
}

/// `core/applications/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ApplicationPath {
    /// extId of the application
    pub ext_id: String,
}

/// `core/terms/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct TermsPath {
    /// extId of the terms
    pub ext_id: String,
}

/// `core/{clientExtId}/users/{userExtId}/...`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the user
    pub user_ext_id: String,
}

/// `core/{clientExtId}/profiles/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ProfilePath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the profile
    pub ext_id: String,
}

/// `core/{clientExtId}/profiles/{extId}/unit/{unitExtId}` (assigning a profile to a unit).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ProfileUnitPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the profile
    pub ext_id: String,
    /// extId of the new unit
    pub unit_ext_id: String,
}

/// `core/{clientExtId}/profiles/{profileExtId}/authorizations`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct AuthorizationsPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the profile
    pub profile_ext_id: String,
}

/// `core/{clientExtId}/profiles/{profileExtId}/authorizations/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct AuthorizationPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the profile
    pub profile_ext_id: String,
    /// extId of the authorization
    pub ext_id: String,
}

/// `core/{clientExtId}/units/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct UnitPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the unit
    pub ext_id: String,
}

/// `core/{clientExtId}/units/{extId}/children/{childExtId}` (moving a unit under another).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct UnitChildPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the new parent unit
    pub ext_id: String,
    /// extId of the unit to move
    pub child_ext_id: String,
}

/// `core/{clientExtId}/personal-questions/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct PersonalQuestionPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the personal question
    pub ext_id: String,
}

/// `core/{clientExtId}/users/{userExtId}/dispatch-targets/{dtExtId}/...`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct DispatchTargetPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the user
    pub user_ext_id: String,
    /// extId of the dispatch target
    pub dt_ext_id: String,
}

/// `core/{clientExtId}/users/{userExtId}/fido-authenticators/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct FidoUafPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the user
    pub user_ext_id: String,
    /// extId of the FIDO UAF credential
    pub ext_id: String,
}

/// `core/{clientExtId}/users/{userExtId}/fido-authenticators/{extId}/dispatch-target/{dtExtId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct FidoUafLinkPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the user
    pub user_ext_id: String,
    /// extId of the FIDO UAF credential
    pub ext_id: String,
    /// extId of the dispatch target
    pub dt_ext_id: String,
}

/// `core/{clientExtId}/eroles/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct EnterpriseRolePath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the enterprise role
    pub ext_id: String,
}

/// `core/{clientExtId}/eroles/{eroleExtId}/roles/{roleExtId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct EnterpriseRoleMemberPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the enterprise role
    pub erole_ext_id: String,
    /// extId of the (application) role
    pub role_ext_id: String,
}

/// `core/{clientExtId}/profiles/{profileExtId}/eauthorizations/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct EnterpriseAuthorizationPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the profile
    pub profile_ext_id: String,
    /// extId of the enterprise authorization
    pub ext_id: String,
}

/// `core/{clientExtId}/users/{userExtId}/consents/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ConsentPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the user
    pub user_ext_id: String,
    /// extId of the consent
    pub ext_id: String,
}

/// `core/{clientExtId}/policies/{extId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct PolicyPath {
    /// extId of the client
    pub client_ext_id: String,
    /// extId of the policy
    pub ext_id: String,
}
