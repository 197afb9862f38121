-- Audit records of committed writes that are not yet in their chain. On PostgreSQL a write
-- inserts its record here, in its own transaction, instead of appending to the chain: appending
-- locks the chain's head row until commit, and with every write of a client queued on that one
-- row the writes of a client ran one at a time (docs/performance.md). A sealer chains the
-- pending records after the commit, oldest first, many per transaction, and every read of the
-- trail chains what is pending first. SQLite writes one at a time anyway and appends in the
-- write's transaction; the table is kept on both backends so the schema is one.
CREATE TABLE audit_pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chain VARCHAR(255) NOT NULL,
    at_millis BIGINT NOT NULL,
    caller_client VARCHAR(255) NOT NULL,
    caller_user VARCHAR(255) NOT NULL,
    request_id VARCHAR(255) NOT NULL,
    operation TEXT NOT NULL,
    object_type VARCHAR(255) NOT NULL,
    object_ext_id VARCHAR(255),
    version_before BIGINT,
    version_after BIGINT,
    fields TEXT NOT NULL
);
-- The sealer's read: one chain's pending records, oldest first.
CREATE INDEX audit_pending_chain ON audit_pending (chain, id);
