-- The whole entity model of idm. Portable types only: text for enums and JSON maps,
-- timestamps as naive UTC (millisecond precision), 64-bit keys.

CREATE TABLE clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ext_id VARCHAR(255) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '{}',
    remarks TEXT,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX clients_page ON clients (created, ext_id);

CREATE TABLE units (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES units (id),
    ext_id VARCHAR(255) NOT NULL,
    -- id path from the root, '/1/4/9/': a subtree is one prefix scan.
    path TEXT NOT NULL,
    hierarchical_name TEXT NOT NULL,
    name VARCHAR(255) NOT NULL,
    location TEXT,
    description TEXT,
    state VARCHAR(32) NOT NULL,
    display_name TEXT NOT NULL DEFAULT '{}',
    abbreviation TEXT NOT NULL DEFAULT '{}',
    profileless BOOLEAN NOT NULL DEFAULT FALSE,
    modification_comment TEXT,
    valid_from TIMESTAMP,
    valid_to TIMESTAMP,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id)
);
CREATE INDEX units_page ON units (client_id, created, ext_id);
CREATE INDEX units_children ON units (parent_id, created, ext_id);
CREATE INDEX units_path ON units (client_id, path);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    login_id VARCHAR(300) NOT NULL,
    state VARCHAR(32) NOT NULL,
    language_code VARCHAR(8),
    is_technical_user BOOLEAN NOT NULL DEFAULT FALSE,
    title VARCHAR(255),
    first_name VARCHAR(255),
    family_name VARCHAR(255),
    sex VARCHAR(16),
    gender VARCHAR(16),
    birth_date VARCHAR(32),
    email VARCHAR(320),
    mobile VARCHAR(64),
    telephone VARCHAR(64),
    telefax VARCHAR(64),
    address TEXT NOT NULL DEFAULT '{}',
    remarks TEXT,
    modification_comment TEXT,
    valid_from TIMESTAMP,
    valid_to TIMESTAMP,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id),
    UNIQUE (client_id, login_id)
);
CREATE INDEX users_page ON users (client_id, created, ext_id);
CREATE INDEX users_state_page ON users (client_id, state, created, ext_id);

CREATE TABLE password_credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    hash TEXT NOT NULL,
    state VARCHAR(32) NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id)
);

CREATE TABLE profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id BIGINT NOT NULL REFERENCES units (id),
    ext_id VARCHAR(255) NOT NULL,
    name VARCHAR(255),
    state VARCHAR(32) NOT NULL,
    is_default_profile BOOLEAN NOT NULL DEFAULT FALSE,
    remarks TEXT,
    modification_comment TEXT,
    valid_from TIMESTAMP,
    valid_to TIMESTAMP,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id)
);
CREATE INDEX profiles_user_page ON profiles (user_id, created, ext_id);
CREATE INDEX profiles_unit ON profiles (unit_id);

CREATE TABLE applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ext_id VARCHAR(255) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL UNIQUE,
    description TEXT,
    url TEXT,
    displayed BOOLEAN NOT NULL DEFAULT FALSE,
    display_name TEXT NOT NULL DEFAULT '{}',
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX applications_page ON applications (created, ext_id);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (application_id, name)
);
CREATE INDEX roles_page ON roles (application_id, created, ext_id);

CREATE TABLE authorizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    profile_id BIGINT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    client_global BOOLEAN NOT NULL DEFAULT FALSE,
    unit_global BOOLEAN NOT NULL DEFAULT FALSE,
    app_global BOOLEAN NOT NULL DEFAULT FALSE,
    enterprise_role_global BOOLEAN NOT NULL DEFAULT FALSE,
    valid_from TIMESTAMP,
    valid_to TIMESTAMP,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id),
    UNIQUE (profile_id, role_id)
);
CREATE INDEX authorizations_profile_page ON authorizations (profile_id, created, ext_id);

CREATE TABLE terms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ext_id VARCHAR(255) NOT NULL UNIQUE,
    name VARCHAR(255) NOT NULL UNIQUE,
    active BOOLEAN NOT NULL,
    silent_acceptance BOOLEAN NOT NULL,
    terms_version VARCHAR(255) NOT NULL,
    urls TEXT NOT NULL DEFAULT '{}',
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX terms_page ON terms (created, ext_id);

CREATE TABLE terms_applications (
    terms_id BIGINT NOT NULL REFERENCES terms (id) ON DELETE CASCADE,
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    PRIMARY KEY (terms_id, application_id)
);

CREATE TABLE consents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    terms_id BIGINT NOT NULL REFERENCES terms (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    terms_version VARCHAR(255) NOT NULL,
    acceptance_date TIMESTAMP NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id),
    -- One consent per accepted version: two racing requests cannot both succeed.
    UNIQUE (user_id, terms_id, terms_version)
);
CREATE INDEX consents_user ON consents (user_id, created, ext_id);

CREATE TABLE personal_questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    description TEXT,
    state VARCHAR(32) NOT NULL,
    display_name TEXT NOT NULL DEFAULT '{}',
    content TEXT NOT NULL DEFAULT '{}',
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id)
);
CREATE INDEX personal_questions_page ON personal_questions (client_id, created, ext_id);

CREATE TABLE dispatch_targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    target_type VARCHAR(32) NOT NULL,
    device_id VARCHAR(255) NOT NULL,
    target TEXT NOT NULL,
    dispatcher VARCHAR(100),
    user_agent VARCHAR(255),
    encryption_key TEXT,
    signing_key TEXT NOT NULL,
    app_id TEXT NOT NULL,
    name VARCHAR(255) NOT NULL,
    state VARCHAR(32) NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id)
);
CREATE INDEX dispatch_targets_user_page ON dispatch_targets (user_id, created, ext_id);

CREATE TABLE app_attestations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dispatch_target_id BIGINT NOT NULL UNIQUE REFERENCES dispatch_targets (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    name VARCHAR(255),
    counter BIGINT NOT NULL DEFAULT 0,
    receipt TEXT NOT NULL,
    public_key TEXT NOT NULL,
    device_id VARCHAR(255) NOT NULL,
    environment VARCHAR(100),
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id),
    UNIQUE (user_id, name)
);

CREATE TABLE fido_uaf_credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dispatch_target_id BIGINT REFERENCES dispatch_targets (id),
    ext_id VARCHAR(255) NOT NULL,
    aaid VARCHAR(16) NOT NULL,
    key_id TEXT NOT NULL,
    authenticator_version VARCHAR(32) NOT NULL,
    public_key TEXT NOT NULL,
    public_key_algorithm VARCHAR(256) NOT NULL,
    app_id TEXT NOT NULL,
    device_id VARCHAR(255),
    state VARCHAR(32) NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id),
    UNIQUE (aaid, key_id)
);
CREATE INDEX fido_uaf_user_page ON fido_uaf_credentials (user_id, created, ext_id);
CREATE INDEX fido_uaf_dispatch_target ON fido_uaf_credentials (dispatch_target_id);
