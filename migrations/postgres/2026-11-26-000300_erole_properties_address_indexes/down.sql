DROP INDEX users_address_city_lower;
DROP INDEX users_address_country_page;
DROP INDEX users_address_postal_code_key;
DROP INDEX users_address_city_key;
DROP INDEX property_values_of_erole;
DROP INDEX property_values_erole;
DELETE FROM property_values WHERE enterprise_role_id IS NOT NULL;
ALTER TABLE property_values DROP COLUMN enterprise_role_id;
