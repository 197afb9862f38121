-- One row per credential of any type: the common fields of the credential DTO, the login
-- counters, and (for passwords) the hash in `secret`. Type-specific data lives in detail
-- tables keyed by credential_id.
CREATE TABLE credentials (
    id BIGSERIAL PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    cred_type VARCHAR(64) NOT NULL,
    policy_ext_id VARCHAR(255),
    state VARCHAR(32) NOT NULL,
    state_change_reason VARCHAR(64),
    state_change_detail TEXT,
    success_count BIGINT NOT NULL DEFAULT 0,
    last_success TIMESTAMP,
    failure_count BIGINT NOT NULL DEFAULT 0,
    last_failure TIMESTAMP,
    locked_until TIMESTAMP,
    reset_count BIGINT NOT NULL DEFAULT 0,
    modification_comment TEXT,
    valid_from TIMESTAMP,
    valid_to TIMESTAMP,
    context VARCHAR(255),
    secret TEXT,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id)
);
-- A user has at most one password.
CREATE UNIQUE INDEX credentials_one_password ON credentials (user_id) WHERE cred_type = 'Password';
CREATE INDEX credentials_user_page ON credentials (user_id, created, ext_id);

-- Hashes of a password's previous values (policy element `pwdHistory`).
CREATE TABLE password_history (
    id BIGSERIAL PRIMARY KEY,
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    created TIMESTAMP NOT NULL
);
CREATE INDEX password_history_credential ON password_history (credential_id, created);

-- Existing passwords move into the common table (extId, state, times and version kept).
INSERT INTO credentials (client_id, user_id, ext_id, cred_type, state, state_change_reason,
                         secret, created, last_modified, version)
SELECT client_id, user_id, ext_id, 'Password', state, 'initialized', hash, created,
       last_modified, version
FROM password_credentials;
DROP TABLE password_credentials;

-- Every FIDO UAF registration gets its common row; its specific columns stay where they are.
ALTER TABLE fido_uaf_credentials ADD COLUMN credential_id BIGINT REFERENCES credentials (id) ON DELETE CASCADE;
INSERT INTO credentials (client_id, user_id, ext_id, cred_type, state, state_change_reason,
                         created, last_modified, version)
SELECT client_id, user_id, ext_id, 'FIDO UAF Authenticator', state, 'initialized', created,
       last_modified, version
FROM fido_uaf_credentials;
UPDATE fido_uaf_credentials SET credential_id = (
    SELECT c.id FROM credentials c
    WHERE c.client_id = fido_uaf_credentials.client_id
      AND c.ext_id = fido_uaf_credentials.ext_id
      AND c.cred_type = 'FIDO UAF Authenticator');
CREATE UNIQUE INDEX fido_uaf_credential ON fido_uaf_credentials (credential_id);
