-- A profile carries its user's extId (immutable, like the user it belongs to), so reading a
-- profile no longer joins `users`: the ★ profile-unit read and every profile DTO took a row of
-- the widest table for this one column (docs/performance.md, eighth session).
ALTER TABLE profiles ADD COLUMN user_ext_id VARCHAR(255);
UPDATE profiles SET user_ext_id = users.ext_id FROM users WHERE users.id = profiles.user_id;
ALTER TABLE profiles ALTER COLUMN user_ext_id SET NOT NULL;
