-- Enterprise roles: client-scoped bundles of application roles. A profile reaches the member
-- roles through an enterprise authorization; the effective roles are computed on read, never
-- copied, so a membership change reaches every profile at once.
CREATE TABLE enterprise_roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    display_name TEXT NOT NULL DEFAULT '{}',
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id),
    UNIQUE (client_id, name)
);
CREATE INDEX enterprise_roles_page ON enterprise_roles (client_id, created, ext_id);

CREATE TABLE enterprise_role_members (
    enterprise_role_id BIGINT NOT NULL REFERENCES enterprise_roles (id) ON DELETE CASCADE,
    role_id BIGINT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (enterprise_role_id, role_id)
);
CREATE INDEX enterprise_role_members_role ON enterprise_role_members (role_id);

CREATE TABLE enterprise_authorizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id BIGINT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    profile_id BIGINT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    enterprise_role_id BIGINT NOT NULL REFERENCES enterprise_roles (id) ON DELETE CASCADE,
    ext_id VARCHAR(255) NOT NULL,
    valid_from TIMESTAMP,
    valid_to TIMESTAMP,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (client_id, ext_id),
    UNIQUE (profile_id, enterprise_role_id)
);
CREATE INDEX enterprise_authorizations_profile_page ON enterprise_authorizations (profile_id, created, ext_id);
CREATE INDEX enterprise_authorizations_erole ON enterprise_authorizations (enterprise_role_id);
