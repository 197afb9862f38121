//! FIDO2 (WebAuthn) authenticators as nevisIDM stores them: the registration's outcome, not the
//! ceremony (that stays with the relying party / nevisFIDO). Field names and enum values are
//! the reference's (`create-fido-2-credential`).

use std::str::FromStr;

use crate::error::DomainError;

wire_enum! {
    /// `authenticatorAttachment`.
    AuthenticatorAttachment, parse: () {
        /// Built into the device.
        Platform => "platform",
        /// A roaming authenticator (security key).
        CrossPlatform => "crossplatform",
    }
}

wire_enum! {
    /// `attestationConveyancePreference`.
    AttestationConveyancePreference, parse: () {
        /// The authenticator's own attestation.
        Direct => "direct",
        /// An anonymised attestation.
        Indirect => "indirect",
        /// No attestation.
        None => "none",
        /// Enterprise attestation (uniquely identifying).
        Enterprise => "enterprise",
    }
}

wire_enum! {
    /// `residentKeyRequirement`.
    ResidentKeyRequirement, parse: () {
        /// A discoverable credential (passkey) was required.
        Required => "required",
        /// A server-side credential was preferred.
        Discouraged => "discouraged",
    }
}

wire_enum! {
    /// `userVerificationRequirement`.
    UserVerificationRequirement, parse: () {
        /// User verification was required.
        Required => "required",
        /// User verification was preferred.
        Preferred => "preferred",
        /// User verification was not wanted.
        Discouraged => "discouraged",
    }
}

/// The FIDO2-specific fields of a stored authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fido2Details {
    /// Make and model of the authenticator (128-bit identifier, as sent).
    pub aaguid: String,
    /// The authenticator data (may contain the credential id), opaque to idm.
    pub authenticator: String,
    /// How the authenticator is attached, if told.
    pub authenticator_attachment: Option<AuthenticatorAttachment>,
    /// The attestation the relying party asked for.
    pub attestation_conveyance_preference: AttestationConveyancePreference,
    /// Hash of the credential id the authenticator generated (unique per client).
    pub hashed_credential_id: String,
    /// The relying party's domain.
    pub rp_id: String,
    /// Whether a discoverable credential was required.
    pub resident_key_requirement: ResidentKeyRequirement,
    /// The browser's user agent at registration, if told.
    pub user_agent: Option<String>,
    /// A name the user recognises the authenticator by.
    pub user_friendly_name: Option<String>,
    /// Whether user verification was required.
    pub user_verification_requirement: UserVerificationRequirement,
}

/// A create body's FIDO2 fields as received (strings, all optional), to be checked at once so
/// the 422 names every bad field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fido2Draft {
    /// `aaguid`, required, non-empty.
    pub aaguid: Option<String>,
    /// `authenticator`, required, non-empty.
    pub authenticator: Option<String>,
    /// `authenticatorAttachment`, optional enum.
    pub authenticator_attachment: Option<String>,
    /// `attestationConveyancePreference`, required enum.
    pub attestation_conveyance_preference: Option<String>,
    /// `hashedCredentialId`, required, non-empty.
    pub hashed_credential_id: Option<String>,
    /// `rpId`, required, non-empty.
    pub rp_id: Option<String>,
    /// `residentKeyRequirement`, required enum.
    pub resident_key_requirement: Option<String>,
    /// `userAgent`, optional.
    pub user_agent: Option<String>,
    /// `userFriendlyName`, optional.
    pub user_friendly_name: Option<String>,
    /// `userVerificationRequirement`, required enum.
    pub user_verification_requirement: Option<String>,
}

/// Longest accepted text in any FIDO2 field: generous for attestation data, bounded so a body
/// cannot fill a column without limit.
pub const MAX_FIELD_LEN: usize = 4096;

fn required_text(
    value: Option<String>,
    field: &'static str,
    bad: &mut Vec<&'static str>,
) -> String {
    match value {
        Some(v) if !v.trim().is_empty() && v.len() <= MAX_FIELD_LEN => v,
        _ => {
            bad.push(field);
            String::new()
        }
    }
}

fn optional_text(
    value: Option<String>,
    field: &'static str,
    bad: &mut Vec<&'static str>,
) -> Option<String> {
    match value {
        Some(v) if v.len() > MAX_FIELD_LEN => {
            bad.push(field);
            None
        }
        other => other,
    }
}

fn required_enum<T: FromStr + Copy>(
    value: Option<String>,
    field: &'static str,
    fallback: T,
    bad: &mut Vec<&'static str>,
) -> T {
    match value.as_deref().map(str::parse::<T>) {
        Some(Ok(v)) => v,
        _ => {
            bad.push(field);
            fallback
        }
    }
}

impl Fido2Draft {
    /// Checks the mandatory fields and enums.
    ///
    /// # Errors
    /// 422 `errors.invalidParameter` naming every missing, empty, too long or unknown field.
    pub fn validate(self) -> Result<Fido2Details, DomainError> {
        let mut bad = Vec::new();
        let aaguid = required_text(self.aaguid, "aaguid", &mut bad);
        let authenticator = required_text(self.authenticator, "authenticator", &mut bad);
        let authenticator_attachment = match self.authenticator_attachment.as_deref() {
            None => None,
            Some(v) => match v.parse() {
                Ok(a) => Some(a),
                Err(()) => {
                    bad.push("authenticatorAttachment");
                    None
                }
            },
        };
        let attestation_conveyance_preference = required_enum(
            self.attestation_conveyance_preference,
            "attestationConveyancePreference",
            AttestationConveyancePreference::None,
            &mut bad,
        );
        let hashed_credential_id =
            required_text(self.hashed_credential_id, "hashedCredentialId", &mut bad);
        let rp_id = required_text(self.rp_id, "rpId", &mut bad);
        let resident_key_requirement = required_enum(
            self.resident_key_requirement,
            "residentKeyRequirement",
            ResidentKeyRequirement::Discouraged,
            &mut bad,
        );
        let user_agent = optional_text(self.user_agent, "userAgent", &mut bad);
        let user_friendly_name =
            optional_text(self.user_friendly_name, "userFriendlyName", &mut bad);
        let user_verification_requirement = required_enum(
            self.user_verification_requirement,
            "userVerificationRequirement",
            UserVerificationRequirement::Preferred,
            &mut bad,
        );
        if !bad.is_empty() {
            return Err(DomainError::invalid_fields(&bad));
        }
        Ok(Fido2Details {
            aaguid,
            authenticator,
            authenticator_attachment,
            attestation_conveyance_preference,
            hashed_credential_id,
            rp_id,
            resident_key_requirement,
            user_agent,
            user_friendly_name,
            user_verification_requirement,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_code::ErrorCode;

    fn full() -> Fido2Draft {
        Fido2Draft {
            aaguid: Some("adce0002-35bc-c60a-648b-0b25f1f05503".into()),
            authenticator: Some("{\"credentialId\":\"abc\"}".into()),
            authenticator_attachment: Some("crossplatform".into()),
            attestation_conveyance_preference: Some("direct".into()),
            hashed_credential_id: Some("hashed-1".into()),
            rp_id: Some("acme.test".into()),
            resident_key_requirement: Some("required".into()),
            user_agent: None,
            user_friendly_name: Some("YubiKey".into()),
            user_verification_requirement: Some("preferred".into()),
        }
    }

    #[test]
    fn a_complete_registration_is_accepted_with_its_enums() {
        let d = full().validate().unwrap();
        assert_eq!(
            d.authenticator_attachment,
            Some(AuthenticatorAttachment::CrossPlatform)
        );
        assert_eq!(
            d.attestation_conveyance_preference,
            AttestationConveyancePreference::Direct
        );
        assert_eq!(d.resident_key_requirement, ResidentKeyRequirement::Required);
        assert_eq!(
            d.user_verification_requirement,
            UserVerificationRequirement::Preferred
        );
    }

    #[test]
    fn every_missing_empty_or_unknown_mandatory_field_is_named_in_one_error() {
        let draft = Fido2Draft {
            aaguid: None,
            rp_id: Some("  ".into()),
            authenticator_attachment: Some("usb".into()),
            user_verification_requirement: Some("always".into()),
            ..full()
        };
        assert_eq!(
            draft.validate().unwrap_err(),
            DomainError::unprocessable(
                ErrorCode::InvalidParameter,
                "The following fields are not valid: aaguid, authenticatorAttachment, rpId, userVerificationRequirement"
            )
        );
    }

    #[test]
    fn enum_wire_values_round_trip_exactly() {
        for v in AttestationConveyancePreference::ALL {
            assert_eq!(
                v.as_str().parse::<AttestationConveyancePreference>(),
                Ok(*v)
            );
        }
        assert_eq!(
            serde_json::to_string(&AuthenticatorAttachment::CrossPlatform).unwrap(),
            "\"crossplatform\""
        );
        assert!("Direct".parse::<AttestationConveyancePreference>().is_err());
    }
}
