//! The audit trail's integrity rule (an idm extension, not in the nevisIDM reference).
//!
//! Every successful write of the core API appends one [`AuditEntry`] to the chain of a client.
//! Each entry carries the hash of the entry before it (`prev_hash`; the first of a chain carries
//! [`GENESIS`]) and is itself hashed with SHA-256 over a canonical encoding of every field, so
//! editing or deleting an entry breaks the chain at that point or at the chain's head.
//! [`ChainVerifier`] walks a chain in sequence order and names the first break.
//!
//! What this proves, and what not: a plain hash chain detects edits by anyone who does not
//! rewrite every later entry and the head too. An operator who records the head hash that
//! `idm audit verify` prints (or ships it elsewhere) also detects a rewrite of the whole tail.

use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry of every chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record without its own hash: what the hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The chain: the extId of the client the write belongs to.
    pub chain: String,
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// Time of the write, milliseconds since the Unix epoch.
    pub at_millis: i64,
    /// extId of the caller's client.
    pub caller_client: String,
    /// extId of the caller's user.
    pub caller_user: String,
    /// Request id (the `X-Request-Id` echoed to the client).
    pub request_id: String,
    /// Method and route, e.g. `PATCH /nevisidm/api/core/v1/{clientExtId}/users/{userExtId}`.
    pub operation: String,
    /// The resource segment of the route, e.g. `users`, `profiles`, `password`.
    pub object_type: String,
    /// extId of the object written, where the request names it.
    pub object_ext_id: Option<String>,
    /// Version of the object before a versioned update.
    pub version_before: Option<i64>,
    /// Version of the object after a versioned update.
    pub version_after: Option<i64>,
    /// Names of the fields the request set (paths like `name.firstName`), never values.
    pub fields: Vec<String>,
    /// Hash of the previous entry of the chain, or [`GENESIS`].
    pub prev_hash: String,
}

impl AuditEntry {
    /// SHA-256 (lower-case hex) of the canonical encoding: a JSON array of every field in
    /// declaration order. JSON because its string escaping is unambiguous (no separator can be
    /// forged by a field's content) and `serde_json` writes it byte-for-byte reproducibly.
    pub fn hash(&self) -> String {
        let canonical = serde_json::json!([
            self.chain,
            self.seq,
            self.at_millis,
            self.caller_client,
            self.caller_user,
            self.request_id,
            self.operation,
            self.object_type,
            self.object_ext_id,
            self.version_before,
            self.version_after,
            self.fields,
            self.prev_hash,
        ]);
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Where and how a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// An entry is missing or out of place: `found` came where `expected` should have.
    Gap {
        /// The sequence number that should have come next.
        expected: i64,
        /// The sequence number found instead (`None`: the chain ended early).
        found: Option<i64>,
    },
    /// The entry does not name its predecessor's hash: an entry before it was edited or
    /// replaced.
    PrevHash {
        /// The entry whose `prev_hash` is wrong.
        seq: i64,
    },
    /// The entry's stored hash is not the hash of its content: the entry was edited.
    Hash {
        /// The edited entry.
        seq: i64,
    },
    /// The chain's head (last sequence number and hash) disagrees with its last entry: entries
    /// were removed from the end, or the head was edited.
    Head {
        /// The head's sequence number (`None`: no head for a chain that has entries).
        head_seq: Option<i64>,
        /// The last entry found.
        last_seq: i64,
    },
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Gap {
                expected,
                found: Some(found),
            } => write!(
                f,
                "record {expected} is missing (found {found} in its place)"
            ),
            ChainBreak::Gap {
                expected,
                found: None,
            } => write!(f, "record {expected} is missing (the chain ends early)"),
            ChainBreak::PrevHash { seq } => {
                write!(f, "record {seq} does not name its predecessor's hash")
            }
            ChainBreak::Hash { seq } => write!(f, "record {seq} does not match its hash"),
            ChainBreak::Head {
                head_seq: Some(head),
                last_seq,
            } => write!(
                f,
                "the head is at record {head} but the last record is {last_seq}"
            ),
            ChainBreak::Head {
                head_seq: None,
                last_seq,
            } => write!(f, "no head for a chain of {last_seq} record(s)"),
        }
    }
}

/// Checks one chain entry by entry, in sequence order, so a chain of any length is verified
/// in pages without holding it in memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry with the hash stored beside it.
    ///
    /// # Errors
    /// The first break found; the verifier should not be fed further after one.
    pub fn feed(&mut self, entry: &AuditEntry, stored_hash: &str) -> Result<(), ChainBreak> {
        if entry.seq != self.next_seq {
            return Err(ChainBreak::Gap {
                expected: self.next_seq,
                found: Some(entry.seq),
            });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::PrevHash { seq: entry.seq });
        }
        if entry.hash() != stored_hash {
            return Err(ChainBreak::Hash { seq: entry.seq });
        }
        self.next_seq += 1;
        self.prev_hash = stored_hash.to_owned();
        Ok(())
    }

    /// Entries checked so far.
    pub fn checked(&self) -> i64 {
        self.next_seq - 1
    }

    /// Ends the walk against the chain's head (`None` when there is none).
    ///
    /// # Errors
    /// [`ChainBreak::Head`] when the head names another last entry or hash;
    /// [`ChainBreak::Gap`] when the head is beyond the last entry found.
    pub fn finish(&self, head: Option<(i64, &str)>) -> Result<(), ChainBreak> {
        let last_seq = self.checked();
        match head {
            None if last_seq == 0 => Ok(()),
            Some((seq, hash)) if seq == last_seq && hash == self.prev_hash => Ok(()),
            Some((seq, _)) if seq > last_seq => Err(ChainBreak::Gap {
                expected: last_seq + 1,
                found: None,
            }),
            head => Err(ChainBreak::Head {
                head_seq: head.map(|(seq, _)| seq),
                last_seq,
            }),
        }
    }
}

#[cfg(test)]
// Tests may unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(AuditEntry, String)> {
        let mut out: Vec<(AuditEntry, String)> = Vec::new();
        for seq in 1..=n {
            let prev_hash = out
                .last()
                .map_or_else(|| GENESIS.to_owned(), |(_, h)| h.clone());
            let entry = AuditEntry {
                chain: "acme".into(),
                seq,
                at_millis: 1_700_000_000_000 + seq,
                caller_client: "Default".into(),
                caller_user: "admin".into(),
                request_id: format!("r{seq}"),
                operation: "PATCH /x/{userExtId}".into(),
                object_type: "users".into(),
                object_ext_id: Some("u1".into()),
                version_before: Some(seq),
                version_after: Some(seq + 1),
                fields: vec!["name.firstName".into()],
                prev_hash,
            };
            let hash = entry.hash();
            out.push((entry, hash));
        }
        out
    }

    fn verify(
        records: &[(AuditEntry, String)],
        head: Option<(i64, &str)>,
    ) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::default();
        for (e, h) in records {
            v.feed(e, h)?;
        }
        v.finish(head)
    }

    #[test]
    fn an_untouched_chain_verifies_up_to_its_head() {
        let c = chain(5);
        let head = c.last().map(|(e, h)| (e.seq, h.as_str()));
        assert_eq!(verify(&c, head), Ok(()));
        assert_eq!(verify(&[], None), Ok(()));
    }

    #[test]
    fn the_hash_covers_every_field_and_is_stable() {
        let (e, h) = chain(1).remove(0);
        assert_eq!(e.hash(), h);
        assert_eq!(h.len(), 64);
        let mut changed = e.clone();
        changed.fields.push("password".into());
        assert_ne!(changed.hash(), h);
        let mut changed = e.clone();
        changed.object_ext_id = None;
        assert_ne!(changed.hash(), h);
        let mut changed = e;
        changed.version_after = Some(99);
        assert_ne!(changed.hash(), h);
    }

    #[test]
    fn an_edited_record_is_named_by_its_sequence_number() {
        let mut c = chain(4);
        c[2].0.caller_user = "mallory".into();
        let head = c.last().map(|(e, h)| (e.seq, h.clone())).unwrap();
        assert_eq!(
            verify(&c, Some((head.0, &head.1))),
            Err(ChainBreak::Hash { seq: 3 })
        );
        // Rehashing the edited record moves the break to its successor.
        c[2].1 = c[2].0.hash();
        assert_eq!(
            verify(&c, Some((head.0, &head.1))),
            Err(ChainBreak::PrevHash { seq: 4 })
        );
    }

    #[test]
    fn a_deleted_record_in_the_middle_or_at_the_end_is_found() {
        let c = chain(4);
        let head = c.last().map(|(e, h)| (e.seq, h.clone())).unwrap();
        let mut middle = c.clone();
        middle.remove(1);
        assert_eq!(
            verify(&middle, Some((head.0, &head.1))),
            Err(ChainBreak::Gap {
                expected: 2,
                found: Some(3)
            })
        );
        let mut tail = c.clone();
        tail.pop();
        assert_eq!(
            verify(&tail, Some((head.0, &head.1))),
            Err(ChainBreak::Gap {
                expected: 4,
                found: None
            })
        );
        assert_eq!(
            verify(&c, None),
            Err(ChainBreak::Head {
                head_seq: None,
                last_seq: 4
            })
        );
        assert_eq!(
            verify(&c, Some((4, GENESIS))),
            Err(ChainBreak::Head {
                head_seq: Some(4),
                last_seq: 4
            })
        );
    }
}
