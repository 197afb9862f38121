//! Diesel table definitions, written once for both backends (portable types only).

// Generated from migrations/*/2026-11-22-000001_initial/up.sql; keep in step with it.

diesel::table! {
    clients (id) {
        id -> BigInt,
        ext_id -> Text,
        name -> Text,
        display_name -> Text,
        remarks -> Nullable<Text>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    units (id) {
        id -> BigInt,
        client_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        ext_id -> Text,
        path -> Text,
        hierarchical_name -> Text,
        name -> Text,
        location -> Nullable<Text>,
        description -> Nullable<Text>,
        state -> Text,
        display_name -> Text,
        abbreviation -> Text,
        profileless -> Bool,
        modification_comment -> Nullable<Text>,
        valid_from -> Nullable<Timestamp>,
        valid_to -> Nullable<Timestamp>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        client_id -> BigInt,
        ext_id -> Text,
        login_id -> Text,
        state -> Text,
        language_code -> Nullable<Text>,
        is_technical_user -> Bool,
        title -> Nullable<Text>,
        first_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        sex -> Nullable<Text>,
        gender -> Nullable<Text>,
        birth_date -> Nullable<Text>,
        email -> Nullable<Text>,
        mobile -> Nullable<Text>,
        telephone -> Nullable<Text>,
        telefax -> Nullable<Text>,
        address -> Text,
        remarks -> Nullable<Text>,
        modification_comment -> Nullable<Text>,
        valid_from -> Nullable<Timestamp>,
        valid_to -> Nullable<Timestamp>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    profiles (id) {
        id -> BigInt,
        client_id -> BigInt,
        user_id -> BigInt,
        unit_id -> BigInt,
        ext_id -> Text,
        name -> Nullable<Text>,
        state -> Text,
        is_default_profile -> Bool,
        remarks -> Nullable<Text>,
        modification_comment -> Nullable<Text>,
        valid_from -> Nullable<Timestamp>,
        valid_to -> Nullable<Timestamp>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
        deputed_profile_ext_id -> Nullable<Text>,
        user_ext_id -> Text,
    }
}

diesel::table! {
    applications (id) {
        id -> BigInt,
        ext_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        url -> Nullable<Text>,
        displayed -> Bool,
        display_name -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    roles (id) {
        id -> BigInt,
        application_id -> BigInt,
        ext_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    authorizations (id) {
        id -> BigInt,
        client_id -> BigInt,
        profile_id -> BigInt,
        role_id -> BigInt,
        ext_id -> Text,
        client_global -> Bool,
        unit_global -> Bool,
        app_global -> Bool,
        enterprise_role_global -> Bool,
        valid_from -> Nullable<Timestamp>,
        valid_to -> Nullable<Timestamp>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    terms (id) {
        id -> BigInt,
        ext_id -> Text,
        name -> Text,
        active -> Bool,
        silent_acceptance -> Bool,
        terms_version -> Text,
        urls -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    terms_applications (terms_id, application_id) {
        terms_id -> BigInt,
        application_id -> BigInt,
    }
}

diesel::table! {
    consents (id) {
        id -> BigInt,
        client_id -> BigInt,
        user_id -> BigInt,
        terms_id -> BigInt,
        ext_id -> Text,
        terms_version -> Text,
        acceptance_date -> Timestamp,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    personal_questions (id) {
        id -> BigInt,
        client_id -> BigInt,
        ext_id -> Text,
        description -> Nullable<Text>,
        state -> Text,
        display_name -> Text,
        content -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    dispatch_targets (id) {
        id -> BigInt,
        client_id -> BigInt,
        user_id -> BigInt,
        ext_id -> Text,
        target_type -> Text,
        device_id -> Text,
        target -> Text,
        dispatcher -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        encryption_key -> Nullable<Text>,
        signing_key -> Text,
        app_id -> Text,
        name -> Text,
        state -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    app_attestations (id) {
        id -> BigInt,
        client_id -> BigInt,
        user_id -> BigInt,
        dispatch_target_id -> BigInt,
        ext_id -> Text,
        name -> Nullable<Text>,
        counter -> BigInt,
        receipt -> Text,
        public_key -> Text,
        device_id -> Text,
        environment -> Nullable<Text>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    fido_uaf_credentials (id) {
        id -> BigInt,
        client_id -> BigInt,
        user_id -> BigInt,
        dispatch_target_id -> Nullable<BigInt>,
        ext_id -> Text,
        aaid -> Text,
        key_id -> Text,
        authenticator_version -> Text,
        public_key -> Text,
        public_key_algorithm -> Text,
        app_id -> Text,
        device_id -> Nullable<Text>,
        state -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
        credential_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    credentials (id) {
        id -> BigInt,
        client_id -> BigInt,
        user_id -> BigInt,
        ext_id -> Text,
        cred_type -> Text,
        policy_ext_id -> Nullable<Text>,
        state -> Text,
        state_change_reason -> Nullable<Text>,
        state_change_detail -> Nullable<Text>,
        success_count -> BigInt,
        last_success -> Nullable<Timestamp>,
        failure_count -> BigInt,
        last_failure -> Nullable<Timestamp>,
        locked_until -> Nullable<Timestamp>,
        reset_count -> BigInt,
        modification_comment -> Nullable<Text>,
        valid_from -> Nullable<Timestamp>,
        valid_to -> Nullable<Timestamp>,
        context -> Nullable<Text>,
        secret -> Nullable<Text>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    password_history (id) {
        id -> BigInt,
        credential_id -> BigInt,
        hash -> Text,
        created -> Timestamp,
    }
}

diesel::table! {
    credential_epochs (user_id) {
        user_id -> BigInt,
        epoch -> BigInt,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        credential_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    oath_credentials (credential_id) {
        credential_id -> BigInt,
        method -> Text,
        algorithm -> Text,
        digits -> Integer,
        period -> BigInt,
        last_used -> Nullable<BigInt>,
    }
}

diesel::table! {
    fido2_credentials (credential_id) {
        credential_id -> BigInt,
        client_id -> BigInt,
        aaguid -> Text,
        authenticator -> Text,
        authenticator_attachment -> Nullable<Text>,
        attestation_conveyance_preference -> Text,
        hashed_credential_id -> Text,
        rp_id -> Text,
        resident_key_requirement -> Text,
        user_agent -> Nullable<Text>,
        user_friendly_name -> Nullable<Text>,
        user_verification_requirement -> Text,
    }
}

diesel::table! {
    enterprise_roles (id) {
        id -> BigInt,
        client_id -> BigInt,
        ext_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        display_name -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    enterprise_role_members (enterprise_role_id, role_id) {
        enterprise_role_id -> BigInt,
        role_id -> BigInt,
    }
}

diesel::table! {
    enterprise_authorizations (id) {
        id -> BigInt,
        client_id -> BigInt,
        profile_id -> BigInt,
        enterprise_role_id -> BigInt,
        ext_id -> Text,
        valid_from -> Nullable<Timestamp>,
        valid_to -> Nullable<Timestamp>,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    policies (id) {
        id -> BigInt,
        client_id -> BigInt,
        ext_id -> Text,
        name -> Nullable<Text>,
        description -> Nullable<Text>,
        policy_type -> Text,
        default_policy -> Bool,
        parameters -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::joinable!(units -> clients (client_id));
diesel::joinable!(users -> clients (client_id));
diesel::joinable!(profiles -> users (user_id));
diesel::joinable!(roles -> applications (application_id));
diesel::joinable!(authorizations -> profiles (profile_id));
diesel::joinable!(consents -> terms (terms_id));
diesel::joinable!(dispatch_targets -> users (user_id));
diesel::joinable!(app_attestations -> dispatch_targets (dispatch_target_id));
diesel::joinable!(fido_uaf_credentials -> users (user_id));
diesel::joinable!(personal_questions -> clients (client_id));
diesel::joinable!(terms_applications -> terms (terms_id));
diesel::joinable!(policies -> clients (client_id));
diesel::joinable!(enterprise_roles -> clients (client_id));
diesel::joinable!(enterprise_role_members -> enterprise_roles (enterprise_role_id));
diesel::joinable!(enterprise_role_members -> roles (role_id));
diesel::joinable!(enterprise_authorizations -> enterprise_roles (enterprise_role_id));
diesel::joinable!(credentials -> users (user_id));
diesel::joinable!(password_history -> credentials (credential_id));
diesel::joinable!(credential_epochs -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    clients,
    units,
    users,
    profiles,
    applications,
    roles,
    authorizations,
    terms,
    terms_applications,
    consents,
    personal_questions,
    dispatch_targets,
    app_attestations,
    fido_uaf_credentials,
    property_definitions,
    property_values,
    enterprise_roles,
    enterprise_role_members,
    enterprise_authorizations,
    policies,
    credentials,
    password_history,
    credential_epochs,
    recovery_codes,
    oath_credentials,
    fido2_credentials,
);

diesel::table! {
    property_definitions (id) {
        id -> BigInt,
        client_id -> Nullable<BigInt>,
        client_key -> BigInt,
        name -> Text,
        description -> Nullable<Text>,
        property_type -> Text,
        scope -> Text,
        encrypted -> Bool,
        propagated -> Bool,
        mandatory_on_gui -> Bool,
        string_max_len -> Nullable<Integer>,
        string_regex -> Nullable<Text>,
        access_create -> Text,
        access_modify -> Text,
        uniqueness_scope -> Nullable<Text>,
        gui_precedence -> Nullable<Integer>,
        allowed_values -> Text,
        created -> Timestamp,
        last_modified -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    property_values (id) {
        id -> BigInt,
        property_id -> BigInt,
        user_id -> Nullable<BigInt>,
        profile_id -> Nullable<BigInt>,
        unit_id -> Nullable<BigInt>,
        enterprise_role_id -> Nullable<BigInt>,
        value -> Text,
        value_key -> Text,
        unique_key -> Nullable<Text>,
    }
}

diesel::joinable!(property_values -> property_definitions (property_id));
diesel::joinable!(property_definitions -> clients (client_id));

diesel::table! {
    audit_records (chain, seq) {
        chain -> Text,
        seq -> BigInt,
        at_millis -> BigInt,
        caller_client -> Text,
        caller_user -> Text,
        request_id -> Text,
        operation -> Text,
        object_type -> Text,
        object_ext_id -> Nullable<Text>,
        version_before -> Nullable<BigInt>,
        version_after -> Nullable<BigInt>,
        fields -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_heads (chain) {
        chain -> Text,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    audit_pending (id) {
        id -> BigInt,
        chain -> Text,
        at_millis -> BigInt,
        caller_client -> Text,
        caller_user -> Text,
        request_id -> Text,
        operation -> Text,
        object_type -> Text,
        object_ext_id -> Nullable<Text>,
        version_before -> Nullable<BigInt>,
        version_after -> Nullable<BigInt>,
        fields -> Text,
    }
}
