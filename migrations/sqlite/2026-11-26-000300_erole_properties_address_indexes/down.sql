DROP INDEX users_address_city_nocase;
DROP INDEX users_address_country_page;
DROP INDEX users_address_postal_code_key;
DROP INDEX users_address_city_key;
-- SQLite cannot drop a column that takes part in a foreign key: rebuild the table without it
-- (enterprise-role values go with it).
DROP INDEX property_values_of_erole;
DROP INDEX property_values_erole;
CREATE TABLE property_values_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    property_id BIGINT NOT NULL REFERENCES property_definitions (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    profile_id BIGINT REFERENCES profiles (id) ON DELETE CASCADE,
    unit_id BIGINT REFERENCES units (id) ON DELETE CASCADE,
    value TEXT NOT NULL,
    value_key VARCHAR(128) NOT NULL,
    unique_key VARCHAR(160)
);
INSERT INTO property_values_old (id, property_id, user_id, profile_id, unit_id, value, value_key, unique_key)
    SELECT id, property_id, user_id, profile_id, unit_id, value, value_key, unique_key
    FROM property_values WHERE enterprise_role_id IS NULL;
DROP TABLE property_values;
ALTER TABLE property_values_old RENAME TO property_values;
CREATE UNIQUE INDEX property_values_user ON property_values (property_id, user_id);
CREATE UNIQUE INDEX property_values_profile ON property_values (property_id, profile_id);
CREATE UNIQUE INDEX property_values_unit ON property_values (property_id, unit_id);
CREATE UNIQUE INDEX property_values_unique_key ON property_values (property_id, unique_key);
CREATE INDEX property_values_lookup ON property_values (property_id, value_key);
CREATE INDEX property_values_of_user ON property_values (user_id);
CREATE INDEX property_values_of_profile ON property_values (profile_id);
CREATE INDEX property_values_of_unit ON property_values (unit_id);
