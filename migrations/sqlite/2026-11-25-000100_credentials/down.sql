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
INSERT INTO password_credentials (client_id, user_id, ext_id, hash, state, created, last_modified, version)
SELECT client_id, user_id, ext_id, secret, state, created, last_modified, version
FROM credentials WHERE cred_type = 'Password' AND secret IS NOT NULL;
DROP INDEX fido_uaf_credential;
-- Unlinked first, so dropping the common rows cannot cascade into the FIDO UAF rows.
UPDATE fido_uaf_credentials SET credential_id = NULL;
DROP TABLE password_history;
DROP TABLE credentials;
