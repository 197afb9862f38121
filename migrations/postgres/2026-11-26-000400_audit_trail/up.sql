-- The audit trail (idm extension): one record per committed write of the core API, appended in
-- the write's own transaction, hash-chained per client (the chain is the client's extId, kept
-- as text so the chain outlives the client's row). Time is kept as epoch milliseconds, the form
-- the hash covers, so no timestamp text form can make a verified record look edited.
CREATE TABLE audit_records (
    chain VARCHAR(255) NOT NULL,
    seq BIGINT NOT NULL,
    at_millis BIGINT NOT NULL,
    caller_client VARCHAR(255) NOT NULL,
    caller_user VARCHAR(255) NOT NULL,
    request_id VARCHAR(255) NOT NULL,
    operation TEXT NOT NULL,
    object_type VARCHAR(255) NOT NULL,
    object_ext_id VARCHAR(255),
    version_before BIGINT,
    version_after BIGINT,
    fields TEXT NOT NULL,
    prev_hash CHAR(64) NOT NULL,
    hash CHAR(64) NOT NULL,
    PRIMARY KEY (chain, seq)
);
-- The filters of GET core/:c/audit, each keyset-ordered by seq.
CREATE INDEX audit_records_object ON audit_records (chain, object_type, object_ext_id, seq);
CREATE INDEX audit_records_caller ON audit_records (chain, caller_user, seq);
CREATE INDEX audit_records_time ON audit_records (chain, at_millis);
-- The last record of each chain. Appending locks this row (UPDATE first), so the writers of
-- one client take their sequence numbers one after the other, each at the very end of its
-- transaction; deleting the last records is detected because the head still names them.
CREATE TABLE audit_heads (
    chain VARCHAR(255) PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash CHAR(64) NOT NULL
);
