ALTER TABLE profiles DROP COLUMN deputed_profile_ext_id;
DROP TABLE policies;
