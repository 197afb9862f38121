-- A user's or profile's delete clears the deputy of every profile that named one of the
-- deleted profiles: without this index that was a scan of every profile (EXPLAIN). Partial:
-- few profiles name a deputy, so the other rows cost the index nothing.
CREATE INDEX profiles_deputed ON profiles (client_id, deputed_profile_ext_id)
    WHERE deputed_profile_ext_id IS NOT NULL;
