//! The 162 nevisIDM error codes and their exact wire strings.
//!
//! Generated once from the reference list and checked against it by a test, so a code can never
//! drift from what nevisIDM clients match on.

/// Every error code a nevisIDM client can receive in `errors[].code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `errors.fatalError`
    FatalError,
    /// `errors.unknownReason`
    UnknownReason,
    /// `errors.inconsistentData`
    InconsistentData,
    /// `errors.duplicateName`
    DuplicateName,
    /// `errors.invalidData`
    InvalidData,
    /// `errors.duplicateValue`
    DuplicateValue,
    /// `errors.duplicateEmail`
    DuplicateEmail,
    /// `errors.duplicateMobile`
    DuplicateMobile,
    /// `errors.undeletedDependencies`
    UndeletedDependencies,
    /// `errors.noRecord`
    NoRecord,
    /// `errors.invalidConfig`
    InvalidConfig,
    /// `errors.missingReferenceData`
    MissingReferenceData,
    /// `errors.recordDeleted`
    RecordDeleted,
    /// `errors.modifyReadonlyData`
    ModifyReadonlyData,
    /// `errors.tooManySearchResults`
    TooManySearchResults,
    /// `errors.pessimisticLockingFailure`
    PessimisticLockingFailure,
    /// `errors.policyViolation`
    PolicyViolation,
    /// `errors.deleteDefaultEntityFailure`
    DeleteDefaultEntityFailure,
    /// `errors.emailChannel`
    EmailChannel,
    /// `errors.noSmtpConnection`
    NoSmtpConnection,
    /// `errors.SmtpNotConfigured`
    SmtpNotConfigured,
    /// `errors.propertyUniquenessViolated`
    PropertyUniquenessViolated,
    /// `errors.property.stringmaxlen`
    PropertyStringmaxlen,
    /// `errors.property.stringregex`
    PropertyStringregex,
    /// `errors.property.regexinv`
    PropertyRegexinv,
    /// `errors.pwdPolicyViolated`
    PwdPolicyViolated,
    /// `errors.certificatePolicyViolated`
    CertificatePolicyViolated,
    /// `errors.identifierPolicyViolated`
    IdentifierPolicyViolated,
    /// `errors.passwordExists`
    PasswordExists,
    /// `errors.mtanFormatViolated`
    MtanFormatViolated,
    /// `errors.mtanFormatE164Violated`
    MtanFormatE164Violated,
    /// `errors.tempStrongPasswordExists`
    TempStrongPasswordExists,
    /// `errors.safewordExists`
    SafewordExists,
    /// `errors.securidExists`
    SecuridExists,
    /// `errors.ticketExists`
    TicketExists,
    /// `errors.kerberosExists`
    KerberosExists,
    /// `errors.tooManyOTPCards`
    TooManyOTPCards,
    /// `errors.urlTicketMissingURLPrefix`
    UrlTicketMissingURLPrefix,
    /// `errors.certificateExists`
    CertificateExists,
    /// `errors.vascoExists`
    VascoExists,
    /// `errors.PUKExists`
    PUKExists,
    /// `errors.URLTicketExists`
    URLTicketExists,
    /// `errors.mobileSignatureExists`
    MobileSignatureExists,
    /// `errors.securityQuestionsExists`
    SecurityQuestionsExists,
    /// `errors.recoveryCodeExists`
    RecoveryCodeExists,
    /// `errors.securityQuestionsMaxReached`
    SecurityQuestionsMaxReached,
    /// `errors.qrCodeGenerationFailed`
    QrCodeGenerationFailed,
    /// `errors.oathSecretIsShared`
    OathSecretIsShared,
    /// `errors.nocertcred`
    Nocertcred,
    /// `errors.CredTypeUnitPolicyViolated`
    CredTypeUnitPolicyViolated,
    /// `errors.CredTypeClientPolicyViolated`
    CredTypeClientPolicyViolated,
    /// `errors.credentialNotActive`
    CredentialNotActive,
    /// `errors.dimensionNotMatch`
    DimensionNotMatch,
    /// `errors.noTemplate`
    NoTemplate,
    /// `errors.pdfPrintingFailure`
    PdfPrintingFailure,
    /// `errors.missingMandatoryPlaceholder`
    MissingMandatoryPlaceholder,
    /// `errors.defaultCollectionDelete`
    DefaultCollectionDelete,
    /// `errors.tableTypeMismatch`
    TableTypeMismatch,
    /// `errors.nullRequestBody`
    NullRequestBody,
    /// `errors.deserialization`
    Deserialization,
    /// `errors.nullParameter`
    NullParameter,
    /// `errors.invalidParameter`
    InvalidParameter,
    /// `errors.invalidDate`
    InvalidDate,
    /// `errors.invalidDateOrDateTime`
    InvalidDateOrDateTime,
    /// `errors.invalidDateInterval`
    InvalidDateInterval,
    /// `errors.invalidMobile`
    InvalidMobile,
    /// `errors.mobileCannotBeDeleted`
    MobileCannotBeDeleted,
    /// `errors.mobileMissing`
    MobileMissing,
    /// `errors.userLoginIdNull`
    UserLoginIdNull,
    /// `errors.userLoginFailed`
    UserLoginFailed,
    /// `errors.userNameNull`
    UserNameNull,
    /// `errors.userFirstNameNull`
    UserFirstNameNull,
    /// `errors.userSexNull`
    UserSexNull,
    /// `errors.userCountryNull`
    UserCountryNull,
    /// `errors.userEmailNull`
    UserEmailNull,
    /// `errors.userMobileNull`
    UserMobileNull,
    /// `errors.userPhoneFormat`
    UserPhoneFormat,
    /// `errors.userEmailFormat`
    UserEmailFormat,
    /// `errors.msisdnFormat`
    MsisdnFormat,
    /// `errors.applicationNameNull`
    ApplicationNameNull,
    /// `errors.credentialFidoUaf.invalidAuthVersionFormat`
    CredentialFidoUafInvalidAuthVersionFormat,
    /// `errors.credentialFidoUaf.invalidPublicKeyAlgorithm`
    CredentialFidoUafInvalidPublicKeyAlgorithm,
    /// `errors.credentialFidoUaf.invalidKeyIdFormat`
    CredentialFidoUafInvalidKeyIdFormat,
    /// `errors.credentialFidoUaf.invalidAaidFormat`
    CredentialFidoUafInvalidAaidFormat,
    /// `errors.credentialFidoUaf.emptyAppId`
    CredentialFidoUafEmptyAppId,
    /// `errors.credentialFidoUaf.notUnique`
    CredentialFidoUafNotUnique,
    /// `errors.msspIdentifierMissing`
    MsspIdentifierMissing,
    /// `errors.invalidTimeInterval`
    InvalidTimeInterval,
    /// `errors.unitInvalidValidityPeriodParent`
    UnitInvalidValidityPeriodParent,
    /// `errors.unitInvalidValidFromParameterParent`
    UnitInvalidValidFromParameterParent,
    /// `errors.unitInvalidValidUntilParameterParent`
    UnitInvalidValidUntilParameterParent,
    /// `errors.unitInvalidValidityPeriodChild`
    UnitInvalidValidityPeriodChild,
    /// `errors.unitInvalidValidFromParameterChild`
    UnitInvalidValidFromParameterChild,
    /// `errors.unitInvalidValidUntilParameterChild`
    UnitInvalidValidUntilParameterChild,
    /// `errors.noClientFound`
    NoClientFound,
    /// `errors.inconsistentClientAssignment`
    InconsistentClientAssignment,
    /// `errors.noDefaultUnitInClient`
    NoDefaultUnitInClient,
    /// `errors.samlAttributeFormat`
    SamlAttributeFormat,
    /// `errors.insufficientRightsFunction`
    InsufficientRightsFunction,
    /// `errors.maxResetCount`
    MaxResetCount,
    /// `errors.insufficientFineGrainedRights`
    InsufficientFineGrainedRights,
    /// `errors.potentialPrivilegeEscalation`
    PotentialPrivilegeEscalation,
    /// `errors.applDataroomDenied`
    ApplDataroomDenied,
    /// `errors.unitDataroomDenied`
    UnitDataroomDenied,
    /// `errors.eRoleDataroomDenied`
    ERoleDataroomDenied,
    /// `errors.combinedDataroomDenied`
    CombinedDataroomDenied,
    /// `errors.clientDataroomDenied`
    ClientDataroomDenied,
    /// `errors.referenceDataChangeDenied`
    ReferenceDataChangeDenied,
    /// `errors.attrAccessForbidden`
    AttrAccessForbidden,
    /// `errors.filesystemIO`
    FilesystemIO,
    /// `errors.reporting.tooManyRequests`
    ReportingTooManyRequests,
    /// `errors.modifyArchivedUser`
    ModifyArchivedUser,
    /// `errors.modifyArchivedCredential`
    ModifyArchivedCredential,
    /// `errors.archiveCredentialDenied`
    ArchiveCredentialDenied,
    /// `errors.modifyArchivedProfile`
    ModifyArchivedProfile,
    /// `errors.assignDisabledUnit`
    AssignDisabledUnit,
    /// `errors.assignProfilelessUnit`
    AssignProfilelessUnit,
    /// `errors.profilelessFlagCannotBeSet`
    ProfilelessFlagCannotBeSet,
    /// `errors.modifyExtId`
    ModifyExtId,
    /// `errors.docTypeNotModifiable`
    DocTypeNotModifiable,
    /// `errors.addIdmToApplDataroom`
    AddIdmToApplDataroom,
    /// `errors.applicationLimitsDataroomUnitsMaxExceeded`
    ApplicationLimitsDataroomUnitsMaxExceeded,
    /// `errors.assignSubunitAsParent`
    AssignSubunitAsParent,
    /// `errors.history.norecord`
    HistoryNorecord,
    /// `errors.loginIdGeneratorFailed`
    LoginIdGeneratorFailed,
    /// `errors.fileupload.vasco`
    FileuploadVasco,
    /// `errors.techUser.oneProfile`
    TechUserOneProfile,
    /// `errors.urlTicket.invalidFormat`
    UrlTicketInvalidFormat,
    /// `errors.passwordChangeDeadlineExceeded`
    PasswordChangeDeadlineExceeded,
    /// `errors.pcyconf.invalidParamValue`
    PcyconfInvalidParamValue,
    /// `errors.pcyconf.missingParam`
    PcyconfMissingParam,
    /// `errors.pcyconf.missingProfilePolicy`
    PcyconfMissingProfilePolicy,
    /// `errors.pcyconf.multipleClientPolicy`
    PcyconfMultipleClientPolicy,
    /// `errors.pcyconf.invalidParamName`
    PcyconfInvalidParamName,
    /// `errors.userImport.fileupload.invalidTemplate`
    UserImportFileuploadInvalidTemplate,
    /// `errors.enterpriseRolesDisabled`
    EnterpriseRolesDisabled,
    /// `errors.queryServiceDisabled`
    QueryServiceDisabled,
    /// `errors.serviceDisabled`
    ServiceDisabled,
    /// `errors.invalidUri`
    InvalidUri,
    /// `errors.unsupportedMediaType`
    UnsupportedMediaType,
    /// `errors.jsonProcessingError`
    JsonProcessingError,
    /// `errors.unsupportedOperation`
    UnsupportedOperation,
    /// `errors.unsupportedCredentialTypeToCreate`
    UnsupportedCredentialTypeToCreate,
    /// `errors.unsupportedCredentialTypeToDelete`
    UnsupportedCredentialTypeToDelete,
    /// `errors.credentialTypeWithoutProperties`
    CredentialTypeWithoutProperties,
    /// `errors.invalidAssignIdmroleToErole`
    InvalidAssignIdmroleToErole,
    /// `errors.invalidJWTToken`
    InvalidJWTToken,
    /// `errors.modifyProtectedFieldInvalidJWTToken`
    ModifyProtectedFieldInvalidJWTToken,
    /// `errors.optimisticLockingFailure`
    OptimisticLockingFailure,
    /// `errors.deleteDefaultUnitCredPolicyFailure`
    DeleteDefaultUnitCredPolicyFailure,
    /// `errors.otherGenderPolicyDisabled`
    OtherGenderPolicyDisabled,
    /// `error.login.userState`
    ErrorLoginUserState,
    /// `error.job.execution.failure`
    ErrorJobExecutionFailure,
    /// `errors.invalidSyntax`
    InvalidSyntax,
    /// `errors.mandatoryParameterMissing`
    MandatoryParameterMissing,
    /// `errors.fieldIsNotIndexed`
    FieldIsNotIndexed,
    /// `errors.fieldIsNotDirectlyIndexed`
    FieldIsNotDirectlyIndexed,
    /// `errors.entityManagerNotOpen`
    EntityManagerNotOpen,
    /// `errors.unsuccessfulQuery`
    UnsuccessfulQuery,
    /// `errors.queryHasTimedOut`
    QueryHasTimedOut,
    /// `errors.emailPolicyViolated`
    EmailPolicyViolated,
    /// `errors.policyInconsistency`
    PolicyInconsistency,
}

impl ErrorCode {
    /// All codes, in the order of the reference list.
    pub const ALL: [ErrorCode; 162] = [
        ErrorCode::FatalError,
        ErrorCode::UnknownReason,
        ErrorCode::InconsistentData,
        ErrorCode::DuplicateName,
        ErrorCode::InvalidData,
        ErrorCode::DuplicateValue,
        ErrorCode::DuplicateEmail,
        ErrorCode::DuplicateMobile,
        ErrorCode::UndeletedDependencies,
        ErrorCode::NoRecord,
        ErrorCode::InvalidConfig,
        ErrorCode::MissingReferenceData,
        ErrorCode::RecordDeleted,
        ErrorCode::ModifyReadonlyData,
        ErrorCode::TooManySearchResults,
        ErrorCode::PessimisticLockingFailure,
        ErrorCode::PolicyViolation,
        ErrorCode::DeleteDefaultEntityFailure,
        ErrorCode::EmailChannel,
        ErrorCode::NoSmtpConnection,
        ErrorCode::SmtpNotConfigured,
        ErrorCode::PropertyUniquenessViolated,
        ErrorCode::PropertyStringmaxlen,
        ErrorCode::PropertyStringregex,
        ErrorCode::PropertyRegexinv,
        ErrorCode::PwdPolicyViolated,
        ErrorCode::CertificatePolicyViolated,
        ErrorCode::IdentifierPolicyViolated,
        ErrorCode::PasswordExists,
        ErrorCode::MtanFormatViolated,
        ErrorCode::MtanFormatE164Violated,
        ErrorCode::TempStrongPasswordExists,
        ErrorCode::SafewordExists,
        ErrorCode::SecuridExists,
        ErrorCode::TicketExists,
        ErrorCode::KerberosExists,
        ErrorCode::TooManyOTPCards,
        ErrorCode::UrlTicketMissingURLPrefix,
        ErrorCode::CertificateExists,
        ErrorCode::VascoExists,
        ErrorCode::PUKExists,
        ErrorCode::URLTicketExists,
        ErrorCode::MobileSignatureExists,
        ErrorCode::SecurityQuestionsExists,
        ErrorCode::RecoveryCodeExists,
        ErrorCode::SecurityQuestionsMaxReached,
        ErrorCode::QrCodeGenerationFailed,
        ErrorCode::OathSecretIsShared,
        ErrorCode::Nocertcred,
        ErrorCode::CredTypeUnitPolicyViolated,
        ErrorCode::CredTypeClientPolicyViolated,
        ErrorCode::CredentialNotActive,
        ErrorCode::DimensionNotMatch,
        ErrorCode::NoTemplate,
        ErrorCode::PdfPrintingFailure,
        ErrorCode::MissingMandatoryPlaceholder,
        ErrorCode::DefaultCollectionDelete,
        ErrorCode::TableTypeMismatch,
        ErrorCode::NullRequestBody,
        ErrorCode::Deserialization,
        ErrorCode::NullParameter,
        ErrorCode::InvalidParameter,
        ErrorCode::InvalidDate,
        ErrorCode::InvalidDateOrDateTime,
        ErrorCode::InvalidDateInterval,
        ErrorCode::InvalidMobile,
        ErrorCode::MobileCannotBeDeleted,
        ErrorCode::MobileMissing,
        ErrorCode::UserLoginIdNull,
        ErrorCode::UserLoginFailed,
        ErrorCode::UserNameNull,
        ErrorCode::UserFirstNameNull,
        ErrorCode::UserSexNull,
        ErrorCode::UserCountryNull,
        ErrorCode::UserEmailNull,
        ErrorCode::UserMobileNull,
        ErrorCode::UserPhoneFormat,
        ErrorCode::UserEmailFormat,
        ErrorCode::MsisdnFormat,
        ErrorCode::ApplicationNameNull,
        ErrorCode::CredentialFidoUafInvalidAuthVersionFormat,
        ErrorCode::CredentialFidoUafInvalidPublicKeyAlgorithm,
        ErrorCode::CredentialFidoUafInvalidKeyIdFormat,
        ErrorCode::CredentialFidoUafInvalidAaidFormat,
        ErrorCode::CredentialFidoUafEmptyAppId,
        ErrorCode::CredentialFidoUafNotUnique,
        ErrorCode::MsspIdentifierMissing,
        ErrorCode::InvalidTimeInterval,
        ErrorCode::UnitInvalidValidityPeriodParent,
        ErrorCode::UnitInvalidValidFromParameterParent,
        ErrorCode::UnitInvalidValidUntilParameterParent,
        ErrorCode::UnitInvalidValidityPeriodChild,
        ErrorCode::UnitInvalidValidFromParameterChild,
        ErrorCode::UnitInvalidValidUntilParameterChild,
        ErrorCode::NoClientFound,
        ErrorCode::InconsistentClientAssignment,
        ErrorCode::NoDefaultUnitInClient,
        ErrorCode::SamlAttributeFormat,
        ErrorCode::InsufficientRightsFunction,
        ErrorCode::MaxResetCount,
        ErrorCode::InsufficientFineGrainedRights,
        ErrorCode::PotentialPrivilegeEscalation,
        ErrorCode::ApplDataroomDenied,
        ErrorCode::UnitDataroomDenied,
        ErrorCode::ERoleDataroomDenied,
        ErrorCode::CombinedDataroomDenied,
        ErrorCode::ClientDataroomDenied,
        ErrorCode::ReferenceDataChangeDenied,
        ErrorCode::AttrAccessForbidden,
        ErrorCode::FilesystemIO,
        ErrorCode::ReportingTooManyRequests,
        ErrorCode::ModifyArchivedUser,
        ErrorCode::ModifyArchivedCredential,
        ErrorCode::ArchiveCredentialDenied,
        ErrorCode::ModifyArchivedProfile,
        ErrorCode::AssignDisabledUnit,
        ErrorCode::AssignProfilelessUnit,
        ErrorCode::ProfilelessFlagCannotBeSet,
        ErrorCode::ModifyExtId,
        ErrorCode::DocTypeNotModifiable,
        ErrorCode::AddIdmToApplDataroom,
        ErrorCode::ApplicationLimitsDataroomUnitsMaxExceeded,
        ErrorCode::AssignSubunitAsParent,
        ErrorCode::HistoryNorecord,
        ErrorCode::LoginIdGeneratorFailed,
        ErrorCode::FileuploadVasco,
        ErrorCode::TechUserOneProfile,
        ErrorCode::UrlTicketInvalidFormat,
        ErrorCode::PasswordChangeDeadlineExceeded,
        ErrorCode::PcyconfInvalidParamValue,
        ErrorCode::PcyconfMissingParam,
        ErrorCode::PcyconfMissingProfilePolicy,
        ErrorCode::PcyconfMultipleClientPolicy,
        ErrorCode::PcyconfInvalidParamName,
        ErrorCode::UserImportFileuploadInvalidTemplate,
        ErrorCode::EnterpriseRolesDisabled,
        ErrorCode::QueryServiceDisabled,
        ErrorCode::ServiceDisabled,
        ErrorCode::InvalidUri,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::JsonProcessingError,
        ErrorCode::UnsupportedOperation,
        ErrorCode::UnsupportedCredentialTypeToCreate,
        ErrorCode::UnsupportedCredentialTypeToDelete,
        ErrorCode::CredentialTypeWithoutProperties,
        ErrorCode::InvalidAssignIdmroleToErole,
        ErrorCode::InvalidJWTToken,
        ErrorCode::ModifyProtectedFieldInvalidJWTToken,
        ErrorCode::OptimisticLockingFailure,
        ErrorCode::DeleteDefaultUnitCredPolicyFailure,
        ErrorCode::OtherGenderPolicyDisabled,
        ErrorCode::ErrorLoginUserState,
        ErrorCode::ErrorJobExecutionFailure,
        ErrorCode::InvalidSyntax,
        ErrorCode::MandatoryParameterMissing,
        ErrorCode::FieldIsNotIndexed,
        ErrorCode::FieldIsNotDirectlyIndexed,
        ErrorCode::EntityManagerNotOpen,
        ErrorCode::UnsuccessfulQuery,
        ErrorCode::QueryHasTimedOut,
        ErrorCode::EmailPolicyViolated,
        ErrorCode::PolicyInconsistency,
    ];

    /// The exact string sent on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::FatalError => "errors.fatalError",
            ErrorCode::UnknownReason => "errors.unknownReason",
            ErrorCode::InconsistentData => "errors.inconsistentData",
            ErrorCode::DuplicateName => "errors.duplicateName",
            ErrorCode::InvalidData => "errors.invalidData",
            ErrorCode::DuplicateValue => "errors.duplicateValue",
            ErrorCode::DuplicateEmail => "errors.duplicateEmail",
            ErrorCode::DuplicateMobile => "errors.duplicateMobile",
            ErrorCode::UndeletedDependencies => "errors.undeletedDependencies",
            ErrorCode::NoRecord => "errors.noRecord",
            ErrorCode::InvalidConfig => "errors.invalidConfig",
            ErrorCode::MissingReferenceData => "errors.missingReferenceData",
            ErrorCode::RecordDeleted => "errors.recordDeleted",
            ErrorCode::ModifyReadonlyData => "errors.modifyReadonlyData",
            ErrorCode::TooManySearchResults => "errors.tooManySearchResults",
            ErrorCode::PessimisticLockingFailure => "errors.pessimisticLockingFailure",
            ErrorCode::PolicyViolation => "errors.policyViolation",
            ErrorCode::DeleteDefaultEntityFailure => "errors.deleteDefaultEntityFailure",
            ErrorCode::EmailChannel => "errors.emailChannel",
            ErrorCode::NoSmtpConnection => "errors.noSmtpConnection",
            ErrorCode::SmtpNotConfigured => "errors.SmtpNotConfigured",
            ErrorCode::PropertyUniquenessViolated => "errors.propertyUniquenessViolated",
            ErrorCode::PropertyStringmaxlen => "errors.property.stringmaxlen",
            ErrorCode::PropertyStringregex => "errors.property.stringregex",
            ErrorCode::PropertyRegexinv => "errors.property.regexinv",
            ErrorCode::PwdPolicyViolated => "errors.pwdPolicyViolated",
            ErrorCode::CertificatePolicyViolated => "errors.certificatePolicyViolated",
            ErrorCode::IdentifierPolicyViolated => "errors.identifierPolicyViolated",
            ErrorCode::PasswordExists => "errors.passwordExists",
            ErrorCode::MtanFormatViolated => "errors.mtanFormatViolated",
            ErrorCode::MtanFormatE164Violated => "errors.mtanFormatE164Violated",
            ErrorCode::TempStrongPasswordExists => "errors.tempStrongPasswordExists",
            ErrorCode::SafewordExists => "errors.safewordExists",
            ErrorCode::SecuridExists => "errors.securidExists",
            ErrorCode::TicketExists => "errors.ticketExists",
            ErrorCode::KerberosExists => "errors.kerberosExists",
            ErrorCode::TooManyOTPCards => "errors.tooManyOTPCards",
            ErrorCode::UrlTicketMissingURLPrefix => "errors.urlTicketMissingURLPrefix",
            ErrorCode::CertificateExists => "errors.certificateExists",
            ErrorCode::VascoExists => "errors.vascoExists",
            ErrorCode::PUKExists => "errors.PUKExists",
            ErrorCode::URLTicketExists => "errors.URLTicketExists",
            ErrorCode::MobileSignatureExists => "errors.mobileSignatureExists",
            ErrorCode::SecurityQuestionsExists => "errors.securityQuestionsExists",
            ErrorCode::RecoveryCodeExists => "errors.recoveryCodeExists",
            ErrorCode::SecurityQuestionsMaxReached => "errors.securityQuestionsMaxReached",
            ErrorCode::QrCodeGenerationFailed => "errors.qrCodeGenerationFailed",
            ErrorCode::OathSecretIsShared => "errors.oathSecretIsShared",
            ErrorCode::Nocertcred => "errors.nocertcred",
            ErrorCode::CredTypeUnitPolicyViolated => "errors.CredTypeUnitPolicyViolated",
            ErrorCode::CredTypeClientPolicyViolated => "errors.CredTypeClientPolicyViolated",
            ErrorCode::CredentialNotActive => "errors.credentialNotActive",
            ErrorCode::DimensionNotMatch => "errors.dimensionNotMatch",
            ErrorCode::NoTemplate => "errors.noTemplate",
            ErrorCode::PdfPrintingFailure => "errors.pdfPrintingFailure",
            ErrorCode::MissingMandatoryPlaceholder => "errors.missingMandatoryPlaceholder",
            ErrorCode::DefaultCollectionDelete => "errors.defaultCollectionDelete",
            ErrorCode::TableTypeMismatch => "errors.tableTypeMismatch",
            ErrorCode::NullRequestBody => "errors.nullRequestBody",
            ErrorCode::Deserialization => "errors.deserialization",
            ErrorCode::NullParameter => "errors.nullParameter",
            ErrorCode::InvalidParameter => "errors.invalidParameter",
            ErrorCode::InvalidDate => "errors.invalidDate",
            ErrorCode::InvalidDateOrDateTime => "errors.invalidDateOrDateTime",
            ErrorCode::InvalidDateInterval => "errors.invalidDateInterval",
            ErrorCode::InvalidMobile => "errors.invalidMobile",
            ErrorCode::MobileCannotBeDeleted => "errors.mobileCannotBeDeleted",
            ErrorCode::MobileMissing => "errors.mobileMissing",
            ErrorCode::UserLoginIdNull => "errors.userLoginIdNull",
            ErrorCode::UserLoginFailed => "errors.userLoginFailed",
            ErrorCode::UserNameNull => "errors.userNameNull",
            ErrorCode::UserFirstNameNull => "errors.userFirstNameNull",
            ErrorCode::UserSexNull => "errors.userSexNull",
            ErrorCode::UserCountryNull => "errors.userCountryNull",
            ErrorCode::UserEmailNull => "errors.userEmailNull",
            ErrorCode::UserMobileNull => "errors.userMobileNull",
            ErrorCode::UserPhoneFormat => "errors.userPhoneFormat",
            ErrorCode::UserEmailFormat => "errors.userEmailFormat",
            ErrorCode::MsisdnFormat => "errors.msisdnFormat",
            ErrorCode::ApplicationNameNull => "errors.applicationNameNull",
            ErrorCode::CredentialFidoUafInvalidAuthVersionFormat => {
                "errors.credentialFidoUaf.invalidAuthVersionFormat"
            }
            ErrorCode::CredentialFidoUafInvalidPublicKeyAlgorithm => {
                "errors.credentialFidoUaf.invalidPublicKeyAlgorithm"
            }
            ErrorCode::CredentialFidoUafInvalidKeyIdFormat => {
                "errors.credentialFidoUaf.invalidKeyIdFormat"
            }
            ErrorCode::CredentialFidoUafInvalidAaidFormat => {
                "errors.credentialFidoUaf.invalidAaidFormat"
            }
            ErrorCode::CredentialFidoUafEmptyAppId => "errors.credentialFidoUaf.emptyAppId",
            ErrorCode::CredentialFidoUafNotUnique => "errors.credentialFidoUaf.notUnique",
            ErrorCode::MsspIdentifierMissing => "errors.msspIdentifierMissing",
            ErrorCode::InvalidTimeInterval => "errors.invalidTimeInterval",
            ErrorCode::UnitInvalidValidityPeriodParent => "errors.unitInvalidValidityPeriodParent",
            ErrorCode::UnitInvalidValidFromParameterParent => {
                "errors.unitInvalidValidFromParameterParent"
            }
            ErrorCode::UnitInvalidValidUntilParameterParent => {
                "errors.unitInvalidValidUntilParameterParent"
            }
            ErrorCode::UnitInvalidValidityPeriodChild => "errors.unitInvalidValidityPeriodChild",
            ErrorCode::UnitInvalidValidFromParameterChild => {
                "errors.unitInvalidValidFromParameterChild"
            }
            ErrorCode::UnitInvalidValidUntilParameterChild => {
                "errors.unitInvalidValidUntilParameterChild"
            }
            ErrorCode::NoClientFound => "errors.noClientFound",
            ErrorCode::InconsistentClientAssignment => "errors.inconsistentClientAssignment",
            ErrorCode::NoDefaultUnitInClient => "errors.noDefaultUnitInClient",
            ErrorCode::SamlAttributeFormat => "errors.samlAttributeFormat",
            ErrorCode::InsufficientRightsFunction => "errors.insufficientRightsFunction",
            ErrorCode::MaxResetCount => "errors.maxResetCount",
            ErrorCode::InsufficientFineGrainedRights => "errors.insufficientFineGrainedRights",
            ErrorCode::PotentialPrivilegeEscalation => "errors.potentialPrivilegeEscalation",
            ErrorCode::ApplDataroomDenied => "errors.applDataroomDenied",
            ErrorCode::UnitDataroomDenied => "errors.unitDataroomDenied",
            ErrorCode::ERoleDataroomDenied => "errors.eRoleDataroomDenied",
            ErrorCode::CombinedDataroomDenied => "errors.combinedDataroomDenied",
            ErrorCode::ClientDataroomDenied => "errors.clientDataroomDenied",
            ErrorCode::ReferenceDataChangeDenied => "errors.referenceDataChangeDenied",
            ErrorCode::AttrAccessForbidden => "errors.attrAccessForbidden",
            ErrorCode::FilesystemIO => "errors.filesystemIO",
            ErrorCode::ReportingTooManyRequests => "errors.reporting.tooManyRequests",
            ErrorCode::ModifyArchivedUser => "errors.modifyArchivedUser",
            ErrorCode::ModifyArchivedCredential => "errors.modifyArchivedCredential",
            ErrorCode::ArchiveCredentialDenied => "errors.archiveCredentialDenied",
            ErrorCode::ModifyArchivedProfile => "errors.modifyArchivedProfile",
            ErrorCode::AssignDisabledUnit => "errors.assignDisabledUnit",
            ErrorCode::AssignProfilelessUnit => "errors.assignProfilelessUnit",
            ErrorCode::ProfilelessFlagCannotBeSet => "errors.profilelessFlagCannotBeSet",
            ErrorCode::ModifyExtId => "errors.modifyExtId",
            ErrorCode::DocTypeNotModifiable => "errors.docTypeNotModifiable",
            ErrorCode::AddIdmToApplDataroom => "errors.addIdmToApplDataroom",
            ErrorCode::ApplicationLimitsDataroomUnitsMaxExceeded => {
                "errors.applicationLimitsDataroomUnitsMaxExceeded"
            }
            ErrorCode::AssignSubunitAsParent => "errors.assignSubunitAsParent",
            ErrorCode::HistoryNorecord => "errors.history.norecord",
            ErrorCode::LoginIdGeneratorFailed => "errors.loginIdGeneratorFailed",
            ErrorCode::FileuploadVasco => "errors.fileupload.vasco",
            ErrorCode::TechUserOneProfile => "errors.techUser.oneProfile",
            ErrorCode::UrlTicketInvalidFormat => "errors.urlTicket.invalidFormat",
            ErrorCode::PasswordChangeDeadlineExceeded => "errors.passwordChangeDeadlineExceeded",
            ErrorCode::PcyconfInvalidParamValue => "errors.pcyconf.invalidParamValue",
            ErrorCode::PcyconfMissingParam => "errors.pcyconf.missingParam",
            ErrorCode::PcyconfMissingProfilePolicy => "errors.pcyconf.missingProfilePolicy",
            ErrorCode::PcyconfMultipleClientPolicy => "errors.pcyconf.multipleClientPolicy",
            ErrorCode::PcyconfInvalidParamName => "errors.pcyconf.invalidParamName",
            ErrorCode::UserImportFileuploadInvalidTemplate => {
                "errors.userImport.fileupload.invalidTemplate"
            }
            ErrorCode::EnterpriseRolesDisabled => "errors.enterpriseRolesDisabled",
            ErrorCode::QueryServiceDisabled => "errors.queryServiceDisabled",
            ErrorCode::ServiceDisabled => "errors.serviceDisabled",
            ErrorCode::InvalidUri => "errors.invalidUri",
            ErrorCode::UnsupportedMediaType => "errors.unsupportedMediaType",
            ErrorCode::JsonProcessingError => "errors.jsonProcessingError",
            ErrorCode::UnsupportedOperation => "errors.unsupportedOperation",
            ErrorCode::UnsupportedCredentialTypeToCreate => {
                "errors.unsupportedCredentialTypeToCreate"
            }
            ErrorCode::UnsupportedCredentialTypeToDelete => {
                "errors.unsupportedCredentialTypeToDelete"
            }
            ErrorCode::CredentialTypeWithoutProperties => "errors.credentialTypeWithoutProperties",
            ErrorCode::InvalidAssignIdmroleToErole => "errors.invalidAssignIdmroleToErole",
            ErrorCode::InvalidJWTToken => "errors.invalidJWTToken",
            ErrorCode::ModifyProtectedFieldInvalidJWTToken => {
                "errors.modifyProtectedFieldInvalidJWTToken"
            }
            ErrorCode::OptimisticLockingFailure => "errors.optimisticLockingFailure",
            ErrorCode::DeleteDefaultUnitCredPolicyFailure => {
                "errors.deleteDefaultUnitCredPolicyFailure"
            }
            ErrorCode::OtherGenderPolicyDisabled => "errors.otherGenderPolicyDisabled",
            ErrorCode::ErrorLoginUserState => "error.login.userState",
            ErrorCode::ErrorJobExecutionFailure => "error.job.execution.failure",
            ErrorCode::InvalidSyntax => "errors.invalidSyntax",
            ErrorCode::MandatoryParameterMissing => "errors.mandatoryParameterMissing",
            ErrorCode::FieldIsNotIndexed => "errors.fieldIsNotIndexed",
            ErrorCode::FieldIsNotDirectlyIndexed => "errors.fieldIsNotDirectlyIndexed",
            ErrorCode::EntityManagerNotOpen => "errors.entityManagerNotOpen",
            ErrorCode::UnsuccessfulQuery => "errors.unsuccessfulQuery",
            ErrorCode::QueryHasTimedOut => "errors.queryHasTimedOut",
            ErrorCode::EmailPolicyViolated => "errors.emailPolicyViolated",
            ErrorCode::PolicyInconsistency => "errors.policyInconsistency",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(())
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
}
