-- Custom property definitions and their values (issue 13).

CREATE TABLE property_definitions (
    id BIGSERIAL PRIMARY KEY,
    client_id BIGINT REFERENCES clients (id) ON DELETE CASCADE,
    -- client_id or 0: NULLs are distinct in a unique index, and a name must be unique per
    -- (scope, client) with "no client" counting as one client.
    client_key BIGINT NOT NULL,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    property_type VARCHAR(16) NOT NULL,
    scope VARCHAR(64) NOT NULL,
    encrypted BOOLEAN NOT NULL DEFAULT FALSE,
    propagated BOOLEAN NOT NULL DEFAULT FALSE,
    mandatory_on_gui BOOLEAN NOT NULL DEFAULT FALSE,
    string_max_len INTEGER,
    string_regex TEXT,
    access_create VARCHAR(16) NOT NULL,
    access_modify VARCHAR(16) NOT NULL,
    uniqueness_scope VARCHAR(32),
    gui_precedence INTEGER,
    -- [{"id":1,"value":"gold"}]: ids are stable per definition across updates.
    allowed_values TEXT NOT NULL DEFAULT '[]',
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX property_definitions_name ON property_definitions (scope, client_key, name);

-- One row per (definition, owner). value holds the plaintext, or for an encrypted definition
-- the sealed text; value_key is a hash of the plaintext (keyed for encrypted definitions) for
-- equality look-ups; unique_key is set only for definitions with a uniqueness scope
-- (ABSOLUTE: value_key; RELATIVE_UNIT: '<unit id>:' || value_key), and the unique index over it
-- is what makes two concurrent writers of one value unable to both win.
CREATE TABLE property_values (
    id BIGSERIAL PRIMARY KEY,
    property_id BIGINT NOT NULL REFERENCES property_definitions (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    profile_id BIGINT REFERENCES profiles (id) ON DELETE CASCADE,
    unit_id BIGINT REFERENCES units (id) ON DELETE CASCADE,
    value TEXT NOT NULL,
    value_key VARCHAR(128) NOT NULL,
    unique_key VARCHAR(160)
);
CREATE UNIQUE INDEX property_values_user ON property_values (property_id, user_id);
CREATE UNIQUE INDEX property_values_profile ON property_values (property_id, profile_id);
CREATE UNIQUE INDEX property_values_unit ON property_values (property_id, unit_id);
CREATE UNIQUE INDEX property_values_unique_key ON property_values (property_id, unique_key);
CREATE INDEX property_values_lookup ON property_values (property_id, value_key);
CREATE INDEX property_values_of_user ON property_values (user_id);
CREATE INDEX property_values_of_profile ON property_values (profile_id);
CREATE INDEX property_values_of_unit ON property_values (unit_id);
