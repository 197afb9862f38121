-- Property values of enterprise roles (scope ENTERPRISE_ROLE_GLOBAL): one more owner column,
-- removed with its enterprise role by the cascade.
ALTER TABLE property_values
    ADD COLUMN enterprise_role_id BIGINT REFERENCES enterprise_roles (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX property_values_erole ON property_values (property_id, enterprise_role_id);
CREATE INDEX property_values_of_erole ON property_values (enterprise_role_id);

-- Users-list `address.*` filters and sorts. The address is one JSON text column; the list SQL
-- compares and sorts COALESCE(json_extract(address, '$.<field>'), ''), so that expression is
-- indexed (as 2026-11-25-000300 does for plain columns). Indexed: the fields a large client
-- filters or sorts by — city and postal code (selective: end in ext_id, so sortBy is served
-- from the index), country (low selectivity: ends in the default order created, ext_id). The
-- other address fields are filtered within the client's rows.
CREATE INDEX users_address_city_key
    ON users (client_id, COALESCE(json_extract(address, '$.city'), ''), ext_id);
CREATE INDEX users_address_postal_code_key
    ON users (client_id, COALESCE(json_extract(address, '$.postalCode'), ''), ext_id);
CREATE INDEX users_address_country_page
    ON users (client_id, COALESCE(json_extract(address, '$.countryCode'), ''), created, ext_id);
-- `address.city_IEQ`: `expr = ? COLLATE NOCASE` uses this one (SQLite's LIKE, hence `_SW`,
-- uses an index only on a plain column, not on an expression).
CREATE INDEX users_address_city_nocase
    ON users (client_id, json_extract(address, '$.city') COLLATE NOCASE);
