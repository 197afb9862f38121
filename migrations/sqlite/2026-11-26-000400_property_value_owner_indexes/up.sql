-- A user's, profile's or unit's values are read (and, through ON DELETE CASCADE, deleted) by
-- the owner alone; the unique (property_id, <owner>) indexes cannot serve that, so every read
-- of one entity's values and every delete of a user scanned the whole table (measured: the
-- admin lifecycle fell from 2,206 to 752 calls/s on PostgreSQL once the bench seed wrote one
-- value per user). Enterprise roles got theirs in 2026-11-26-000300.
CREATE INDEX property_values_of_user ON property_values (user_id);
CREATE INDEX property_values_of_profile ON property_values (profile_id);
CREATE INDEX property_values_of_unit ON property_values (unit_id);
