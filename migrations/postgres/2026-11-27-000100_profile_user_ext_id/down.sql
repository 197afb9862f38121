ALTER TABLE profiles DROP COLUMN user_ext_id;
