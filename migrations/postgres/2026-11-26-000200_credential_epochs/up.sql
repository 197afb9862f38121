-- The credential epoch of a user: a counter advanced in the same transaction as every change
-- of the user's password (create, reset, state change, unlock, the login that locks it, an
-- administrator's delete, import). X-Tokens carry the epoch they were issued at; admission
-- refuses one older than this, so a credential change ends the X-Tokens issued before it.
-- A user without a row is at epoch 0. Keyed by the user, so admission reads it by primary key.
CREATE TABLE credential_epochs (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    epoch BIGINT NOT NULL DEFAULT 0
);
