//! The 162 nevisIDM error codes and their exact wire strings.
//!
//! Written once, as one table (variant => wire string) that generates the enum, `ALL`,
//! `as_str` and `FromStr`, so a variant cannot exist without its wire string or be missing
//! from `ALL`. A test checks the table against the reference list, so a code can never drift
//! from what nevisIDM clients match on.

/// Generates `ErrorCode` and its lookups from the table below. Kept private: the table is the
/// only invocation, so the public API is exactly what it was when the three lists were
/// written out by hand.
macro_rules! error_codes {
    ($($variant:ident => $wire:literal,)+) => {
        /// Every error code a nevisIDM client can receive in `errors[].code`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant,
            )+
        }

        impl ErrorCode {
            /// All codes, in the order of the reference list. The length is written out so
            /// that adding or dropping a row without meaning to fails to compile.
            pub const ALL: [ErrorCode; 162] = [$(ErrorCode::$variant),+];

            /// The exact string sent on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)+
                }
            }
        }

        impl std::str::FromStr for ErrorCode {
            type Err = ();

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok(ErrorCode::$variant),)+
                    _ => Err(()),
                }
            }
        }
    };
}

// Order = the reference list (`tests/error-codes.txt`); it is also the `Ord` order.
error_codes! {
    FatalError => "errors.fatalError",
    UnknownReason => "errors.unknownReason",
    InconsistentData => "errors.inconsistentData",
    DuplicateName => "errors.duplicateName",
    InvalidData => "errors.invalidData",
    DuplicateValue => "errors.duplicateValue",
    DuplicateEmail => "errors.duplicateEmail",
    DuplicateMobile => "errors.duplicateMobile",
    UndeletedDependencies => "errors.undeletedDependencies",
    NoRecord => "errors.noRecord",
    InvalidConfig => "errors.invalidConfig",
    MissingReferenceData => "errors.missingReferenceData",
    RecordDeleted => "errors.recordDeleted",
    ModifyReadonlyData => "errors.modifyReadonlyData",
    TooManySearchResults => "errors.tooManySearchResults",
    PessimisticLockingFailure => "errors.pessimisticLockingFailure",
    PolicyViolation => "errors.policyViolation",
    DeleteDefaultEntityFailure => "errors.deleteDefaultEntityFailure",
    EmailChannel => "errors.emailChannel",
    NoSmtpConnection => "errors.noSmtpConnection",
    SmtpNotConfigured => "errors.SmtpNotConfigured",
    PropertyUniquenessViolated => "errors.propertyUniquenessViolated",
    PropertyStringmaxlen => "errors.property.stringmaxlen",
    PropertyStringregex => "errors.property.stringregex",
    PropertyRegexinv => "errors.property.regexinv",
    PwdPolicyViolated => "errors.pwdPolicyViolated",
    CertificatePolicyViolated => "errors.certificatePolicyViolated",
    IdentifierPolicyViolated => "errors.identifierPolicyViolated",
    PasswordExists => "errors.passwordExists",
    MtanFormatViolated => "errors.mtanFormatViolated",
    MtanFormatE164Violated => "errors.mtanFormatE164Violated",
    TempStrongPasswordExists => "errors.tempStrongPasswordExists",
    SafewordExists => "errors.safewordExists",
    SecuridExists => "errors.securidExists",
    TicketExists => "errors.ticketExists",
    KerberosExists => "errors.kerberosExists",
    TooManyOTPCards => "errors.tooManyOTPCards",
    UrlTicketMissingURLPrefix => "errors.urlTicketMissingURLPrefix",
    CertificateExists => "errors.certificateExists",
    VascoExists => "errors.vascoExists",
    PUKExists => "errors.PUKExists",
    URLTicketExists => "errors.URLTicketExists",
    MobileSignatureExists => "errors.mobileSignatureExists",
    SecurityQuestionsExists => "errors.securityQuestionsExists",
    RecoveryCodeExists => "errors.recoveryCodeExists",
    SecurityQuestionsMaxReached => "errors.securityQuestionsMaxReached",
    QrCodeGenerationFailed => "errors.qrCodeGenerationFailed",
    OathSecretIsShared => "errors.oathSecretIsShared",
    Nocertcred => "errors.nocertcred",
    CredTypeUnitPolicyViolated => "errors.CredTypeUnitPolicyViolated",
    CredTypeClientPolicyViolated => "errors.CredTypeClientPolicyViolated",
    CredentialNotActive => "errors.credentialNotActive",
    DimensionNotMatch => "errors.dimensionNotMatch",
    NoTemplate => "errors.noTemplate",
    PdfPrintingFailure => "errors.pdfPrintingFailure",
    MissingMandatoryPlaceholder => "errors.missingMandatoryPlaceholder",
    DefaultCollectionDelete => "errors.defaultCollectionDelete",
    TableTypeMismatch => "errors.tableTypeMismatch",
    NullRequestBody => "errors.nullRequestBody",
    Deserialization => "errors.deserialization",
    NullParameter => "errors.nullParameter",
    InvalidParameter => "errors.invalidParameter",
    InvalidDate => "errors.invalidDate",
    InvalidDateOrDateTime => "errors.invalidDateOrDateTime",
    InvalidDateInterval => "errors.invalidDateInterval",
    InvalidMobile => "errors.invalidMobile",
    MobileCannotBeDeleted => "errors.mobileCannotBeDeleted",
    MobileMissing => "errors.mobileMissing",
    UserLoginIdNull => "errors.userLoginIdNull",
    UserLoginFailed => "errors.userLoginFailed",
    UserNameNull => "errors.userNameNull",
    UserFirstNameNull => "errors.userFirstNameNull",
    UserSexNull => "errors.userSexNull",
    UserCountryNull => "errors.userCountryNull",
    UserEmailNull => "errors.userEmailNull",
    UserMobileNull => "errors.userMobileNull",
    UserPhoneFormat => "errors.userPhoneFormat",
    UserEmailFormat => "errors.userEmailFormat",
    MsisdnFormat => "errors.msisdnFormat",
    ApplicationNameNull => "errors.applicationNameNull",
    CredentialFidoUafInvalidAuthVersionFormat => "errors.credentialFidoUaf.invalidAuthVersionFormat",
    CredentialFidoUafInvalidPublicKeyAlgorithm => "errors.credentialFidoUaf.invalidPublicKeyAlgorithm",
    CredentialFidoUafInvalidKeyIdFormat => "errors.credentialFidoUaf.invalidKeyIdFormat",
    CredentialFidoUafInvalidAaidFormat => "errors.credentialFidoUaf.invalidAaidFormat",
    CredentialFidoUafEmptyAppId => "errors.credentialFidoUaf.emptyAppId",
    CredentialFidoUafNotUnique => "errors.credentialFidoUaf.notUnique",
    MsspIdentifierMissing => "errors.msspIdentifierMissing",
    InvalidTimeInterval => "errors.invalidTimeInterval",
    UnitInvalidValidityPeriodParent => "errors.unitInvalidValidityPeriodParent",
    UnitInvalidValidFromParameterParent => "errors.unitInvalidValidFromParameterParent",
    UnitInvalidValidUntilParameterParent => "errors.unitInvalidValidUntilParameterParent",
    UnitInvalidValidityPeriodChild => "errors.unitInvalidValidityPeriodChild",
    UnitInvalidValidFromParameterChild => "errors.unitInvalidValidFromParameterChild",
    UnitInvalidValidUntilParameterChild => "errors.unitInvalidValidUntilParameterChild",
    NoClientFound => "errors.noClientFound",
    InconsistentClientAssignment => "errors.inconsistentClientAssignment",
    NoDefaultUnitInClient => "errors.noDefaultUnitInClient",
    SamlAttributeFormat => "errors.samlAttributeFormat",
    InsufficientRightsFunction => "errors.insufficientRightsFunction",
    MaxResetCount => "errors.maxResetCount",
    InsufficientFineGrainedRights => "errors.insufficientFineGrainedRights",
    PotentialPrivilegeEscalation => "errors.potentialPrivilegeEscalation",
    ApplDataroomDenied => "errors.applDataroomDenied",
    UnitDataroomDenied => "errors.unitDataroomDenied",
    ERoleDataroomDenied => "errors.eRoleDataroomDenied",
    CombinedDataroomDenied => "errors.combinedDataroomDenied",
    ClientDataroomDenied => "errors.clientDataroomDenied",
    ReferenceDataChangeDenied => "errors.referenceDataChangeDenied",
    AttrAccessForbidden => "errors.attrAccessForbidden",
    FilesystemIO => "errors.filesystemIO",
    ReportingTooManyRequests => "errors.reporting.tooManyRequests",
    ModifyArchivedUser => "errors.modifyArchivedUser",
    ModifyArchivedCredential => "errors.modifyArchivedCredential",
    ArchiveCredentialDenied => "errors.archiveCredentialDenied",
    ModifyArchivedProfile => "errors.modifyArchivedProfile",
    AssignDisabledUnit => "errors.assignDisabledUnit",
    AssignProfilelessUnit => "errors.assignProfilelessUnit",
    ProfilelessFlagCannotBeSet => "errors.profilelessFlagCannotBeSet",
    ModifyExtId => "errors.modifyExtId",
    DocTypeNotModifiable => "errors.docTypeNotModifiable",
    AddIdmToApplDataroom => "errors.addIdmToApplDataroom",
    ApplicationLimitsDataroomUnitsMaxExceeded => "errors.applicationLimitsDataroomUnitsMaxExceeded",
    AssignSubunitAsParent => "errors.assignSubunitAsParent",
    HistoryNorecord => "errors.history.norecord",
    LoginIdGeneratorFailed => "errors.loginIdGeneratorFailed",
    FileuploadVasco => "errors.fileupload.vasco",
    TechUserOneProfile => "errors.techUser.oneProfile",
    UrlTicketInvalidFormat => "errors.urlTicket.invalidFormat",
    PasswordChangeDeadlineExceeded => "errors.passwordChangeDeadlineExceeded",
    PcyconfInvalidParamValue => "errors.pcyconf.invalidParamValue",
    PcyconfMissingParam => "errors.pcyconf.missingParam",
    PcyconfMissingProfilePolicy => "errors.pcyconf.missingProfilePolicy",
    PcyconfMultipleClientPolicy => "errors.pcyconf.multipleClientPolicy",
    PcyconfInvalidParamName => "errors.pcyconf.invalidParamName",
    UserImportFileuploadInvalidTemplate => "errors.userImport.fileupload.invalidTemplate",
    EnterpriseRolesDisabled => "errors.enterpriseRolesDisabled",
    QueryServiceDisabled => "errors.queryServiceDisabled",
    ServiceDisabled => "errors.serviceDisabled",
    InvalidUri => "errors.invalidUri",
    UnsupportedMediaType => "errors.unsupportedMediaType",
    JsonProcessingError => "errors.jsonProcessingError",
    UnsupportedOperation => "errors.unsupportedOperation",
    UnsupportedCredentialTypeToCreate => "errors.unsupportedCredentialTypeToCreate",
    UnsupportedCredentialTypeToDelete => "errors.unsupportedCredentialTypeToDelete",
    CredentialTypeWithoutProperties => "errors.credentialTypeWithoutProperties",
    InvalidAssignIdmroleToErole => "errors.invalidAssignIdmroleToErole",
    InvalidJWTToken => "errors.invalidJWTToken",
    ModifyProtectedFieldInvalidJWTToken => "errors.modifyProtectedFieldInvalidJWTToken",
    OptimisticLockingFailure => "errors.optimisticLockingFailure",
    DeleteDefaultUnitCredPolicyFailure => "errors.deleteDefaultUnitCredPolicyFailure",
    OtherGenderPolicyDisabled => "errors.otherGenderPolicyDisabled",
    ErrorLoginUserState => "error.login.userState",
    ErrorJobExecutionFailure => "error.job.execution.failure",
    InvalidSyntax => "errors.invalidSyntax",
    MandatoryParameterMissing => "errors.mandatoryParameterMissing",
    FieldIsNotIndexed => "errors.fieldIsNotIndexed",
    FieldIsNotDirectlyIndexed => "errors.fieldIsNotDirectlyIndexed",
    EntityManagerNotOpen => "errors.entityManagerNotOpen",
    UnsuccessfulQuery => "errors.unsuccessfulQuery",
    QueryHasTimedOut => "errors.queryHasTimedOut",
    EmailPolicyViolated => "errors.emailPolicyViolated",
    PolicyInconsistency => "errors.policyInconsistency",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn error_code_enum_matches_the_reference_list_exactly() {
        let reference = include_str!("../tests/error-codes.txt");
        let expected: Vec<&str> = reference
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let actual: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(actual, expected);
        assert_eq!(actual.len(), 162);
    }

    #[test]
    fn every_code_parses_back_from_its_wire_string() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
    }

    #[test]
    fn an_unknown_wire_string_does_not_parse() {
        assert_eq!("errors.noSuchCode".parse::<ErrorCode>(), Err(()));
        assert_eq!("".parse::<ErrorCode>(), Err(()));
    }
}
