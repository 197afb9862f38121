CREATE TABLE policies (
    id BIGSERIAL PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    name VARCHAR(255),
    description TEXT,
    policy_type VARCHAR(64) NOT NULL,
    default_policy BOOLEAN NOT NULL DEFAULT FALSE,
    parameters TEXT NOT NULL DEFAULT '{}',
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id)
);
-- One ClientPolicy per client, enforced by the database so two racing creates cannot both win.
CREATE UNIQUE INDEX policies_one_client_policy ON policies (client_id) WHERE policy_type = 'ClientPolicy';
CREATE INDEX policies_client_type ON policies (client_id, policy_type);
ALTER TABLE profiles ADD COLUMN deputed_profile_ext_id VARCHAR(255);
