DROP TABLE property_values;
DROP TABLE property_definitions;
