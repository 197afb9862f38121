-- Detail rows of the second-factor credentials, keyed by the common row in `credentials`
-- (which holds state, counters, validity, the OATH label in `context`, and in `secret` the
-- recovery-code salt or the sealed OATH secret).

-- At most one recovery-code credential per user: POST regenerates its codes in place, and two
-- racing first POSTs must not leave two sets.
CREATE UNIQUE INDEX credentials_one_recovery_code ON credentials (user_id) WHERE cred_type = 'Recovery Code';

-- One row per code: a salted SHA-256 (never the code), consumed by setting used_at with a
-- conditional UPDATE (... AND used_at IS NULL), so a code works exactly once.
CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    credential_id BIGINT NOT NULL REFERENCES credentials (id) ON DELETE CASCADE,
    code_hash VARCHAR(64) NOT NULL,
    used_at TIMESTAMP,
    UNIQUE (credential_id, code_hash)
);

-- OATH parameters and the replay guard: last_used is the last accepted time step (TOTP) or
-- counter (HOTP); it only ever grows, through a conditional UPDATE.
CREATE TABLE oath_credentials (
    credential_id BIGINT PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
    method VARCHAR(8) NOT NULL,
    algorithm VARCHAR(8) NOT NULL,
    digits INTEGER NOT NULL,
    period BIGINT NOT NULL,
    last_used BIGINT
);

-- A registered FIDO2 authenticator (the WebAuthn ceremony stays with the relying party).
CREATE TABLE fido2_credentials (
    credential_id BIGINT PRIMARY KEY REFERENCES credentials (id) ON DELETE CASCADE,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    aaguid TEXT NOT NULL,
    authenticator TEXT NOT NULL,
    authenticator_attachment VARCHAR(16),
    attestation_conveyance_preference VARCHAR(16) NOT NULL,
    hashed_credential_id TEXT NOT NULL,
    rp_id TEXT NOT NULL,
    resident_key_requirement VARCHAR(16) NOT NULL,
    user_agent TEXT,
    user_friendly_name TEXT,
    user_verification_requirement VARCHAR(16) NOT NULL,
    UNIQUE (client_id, hashed_credential_id)
);
