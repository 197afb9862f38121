DROP INDEX property_values_of_unit;
DROP INDEX property_values_of_profile;
DROP INDEX property_values_of_user;
